/* bench_hist.c: what the histogram costs, each row next to a floor measured in the same run:
 * record against taking a timestamp and storing it, merge and the V2 codec against copying the
 * histogram, the encoding's size against the buckets it carries. Then the open-loop
 * generator's own wake-up lag (how late a sleep until an operation's intended start ends), as
 * the runner's generator threads sleep (1 ns timer slack) against the kernel's default slack:
 * the floor under every open-loop latency on this host, so the smallest latency a target can
 * meaningfully state. Runs in a few seconds. */
#include "common/clock.h"
#include "common/hist.h"
#include "common/hist_compact.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#define FB_BENCH_RECORDS 3000000
#define FB_BENCH_RING 4096 /* the floor's array: small enough to stay in cache, as counts do */
#define FB_BENCH_MINUTE_SAMPLES 1200000 /* one minute at 20000 ops/s */

static volatile int64_t s_sink;

/* Latency-like values: log-uniform between 50 us and 50 ms, in ns. */
static int64_t s_latency_ns (uint64_t *seed) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = (double)(*seed >> 11) / 9007199254740992.0;
    return (int64_t)(50000.0 * pow (1000.0, u));
}

static double s_floor_clock_and_store_ns (void) {
    static int64_t ring[FB_BENCH_RING];
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < FB_BENCH_RECORDS; i++)
        ring[i & (FB_BENCH_RING - 1)] = fb_clock_now_ns () - t0;
    int64_t elapsed = fb_clock_now_ns () - t0;
    s_sink = ring[FB_BENCH_RING / 2];
    return (double)elapsed / FB_BENCH_RECORDS;
}

/* The clock read gives each record a changing value, as a load generator's would. */
static double s_clock_and_record_ns (fb_hist_t *h, bool atomic) {
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < FB_BENCH_RECORDS; i++) {
        int64_t value = (fb_clock_now_ns () - t0) & 0xfffff;
        if (atomic)
            fb_hist_record_atomic (h, value);
        else
            fb_hist_record (h, value);
    }
    return (double)(fb_clock_now_ns () - t0) / FB_BENCH_RECORDS;
}

/* Without the clock: precomputed latencies recorded, against the same values stored. */
static void s_values_rows (fb_hist_t *h, double *record_ns, double *floor_ns) {
    static int64_t values[FB_BENCH_RING], copies[FB_BENCH_RING];
    uint64_t seed = 7;
    for (int i = 0; i < FB_BENCH_RING; i++)
        values[i] = s_latency_ns (&seed);
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < FB_BENCH_RECORDS; i++)
        copies[i & (FB_BENCH_RING - 1)] = values[i & (FB_BENCH_RING - 1)] + i;
    *floor_ns = (double)(fb_clock_now_ns () - t0) / FB_BENCH_RECORDS;
    s_sink = copies[1];
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < FB_BENCH_RECORDS; i++)
        fb_hist_record (h, values[i & (FB_BENCH_RING - 1)] + i);
    *record_ns = (double)(fb_clock_now_ns () - t0) / FB_BENCH_RECORDS;
}

static void s_row (const char *what, double cost, const char *unit, const char *floor_name,
                   double floor_cost) {
    printf ("%-38s %10.2f %-6s %-28s %10.2f %8.2fx\n", what, cost, unit, floor_name, floor_cost,
            cost / floor_cost);
}

/* Average microseconds of copy, merge, encode and decode on two minute-long histograms. */
static void s_minute_rows (void) {
    fb_hist_t *a = fb_hist_new_default (NULL), *b = fb_hist_new_default (NULL);
    if (!a || !b)
        exit (1);
    uint64_t seed = 42;
    for (int i = 0; i < FB_BENCH_MINUTE_SAMPLES; i++) {
        fb_hist_record (a, s_latency_ns (&seed));
        fb_hist_record (b, s_latency_ns (&seed));
    }
    const int runs = 200;
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < runs; i++) {
        fb_hist_t *copy = fb_hist_copy (a, NULL);
        s_sink = fb_hist_count (copy);
        fb_hist_destroy (&copy);
    }
    double copy_us = (double)(fb_clock_now_ns () - t0) / runs / 1e3;
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < runs; i++)
        fb_hist_merge (a, b, NULL);
    double merge_us = (double)(fb_clock_now_ns () - t0) / runs / 1e3;

    uint8_t *buf = NULL;
    size_t len = 0;
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < runs; i++) {
        free (buf);
        fb_hist_encode (b, &buf, &len, NULL);
    }
    double encode_us = (double)(fb_clock_now_ns () - t0) / runs / 1e3;
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < runs; i++) {
        fb_hist_t *back = fb_hist_decode (buf, len, NULL);
        s_sink = fb_hist_count (back);
        fb_hist_destroy (&back);
    }
    double decode_us = (double)(fb_clock_now_ns () - t0) / runs / 1e3;
    int buckets = 0;
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, b);
    while (fb_hist_iter_next (&it))
        buckets++;

    s_row ("merge two 1-minute histograms", merge_us, "us", "fb_hist_copy", copy_us);
    s_row ("encode (V2 compressed)", encode_us, "us", "fb_hist_copy", copy_us);
    s_row ("decode (V2 compressed)", decode_us, "us", "fb_hist_copy", copy_us);
    s_row ("encoded size", (double)len, "bytes", "8 bytes x non-empty buckets", 8.0 * buckets);
    free (buf);
    fb_hist_destroy (&a);
    fb_hist_destroy (&b);
}

/* One interval of a host: samples log-normal around 20 us (500 samples use a few hundred
 * buckets, 5000 a few thousand). */
static fb_hist_t *s_interval_hist (uint64_t seed, int samples) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    if (!h)
        exit (1);
    for (int i = 0; i < samples; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double u1 = ((double)(seed >> 11) + 0.5) / 9007199254740992.0;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double u2 = (double)(seed >> 11) / 9007199254740992.0;
        double z = sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
        fb_hist_record (h, (int64_t)(20000.0 * exp (0.8 * z)));
    }
    return h;
}

/* Microseconds per call of fn over runs calls, best of three rounds. */
#define S_TIME_US(runs, body)                                                                      \
    ({                                                                                             \
        double best_ = 1e18;                                                                       \
        for (int round_ = 0; round_ < 3; round_++) {                                               \
            int64_t t0_ = fb_clock_now_ns ();                                                      \
            for (int i_ = 0; i_ < (runs); i_++) {                                                  \
                body;                                                                              \
            }                                                                                      \
            double us_ = (double)(fb_clock_now_ns () - t0_) / (runs) / 1e3;                        \
            best_ = us_ < best_ ? us_ : best_;                                                     \
        }                                                                                          \
        best_;                                                                                     \
    })

/* What the agent and the coordinator do with one interval histogram every second, on the full
 * form (a 184 KB bucket array) and on the compact one (the used buckets); then the zlib level's
 * trade of CPU for bytes, which fixed FB_HIST_COMPACT_ZLIB_LEVEL. */
static void s_interval_rows (int samples) {
    fb_hist_t *h = s_interval_hist (11, samples), *other = s_interval_hist (12, samples);
    fb_hist_compact_t *c = fb_hist_compact_from_hist (h, NULL);
    fb_hist_compact_t *into = fb_hist_compact_from_hist (other, NULL);
    fb_hist_t *full_into = fb_hist_new_default (NULL);
    if (!c || !into || !full_into)
        exit (1);
    const int runs = 2000;
    uint8_t *buf = NULL;
    size_t len = 0;
    double full_encode = S_TIME_US (runs, {
        free (buf);
        fb_hist_encode (h, &buf, &len, NULL);
    });
    double compact_encode = S_TIME_US (runs, {
        free (buf);
        fb_hist_compact_encode (c, &buf, &len, NULL);
    });
    double full_decode = S_TIME_US (runs, {
        fb_hist_t *back = fb_hist_decode (buf, len, NULL);
        fb_hist_merge (full_into, back, NULL);
        fb_hist_destroy (&back);
    });
    double compact_decode = S_TIME_US (runs, {
        fb_hist_compact_t *back = fb_hist_compact_decode (buf, len, NULL);
        fb_hist_compact_merge (into, back, NULL);
        fb_hist_compact_destroy (&back);
    });
    double copy = S_TIME_US (runs, {
        fb_hist_t *copy = fb_hist_copy (h, NULL);
        s_sink = fb_hist_count (copy);
        fb_hist_destroy (&copy);
    });
    printf ("interval histogram: %lld samples in %d buckets\n", (long long)fb_hist_count (h),
            fb_hist_compact_buckets (c));
    s_row ("encode compact (agent, interval)", compact_encode, "us",
           "encode full form (used range)", full_encode);
    s_row ("decode+merge compact (coordinator)", compact_decode, "us", "decode+merge full form",
           full_decode);
    s_row ("encode compact (agent, interval)", compact_encode, "us", "fb_hist_copy", copy);
    static const int levels[] = {1, 6, 9};
    for (int i = 0; i < 3; i++) {
        double us = S_TIME_US (runs, {
            free (buf);
            fb_hist_compact_encode_level (c, levels[i], &buf, &len, NULL);
        });
        char what[64];
        snprintf (what, sizeof what, "zlib level %d: encode / bytes", levels[i]);
        s_row (what, us, "us", "bytes", (double)len);
    }
    free (buf);
    fb_hist_compact_destroy (&c);
    fb_hist_compact_destroy (&into);
    fb_hist_destroy (&full_into);
    fb_hist_destroy (&h);
    fb_hist_destroy (&other);
}

#define FB_BENCH_WAKEUPS 1000
#define FB_BENCH_WAKEUP_PERIOD_NS (1000 * 1000) /* 1000/s, a schedule at a 1 ms period */

/* Sleeps until FB_BENCH_WAKEUPS intended instants, as the runner's open loop does, and
 * records how late each sleep ended; p50 and p99 in us. */
static void s_wakeup_lag_us (unsigned long slack_ns, double *p50_us, double *p99_us) {
    int previous = prctl (PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
    if (slack_ns > 0)
        prctl (PR_SET_TIMERSLACK, slack_ns, 0UL, 0UL, 0UL);
    fb_hist_t *lag = fb_hist_new_default (NULL);
    if (!lag)
        exit (1);
    int64_t intended = fb_clock_now_ns () + FB_BENCH_WAKEUP_PERIOD_NS;
    for (int i = 0; i < FB_BENCH_WAKEUPS; i++, intended += FB_BENCH_WAKEUP_PERIOD_NS) {
        fb_clock_sleep_until_ns (intended);
        fb_hist_record (lag, fb_clock_now_ns () - intended);
    }
    *p50_us = (double)fb_hist_value_at_percentile (lag, 50) / 1e3;
    *p99_us = (double)fb_hist_value_at_percentile (lag, 99) / 1e3;
    fb_hist_destroy (&lag);
    if (previous > 0)
        prctl (PR_SET_TIMERSLACK, (unsigned long)previous, 0UL, 0UL, 0UL);
}

static void s_wakeup_rows (void) {
    double default_p50, default_p99, tight_p50, tight_p99;
    s_wakeup_lag_us (0, &default_p50, &default_p99);
    s_wakeup_lag_us (1, &tight_p50, &tight_p99);
    s_row ("open-loop wake-up lag p50 (slack 1ns)", tight_p50, "us", "default timer slack p50",
           default_p50);
    s_row ("open-loop wake-up lag p99 (slack 1ns)", tight_p99, "us", "default timer slack p99",
           default_p99);
}

int main (void) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    if (!h)
        return 1;
    printf ("%-38s %10s %-6s %-28s %10s %9s\n", "operation", "cost", "unit", "floor (same run)",
            "floor", "ratio");
    /* Best of three, interleaved, so that a busy neighbour does not pick the winner. */
    double floor_ns = 1e9, plain_ns = 1e9, atomic_ns = 1e9;
    for (int round = 0; round < 3; round++) {
        floor_ns = fmin (floor_ns, s_floor_clock_and_store_ns ());
        plain_ns = fmin (plain_ns, s_clock_and_record_ns (h, false));
        atomic_ns = fmin (atomic_ns, s_clock_and_record_ns (h, true));
    }
    s_row ("clock_gettime + fb_hist_record", plain_ns, "ns/op", "clock_gettime + array store",
           floor_ns);
    s_row ("clock_gettime + fb_hist_record_atomic", atomic_ns, "ns/op",
           "clock_gettime + array store", floor_ns);
    double record_ns, store_ns;
    s_values_rows (h, &record_ns, &store_ns);
    s_row ("fb_hist_record (no clock)", record_ns, "ns/op", "array store", store_ns);
    fb_hist_destroy (&h);
    s_minute_rows ();
    s_interval_rows (500);
    s_interval_rows (5000);
    s_wakeup_rows ();
    return 0;
}

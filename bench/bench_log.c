/* bench_log.c: the log store next to floors measured in the same run over the same lines: a
 * bare memmem scan for search and detection, one memcpy per line into a ring for append and
 * ingest. The seed's Go figures (BenchmarkLogStore, TestLogStoreChannelSaturation) are another
 * machine's; docs/workloads/log.md keeps them as history.
 *
 * The store holds 10 000 generated dev-server lines (seed 1, 512 B per entry, detection fast
 * unless said). Search rows are the median of `reps` searches of the full store. Append rows
 * split one burst of appends by what each call did: queued (the seed's AddLogAsync, channel
 * not full) or stored synchronously (AddLogSync, channel full); medians. Ingest rows are one
 * appender thread appending as fast as it can until every line is searchable.
 *
 *   bench_log [reps]     (default 20)
 *   bench_log --dump-lines FILE, bench_log --fidelity MEASURE REPS [fast|regex]: the lines, and
 *   the model's side of bench/fidelity.sh's log table (see bench/fidelity/logs_driver.go) */
#include "common/clock.h"
#include "common/hist.h"
#include "workloads/log/logdetect.h"
#include "workloads/log/loggen.h"
#include "workloads/log/logstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LINES 10000
#define S_LINE_MAX 4096
#define S_BURST 200000

static char s_lines[S_LINES][S_LINE_MAX + 1];
static size_t s_lens[S_LINES];

static void s_row (const char *name, double ours, const char *unit, const char *ref_name,
                   double ref) {
    if (ref > 0)
        printf ("%-44s %12.3f %-7s %-22s %12.3f %8.2fx\n", name, ours, unit, ref_name, ref,
                ours / ref);
    else
        printf ("%-44s %12.3f %-7s\n", name, ours, unit);
}

static int s_cmp (const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_median (double *v, int n) {
    qsort (v, (size_t)n, sizeof *v, s_cmp);
    return v[n / 2];
}

/* How the store evicts: ring, or shift with Brummer's growing index or with it forgotten. */
enum { S_RING, S_SHIFT, S_SHIFT_FORGET };

static fb_logstore_t *s_filled (int evict, bool detect, fb_err_t *err) {
    fb_logstore_config_t cfg = {.capacity = S_LINES,
                                .eviction = evict == S_RING ? FB_LOGSTORE_EVICT_RING
                                                            : FB_LOGSTORE_EVICT_SHIFT,
                                .forget_evicted = evict == S_SHIFT_FORGET,
                                .detect = detect};
    fb_logstore_t *store = fb_logstore_new (&cfg, err);
    for (int i = 0; store && i < S_LINES; i++)
        fb_logstore_append (store, i % 4, s_lines[i], s_lens[i], fb_clock_now_ns ());
    if (store)
        fb_logstore_flush (store, 60 * FB_NS_PER_S);
    return store;
}

/* ms per search of the full store, median of reps. */
static double s_search_ms (fb_logstore_t *store, const char *query, int mode, int reps,
                           int *found) {
    double v[reps];
    for (int r = 0; r < reps; r++) {
        int64_t t0 = fb_clock_now_ns ();
        *found = fb_logstore_search (store, query, mode, -1, NULL, 0, NULL);
        v[r] = (double)(fb_clock_now_ns () - t0) / 1e6;
    }
    return s_median (v, reps);
}

/* The floor: memmem over the same lines (case-sensitive, no lock, no lower-casing). */
static double s_memmem_ms (const char *needle, int reps, int *found) {
    double v[reps];
    size_t n = strlen (needle);
    for (int r = 0; r < reps; r++) {
        int64_t t0 = fb_clock_now_ns ();
        int hits = 0;
        for (int i = 0; i < S_LINES; i++) {
            size_t len = s_lens[i] < 512 ? s_lens[i] : 512; /* what the store keeps */
            hits += memmem (s_lines[i], len, needle, n) != NULL;
        }
        *found = hits;
        v[r] = (double)(fb_clock_now_ns () - t0) / 1e6;
    }
    return s_median (v, reps);
}

/* A lower floor: memmem over all the lines as one block (no per-line call), hits counted. */
static double s_block_ms (const char *needle, int reps, int *found) {
    static char block[S_LINES * 513];
    size_t at = 0, n = strlen (needle);
    for (int i = 0; i < S_LINES; i++) {
        size_t len = s_lens[i] < 512 ? s_lens[i] : 512;
        memcpy (block + at, s_lines[i], len);
        at += len;
        block[at++] = '\n';
    }
    double v[reps];
    for (int r = 0; r < reps; r++) {
        int64_t t0 = fb_clock_now_ns ();
        int hits = 0;
        for (const char *p = block; (p = memmem (p, at - (size_t)(p - block), needle, n)); p += n)
            hits++;
        *found = hits;
        v[r] = (double)(fb_clock_now_ns () - t0) / 1e6;
    }
    return s_median (v, reps);
}

static void s_search_rows (int reps, fb_err_t *err) {
    fb_logstore_t *store = s_filled (S_RING, true, err);
    if (!store)
        return;
    int found = 0, floor_found = 0;
    double floor_ms = s_memmem_ms ("error", reps, &floor_found);
    double ms = s_search_ms (store, "error", FB_LOGSTORE_SUBSTR, reps, &found);
    char name[64];
    snprintf (name, sizeof name, "search substr \"error\" (%d hits)", found);
    s_row (name, ms, "ms", "memmem floor", floor_ms);
    snprintf (name, sizeof name, "  floor: memmem \"error\" (%d hits)", floor_found);
    s_row (name, floor_ms, "ms", "", 0);
    double block_ms = s_block_ms ("error", reps, &floor_found);
    snprintf (name, sizeof name, "  floor: memmem over one block (%d hits)", floor_found);
    s_row (name, block_ms, "ms", "", 0);
    s_row ("  substr search / block floor", ms / block_ms, "x", "", 0);
    ms = s_search_ms (store, "err(or)?:|warn", FB_LOGSTORE_REGEX, reps, &found);
    snprintf (name, sizeof name, "search regex \"err(or)?:|warn\" (%d hits)", found);
    s_row (name, ms, "ms", "memmem floor", floor_ms);
    ms = s_search_ms (store, "zq[0-9]+-not-present", FB_LOGSTORE_REGEX, reps, &found);
    s_row ("search regex, no match", ms, "ms", "memmem floor", floor_ms);
    fb_logstore_destroy (&store);
}

/* One burst of S_BURST appends into store: the queued calls' times into h[0], the
 * synchronous ones' into h[1]; then waits until every line is stored. */
static void s_burst (fb_logstore_t *store, fb_hist_t *const h[2]) {
    for (int i = 0; i < S_BURST; i++) {
        int64_t t0 = fb_clock_now_ns ();
        int rc = fb_logstore_append (store, i % 4, s_lines[i % S_LINES], s_lens[i % S_LINES], t0);
        int64_t t1 = fb_clock_now_ns ();
        if (rc >= 0)
            fb_hist_record (h[rc], t1 - t0);
    }
    fb_logstore_flush (store, 60 * FB_NS_PER_S);
}

/* One burst of appends: median ns of the queued calls and of the synchronous ones (medians,
 * so that a call the scheduler preempted does not stand for the rest). */
static void s_append_rows (double floor_ns, fb_err_t *err) {
    fb_logstore_config_t cfg = {.capacity = S_LINES, .detect = true};
    fb_logstore_t *store = fb_logstore_new (&cfg, err);
    fb_hist_t *h[2] = {fb_hist_new_default (err), fb_hist_new_default (err)};
    if (store && h[0] && h[1]) {
        s_burst (store, h);
        char name[64];
        snprintf (name, sizeof name, "append queued, p50 (%lld of %d)",
                  (long long)fb_hist_count (h[0]), S_BURST);
        s_row (name, (double)fb_hist_value_at_percentile (h[0], 50), "ns", "memcpy floor",
               floor_ns);
        snprintf (name, sizeof name, "append sync fallback, p50 (%lld of %d)",
                  (long long)fb_hist_count (h[1]), S_BURST);
        s_row (name, (double)fb_hist_value_at_percentile (h[1], 50), "ns", "memcpy floor",
               floor_ns);
    }
    fb_hist_destroy (&h[0]);
    fb_hist_destroy (&h[1]);
    fb_logstore_destroy (&store);
}

/* Lines/s from one appender of `lines` lines into a full store (every line evicts one) until
 * all are searchable; their ingest latencies into h. 0 when the store cannot be made. */
static double s_ingest_lps (int evict, bool detect, int lines, fb_hist_t *h, fb_err_t *err) {
    fb_logstore_t *store = s_filled (evict, detect, err);
    if (!store)
        return 0;
    fb_logstore_drain_ingest (store, h, NULL);
    fb_hist_reset (h);
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < lines; i++)
        fb_logstore_append (store, i % 4, s_lines[i % S_LINES], s_lens[i % S_LINES],
                            fb_clock_now_ns ());
    fb_logstore_flush (store, 60 * FB_NS_PER_S);
    double s = (double)(fb_clock_now_ns () - t0) / 1e9;
    fb_logstore_drain_ingest (store, h, NULL);
    fb_logstore_destroy (&store);
    return lines / s;
}

/* The ingest row: lines/s, and ingest p50 and p99. */
static void s_ingest_row (const char *name, int evict, bool detect, int lines, double floor_ns,
                          fb_err_t *err) {
    fb_hist_t *h = fb_hist_new_default (err);
    double lps = h ? s_ingest_lps (evict, detect, lines, h, err) : 0;
    if (lps > 0) {
        /* lines/s: the floor is the faster, so floor/ours is the ratio that grows with cost */
        printf ("%-44s %12.3f %-7s %-22s %12.3f %8.2fx\n", name, lps, "lines/s", "memcpy floor",
                1e9 / floor_ns, (1e9 / floor_ns) / lps);
        printf ("%-44s %12.1f / %.1f\n", "  ingest-to-searchable p50 / p99 (us)",
                fb_hist_value_at_percentile (h, 50) / 1e3,
                fb_hist_value_at_percentile (h, 99) / 1e3);
    }
    fb_hist_destroy (&h);
}

/* The floor for append and ingest: one memcpy of each line into a 10 000-entry ring; ns per
 * line, best of 5 passes. */
static double s_copy_floor_ns (void) {
    static char ring[S_LINES][513];
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        int64_t t0 = fb_clock_now_ns ();
        for (int i = 0; i < S_BURST; i++) {
            size_t len = s_lens[i % S_LINES] < 512 ? s_lens[i % S_LINES] : 512;
            memcpy (ring[i % S_LINES], s_lines[i % S_LINES], len);
            ring[i % S_LINES][len] = '\0';
        }
        double ns = (double)(fb_clock_now_ns () - t0) / S_BURST;
        best = pass == 0 || ns < best ? ns : best;
    }
    volatile char sink = ring[S_BURST % S_LINES][0];
    (void)sink;
    return best;
}

/* The floor for detection: one memmem for "error" over each line, ns per line, best of 5. */
static double s_scan_floor_ns (void) {
    double best = 0;
    int hits = 0;
    for (int pass = 0; pass < 5; pass++) {
        int64_t t0 = fb_clock_now_ns ();
        for (int i = 0; i < S_LINES; i++)
            hits += memmem (s_lines[i], s_lens[i], "error", 5) != NULL;
        double ns = (double)(fb_clock_now_ns () - t0) / S_LINES;
        best = pass == 0 || ns < best ? ns : best;
    }
    volatile int sink = hits;
    (void)sink;
    return best;
}

/* Best of 5 passes over the lines, ns per line. */
static void s_detect_row (const char *name, int engine, double floor_ns, fb_err_t *err) {
    fb_logdetect_t *d = fb_logdetect_new (engine, 512, err);
    if (!d)
        return;
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        int64_t t0 = fb_clock_now_ns ();
        for (int i = 0; i < S_LINES; i++)
            fb_logdetect_line (d, s_lines[i], s_lens[i], NULL, 0, NULL);
        double ns = (double)(fb_clock_now_ns () - t0) / S_LINES;
        best = pass == 0 || ns < best ? ns : best;
    }
    s_row (name, best, "ns/line", "memmem floor", floor_ns);
    fb_logdetect_destroy (&d);
}

/* The model as Brummer's store (shift eviction with its growing per-process index, detection
 * by engine), one measure of bench/fidelity/logs_driver.go, printed as it prints Brummer's. */
static int s_fidelity (const char *measure, int reps, int engine, fb_err_t *err) {
    if (strcmp (measure, "detect_ns") == 0) {
        fb_logdetect_t *d = fb_logdetect_new (engine, 512, err);
        if (!d)
            return -1;
        int64_t t0 = fb_clock_now_ns ();
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < S_LINES; i++) { /* what the store does per line */
                fb_loglevel_t level;
                fb_loglevel_line (s_lines[i], s_lens[i], false, &level);
                fb_logdetect_line (d, s_lines[i], s_lens[i], NULL, 0, NULL);
            }
        printf ("fidelity-log detect_ns %.0f ns\n",
                (double)(fb_clock_now_ns () - t0) / ((double)reps * S_LINES));
        fb_logdetect_destroy (&d);
        return 0;
    }
    fb_hist_t *h[2] = {fb_hist_new_default (err), fb_hist_new_default (err)};
    fb_logstore_t *store = NULL;
    int rc = h[0] && h[1] ? 0 : -1;
    if (rc == 0 && strcmp (measure, "ingest") == 0) {
        printf ("fidelity-log ingest20k_lps %.0f lines/s\n",
                s_ingest_lps (S_SHIFT, true, S_BURST / 10, h[0], err));
        printf ("fidelity-log ingest200k_lps %.0f lines/s\n",
                s_ingest_lps (S_SHIFT, true, S_BURST, h[0], err));
    } else if (rc == 0 && strcmp (measure, "search_ms") == 0 &&
               (store = s_filled (S_SHIFT, true, err))) {
        int found;
        printf ("fidelity-log search_ms %.3f ms\n",
                s_search_ms (store, "error", FB_LOGSTORE_SUBSTR, reps, &found));
    } else if (rc == 0 && strcmp (measure, "add") == 0 && (store = s_filled (S_SHIFT, true, err))) {
        s_burst (store, h);
        for (int k = 0; k < 2; k++)
            printf ("fidelity-log add_%s_ns %lld ns (%lld calls)\n", k ? "sync" : "queued",
                    (long long)fb_hist_value_at_percentile (h[k], 50),
                    (long long)fb_hist_count (h[k]));
    } else if (rc == 0 && !err->code) {
        fb_err_set (err, FB_EINPUT, "unknown measure \"%s\"", measure);
    }
    fb_logstore_destroy (&store);
    fb_hist_destroy (&h[0]);
    fb_hist_destroy (&h[1]);
    return err->code ? -1 : 0;
}

/* --dump-lines FILE: the generated lines, one a line, for Brummer's side of the fidelity
 * bench. */
static int s_dump (const char *path) {
    FILE *f = fopen (path, "w");
    for (int i = 0; f && i < S_LINES; i++)
        fprintf (f, "%.*s\n", (int)s_lens[i], s_lines[i]);
    if (!f || fclose (f) != 0) {
        fprintf (stderr, "bench_log: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int s_usage (void) {
    fprintf (stderr, "usage: bench_log [reps 1..1000]\n"
                     "       bench_log --dump-lines FILE\n"
                     "       bench_log --fidelity search_ms|add|ingest|detect_ns REPS "
                     "[fast|regex]\n");
    return 2;
}

int main (int argc, char **argv) {
    bool fidelity = argc >= 4 && strcmp (argv[1], "--fidelity") == 0;
    bool dump = argc == 3 && strcmp (argv[1], "--dump-lines") == 0;
    int reps = fidelity ? atoi (argv[3]) : argc > 1 && !dump ? atoi (argv[1]) : 20;
    if (reps < 1 || reps > 1000 || (argc > 2 && !fidelity && !dump) ||
        (fidelity && argc == 5 && strcmp (argv[4], "fast") != 0 &&
         strcmp (argv[4], "regex") != 0) ||
        argc > 5)
        return s_usage ();
    fb_err_t err = {0};
    fb_loggen_t *gen = fb_loggen_new (1, &err);
    if (!gen) {
        fprintf (stderr, "bench_log: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < S_LINES; i++)
        s_lens[i] = fb_loggen_next (gen, s_lines[i], sizeof s_lines[i]);
    fb_loggen_destroy (&gen);
    if (dump)
        return s_dump (argv[2]);
    if (fidelity) {
        int engine =
            argc == 5 && strcmp (argv[4], "regex") == 0 ? FB_LOGDETECT_REGEX : FB_LOGDETECT_FAST;
        if (s_fidelity (argv[2], reps, engine, &err) != 0) {
            fprintf (stderr, "bench_log: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    printf ("\nlog store: %d generated lines, 512 B per entry, capacity %d, queue %d\n", S_LINES,
            S_LINES, FB_LOGSTORE_QUEUE_DEFAULT);
    printf ("%-44s %12s %-7s %-22s %12s %9s\n", "case", "ours", "unit", "floor", "value",
            "x floor");
    double copy_ns = s_copy_floor_ns (), scan_ns = s_scan_floor_ns ();
    s_search_rows (reps, &err);
    s_append_rows (copy_ns, &err);
    s_ingest_row ("ingest 200k, ring, detect fast", S_RING, true, S_BURST, copy_ns, &err);
    s_ingest_row ("ingest 200k, ring, no detection", S_RING, false, S_BURST, copy_ns, &err);
    /* Brummer's growth: 20k then 200k lines through a full shift store; each eviction walks
     * every position stored since the start, unless the evicted ones are forgotten */
    s_ingest_row ("ingest 20k, shift, detect fast", S_SHIFT, true, S_BURST / 10, copy_ns, &err);
    s_ingest_row ("ingest 200k, shift, detect fast", S_SHIFT, true, S_BURST, copy_ns, &err);
    s_ingest_row ("ingest 200k, shift, evicted_index forget", S_SHIFT_FORGET, true, S_BURST,
                  copy_ns, &err);
    s_detect_row ("detect, hand-written", FB_LOGDETECT_FAST, scan_ns, &err);
    s_detect_row ("detect, POSIX regex (Brummer's patterns)", FB_LOGDETECT_REGEX, scan_ns, &err);
    if (err.code) {
        fprintf (stderr, "bench_log: %s\n", err.msg);
        return 1;
    }
    printf ("floors and ours are this run; x floor = how many floors our cost is (for lines/s,\n"
            "floor/ours). The seed's Go figures are in docs/workloads/log.md, as history.\n");
    return 0;
}

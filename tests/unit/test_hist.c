/* test_hist.c: the HDR histogram against HdrHistogram's published results, and its V2 encoding. */
#include "common/hist.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

/* |actual - expected| <= relative * |expected| */
static void s_assert_near (double actual, double expected, double relative) {
    if (fabs (actual - expected) > relative * fabs (expected))
        fail_msg ("%.6f is not within %.4f%% of %.6f", actual, relative * 100, expected);
}

static fb_hist_t *s_new (int64_t lowest, int64_t highest, int sigfigs) {
    fb_err_t err = {0};
    fb_hist_t *h = fb_hist_new (lowest, highest, sigfigs, &err);
    if (!h)
        fail_msg ("fb_hist_new: %s", err.msg);
    return h;
}

/* Every bucket, the count, min, max and layout of a and b are the same. */
static void s_assert_same (const fb_hist_t *a, const fb_hist_t *b) {
    assert_int_equal (fb_hist_lowest (a), fb_hist_lowest (b));
    assert_int_equal (fb_hist_highest (a), fb_hist_highest (b));
    assert_int_equal (fb_hist_sigfigs (a), fb_hist_sigfigs (b));
    assert_int_equal (fb_hist_count (a), fb_hist_count (b));
    assert_int_equal (fb_hist_min (a), fb_hist_min (b));
    assert_int_equal (fb_hist_max (a), fb_hist_max (b));
    fb_hist_iter_t ia, ib;
    fb_hist_iter_init (&ia, a);
    fb_hist_iter_init (&ib, b);
    for (;;) {
        bool more = fb_hist_iter_next (&ia);
        assert_int_equal (more, fb_hist_iter_next (&ib));
        if (!more)
            break;
        assert_int_equal (ia.index, ib.index);
        assert_int_equal (ia.count, ib.count);
    }
}

/* HdrHistogram's classic data set (HdrHistogram_c test/hdr_histogram_test.c load_histograms,
 * Java HistogramDataAccessTest): 10000 values of 1000 (1 msec in usec) and one of 100000000
 * (100 s), in raw and with coordinated omission corrected for an interval of 10000. */
static fb_hist_t *s_raw, *s_corrected;

static int s_setup_classic (void **state) {
    (void)state;
    s_raw = s_new (1, INT64_C (3600) * 1000 * 1000, 3);
    s_corrected = s_new (1, INT64_C (3600) * 1000 * 1000, 3);
    for (int i = 0; i < 10000; i++) {
        fb_hist_record (s_raw, 1000);
        fb_hist_record_corrected (s_corrected, 1000, 10000);
    }
    fb_hist_record (s_raw, 100000000);
    fb_hist_record_corrected (s_corrected, 100000000, 10000);
    return 0;
}

static int s_teardown_classic (void **state) {
    (void)state;
    fb_hist_destroy (&s_raw);
    fb_hist_destroy (&s_corrected);
    assert_null (s_raw);
    return 0;
}

static void test_new_rejects_bad_arguments (void **state) {
    (void)state;
    fb_err_t err = {0};
    assert_null (fb_hist_new (0, 1000, 3, &err));
    assert_int_equal (err.code, FB_EINPUT);
    assert_non_null (strstr (err.msg, "lowest"));
    assert_null (fb_hist_new (1, 1000, 0, &err));
    assert_non_null (strstr (err.msg, "significant digits"));
    assert_null (fb_hist_new (1, 1000, 6, &err));
    assert_null (fb_hist_new (1000, 1999, 3, &err));
    assert_non_null (strstr (err.msg, "twice"));
    assert_null (fb_hist_new (INT64_C (1) << 60, INT64_MAX, 3, &err)); /* u + h > 61 */
    fb_hist_t *h = fb_hist_new (1, INT64_MAX, 5, &err);
    assert_non_null (h);
    fb_hist_record (h, INT64_MAX);
    assert_int_equal (fb_hist_max (h), INT64_MAX);
    fb_hist_destroy (&h);
}

/* Published in HdrHistogram's Java HistogramTest and the C, JS, Rust and Python ports:
 * Histogram (1024, 3600000000, 3) and (1, 3600000000, 3). */
static void test_equivalent_values_match_hdrhistogram (void **state) {
    (void)state;
    fb_hist_t *h = s_new (1024, 3600000000LL, 3);
    assert_int_equal (fb_hist_highest_equivalent (h, 8180 * 1024), 8183 * 1024 + 1023);
    assert_int_equal (fb_hist_highest_equivalent (h, 8191 * 1024), 8191 * 1024 + 1023);
    assert_int_equal (fb_hist_highest_equivalent (h, 8193 * 1024), 8199 * 1024 + 1023);
    assert_int_equal (fb_hist_highest_equivalent (h, 9995 * 1024), 9999 * 1024 + 1023);
    assert_int_equal (fb_hist_highest_equivalent (h, 10007 * 1024), 10007 * 1024 + 1023);
    assert_int_equal (fb_hist_highest_equivalent (h, 10008 * 1024), 10015 * 1024 + 1023);
    assert_int_equal (fb_hist_lowest_equivalent (h, 10007 * 1024), 10000 * 1024);
    assert_int_equal (fb_hist_lowest_equivalent (h, 10009 * 1024), 10008 * 1024);
    fb_hist_destroy (&h);
    h = s_new (1, 3600000000LL, 3);
    assert_int_equal (fb_hist_lowest_equivalent (h, 10007), 10000);
    assert_int_equal (fb_hist_lowest_equivalent (h, 10009), 10008);
    assert_int_equal (fb_hist_highest_equivalent (h, 8180), 8183);
    assert_int_equal (fb_hist_highest_equivalent (h, 2047), 2047); /* last unit-wide slot */
    assert_int_equal (fb_hist_highest_equivalent (h, 2048), 2049);
    fb_hist_destroy (&h);
}

/* HdrHistogram_c test_total_count, test_get_min_value, test_get_max_value, test_percentiles. */
static void test_classic_raw_percentiles_match_hdrhistogram (void **state) {
    (void)state;
    assert_int_equal (fb_hist_count (s_raw), 10001);
    assert_int_equal (fb_hist_min (s_raw), 1000);
    assert_int_equal (fb_hist_lowest_equivalent (s_raw, fb_hist_max (s_raw)),
                      fb_hist_lowest_equivalent (s_raw, 100000000));
    s_assert_near ((double)fb_hist_value_at_percentile (s_raw, 30.0), 1000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_raw, 99.0), 1000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_raw, 99.99), 1000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_raw, 99.999), 100000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_raw, 100.0), 100000000.0, 0.001);
    /* Exactly: 1000 sits in a slot of width 1; 100000000 in [99942400, 99942400 + 2^16). */
    assert_int_equal (fb_hist_value_at_percentile (s_raw, 99.99), 1000);
    assert_int_equal (fb_hist_value_at_percentile (s_raw, 100.0), 100007935);
    assert_int_equal (fb_hist_max (s_raw), 100007935);
    assert_int_equal (fb_hist_value_at_percentile (s_raw, 0.0), 1000);
}

/* HdrHistogram_c test_percentiles on the corrected histogram, and its record_corrected example:
 * the 100 s stall also stands for the 9999 samples of 10 ms apart that it held up. */
static void test_record_corrected_fills_coordinated_omission_gaps (void **state) {
    (void)state;
    assert_int_equal (fb_hist_count (s_corrected), 20000);
    assert_int_equal (fb_hist_min (s_corrected), 1000);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 30.0), 1000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 50.0), 1000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 75.0), 50000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 90.0), 80000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 99.0), 98000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 99.999), 100000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (s_corrected, 100.0), 100000000.0, 0.001);
    /* No correction when the value is within the interval. */
    fb_hist_t *h = s_new (1, 3600000000LL, 3);
    fb_hist_record_corrected (h, 10000, 10000);
    fb_hist_record_corrected (h, 500, 0);
    assert_int_equal (fb_hist_count (h), 2);
    fb_hist_destroy (&h);
}

/* HdrHistogram's Java HistogramDataAccessTest testGetMean and testGetStdDeviation: to ~0.1%. */
static void test_mean_and_stddev_match_hdrhistogram (void **state) {
    (void)state;
    double raw_mean = (10000.0 * 1000 + 1.0 * 100000000) / 10001;
    double raw_stddev =
        sqrt ((10000.0 * pow (1000.0 - raw_mean, 2) + pow (100000000.0 - raw_mean, 2)) / 10001);
    double mean = (1000.0 + 50000000.0) / 2;
    double square_sum = 10000 * pow (1000.0 - mean, 2);
    for (long value = 10000; value <= 100000000; value += 10000)
        square_sum += pow ((double)value - mean, 2);
    double stddev = sqrt (square_sum / 20000);
    s_assert_near (fb_hist_mean (s_raw), raw_mean, 0.001);
    s_assert_near (fb_hist_mean (s_corrected), mean, 0.001);
    s_assert_near (fb_hist_stddev (s_raw), raw_stddev, 0.001);
    s_assert_near (fb_hist_stddev (s_corrected), stddev, 0.001);
}

static void test_uniform_million_percentiles_within_precision (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_hist_t *h = fb_hist_new_default (&err);
    assert_non_null (h);
    for (int64_t v = 1; v <= 1000000; v++)
        assert_true (fb_hist_record (h, v));
    assert_int_equal (fb_hist_count (h), 1000000);
    assert_int_equal (fb_hist_min (h), 1);
    s_assert_near ((double)fb_hist_max (h), 1000000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 50.0), 500000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 90.0), 900000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 99.0), 990000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 99.9), 999000.0, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 1.0), 10000.0, 0.001);
    s_assert_near (fb_hist_mean (h), 500000.5, 0.001);
    s_assert_near (fb_hist_stddev (h), 1000000.0 / sqrt (12.0), 0.001);
    /* The percentile answer is the top of its bucket: never below the true value. */
    assert_true (fb_hist_value_at_percentile (h, 50.0) >= 500000);
    fb_hist_destroy (&h);
}

/* ---- nearest rank against the sorted samples ---- */

static uint64_t s_rng_state;

static double s_uniform01 (void) { /* splitmix64, in (0, 1) */
    uint64_t x = (s_rng_state += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return ((double)(x >> 11) + 0.5) / 9007199254740992.0;
}

/* One sample (ns) of distribution d: uniform, exponential, log-normal, Pareto, two modes,
 * few distinct values, constant. */
static int64_t s_sample (int d) {
    double u = s_uniform01 (), v;
    switch (d) {
    case 0:
        v = 1000 + u * 5e6;
        break;
    case 1:
        v = -log (u) * 2e5;
        break;
    case 2:
        v = exp (11.0 + 1.5 * sqrt (-2 * log (u)) * cos (6.283185307 * s_uniform01 ()));
        break;
    case 3:
        v = 1e4 / pow (u, 1.0 / 1.2);
        break;
    case 4:
        v = u < 0.99 ? 1e6 + u * 1e4 : 1e9 + u * 1e6;
        break;
    case 5:
        v = (double)(1 + (int)(u * 4)) * 1000;
        break;
    default:
        v = 777;
        break;
    }
    return v < 1 ? 1 : v > 3e12 ? (int64_t)3e12 : (int64_t)v;
}

static int s_cmp_i64 (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every percentile q / 1000 % is in the bucket of the exact nearest-rank value: the sorted
 * sample at rank ceil(q / 100000 * n), at least 1 (computed in integers). */
static void s_assert_nearest_rank (const fb_hist_t *h, const int64_t *sorted, int64_t n,
                                   int64_t q) {
    int64_t rank = (q * n + 99999) / 100000;
    rank = rank < 1 ? 1 : rank;
    int64_t exact = sorted[rank - 1];
    int64_t got = fb_hist_value_at_percentile (h, (double)q / 1000.0);
    if (fb_hist_lowest_equivalent (h, got) != fb_hist_lowest_equivalent (h, exact))
        fail_msg ("n %lld p%.3f: histogram says %lld, exact nearest rank %lld is %lld",
                  (long long)n, (double)q / 1000.0, (long long)got, (long long)rank,
                  (long long)exact);
}

static void test_percentiles_are_the_nearest_rank_of_the_raw_samples (void **state) {
    (void)state;
    static const int64_t sizes[] = {1, 2, 3, 7, 10, 99, 100, 101, 1000, 1070, 4999, 100003};
    s_rng_state = 42;
    int64_t *samples = malloc (sizeof *samples * 100003);
    assert_non_null (samples);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int d = 0; d < 7; d++) {
            int64_t n = sizes[si];
            fb_hist_t *h = s_new (1, 3600000000000LL, 3);
            for (int64_t i = 0; i < n; i++) {
                samples[i] = s_sample (d);
                fb_hist_record (h, samples[i]);
            }
            qsort (samples, (size_t)n, sizeof *samples, s_cmp_i64);
            for (int64_t q = 0; q <= 100000; q += 37)
                s_assert_nearest_rank (h, samples, n, q);
            /* Both ends of every rank's range of q, where the product is (nearly) whole. */
            for (int64_t r = 1; n <= 1100 && r <= n; r++) {
                s_assert_nearest_rank (h, samples, n, (r - 1) * 100000 / n + 1);
                s_assert_nearest_rank (h, samples, n, r * 100000 / n);
            }
            static const int64_t tail[] = {99000, 99900, 99990, 99999, 100000};
            for (int t = 0; t < 5; t++)
                s_assert_nearest_rank (h, samples, n, tail[t]);
            fb_hist_destroy (&h);
        }
    free (samples);
}

/* The case: 1059 samples at 1 ms and 11 at 1 s. More than 1 % took a second, so p99
 * is a second (rank ceil(0.99 * 1070) = 1060), not a millisecond. */
static void test_p99_of_a_slow_one_percent_is_slow (void **state) {
    (void)state;
    fb_hist_t *h = s_new (1, 3600000000000LL, 3);
    fb_hist_record_n (h, 1000000, 1059);
    fb_hist_record_n (h, 1000000000, 11);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 99.0), 1e9, 0.001);
    s_assert_near ((double)fb_hist_value_at_percentile (h, 98.9), 1e6, 0.001);
    fb_hist_destroy (&h);
}

static void test_values_outside_range_are_clamped (void **state) {
    (void)state;
    fb_hist_t *h = s_new (1, 1000, 4); /* HdrHistogram_c test_out_of_range_values */
    assert_true (fb_hist_record (h, 1000));
    assert_false (fb_hist_record (h, 1001));
    assert_false (fb_hist_record (h, 0));
    assert_false (fb_hist_record (h, -5));
    assert_false (fb_hist_record_atomic (h, INT64_MAX));
    assert_int_equal (fb_hist_count (h), 4);
    assert_int_equal (fb_hist_min (h), 1);
    assert_int_equal (fb_hist_max (h), 1000);
    assert_int_equal (fb_hist_value_at_percentile (h, 25.0), 1);
    assert_int_equal (fb_hist_value_at_percentile (h, 50.0), 1);
    assert_int_equal (fb_hist_value_at_percentile (h, 75.0), 1000);
    fb_hist_destroy (&h);
}

static void test_empty_histogram_reports_zeros (void **state) {
    (void)state;
    fb_hist_t *h = s_new (1, 3600000000LL, 3);
    assert_int_equal (fb_hist_count (h), 0);
    assert_int_equal (fb_hist_min (h), 0);
    assert_int_equal (fb_hist_max (h), 0);
    assert_int_equal (fb_hist_value_at_percentile (h, 99.0), 0);
    assert_true (fb_hist_mean (h) == 0.0 && fb_hist_stddev (h) == 0.0);
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, h);
    assert_false (fb_hist_iter_next (&it));
    fb_hist_destroy (&h);
}

static void test_iterator_visits_recorded_buckets_in_order (void **state) {
    (void)state;
    fb_hist_t *h = s_new (1, 3600000000LL, 3);
    fb_hist_record_n (h, 10007, 3);
    fb_hist_record (h, 5);
    fb_hist_record_n (h, 100000000, 2);
    int64_t expected_lowest[] = {5, 10000, 99942400}, expected_count[] = {1, 3, 2};
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, h);
    for (int i = 0; i < 3; i++) {
        assert_true (fb_hist_iter_next (&it));
        assert_int_equal (it.value_lowest, expected_lowest[i]);
        assert_int_equal (it.value, fb_hist_highest_equivalent (h, expected_lowest[i]));
        assert_int_equal (it.count, expected_count[i]);
    }
    assert_int_equal (it.cumulative, 6);
    assert_false (fb_hist_iter_next (&it));
    assert_false (fb_hist_iter_next (&it));
    fb_hist_destroy (&h);
}

static void test_copy_is_equal_and_reset_empties (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_hist_t *copy = fb_hist_copy (s_corrected, &err);
    assert_non_null (copy);
    s_assert_same (copy, s_corrected);
    fb_hist_reset (copy);
    assert_int_equal (fb_hist_count (copy), 0);
    assert_int_equal (fb_hist_value_at_percentile (copy, 99.0), 0);
    assert_int_equal (fb_hist_max (copy), 0);
    fb_hist_destroy (&copy);
}

/* A deterministic spread over nine decades, so every bucket group gets samples. */
static void s_fill (fb_hist_t *h, int n, uint64_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double exponent = (double)(seed >> 11) / 9007199254740992.0 * 9.0; /* [0, 9) */
        fb_hist_record (h, (int64_t)pow (10.0, exponent) + (int64_t)(seed % 7));
    }
}

static void test_merge_of_two_hosts_is_exact (void **state) {
    (void)state;
    fb_hist_t *a = s_new (1, FB_HIST_HIGHEST, 3), *b = s_new (1, FB_HIST_HIGHEST, 3);
    fb_hist_t *both = s_new (1, FB_HIST_HIGHEST, 3);
    s_fill (a, 20000, 1);
    s_fill (b, 30000, 2);
    s_fill (both, 20000, 1);
    s_fill (both, 30000, 2);
    fb_err_t err = {0};
    assert_int_equal (fb_hist_merge (a, b, &err), 0);
    s_assert_same (a, both);
    assert_int_equal (fb_hist_count (a), 50000);
    for (double p = 0.0; p <= 100.0; p += 0.5)
        assert_int_equal (fb_hist_value_at_percentile (a, p),
                          fb_hist_value_at_percentile (both, p));
    fb_hist_destroy (&a);
    fb_hist_destroy (&b);
    fb_hist_destroy (&both);
}

static void test_merge_into_smaller_range_clamps_to_highest (void **state) {
    (void)state;
    fb_hist_t *small = s_new (1, 100000, 3), *big = s_new (1, 100000000, 3);
    fb_hist_record (big, 50);
    fb_hist_record_n (big, 5000000, 4);
    assert_int_equal (fb_hist_merge (small, big, NULL), 0);
    assert_int_equal (fb_hist_count (small), 5);
    assert_int_equal (fb_hist_min (small), 50);
    assert_int_equal (fb_hist_max (small), fb_hist_highest_equivalent (small, 100000));
    assert_int_equal (fb_hist_value_at_percentile (small, 100.0), fb_hist_max (small));
    fb_hist_destroy (&small);
    fb_hist_destroy (&big);
}

static void test_merge_of_different_layouts_uses_bucket_medians (void **state) {
    (void)state;
    fb_hist_t *coarse = s_new (1, 3600000000LL, 1), *fine = s_new (1, 3600000000LL, 3);
    fb_hist_record_n (coarse, 1000, 10);
    assert_int_equal (fb_hist_merge (fine, coarse, NULL), 0);
    assert_int_equal (fb_hist_count (fine), 10);
    /* 1000 is in coarse's [992, 1024): its median 1008 is what fine receives. */
    assert_int_equal (fb_hist_lowest_equivalent (coarse, 1000), 992);
    assert_int_equal (fb_hist_min (fine), 1008);
    assert_int_equal (fb_hist_value_at_percentile (fine, 50.0), 1008);
    fb_hist_destroy (&coarse);
    fb_hist_destroy (&fine);
}

#define FB_RECORDS_PER_THREAD 300000

typedef struct {
    fb_hist_t *hist;
    int64_t value;
    int done;           /* atomic */
    const int *drained; /* atomic: the reader has drained at least once */
} s_recorder_t;

static void *s_recorder (void *arg) {
    s_recorder_t *r = arg;
    for (int i = 0; i < FB_RECORDS_PER_THREAD; i++) {
        /* Halfway, wait for a drain: on a busy machine the reader might otherwise not run
         * until both recorders are done, and nothing would be drained during recording. */
        while (i == FB_RECORDS_PER_THREAD / 2 && !__atomic_load_n (r->drained, __ATOMIC_ACQUIRE))
            sched_yield ();
        fb_hist_record_atomic (r->hist, r->value + (i % 3) * 1000000);
    }
    __atomic_store_n (&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_drain_while_two_threads_record_atomically_loses_nothing (void **state) {
    (void)state;
    fb_hist_t *live = s_new (1, FB_HIST_HIGHEST, 3), *total = s_new (1, FB_HIST_HIGHEST, 3);
    fb_hist_t *interval = s_new (1, FB_HIST_HIGHEST, 3);
    int drained = 0;
    s_recorder_t r[2] = {{live, 1000, 0, &drained}, {live, 7000, 0, &drained}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_recorder, &r[i]), 0);
    fb_err_t err = {0};
    int drains = 0;
    while (!__atomic_load_n (&r[0].done, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n (&r[1].done, __ATOMIC_ACQUIRE)) {
        fb_hist_reset (interval);
        assert_int_equal (fb_hist_drain (interval, live, &err), 0);
        assert_int_equal (fb_hist_merge (total, interval, &err), 0);
        drains++;
        __atomic_store_n (&drained, 1, __ATOMIC_RELEASE);
    }
    for (int i = 0; i < 2; i++)
        pthread_join (threads[i], NULL);
    fb_hist_reset (interval);
    assert_int_equal (fb_hist_drain (interval, live, &err), 0);
    assert_int_equal (fb_hist_merge (total, interval, &err), 0);
    assert_true (drains > 0);
    assert_int_equal (fb_hist_count (total), 2 * FB_RECORDS_PER_THREAD);
    assert_int_equal (fb_hist_min (total), 1000);
    assert_int_equal (fb_hist_max (total), fb_hist_highest_equivalent (total, 2007000));
    /* Six values, a sixth of the samples each. */
    assert_int_equal (fb_hist_value_at_percentile (total, 100.0 / 6), 1000);
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, total);
    while (fb_hist_iter_next (&it))
        assert_int_equal (it.count, FB_RECORDS_PER_THREAD / 3);
    /* live is empty afterwards. */
    fb_hist_reset (interval);
    assert_int_equal (fb_hist_drain (interval, live, &err), 0);
    assert_int_equal (fb_hist_count (interval), 0);
    fb_hist_t *other = s_new (1000, FB_HIST_HIGHEST, 3);
    assert_int_equal (fb_hist_drain (other, live, &err), -1);
    assert_non_null (strstr (err.msg, "layout"));
    fb_hist_destroy (&other);
    fb_hist_destroy (&live);
    fb_hist_destroy (&total);
    fb_hist_destroy (&interval);
}

static fb_hist_t *s_round_trip (const fb_hist_t *h, uint8_t **buf, size_t *len) {
    fb_err_t err = {0};
    assert_int_equal (fb_hist_encode (h, buf, len, &err), 0);
    fb_hist_t *back = fb_hist_decode (*buf, *len, &err);
    if (!back)
        fail_msg ("decode: %s", err.msg);
    return back;
}

static void test_encode_decode_round_trip_is_identical_for_sigfigs_1_to_5 (void **state) {
    (void)state;
    for (int sigfigs = 1; sigfigs <= 5; sigfigs++) {
        fb_hist_t *h = s_new (1, FB_HIST_HIGHEST, sigfigs);
        s_fill (h, 10000, (uint64_t)sigfigs);
        fb_hist_record (h, FB_HIST_HIGHEST);
        uint8_t *buf;
        size_t len;
        fb_hist_t *back = s_round_trip (h, &buf, &len);
        /* "HIST" in base64: the compressed V2 cookie with word size 0x10, as Java writes it. */
        assert_memory_equal (buf, "\x1c\x84\x93\x14", 4);
        s_assert_same (h, back);
        assert_true (fb_hist_mean (h) == fb_hist_mean (back));
        free (buf);
        fb_hist_destroy (&back);
        fb_hist_destroy (&h);
    }
    fb_hist_t *h = s_new (1000, 100000000, 2), *back; /* empty, another lowest */
    uint8_t *buf;
    size_t len;
    back = s_round_trip (h, &buf, &len);
    s_assert_same (h, back);
    free (buf);
    fb_hist_destroy (&back);
    fb_hist_destroy (&h);
}

/* Inflates our encoding: the inner payload is HdrHistogram's uncompressed V2 layout. */
static void test_uncompressed_v2_payload_has_hdrhistogram_header (void **state) {
    (void)state;
    uint8_t *buf, raw[4096];
    size_t len;
    fb_hist_t *back = s_round_trip (s_raw, &buf, &len);
    fb_hist_destroy (&back);
    assert_int_equal ((buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]), len - 8);
    uLongf raw_len = sizeof raw;
    assert_int_equal (uncompress (raw, &raw_len, buf + 8, len - 8), Z_OK);
    static const uint8_t header[40] = {
        0x1c, 0x84, 0x93, 0x13, 0,    0,    0,    0, /* cookie, payload length (below) */
        0,    0,    0,    0,    0,    0,    0,    3, /* normalizing offset, sigfigs */
        0,    0,    0,    0,    0,    0,    0,    1, /* lowest */
        0,    0,    0,    0,    0xd6, 0x93, 0xa4, 0, /* highest 3600000000 */
        0x3f, 0xf0, 0,    0,    0,    0,    0,    0, /* conversion ratio 1.0 */
    };
    assert_memory_equal (raw, header, 4);
    assert_memory_equal (raw + 8, header + 8, 32);
    assert_int_equal ((raw[4] << 24 | raw[5] << 16 | raw[6] << 8 | raw[7]), raw_len - 40);
    /* The first count: 1000 empty buckets (zigzag of -1000 = 1999 = 0xcf 0x0f), then 10000. */
    assert_memory_equal (raw + 40, "\xcf\x0f\xa0\x9c\x01", 5);
    fb_err_t err = {0};
    back = fb_hist_decode (raw, raw_len, &err);
    assert_non_null (back);
    s_assert_same (back, s_raw);
    fb_hist_destroy (&back);
    free (buf);
}

static void s_assert_rejected (const uint8_t *buf, size_t len, const char *words) {
    fb_err_t err = {0};
    fb_hist_t *h = fb_hist_decode (buf, len, &err);
    if (h)
        fail_msg ("decoded bad input (expected an error with \"%s\")", words);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, words))
        fail_msg ("error \"%s\" does not say \"%s\"", err.msg, words);
}

/* An uncompressed V2 buffer: header fields, then the given count bytes. */
static size_t s_v2 (uint8_t *out, int32_t sigfigs, int64_t lowest, int64_t highest,
                    const uint8_t *counts, size_t counts_len) {
    uint8_t h[40] = {0x1c, 0x84, 0x93, 0x13};
    uint32_t n = (uint32_t)counts_len;
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (uint8_t)(n >> (24 - 8 * i));
        h[12 + i] = (uint8_t)((uint32_t)sigfigs >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++) {
        h[16 + i] = (uint8_t)((uint64_t)lowest >> (56 - 8 * i));
        h[24 + i] = (uint8_t)((uint64_t)highest >> (56 - 8 * i));
    }
    h[32] = 0x3f;
    h[33] = 0xf0;
    memcpy (out, h, 40);
    memcpy (out + 40, counts, counts_len);
    return 40 + counts_len;
}

static void test_decode_rejects_bad_input_with_a_reason (void **state) {
    (void)state;
    uint8_t *buf, v2[128];
    size_t len;
    fb_hist_t *back = s_round_trip (s_corrected, &buf, &len);
    fb_hist_destroy (&back);
    s_assert_rejected (buf, len - 1, "length"); /* HdrHistogram_c test_bounds_check_on_decode */
    s_assert_rejected (buf, 3, "too short");
    s_assert_rejected (NULL, 0, "too short");
    uint8_t bad[64];
    memcpy (bad, buf, 16);
    bad[3] = 0x12; /* V1 compressed */
    s_assert_rejected (bad, 16, "unsupported HdrHistogram encoding version");
    bad[3] = 0x09; /* V0 compressed */
    s_assert_rejected (bad, 16, "unsupported HdrHistogram encoding version");
    bad[0] = 0x7f;
    s_assert_rejected (bad, 16, "not an HdrHistogram encoding");
    memcpy (bad, buf, 16);
    memset (bad + 4, 0, 4);
    bad[7] = 8; /* 8 bytes of "zlib" that are not */
    memset (bad + 8, 0x55, 8);
    s_assert_rejected (bad, 16, "zlib");
    memcpy (bad, buf, 8);
    s_assert_rejected (bad, 8, "length");
    uint8_t one[] = {0x02};
    s_assert_rejected (v2, s_v2 (v2, 6, 1, 1000, one, 1), "significant digits");
    s_assert_rejected (v2, s_v2 (v2, 0, 1, 1000, one, 1), "significant digits");
    s_assert_rejected (v2, s_v2 (v2, 3, 0, 1000, one, 1), "lowest");
    s_assert_rejected (v2, s_v2 (v2, 3, -5, 1000, one, 1), "lowest");
    s_assert_rejected (v2, s_v2 (v2, 3, 600, 1000, one, 1), "twice");
    s_assert_rejected (v2, s_v2 (v2, 3, 1, 1000, one, 1) - 1, "length");
    uint8_t cut[] = {0x80, 0x80}; /* LEB128 that never ends */
    s_assert_rejected (v2, s_v2 (v2, 3, 1, 1000, cut, 2), "truncated LEB128");
    uint8_t run[] = {0xff, 0xff, 0xff, 0xff, 0x0f}; /* zigzag -2^31: a run past the end */
    s_assert_rejected (v2, s_v2 (v2, 3, 1, 1000, run, 5), "empty buckets");
    uint8_t big_run[9] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* INT64_MIN */
    s_assert_rejected (v2, s_v2 (v2, 3, 1, 1000, big_run, 9), "empty buckets");
    uint8_t huge[18] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    s_assert_rejected (v2, s_v2 (v2, 3, 1, 1000, huge, 18), "overflow");
    /* 2048 counts of 1 for a histogram of 2048 buckets (1..1000 at 3 digits) is one too many. */
    uint8_t many[2049];
    memset (many, 0x02, sizeof many);
    uint8_t *v2big = malloc (40 + sizeof many);
    assert_non_null (v2big);
    s_assert_rejected (v2big, s_v2 (v2big, 3, 1, 1000, many, sizeof many), "more counts");
    fb_err_t err = {0};
    fb_hist_t *ok = fb_hist_decode (v2big, s_v2 (v2big, 3, 1, 1000, many, 2048), &err);
    assert_non_null (ok);
    assert_int_equal (fb_hist_count (ok), 2048);
    assert_int_equal (fb_hist_min (ok), 0); /* bucket 0 holds 0 in HdrHistogram's layout */
    fb_hist_destroy (&ok);
    free (v2big);
    free (buf);
}

/* Every truncation and every single-byte change of a real encoding: an error or a histogram,
 * never a crash (the sanitizer build watches). */
static void test_decode_survives_every_truncation_and_byte_flip (void **state) {
    (void)state;
    uint8_t *buf;
    size_t len;
    fb_hist_t *back = s_round_trip (s_corrected, &buf, &len);
    fb_hist_destroy (&back);
    fb_err_t err;
    for (size_t cut = 0; cut < len; cut++) {
        fb_hist_t *h = fb_hist_decode (buf, cut, &err);
        assert_null (h);
    }
    uint8_t *copy = malloc (len);
    assert_non_null (copy);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy (copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            fb_hist_t *h = fb_hist_decode (copy, len, &err);
            fb_hist_destroy (&h);
        }
    }
    free (copy);
    free (buf);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_new_rejects_bad_arguments),
        cmocka_unit_test (test_equivalent_values_match_hdrhistogram),
        cmocka_unit_test (test_classic_raw_percentiles_match_hdrhistogram),
        cmocka_unit_test (test_record_corrected_fills_coordinated_omission_gaps),
        cmocka_unit_test (test_mean_and_stddev_match_hdrhistogram),
        cmocka_unit_test (test_uniform_million_percentiles_within_precision),
        cmocka_unit_test (test_percentiles_are_the_nearest_rank_of_the_raw_samples),
        cmocka_unit_test (test_p99_of_a_slow_one_percent_is_slow),
        cmocka_unit_test (test_values_outside_range_are_clamped),
        cmocka_unit_test (test_empty_histogram_reports_zeros),
        cmocka_unit_test (test_iterator_visits_recorded_buckets_in_order),
        cmocka_unit_test (test_copy_is_equal_and_reset_empties),
        cmocka_unit_test (test_merge_of_two_hosts_is_exact),
        cmocka_unit_test (test_merge_into_smaller_range_clamps_to_highest),
        cmocka_unit_test (test_merge_of_different_layouts_uses_bucket_medians),
        cmocka_unit_test (test_drain_while_two_threads_record_atomically_loses_nothing),
        cmocka_unit_test (test_encode_decode_round_trip_is_identical_for_sigfigs_1_to_5),
        cmocka_unit_test (test_uncompressed_v2_payload_has_hdrhistogram_header),
        cmocka_unit_test (test_decode_rejects_bad_input_with_a_reason),
        cmocka_unit_test (test_decode_survives_every_truncation_and_byte_flip),
    };
    return cmocka_run_group_tests (tests, s_setup_classic, s_teardown_classic);
}

/* test_merge.c: reports folded into a host's stats, as the coordinator does for every interval:
 * the histograms stay compact (only the buckets the intervals used) and exact (the same
 * figures as merging full histograms bucket by bucket). */
#include "common/merge.h"
#include "common/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static fb_counter_kind_t s_kind (const char *name, const void *arg) {
    (void)arg;
    return strcmp (name, "rss") == 0 ? FB_COUNTER_MAX : FB_COUNTER_SUM;
}

/* One interval of one metric: n log-normal samples around median_ns. */
static fb_hist_t *s_interval (uint64_t *rng, int n, double median_ns) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    for (int i = 0; i < n; i++) {
        double u1 = fb_rng_unit (rng), u2 = fb_rng_unit (rng);
        fb_hist_record (
            h, (int64_t)(median_ns * exp (0.5 * sqrt (-2 * log (u1)) * cos (2 * M_PI * u2))));
    }
    return h;
}

typedef struct {
    int calls;
    int64_t samples;
} s_seen_t;

static void s_on_metric (const char *name, const fb_hist_compact_t *hist, const uint8_t *bytes,
                         size_t len, void *arg) {
    (void)name;
    s_seen_t *seen = arg;
    seen->calls++;
    seen->samples += fb_hist_compact_count (hist);
    assert_true (len > 8 && bytes != NULL);
}

static void test_reports_merge_exactly_into_compact_host_stats (void **state) {
    (void)state;
    static const char *const names[] = {"latency", "service"};
    uint64_t rng = 2026;
    fb_stats_t stats;
    fb_stats_init (&stats);
    fb_hist_t *full[2] = {fb_hist_new_default (NULL), fb_hist_new_default (NULL)};
    s_seen_t seen = {0};
    for (int interval = 0; interval < 30; interval++) {
        fb_report_t r;
        memset (&r, 0, sizeof r);
        for (int m = 0; m < 2; m++) {
            fb_hist_t *h = s_interval (&rng, 300, 20000.0 * (m + 1));
            snprintf (r.metrics[m].name, sizeof r.metrics[m].name, "%s", names[m]);
            assert_int_equal (fb_hist_encode (h, &r.metrics[m].hist, &r.metrics[m].hist_len, NULL),
                              0);
            assert_int_equal (fb_hist_merge (full[m], h, NULL), 0);
            fb_hist_destroy (&h);
        }
        r.n_metrics = 2;
        snprintf (r.counters[0].name, sizeof r.counters[0].name, "ops");
        r.counters[0].value = 300;
        r.n_counters = 1;
        fb_err_t err = {0};
        assert_int_equal (fb_merge_report (&stats, &r, s_kind, NULL, s_on_metric, &seen, &err), 0);
        for (int m = 0; m < 2; m++)
            free (r.metrics[m].hist);
    }
    assert_int_equal (seen.calls, 60);
    assert_int_equal (seen.samples, 2 * 30 * 300);
    assert_int_equal (stats.counters[fb_stats_find_counter (&stats, "ops")], 30 * 300);
    for (int m = 0; m < 2; m++) {
        const fb_hist_compact_t *c = fb_stats_find_metric (&stats, names[m]);
        assert_non_null (c);
        assert_int_equal (fb_hist_compact_count (c), fb_hist_count (full[m]));
        int used = 0;
        fb_hist_iter_t it;
        fb_hist_iter_init (&it, full[m]);
        while (fb_hist_iter_next (&it)) {
            fb_hist_compact_bucket_t b;
            fb_hist_compact_bucket (c, used++, &b);
            assert_int_equal (b.index, it.index);
            assert_int_equal (b.count, it.count);
        }
        /* The host keeps the buckets its samples used, a fraction of the range's ~23 000. */
        assert_int_equal (fb_hist_compact_buckets (c), used);
        assert_true (used < 9000);
        static const double p[] = {0, 50, 90, 99, 99.9, 100};
        for (int i = 0; i < 6; i++)
            assert_int_equal (fb_hist_compact_value_at_percentile (c, p[i]),
                              fb_hist_value_at_percentile (full[m], p[i]));
        assert_true (fb_hist_compact_mean (c) == fb_hist_mean (full[m]));
        fb_hist_destroy (&full[m]);
    }
    /* A reader of many hosts keeps one metric: the other goes, the counters stay. */
    int64_t latency_count = fb_hist_compact_count (fb_stats_find_metric (&stats, "latency"));
    fb_stats_keep_metric (&stats, "service");
    assert_int_equal (stats.n_metrics, 1);
    assert_null (fb_stats_find_metric (&stats, "latency"));
    assert_int_equal (fb_hist_compact_count (fb_stats_find_metric (&stats, "service")),
                      latency_count);
    assert_int_equal (stats.counters[fb_stats_find_counter (&stats, "ops")], 30 * 300);
    fb_stats_clear (&stats);
}

static void test_a_bad_histogram_names_its_metric (void **state) {
    (void)state;
    fb_stats_t stats;
    fb_stats_init (&stats);
    fb_report_t r;
    memset (&r, 0, sizeof r);
    uint8_t junk[16] = {0x1c, 0x84, 0x93, 0x14, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    snprintf (r.metrics[0].name, sizeof r.metrics[0].name, "latency");
    r.metrics[0].hist = junk;
    r.metrics[0].hist_len = sizeof junk;
    r.n_metrics = 1;
    fb_err_t err = {0};
    assert_int_equal (fb_merge_report (&stats, &r, s_kind, NULL, NULL, NULL, &err), -1);
    assert_non_null (strstr (err.msg, "latency"));
    assert_null (fb_stats_find_metric (&stats, "latency"));
    fb_stats_clear (&stats);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reports_merge_exactly_into_compact_host_stats),
        cmocka_unit_test (test_a_bad_histogram_names_its_metric),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

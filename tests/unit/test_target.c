/* test_target.c: parsing targets and gates, and judging them against merged stats. */
#include "common/stats.h"
#include "coordinator/target.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* A test-only kind with its own metrics and one counter of every unit. */
static const char *const s_metrics[] = {"dispatch", "completion", NULL};
static const fb_counter_spec_t s_counters[] = {
    {"overflows", FB_COUNTER_SUM, ""},
    {"queue_peak", FB_COUNTER_MAX, "B"},
    {"stall", FB_COUNTER_SUM, "ns"},
    {NULL, FB_COUNTER_SUM, NULL},
};
static const fb_param_spec_t s_no_params[] = {{NULL, 0, NULL, 0, 0, NULL, NULL}};
static const fb_workload_t s_fake = {
    .kind = "fakebus", .params = s_no_params, .metrics = s_metrics, .counters = s_counters};

static fb_target_t s_parse_ok (const char *text) {
    fb_target_t target;
    fb_err_t err = {0};
    int rc = fb_target_parse (text, &s_fake, &target, &err);
    if (rc != 0)
        print_error ("%s: %s\n", text, err.msg);
    assert_int_equal (rc, 0);
    return target;
}

static void s_parse_fails (const char *text, const char *message) {
    fb_target_t target;
    fb_err_t err = {0};
    assert_int_equal (fb_target_parse (text, &s_fake, &target, &err), -1);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, message))
        print_error ("got \"%s\", expected \"%s\"\n", err.msg, message);
    assert_non_null (strstr (err.msg, message));
}

static void test_percentile_target_is_on_latency_in_ns (void **state) {
    (void)state;
    fb_target_t t = s_parse_ok ("p95 < 120us");
    assert_int_equal (t.measure.stat, FB_STAT_PERCENTILE);
    assert_string_equal (t.measure.metric, "latency");
    assert_true (t.measure.percentile == 95.0);
    assert_int_equal (t.cmp, FB_CMP_LT);
    assert_true (t.value == 120000.0);
    assert_string_equal (t.text, "p95 < 120us");
    t = s_parse_ok ("p99.9<=1.5ms");
    assert_true (t.measure.percentile == 99.9);
    assert_int_equal (t.cmp, FB_CMP_LE);
    assert_true (t.value == 1500000.0);
}

static void test_named_metric_and_simple_stats (void **state) {
    (void)state;
    fb_target_t t = s_parse_ok ("dispatch.p99 < 1ms");
    assert_string_equal (t.measure.metric, "dispatch");
    assert_true (t.measure.percentile == 99.0);
    t = s_parse_ok ("completion.p99.9 < 2ms");
    assert_string_equal (t.measure.metric, "completion");
    assert_true (t.measure.percentile == 99.9);
    t = s_parse_ok ("sched_lag.max < 10ms");
    assert_string_equal (t.measure.metric, "sched_lag");
    assert_int_equal (t.measure.stat, FB_STAT_MAX);
    t = s_parse_ok ("mean >= 1us");
    assert_int_equal (t.measure.stat, FB_STAT_MEAN);
    assert_int_equal (t.cmp, FB_CMP_GE);
    t = s_parse_ok ("service.min > 0ns");
    assert_int_equal (t.measure.stat, FB_STAT_MIN);
    assert_int_equal (t.cmp, FB_CMP_GT);
}

static void test_throughput_errors_and_counters_take_their_units (void **state) {
    (void)state;
    fb_target_t t = s_parse_ok ("throughput > 5000/s");
    assert_int_equal (t.measure.stat, FB_STAT_THROUGHPUT);
    assert_true (t.value == 5000.0);
    t = s_parse_ok ("errors < 0.1%");
    assert_int_equal (t.measure.stat, FB_STAT_ERRORS);
    assert_true (t.value > 0.00099 && t.value < 0.00101);
    t = s_parse_ok ("rss < 50MB");
    assert_int_equal (t.measure.stat, FB_STAT_COUNTER);
    assert_string_equal (t.measure.metric, "rss");
    assert_true (t.value == 50.0 * 1024 * 1024);
    t = s_parse_ok ("overflows <= 0");
    assert_string_equal (t.measure.metric, "overflows");
    assert_true (t.value == 0.0);
    t = s_parse_ok ("queue_peak < 64KB");
    assert_true (t.value == 65536.0);
    t = s_parse_ok ("cpu < 2s");
    assert_true (t.value == 2e9);
    t = s_parse_ok ("stall < 5ms");
    assert_true (t.value == 5e6);
}

static void test_wrong_unit_for_the_measure_is_an_error (void **state) {
    (void)state;
    s_parse_fails ("p95 < 120", "target \"p95 < 120\": expected a duration with a unit");
    s_parse_fails ("p95 < 5000/s", "expected a duration with a unit");
    s_parse_fails ("throughput > 5000", "expected a rate with a unit (/s, /ms, /m)");
    s_parse_fails ("throughput > 5ms", "expected a rate");
    s_parse_fails ("errors < 0.001", "expected a percentage");
    s_parse_fails ("rss < 50", "expected a size with a unit (B, KB, MB, GB)");
    s_parse_fails ("overflows < 5ms", "expected a number");
    s_parse_fails ("overflows < -1", "not negative");
}

static void test_unknown_measure_lists_what_exists (void **state) {
    (void)state;
    s_parse_fails ("p9x < 1ms", "unknown measure \"p9x\"");
    s_parse_fails ("p9x < 1ms", "dispatch, completion");
    s_parse_fails ("p9x < 1ms", "overflows, queue_peak, stall");
    s_parse_fails ("bogus.p99 < 1ms", "unknown measure \"bogus.p99\"");
    s_parse_fails ("dispatch < 1ms", "\"dispatch\" is a latency metric");
    s_parse_fails ("dispatch.p99x < 1ms", "unknown measure");
}

/* Percentiles outside (0, 100], NaN and infinities are refused as such, by name. */
static void test_percentile_outside_0_to_100_is_refused (void **state) {
    (void)state;
    const char *why = "must be a number above 0 and at most 100";
    s_parse_fails ("p101 < 1ms", "percentile \"p101\"");
    s_parse_fails ("p101 < 1ms", why);
    s_parse_fails ("p0 < 1ms", why);
    s_parse_fails ("p-5 < 1ms", why);
    s_parse_fails ("p1e2 < 1ms", why);
    s_parse_fails ("pnan < 1ms", why);
    s_parse_fails ("pNaN < 1ms", why);
    s_parse_fails ("pinf < 1ms", why);
    s_parse_fails ("p100.0001 < 1ms", why);
    s_parse_fails ("dispatch.p101 < 1ms", "percentile \"p101\"");
    s_parse_fails ("dispatch.pnan < 1ms", why);
}

static void test_missing_parts_are_errors (void **state) {
    (void)state;
    s_parse_fails ("p95 120us", "got no operator");
    s_parse_fails ("p95 = 120us", "got no operator");
    s_parse_fails ("< 120us", "expected a measure such as p95");
    s_parse_fails ("p95 <", "got nothing");
    s_parse_fails ("p95 << 1ms", "expected a duration");
    s_parse_fails ("p95 < 1ms 2ms", "expected a duration");
    s_parse_fails ("p95 < 1ms and a very long tail that goes on and on and on until the target is "
                   "far too long to fit in the space that a target has",
                   "at most 95");
}

/* Stats of one run: latency samples 1..1000 us, 10000 ops over 2 s, 5 errors. */
static void s_fill (fb_stats_t *stats, int64_t scale_ns) {
    fb_err_t err = {0};
    fb_stats_init (stats);
    fb_hist_compact_t *lat = fb_stats_metric (stats, "latency", &err);
    fb_hist_t *recorded = fb_hist_new_default (&err);
    assert_non_null (lat);
    assert_non_null (recorded);
    for (int64_t v = 1; v <= 1000; v++)
        fb_hist_record (recorded, v * scale_ns);
    assert_int_equal (fb_hist_compact_merge_hist (lat, recorded, &err), 0);
    fb_hist_destroy (&recorded);
    assert_int_equal (fb_stats_add_counter (stats, "ops", FB_COUNTER_SUM, 10000, &err), 0);
    assert_int_equal (fb_stats_add_counter (stats, "errors", FB_COUNTER_SUM, 5, &err), 0);
    assert_int_equal (fb_stats_add_counter (stats, "rss", FB_COUNTER_MAX, 40 << 20, &err), 0);
    stats->measured_ns = 2000000000LL;
}

static void test_judge_reads_percentiles_throughput_errors_counters (void **state) {
    (void)state;
    fb_stats_t stats;
    s_fill (&stats, 1000);
    double actual = 0;
    bool held = false;
    fb_err_t err = {0};
    fb_target_t t = s_parse_ok ("p95 < 1ms");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_true (actual >= 949000 && actual <= 951000); /* 3 significant digits */
    assert_true (held);
    t = s_parse_ok ("p95 < 900us");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_false (held);
    t = s_parse_ok ("throughput > 5000/s");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_true (actual == 5000.0);
    assert_false (held); /* exactly 5000 is not above 5000 */
    t = s_parse_ok ("throughput >= 5000/s");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_true (held);
    t = s_parse_ok ("errors < 0.1%");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_true (actual == 0.0005);
    assert_true (held);
    t = s_parse_ok ("rss < 50MB");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), 0);
    assert_true (actual == 40.0 * 1024 * 1024);
    assert_true (held);
    fb_stats_clear (&stats);
}

static void test_judge_without_data_is_an_error (void **state) {
    (void)state;
    fb_stats_t stats;
    fb_stats_init (&stats);
    double actual = 0;
    bool held = false;
    fb_err_t err = {0};
    fb_target_t t = s_parse_ok ("dispatch.p99 < 1ms");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), -1);
    assert_non_null (strstr (err.msg, "no metric \"dispatch\""));
    t = s_parse_ok ("errors < 1%");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), -1);
    assert_int_equal (fb_stats_add_counter (&stats, "ops", FB_COUNTER_SUM, 0, &err), 0);
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), -1);
    assert_non_null (strstr (err.msg, "no operation was measured"));
    assert_non_null (fb_stats_metric (&stats, "latency", &err));
    t = s_parse_ok ("p50 < 1ms");
    assert_int_equal (fb_target_judge (&t, &stats, &actual, &held, &err), -1);
    assert_non_null (strstr (err.msg, "no operation was measured"));
    fb_stats_clear (&stats);
}

static void test_gate_allows_regression_up_to_the_fraction (void **state) {
    (void)state;
    fb_stats_t base, same, slower;
    s_fill (&base, 1000);
    s_fill (&same, 1000);
    s_fill (&slower, 1300); /* 30% slower */
    fb_gate_t gate = {.max_regression = 0.2};
    fb_err_t err = {0};
    assert_int_equal (fb_target_measure_parse ("p95", &s_fake, &gate.measure, &err), 0);
    double actual = 0, base_value = 0;
    bool held = false;
    assert_int_equal (fb_target_gate_judge (&gate, &same, &base, &actual, &base_value, &held, &err),
                      0);
    assert_true (held);
    assert_int_equal (
        fb_target_gate_judge (&gate, &slower, &base, &actual, &base_value, &held, &err), 0);
    assert_false (held);
    gate.max_regression = 0.35;
    assert_int_equal (
        fb_target_gate_judge (&gate, &slower, &base, &actual, &base_value, &held, &err), 0);
    assert_true (held);
    fb_stats_clear (&base);
    fb_stats_clear (&same);
    fb_stats_clear (&slower);
}

static void test_throughput_gate_fails_when_lower (void **state) {
    (void)state;
    fb_stats_t base, cur;
    s_fill (&base, 1000);
    s_fill (&cur, 1000);
    cur.measured_ns = 2600000000LL; /* same ops over 30% longer: ~23% lower throughput */
    fb_gate_t gate = {.max_regression = 0.2};
    fb_err_t err = {0};
    assert_int_equal (fb_target_measure_parse ("throughput", &s_fake, &gate.measure, &err), 0);
    assert_true (fb_target_measure_higher_is_better (&gate.measure));
    double actual = 0, base_value = 0;
    bool held = true;
    assert_int_equal (fb_target_gate_judge (&gate, &cur, &base, &actual, &base_value, &held, &err),
                      0);
    assert_true (base_value == 5000.0);
    assert_false (held);
    cur.measured_ns = 2400000000LL; /* ~17% lower */
    assert_int_equal (fb_target_gate_judge (&gate, &cur, &base, &actual, &base_value, &held, &err),
                      0);
    assert_true (held);
    fb_stats_clear (&base);
    fb_stats_clear (&cur);
}

static void test_merge_adds_histograms_and_counters_by_kind (void **state) {
    (void)state;
    fb_stats_t a, b, fleet;
    s_fill (&a, 1000);
    s_fill (&b, 1000);
    fb_err_t err = {0};
    assert_int_equal (fb_stats_add_counter (&b, "rss", FB_COUNTER_MAX, 60 << 20, &err), 0);
    fb_stats_init (&fleet);
    assert_int_equal (fb_stats_merge (&fleet, &a, &err), 0);
    assert_int_equal (fb_stats_merge (&fleet, &b, &err), 0);
    assert_int_equal (fb_hist_compact_count (fb_stats_find_metric (&fleet, "latency")), 2000);
    assert_int_equal (fleet.counters[fb_stats_find_counter (&fleet, "ops")], 20000);
    assert_int_equal (fleet.counters[fb_stats_find_counter (&fleet, "rss")], 60 << 20);
    assert_int_equal (fleet.measured_ns, 2000000000LL);
    double actual = 0;
    fb_measure_t m;
    assert_int_equal (fb_target_measure_parse ("throughput", &s_fake, &m, &err), 0);
    assert_int_equal (fb_target_measure_value (&m, &fleet, &actual, &err), 0);
    assert_true (actual == 10000.0);
    fb_stats_clear (&a);
    fb_stats_clear (&b);
    fb_stats_clear (&fleet);
}

static void test_stats_refuse_more_metrics_than_fit (void **state) {
    (void)state;
    fb_stats_t stats;
    fb_stats_init (&stats);
    fb_err_t err = {0};
    char name[16];
    for (int i = 0; i < FB_MAX_METRICS; i++) {
        snprintf (name, sizeof name, "m%d", i);
        assert_non_null (fb_stats_metric (&stats, name, &err));
    }
    assert_null (fb_stats_metric (&stats, "one_more", &err));
    assert_non_null (strstr (err.msg, "more than"));
    assert_non_null (fb_stats_metric (&stats, "m0", &err)); /* existing ones still found */
    fb_stats_clear (&stats);
    assert_int_equal (stats.n_metrics, 0);
}

static void test_format_uses_the_measure_unit (void **state) {
    (void)state;
    char buf[32];
    fb_target_t t = s_parse_ok ("p99 < 1ms");
    assert_string_equal (fb_target_measure_format (&t.measure, &s_fake, 1230000, buf, sizeof buf),
                         "1.23ms");
    t = s_parse_ok ("throughput > 1/s");
    assert_string_equal (fb_target_measure_format (&t.measure, &s_fake, 5012.4, buf, sizeof buf),
                         "5012/s");
    t = s_parse_ok ("errors < 1%");
    assert_string_equal (fb_target_measure_format (&t.measure, &s_fake, 0.0005, buf, sizeof buf),
                         "0.05%");
    t = s_parse_ok ("rss < 1GB");
    assert_string_equal (
        fb_target_measure_format (&t.measure, &s_fake, 48.0 * 1048576, buf, sizeof buf), "48MB");
    t = s_parse_ok ("overflows < 10");
    assert_string_equal (fb_target_measure_format (&t.measure, &s_fake, 7, buf, sizeof buf), "7");
}

static void test_capacity_is_a_rate_and_higher_is_better (void **state) {
    (void)state;
    char buf[32];
    fb_target_t t = s_parse_ok ("capacity > 20000/s");
    assert_int_equal (t.measure.stat, FB_STAT_COUNTER);
    assert_true (t.value == 20000);
    assert_string_equal (fb_target_measure_format (&t.measure, &s_fake, 24414, buf, sizeof buf),
                         "24414/s");
    assert_true (fb_target_measure_higher_is_better (&t.measure));
    t = s_parse_ok ("rss < 1GB");
    assert_false (fb_target_measure_higher_is_better (&t.measure));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_percentile_target_is_on_latency_in_ns),
        cmocka_unit_test (test_named_metric_and_simple_stats),
        cmocka_unit_test (test_throughput_errors_and_counters_take_their_units),
        cmocka_unit_test (test_wrong_unit_for_the_measure_is_an_error),
        cmocka_unit_test (test_unknown_measure_lists_what_exists),
        cmocka_unit_test (test_percentile_outside_0_to_100_is_refused),
        cmocka_unit_test (test_missing_parts_are_errors),
        cmocka_unit_test (test_judge_reads_percentiles_throughput_errors_counters),
        cmocka_unit_test (test_judge_without_data_is_an_error),
        cmocka_unit_test (test_gate_allows_regression_up_to_the_fraction),
        cmocka_unit_test (test_throughput_gate_fails_when_lower),
        cmocka_unit_test (test_merge_adds_histograms_and_counters_by_kind),
        cmocka_unit_test (test_stats_refuse_more_metrics_than_fit),
        cmocka_unit_test (test_format_uses_the_measure_unit),
        cmocka_unit_test (test_capacity_is_a_rate_and_higher_is_better),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

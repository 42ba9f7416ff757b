/* test_metrics.c: the Prometheus text of a known run: bucket counts at the documented
 * boundaries, the fleet's as the hosts' sum, counters and states. */
#include "coordinator/metrics.h"

#include "common/hist_compact.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char s_yaml[] = "name: known\n"
                             "agents: { expect: 2 }\n"
                             "defaults: { duration: 2s, warmup: 0s, interval: 1s }\n"
                             "workloads:\n"
                             "  - { name: bus, kind: eventbus }\n";

static fb_host_t *s_host (fb_run_t *run, const char *id, const int64_t *values, int n,
                          int64_t ops) {
    fb_host_t *h = fb_run_add_host (run, id, NULL);
    assert_non_null (h);
    h->state = FB_HOST_RUNNING;
    h->reports = 1;
    fb_hist_compact_t *lat = fb_stats_metric (&h->stats[0], "latency", NULL);
    fb_hist_t *full = fb_hist_new_default (NULL);
    assert_non_null (lat);
    assert_non_null (full);
    for (int i = 0; i < n; i++)
        fb_hist_record (full, values[i]);
    assert_int_equal (fb_hist_compact_merge_hist (lat, full, NULL), 0);
    fb_hist_destroy (&full);
    fb_stats_add_counter (&h->stats[0], "ops", FB_COUNTER_SUM, ops, NULL);
    fb_stats_add_counter (&h->stats[0], "rss", FB_COUNTER_MAX, 4096, NULL);
    return h;
}

/* The value of the line that starts with series, -1 when there is none. */
static double s_value (const char *text, const char *series) {
    size_t len = strlen (series);
    for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp (p, series, len) == 0 && p[len] == ' ')
            return atof (p + len + 1);
    return -1;
}

static void test_buckets_hosts_and_fleet (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_parse (s_yaml, strlen (s_yaml), "known.yaml", &err);
    assert_non_null (sc);
    fb_run_t *run = calloc (1, sizeof *run);
    assert_non_null (run);
    run->sc = sc;
    snprintf (run->run_id, sizeof run->run_id, "r1");
    /* 1000 ns sits in a bucket of its own (le 1e-06); 1001 ns does not; 3 ms and 70 s. */
    const int64_t a[] = {1000, 1001, 3000000, 70000000000LL};
    const int64_t b[] = {1000, 1000};
    s_host (run, "a", a, 4, 40);
    fb_host_t *hb = s_host (run, "b", b, 2, 2);
    hb->state = FB_HOST_DONE;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    fb_metrics_render (run, "run", out);
    fclose (out);
    const char *h = "fleetbench_latency_seconds_bucket{host=\"a\",workload=\"bus\",le=";
    char series[200];
    const char *const le[] = {"1e-06", "2e-06", "0.002", "0.005", "60", "+Inf"};
    const double want[] = {1, 2, 2, 3, 3, 4};
    for (int i = 0; i < 6; i++) {
        snprintf (series, sizeof series, "%s\"%s\"}", h, le[i]);
        assert_float_equal (s_value (text, series), want[i], 0);
    }
    assert_float_equal (
        s_value (text, "fleetbench_latency_seconds_count{host=\"a\",workload=\"bus\"}"), 4, 0);
    assert_float_equal (
        s_value (text, "fleetbench_fleet_latency_seconds_bucket{workload=\"bus\",le=\"1e-06\"}"), 3,
        0);
    assert_float_equal (
        s_value (text, "fleetbench_fleet_latency_seconds_bucket{workload=\"bus\",le=\"+Inf\"}"), 6,
        0);
    assert_float_equal (s_value (text, "fleetbench_fleet_ops_total{workload=\"bus\"}"), 42, 0);
    assert_float_equal (s_value (text, "fleetbench_ops_total{host=\"b\",workload=\"bus\"}"), 2, 0);
    assert_float_equal (
        s_value (text, "fleetbench_fleet_workload_peak{workload=\"bus\",name=\"rss\",unit=\"B\"}"),
        4096, 0);
    assert_float_equal (s_value (text, "fleetbench_run_phase{phase=\"run\"}"), 1, 0);
    assert_float_equal (s_value (text, "fleetbench_run_hosts{state=\"done\"}"), 1, 0);
    assert_float_equal (
        s_value (text, "fleetbench_workload_state{host=\"a\",workload=\"bus\",state=\"measure\"}"),
        1, 0);
    assert_float_equal (
        s_value (text, "fleetbench_workload_state{host=\"b\",workload=\"bus\",state=\"done\"}"), 1,
        0);
    /* Every family is announced once, before its samples. */
    assert_non_null (strstr (text, "# TYPE fleetbench_latency_seconds histogram\n"));
    assert_null (strstr (strstr (text, "# TYPE fleetbench_latency_seconds ") + 1,
                         "# TYPE fleetbench_latency_seconds "));
    free (text);
    fb_run_clear (run);
    free (run);
    fb_scenario_destroy (&sc);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_buckets_hosts_and_fleet),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

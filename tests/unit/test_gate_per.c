/* test_gate_per.c: gates per host, board or CPU judged on synthetic intervals against a
 * baseline's same host or group: a slow host the fleet merge hides, a host the baseline
 * lacks, hosts of one board merged interval by interval. */
#include "common/hist.h"
#include "coordinator/compat.h"
#include "coordinator/gate_per.h"
#include "coordinator/inference.h"
#include "coordinator/samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakerun.h"

#define T_US 1000LL
#define T_RUNS 3
#define T_INTERVALS 20

/* T_RUNS runs of T_INTERVALS intervals, per_interval operations each spread over level
 * +-10 %, each run's level a little off the others (run-to-run variance). */
static fb_samples_t *s_samples (int per_interval, double level) {
    fb_samples_t *s = fb_samples_new (NULL);
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (s);
    assert_non_null (h);
    for (int r = 0; r < T_RUNS; r++) {
        assert_int_equal (fb_samples_begin_run (s, NULL), 0);
        for (int i = 0; i < T_INTERVALS; i++) {
            fb_hist_reset (h);
            for (int k = 0; k < per_interval; k++) {
                double spread = 0.9 + 0.2 * ((k * 37 + i * 11 + r * 5) % 100) / 100.0;
                fb_hist_record (h, (int64_t)(level * spread * (1 + 0.01 * (r % 3 - 1))));
            }
            assert_int_equal (fb_samples_add_hist (s, i, "latency", h, NULL), 0);
            assert_int_equal (fb_samples_add_counts (s, i, per_interval, 0, T_S, NULL), 0);
        }
    }
    fb_hist_destroy (&h);
    return s;
}

/* A baseline of workload w0 with n hosts (id, board, samples or NULL for none). */
static json_t *s_baseline (int n, const char *const *ids, const char *const *boards,
                           fb_samples_t **samples) {
    json_t *fps = json_array (), *hosts = json_object ();
    for (int i = 0; i < n; i++) {
        json_array_append_new (fps, json_pack ("{s:s,s:{s:s,s:s,s:i,s:s}}", "id", ids[i],
                                               "fingerprint", "cpu_model", "cpu", "board",
                                               boards[i], "cores", 0, "kernel", ""));
        json_t *hj = json_object ();
        if (samples[i])
            json_object_set_new (hj, "samples", fb_samples_json_encode (samples[i]));
        json_object_set_new (hosts, ids[i], hj);
        fb_samples_destroy (&samples[i]);
    }
    return json_pack ("{s:[{s:o}],s:[{s:s,s:o}]}", "runs", "hosts", fps, "workloads", "name", "w0",
                      "hosts", hosts);
}

static fb_host_t *s_host (t_fake_t *f, const char *id, const char *board, fb_samples_t *samples) {
    fb_host_t *h = t_fake_host (f, id, board, "cpu");
    h->samples[0] = samples;
    return h;
}

static void s_gate (const t_fake_t *f, fb_per_t per, fb_gate_t *gate) {
    memset (gate, 0, sizeof *gate);
    assert_int_equal (fb_target_measure_parse ("p95", f->sc.workloads[0].wl, &gate->measure, NULL),
                      0);
    gate->max_regression = 0.2;
    gate->per = per;
}

static void s_judge (const t_fake_t *f, fb_per_t per, const json_t *baseline, fb_verdict_t *v) {
    fb_gate_t gate;
    s_gate (f, per, &gate);
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    memset (v, 0, sizeof *v);
    v->gate = true;
    fb_err_t err = {0};
    int rc = fb_gate_per_judge (&f->run, 0, &gate, baseline, 0, &opts, v, &err);
    if (rc != 0)
        print_error ("%s\n", err.msg);
    assert_int_equal (rc, 0);
}

static void s_assert_has (const char *text, const char *want) {
    if (!strstr (text, want))
        print_error ("\"%s\" not in \"%s\"\n", want, text);
    assert_non_null (strstr (text, want));
}

static void test_a_slow_host_fails_per_host_while_the_fleet_merge_does_not (void **state) {
    (void)state;
    /* a, b, c: 300 operations an interval at 100 us, unchanged; d: 5 an interval, its p95
     * twice the baseline's. d's 5 of 905 do not move the fleet's p95. */
    const char *ids[] = {"a", "b", "c", "d"}, *boards[] = {"X", "X", "X", "X"};
    fb_samples_t *base[] = {s_samples (300, 100 * T_US), s_samples (300, 100 * T_US),
                            s_samples (300, 100 * T_US), s_samples (5, 100 * T_US)};
    fb_samples_t *fleet_base = fb_samples_new (NULL), *fleet_now = fb_samples_new (NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal (fb_samples_merge (fleet_base, base[i], NULL), 0);
    json_t *baseline = s_baseline (4, ids, boards, base);
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (300, 100 * T_US));
    s_host (f, "b", "X", s_samples (300, 100 * T_US));
    s_host (f, "c", "X", s_samples (300, 100 * T_US));
    s_host (f, "d", "X", s_samples (5, 200 * T_US));
    for (int i = 0; i < 4; i++)
        assert_int_equal (fb_samples_merge (fleet_now, f->run.hosts[i]->samples[0], NULL), 0);

    fb_verdict_t v;
    s_judge (f, FB_PER_HOST, baseline, &v);
    assert_int_equal (v.state, FB_VERDICT_FAILED);
    assert_string_equal (v.failed_on, "host d");
    s_assert_has (v.detail, "failed on 1 of 4 hosts: d ");
    assert_int_equal (v.n_groups, 4);
    for (int g = 0; g < 3; g++)
        assert_int_equal (v.groups[g].state, FB_VERDICT_HELD);
    assert_int_equal (v.groups[3].state, FB_VERDICT_FAILED);
    assert_true (v.groups[3].has_decision);
    assert_true (v.groups[3].decision.ratio.lo > 1.2);

    /* the same data merged over the fleet: no failure shown */
    fb_gate_t gate;
    s_gate (f, FB_PER_FLEET, &gate);
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    fb_inference_decision_t d;
    assert_int_equal (
        fb_inference_compare (fleet_now, fleet_base, &gate.measure, 0.2, &opts, &d, NULL), 0);
    assert_int_not_equal (d.verdict, FB_INFERENCE_FAILED);

    fb_run_clear_verdict (&v);
    fb_samples_destroy (&fleet_base);
    fb_samples_destroy (&fleet_now);
    json_decref (baseline);
    t_fake_destroy (&f);
}

static void test_a_host_missing_from_the_baseline_is_incomparable (void **state) {
    (void)state;
    /* the baseline has a, b and z; this run a, b and c: c is incomparable, z is ignored */
    const char *ids[] = {"a", "b", "z"}, *boards[] = {"X", "X", "X"};
    fb_samples_t *base[] = {s_samples (100, 100 * T_US), s_samples (100, 100 * T_US),
                            s_samples (100, 900 * T_US)};
    json_t *baseline = s_baseline (3, ids, boards, base);
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (100, 100 * T_US));
    s_host (f, "b", "X", s_samples (100, 100 * T_US));
    s_host (f, "c", "X", s_samples (100, 100 * T_US));
    fb_verdict_t v;
    s_judge (f, FB_PER_HOST, baseline, &v);
    assert_int_equal (v.state, FB_VERDICT_INCOMPARABLE);
    assert_string_equal (v.failed_on, "host c");
    s_assert_has (v.detail, "incomparable on 1 of 3 hosts: c incomparable: the baseline has no "
                            "host c");
    assert_int_equal (v.groups[0].state, FB_VERDICT_HELD);
    assert_int_equal (v.groups[1].state, FB_VERDICT_HELD);
    fb_run_clear_verdict (&v);
    json_decref (baseline);
    t_fake_destroy (&f);
}

static void test_a_baseline_without_host_samples_is_incomparable_not_an_error (void **state) {
    (void)state;
    const char *ids[] = {"a"}, *boards[] = {"X"};
    fb_samples_t *base[] = {NULL}; /* a baseline saved before hosts kept their intervals */
    json_t *baseline = s_baseline (1, ids, boards, base);
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (100, 100 * T_US));
    fb_verdict_t v;
    s_judge (f, FB_PER_HOST, baseline, &v);
    assert_int_equal (v.state, FB_VERDICT_INCOMPARABLE);
    s_assert_has (v.detail, "the baseline keeps no samples of host a");
    fb_run_clear_verdict (&v);
    json_decref (baseline);
    t_fake_destroy (&f);
}

static void test_hosts_of_one_board_are_merged_interval_by_interval (void **state) {
    (void)state;
    /* board X: a and b, unchanged; board Y: c, 3x slower */
    const char *ids[] = {"a", "b", "c"}, *boards[] = {"X", "X", "Y"};
    fb_samples_t *base[] = {s_samples (100, 100 * T_US), s_samples (100, 300 * T_US),
                            s_samples (100, 100 * T_US)};
    json_t *baseline = s_baseline (3, ids, boards, base);
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (100, 100 * T_US));
    s_host (f, "c", "Y", s_samples (100, 300 * T_US));
    s_host (f, "b", "X", s_samples (100, 300 * T_US));
    fb_verdict_t v;
    s_judge (f, FB_PER_BOARD, baseline, &v);
    assert_int_equal (v.state, FB_VERDICT_FAILED);
    assert_string_equal (v.failed_on, "board Y");
    assert_int_equal (v.n_groups, 2);
    const fb_verdict_group_t *x = &v.groups[0];
    assert_string_equal (x->name, "X");
    assert_int_equal (x->n_hosts, 2);
    assert_int_equal (x->state, FB_VERDICT_HELD);
    /* merged slot by slot: as many intervals as one host has, and b's slow half in the p95 */
    assert_int_equal (x->decision.current.intervals, T_RUNS * T_INTERVALS);
    assert_int_equal (x->decision.baseline.intervals, T_RUNS * T_INTERVALS);
    assert_true (x->decision.current.point > 250 * T_US);
    assert_string_equal (v.groups[1].name, "Y");
    assert_int_equal (v.groups[1].state, FB_VERDICT_FAILED);
    fb_run_clear_verdict (&v);
    json_decref (baseline);
    t_fake_destroy (&f);
}

static void
test_a_host_on_other_hardware_than_its_baseline_counterpart_is_incomparable (void **state) {
    (void)state;
    const char *ids[] = {"a", "b"}, *boards[] = {"X", "X"};
    fb_samples_t *base[] = {s_samples (100, 100 * T_US), s_samples (100, 100 * T_US)};
    json_t *baseline = s_baseline (2, ids, boards, base);
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (100, 100 * T_US));
    s_host (f, "b", "X", s_samples (100, 100 * T_US))->hello.fp.cores = 8; /* 0 in the baseline */
    fb_verdict_t v;
    s_judge (f, FB_PER_HOST, baseline, &v);
    assert_int_equal (v.state, FB_VERDICT_INCOMPARABLE);
    assert_string_equal (v.failed_on, "host b");
    s_assert_has (v.detail, "b incomparable: baseline ran on cpu on X, 0 cores, kernel 0, this run "
                            "on cpu on X, 8 cores, kernel 0");
    assert_int_equal (v.groups[0].state, FB_VERDICT_HELD);
    fb_run_clear_verdict (&v);
    /* allowed: judged */
    fb_gate_t gate;
    s_gate (f, FB_PER_HOST, &gate);
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    memset (&v, 0, sizeof v);
    assert_int_equal (
        fb_gate_per_judge (&f->run, 0, &gate, baseline, FB_COMPAT_HOST, &opts, &v, NULL), 0);
    assert_int_equal (v.state, FB_VERDICT_HELD);
    fb_run_clear_verdict (&v);
    json_decref (baseline);
    t_fake_destroy (&f);
}

static void test_a_corrupt_host_sample_names_the_host (void **state) {
    (void)state;
    const char *ids[] = {"a"}, *boards[] = {"X"};
    fb_samples_t *base[] = {s_samples (10, 100 * T_US)};
    json_t *baseline = s_baseline (1, ids, boards, base);
    json_t *iv = json_array_get (
        json_object_get (
            json_array_get (
                json_object_get (
                    json_object_get (
                        json_object_get (
                            json_object_get (
                                json_array_get (json_object_get (baseline, "workloads"), 0),
                                "hosts"),
                            "a"),
                        "samples"),
                    "runs"),
                0),
            "intervals"),
        0);
    json_object_set_new (json_object_get (iv, "metrics"), "latency", json_string ("@@not base64"));
    fb_err_t err = {0};
    assert_int_equal (fb_gate_per_check_baseline (baseline, "w0", &err), -1);
    s_assert_has (err.msg, "workload w0: host a: samples: run 1 interval 1: metric latency is not "
                           "base64");
    /* and judging refuses it too, never a pass */
    t_fake_t *f = t_fake_new (1);
    s_host (f, "a", "X", s_samples (10, 100 * T_US));
    fb_gate_t gate;
    s_gate (f, FB_PER_HOST, &gate);
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    fb_verdict_t v;
    memset (&v, 0, sizeof v);
    assert_int_equal (fb_gate_per_judge (&f->run, 0, &gate, baseline, 0, &opts, &v, &err), -1);
    fb_run_clear_verdict (&v);
    json_decref (baseline);
    t_fake_destroy (&f);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_slow_host_fails_per_host_while_the_fleet_merge_does_not),
        cmocka_unit_test (test_a_host_missing_from_the_baseline_is_incomparable),
        cmocka_unit_test (test_a_baseline_without_host_samples_is_incomparable_not_an_error),
        cmocka_unit_test (test_hosts_of_one_board_are_merged_interval_by_interval),
        cmocka_unit_test (
            test_a_host_on_other_hardware_than_its_baseline_counterpart_is_incomparable),
        cmocka_unit_test (test_a_corrupt_host_sample_names_the_host),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_verdict.c: the headline counts the verdicts it speaks of. */
#include "coordinator/verdict.h"

#include "common/b64.h"
#include "coordinator/baseline.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    fb_scenario_t sc;
    fb_run_t run;
} s_fixture_t;

static s_fixture_t *s_new (void) {
    s_fixture_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    f->sc.n_workloads = 2;
    f->run.sc = &f->sc;
    return f;
}

static void s_add (s_fixture_t *f, int w, bool gate, fb_verdict_state_t state) {
    fb_verdict_t *v = &f->run.verdicts[w][f->run.n_verdicts[w]++];
    v->gate = gate;
    v->state = state;
}

static void s_assert_text (s_fixture_t *f, const char *want) {
    char text[200];
    fb_verdict_count_text (&f->run, text, sizeof text);
    assert_string_equal (text, want);
}

static void test_held_targets_and_a_skipped_gate_are_counted (void **state) {
    (void)state;
    s_fixture_t *f = s_new ();
    s_add (f, 0, false, FB_VERDICT_HELD);
    s_add (f, 0, false, FB_VERDICT_HELD);
    s_add (f, 1, false, FB_VERDICT_HELD);
    s_add (f, 1, true, FB_VERDICT_SKIPPED);
    s_assert_text (f, "3 targets held, 1 gate skipped (no baseline)");
    free (f);
}

static void test_failures_come_first (void **state) {
    (void)state;
    s_fixture_t *f = s_new ();
    s_add (f, 0, true, FB_VERDICT_HELD);
    s_add (f, 0, false, FB_VERDICT_HELD);
    s_add (f, 1, false, FB_VERDICT_FAILED);
    s_add (f, 1, true, FB_VERDICT_FAILED);
    s_add (f, 1, true, FB_VERDICT_FAILED);
    s_assert_text (f, "1 target failed, 2 gates failed, 1 target held, 1 gate held");
    free (f);
}

static void test_schedule_verdicts_are_named_as_such (void **state) {
    (void)state;
    s_fixture_t *f = s_new ();
    s_add (f, 0, false, FB_VERDICT_HELD);
    f->run.verdicts[0][0].schedule = true;
    s_add (f, 1, false, FB_VERDICT_FAILED);
    f->run.verdicts[1][0].schedule = true;
    s_add (f, 1, false, FB_VERDICT_HELD);
    s_assert_text (f, "1 schedule failed, 1 target held, 1 schedule held");
    free (f);
}

static void test_inconclusive_and_incomparable_gates_are_named (void **state) {
    (void)state;
    s_fixture_t *f = s_new ();
    s_add (f, 0, true, FB_VERDICT_INCONCLUSIVE);
    s_add (f, 0, true, FB_VERDICT_INCONCLUSIVE);
    f->run.verdicts[0][1].counts_as_failed = true;
    s_add (f, 1, true, FB_VERDICT_INCOMPARABLE);
    s_add (f, 1, false, FB_VERDICT_HELD);
    s_assert_text (f, "1 gate inconclusive (counted as failed), 1 target held, 1 gate inconclusive "
                      "(counted as passed), 1 gate incomparable");
    free (f);
}

static void test_no_verdicts_says_so (void **state) {
    (void)state;
    s_fixture_t *f = s_new ();
    s_assert_text (f, "no targets or gates");
    free (f);
}

/* One interval whose metrics are named prefix0..prefix(n-1), each one sample of 100 ns. */
static json_t *s_samples_json (const char *prefix, int n) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    fb_hist_record (h, 100);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal (fb_hist_encode (h, &bytes, &len, NULL), 0);
    char *b64 = fb_b64_encode (bytes, len);
    assert_non_null (b64);
    json_t *metrics = json_object ();
    for (int m = 0; m < n; m++) {
        char name[32];
        snprintf (name, sizeof name, "%s%d", prefix, m);
        json_object_set_new (metrics, name, json_string (b64));
    }
    free (b64);
    free (bytes);
    fb_hist_destroy (&h);
    return json_pack ("{s:[{s:[{s:i,s:i,s:i,s:i,s:o}]}]}", "runs", "intervals", "slot", 0, "ops", 1,
                      "errors", 0, "length_ns", 1000, "metrics", metrics);
}

/* Two gated workloads of five metrics each: ten names in all, more than one workload may
 * hold (FB_MAX_METRICS), yet each workload's samples are fine, and so is the baseline. */
static void test_check_baseline_reads_each_workload_on_its_own (void **state) {
    (void)state;
    const char *yaml = "name: two\n"
                       "workloads:\n"
                       "  - { name: a, kind: eventbus, gates: [ { metric: p50, max_regression: "
                       "20% } ] }\n"
                       "  - { name: b, kind: eventbus, gates: [ { metric: p50, max_regression: "
                       "20% } ] }\n";
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_parse (yaml, strlen (yaml), "two.yaml", &err);
    assert_non_null (sc);
    json_t *baseline = json_pack (
        "{s:i,s:{s:s},s:[{}],s:[{s:s,s:o},{s:s,s:o}]}", "fleetbench_baseline", FB_BASELINE_FORMAT,
        "scenario", "name", "two", "runs", "workloads", "name", "a", "samples",
        s_samples_json ("m", 5), "name", "b", "samples", s_samples_json ("n", 5));
    assert_non_null (baseline);
    char path[] = "/tmp/fb-test-baseline.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    assert_int_equal (json_dump_file (baseline, path, 0), 0);
    int rc = fb_verdict_check_baseline (sc, path, &err);
    unlink (path);
    json_decref (baseline);
    fb_scenario_destroy (&sc);
    if (rc != 0)
        fail_msg ("refused: %s", err.msg);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_held_targets_and_a_skipped_gate_are_counted),
        cmocka_unit_test (test_failures_come_first),
        cmocka_unit_test (test_schedule_verdicts_are_named_as_such),
        cmocka_unit_test (test_inconclusive_and_incomparable_gates_are_named),
        cmocka_unit_test (test_no_verdicts_says_so),
        cmocka_unit_test (test_check_baseline_reads_each_workload_on_its_own),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

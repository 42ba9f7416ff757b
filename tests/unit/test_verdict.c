/* test_verdict.c: the headline counts the verdicts it speaks of. */
#include "coordinator/verdict.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_held_targets_and_a_skipped_gate_are_counted),
        cmocka_unit_test (test_failures_come_first),
        cmocka_unit_test (test_schedule_verdicts_are_named_as_such),
        cmocka_unit_test (test_inconclusive_and_incomparable_gates_are_named),
        cmocka_unit_test (test_no_verdicts_says_so),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

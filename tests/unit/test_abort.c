/* test_abort.c: when an abort_on_fail target stops the run, and what the verdicts say then. */
#include "coordinator/abort.h"
#include "coordinator/verdict.h"

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
#define T_NOW (1000 * T_S) /* a coordinator clock reading */

static void s_target (t_fake_t *f, int w, const char *text, fb_per_t per, bool abort_on_fail,
                      int64_t delay_ns) {
    fb_target_t *t = t_fake_target (f, w, text, per);
    t->abort_on_fail = abort_on_fail;
    t->abort_delay_ns = delay_ns;
}

static void test_a_failing_target_stops_the_run_only_past_its_delay (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    s_target (f, 0, "p50 < 1us", FB_PER_HOST, true, 5 * T_S);
    fb_host_t *a = t_fake_host (f, "a", "", "cpu");
    t_fake_measure (a, 0, 100, 10 * T_US, 2 * T_S);
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW));
    assert_false (f->run.stop.stopped);
    t_fake_measure (a, 0, 100, 10 * T_US, 3 * T_S); /* 5 s measured now */
    assert_true (fb_abort_check (&f->run, 0, a, T_NOW + T_S));
    const fb_run_stop_t *stop = &f->run.stop;
    assert_true (stop->stopped);
    assert_int_equal (stop->workload, 0);
    assert_int_equal (stop->target, 0);
    assert_string_equal (stop->where, "host a");
    assert_int_equal (stop->measured_ns, 5 * T_S);
    assert_true (stop->value >= 10 * T_US * 0.99 && stop->value <= 10 * T_US * 1.01);
    assert_non_null (strstr (stop->reason, "\"p50 < 1us\" of w0 failed on host a 5.0 s into"));
    t_fake_destroy (&f);
}

static void test_a_target_that_holds_or_does_not_abort_never_stops (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    s_target (f, 0, "p50 < 1ms", FB_PER_HOST, true, 0);   /* holds */
    s_target (f, 0, "p50 < 1us", FB_PER_HOST, false, 0);  /* fails, no abort_on_fail */
    s_target (f, 0, "p50 < 1us", FB_PER_FLEET, false, 0); /* the same for the fleet */
    fb_host_t *a = t_fake_host (f, "a", "", "cpu");
    t_fake_measure (a, 0, 100, 10 * T_US, 10 * T_S);
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW));
    assert_false (f->run.stop.stopped);
    t_fake_destroy (&f);
}

static void test_nothing_measured_yet_is_no_reason_to_stop (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    s_target (f, 0, "errors < 1%", FB_PER_HOST, true, 0);
    fb_host_t *a = t_fake_host (f, "a", "", "cpu");
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW)); /* no window at all */
    a->stats[0].measured_ns = T_S; /* a window, no operation: errors cannot be had */
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW));
    t_fake_destroy (&f);
}

static void test_a_host_doing_nothing_stops_a_per_host_throughput_target (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    s_target (f, 0, "throughput >= 1000/s", FB_PER_HOST, true, T_S);
    fb_host_t *a = t_fake_host (f, "a", "", "cpu"), *b = t_fake_host (f, "b", "", "cpu");
    t_fake_measure (a, 0, 50000, 10 * T_US, 2 * T_S);
    assert_int_equal (fb_stats_add_counter (&b->stats[0], "ops", FB_COUNTER_SUM, 0, NULL), 0);
    b->stats[0].measured_ns = 2 * T_S;
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW)); /* a's own numbers hold */
    assert_true (fb_abort_check (&f->run, 0, b, T_NOW));
    assert_string_equal (f->run.stop.where, "host b");
    assert_true (f->run.stop.value == 0.0);
    t_fake_destroy (&f);
}

static void test_fleet_targets_wait_for_every_host_and_half_an_interval (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    s_target (f, 0, "p50 < 1us", FB_PER_FLEET, true, 2 * T_S);
    fb_host_t *a = t_fake_host (f, "a", "", "cpu"), *b = t_fake_host (f, "b", "", "cpu");
    t_fake_measure (a, 0, 100, 10 * T_US, 3 * T_S);
    t_fake_measure (b, 0, 100, 10 * T_US, T_S);
    assert_false (fb_abort_check (&f->run, 0, a, T_NOW)); /* b measured 1 s of the 2 */
    t_fake_measure (b, 0, 100, 10 * T_US, T_S);
    /* checked 0.1 s ago: the fleet's merge is not made again so soon */
    assert_false (fb_abort_check (&f->run, 0, b, T_NOW + T_S / 10));
    assert_true (fb_abort_check (&f->run, 0, b, T_NOW + T_S / 2));
    assert_string_equal (f->run.stop.where, "the fleet");
    assert_int_equal (f->run.stop.measured_ns, 2 * T_S);
    t_fake_destroy (&f);
}

static void test_after_a_stop_the_verdicts_say_so (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (2);
    s_target (f, 0, "p50 < 1us", FB_PER_HOST, true, 0);
    s_target (f, 0, "p50 < 1ms", FB_PER_HOST, false, 0);
    s_target (f, 1, "p50 < 1ms", FB_PER_HOST, false, 0);
    fb_host_t *a = t_fake_host (f, "a", "", "cpu");
    t_fake_measure (a, 0, 100, 10 * T_US, T_S);
    assert_true (fb_abort_check (&f->run, 0, a, T_NOW));
    assert_false (fb_abort_skipped (&f->run, 0));
    assert_true (fb_abort_skipped (&f->run, 1));
    /* the last reports after the stop bring p50 under the limit: it still failed */
    t_fake_measure (a, 0, 1000, 500, T_S);
    t_fake_merge (f);
    assert_int_equal (fb_verdict_judge (&f->run), 1);
    const fb_verdict_t *stopper = &f->run.verdicts[0][0];
    assert_int_equal (stopper->state, FB_VERDICT_FAILED);
    assert_string_equal (stopper->failed_on, "host a");
    assert_non_null (strstr (stopper->detail, "stopped the run early: p50 was 10"));
    assert_int_equal (f->run.verdicts[0][1].state, FB_VERDICT_HELD);
    assert_int_equal (f->run.verdicts[1][0].state, FB_VERDICT_SKIPPED);
    char text[300];
    fb_verdict_count_text (&f->run, text, sizeof text);
    assert_string_equal (text, "1 target failed (on host a), 1 target held, 1 target skipped");
    json_t *stop = fb_abort_json (&f->run);
    assert_non_null (stop);
    assert_string_equal (json_string_value (json_object_get (stop, "target")), "p50 < 1us");
    assert_string_equal (json_string_value (json_object_get (stop, "on")), "host a");
    assert_true (json_real_value (json_object_get (stop, "measured_s")) == 1.0);
    json_decref (stop);
    t_fake_destroy (&f);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_failing_target_stops_the_run_only_past_its_delay),
        cmocka_unit_test (test_a_target_that_holds_or_does_not_abort_never_stops),
        cmocka_unit_test (test_nothing_measured_yet_is_no_reason_to_stop),
        cmocka_unit_test (test_a_host_doing_nothing_stops_a_per_host_throughput_target),
        cmocka_unit_test (test_fleet_targets_wait_for_every_host_and_half_an_interval),
        cmocka_unit_test (test_after_a_stop_the_verdicts_say_so),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

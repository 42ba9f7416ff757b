/* test_runner.c: the runner's bookkeeping: every operation lands in exactly one interval
 * report, warm-up is kept apart, an open-loop schedule runs the planned number of operations,
 * abort stops early without losing what was measured. No timing assertions. */
#include "agent/runner.h"
#include "common/clock.h"
#include "common/hist.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h, which it needs */

typedef struct {
    int reports[2];      /* per phase */
    int64_t ops[2];      /* "ops" counters summed per phase */
    int64_t samples[2];  /* latency samples summed per phase */
    int64_t sched_lag;   /* samples of sched_lag, measured phase */
    int64_t last_end_ns; /* of the last measured interval */
    bool ordered;        /* every measured interval starts where the last ended */
} s_tally_t;

static void s_sink (fb_msg_t **msg_p, void *arg) {
    s_tally_t *t = arg;
    fb_report_t *r = &(*msg_p)->u.report;
    assert_true (r->phase == FB_PHASE_WARMUP || r->phase == FB_PHASE_MEASURE);
    t->reports[r->phase]++;
    if (r->phase == FB_PHASE_MEASURE) { /* measured intervals follow each other exactly */
        if (t->last_end_ns && r->start_ns != t->last_end_ns)
            t->ordered = false;
        t->last_end_ns = r->end_ns;
    }
    for (int c = 0; c < r->n_counters; c++)
        if (strcmp (r->counters[c].name, FB_COUNTER_OPS) == 0)
            t->ops[r->phase] += r->counters[c].value;
    for (int m = 0; m < r->n_metrics; m++) {
        fb_hist_t *h = fb_hist_decode (r->metrics[m].hist, r->metrics[m].hist_len, NULL);
        assert_non_null (h);
        if (strcmp (r->metrics[m].name, FB_METRIC_LATENCY) == 0)
            t->samples[r->phase] += fb_hist_count (h);
        if (strcmp (r->metrics[m].name, FB_METRIC_SCHED_LAG) == 0 && r->phase == FB_PHASE_MEASURE)
            t->sched_lag += fb_hist_count (h);
        fb_hist_destroy (&h);
    }
    fb_wire_msg_destroy (msg_p);
}

static fb_plan_workload_t s_plan (double rate) {
    fb_plan_workload_t p = {.name = "bus",
                            .kind = "eventbus",
                            .rate_per_s = rate,
                            .duration_ns = 300 * FB_NS_PER_MS,
                            .warmup_ns = 100 * FB_NS_PER_MS,
                            .interval_ns = 100 * FB_NS_PER_MS};
    p.n_params = 3;
    strcpy (p.params[0].name, "publishers");
    strcpy (p.params[0].value, "2");
    strcpy (p.params[1].name, "workers");
    strcpy (p.params[1].value, "2");
    strcpy (p.params[2].name, "handler_work");
    strcpy (p.params[2].value, "0us");
    return p;
}

static void test_every_closed_loop_operation_is_in_one_report (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (0);
    s_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r1", .plan = &plan, .sink = s_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    fb_err_t err = {0};
    assert_int_equal (fb_runner_run (&args, &res, &err), 0);
    /* no assertion on how many: a loaded machine may run few (that is timing) */
    assert_int_equal (t.ops[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.samples[FB_PHASE_WARMUP], t.ops[FB_PHASE_WARMUP]);
    /* One warm-up interval, plus a late one when a warm-up operation was still running. */
    assert_in_range (t.reports[FB_PHASE_WARMUP], 1, 2);
    assert_int_equal (t.reports[FB_PHASE_MEASURE], 3);
    assert_true (t.ordered);
    assert_int_equal (t.sched_lag, 0); /* closed loop has no schedule */
}

static void test_open_loop_runs_the_scheduled_count (void **state) {
    (void)state;
    /* 2000/s over a 300 ms measured window: operations 200..799 of the schedule, however
     * late each one actually starts. */
    fb_plan_workload_t plan = s_plan (2000);
    s_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r2", .plan = &plan, .sink = s_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    assert_int_equal (res.ops, 600);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], 600);
    assert_int_equal (t.sched_lag, 600);
    assert_int_equal (t.ops[FB_PHASE_WARMUP], 200);
}

static void *s_abort_later (void *arg) {
    fb_clock_sleep_until_ns (fb_clock_now_ns () + 150 * FB_NS_PER_MS);
    __atomic_store_n ((bool *)arg, true, __ATOMIC_RELAXED);
    return NULL;
}

static void test_abort_stops_early_and_keeps_what_was_measured (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (0);
    plan.duration_ns = 60 * FB_NS_PER_S; /* would take a minute */
    bool abort = false;
    s_tally_t t = {.ordered = true};
    fb_runner_args_t args = {
        .run_id = "r3", .plan = &plan, .abort = &abort, .sink = s_sink, .sink_arg = &t};
    pthread_t thread;
    pthread_create (&thread, NULL, s_abort_later, &abort);
    int64_t started = fb_clock_now_ns ();
    fb_runner_result_t res = {.ops = -1};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    pthread_join (thread, NULL);
    assert_true (fb_clock_now_ns () - started < 30 * FB_NS_PER_S);
    assert_int_equal (t.ops[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.samples[FB_PHASE_MEASURE] + t.samples[FB_PHASE_WARMUP],
                      t.ops[FB_PHASE_MEASURE] + t.ops[FB_PHASE_WARMUP]);
}

static void test_check_names_the_workload_and_the_problem (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (0);
    fb_params_t params;
    fb_err_t err = {0};
    strcpy (plan.kind, "nosuch");
    assert_int_equal (fb_runner_check (&plan, NULL, NULL, &params, &err), -1);
    assert_non_null (strstr (err.msg, "bus: unknown workload kind \"nosuch\""));
    plan = s_plan (0);
    strcpy (plan.params[0].value, "0");
    assert_int_equal (fb_runner_check (&plan, NULL, NULL, &params, &err), -1);
    assert_non_null (strstr (err.msg, "bus: "));
    assert_non_null (strstr (err.msg, "publishers"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_closed_loop_operation_is_in_one_report),
        cmocka_unit_test (test_open_loop_runs_the_scheduled_count),
        cmocka_unit_test (test_abort_stops_early_and_keeps_what_was_measured),
        cmocka_unit_test (test_check_names_the_workload_and_the_problem),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

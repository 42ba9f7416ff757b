/* test_runner_async.c: the runner driving a kind of asynchronous operations (start/poll):
 * every operation started is in exactly one report, slots bound what is in flight, an open
 * loop whose slots are full still runs or misses each planned operation, and an abort ends
 * what is in flight as errors, each counted once. The kind is the test's own: each operation
 * ends `delay` after it started. No timing assertions. */
#include "agent/runner.h"
#include "common/clock.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "runtally.h"

#define T_MAX_WORKERS 4
#define T_MAX_SLOTS 64

typedef struct {
    bool busy, canceled;
    int64_t due_ns;
} t_op_t;

typedef struct {
    int slots;
    int64_t delay_ns;
    t_op_t ops[T_MAX_WORKERS][T_MAX_SLOTS]; /* by tag */
    int in_flight[T_MAX_WORKERS], most_in_flight[T_MAX_WORKERS];
    int64_t started, ended, canceled; /* atomic */
    int bad_tags;                     /* a tag started twice, or ended while idle */
} t_state_t;

static const fb_param_spec_t t_params_spec[] = {
    {"workers", FB_PARAM_INT, "1", 1, T_MAX_WORKERS, NULL, "threads"},
    {"slots", FB_PARAM_INT, "8", 1, T_MAX_SLOTS, NULL, "operations in flight per thread"},
    {"delay", FB_PARAM_DURATION, "1ms", 0, 10e9, NULL, "how long each operation takes"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* The last run's state, kept for the test to read after the runner freed its copy. */
static t_state_t t_last;

static int t_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    (void)env;
    (void)err;
    t_state_t *self = state;
    self->slots = (int)fb_params_num (params, "slots");
    self->delay_ns = (int64_t)fb_params_num (params, "delay");
    return 0;
}

static int t_slots (void *state, int worker) {
    (void)worker;
    return ((t_state_t *)state)->slots;
}

static int t_start (void *state, fb_wl_op_t *op, uint64_t tag) {
    t_state_t *self = state;
    t_op_t *o = &self->ops[op->worker][tag];
    self->bad_tags += o->busy;
    *o = (t_op_t){.busy = true, .due_ns = fb_clock_now_ns () + self->delay_ns};
    int n = ++self->in_flight[op->worker];
    if (n > self->most_in_flight[op->worker])
        self->most_in_flight[op->worker] = n;
    __atomic_fetch_add (&self->started, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Ends what is due (or canceled); sleeps until the earliest due or until_ns first. */
static int t_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max) {
    t_state_t *self = state;
    t_op_t *ops = self->ops[worker];
    int64_t wake = until_ns;
    for (int i = 0; i < self->slots; i++)
        if (ops[i].busy && (ops[i].canceled ? 0 : ops[i].due_ns) < wake)
            wake = ops[i].canceled ? 0 : ops[i].due_ns;
    fb_clock_sleep_until_ns (wake);
    int64_t now = fb_clock_now_ns ();
    int n = 0;
    for (int i = 0; i < self->slots && n < max; i++) {
        if (!ops[i].busy || (!ops[i].canceled && ops[i].due_ns > now))
            continue;
        done[n++] =
            (fb_wl_done_t){.tag = (uint64_t)i, .rc = ops[i].canceled ? -1 : 0, .done_ns = now};
        __atomic_fetch_add (ops[i].canceled ? &self->canceled : &self->ended, 1, __ATOMIC_RELAXED);
        ops[i].busy = false;
        self->in_flight[worker]--;
    }
    return n;
}

static void t_cancel (void *state, int worker) {
    t_state_t *self = state;
    for (int i = 0; i < self->slots; i++)
        self->ops[worker][i].canceled = self->ops[worker][i].busy;
}

static void t_teardown (void *state) { t_last = *(t_state_t *)state; }

static const fb_workload_t t_kind = {
    .kind = "sleeper",
    .summary = "each operation ends delay after it started",
    .params = t_params_spec,
    .concurrency_param = "workers",
    .state_size = sizeof (t_state_t),
    .setup = t_setup,
    .slots = t_slots,
    .start = t_start,
    .poll = t_poll,
    .cancel = t_cancel,
    .teardown = t_teardown,
};

static fb_plan_workload_t t_plan (double rate, const char *const *params) {
    fb_plan_workload_t p = {.name = "sleepy",
                            .kind = "sleeper",
                            .rate_per_s = rate,
                            .duration_ns = 300 * FB_NS_PER_MS,
                            .warmup_ns = 100 * FB_NS_PER_MS,
                            .interval_ns = 100 * FB_NS_PER_MS};
    t_params (&p, params);
    return p;
}

static int64_t t_run (fb_plan_workload_t *plan, t_tally_t *t, const bool *abort,
                      fb_runner_result_t *res) {
    fb_runner_args_t args = {.run_id = "a1",
                             .plan = plan,
                             .abort = abort,
                             .sink = t_sink,
                             .sink_arg = t,
                             .workload = &t_kind};
    memset (&t_last, 0, sizeof t_last);
    fb_err_t err = {0};
    int64_t t0 = fb_clock_now_ns ();
    assert_int_equal (fb_runner_run (&args, res, &err), 0);
    assert_int_equal (t_last.bad_tags, 0);
    return fb_clock_now_ns () - t0;
}

static void test_closed_loop_keeps_every_slot_busy_and_counts_each_operation_once (void **state) {
    (void)state;
    fb_plan_workload_t plan = t_plan (0, (const char *const[]){"workers", "2", "slots", "8", NULL});
    t_tally_t t = {.ordered = true};
    fb_runner_result_t res = {.ops = -1};
    t_run (&plan, &t, NULL, &res);
    int64_t ops = t.ops[FB_PHASE_WARMUP] + t.ops[FB_PHASE_MEASURE];
    assert_true (ops > 0);
    assert_int_equal (ops, t_last.started);
    assert_int_equal (t_last.ended, t_last.started);
    assert_int_equal (t.ops[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.samples[FB_PHASE_WARMUP], t.ops[FB_PHASE_WARMUP]);
    assert_int_equal (t.errors[FB_PHASE_WARMUP] + t.errors[FB_PHASE_MEASURE], 0);
    for (int w = 0; w < 2; w++) /* all at once from the start: no more, no fewer */
        assert_int_equal (t_last.most_in_flight[w], 8);
    assert_true (t.ordered);
}

/* 2000/s planned, 4 slots of 5 ms each (800/s at most): operations wait for a slot, and each
 * planned one still either runs (late, its wait in its latency and sched_lag) or is missed. */
static void test_open_loop_with_full_slots_runs_or_misses_each_planned_operation (void **state) {
    (void)state;
    fb_plan_workload_t plan =
        t_plan (2000, (const char *const[]){"slots", "4", "delay", "5ms", NULL});
    t_tally_t t = {.ordered = true};
    fb_runner_result_t res = {.ops = -1};
    t_run (&plan, &t, NULL, &res);
    assert_true (t.missed[FB_PHASE_MEASURE] > 0);
    assert_int_equal (res.ops + t.missed[FB_PHASE_MEASURE], 600);
    assert_int_equal (t.ops[FB_PHASE_WARMUP] + t.missed[FB_PHASE_WARMUP], 200);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.sched_lag, res.ops);
    assert_int_equal (t_last.most_in_flight[0], 4);
    assert_int_equal (t_last.started, t.ops[FB_PHASE_WARMUP] + t.ops[FB_PHASE_MEASURE]);
}

typedef struct {
    bool abort;
    int64_t after_ns;
} t_abort_t;

static void *t_abort_later (void *arg) {
    t_abort_t *a = arg;
    fb_clock_sleep_until_ns (fb_clock_now_ns () + a->after_ns);
    __atomic_store_n (&a->abort, true, __ATOMIC_RELAXED);
    return NULL;
}

/* Runs plan with an abort after_ns from its start; returns how long the run took. */
static int64_t t_run_aborted (fb_plan_workload_t *plan, int64_t after_ns, t_tally_t *t,
                              fb_runner_result_t *res) {
    t_abort_t abort = {.after_ns = after_ns};
    pthread_t thread;
    pthread_create (&thread, NULL, t_abort_later, &abort);
    int64_t took = t_run (plan, t, &abort.abort, res);
    pthread_join (thread, NULL);
    return took;
}

/* A minute of operations of 10 s each, aborted after 150 ms: the 16 in flight end at once as
 * errors, each counted once, in the phase it started in. */
static void test_abort_ends_what_is_in_flight_as_errors_counted_once (void **state) {
    (void)state;
    fb_plan_workload_t plan =
        t_plan (0, (const char *const[]){"workers", "2", "slots", "8", "delay", "10s", NULL});
    plan.duration_ns = 60 * FB_NS_PER_S;
    t_tally_t t = {.ordered = true};
    fb_runner_result_t res = {.ops = -1};
    int64_t took = t_run_aborted (&plan, 150 * FB_NS_PER_MS, &t, &res);
    assert_true (took < 5 * FB_NS_PER_S); /* not the 10 s an operation would take */
    assert_int_equal (t_last.started, 16);
    assert_int_equal (t_last.canceled, 16);
    assert_int_equal (t_last.ended, 0);
    assert_int_equal (t.ops[FB_PHASE_WARMUP], 16); /* all started at the start */
    assert_int_equal (t.errors[FB_PHASE_WARMUP], 16);
    assert_int_equal (t.samples[FB_PHASE_WARMUP], 16);
    assert_int_equal (t.ops[FB_PHASE_MEASURE] + res.ops, 0);
}

/* The planned end (300 ms) passes with 8 operations of 10 s in flight; an abort that comes
 * while the workers wait for them still ends them at once, each an error counted once. */
static void test_an_abort_after_the_end_still_cancels_what_is_in_flight (void **state) {
    (void)state;
    fb_plan_workload_t plan = t_plan (0, (const char *const[]){"slots", "8", "delay", "10s", NULL});
    t_tally_t t = {.ordered = true};
    fb_runner_result_t res = {.ops = -1};
    int64_t took = t_run_aborted (&plan, 600 * FB_NS_PER_MS, &t, &res);
    assert_true (took < 5 * FB_NS_PER_S);
    assert_int_equal (t_last.canceled, 8);
    assert_int_equal (t.errors[FB_PHASE_WARMUP] + t.errors[FB_PHASE_MEASURE], 8);
    assert_int_equal (t.ops[FB_PHASE_WARMUP] + t.ops[FB_PHASE_MEASURE], 8);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_closed_loop_keeps_every_slot_busy_and_counts_each_operation_once),
        cmocka_unit_test (test_open_loop_with_full_slots_runs_or_misses_each_planned_operation),
        cmocka_unit_test (test_abort_ends_what_is_in_flight_as_errors_counted_once),
        cmocka_unit_test (test_an_abort_after_the_end_still_cancels_what_is_in_flight),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

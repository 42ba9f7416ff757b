/* test_runner.c: the runner's bookkeeping: every operation lands in exactly one interval
 * report, warm-up is kept apart, an open-loop schedule runs the planned number of operations,
 * abort stops early without losing what was measured. No timing assertions. */
#include "agent/runner.h"
#include "agent/schedule.h"
#include "common/clock.h"
#include "common/hist.h"

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h, which it needs */

#include "runtally.h"

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

/* One publisher, one worker, a queue of one that blocks, one handler with `work` of busy CPU:
 * a bus whose every operation costs that work at least. */
static fb_plan_workload_t s_slow_bus (double rate, const char *work) {
    fb_plan_workload_t p = s_plan (rate);
    t_params (&p, (const char *const[]){"publishers", "1", "workers", "1", "queue", "1", "overflow",
                                        "block", "mix", "logline", "handlers", "1", "handler_work",
                                        work, NULL});
    return p;
}

static void test_every_closed_loop_operation_is_in_one_report (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (0);
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r1", .plan = &plan, .sink = t_sink, .sink_arg = &t};
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
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r2", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    /* A loaded machine may miss a few at the end: each planned operation ran or is missed. */
    assert_int_equal (res.ops + t.missed[FB_PHASE_MEASURE], 600);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.sched_lag, res.ops);
    assert_int_equal (t.ops[FB_PHASE_WARMUP] + t.missed[FB_PHASE_WARMUP], 200);
}

/* Stages: 100 ms of warm-up at the first stage's 2000/s, 100 ms at 2000/s, then a linear ramp
 * to 4000/s over 200 ms. Each measured report carries its interval's planned rate, and the
 * planned operations (run or missed) are the schedule's: 200 warm-up, 200 + 600 measured. */
static void test_stages_report_their_target_rate_and_run_the_planned_count (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (4000);
    plan.n_stages = 2;
    plan.stages[0] = (fb_plan_stage_t){100 * FB_NS_PER_MS, 2000};
    plan.stages[1] = (fb_plan_stage_t){200 * FB_NS_PER_MS, 4000};
    plan.ramp = FB_RAMP_LINEAR;
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r7", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    assert_int_equal (t.ops[FB_PHASE_WARMUP] + t.missed[FB_PHASE_WARMUP], 200);
    assert_int_equal (res.ops + t.missed[FB_PHASE_MEASURE], 800);
    assert_int_equal (t.n_targets, 3);
    const double want[] = {2000, 2500, 3500};
    for (int i = 0; i < 3; i++)
        assert_true (t.targets[i] > want[i] * 0.999 && t.targets[i] < want[i] * 1.001);
    /* Poisson arrivals: the count is the seeded schedule's own, exactly */
    plan.arrivals = FB_ARRIVALS_POISSON;
    plan.seed = 42;
    fb_schedule_t sc;
    assert_int_equal (fb_schedule_init (&sc, &plan, 1e6, NULL), 0);
    int64_t planned[2] = {0, 0};
    for (int w = 0; w < 2; w++) { /* the eventbus's two publishers are the workers */
        fb_schedule_cursor_t c;
        fb_schedule_cursor_init (&c, &sc, w, 2);
        for (int64_t at; (at = fb_schedule_next_ns (&sc, &c)) < sc.length_ns;)
            planned[at >= plan.warmup_ns]++;
    }
    t_tally_t p = {.ordered = true};
    args = (fb_runner_args_t){.run_id = "r8", .plan = &plan, .sink = t_sink, .sink_arg = &p};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    assert_int_equal (p.ops[FB_PHASE_WARMUP] + p.missed[FB_PHASE_WARMUP], planned[0]);
    assert_int_equal (res.ops + p.missed[FB_PHASE_MEASURE], planned[1]);
    assert_true (planned[1] > 700 && planned[1] < 900);
}

/* A capacity search on a host of known capacity: one pool worker and a queue of one, handlers
 * sleeping 1 ms, so at most ~1000 publishes a second get through (sleep's own overhead lowers
 * that a little). Steps of 100 ms from 100/s, doubling to 12800/s, objective p99 < 20 ms: 100,
 * 200 and 400/s are far below it and pass, 1600/s and more is far above (a backlog of seconds
 * builds) and fails; so the search ends after at most 6 of its 8 steps, with 400 or 800/s. Every
 * operation that ran is still in a report. */
static void test_a_capacity_search_stops_past_the_knee_and_reports_it (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_slow_bus (12800, "0us");
    /* each call sleeps 1 ms on a kernel thread: no carrier threads to share */
    t_params (&plan, (const char *const[]){"handler_sleep", "1ms", "workers_as", "thread", NULL});
    plan.n_stages = 8;
    for (int i = 0; i < 8; i++)
        plan.stages[i] = (fb_plan_stage_t){100 * FB_NS_PER_MS, 100.0 * (1 << i)};
    plan.duration_ns = 800 * FB_NS_PER_MS;
    snprintf (plan.capacity_metric, sizeof plan.capacity_metric, "latency");
    plan.capacity_percentile = 99;
    plan.capacity_limit_ns = 20 * FB_NS_PER_MS;
    t_tally_t t = {.ordered = true, .capacity = -1, .capacity_unsure = -1};
    fb_runner_args_t args = {.run_id = "r9", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    fb_err_t err = {0};
    assert_int_equal (fb_runner_run (&args, &res, &err), 0);
    /* Where the knee is found is timing (a loaded machine finds it lower): the capacity is
     * only checked to be a step's rate, or 0 when even 100/s failed. */
    bool a_step = t.capacity == 0;
    for (int i = 0; i < 8; i++)
        a_step |= t.capacity == 100 << i;
    if (!a_step)
        print_error ("capacity %lld/s after %d measured reports\n", (long long)t.capacity,
                     t.reports[FB_PHASE_MEASURE]);
    assert_true (a_step && t.capacity < 1600);
    /* reported with it: the steps judged unsure, at most the steps run */
    assert_in_range (t.capacity_unsure, 0, 8);
    assert_true (t.reports[FB_PHASE_MEASURE] <= 7); /* 6 steps and the remainder at most */
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_int_equal (t.ops[FB_PHASE_MEASURE], res.ops);
    assert_true (t.ordered);
    /* a plan whose objective names a metric the kind does not have is refused */
    snprintf (plan.capacity_metric, sizeof plan.capacity_metric, "circuit_build");
    fb_params_t params;
    assert_int_equal (fb_runner_check (&plan, NULL, NULL, &params, &err), -1);
    assert_non_null (strstr (err.msg, "circuit_build"));
}

/* Each operation blocks ~5 ms (one pool worker, a queue of one, 5 ms of handler work) against
 * a schedule of one every 0.5 ms: the generator falls behind. It stops at the planned end
 * instead of running the rest late, and every planned operation is either run or missed,
 * booked to the phase of its intended start. */
static void test_open_loop_behind_schedule_stops_at_the_end_and_counts_missed (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_slow_bus (2000, "5ms");
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r4", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    fb_runner_result_t res = {.ops = -1};
    assert_int_equal (fb_runner_run (&args, &res, NULL), 0);
    assert_true (t.missed[FB_PHASE_MEASURE] > 0);
    assert_int_equal (res.ops + t.missed[FB_PHASE_MEASURE], 600);
    assert_int_equal (t.ops[FB_PHASE_WARMUP] + t.missed[FB_PHASE_WARMUP], 200);
    assert_int_equal (t.samples[FB_PHASE_MEASURE], res.ops);
    assert_true (t.ordered);
}

/* A warm-up operation still running when the warm-up ended (the third publish waits 150 ms for
 * room in a queue of one) comes in a late report after the measured ones. The CPU, steal and
 * throttling of the last interval belong to that interval's measured report, not to it. */
static void test_late_warmup_report_leaves_cpu_to_the_measured_interval (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_slow_bus (0, "150ms");
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r5", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    assert_int_equal (fb_runner_run (&args, NULL, NULL), 0);
    assert_int_equal (t.late_reports, 1);
    assert_int_equal (t.late_cpu, 0);
    assert_true (t.measured_cpu > 0);
}

/* Handler calls still queued when the last publish returned are run (up to the drain
 * deadline) or counted abandoned before the last report: with one handler per event, the
 * dispatch samples and the abandoned calls add up to the operations. */
static void test_queued_handler_calls_are_drained_or_abandoned (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (0);
    t_params (&plan,
              (const char *const[]){"workers", "1", "queue", "500", "overflow", "block", "mix",
                                    "logline", "handlers", "1", "handler_work", "2ms", NULL});
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r6", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    assert_int_equal (fb_runner_run (&args, NULL, NULL), 0);
    int64_t ops = t.ops[FB_PHASE_WARMUP] + t.ops[FB_PHASE_MEASURE];
    assert_true (ops > 0);
    assert_int_equal (t.dispatch + t.abandoned, ops);
}

typedef struct {
    bool done;  /* atomic: the run ended */
    bool tight; /* a thread of this process had a 1 ns timer slack */
} s_slack_probe_t;

/* Reads every thread's timer slack (/proc/TID/timerslack_ns) until the run ends. */
static void *s_slack_probe (void *arg) {
    s_slack_probe_t *probe = arg;
    while (!__atomic_load_n (&probe->done, __ATOMIC_ACQUIRE)) {
        DIR *dir = opendir ("/proc/self/task");
        assert_non_null (dir);
        for (struct dirent *e; (e = readdir (dir));) {
            char path[64], value[32] = "";
            snprintf (path, sizeof path, "/proc/%.20s/timerslack_ns", e->d_name);
            FILE *f = e->d_name[0] != '.' ? fopen (path, "r") : NULL;
            if (f && fgets (value, sizeof value, f) && strcmp (value, "1\n") == 0)
                __atomic_store_n (&probe->tight, true, __ATOMIC_RELEASE);
            if (f)
                fclose (f);
        }
        closedir (dir);
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 5 * FB_NS_PER_MS);
    }
    return NULL;
}

/* Open-loop generator threads sleep with a 1 ns timer slack: the default 50 us would add the
 * generator's own wake-up lateness to every latency measured from the intended start. */
static void test_open_loop_generators_sleep_with_a_tight_timer_slack (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan (2000);
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {.run_id = "r7", .plan = &plan, .sink = t_sink, .sink_arg = &t};
    s_slack_probe_t probe = {0};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_slack_probe, &probe), 0);
    assert_int_equal (fb_runner_run (&args, NULL, NULL), 0);
    __atomic_store_n (&probe.done, true, __ATOMIC_RELEASE);
    pthread_join (thread, NULL);
    assert_true (probe.tight);
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
    t_tally_t t = {.ordered = true};
    fb_runner_args_t args = {
        .run_id = "r3", .plan = &plan, .abort = &abort, .sink = t_sink, .sink_arg = &t};
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
        cmocka_unit_test (test_stages_report_their_target_rate_and_run_the_planned_count),
        cmocka_unit_test (test_a_capacity_search_stops_past_the_knee_and_reports_it),
        cmocka_unit_test (test_open_loop_behind_schedule_stops_at_the_end_and_counts_missed),
        cmocka_unit_test (test_late_warmup_report_leaves_cpu_to_the_measured_interval),
        cmocka_unit_test (test_queued_handler_calls_are_drained_or_abandoned),
        cmocka_unit_test (test_open_loop_generators_sleep_with_a_tight_timer_slack),
        cmocka_unit_test (test_abort_stops_early_and_keeps_what_was_measured),
        cmocka_unit_test (test_check_names_the_workload_and_the_problem),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

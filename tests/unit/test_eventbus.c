/* test_eventbus.c: the eventbus workload driven as the runner drives it: setup, op from
 * publisher threads, interval on the owner's thread, teardown. Counts, never timings. */
#include "common/clock.h"
#include "common/hist.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/testlib.h"

enum { C_OVERFLOWS, C_DROPS, C_PEAK_THREADS, C_HANDLED, C_ABANDONED, C_GC_CYCLES, C_HEAP_PEAK };

/* Waits for handler threads without timing anything: gives up after this long. */
#define T_PATIENCE_NS (60 * FB_NS_PER_S)

typedef struct {
    const fb_workload_t *wl;
    void *state;
    fb_hist_t *metrics[2]; /* dispatch, completion as the runner would hold them */
    int64_t totals[7];     /* SUM counters added up, MAX counters the highest */
} t_bus_t;

typedef struct {
    t_bus_t *bus;
    int worker;
    int ops;
    int failed;
} t_publisher_t;

/* Sets up the workload with name=value pairs on top of the defaults. */
static void s_bus_setup (t_bus_t *bus, const char *const *pairs) {
    memset (bus, 0, sizeof *bus);
    bus->wl = fb_workload_find ("eventbus");
    assert_non_null (bus->wl);
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, bus->wl, &err), 0);
    for (int i = 0; pairs && pairs[i]; i += 2) {
        int rc = fb_params_set (&params, pairs[i], pairs[i + 1], &err);
        if (rc != 0)
            fail_msg ("%s=%s: %s", pairs[i], pairs[i + 1], err.msg);
    }
    fb_wl_env_t env = {.workers = (int)fb_params_num (&params, "publishers")};
    if (fb_workload_setup (bus->wl, &params, &env, &bus->state, &err) != 0)
        fail_msg ("setup: %s", err.msg);
    assert_non_null (bus->state);
    for (int i = 0; i < 2; i++) {
        bus->metrics[i] = fb_hist_new_default (&err);
        assert_non_null (bus->metrics[i]);
    }
}

static void s_bus_interval (t_bus_t *bus) {
    int64_t counters[FB_MAX_COUNTERS] = {0};
    bus->wl->interval (bus->state, bus->metrics, counters);
    bus->totals[C_OVERFLOWS] += counters[C_OVERFLOWS];
    bus->totals[C_DROPS] += counters[C_DROPS];
    bus->totals[C_HANDLED] += counters[C_HANDLED];
    bus->totals[C_ABANDONED] += counters[C_ABANDONED];
    bus->totals[C_GC_CYCLES] += counters[C_GC_CYCLES];
    if (counters[C_PEAK_THREADS] > bus->totals[C_PEAK_THREADS])
        bus->totals[C_PEAK_THREADS] = counters[C_PEAK_THREADS];
    if (counters[C_HEAP_PEAK] > bus->totals[C_HEAP_PEAK])
        bus->totals[C_HEAP_PEAK] = counters[C_HEAP_PEAK];
}

/* Calls interval until handled + drops reaches expected (the handler threads are async). */
static void s_bus_settle (t_bus_t *bus, int64_t expected) {
    int64_t give_up_ns = fb_clock_now_ns () + T_PATIENCE_NS;
    s_bus_interval (bus);
    while (bus->totals[C_HANDLED] + bus->totals[C_DROPS] < expected &&
           fb_clock_now_ns () < give_up_ns) {
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
        s_bus_interval (bus);
    }
}

static void s_bus_teardown (t_bus_t *bus) {
    fb_workload_teardown (bus->wl, &bus->state);
    assert_null (bus->state);
    fb_hist_destroy (&bus->metrics[0]);
    fb_hist_destroy (&bus->metrics[1]);
}

static void *s_publisher_main (void *arg) {
    t_publisher_t *pub = arg;
    fb_hist_t *none[2] = {NULL, NULL};
    fb_wl_op_t op = {.worker = pub->worker, .metrics = none, .rng = 88172645463325252ULL};
    for (int i = 0; i < pub->ops; i++) {
        op.seq = (uint64_t)i;
        op.intended_start_ns = fb_clock_now_ns ();
        if (pub->bus->wl->op (pub->bus->state, &op) != 0)
            pub->failed++;
    }
    return NULL;
}

/* nthreads publishers, ops_each publishes each; returns the failed ops. */
static int s_publish (t_bus_t *bus, int nthreads, int ops_each) {
    t_publisher_t pubs[8];
    pthread_t threads[8];
    assert_true (nthreads <= 8);
    for (int i = 0; i < nthreads; i++) {
        pubs[i] = (t_publisher_t){.bus = bus, .worker = i, .ops = ops_each};
        assert_int_equal (pthread_create (&threads[i], NULL, s_publisher_main, &pubs[i]), 0);
    }
    int failed = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join (threads[i], NULL);
        failed += pubs[i].failed;
    }
    return failed;
}

static void test_descriptor_names_publishers_as_concurrency (void **state) {
    (void)state;
    const fb_workload_t *wl = fb_workload_find ("eventbus");
    assert_non_null (wl);
    assert_string_equal (wl->concurrency_param, "publishers");
    assert_string_equal (wl->metrics[0], "dispatch");
    assert_string_equal (wl->metrics[1], "completion");
    assert_null (wl->metrics[2]);
    const char *names[] = {"overflows", "drops",     "peak_threads", "handled",
                           "abandoned", "gc_cycles", "heap_peak"};
    for (int i = 0; i < 7; i++)
        assert_string_equal (wl->counters[i].name, names[i]);
    assert_int_equal (wl->counters[C_PEAK_THREADS].kind, FB_COUNTER_MAX);
    assert_int_equal (wl->counters[C_HANDLED].kind, FB_COUNTER_SUM);
    assert_int_equal (wl->counters[C_ABANDONED].kind, FB_COUNTER_SUM);
    assert_int_equal (wl->counters[C_GC_CYCLES].kind, FB_COUNTER_SUM);
    assert_int_equal (wl->counters[C_HEAP_PEAK].kind, FB_COUNTER_MAX);
    assert_null (wl->counters[7].name);
    assert_non_null (wl->drain);
}

static void test_every_handler_call_is_measured_once (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers", "2", "mix", "logline", "overflow", "block", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 500), 0);
    int64_t expected = 2 * 500 * 5; /* LogLine has 5 handlers in the seed's table */
    s_bus_settle (&bus, expected);
    assert_int_equal (bus.totals[C_HANDLED], expected);
    assert_int_equal (bus.totals[C_DROPS], 0);
    assert_int_equal (fb_hist_count (bus.metrics[0]), expected);
    assert_int_equal (fb_hist_count (bus.metrics[1]), expected);
    assert_true (bus.totals[C_PEAK_THREADS] >= 2);
    s_bus_teardown (&bus);
}

/* handler_sleep waits off the CPU: every call completes at least that long after it was
 * dispatched, while the process spends a small part of that time on a CPU. */
static void test_handler_sleep_waits_without_spending_cpu (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "2",     "mix",          "logline", "handlers",      "1",
                           "overflow", "block", "handler_work", "0us",     "handler_sleep", "5ms",
                           NULL};
    s_bus_setup (&bus, pairs);
    struct timespec cpu0, cpu1;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    assert_int_equal (s_publish (&bus, 1, 100), 0);
    s_bus_settle (&bus, 100);
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    assert_int_equal (bus.totals[C_HANDLED], 100);
    /* completion - dispatch is at least the sleep: the smallest completion is >= 5 ms */
    assert_true (fb_hist_min (bus.metrics[1]) >= 5 * FB_NS_PER_MS);
    int64_t cpu_ns = (cpu1.tv_sec - cpu0.tv_sec) * FB_NS_PER_S + (cpu1.tv_nsec - cpu0.tv_nsec);
    int64_t slept_ns = 100 * 5 * FB_NS_PER_MS;
    if (cpu_ns * 2 >= slept_ns)
        print_error ("%lld ns of CPU for %lld ns of sleeping handlers\n", (long long)cpu_ns,
                     (long long)slept_ns);
    assert_true (cpu_ns * 2 < slept_ns);
    s_bus_teardown (&bus);
}

static void test_default_params_spawn_on_overflow_and_account_every_call (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers", "2", "mix", "logline", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 300), 0);
    int64_t expected = 2 * 300 * 5;
    s_bus_settle (&bus, expected);
    assert_int_equal (bus.totals[C_HANDLED], expected);
    assert_int_equal (bus.totals[C_DROPS], 0);
    assert_int_equal (fb_hist_count (bus.metrics[1]), expected);
    s_bus_teardown (&bus);
}

static void test_handlers_override_sets_calls_per_event (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "2",     "mix",          "logline", "handlers", "3",
                           "overflow", "block", "handler_work", "0us",     NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 400), 0);
    s_bus_settle (&bus, 2 * 400 * 3);
    assert_int_equal (bus.totals[C_HANDLED], 2 * 400 * 3);
    assert_int_equal (fb_hist_count (bus.metrics[0]), 2 * 400 * 3);
    s_bus_teardown (&bus);
}

static void test_peak_mix_calls_between_one_and_five_handlers (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers", "2", "overflow", "block", "handler_work", "0us", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 500), 0);
    /* Every event has 1..5 handlers. The seed's mix averages 1089/265 = 4.1 calls per event
     * (3/4 are LogLine, 5 handlers); a uniform pick of types would average 2.4. More than 3
     * shows the weighting; 1000 events hold that by ~20 standard deviations. */
    s_bus_settle (&bus, 1000 * 3);
    assert_true (bus.totals[C_HANDLED] >= 1000 * 3);
    assert_true (bus.totals[C_HANDLED] <= 1000 * 5);
    assert_true (fb_hist_count (bus.metrics[1]) >= bus.totals[C_HANDLED]);
    s_bus_teardown (&bus);
}

static void test_drop_policy_counts_drops_when_the_queue_is_full (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "1",    "queue",        "1",   "mix", "logline",
                           "overflow", "drop", "handler_work", "2ms", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 20), 0);
    int64_t calls = 2 * 20 * 5;
    s_bus_settle (&bus, calls);
    assert_true (bus.totals[C_DROPS] > 0);
    assert_int_equal (bus.totals[C_DROPS], bus.totals[C_OVERFLOWS]);
    assert_int_equal (bus.totals[C_HANDLED] + bus.totals[C_DROPS], calls);
    assert_int_equal (fb_hist_count (bus.metrics[1]), bus.totals[C_HANDLED]);
    s_bus_teardown (&bus);
}

/* The queue holds far more work than the drain deadline allows: what the pool ran is measured,
 * what it could not is counted abandoned, and the two add up to every call published. */
static void test_drain_runs_or_abandons_every_queued_call (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "1",     "queue",        "1000", "mix", "logline",
                           "overflow", "block", "handler_work", "20ms", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 100), 0);
    int64_t calls = 2 * 100 * 5;
    bus.wl->drain (bus.state, fb_clock_now_ns () + 50 * FB_NS_PER_MS);
    s_bus_interval (&bus);
    assert_true (bus.totals[C_ABANDONED] > 0);
    assert_int_equal (bus.totals[C_HANDLED] + bus.totals[C_ABANDONED], calls);
    assert_int_equal (fb_hist_count (bus.metrics[0]), bus.totals[C_HANDLED]);
    assert_int_equal (fb_hist_count (bus.metrics[1]), bus.totals[C_HANDLED]);
    s_bus_teardown (&bus);
}

static void test_spawn_policy_runs_more_threads_than_workers (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "2",     "queue",        "2",   "mix", "logline",
                           "overflow", "spawn", "handler_work", "2ms", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 10), 0);
    int64_t calls = 2 * 10 * 5;
    s_bus_settle (&bus, calls);
    assert_true (bus.totals[C_OVERFLOWS] > 0);
    assert_true (bus.totals[C_PEAK_THREADS] > 2);
    assert_int_equal (bus.totals[C_DROPS], 0);
    assert_int_equal (bus.totals[C_HANDLED], calls);
    s_bus_teardown (&bus);
}

static void test_thread_per_handler_runs_every_call_on_its_own_thread (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"dispatch", "thread-per-handler", "mix", "logline", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 50), 0);
    int64_t calls = 2 * 50 * 5;
    s_bus_settle (&bus, calls);
    assert_int_equal (bus.totals[C_HANDLED], calls);
    assert_int_equal (bus.totals[C_OVERFLOWS], 0);
    assert_true (bus.totals[C_PEAK_THREADS] >= 1);
    assert_int_equal (fb_hist_count (bus.metrics[0]), calls);
    s_bus_teardown (&bus);
}

/* Teardown with calls still queued and spawned threads still spinning: every thread joined. */
static void test_teardown_leaves_no_thread_running (void **state) {
    (void)state;
    int before = t_count_entries ("/proc/self/task");
    t_bus_t bus;
    const char *pairs[] = {"workers",  "3",     "queue",        "4",   "mix", "logline",
                           "overflow", "spawn", "handler_work", "1ms", NULL};
    s_bus_setup (&bus, pairs);
    assert_true (t_count_entries ("/proc/self/task") > before);
    assert_int_equal (s_publish (&bus, 2, 10), 0);
    s_bus_teardown (&bus);
    assert_int_equal (t_count_entries ("/proc/self/task"), before);

    const char *tph[] = {"dispatch", "thread-per-handler", "handler_work", "1ms", NULL};
    s_bus_setup (&bus, tph);
    assert_int_equal (s_publish (&bus, 2, 10), 0);
    s_bus_teardown (&bus);
    assert_int_equal (t_count_entries ("/proc/self/task"), before);
}

/* Brummer's Publish never waits for a full queue: the call goes to a new goroutine. Ours goes
 * to a goroutine-like task (the default spawn_as): every call runs, none is dropped, the
 * sleeping calls overlap (more alive at once than threads), and no thread is started per call:
 * while 60 calls sleep, the process has only the pool worker, the carriers and the reaper. */
static void test_full_queue_runs_calls_as_tasks_without_a_thread_each (void **state) {
    (void)state;
    int before = t_count_entries ("/proc/self/task");
    t_bus_t bus;
    const char *pairs[] = {
        "workers",  "1",         "queue",        "1",   "mix",           "logline",
        "handlers", "3",         "carriers",     "2",   "workers_as",    "goroutine",
        "spawn_as", "goroutine", "handler_work", "0us", "handler_sleep", "300ms",
        NULL};
    s_bus_setup (&bus, pairs);
    /* the carriers and the reaper: the pool worker is a task too */
    assert_int_equal (t_count_entries ("/proc/self/task"), before + 2 + 1);
    assert_int_equal (s_publish (&bus, 1, 20), 0);
    assert_int_equal (t_count_entries ("/proc/self/task"), before + 2 + 1);
    s_bus_settle (&bus, 60);
    assert_int_equal (bus.totals[C_HANDLED], 60);
    assert_int_equal (bus.totals[C_DROPS], 0);
    assert_true (bus.totals[C_OVERFLOWS] >= 60 - 2);
    assert_true (bus.totals[C_PEAK_THREADS] > 1 + 2); /* the worker and many sleeping calls */
    assert_int_equal (fb_hist_count (bus.metrics[1]), 60);
    s_bus_teardown (&bus);
    assert_int_equal (t_count_entries ("/proc/self/task"), before);
}

/* The collector counts each Publish's payload: 12 MB of it in 1 MB events runs at least one
 * cycle (the first goal is 4 MB), and the heap's pages reach what was allocated before it. */
static void test_the_collector_reports_its_cycles_and_heap (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",      "1",        "queue",   "1",        "mix",
                           "logline",      "handlers", "1",       "spawn_as", "goroutine",
                           "handler_work", "0us",      "payload", "1048576",  NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 1, 12), 0);
    s_bus_settle (&bus, 12);
    int64_t give_up_ns = fb_clock_now_ns () + T_PATIENCE_NS;
    while (bus.totals[C_GC_CYCLES] == 0 && fb_clock_now_ns () < give_up_ns) {
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
        s_bus_interval (&bus);
    }
    assert_true (bus.totals[C_GC_CYCLES] >= 1);
    assert_true (bus.totals[C_HEAP_PEAK] >= 3 * 1024 * 1024);
    s_bus_teardown (&bus);
}

/* A call that takes a new goroutine block counts Go's new g (416 bytes) on the collector's
 * heap besides its own 248 bytes: 8000 calls kept alive (sleeping 1 s, far longer than the
 * publishes take, so that no block is put back and taken again) reach the first trigger
 * (about 3.8 MB) only with their g's. No heap page stands for the g's, whose blocks are memory
 * of their own. */
static void test_a_new_goroutine_block_counts_as_a_new_g (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {
        "workers",  "1",         "queue",        "1",   "mix",           "logline", "handlers", "1",
        "spawn_as", "goroutine", "handler_work", "0us", "handler_sleep", "1s",      NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 1, 8000), 0);
    int64_t give_up_ns = fb_clock_now_ns () + T_PATIENCE_NS;
    s_bus_interval (&bus);
    assert_true (bus.totals[C_PEAK_THREADS] >= 6000); /* asleep together: new blocks each */
    while (bus.totals[C_GC_CYCLES] == 0 && fb_clock_now_ns () < give_up_ns) {
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
        s_bus_interval (&bus);
    }
    assert_true (bus.totals[C_GC_CYCLES] >= 1);
    assert_true (bus.totals[C_HEAP_PEAK] <= 8000LL * 248 + 64 * 1024);
    s_bus_settle (&bus, 8000);
    s_bus_teardown (&bus);
}

/* spawn_as: thread keeps the old realism: one kernel thread per overflowed call (and
 * workers_as: thread a thread per pool worker). */
static void test_spawn_as_thread_starts_a_thread_per_overflowed_call (void **state) {
    (void)state;
    int before = t_count_entries ("/proc/self/task");
    t_bus_t bus;
    const char *pairs[] = {"workers",
                           "1",
                           "queue",
                           "1",
                           "mix",
                           "logline",
                           "handlers",
                           "3",
                           "spawn_as",
                           "thread",
                           "workers_as",
                           "thread",
                           "handler_work",
                           "0us",
                           "handler_sleep",
                           "300ms",
                           "publishers_as",
                           "thread",
                           NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 1, 20), 0);
    assert_true (t_count_entries ("/proc/self/task") > before + 1 + 1 + 20);
    s_bus_settle (&bus, 60);
    assert_int_equal (bus.totals[C_HANDLED], 60);
    assert_int_equal (bus.totals[C_DROPS], 0);
    s_bus_teardown (&bus);
    assert_int_equal (t_count_entries ("/proc/self/task"), before);
}

/* A run ends with spawned calls not yet started (goroutines Brummer would still run): after the
 * drain's deadline they end unrun, counted abandoned, so the drain does not wait for a backlog
 * of seconds; calls already running finish. Every call is handled or abandoned. */
static void test_drain_abandons_spawned_calls_not_yet_started (void **state) {
    (void)state;
    t_bus_t bus;
    const char *pairs[] = {"workers",  "1", "queue",        "1",   "mix", "logline",
                           "carriers", "1", "handler_work", "5ms", NULL};
    s_bus_setup (&bus, pairs);
    assert_int_equal (s_publish (&bus, 2, 20), 0);
    int64_t calls = 2 * 20 * 5;
    bus.wl->drain (bus.state, fb_clock_now_ns () + 20 * FB_NS_PER_MS);
    s_bus_interval (&bus);
    assert_true (bus.totals[C_ABANDONED] > 1); /* more than the one queued call */
    assert_int_equal (bus.totals[C_HANDLED] + bus.totals[C_ABANDONED], calls);
    assert_int_equal (fb_hist_count (bus.metrics[1]), bus.totals[C_HANDLED]);
    s_bus_teardown (&bus);
}

static void s_expect_rejected (const char *name, const char *text) {
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, fb_workload_find ("eventbus"), &err), 0);
    if (fb_params_set (&params, name, text, &err) == 0)
        fail_msg ("%s=%s was accepted", name, text);
    assert_true (strlen (err.msg) > 0);
}

static void test_bad_params_are_rejected (void **state) {
    (void)state;
    s_expect_rejected ("publishers", "0");
    s_expect_rejected ("publishers", "4097");
    s_expect_rejected ("publishers", "many");
    s_expect_rejected ("queue", "0");
    s_expect_rejected ("workers", "-1");
    s_expect_rejected ("workers", "5000");
    s_expect_rejected ("dispatch", "goroutines");
    s_expect_rejected ("overflow", "panic");
    s_expect_rejected ("mix", "everything");
    s_expect_rejected ("handler_work", "10");
    s_expect_rejected ("handler_work", "fast");
    s_expect_rejected ("handlers", "65");
    s_expect_rejected ("subscribers", "3");
    s_expect_rejected ("spawn_as", "process");
    s_expect_rejected ("carriers", "1025");
    s_expect_rejected ("workers_as", "fibers");
}

static void test_good_params_are_read_as_given (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, fb_workload_find ("eventbus"), &err), 0);
    assert_int_equal ((int)fb_params_num (&params, "publishers"), 1);
    assert_int_equal ((int)fb_params_num (&params, "queue"), 1000);
    assert_int_equal ((int64_t)fb_params_num (&params, "handler_work"), 10 * FB_NS_PER_US);
    assert_int_equal (fb_params_set (&params, "publishers", "1000", &err), 0);
    assert_int_equal (fb_params_set (&params, "overflow", "drop", &err), 0);
    assert_int_equal (fb_params_set (&params, "handler_work", "0us", &err), 0);
    assert_int_equal ((int)fb_params_num (&params, "publishers"), 1000);
    assert_int_equal ((int)fb_params_num (&params, "overflow"), 2);
    assert_int_equal ((int)fb_params_num (&params, "handler_work"), 0);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_descriptor_names_publishers_as_concurrency),
        cmocka_unit_test (test_every_handler_call_is_measured_once),
        cmocka_unit_test (test_handler_sleep_waits_without_spending_cpu),
        cmocka_unit_test (test_default_params_spawn_on_overflow_and_account_every_call),
        cmocka_unit_test (test_handlers_override_sets_calls_per_event),
        cmocka_unit_test (test_peak_mix_calls_between_one_and_five_handlers),
        cmocka_unit_test (test_drop_policy_counts_drops_when_the_queue_is_full),
        cmocka_unit_test (test_drain_runs_or_abandons_every_queued_call),
        cmocka_unit_test (test_spawn_policy_runs_more_threads_than_workers),
        cmocka_unit_test (test_thread_per_handler_runs_every_call_on_its_own_thread),
        cmocka_unit_test (test_teardown_leaves_no_thread_running),
        cmocka_unit_test (test_full_queue_runs_calls_as_tasks_without_a_thread_each),
        cmocka_unit_test (test_the_collector_reports_its_cycles_and_heap),
        cmocka_unit_test (test_a_new_goroutine_block_counts_as_a_new_g),
        cmocka_unit_test (test_spawn_as_thread_starts_a_thread_per_overflowed_call),
        cmocka_unit_test (test_drain_abandons_spawned_calls_not_yet_started),
        cmocka_unit_test (test_bad_params_are_rejected),
        cmocka_unit_test (test_good_params_are_read_as_given),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_gosched.c: goroutine-like tasks of the eventbus model (workloads/eventbus/gosched.c):
 * every task runs to its end, a sleeping task holds no carrier (as a goroutine in time.Sleep
 * holds no thread), sleepers wake in the order of their deadlines (Go's timer heap), and
 * starting a task starts no thread. Counts and orders, never timings. */
#include "common/clock.h"
#include "workloads/eventbus/gosched.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/testlib.h"

#define T_TASKS 100

typedef struct {
    atomic_int started, asleep, max_asleep, done, next_slot;
    int order[T_TASKS]; /* task ids in the order they ended */
} t_log_t;

typedef struct {
    fb_gosched_task_t task; /* first: the scheduler's pointer is ours */
    t_log_t *log;
    int id;
    int64_t sleep_ns;
} t_task_t;

static int s_step (fb_gosched_task_t *task, int carrier) {
    (void)carrier;
    t_task_t *t = (t_task_t *)task;
    if (task->wake_ns == 0) {
        atomic_fetch_add (&t->log->started, 1);
        if (t->sleep_ns > 0) {
            int asleep = atomic_fetch_add (&t->log->asleep, 1) + 1;
            int max = atomic_load (&t->log->max_asleep);
            while (asleep > max &&
                   !atomic_compare_exchange_weak (&t->log->max_asleep, &max, asleep))
                ;
            task->wake_ns = fb_clock_now_ns () + t->sleep_ns;
            return FB_GOSCHED_SLEEP;
        }
    } else {
        atomic_fetch_sub (&t->log->asleep, 1);
    }
    t->log->order[atomic_fetch_add (&t->log->next_slot, 1)] = t->id;
    atomic_fetch_add (&t->log->done, 1);
    return FB_GOSCHED_DONE;
}

static void test_every_task_runs_to_its_end (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (2, &err);
    assert_non_null (s);
    assert_int_equal (fb_gosched_carriers (s), 2);
    static t_log_t log;
    static t_task_t tasks[T_TASKS];
    for (int i = 0; i < T_TASKS; i++) {
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = i};
        tasks[i].sleep_ns = i % 2 ? FB_NS_PER_MS : 0;
        fb_gosched_go (s, &tasks[i].task);
    }
    fb_gosched_wait (s);
    assert_int_equal (fb_gosched_live (s), 0);
    assert_int_equal (atomic_load (&log.done), T_TASKS);
    fb_gosched_destroy (&s);
    assert_null (s);
}

/* One carrier, T_TASKS tasks that each sleep 300 ms: if a sleeper held the carrier they would
 * run one at a time (max_asleep 1); parked in the timer heap they all sleep together. */
static void test_a_sleeping_task_holds_no_carrier (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (1, &err);
    assert_non_null (s);
    static t_log_t log;
    static t_task_t tasks[T_TASKS];
    for (int i = 0; i < T_TASKS; i++) {
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = i};
        tasks[i].sleep_ns = 300 * FB_NS_PER_MS;
        fb_gosched_go (s, &tasks[i].task);
    }
    fb_gosched_wait (s);
    assert_int_equal (atomic_load (&log.done), T_TASKS);
    assert_true (atomic_load (&log.max_asleep) > T_TASKS / 2);
    fb_gosched_destroy (&s);
}

/* Sleepers end in the order of their deadlines, whatever the order they were started in. */
static void test_sleepers_wake_in_deadline_order (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (1, &err);
    assert_non_null (s);
    static t_log_t log;
    static t_task_t tasks[8];
    const int ms[8] = {240, 40, 200, 80, 280, 120, 160, 20};
    for (int i = 0; i < 8; i++) {
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = ms[i]};
        tasks[i].sleep_ns = ms[i] * FB_NS_PER_MS;
        fb_gosched_go (s, &tasks[i].task);
    }
    fb_gosched_wait (s);
    for (int i = 1; i < 8; i++)
        assert_true (log.order[i - 1] < log.order[i]);
    fb_gosched_destroy (&s);
}

/* Starting and sleeping tasks starts no thread: the carriers are all there is. */
static void test_starting_a_task_starts_no_thread (void **state) {
    (void)state;
    int before = t_count_entries ("/proc/self/task");
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (2, &err);
    assert_non_null (s);
    assert_int_equal (t_count_entries ("/proc/self/task"), before + 2);
    static t_log_t log;
    static t_task_t tasks[T_TASKS];
    for (int i = 0; i < T_TASKS; i++) {
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = i};
        tasks[i].sleep_ns = 200 * FB_NS_PER_MS;
        fb_gosched_go (s, &tasks[i].task);
    }
    assert_int_equal (t_count_entries ("/proc/self/task"), before + 2);
    fb_gosched_destroy (&s); /* waits for the sleepers */
    assert_int_equal (atomic_load (&log.done), T_TASKS);
    assert_int_equal (t_count_entries ("/proc/self/task"), before);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_task_runs_to_its_end),
        cmocka_unit_test (test_a_sleeping_task_holds_no_carrier),
        cmocka_unit_test (test_sleepers_wake_in_deadline_order),
        cmocka_unit_test (test_starting_a_task_starts_no_thread),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

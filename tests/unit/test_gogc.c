/* test_gogc.c: the eventbus model's collector (workloads/eventbus/gogc.c): a cycle starts
 * when the bytes allocated reach the trigger and ends once every goroutine block is scanned;
 * the next goal grows with what the blocks in use hold; a cycle's stop-the-world makes a
 * thread holding a carrier give it back at its next enter. Counts and orders, never timings. */
#include "workloads/eventbus/gogc.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#define T_MB (1024LL * 1024)

static void test_a_cycle_starts_at_the_trigger_and_the_goal_follows_the_live_heap (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *sched = fb_gosched_new (1, &err);
    fb_gmem_t *gmem = fb_gmem_new (&err);
    assert_non_null (sched);
    assert_non_null (gmem);
    void *blocks[100];
    for (int i = 0; i < 100; i++)
        blocks[i] = fb_gmem_get (gmem);
    for (int i = 50; i < 100; i++) /* 50 in use, 50 dead */
        fb_gmem_put (gmem, blocks[i]);
    fb_gogc_t *gc = fb_gogc_new (sched, gmem, 100, T_MB, &err); /* each task holds 1 MB */
    assert_non_null (gc);

    fb_gogc_alloc (gc, 3 * T_MB); /* under the first trigger (most of the 4 MB minimum) */
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 0);
    fb_gogc_alloc (gc, 1 * T_MB);
    fb_gosched_wait (sched); /* the cycle's worker runs to the cycle's end */
    assert_int_equal (fb_gogc_cycles (gc), 1);

    /* 50 tasks in use hold 50 MB: the goal is twice that, so 10 MB starts nothing ... */
    fb_gogc_alloc (gc, 10 * T_MB);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 1);
    /* ... and 45 MB more does. */
    fb_gogc_alloc (gc, 45 * T_MB);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 2);

    fb_gosched_destroy (&sched);
    fb_gogc_destroy (&gc);
    for (int i = 0; i < 50; i++)
        fb_gmem_put (gmem, blocks[i]);
    fb_gmem_destroy (&gmem);
}

typedef struct {
    fb_gosched_task_t task;
    atomic_int ran;
} t_flag_t;

static int s_flag_step (fb_gosched_task_t *task, int carrier) {
    (void)carrier;
    atomic_store (&((t_flag_t *)task)->ran, 1);
    return FB_GOSCHED_DONE;
}

/* A thread keeps its carrier from one enter to the next within its slice, so a task it started
 * waits; after a stop-the-world its next enter gives the carrier back, and the task runs. */
static void test_a_stop_the_world_makes_a_holder_give_its_carrier_back (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *sched = fb_gosched_new (1, &err);
    assert_non_null (sched);
    static t_flag_t flag;
    flag.task.step = s_flag_step;
    fb_gosched_enter (sched);
    fb_gosched_go (sched, &flag.task); /* to the carrier's next slot: it is this thread's */
    fb_gosched_leave (sched, false);
    fb_gosched_enter (sched); /* same slice: keeps the carrier */
    assert_int_equal (atomic_load (&flag.ran), 0);
    fb_gosched_leave (sched, false);
    fb_gosched_preempt_all (sched);
    fb_gosched_enter (sched); /* gives it back, queues, and gets it again after the task */
    assert_int_equal (atomic_load (&flag.ran), 1);
    fb_gosched_leave (sched, true);
    fb_gosched_destroy (&sched);
}

typedef struct {
    fb_gosched_t *sched;
    atomic_int entering;
    t_flag_t flag;
    int ran_at_second_enter;
} t_waiter_t;

static void *s_waiter_main (void *arg) {
    t_waiter_t *w = arg;
    atomic_store (&w->entering, 1);
    fb_gosched_enter (w->sched); /* waits in the run queue across the stop-the-world */
    fb_gosched_go (w->sched, &w->flag.task);
    fb_gosched_leave (w->sched, false);
    fb_gosched_enter (w->sched); /* its slice began after the stop: keeps the carrier */
    w->ran_at_second_enter = atomic_load (&w->flag.ran);
    fb_gosched_leave (w->sched, true);
    return NULL;
}

/* One try: a thread queued for the only carrier across a stop-the-world gets it, starts a
 * task, leaves and enters again; returns whether the task ran in between (it must not). */
static int s_ran_after_a_stop_while_queued (void) {
    fb_err_t err = {0};
    static t_waiter_t w;
    w = (t_waiter_t){.sched = fb_gosched_new (1, &err), .flag = {.task = {.step = s_flag_step}}};
    assert_non_null (w.sched);
    atomic_init (&w.entering, 0);
    atomic_init (&w.flag.ran, 0);
    fb_gosched_enter (w.sched); /* holds the only carrier */
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_waiter_main, &w), 0);
    while (!atomic_load (&w.entering))
        sched_yield ();
    struct timespec pause = {0, 20 * 1000 * 1000}; /* lets it reach the run queue */
    nanosleep (&pause, NULL);
    fb_gosched_preempt_all (w.sched);
    fb_gosched_leave (w.sched, true); /* the carrier goes to the waiting thread */
    pthread_join (thread, NULL);
    fb_gosched_destroy (&w.sched);
    return w.ran_at_second_enter;
}

/* A stop-the-world preempts the threads holding carriers, not those still waiting in the run
 * queue: a thread lent a carrier after it keeps it for its slice, as a goroutine that was
 * runnable during a stop-the-world runs its full slice after it. A stopped-out thread fails
 * every try; up to three tries, since a loaded machine can keep the thread off the CPU for
 * over 1 ms between its leave and enter, and the carrier then takes itself back. */
static void test_a_stop_the_world_leaves_queued_threads_alone (void **state) {
    (void)state;
    int ran = 1;
    for (int try = 0; try < 3 && ran; try++)
        ran = s_ran_after_a_stop_while_queued ();
    assert_int_equal (ran, 0);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_cycle_starts_at_the_trigger_and_the_goal_follows_the_live_heap),
        cmocka_unit_test (test_a_stop_the_world_makes_a_holder_give_its_carrier_back),
        cmocka_unit_test (test_a_stop_the_world_leaves_queued_threads_alone),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

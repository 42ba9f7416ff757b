/* test_gogc.c: the eventbus model's collector (workloads/eventbus/gogc.c): a cycle starts
 * when the bytes allocated reach the trigger and ends once every goroutine block is scanned,
 * by whoever scans the last; the next goal grows with what the blocks in use hold; a cycle's
 * stop-the-world makes a thread holding a carrier give it back at its next enter; threads
 * that allocate while a cycle starts wait for it and go on in turn. Counts and orders, never
 * timings. */
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
#define T_BLOCKS 100

/* A one-carrier scheduler, a goroutine pool with T_BLOCKS blocks handed out of which the first
 * `in_use` are still in use, and a collector with GOGC 100 over them. */
typedef struct {
    fb_gosched_t *sched;
    fb_gmem_t *gmem;
    fb_gogc_t *gc;
    void *blocks[T_BLOCKS];
    int in_use;
} t_heap_t;

static void s_heap_new (t_heap_t *h, int in_use, int64_t live_bytes_per_task) {
    fb_err_t err = {0};
    *h =
        (t_heap_t){.sched = fb_gosched_new (1, &err), .gmem = fb_gmem_new (&err), .in_use = in_use};
    assert_non_null (h->sched);
    assert_non_null (h->gmem);
    for (int i = 0; i < T_BLOCKS; i++)
        h->blocks[i] = fb_gmem_get (h->gmem, NULL);
    for (int i = in_use; i < T_BLOCKS; i++)
        fb_gmem_put (h->gmem, h->blocks[i]);
    h->gc = fb_gogc_new (h->sched, h->gmem, 100, live_bytes_per_task, 0, &err);
    assert_non_null (h->gc);
}

static void s_heap_destroy (t_heap_t *h) {
    fb_gosched_destroy (&h->sched);
    fb_gogc_destroy (&h->gc);
    for (int i = 0; i < h->in_use; i++)
        fb_gmem_put (h->gmem, h->blocks[i]);
    fb_gmem_destroy (&h->gmem);
}

static void test_a_cycle_starts_at_the_trigger_and_the_goal_follows_the_live_heap (void **state) {
    (void)state;
    static t_heap_t h;
    s_heap_new (&h, 50, T_MB); /* 50 in use, 50 dead; each task holds 1 MB */
    fb_gosched_t *sched = h.sched;
    fb_gogc_t *gc = h.gc;

    fb_gogc_alloc (gc, 3 * T_MB); /* under the first trigger (most of the 4 MB minimum) */
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 0);
    assert_int_equal (fb_gogc_heap_touched (gc), 3 * T_MB); /* the heap's pages so far */
    fb_gogc_alloc (gc, 1 * T_MB);
    fb_gosched_wait (sched); /* the cycle's worker runs to the cycle's end */
    assert_int_equal (fb_gogc_cycles (gc), 1);

    /* 50 tasks in use hold 50 MB: the goal is twice that, so 10 MB starts nothing ... */
    fb_gogc_alloc (gc, 10 * T_MB);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 1);
    /* the live heap without the g's (50 MB) and the 10 MB since */
    assert_int_equal (fb_gogc_heap_touched (gc), 60 * T_MB);
    /* ... and 45 MB more does. */
    fb_gogc_alloc (gc, 45 * T_MB);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 2);
    s_heap_destroy (&h);
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

/* Go's gcMarkDone: whoever does a cycle's last scan work ends it, an assist as well as the
 * background worker. The thread holds the only carrier, so the worker cannot run; its own
 * allocations' assists scan every block, and the cycle ends while it still holds the carrier. */
static void test_an_assist_that_scans_the_last_block_ends_the_cycle (void **state) {
    (void)state;
    static t_heap_t h;
    s_heap_new (&h, T_BLOCKS, 0);
    fb_gosched_t *sched = h.sched;
    fb_gogc_t *gc = h.gc;
    fb_gosched_enter (sched);
    fb_gogc_alloc (gc, 4 * T_MB); /* the first cycle; its worker runs once the carrier is back */
    fb_gosched_leave (sched, true);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 1);

    fb_gosched_enter (sched);
    fb_gogc_alloc (gc, 4 * T_MB); /* the second: its worker waits for the carrier */
    assert_int_equal (fb_gogc_cycles (gc), 1);
    fb_gogc_alloc (gc, 1 * T_MB); /* past the runway: the assist scans all 100 blocks */
    assert_true (fb_gosched_holding (sched));
    assert_int_equal (fb_gogc_cycles (gc), 2);
    fb_gosched_leave (sched, true);
    fb_gosched_wait (sched);
    assert_int_equal (fb_gogc_cycles (gc), 2);
    s_heap_destroy (&h);
}

/* Go allocates black: what is allocated while a cycle marks is live when it ends, and the
 * next goal grows with it. 10 MB allocated during the second cycle's marking (its worker
 * waits for the carrier; the assist ends it) put the next goal past 20 MB, so 9 MB more starts
 * no cycle; with only the g's counted the goal would be 4 MB. */
static void test_bytes_allocated_while_marking_are_live_at_the_end (void **state) {
    (void)state;
    static t_heap_t h;
    s_heap_new (&h, 0, 0);
    fb_gosched_enter (h.sched);
    fb_gogc_alloc (h.gc, 4 * T_MB);
    fb_gosched_leave (h.sched, true);
    fb_gosched_wait (h.sched); /* the first cycle, ended by its worker */
    fb_gosched_enter (h.sched);
    fb_gogc_alloc (h.gc, 4 * T_MB);  /* the second starts */
    fb_gogc_alloc (h.gc, 10 * T_MB); /* allocated black; the assist ends the cycle */
    assert_int_equal (fb_gogc_cycles (h.gc), 2);
    fb_gogc_alloc (h.gc, 9 * T_MB);
    fb_gosched_leave (h.sched, true);
    fb_gosched_wait (h.sched); /* a cycle started would end here */
    assert_int_equal (fb_gogc_cycles (h.gc), 2);
    s_heap_destroy (&h);
}

typedef struct {
    fb_gosched_t *sched;
    fb_gogc_t *gc;
    atomic_int entering, seq;
    int back[3]; /* the order in which each thread's allocation returned: 0 main, 1 and 2 */
} t_convoy_t;

static t_convoy_t s_convoy;

static void *s_convoy_main (void *arg) {
    int id = (int)(intptr_t)arg;
    atomic_fetch_add (&s_convoy.entering, 1);
    fb_gosched_enter (s_convoy.sched); /* queued behind the main thread's carrier */
    fb_gogc_alloc (s_convoy.gc, 1);
    s_convoy.back[id] = atomic_fetch_add (&s_convoy.seq, 1);
    fb_gosched_leave (s_convoy.sched, true);
    return NULL;
}

/* Go's gcStart: a goroutine that allocates while another starts a cycle waits on startSema
 * until the starter is done. The main thread holds the only carrier with two threads queued
 * behind it and starts the first cycle, whose start gives the carrier up (Go's first cycle
 * starts its mark workers); the two threads run meanwhile, allocate, and wait in line: both
 * waited, and both return from their allocations after the starter. Without the line they
 * would not wait; without the first start's requeue they would not run before it ended. */
static void test_threads_allocating_while_a_cycle_starts_wait_for_it_in_turn (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gmem_t *gmem = fb_gmem_new (&err);
    s_convoy = (t_convoy_t){.sched = fb_gosched_new (1, &err)};
    assert_non_null (gmem);
    assert_non_null (s_convoy.sched);
    s_convoy.gc = fb_gogc_new (s_convoy.sched, gmem, 100, 0, 0, &err);
    assert_non_null (s_convoy.gc);
    atomic_init (&s_convoy.entering, 0);
    atomic_init (&s_convoy.seq, 0);
    fb_gosched_enter (s_convoy.sched);
    pthread_t threads[2];
    struct timespec pause = {0, 20 * 1000 * 1000}; /* lets it reach the run queue */
    for (int i = 0; i < 2; i++) {
        assert_int_equal (
            pthread_create (&threads[i], NULL, s_convoy_main, (void *)(intptr_t)(i + 1)), 0);
        while (atomic_load (&s_convoy.entering) < i + 1)
            sched_yield ();
        nanosleep (&pause, NULL);
    }
    fb_gogc_alloc (s_convoy.gc, 4 * T_MB); /* past the first trigger: this thread starts it */
    s_convoy.back[0] = atomic_fetch_add (&s_convoy.seq, 1);
    fb_gosched_leave (s_convoy.sched, true);
    for (int i = 0; i < 2; i++)
        pthread_join (threads[i], NULL);
    assert_int_equal (s_convoy.back[0], 0);
    assert_int_equal (s_convoy.back[1] + s_convoy.back[2], 3); /* 1 and 2, in either order */
    assert_int_equal (fb_gogc_start_waits (s_convoy.gc), 2);
    fb_gosched_wait (s_convoy.sched);
    assert_int_equal (fb_gogc_cycles (s_convoy.gc), 1);
    fb_gosched_destroy (&s_convoy.sched);
    fb_gogc_destroy (&s_convoy.gc);
    fb_gmem_destroy (&gmem);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_cycle_starts_at_the_trigger_and_the_goal_follows_the_live_heap),
        cmocka_unit_test (test_a_stop_the_world_makes_a_holder_give_its_carrier_back),
        cmocka_unit_test (test_a_stop_the_world_leaves_queued_threads_alone),
        cmocka_unit_test (test_an_assist_that_scans_the_last_block_ends_the_cycle),
        cmocka_unit_test (test_bytes_allocated_while_marking_are_live_at_the_end),
        cmocka_unit_test (test_threads_allocating_while_a_cycle_starts_wait_for_it_in_turn),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

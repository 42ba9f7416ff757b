/* test_gosched.c: goroutine-like tasks of the eventbus model (workloads/eventbus/gosched.c):
 * every task runs to its end, a sleeping task holds no carrier (as a goroutine in time.Sleep
 * holds no thread), sleepers wake in the order of their deadlines (Go's timer heap), and
 * starting a task starts no thread; threads that enter run only on a carrier lent to them,
 * share the carriers with the tasks, and give a carrier back when they block, end or stay out
 * too long. Counts and orders, never timings. */
#include "common/clock.h"
#include "workloads/eventbus/gosched.h"

#include <pthread.h>
#include <sched.h>
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

/* ---- holders: threads that run Go code only on a lent carrier ----------------------------- */

#define T_HOLDERS 6
#define T_ROUNDS 200

typedef struct {
    fb_gosched_t *sched;
    atomic_int inside, max_inside, entered, tasks_done;
    t_task_t tasks[T_HOLDERS];
} t_share_t;

static void s_inside (t_share_t *share) {
    int now = atomic_fetch_add (&share->inside, 1) + 1;
    int max = atomic_load (&share->max_inside);
    while (now > max && !atomic_compare_exchange_weak (&share->max_inside, &max, now))
        ;
    for (volatile int i = 0; i < 2000; i++)
        ;
    atomic_fetch_sub (&share->inside, 1);
}

static t_share_t *s_share;

static int s_share_step (fb_gosched_task_t *task, int carrier) {
    (void)task;
    (void)carrier;
    s_inside (s_share);
    atomic_fetch_add (&s_share->tasks_done, 1);
    return FB_GOSCHED_DONE;
}

static void *s_holder_main (void *arg) {
    t_share_t *share = s_share;
    int id = (int)(intptr_t)arg;
    for (int r = 0; r < T_ROUNDS; r++) {
        fb_gosched_enter (share->sched);
        atomic_fetch_add (&share->entered, 1);
        s_inside (share);
        if (r == T_ROUNDS / 2) /* a task started from inside goes to the carrier's next slot */
            fb_gosched_go (share->sched, &share->tasks[id].task);
        fb_gosched_leave (share->sched, false);
    }
    return NULL; /* the thread ends holding its carrier: it goes back then */
}

/* One carrier, six threads entering 200 times each and six tasks: never two of them run at
 * once, as only one goroutine runs on one P; every round and every task ends. */
static void test_holders_and_tasks_share_the_carriers (void **state) {
    (void)state;
    fb_err_t err = {0};
    static t_share_t share;
    s_share = &share;
    share.sched = fb_gosched_new (1, &err);
    assert_non_null (share.sched);
    for (int i = 0; i < T_HOLDERS; i++)
        share.tasks[i] = (t_task_t){.task = {.step = s_share_step}};
    pthread_t threads[T_HOLDERS];
    for (int i = 0; i < T_HOLDERS; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_holder_main, (void *)(intptr_t)i),
                          0);
    for (int i = 0; i < T_HOLDERS; i++)
        pthread_join (threads[i], NULL);
    fb_gosched_wait (share.sched);
    assert_int_equal (atomic_load (&share.entered), T_HOLDERS * T_ROUNDS);
    assert_int_equal (atomic_load (&share.tasks_done), T_HOLDERS);
    assert_int_equal (atomic_load (&share.max_inside), 1);
    fb_gosched_destroy (&share.sched);
}

/* A one-carrier scheduler whose carrier this thread holds, and a task it started, waiting
 * in the carrier's next slot. */
static fb_gosched_t *s_held_with_task (t_log_t *log, t_task_t *task) {
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (1, &err);
    assert_non_null (s);
    *task = (t_task_t){.task = {.step = s_step}, .log = log};
    fb_gosched_enter (s);
    fb_gosched_go (s, &task->task);
    return s;
}

/* A task started by a thread that holds the only carrier waits until the thread gives the
 * carrier back: here by leaving to block. */
static void test_a_task_waits_for_its_holder_to_give_the_carrier_back (void **state) {
    (void)state;
    static t_log_t log;
    static t_task_t task;
    fb_gosched_t *s = s_held_with_task (&log, &task);
    fb_clock_sleep_until_ns (fb_clock_now_ns () + 50 * FB_NS_PER_MS);
    assert_int_equal (atomic_load (&log.done), 0); /* the carrier is this thread's */
    fb_gosched_leave (s, true);
    fb_gosched_wait (s);
    assert_int_equal (atomic_load (&log.done), 1);
    fb_gosched_destroy (&s);
}

/* A thread that left keeping its carrier and stays out loses it: the carrier takes itself
 * back and runs the task; the thread then enters again through the run queue. */
static void test_a_carrier_takes_itself_back_from_a_thread_gone_idle (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *s = fb_gosched_new (1, &err);
    assert_non_null (s);
    static t_log_t log;
    static t_task_t tasks[2];
    for (int i = 0; i < 2; i++)
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = i};
    fb_gosched_enter (s);
    fb_gosched_go (s, &tasks[0].task);
    fb_gosched_leave (s, false);
    fb_gosched_wait (s); /* would wait for ever if the carrier stayed lent */
    assert_int_equal (atomic_load (&log.done), 1);
    fb_gosched_enter (s);
    fb_gosched_go (s, &tasks[1].task);
    fb_gosched_leave (s, true);
    fb_gosched_wait (s);
    assert_int_equal (atomic_load (&log.done), 2);
    fb_gosched_destroy (&s);
}

typedef struct {
    fb_gosched_t *sched;
    fb_gosched_waitq_t q;
    atomic_bool blocked;
    t_log_t log;
} t_block_t;

static void *s_waker_main (void *arg) {
    t_block_t *b = arg;
    while (atomic_load (&b->log.done) == 0) /* the task runs only once the carrier is back */
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
    atomic_store (&b->blocked, false);
    fb_gosched_wake_all (b->sched, &b->q);
    return NULL;
}

/* A thread blocked on a wait queue gives its carrier back (a task it started runs), and a
 * wake_all brings it back holding a carrier, as a parked goroutine is readied; with the
 * condition clear, block returns at once, the carrier kept. */
static void test_a_blocked_holder_comes_back_holding_a_carrier (void **state) {
    (void)state;
    fb_err_t err = {0};
    static t_block_t b;
    b = (t_block_t){.sched = fb_gosched_new (1, &err)};
    assert_non_null (b.sched);
    atomic_init (&b.blocked, false);
    static t_task_t task;
    task = (t_task_t){.task = {.step = s_step}, .log = &b.log};
    fb_gosched_enter (b.sched);
    fb_gosched_block (b.sched, &b.q, &b.blocked); /* clear: returns at once */
    assert_true (fb_gosched_holding (b.sched));
    fb_gosched_go (b.sched, &task.task); /* waits in this carrier's next slot */
    atomic_store (&b.blocked, true);
    pthread_t waker;
    assert_int_equal (pthread_create (&waker, NULL, s_waker_main, &b), 0);
    fb_gosched_block (b.sched, &b.q, &b.blocked);
    assert_int_equal (atomic_load (&b.log.done), 1);
    assert_true (fb_gosched_holding (b.sched));
    pthread_join (waker, NULL);
    fb_gosched_leave (b.sched, true);
    fb_gosched_destroy (&b.sched);
}

typedef struct {
    fb_gosched_t *sched;
    fb_gosched_sema_t *sema;
    t_task_t task; /* started before it takes the semaphore: runs once it waits in line */
    atomic_int back, took;
} t_in_line_t;

static void *s_in_line_main (void *arg) {
    t_in_line_t *l = arg;
    fb_gosched_enter (l->sched);
    fb_gosched_go (l->sched, &l->task.task);
    atomic_store (&l->took, fb_gosched_sema_acquire (l->sched, l->sema, NULL));
    atomic_store (&l->back, 1);
    fb_gosched_leave (l->sched, true); /* the test releases for it */
    return NULL;
}

/* Go's semaphore, as gcStart takes work.startSema: while one thread holds it, holders of
 * carriers that take it wait in line; a release hands it to the first in line only, and
 * the next release to the next. A thread holding no carrier takes it only when it is free. */
static void test_a_released_semaphore_goes_to_the_first_in_line_only (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_gosched_t *sched = fb_gosched_new (1, &err);
    assert_non_null (sched);
    static fb_gosched_sema_t sema;
    static t_log_t log;
    assert_int_equal (fb_gosched_sema_acquire (sched, &sema, NULL), FB_GOSCHED_SEMA_TAKEN);
    static t_in_line_t line[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        line[i] = (t_in_line_t){
            .sched = sched, .sema = &sema, .task = {.task = {.step = s_step}, .log = &log}};
        assert_int_equal (pthread_create (&threads[i], NULL, s_in_line_main, &line[i]), 0);
        while (atomic_load (&log.done) < i + 1) /* its task ran: it waits in line */
            fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
    }
    assert_int_equal (fb_gosched_sema_acquire (sched, &sema, NULL), FB_GOSCHED_SEMA_NOT_TAKEN);
    fb_gosched_sema_release (sched, &sema);
    while (!atomic_load (&line[0].back))
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
    fb_clock_sleep_until_ns (fb_clock_now_ns () + 50 * FB_NS_PER_MS);
    assert_int_equal (atomic_load (&line[1].back), 0);
    fb_gosched_sema_release (sched, &sema); /* for the first, which holds it */
    for (int i = 0; i < 2; i++) {
        pthread_join (threads[i], NULL);
        assert_int_equal (atomic_load (&line[i].took), FB_GOSCHED_SEMA_WAITED);
    }
    fb_gosched_sema_release (sched, &sema); /* for the second: now it is free */
    assert_int_equal (fb_gosched_sema_acquire (sched, &sema, NULL), FB_GOSCHED_SEMA_TAKEN);
    fb_gosched_sema_release (sched, &sema);
    fb_gosched_destroy (&sched);
}

typedef struct {
    fb_gosched_t *sched;
    t_task_t *task;
} t_starter_t;

static void *s_go_main (void *arg) { /* not a holder: its task goes to the global queue */
    t_starter_t *st = arg;
    fb_gosched_go (st->sched, &st->task->task);
    return NULL;
}

/* A holder that requeues gives its carrier back and gets one again only from the back of the
 * global run queue: the task it started (in its carrier's next slot) and a task another
 * thread queued on the global queue before it both run first. */
static void test_a_requeued_holder_comes_back_after_what_was_queued (void **state) {
    (void)state;
    static t_log_t log;
    static t_task_t task, queued;
    fb_gosched_t *s = s_held_with_task (&log, &task);
    queued = (t_task_t){.task = {.step = s_step}, .log = &log, .id = 1};
    t_starter_t st = {.sched = s, .task = &queued};
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_go_main, &st), 0);
    pthread_join (thread, NULL);
    fb_gosched_requeue (s);
    assert_int_equal (atomic_load (&log.done), 2);
    assert_true (fb_gosched_holding (s));
    fb_gosched_leave (s, true);
    fb_gosched_destroy (&s);
}

/* Yields until *count reaches n, or until deadline_ns (then the caller's assertion fails). */
static void s_yield_until (atomic_int *count, int n, int64_t deadline_ns) {
    while (atomic_load (count) < n && fb_clock_now_ns () < deadline_ns)
        sched_yield ();
}

/* A task a holder starts goes to its carrier's queue without the scheduler's lock; an idle
 * carrier must still see it and steal it. One at a time, so that each start races the other
 * carrier going idle: a lost wake-up leaves a task unrun while the holder keeps its carrier. */
static void test_an_idle_carrier_steals_from_a_held_one (void **state) {
    (void)state;
    enum { ROUNDS = 2000 };
    fb_err_t err = {0};
    static t_log_t log;
    static t_task_t tasks[ROUNDS];
    fb_gosched_t *s = fb_gosched_new (2, &err);
    assert_non_null (s);
    fb_gosched_enter (s);
    int64_t deadline = fb_clock_now_ns () + 20 * FB_NS_PER_S;
    for (int i = 0; i < ROUNDS; i++) {
        tasks[i] = (t_task_t){.task = {.step = s_step}, .log = &log, .id = i % T_TASKS};
        atomic_store (&log.next_slot, 0);
        fb_gosched_go (s, &tasks[i].task);
        s_yield_until (&log.done, i + 1, deadline);
        assert_int_equal (atomic_load (&log.done), i + 1);
    }
    assert_true (fb_gosched_holding (s)); /* all ran on the other carrier */
    fb_gosched_leave (s, true);
    fb_gosched_destroy (&s);
}

typedef struct {
    fb_gosched_task_t task; /* first */
    atomic_int runs;
} t_once_t;

static atomic_int s_once_done;

static int s_once_step (fb_gosched_task_t *task, int carrier) {
    (void)carrier;
    atomic_fetch_add (&((t_once_t *)task)->runs, 1);
    atomic_fetch_add (&s_once_done, 1);
    return FB_GOSCHED_DONE;
}

/* A holder that starts more tasks than a local queue holds, without a pause: the older half
 * spills to the global queue each time the local one fills, and every task runs once. */
static void test_a_full_local_queue_spills_and_every_task_runs (void **state) {
    (void)state;
    enum { TASKS = 3000 };
    fb_err_t err = {0};
    static t_once_t tasks[TASKS];
    fb_gosched_t *s = fb_gosched_new (2, &err);
    assert_non_null (s);
    fb_gosched_enter (s);
    for (int i = 0; i < TASKS; i++) {
        tasks[i] = (t_once_t){.task = {.step = s_once_step}};
        fb_gosched_go (s, &tasks[i].task);
    }
    int64_t deadline = fb_clock_now_ns () + 20 * FB_NS_PER_S;
    s_yield_until (&s_once_done, TASKS, deadline);
    assert_int_equal (atomic_load (&s_once_done), TASKS); /* all on the other carrier */
    fb_gosched_leave (s, true);
    fb_gosched_wait (s);
    for (int i = 0; i < TASKS; i++)
        assert_int_equal (atomic_load (&tasks[i].runs), 1);
    fb_gosched_destroy (&s);
}

typedef struct {
    fb_gosched_t *sched;
    cpu_set_t all;
    atomic_int enters, narrowed;
} t_cpus_t;

static void *s_cpus_main (void *arg) {
    t_cpus_t *c = arg;
    for (int i = 0; i < 50; i++) {
        fb_gosched_enter (c->sched);
        cpu_set_t mine;
        pthread_getaffinity_np (pthread_self (), sizeof mine, &mine);
        atomic_fetch_add (&c->enters, 1);
        if (!CPU_EQUAL (&mine, &c->all))
            atomic_fetch_add (&c->narrowed, 1);
        fb_gosched_requeue (c->sched); /* lends the carrier on to the other thread */
        fb_gosched_leave (c->sched, true);
    }
    return NULL;
}

/* With hand-offs on one CPU, a thread lent a carrier runs first on the lender's CPU, then on
 * its own CPUs again: two threads take turns on one carrier, lending it to each other, and
 * each finds its CPUs whole again whenever it holds the carrier. */
static void test_a_thread_handed_a_carrier_gets_every_cpu_back (void **state) {
    (void)state;
    fb_err_t err = {0};
    static t_cpus_t c;
    c.sched = fb_gosched_new (1, &err);
    assert_non_null (c.sched);
    fb_gosched_set_same_cpu (c.sched, true);
    assert_int_equal (pthread_getaffinity_np (pthread_self (), sizeof c.all, &c.all), 0);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_cpus_main, &c), 0);
    for (int i = 0; i < 2; i++)
        pthread_join (threads[i], NULL);
    assert_int_equal (atomic_load (&c.enters), 100);
    assert_true (fb_gosched_on_one_cpu (c.sched) > 0); /* hand-offs were made on one CPU */
    assert_int_equal (atomic_load (&c.narrowed), 0);
    fb_gosched_destroy (&c.sched);
}

typedef struct {
    pthread_mutex_t lock;
    long count;
} t_counted_t;

static void *s_count_main (void *arg) {
    t_counted_t *c = arg;
    for (int i = 0; i < 50000; i++) {
        fb_gosched_lock (&c->lock);
        c->count++;
        pthread_mutex_unlock (&c->lock);
    }
    return NULL;
}

/* Go's lock2 on a mutex still excludes: four threads, 50 000 increments each, none lost. */
static void test_the_go_lock_excludes (void **state) {
    (void)state;
    static t_counted_t c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_count_main, &c), 0);
    for (int i = 0; i < 4; i++)
        pthread_join (threads[i], NULL);
    assert_int_equal (c.count, 200000);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_task_runs_to_its_end),
        cmocka_unit_test (test_a_sleeping_task_holds_no_carrier),
        cmocka_unit_test (test_sleepers_wake_in_deadline_order),
        cmocka_unit_test (test_starting_a_task_starts_no_thread),
        cmocka_unit_test (test_holders_and_tasks_share_the_carriers),
        cmocka_unit_test (test_a_task_waits_for_its_holder_to_give_the_carrier_back),
        cmocka_unit_test (test_a_carrier_takes_itself_back_from_a_thread_gone_idle),
        cmocka_unit_test (test_a_blocked_holder_comes_back_holding_a_carrier),
        cmocka_unit_test (test_a_released_semaphore_goes_to_the_first_in_line_only),
        cmocka_unit_test (test_a_requeued_holder_comes_back_after_what_was_queued),
        cmocka_unit_test (test_an_idle_carrier_steals_from_a_held_one),
        cmocka_unit_test (test_a_full_local_queue_spills_and_every_task_runs),
        cmocka_unit_test (test_a_thread_handed_a_carrier_gets_every_cpu_back),
        cmocka_unit_test (test_the_go_lock_excludes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

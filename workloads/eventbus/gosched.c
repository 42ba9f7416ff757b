/* gosched.c: goroutine-like tasks on a fixed set of carrier threads (see gosched.h). One lock
 * guards the global run queue, the timer heap, the holders' loans and the idle carriers; each
 * carrier's next slot and local queue have a short lock of their own, so that a task started
 * or readied on a carrier does not take the scheduler's (Go's runqput is lock-free). A
 * carrier that finds nothing to run counts itself idle, looks once more (tasks are queued to
 * carriers without the scheduler's lock) and waits on a condition variable until the earliest
 * sleeper is due or a task is queued. A thread that enters (a holder) is queued as a token
 * task; the carrier that takes the token lends itself to the holder and waits until it is
 * given back. The holder that gives it back picks the carrier's next task itself, as Go's
 * schedule runs on the thread whose goroutine stopped: another holder's token is lent on at
 * once, without a wake-up of the carrier's thread in between. */
#include "workloads/eventbus/gosched.h"

#include "common/clock.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_AWAY_NS (50 * FB_NS_PER_US)  /* a gap between leave and enter this long: it slept */
#define S_RETAKE_NS (1 * FB_NS_PER_MS) /* a holder out this long loses its carrier */
#define S_LOCAL 256                    /* a carrier's local run queue (Go's P.runq) */
#define S_GLOBAL_EVERY 61              /* every 61st pick looks at the global queue first */

typedef struct s_holder s_holder_t;

/* A thread's CPUs, for hand-offs on one CPU (fb_gosched_set_same_cpu). */
typedef struct {
    cpu_set_t own; /* the CPUs it may use, as it found them when it first took part */
    bool narrowed; /* handed a carrier on one CPU, and not widened back yet (under lock) */
} s_cpus_t;

typedef struct {
    fb_gosched_t *sched;
    pthread_t thread;
    int index;
    pthread_mutex_t qlock;             /* guards runnext and local (below) */
    fb_gosched_task_t *runnext;        /* runs next: the last task started or readied on it */
    fb_gosched_task_t *local[S_LOCAL]; /* its local run queue, a ring */
    uint32_t lhead, ltail;
    uint32_t ticks;            /* tasks picked */
    s_holder_t *lent_to;       /* the holder it waits for, or NULL */
    pthread_cond_t returned;   /* lent_to went to NULL */
    s_cpus_t cpus;             /* its thread's */
    fb_gosched_task_t *picked; /* what the holder that gave it back picked for it to run */
} s_carrier_t;

/* A holder's state: only its thread moves it out of S_NOT_HELD, and only its thread (or a
 * carrier taking itself back from an S_IDLE holder, by compare-and-swap) into it. */
enum { S_NOT_HELD, S_IN_OP, S_IDLE };

/* A thread that runs Go code outside the carriers, one per thread (thread-local). */
struct s_holder {
    fb_gosched_task_t token; /* first: queued in the run queue to ask for a carrier */
    fb_gosched_t *sched;     /* the scheduler it holds or last held a carrier of */
    s_carrier_t *carrier;    /* lent to it; meaningful while state is not S_NOT_HELD */
    atomic_int state;
    atomic_int_fast64_t left_ns; /* when it last left */
    int64_t slice_end_ns;
    int epoch;             /* the scheduler's epoch when a carrier was last lent to it */
    bool release_at_leave; /* its last gap was long: it does not keep the carrier */
    pthread_cond_t lent;   /* a carrier was lent to it */
    pthread_t thread;
    s_cpus_t cpus;
};

struct fb_gosched {
    pthread_mutex_t lock;
    pthread_cond_t work_cond;  /* a task was queued, or the scheduler is stopping */
    pthread_cond_t done_cond;  /* live went to 0 */
    fb_gosched_waitq_t global; /* the global run queue, FIFO */
    int64_t nglobal;
    fb_gosched_task_t **heap; /* sleepers, a binary min-heap on wake_ns */
    int nheap, heap_cap;
    atomic_int_fast64_t live; /* tasks started and not ended */
    atomic_int idle, waking;  /* carriers waiting, and wake-ups sent they have not taken yet */
    bool stopping;
    s_carrier_t *carriers;
    int ncarriers, started;
    fb_gosched_task_t *first; /* runs before anything else: the collector's (Go's GC worker) */
    atomic_int epoch;         /* bumped by fb_gosched_preempt_all */
    bool same_cpu;            /* hand-offs on one CPU (fb_gosched_set_same_cpu) */
    int64_t on_one_cpu;       /* hand-offs made so */
};

/* ---- hand-offs on one CPU ----------------------------------------------------------------- */

/* Reads the calling thread's own CPUs. */
static void s_cpus_init (s_cpus_t *cpus) {
    if (pthread_getaffinity_np (pthread_self (), sizeof cpus->own, &cpus->own) != 0)
        memset (&cpus->own, 0xff, sizeof cpus->own);
    cpus->narrowed = false;
}

/* Lets a thread about to be woken by this one, which is about to wait, run only on this one's
 * CPU (under lock), when that CPU is one of the woken thread's own. A system that refuses
 * affinities turns hand-offs on one CPU off. */
static void s_to_this_cpu (fb_gosched_t *self, pthread_t thread, s_cpus_t *cpus) {
    int cpu = self->same_cpu ? sched_getcpu () : -1;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET (cpu, &cpus->own))
        return;
    cpu_set_t one;
    CPU_ZERO (&one);
    CPU_SET (cpu, &one);
    int rc = pthread_setaffinity_np (thread, sizeof one, &one);
    if (rc == 0) {
        cpus->narrowed = true;
        self->on_one_cpu++;
    } else if (rc == EPERM) {
        self->same_cpu = false;
    }
}

/* The woken thread, running, outside the lock: its own CPUs again; when those are no longer
 * allowed (a cpuset changed meanwhile), every CPU the kernel allows. */
static void s_to_own_cpus (s_cpus_t *cpus) {
    if (!cpus->narrowed)
        return;
    cpus->narrowed = false;
    if (pthread_setaffinity_np (pthread_self (), sizeof cpus->own, &cpus->own) != 0) {
        cpu_set_t every;
        memset (&every, 0xff, sizeof every);
        pthread_setaffinity_np (pthread_self (), sizeof every, &every);
    }
}

/* ---- the timer heap (under lock) ---------------------------------------------------------- */

static bool s_heap_push (fb_gosched_t *self, fb_gosched_task_t *task) {
    if (self->nheap == self->heap_cap) {
        int cap = self->heap_cap ? self->heap_cap * 2 : 1024;
        fb_gosched_task_t **heap = realloc (self->heap, (size_t)cap * sizeof *heap);
        if (!heap)
            return false;
        self->heap = heap;
        self->heap_cap = cap;
    }
    int i = self->nheap++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (self->heap[parent]->wake_ns <= task->wake_ns)
            break;
        self->heap[i] = self->heap[parent];
        i = parent;
    }
    self->heap[i] = task;
    return true;
}

static fb_gosched_task_t *s_heap_pop (fb_gosched_t *self) {
    fb_gosched_task_t *top = self->heap[0], *last = self->heap[--self->nheap];
    int i = 0;
    for (;;) {
        int child = 2 * i + 1;
        if (child >= self->nheap)
            break;
        if (child + 1 < self->nheap && self->heap[child + 1]->wake_ns < self->heap[child]->wake_ns)
            child++;
        if (last->wake_ns <= self->heap[child]->wake_ns)
            break;
        self->heap[i] = self->heap[child];
        i = child;
    }
    if (self->nheap > 0)
        self->heap[i] = last;
    return top;
}

/* Go's wakep (under lock): wakes an idle carrier unless one is already on its way. */
static void s_wakep (fb_gosched_t *self) {
    if (atomic_load (&self->idle) > atomic_load (&self->waking)) {
        atomic_fetch_add (&self->waking, 1);
        pthread_cond_signal (&self->work_cond);
    }
}

/* A condition variable whose timed waits read the monotonic clock. */
static void s_cond_init_monotonic (pthread_cond_t *cond) {
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (cond, &attr);
    pthread_condattr_destroy (&attr);
}

/* ---- the run queues (under lock) ---------------------------------------------------------- */

/* A FIFO of tasks linked through next: the global run queue, and the wait queues holders
 * park on (Go's assist queue, a semaphore's waiters). Under lock. */
static void s_waitq_put (fb_gosched_waitq_t *q, fb_gosched_task_t *token) {
    token->next = NULL;
    if (q->tail)
        q->tail->next = token;
    else
        q->head = token;
    q->tail = token;
}

static fb_gosched_task_t *s_waitq_get (fb_gosched_waitq_t *q) {
    fb_gosched_task_t *token = q->head;
    if (token) {
        q->head = token->next;
        if (!q->head)
            q->tail = NULL;
    }
    return token;
}

/* Go's global run queue: FIFO. Preempted and yielding tasks and holders go here. */
static void s_global_put (fb_gosched_t *self, fb_gosched_task_t *task) {
    s_waitq_put (&self->global, task);
    self->nglobal++;
}

static fb_gosched_task_t *s_global_get (fb_gosched_t *self) {
    fb_gosched_task_t *task = s_waitq_get (&self->global);
    if (task)
        self->nglobal--;
    return task;
}

/* ---- a carrier's own queue: its next slot and local ring, under its qlock ------------------
 * Go's runqput and runqget are lock-free: a P's queue has one writer, the thread running the
 * P, and stealers take from it by compare-and-swap. Here a short lock of the carrier's own
 * does that job, so that starting or readying a task on a carrier does not take the
 * scheduler's lock, which Go's newproc and goready do not take either. Only whoever runs the
 * carrier (its thread, or the holder it is lent to) puts to it; others only take. */

#define S_SPILL (S_LOCAL / 2 + 1) /* what a full local queue moves to the global queue */

/* Go's runqput (under qlock): to the local ring; when that is full, its older half and the
 * task go to spill, for the global queue, and their count is returned (runqputslow). */
static int s_local_put (s_carrier_t *carrier, fb_gosched_task_t *task, fb_gosched_task_t **spill) {
    if (carrier->ltail - carrier->lhead < S_LOCAL) {
        carrier->local[carrier->ltail++ % S_LOCAL] = task;
        return 0;
    }
    int n = 0;
    for (int i = 0; i < S_LOCAL / 2; i++)
        spill[n++] = carrier->local[carrier->lhead++ % S_LOCAL];
    spill[n++] = task;
    return n;
}

static fb_gosched_task_t *s_local_get (s_carrier_t *carrier) {
    if (carrier->lhead == carrier->ltail)
        return NULL;
    return carrier->local[carrier->lhead++ % S_LOCAL];
}

/* Puts a task in the carrier's next slot, or in its local queue when next is false; the task
 * in the next slot before goes to the local queue. Returns the count spilled (see above). */
static int s_runq_put (s_carrier_t *carrier, fb_gosched_task_t *task, bool next,
                       fb_gosched_task_t **spill) {
    fb_gosched_lock (&carrier->qlock);
    if (next) {
        fb_gosched_task_t *kicked = carrier->runnext;
        carrier->runnext = task;
        task = kicked;
    }
    int n = task ? s_local_put (carrier, task, spill) : 0;
    pthread_mutex_unlock (&carrier->qlock);
    return n;
}

/* The same under the scheduler's lock, the spilled tasks going to the global queue. */
static void s_runq_put_locked (fb_gosched_t *self, s_carrier_t *carrier, fb_gosched_task_t *task,
                               bool next) {
    fb_gosched_task_t *spill[S_SPILL];
    int n = s_runq_put (carrier, task, next, spill);
    for (int i = 0; i < n; i++)
        s_global_put (self, spill[i]);
}

/* Under the scheduler's lock: n tasks, in order, to the carrier's local queue in one hold of
 * its qlock (due sleepers, a global batch, stolen tasks); what spills goes to the global queue. */
static void s_local_put_all (fb_gosched_t *self, s_carrier_t *carrier, fb_gosched_task_t **tasks,
                             int n) {
    if (n == 0)
        return;
    fb_gosched_task_t *spill[S_SPILL];
    fb_gosched_lock (&carrier->qlock);
    for (int i = 0; i < n; i++)
        for (int k = 0, spilled = s_local_put (carrier, tasks[i], spill); k < spilled; k++)
            s_global_put (self, spill[k]);
    pthread_mutex_unlock (&carrier->qlock);
}

/* Go's globrunqget (under lock): the first task of the global queue, and the carrier's fair
 * share of the rest (up to half a local queue) moved to its local queue, which is empty here. */
static fb_gosched_task_t *s_global_batch (fb_gosched_t *self, s_carrier_t *carrier) {
    int64_t n = self->nglobal / self->ncarriers + 1;
    if (n > S_LOCAL / 2)
        n = S_LOCAL / 2;
    fb_gosched_task_t *first = s_global_get (self), *batch[S_LOCAL / 2];
    int taken = 0;
    while (first && taken + 1 < n && self->global.head)
        batch[taken++] = s_global_get (self);
    s_local_put_all (self, carrier, batch, taken);
    return first;
}

/* Whether a thief may take from the victim (under both locks): its local queue, or its next
 * slot when that is all it has and it is lent to a holder (Go steals a running P's runnext). */
static bool s_stealable (const s_carrier_t *victim) {
    return victim->ltail != victim->lhead || (victim->runnext && victim->lent_to);
}

/* Go's runqsteal (under lock): half of another carrier's local queue, or its next slot (see
 * s_stealable). */
static fb_gosched_task_t *s_steal (fb_gosched_t *self, s_carrier_t *carrier) {
    fb_gosched_task_t *loot[S_LOCAL / 2];
    for (int k = 1; k < self->ncarriers; k++) {
        s_carrier_t *victim = &self->carriers[(carrier->index + k) % self->ncarriers];
        fb_gosched_task_t *first = NULL;
        uint32_t n = 0;
        fb_gosched_lock (&victim->qlock);
        uint32_t queued = victim->ltail - victim->lhead;
        if (queued > 0) {
            first = s_local_get (victim);
            while (n + 1 < queued - queued / 2)
                loot[n++] = s_local_get (victim);
        } else if (s_stealable (victim)) {
            first = victim->runnext;
            victim->runnext = NULL;
        }
        pthread_mutex_unlock (&victim->qlock);
        s_local_put_all (self, carrier, loot, (int)n);
        if (first)
            return first;
    }
    return NULL;
}

/* Whether s_next could find a task for the carrier (under lock): what a carrier checks again
 * after it counts itself idle, since tasks are put to carriers' queues without the lock. */
static bool s_runnable (fb_gosched_t *self, s_carrier_t *carrier) {
    if (self->first || self->global.head)
        return true;
    bool any = false;
    for (int k = 0; !any && k < self->ncarriers; k++) {
        s_carrier_t *c = &self->carriers[(carrier->index + k) % self->ncarriers];
        fb_gosched_lock (&c->qlock);
        any = c == carrier ? c->runnext || c->ltail != c->lhead : s_stealable (c);
        pthread_mutex_unlock (&c->qlock);
    }
    return any;
}

/* Go's schedule and findrunnable: due sleepers go to the carrier's local queue; every 61st
 * pick takes the global queue's first task, for fairness; else the next slot, the local
 * queue, a batch of the global queue, or half of another carrier's local queue. NULL when
 * nothing is runnable. */
static fb_gosched_task_t *s_next (fb_gosched_t *self, s_carrier_t *carrier) {
    int64_t now = self->nheap > 0 ? fb_clock_now_ns () : 0;
    while (self->nheap > 0 && self->heap[0]->wake_ns <= now) { /* half a local queue at a time */
        fb_gosched_task_t *due[S_LOCAL / 2];
        int n = 0;
        while (n < S_LOCAL / 2 && self->nheap > 0 && self->heap[0]->wake_ns <= now)
            due[n++] = s_heap_pop (self);
        s_local_put_all (self, carrier, due, n);
    }
    fb_gosched_task_t *task = self->first;
    self->first = NULL;
    if (!task && ++carrier->ticks % S_GLOBAL_EVERY == 0)
        task = s_global_get (self);
    if (!task) {
        fb_gosched_lock (&carrier->qlock);
        task = carrier->runnext;
        carrier->runnext = NULL;
        if (!task)
            task = s_local_get (carrier);
        pthread_mutex_unlock (&carrier->qlock);
    }
    if (!task)
        task = s_global_batch (self, carrier);
    if (!task)
        task = s_steal (self, carrier);
    return task;
}

static void s_wait (fb_gosched_t *self, s_carrier_t *carrier) {
    /* A task put without the scheduler's lock is not lost: whichever of this look and the
     * put takes the carrier's qlock second sees the other's write (the task, or idle). */
    atomic_fetch_add (&self->idle, 1);
    if (s_runnable (self, carrier)) {
        atomic_fetch_sub (&self->idle, 1);
        return;
    }
    if (self->nheap > 0) {
        struct timespec ts = fb_clock_timespec (self->heap[0]->wake_ns);
        pthread_cond_timedwait (&self->work_cond, &self->lock, &ts);
    } else {
        pthread_cond_wait (&self->work_cond, &self->lock);
    }
    atomic_fetch_sub (&self->idle, 1);
    if (atomic_load (&self->waking) > 0)
        atomic_fetch_sub (&self->waking, 1);
}

static void s_done (fb_gosched_task_t *task) {
    if (task->release)
        task->release (task);
}

static int s_token_step (fb_gosched_task_t *task, int carrier) { /* never called */
    (void)task;
    (void)carrier;
    return FB_GOSCHED_PARK;
}

/* Lends the carrier to a holder (under lock): its slice starts now. */
static void s_lend_to (fb_gosched_t *self, s_carrier_t *carrier, s_holder_t *holder, int64_t now,
                       bool then_waits) {
    carrier->lent_to = holder;
    holder->carrier = carrier;
    holder->slice_end_ns = now + FB_GOSCHED_SLICE_NS;
    /* a stop-the-world while it waited in the run queue does not touch it */
    holder->epoch = atomic_load_explicit (&self->epoch, memory_order_relaxed);
    atomic_store (&holder->state, S_IN_OP);
    if (then_waits)
        s_to_this_cpu (self, holder->thread, &holder->cpus);
    pthread_cond_signal (&holder->lent);
}

/* Lends the carrier to the holder whose token it took, and waits until it is given back (a
 * holder that gives it back may lend it on to the next: see s_give_back_locked) or takes
 * itself back from a holder that has been out of enter/leave for S_RETAKE_NS (at once when
 * stopping). Under lock. */
static void s_lend (fb_gosched_t *self, s_carrier_t *carrier, s_holder_t *holder) {
    int64_t now = fb_clock_now_ns ();
    s_lend_to (self, carrier, holder, now, true);
    while (carrier->lent_to) {
        struct timespec ts = fb_clock_timespec (now + S_RETAKE_NS);
        pthread_cond_timedwait (&carrier->returned, &self->lock, &ts);
        if (carrier->cpus.narrowed) { /* given back by a holder that then waits */
            pthread_mutex_unlock (&self->lock);
            s_to_own_cpus (&carrier->cpus);
            fb_gosched_lock (&self->lock);
        }
        now = fb_clock_now_ns ();
        s_holder_t *h = carrier->lent_to;
        int idle = S_IDLE; /* its state first: left_ns is then that of the leave it is out of */
        if (h && atomic_load (&h->state) == S_IDLE &&
            (self->stopping || now - atomic_load (&h->left_ns) > S_RETAKE_NS) &&
            atomic_compare_exchange_strong (&h->state, &idle, S_NOT_HELD))
            carrier->lent_to = NULL;
    }
}

static _Thread_local s_carrier_t *s_self_carrier; /* set on a carrier's own thread */

static void *s_carrier_main (void *arg) {
    s_carrier_t *carrier = arg;
    fb_gosched_t *self = carrier->sched;
    s_self_carrier = carrier;
    s_cpus_init (&carrier->cpus);
    fb_gosched_lock (&self->lock);
    for (;;) {
        fb_gosched_task_t *task = carrier->picked ? carrier->picked : s_next (self, carrier);
        carrier->picked = NULL;
        if (!task) {
            if (self->stopping)
                break;
            s_wait (self, carrier);
            continue;
        }
        if (task->step == s_token_step) {
            s_lend (self, carrier, (s_holder_t *)task);
            continue;
        }
        pthread_mutex_unlock (&self->lock);
        int rc = task->step (task, carrier->index);
        if (rc == FB_GOSCHED_DONE)
            s_done (task);
        fb_gosched_lock (&self->lock);
        if (rc == FB_GOSCHED_PARK)
            continue;
        if (rc == FB_GOSCHED_YIELD) {
            s_global_put (self, task);
            continue;
        }
        if (rc == FB_GOSCHED_SLEEP && s_heap_push (self, task)) {
            if (self->heap[0] ==
                task) /* the earliest now: idle carriers wait on (Go's wakeNetPoller) */
                s_wakep (self);
            continue;
        }
        if (rc == FB_GOSCHED_SLEEP) { /* no memory for the heap: sleep here instead */
            pthread_mutex_unlock (&self->lock);
            fb_clock_sleep_until_ns (task->wake_ns);
            fb_gosched_lock (&self->lock);
            s_global_put (self, task);
            continue;
        }
        if (atomic_fetch_sub (&self->live, 1) == 1)
            pthread_cond_broadcast (&self->done_cond);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------------ */

static _Thread_local s_holder_t *s_self_holder; /* this thread's, once it entered */

/* The carrier a task started or readied from this thread goes to: the one lent to it, when
 * it is a holder; its own, when it is one of our carriers; else NULL. */
static s_carrier_t *s_own_carrier (fb_gosched_t *self) {
    if (fb_gosched_holding (self))
        return s_self_holder->carrier;
    if (s_self_carrier && s_self_carrier->sched == self)
        return s_self_carrier;
    return NULL;
}

/* Queues a task (under lock), as Go's runqput with next: from a holder, or a step, on one of
 * our carriers, to that carrier's next slot (the task there before goes to its local queue);
 * from any other thread, to the global queue. Then Go's wakep: wakes an idle carrier unless
 * one is already on its way, and it steals the task if it must. */
static void s_queue_locked (fb_gosched_t *self, fb_gosched_task_t *task) {
    s_carrier_t *carrier = s_own_carrier (self);
    if (carrier)
        s_runq_put_locked (self, carrier, task, true);
    else
        s_global_put (self, task);
    s_wakep (self);
}

/* The same without the scheduler's lock when the task goes to a carrier's queue, as Go's
 * newproc and goready: the lock is taken only to spill to the global queue or to wake an idle
 * carrier. */
static void s_queue_task (fb_gosched_t *self, fb_gosched_task_t *task, int64_t new_live) {
    atomic_fetch_add (&self->live, new_live);
    s_carrier_t *carrier = s_own_carrier (self);
    fb_gosched_task_t *spill[S_SPILL];
    int n = 0;
    if (carrier) {
        n = s_runq_put (carrier, task, true, spill); /* then idle is read: see s_wait */
        if (n == 0 && atomic_load (&self->idle) <= atomic_load (&self->waking))
            return;
    }
    fb_gosched_lock (&self->lock);
    if (!carrier)
        s_global_put (self, task);
    for (int i = 0; i < n; i++)
        s_global_put (self, spill[i]);
    s_wakep (self);
    pthread_mutex_unlock (&self->lock);
}

/* ---- holders: threads that run only on a carrier lent to them ------------------------------ */

static pthread_key_t s_holder_key;
static pthread_once_t s_holder_once = PTHREAD_ONCE_INIT;

/* Gives the carrier back (under lock); the holder's state is S_IN_OP (only its own thread is
 * here). The carrier's next pick is made here, on the holder's thread, as Go's schedule runs
 * on the thread whose goroutine stops: when it is another holder, the carrier is lent on to it
 * at once, and the carrier's own thread, which waits in s_lend, is not woken in between. */
static void s_give_back_locked (s_holder_t *holder, bool then_waits) {
    fb_gosched_t *self = holder->sched;
    s_carrier_t *carrier = holder->carrier;
    atomic_store (&holder->state, S_NOT_HELD);
    fb_gosched_task_t *task = self->stopping ? NULL : s_next (self, carrier);
    if (task && task->step == s_token_step) {
        s_lend_to (self, carrier, (s_holder_t *)task, fb_clock_now_ns (), then_waits);
        fb_gosched_lock (&carrier->qlock);
        bool queued = carrier->ltail != carrier->lhead; /* due sleepers, a batch, loot */
        pthread_mutex_unlock (&carrier->qlock);
        if (queued) /* an idle carrier may steal them */
            s_wakep (self);
        return;
    }
    carrier->picked = task;
    carrier->lent_to = NULL;
    if (then_waits)
        s_to_this_cpu (self, carrier->thread, &carrier->cpus);
    pthread_cond_signal (&carrier->returned);
}

/* then_waits: the holder is about to wait (or end), so the thread it wakes may take its CPU. */
static void s_give_back (s_holder_t *holder, bool then_waits) {
    fb_gosched_lock (&holder->sched->lock);
    s_give_back_locked (holder, then_waits);
    pthread_mutex_unlock (&holder->sched->lock);
}

/* Waits (under lock) until a carrier is lent to the holder. Whoever waits so calls
 * s_holder_widen once it has let the lock go. */
static void s_wait_lent (fb_gosched_t *self, s_holder_t *holder) {
    while (atomic_load (&holder->state) == S_NOT_HELD)
        pthread_cond_wait (&holder->lent, &self->lock);
}

/* After a wait for a carrier, outside the lock: the thread's own CPUs again, when it was lent
 * the carrier on one CPU (only this thread touches the flag until it waits again). */
static void s_holder_widen (void) {
    if (s_self_holder)
        s_to_own_cpus (&s_self_holder->cpus);
}

/* Queues the holder's token at the back of the run queue and waits for a carrier. */
static void s_borrow (fb_gosched_t *self, s_holder_t *holder) {
    holder->sched = self;
    holder->token.step = s_token_step;
    fb_gosched_lock (&self->lock);
    s_global_put (self, &holder->token);
    s_wakep (self);
    s_wait_lent (self, holder);
    pthread_mutex_unlock (&self->lock);
    s_holder_widen ();
}

/* Go's gopark (under lock): the holder gives its carrier back, waits on q off the run queue,
 * and returns once a carrier is lent to it again. */
static void s_park (fb_gosched_t *self, s_holder_t *holder, fb_gosched_waitq_t *q) {
    s_give_back_locked (holder, true);
    s_waitq_put (q, &holder->token);
    s_wait_lent (self, holder);
}

void fb_gosched_block (fb_gosched_t *self, fb_gosched_waitq_t *q, const atomic_bool *while_set) {
    if (!fb_gosched_holding (self))
        return;
    s_holder_t *holder = s_self_holder;
    fb_gosched_lock (&self->lock);
    if (atomic_load (while_set))
        s_park (self, holder, q);
    pthread_mutex_unlock (&self->lock);
    s_holder_widen ();
}

int fb_gosched_sema_acquire (fb_gosched_t *self, fb_gosched_sema_t *sema,
                             const atomic_int *while_positive) {
    bool holding = fb_gosched_holding (self);
    int rc = FB_GOSCHED_SEMA_NOT_TAKEN;
    fb_gosched_lock (&self->lock);
    if (!sema->held) {
        sema->held = true;
        rc = FB_GOSCHED_SEMA_TAKEN;
    } else if (holding && (!while_positive || atomic_load (while_positive) > 0)) {
        while (sema->held) /* readied by a release, and taken first by another: again */
            s_park (self, s_self_holder, &sema->line);
        sema->held = true;
        rc = FB_GOSCHED_SEMA_WAITED;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc == FB_GOSCHED_SEMA_WAITED)
        s_holder_widen ();
    return rc;
}

void fb_gosched_sema_release (fb_gosched_t *self, fb_gosched_sema_t *sema) {
    fb_gosched_lock (&self->lock);
    sema->held = false;
    fb_gosched_task_t *token = s_waitq_get (&sema->line);
    if (token)
        s_queue_locked (self, token);
    pthread_mutex_unlock (&self->lock);
}

void fb_gosched_wake_all (fb_gosched_t *self, fb_gosched_waitq_t *q) {
    fb_gosched_lock (&self->lock);
    int n = 0;
    for (fb_gosched_task_t *token; (token = s_waitq_get (q)); n++)
        s_global_put (self, token);
    /* injectglist: wakes min(n, idle) carriers */
    for (int i = 0; i < n && atomic_load (&self->idle) > atomic_load (&self->waking); i++)
        s_wakep (self);
    pthread_mutex_unlock (&self->lock);
}

/* The thread ends: its carrier goes back, unless the carrier already took itself back. */
static void s_holder_exit (void *arg) {
    s_holder_t *holder = arg;
    int idle = S_IDLE;
    if (atomic_compare_exchange_strong (&holder->state, &idle, S_IN_OP))
        s_give_back (holder, true); /* it ends */
    pthread_cond_destroy (&holder->lent);
    free (holder);
}

static void s_holder_key_new (void) { pthread_key_create (&s_holder_key, s_holder_exit); }

static s_holder_t *s_holder (void) {
    if (s_self_holder)
        return s_self_holder;
    pthread_once (&s_holder_once, s_holder_key_new);
    s_holder_t *holder = calloc (1, sizeof *holder);
    if (!holder)
        return NULL;
    s_cond_init_monotonic (&holder->lent);
    holder->thread = pthread_self ();
    s_cpus_init (&holder->cpus);
    atomic_init (&holder->state, S_NOT_HELD);
    atomic_init (&holder->left_ns, 0);
    if (pthread_setspecific (s_holder_key, holder) != 0) {
        pthread_cond_destroy (&holder->lent);
        free (holder);
        return NULL;
    }
    s_self_holder = holder;
    return holder;
}

void fb_gosched_enter (fb_gosched_t *self) {
    s_holder_t *holder = s_holder ();
    if (!holder)
        return; /* no memory for a holder: the thread runs unbound */
    int64_t now = fb_clock_now_ns ();
    int64_t left_ns = atomic_load (&holder->left_ns);
    bool away = left_ns != 0 && now - left_ns > S_AWAY_NS; /* 0: its first enter */
    if (atomic_load (&holder->state) == S_IN_OP && holder->sched == self)
        return; /* entered already */
    int idle = S_IDLE;
    if (atomic_compare_exchange_strong (&holder->state, &idle, S_IN_OP)) {
        bool preempted = atomic_load_explicit (&self->epoch, memory_order_relaxed) != holder->epoch;
        if (holder->sched == self && now < holder->slice_end_ns && !preempted) {
            holder->release_at_leave = away;
            return;
        }
        s_give_back (holder, true); /* its slice is over, or it holds another scheduler's */
    }
    holder->release_at_leave = away;
    s_borrow (self, holder);
}

void fb_gosched_requeue (fb_gosched_t *self) {
    if (!fb_gosched_holding (self))
        return;
    s_give_back (s_self_holder, true);
    s_borrow (self, s_self_holder);
}

void fb_gosched_preempt_all (fb_gosched_t *self) { atomic_fetch_add (&self->epoch, 1); }

/* Puts a task in the first slot (the one there before goes to the global queue). */
static void s_first (fb_gosched_t *self, fb_gosched_task_t *task, int64_t new_live) {
    fb_gosched_lock (&self->lock);
    atomic_fetch_add (&self->live, new_live);
    if (self->first)
        s_global_put (self, self->first);
    self->first = task;
    s_wakep (self);
    pthread_mutex_unlock (&self->lock);
}

void fb_gosched_go_first (fb_gosched_t *self, fb_gosched_task_t *task) { s_first (self, task, 1); }

void fb_gosched_ready_first (fb_gosched_t *self, fb_gosched_task_t *task) {
    s_first (self, task, 0);
}

bool fb_gosched_holding (fb_gosched_t *self) {
    s_holder_t *holder = s_self_holder;
    return holder && holder->sched == self && atomic_load (&holder->state) == S_IN_OP;
}

void fb_gosched_leave (fb_gosched_t *self, bool blocking) {
    if (!fb_gosched_holding (self))
        return;
    s_holder_t *holder = s_self_holder;
    atomic_store (&holder->left_ns, fb_clock_now_ns ());
    if (blocking || holder->release_at_leave)
        s_give_back (holder, false); /* it goes on running, for a while at least */
    else
        atomic_store (&holder->state, S_IDLE);
}

void fb_gosched_go (fb_gosched_t *self, fb_gosched_task_t *task) { s_queue_task (self, task, 1); }

void fb_gosched_ready (fb_gosched_t *self, fb_gosched_task_t *task) {
    s_queue_task (self, task, 0);
}

void fb_gosched_lock (pthread_mutex_t *lock) {
    static atomic_long ncpu; /* 0: not read yet */
    if (pthread_mutex_trylock (lock) == 0)
        return;
    long cpus = atomic_load_explicit (&ncpu, memory_order_relaxed);
    if (cpus == 0)
        atomic_store_explicit (&ncpu, cpus = sysconf (_SC_NPROCESSORS_ONLN), memory_order_relaxed);
    for (int i = 0; cpus > 1 && i < 4; i++) { /* active_spin (on one CPU Go does not spin) */
        for (int k = 0; k < 30; k++)          /* procyield */
            fb_clock_pause ();
        if (pthread_mutex_trylock (lock) == 0)
            return;
    }
    sched_yield (); /* passive_spin: one osyield */
    if (pthread_mutex_trylock (lock) == 0)
        return;
    pthread_mutex_lock (lock); /* futexsleep */
}

void fb_gosched_set_same_cpu (fb_gosched_t *self, bool on) {
    fb_gosched_lock (&self->lock);
    self->same_cpu = on;
    pthread_mutex_unlock (&self->lock);
}

int64_t fb_gosched_on_one_cpu (fb_gosched_t *self) {
    fb_gosched_lock (&self->lock);
    int64_t n = self->on_one_cpu;
    pthread_mutex_unlock (&self->lock);
    return n;
}

int fb_gosched_carriers (const fb_gosched_t *self) { return self->ncarriers; }

int64_t fb_gosched_live (fb_gosched_t *self) { return atomic_load (&self->live); }

void fb_gosched_wait (fb_gosched_t *self) {
    fb_gosched_lock (&self->lock);
    while (atomic_load (&self->live) > 0)
        pthread_cond_wait (&self->done_cond, &self->lock);
    pthread_mutex_unlock (&self->lock);
}

fb_gosched_t *fb_gosched_new (int carriers, fb_err_t *err) {
    if (carriers <= 0) {
        long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
        carriers = ncpu < 1 ? 1 : (int)ncpu;
    }
    fb_gosched_t *self = calloc (1, sizeof *self);
    s_carrier_t *all = calloc ((size_t)carriers, sizeof *all);
    if (!self || !all) {
        free (self);
        free (all);
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for %d carriers", carriers);
        return NULL;
    }
    s_cond_init_monotonic (&self->work_cond);
    pthread_cond_init (&self->done_cond, NULL);
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->live, 0);
    atomic_init (&self->idle, 0);
    atomic_init (&self->waking, 0);
    self->carriers = all;
    self->ncarriers = carriers;
    for (int i = 0; i < carriers; i++) {
        all[i] = (s_carrier_t){.sched = self, .index = i};
        s_cond_init_monotonic (&all[i].returned);
        pthread_mutex_init (&all[i].qlock, NULL);
    }
    for (int i = 0; i < carriers; i++) {
        int rc = pthread_create (&all[i].thread, NULL, s_carrier_main, &all[i]);
        if (rc != 0) {
            fb_err_set (err, FB_ESYS, "eventbus: cannot start carrier %d of %d: %s", i + 1,
                        carriers, strerror (rc));
            fb_gosched_destroy (&self);
            return NULL;
        }
        self->started++;
    }
    return self;
}

void fb_gosched_destroy (fb_gosched_t **self_p) {
    fb_gosched_t *self = *self_p;
    if (!self)
        return;
    fb_gosched_lock (&self->lock);
    while (atomic_load (&self->live) > 0 && self->started > 0)
        pthread_cond_wait (&self->done_cond, &self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->work_cond);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->started; i++)
        pthread_join (self->carriers[i].thread, NULL);
    for (int i = 0; i < self->ncarriers; i++) {
        pthread_cond_destroy (&self->carriers[i].returned);
        pthread_mutex_destroy (&self->carriers[i].qlock);
    }
    pthread_cond_destroy (&self->work_cond);
    pthread_cond_destroy (&self->done_cond);
    pthread_mutex_destroy (&self->lock);
    free (self->heap);
    free (self->carriers);
    free (self);
    *self_p = NULL;
}

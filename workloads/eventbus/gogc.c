/* gogc.c: the eventbus model's garbage collector (see gogc.h). The trigger doubles as the
 * cycle's start lock: the thread whose allocation reaches it swaps it for INT64_MAX. The mark
 * state (what is left to scan, and who is scanning) is under a mutex; scanning is not. */
#include "workloads/eventbus/gogc.h"

#include "common/clock.h"
#include "workloads/eventbus/gheap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define S_MIN_HEAP (4LL * 1024 * 1024) /* Go's minimum heap goal at GOGC=100 */
#define S_TRIGGER 0.95                 /* of the way from the live heap to the goal */
#define S_WORKER_SHARE 0.25            /* of the carriers' time, for the background worker */
#define S_WORKER_STEP 256              /* blocks the worker scans between checks */

/* A cycle's start: none; due (the trigger was reached), for the next thread that takes the
 * start semaphore; being done by the thread that took it. */
enum { S_START_NONE, S_START_PENDING, S_START_RUNNING };

struct fb_gogc {
    fb_gosched_task_t worker; /* first: the scheduler's pointer is ours */
    fb_gosched_t *sched;
    fb_gmem_t *gmem;
    fb_gheap_t *heap; /* the heap's pages */
    int percent;
    int64_t live_bytes_per_task;
    /* Bytes allocated since the last cycle ended; from the start of marking, since then: those
     * are live at its end (Go allocates black). */
    atomic_int_fast64_t allocated;
    atomic_int_fast64_t allocated_g; /* of those while marking, new g's (fb_gogc_alloc_with_g) */
    /* The heap in use without the g's, whose blocks are memory of their own: the live heap at
     * the last cycle's end and the bytes allocated since (what the heap's pages stand for) */
    atomic_int_fast64_t paged_in_use;
    atomic_int_fast64_t trigger; /* INT64_MAX from a cycle's start to its end */
    atomic_bool marking;
    atomic_int starting;          /* S_START_*: Go's trigger test is true from PENDING to its end */
    fb_gosched_sema_t start_sema; /* Go's work.startSema */
    atomic_int_fast64_t start_waits; /* allocations that waited in its line */
    pthread_mutex_t lock;
    fb_gosched_waitq_t assists;          /* parked assists, made runnable when marking ends */
    int64_t next, end, in_use, scanning; /* blocks: next to scan, to scan, in use, scans running */
    int64_t headroom;       /* the last goal over the live heap then: trigger, then runway */
    double assist_per_byte; /* blocks an assist scans per byte allocated */
    int64_t live_paged;     /* the live heap at the last cycle's end, without the g's */
    double heap_per_block;  /* bytes of the live heap scanned with each block this cycle */
    int64_t mark_start_ns, worker_ns;
    bool worker_queued; /* the worker task is queued or running (under lock) */
    int mark_workers;   /* Go's background mark workers started so far (gcBgMarkStartWorkers) */
    atomic_int_fast64_t cycles;
};

static _Thread_local double s_assist_credit; /* blocks owed by this thread, not yet scanned */

/* Mark termination (under lock, nothing left to scan or being scanned): the live heap, the
 * next goal and trigger, a stop-the-world. */
static void s_end_cycle (fb_gogc_t *self) {
    /* every g made before marking; those made since are in allocated */
    int64_t marked = self->in_use * self->live_bytes_per_task + atomic_load (&self->allocated);
    int64_t live = self->end * FB_GMEM_G_BYTES + marked;
    int64_t goal = live + live * self->percent / 100;
    if (goal < S_MIN_HEAP)
        goal = S_MIN_HEAP;
    atomic_store (&self->marking, false);
    atomic_store (&self->allocated, 0);
    self->live_paged = marked - atomic_load (&self->allocated_g);
    atomic_store (&self->paged_in_use, self->live_paged);
    self->headroom = goal - live;
    atomic_store (&self->trigger, (int64_t)((double)self->headroom * S_TRIGGER));
    atomic_fetch_add (&self->cycles, 1);
    fb_gosched_preempt_all (self->sched); /* the world stops, then the assists go on */
    fb_gosched_wake_all (self->sched, &self->assists);
}

/* Go's gcMarkDone (under lock): whoever finds the cycle's work all done ends it, a worker or
 * an assist. */
static void s_mark_done (fb_gogc_t *self) {
    if (atomic_load (&self->marking) && self->next >= self->end && self->scanning == 0)
        s_end_cycle (self);
}

/* Scans up to n blocks of the cycle, and ends it when that was the last work; false when
 * nothing was left to hand out. */
static bool s_scan (fb_gogc_t *self, int64_t n) {
    pthread_mutex_lock (&self->lock);
    int64_t from = self->next, to = from + n < self->end ? from + n : self->end;
    self->next = to;
    if (from < to)
        self->scanning++;
    else
        s_mark_done (self);
    pthread_mutex_unlock (&self->lock);
    if (from >= to)
        return false;
    int64_t in_use = fb_gmem_scan (self->gmem, from, to);
    /* the live heap's share that goes with these blocks (its pointers, the objects they mark) */
    fb_gheap_scan (self->heap, (int64_t)((double)from * self->heap_per_block),
                   to == self->end ? INT64_MAX : (int64_t)((double)to * self->heap_per_block));
    pthread_mutex_lock (&self->lock);
    self->in_use += in_use;
    self->scanning--;
    s_mark_done (self);
    pthread_mutex_unlock (&self->lock);
    return true;
}

/* The background worker: scans while it is under its share of the carriers' time since the
 * cycle started, then queues itself first again (due) or at the back (over its share); ends
 * when the cycle's blocks are all handed out (the last scanner, it or an assist, ends the
 * cycle). A worker still queued when the next cycle starts works on that one. */
static int s_worker_step (fb_gosched_task_t *task, int carrier) {
    (void)carrier;
    fb_gogc_t *self = (fb_gogc_t *)task;
    int64_t started = fb_clock_now_ns ();
    if (atomic_load (&self->marking))
        s_scan (self, S_WORKER_STEP);
    int64_t now = fb_clock_now_ns ();
    pthread_mutex_lock (&self->lock);
    self->worker_ns += now - started;
    s_mark_done (self); /* a cycle that started meanwhile with nothing to scan ends here */
    if (!atomic_load (&self->marking) || self->next >= self->end) {
        /* The next cycle queues it again, maybe before this carrier is done with this DONE:
         * the worker has no release, so the carrier touches nothing of it after the step. */
        self->worker_queued = false;
        pthread_mutex_unlock (&self->lock);
        return FB_GOSCHED_DONE;
    }
    double share = S_WORKER_SHARE * fb_gosched_carriers (self->sched);
    bool due = (double)self->worker_ns < share * (double)(now - self->mark_start_ns);
    pthread_mutex_unlock (&self->lock);
    if (!due)
        return FB_GOSCHED_YIELD;
    fb_gosched_ready_first (self->sched, task); /* last act: the task may run elsewhere now */
    return FB_GOSCHED_PARK;
}

/* Go's gcStart once past startSema, by the thread holding it: starts the mark workers the
 * first time (requeued once per carrier; a starter holding no carrier is not), reads every g,
 * and sets up marking. */
static void s_start_cycle (fb_gogc_t *self) {
    for (; self->mark_workers < fb_gosched_carriers (self->sched); self->mark_workers++)
        fb_gosched_requeue (self->sched);
    fb_gmem_reset (self->gmem);
    int64_t heap_scan = fb_gheap_mark_begin (self->heap, self->live_paged);
    pthread_mutex_lock (&self->lock);
    self->next = 0;
    self->end = fb_gmem_blocks (self->gmem);
    self->heap_per_block = self->end > 0 ? (double)heap_scan / (double)self->end : 0;
    self->in_use = 0;
    atomic_store (&self->allocated, 0);
    atomic_store (&self->allocated_g, 0);
    self->mark_start_ns = fb_clock_now_ns ();
    self->worker_ns = 0;
    /* Go's assist ratio: the scan work over the heap left before the goal. */
    double runway = (double)self->headroom * (1 - S_TRIGGER);
    self->assist_per_byte = (double)self->end / (runway > 1 ? runway : 1);
    atomic_store (&self->marking, true);
    /* a worker still queued from the last cycle works on this one */
    bool queue_worker = !self->worker_queued;
    self->worker_queued = true;
    pthread_mutex_unlock (&self->lock);
    fb_gosched_preempt_all (self->sched); /* sweep termination stops the world */
    if (queue_worker)
        fb_gosched_go_first (self->sched, &self->worker);
    atomic_store (&self->starting, S_START_NONE);
}

/* Go's gcStart from mallocgc while the trigger test is true: take startSema (a thread holding
 * a carrier waits in its line while another holds it), start the cycle if it is still due
 * (the first to get there after the trigger does), give the semaphore on. A thread holding
 * no carrier that finds it held goes on: the holder, or the next thread to take it, starts. */
static void s_gc_start (fb_gogc_t *self) {
    int took = fb_gosched_sema_acquire (self->sched, &self->start_sema, &self->starting);
    if (took == FB_GOSCHED_SEMA_NOT_TAKEN)
        return;
    if (took == FB_GOSCHED_SEMA_WAITED)
        atomic_fetch_add (&self->start_waits, 1);
    int due = S_START_PENDING;
    if (atomic_compare_exchange_strong (&self->starting, &due, S_START_RUNNING))
        s_start_cycle (self);
    fb_gosched_sema_release (self->sched, &self->start_sema);
}

/* Go's gcParkAssist: an assist that found no scan work left to pay its debt with waits off
 * its carrier until marking ends, so the carrier runs other goroutines meanwhile; the end of
 * marking makes every parked assist runnable at once (gcWakeAllAssists). Only a thread
 * holding a carrier parks (a carrier's own task never calls this). */
static void s_park_assist (fb_gogc_t *self) {
    fb_gosched_block (self->sched, &self->assists, &self->marking);
}

void fb_gogc_alloc_with_g (fb_gogc_t *self, int64_t bytes, bool new_g) {
    fb_gheap_reach (self->heap,
                    atomic_fetch_add_explicit (&self->paged_in_use, bytes, memory_order_relaxed) +
                        bytes);
    int64_t g_bytes = new_g ? FB_GMEM_G_BYTES : 0;
    bytes += g_bytes;
    if (atomic_load_explicit (&self->starting, memory_order_acquire) != S_START_NONE)
        s_gc_start (self);
    if (atomic_load_explicit (&self->marking, memory_order_acquire)) {
        atomic_fetch_add_explicit (&self->allocated, bytes, memory_order_relaxed);
        atomic_fetch_add_explicit (&self->allocated_g, g_bytes, memory_order_relaxed);
        s_assist_credit += (double)bytes * self->assist_per_byte;
        if (s_assist_credit >= 1) {
            int64_t n = (int64_t)s_assist_credit;
            s_assist_credit -= (double)n;
            if (!s_scan (self, n))
                s_park_assist (self);
        }
        return;
    }
    int64_t trigger = atomic_load_explicit (&self->trigger, memory_order_relaxed);
    int64_t now = atomic_fetch_add_explicit (&self->allocated, bytes, memory_order_relaxed);
    if (now + bytes >= trigger &&
        atomic_compare_exchange_strong (&self->trigger, &trigger, INT64_MAX)) {
        atomic_store (&self->starting, S_START_PENDING);
        s_gc_start (self);
    }
}

void fb_gogc_alloc (fb_gogc_t *self, int64_t bytes) { fb_gogc_alloc_with_g (self, bytes, false); }

fb_gogc_t *fb_gogc_new (fb_gosched_t *sched, fb_gmem_t *gmem, int percent,
                        int64_t live_bytes_per_task, double read_first, fb_err_t *err) {
    fb_gogc_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the collector");
        return NULL;
    }
    self->worker.step = s_worker_step;
    self->sched = sched;
    self->gmem = gmem;
    self->percent = percent;
    self->live_bytes_per_task = live_bytes_per_task;
    if (!(self->heap = fb_gheap_new (read_first, err))) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->allocated, 0);
    atomic_init (&self->allocated_g, 0);
    atomic_init (&self->paged_in_use, 0);
    self->headroom = S_MIN_HEAP;
    atomic_init (&self->trigger, (int64_t)(S_MIN_HEAP * S_TRIGGER));
    atomic_init (&self->marking, false);
    atomic_init (&self->starting, 0);
    atomic_init (&self->start_waits, 0);
    atomic_init (&self->cycles, 0);
    return self;
}

int64_t fb_gogc_cycles (fb_gogc_t *self) { return atomic_load (&self->cycles); }

int64_t fb_gogc_start_waits (fb_gogc_t *self) { return atomic_load (&self->start_waits); }

int64_t fb_gogc_heap_touched (fb_gogc_t *self) { return fb_gheap_touched (self->heap); }

void fb_gogc_destroy (fb_gogc_t **self_p) {
    fb_gogc_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_destroy (&self->lock);
    fb_gheap_destroy (&self->heap);
    free (self);
    *self_p = NULL;
}

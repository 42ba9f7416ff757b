/* gosched.h: goroutine-like tasks for the eventbus model, scheduled as Go's runtime schedules
 * goroutines. A fixed set of carrier threads (Go's Ps: GOMAXPROCS, ncpu by default) runs the
 * tasks. Each carrier has a next slot and a local run queue of 256 (Go's runnext and runq); a
 * task started or readied from a carrier goes to its next slot, the one there before to its
 * local queue, whose older half spills to a global FIFO queue when full; other threads queue
 * to the global queue. A carrier picks the global queue's first task every 61st pick, else
 * its next slot, its local queue, a share of the global queue, or half of another carrier's
 * local queue (Go's schedule and findrunnable). A task that sleeps is parked in a timer heap,
 * holding no thread. Starting a task is a push and, when a carrier is idle, one wake-up: no
 * kernel thread is created per task, as Go's `go f()` creates none.
 *
 * A task is a struct the owner embeds its state around; the scheduler calls its step function
 * on a carrier. The step returns FB_GOSCHED_SLEEP after setting wake_ns (run me again then),
 * FB_GOSCHED_YIELD (run me again, from the global queue), FB_GOSCHED_PARK (the task waits for
 * someone to call fb_gosched_ready, as a goroutine parked on a channel) or FB_GOSCHED_DONE.
 * After PARK the scheduler does not touch the task again: a PARK step must have published the
 * task where its waker finds it as its last act. After DONE it calls task->release (which may
 * free the task). */
#ifndef FB_GOSCHED_H
#define FB_GOSCHED_H

#include "common/clock.h"
#include "common/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { FB_GOSCHED_DONE, FB_GOSCHED_SLEEP, FB_GOSCHED_YIELD, FB_GOSCHED_PARK };

/* Go preempts a goroutine that has run this long (forcePreemptNS): a holder's slice, and how
 * long a task may run before it should yield. */
#define FB_GOSCHED_SLICE_NS (10 * FB_NS_PER_MS)

typedef struct fb_gosched_task fb_gosched_task_t;
typedef int (fb_gosched_step_fn) (fb_gosched_task_t *task, int carrier);

struct fb_gosched_task {
    fb_gosched_step_fn *step;
    void (*release) (fb_gosched_task_t *task); /* after DONE, or NULL */
    int64_t wake_ns;                           /* set by a step that returns FB_GOSCHED_SLEEP */
    fb_gosched_task_t *next;
};

typedef struct fb_gosched fb_gosched_t;

/* Starts `carriers` threads (0: ncpu). NULL and err set when a thread cannot start. */
fb_gosched_t *fb_gosched_new (int carriers, fb_err_t *err);

/* Hand-offs on one CPU (off until set). When a thread that is about to wait (or end) lends a
 * carrier to a holder, or gives a carrier back to the carrier's own thread, the woken thread
 * may first run only on the waker's CPU (when that is one of its own); as soon as it runs it
 * takes back the CPUs it had when it first took part. So the hand-off is one switch on one
 * CPU, as Go's goroutine switch is, where the kernel would often queue the woken thread behind
 * the thread busy on another CPU and leave this one idle. A system that refuses affinities
 * (EPERM) turns it off again. */
void fb_gosched_set_same_cpu (fb_gosched_t *self, bool on);

/* Hand-offs made on one CPU so far. */
int64_t fb_gosched_on_one_cpu (fb_gosched_t *self);

/* Queues a task to run its first step on a carrier; wakes an idle carrier if there is one. */
void fb_gosched_go (fb_gosched_t *self, fb_gosched_task_t *task);

/* Queues a parked task to run its next step (Go's goready). */
void fb_gosched_ready (fb_gosched_t *self, fb_gosched_task_t *task);

/* Go code outside the carriers. A thread of the owner's that stands for a goroutine (the
 * eventbus's publishers) brackets its work with enter and leave, and runs in between only on a
 * carrier lent to it, as a goroutine runs only on a P: so the owner's threads and the tasks
 * share `carriers` CPUs as Go's goroutines share GOMAXPROCS, however many threads there are.
 *
 * enter queues the thread at the back of the run queue, like any runnable goroutine, and
 * waits until a carrier takes it; that carrier then waits for it. The thread keeps the
 * carrier from one enter/leave to the next for a time slice of 10 ms (Go preempts a goroutine
 * after 10 ms), then goes to the back of the run queue again. Tasks it starts or readies while
 * it holds a carrier go to that carrier's next slot and run first when it gives the carrier
 * back (Go's runnext), unless a carrier is idle. It gives the carrier back at once when it
 * leaves with `blocking` (it is about to wait; Go hands the P off), when its last gap between
 * leave and enter was long (it sleeps between calls, as a paced goroutine parks), and when the
 * thread ends. A carrier takes itself back from a thread that has been out of enter/leave for
 * over 1 ms (Go's sysmon retakes a P). */
void fb_gosched_enter (fb_gosched_t *self);
void fb_gosched_leave (fb_gosched_t *self, bool blocking);
/* True when the calling thread is between enter and leave with a carrier of self's. */
bool fb_gosched_holding (fb_gosched_t *self);
/* A goroutine parked on a wait queue (gopark), and every one on it made runnable at once
 * (goready of each, Go's injectglist). block gives the holder's carrier back and waits off
 * the run queue if *while_set, checked under the scheduler's lock, is set when it is called
 * (clearing it later wakes nobody), so that a wake_all after clearing it is never missed;
 * wake_all queues every waiting holder at the back of the run queue in one step, in the order
 * they blocked, and wakes at most that many idle carriers; the holders' threads sleep on until
 * a carrier is lent to each, not all at once. block returns holding a carrier; it returns at
 * once, holding what it held, when the thread holds no carrier of self's or *while_set is
 * clear. */
typedef struct {
    fb_gosched_task_t *head, *tail; /* under the scheduler's lock */
} fb_gosched_waitq_t;
void fb_gosched_block (fb_gosched_t *self, fb_gosched_waitq_t *q, const atomic_bool *while_set);
void fb_gosched_wake_all (fb_gosched_t *self, fb_gosched_waitq_t *q);

/* A runtime semaphore as Go's gcStart uses work.startSema (Go's semacquire and semrelease,
 * not in handoff mode). One thread at a time holds it. A release frees it and readies the
 * first in line, as a task started by the releaser is readied: in the releaser's carrier's
 * next slot (the releaser goes on running), or at the back of the global queue when the
 * releaser holds no carrier. Until the readied thread runs, another may take the semaphore
 * first; the readied one then goes to the back of the line. Under the scheduler's lock. */
typedef struct {
    fb_gosched_waitq_t line;
    bool held;
} fb_gosched_sema_t;
enum { FB_GOSCHED_SEMA_NOT_TAKEN, FB_GOSCHED_SEMA_TAKEN, FB_GOSCHED_SEMA_WAITED };
/* Takes the semaphore: at once when it is free (FB_GOSCHED_SEMA_TAKEN); else, when the caller
 * holds a carrier of self's and while_positive is NULL or *while_positive > 0, after waiting in
 * line off the carrier until it gets it (FB_GOSCHED_SEMA_WAITED: it returns holding a carrier).
 * FB_GOSCHED_SEMA_NOT_TAKEN, at once, for a thread holding no carrier of self's, or when it
 * would wait and *while_positive is 0. */
int fb_gosched_sema_acquire (fb_gosched_t *self, fb_gosched_sema_t *sema,
                             const atomic_int *while_positive);
/* Releases a semaphore the caller took, readying the first in line. */
void fb_gosched_sema_release (fb_gosched_t *self, fb_gosched_sema_t *sema);

/* The holder gives its carrier back (the carrier goes on to other work) and waits for one
 * from the back of the global run queue, as a goroutine does whose blocking system call
 * handed its P off (Go's entersyscallblock) and whose exitsyscall found no idle P: it queues
 * there even when a carrier is idle then. Returns at once when the thread holds no carrier of
 * self's. */
void fb_gosched_requeue (fb_gosched_t *self);

/* Every holder on a carrier gives it back at its next enter and queues at the back of the
 * global queue, as a stop-the-world in Go preempts every running goroutine and they resume
 * from the global run queue. */
void fb_gosched_preempt_all (fb_gosched_t *self);

/* Queues a task (new, or a parked one) that the next carrier to pick runs before anything
 * else, as Go's scheduler looks for a GC worker first. */
void fb_gosched_go_first (fb_gosched_t *self, fb_gosched_task_t *task);
void fb_gosched_ready_first (fb_gosched_t *self, fb_gosched_task_t *task);

/* Locks a (default) mutex as Go's runtime locks (a channel's, the scheduler's) are taken:
 * one try, then (with more than one CPU) four rounds of 30 spin-loop pauses and a try, one
 * yield of the CPU and a try, then a sleep in the kernel (Go's lock2 with active_spin 4,
 * active_spin_cnt 30, passive_spin 1; Go spins again after each wake-up, this does not).
 * Unlocked with pthread_mutex_unlock. */
void fb_gosched_lock (pthread_mutex_t *lock);

/* Carriers started. */
int fb_gosched_carriers (const fb_gosched_t *self);

/* Tasks queued, running, sleeping or parked (not yet DONE). */
int64_t fb_gosched_live (fb_gosched_t *self);

/* Waits until every task started so far is DONE. */
void fb_gosched_wait (fb_gosched_t *self);

/* Waits for every task to be DONE, then stops and joins the carriers and frees. */
void fb_gosched_destroy (fb_gosched_t **self_p);

#endif

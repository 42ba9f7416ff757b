/* gosched.h: goroutine-like tasks for the eventbus model. A fixed set of carrier threads (Go's
 * GOMAXPROCS; ncpu by default) runs tasks from one FIFO run queue; a task that sleeps is parked
 * in a timer heap and put back on the run queue when its time comes, so a sleeping task holds
 * no thread. Starting a task is a push and, when a carrier is idle, one wake-up: no kernel
 * thread is created per task, as Go's `go f()` creates none.
 *
 * A task is a struct the owner embeds its state around; the scheduler calls its step function
 * on a carrier. The step returns FB_GOSCHED_SLEEP after setting wake_ns (run me again then),
 * FB_GOSCHED_YIELD (run me again after what is queued), FB_GOSCHED_PARK (the task waits for
 * someone to call fb_gosched_ready, as a goroutine parked on a channel) or FB_GOSCHED_DONE.
 * After PARK the scheduler does not touch the task again: a PARK step must have published the
 * task where its waker finds it as its last act. After DONE it calls task->release (which may
 * free the task). */
#ifndef FB_GOSCHED_H
#define FB_GOSCHED_H

#include "common/err.h"

#include <stdint.h>

enum { FB_GOSCHED_DONE, FB_GOSCHED_SLEEP, FB_GOSCHED_YIELD, FB_GOSCHED_PARK };

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

/* Queues a task to run its first step on a carrier; wakes an idle carrier if there is one. */
void fb_gosched_go (fb_gosched_t *self, fb_gosched_task_t *task);

/* Queues a parked task to run its next step (Go's goready). */
void fb_gosched_ready (fb_gosched_t *self, fb_gosched_task_t *task);

/* Carriers started. */
int fb_gosched_carriers (const fb_gosched_t *self);

/* Tasks queued, running, sleeping or parked (not yet DONE). */
int64_t fb_gosched_live (fb_gosched_t *self);

/* Waits until every task started so far is DONE. */
void fb_gosched_wait (fb_gosched_t *self);

/* Waits for every task to be DONE, then stops and joins the carriers and frees. */
void fb_gosched_destroy (fb_gosched_t **self_p);

#endif

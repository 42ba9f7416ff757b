/* gosched.c: goroutine-like tasks on a fixed set of carrier threads (see gosched.h). One lock
 * guards the run queue, the timer heap and the counts; a carrier that finds nothing to run
 * waits on a condition variable until the earliest sleeper is due or a task is queued. */
#include "workloads/eventbus/gosched.h"

#include "common/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    fb_gosched_t *sched;
    pthread_t thread;
    int index;
} s_carrier_t;

struct fb_gosched {
    pthread_mutex_t lock;
    pthread_cond_t work_cond;       /* a task was queued, or the scheduler is stopping */
    pthread_cond_t done_cond;       /* live went to 0 */
    fb_gosched_task_t *head, *tail; /* the run queue, FIFO */
    fb_gosched_task_t **heap;       /* sleepers, a binary min-heap on wake_ns */
    int nheap, heap_cap;
    int64_t live;
    int idle, waking; /* carriers waiting, and wake-ups sent they have not taken yet */
    bool stopping;
    s_carrier_t *carriers;
    int ncarriers, started;
};

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

/* ---- the run queue (under lock) ----------------------------------------------------------- */

static void s_runq_put (fb_gosched_t *self, fb_gosched_task_t *task) {
    task->next = NULL;
    if (self->tail)
        self->tail->next = task;
    else
        self->head = task;
    self->tail = task;
}

/* The next task to run: sleepers that are due go to the back of the run queue first (as Go's
 * scheduler checks its timers before it picks a goroutine). NULL when nothing is runnable. */
static fb_gosched_task_t *s_next (fb_gosched_t *self) {
    if (self->nheap > 0) {
        int64_t now = fb_clock_now_ns ();
        while (self->nheap > 0 && self->heap[0]->wake_ns <= now)
            s_runq_put (self, s_heap_pop (self));
    }
    fb_gosched_task_t *task = self->head;
    if (task) {
        self->head = task->next;
        if (!self->head)
            self->tail = NULL;
    }
    return task;
}

static void s_wait (fb_gosched_t *self) {
    self->idle++;
    if (self->nheap > 0) {
        int64_t at = self->heap[0]->wake_ns;
        struct timespec ts = {.tv_sec = at / FB_NS_PER_S, .tv_nsec = at % FB_NS_PER_S};
        pthread_cond_timedwait (&self->work_cond, &self->lock, &ts);
    } else {
        pthread_cond_wait (&self->work_cond, &self->lock);
    }
    self->idle--;
    if (self->waking > 0)
        self->waking--;
}

static void s_done (fb_gosched_task_t *task) {
    if (task->release)
        task->release (task);
}

static void *s_carrier_main (void *arg) {
    s_carrier_t *carrier = arg;
    fb_gosched_t *self = carrier->sched;
    pthread_mutex_lock (&self->lock);
    for (;;) {
        fb_gosched_task_t *task = s_next (self);
        if (!task) {
            if (self->stopping)
                break;
            s_wait (self);
            continue;
        }
        pthread_mutex_unlock (&self->lock);
        int rc = task->step (task, carrier->index);
        if (rc == FB_GOSCHED_DONE)
            s_done (task);
        pthread_mutex_lock (&self->lock);
        if (rc == FB_GOSCHED_PARK)
            continue;
        if (rc == FB_GOSCHED_YIELD) {
            s_runq_put (self, task);
            continue;
        }
        if (rc == FB_GOSCHED_SLEEP && s_heap_push (self, task))
            continue;
        if (rc == FB_GOSCHED_SLEEP) { /* no memory for the heap: sleep here instead */
            pthread_mutex_unlock (&self->lock);
            fb_clock_sleep_until_ns (task->wake_ns);
            pthread_mutex_lock (&self->lock);
            s_runq_put (self, task);
            continue;
        }
        if (--self->live == 0)
            pthread_cond_broadcast (&self->done_cond);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------------ */

/* Queues a task; Go's wakep: wakes an idle carrier unless one is already on its way. */
static void s_queue_task (fb_gosched_t *self, fb_gosched_task_t *task, int64_t new_live) {
    pthread_mutex_lock (&self->lock);
    self->live += new_live;
    s_runq_put (self, task);
    if (self->idle > self->waking) {
        self->waking++;
        pthread_cond_signal (&self->work_cond);
    }
    pthread_mutex_unlock (&self->lock);
}

void fb_gosched_go (fb_gosched_t *self, fb_gosched_task_t *task) { s_queue_task (self, task, 1); }

void fb_gosched_ready (fb_gosched_t *self, fb_gosched_task_t *task) {
    s_queue_task (self, task, 0);
}

int fb_gosched_carriers (const fb_gosched_t *self) { return self->ncarriers; }

int64_t fb_gosched_live (fb_gosched_t *self) {
    pthread_mutex_lock (&self->lock);
    int64_t live = self->live;
    pthread_mutex_unlock (&self->lock);
    return live;
}

void fb_gosched_wait (fb_gosched_t *self) {
    pthread_mutex_lock (&self->lock);
    while (self->live > 0)
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
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->work_cond, &attr);
    pthread_condattr_destroy (&attr);
    pthread_cond_init (&self->done_cond, NULL);
    pthread_mutex_init (&self->lock, NULL);
    self->carriers = all;
    self->ncarriers = carriers;
    for (int i = 0; i < carriers; i++) {
        all[i] = (s_carrier_t){.sched = self, .index = i};
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
    pthread_mutex_lock (&self->lock);
    while (self->live > 0 && self->started > 0)
        pthread_cond_wait (&self->done_cond, &self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->work_cond);
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < self->started; i++)
        pthread_join (self->carriers[i].thread, NULL);
    pthread_cond_destroy (&self->work_cond);
    pthread_cond_destroy (&self->done_cond);
    pthread_mutex_destroy (&self->lock);
    free (self->heap);
    free (self->carriers);
    free (self);
    *self_p = NULL;
}

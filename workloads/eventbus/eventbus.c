/* eventbus.c: the eventbus workload, a model of Brummer's EventBus (pkg/events): a map from
 * event type to handlers under a reader-writer lock, Publish stamps an id and a time and hands
 * every handler call to one shared bounded queue served by a worker pool; when the queue is
 * full the call runs on a new goroutine-like task (gosched.c; a new kernel thread with
 * spawn_as: thread), as Brummer's fallback `go func(){ h(e) }()` does.
 * One op is one Publish; "dispatch" and "completion" are measured from the publish stamp on
 * the threads that run the handlers. */
#include "common/clock.h"
#include "common/rng.h"
#include "workloads/eventbus/gmem.h"
#include "workloads/eventbus/gogc.h"
#include "workloads/eventbus/gosched.h"
#include "workloads/workload.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Histogram shards for the handler threads: fb_hist_record_atomic lets any number of threads
 * share one, so a few shards keep contention low without a 270 KB histogram per thread. */
#define FB_EVENTBUS_SHARDS 8
/* What Brummer's code allocates per spawned call (the closure holding the handler and the
 * 88-byte Event, ...), and more when the handler sleeps (time.Sleep's timer): measured as the
 * difference in bytes allocated per event between runs where calls spawn and where none do
 * (bench/fidelity/driver.go: 371, 830 and 1119 bytes per event with 3 handlers). */
#define S_SPAWN_BYTES 152
#define S_SPAWN_SLEEP_BYTES 96
/* The seed's event data, map[string]interface{}{"test": "data"}: a map header and a bucket. */
#define S_MAP_HEADER_BYTES 48
#define S_MAP_BUCKET_BYTES 272
/* Spawned threads only spin and record; Go starts a goroutine with 8 KB. */
#define FB_EVENTBUS_STACK_BYTES (256 * 1024)

enum { S_DISPATCH_POOL, S_DISPATCH_THREAD };
enum { S_OVERFLOW_SPAWN, S_OVERFLOW_BLOCK, S_OVERFLOW_DROP };
enum { S_SPAWN_GOROUTINE, S_SPAWN_THREAD };
enum { S_HANDOFF_SAME_CPU, S_HANDOFF_ANY_CPU }; /* the handoff param */
enum { S_MIX_PEAK, S_MIX_LOGLINE };
enum { S_METRIC_DISPATCH, S_METRIC_COMPLETION };
enum {
    S_COUNTER_OVERFLOWS,
    S_COUNTER_DROPS,
    S_COUNTER_PEAK_THREADS,
    S_COUNTER_HANDLED,
    S_COUNTER_ABANDONED,
    S_COUNTER_GC_CYCLES,
    S_COUNTER_HEAP_PEAK
};

/* The seed's handler table ("EventBus Handler Distribution") and the weights of the peak mix.
 * The seed's peak session: log lines 50-200/s, process events 1-5/s, MCP events 10-50/s,
 * ~265/s in all. Weights are events per second at that peak: LogLine 200; process 5
 * (3 started, 2 exited); MCP 50 (46 activity, 2 connected, 2 disconnected); the ~10/s left
 * go to errors 2, builds 2, test failures 2 and passes 4. Sum 265. */
typedef struct {
    const char *name;
    int handlers; /* subscribers in Brummer */
    int weight;   /* events per second in the peak mix */
} s_event_type_t;

static const s_event_type_t s_types[] = {
    {"ProcessStarted", 3, 3},  /* TUI, Logger, ProcessManager */
    {"ProcessExited", 3, 2},   /* TUI, Logger, ProcessManager */
    {"LogLine", 5, 200},       /* TUI, Logger, ErrorDetector, URLDetector, FilterEngine */
    {"ErrorDetected", 2, 2},   /* TUI, Logger */
    {"BuildEvent", 2, 2},      /* TUI, Logger */
    {"TestFailed", 2, 2},      /* TUI, Logger */
    {"TestPassed", 2, 4},      /* TUI, Logger */
    {"MCPActivity", 1, 46},    /* TUI */
    {"MCPConnected", 2, 2},    /* TUI, ConnectionManager */
    {"MCPDisconnected", 2, 2}, /* TUI, ConnectionManager */
};
#define S_NTYPES ((int)(sizeof s_types / sizeof s_types[0]))
#define S_LOGLINE 2

/* One handler call: what Go's eventTask carries (the event and which handler), and as many
 * bytes (88 on 64-bit: Type, ProcessID and ID strings, Timestamp, Data, the handler), since
 * every hand-off copies it. Go's event id is the decimal wall clock in nanoseconds
 * (fmt.Sprintf("%d", time.Now().UnixNano())); so is ours, formatted into the call. */
typedef struct {
    uint64_t event_id;
    int64_t publish_ns; /* the publish stamp, monotonic */
    int64_t wall_ns;    /* and on the wall clock: Go's Timestamp holds both */
    const void *data;   /* Go's Data map; the model's handlers read none */
    int type;
    int handler;
    char id[24];
    char process_id[24];
} s_call_t;
static_assert (sizeof (s_call_t) == 88, "a call is as large as Go's eventTask");

typedef struct s_bus s_bus_t;
typedef void (s_handler_fn) (s_bus_t *bus, const s_call_t *call, int shard);

/* A spawned call: a goroutine-like task (task first, so the scheduler's pointer is ours) at the
 * start of a goroutine-sized block (gmem.h), or a thread's context and later its entry on the
 * reaper's list. */
typedef struct s_spawn {
    fb_gosched_task_t task;
    s_bus_t *bus;
    s_call_t call;
    pthread_t thread;
    struct s_spawn *next;
} s_spawn_t;

/* A pool worker: a thread, or a goroutine-like task (workers_as: goroutine; task first, so
 * the scheduler's pointer is ours) that parks on the queue when it is empty. */
enum { S_WORKER_TAKE, S_WORKER_PARKED, S_WORKER_SLEEPING };

typedef struct s_worker {
    fb_gosched_task_t task;
    s_bus_t *bus;
    pthread_t thread;
    int index;
    int phase;                  /* S_WORKER_*, for a task */
    bool handed;                /* a put handed a call straight to this parked task */
    s_call_t call;              /* the call it runs (handed over, or taken from the ring) */
    atomic_int_fast64_t done;   /* calls it has run: its own, so no line bounces per call */
    struct s_worker *next_wait; /* the queue's list of parked tasks */
} s_worker_t;

/* The shared bounded queue. A mutex and two condvars, as a Go buffered channel is (hchan has
 * a lock and wait queues): the lock is part of the cost being modelled. Worker tasks wait in
 * `parked`; a put hands its call straight to one of them and readies it, as Go's chansend
 * does with a waiting receiver. */
typedef struct {
    s_call_t *ring;
    int capacity, head, count;
    atomic_bool full; /* count == capacity, set under the lock and read without it (below) */
    atomic_int_fast64_t puts; /* calls put, under the lock (the workers count what they ran) */
    bool stopping;
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int full_waiters; /* publishers waiting on not_full (overflow: block) */
    s_worker_t *parked;
    fb_gosched_t *sched; /* readies parked worker tasks */
} s_queue_t;

struct s_bus {
    /* The subscription map: per type, its handlers, read under the rwlock as Publish does. */
    pthread_rwlock_t map_lock;
    s_handler_fn **handlers[S_NTYPES];
    int nhandlers[S_NTYPES];
    s_handler_fn **handler_store;
    int mix_weights[S_NTYPES], mix_total;
    int dispatch, overflow, spawn_as, workers_as, publishers_as, handoff;
    int64_t handler_work_ns, handler_sleep_ns;

    s_queue_t queue;
    s_worker_t *workers;
    int nworkers, started_workers; /* started_workers: threads (to join) */
    int task_workers;              /* worker tasks started (workers_as: goroutine) */

    fb_hist_t *dispatch_hist[FB_EVENTBUS_SHARDS], *completion_hist[FB_EVENTBUS_SHARDS];
    int nshards;

    atomic_uint_fast64_t next_event_id;
    atomic_int_fast64_t overflows, drops, handled; /* since the last interval */
    atomic_int_fast64_t abandoned;                 /* since the last interval */
    atomic_int alive_threads, peak_threads;        /* pool workers + spawned */

    /* Spawned goroutine-like tasks run here (spawn_as: goroutine). */
    fb_gosched_t *gosched;
    fb_gmem_t *gmem;           /* the spawned tasks' g records and stacks */
    int64_t gc_cycles_counted; /* collector cycles in the counters so far */
    fb_gogc_t *gogc;           /* the collector, with gogc > 0 */
    int gogc_percent;
    int64_t payload_bytes;
    int ncarriers;
    atomic_bool abandon_spawned; /* the drain's deadline passed: tasks not started end unrun */

    /* Spawned threads: counted down under reap_lock; the reaper joins each one. */
    pthread_attr_t spawn_attr;
    pthread_mutex_t reap_lock;
    pthread_cond_t reap_cond, idle_cond;
    s_spawn_t *finished;
    int spawned_alive;
    bool reaper_stop, reaper_started;
    pthread_t reaper;
};

static const fb_param_spec_t s_params[] = {
    {"publishers", FB_PARAM_INT, "1", 1, 4096, NULL,
     "threads publishing events (the runner's concurrency)"},
    {"dispatch", FB_PARAM_ENUM, "pool", 0, 0, "pool|thread-per-handler",
     "pool: Brummer's worker pool; thread-per-handler: every call spawned as spawn_as says"},
    {"workers", FB_PARAM_INT, "0", 0, 4096, NULL,
     "pool threads; 0 means Brummer's default, ncpu * 2.5 rounded up"},
    {"queue", FB_PARAM_INT, "1000", 1, 1048576, NULL, "capacity of the shared handler queue"},
    {"overflow", FB_PARAM_ENUM, "spawn", 0, 0, "spawn|block|drop",
     "queue full: spawn the call (Brummer's fallback goroutine), block for room, or drop it"},
    {"spawn_as", FB_PARAM_ENUM, "goroutine", 0, 0, "goroutine|thread",
     "what a spawned call runs on: a goroutine-like task on the carriers, or a new thread"},
    {"publishers_as", FB_PARAM_ENUM, "goroutine", 0, 0, "goroutine|thread",
     "what a publisher is: a goroutine, which publishes only on a carrier (Go's P), or a thread "
     "of its own"},
    {"workers_as", FB_PARAM_ENUM, "goroutine", 0, 0, "goroutine|thread",
     "what a pool worker is: a goroutine-like task on the carriers, or a thread of its own"},
    {"carriers", FB_PARAM_INT, "0", 0, 1024, NULL,
     "threads running goroutine-like tasks (Go's GOMAXPROCS); 0 means ncpu"},
    {"handoff", FB_PARAM_ENUM, "same-cpu", 0, 0, "same-cpu|any-cpu",
     "where a thread handed a carrier runs first: on the hander's CPU, as a goroutine switch "
     "stays on its thread, or wherever the kernel puts it"},
    {"handler_work", FB_PARAM_DURATION, "10us", 0, 1e9, NULL,
     "busy CPU time each handler call spends"},
    {"handler_sleep", FB_PARAM_DURATION, "0us", 0, 1e9, NULL,
     "time each handler call sleeps off the CPU, after handler_work (the seed's time.Sleep)"},
    {"gogc", FB_PARAM_INT, "100", 0, 10000, NULL,
     "Go's GOGC for the model's collector (collect when the heap reaches the live heap times "
     "1 + gogc/100); 0 turns it off"},
    {"payload", FB_PARAM_INT, "0", 0, 1048576, NULL,
     "bytes a Publish allocates per event (its id and data, as a 48-byte map header, a "
     "272-byte bucket and one object for the rest), written and counted by the collector"},
    {"mix", FB_PARAM_ENUM, "peak", 0, 0, "peak|logline",
     "event types published: the seed's peak session mix, or only LogLine"},
    {"handlers", FB_PARAM_INT, "0", 0, 64, NULL,
     "handlers per event type; 0 means the seed's table (LogLine 5, ProcessStarted 3, ...)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const char *const s_metrics[] = {"dispatch", "completion", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"overflows", FB_COUNTER_SUM, ""},    {"drops", FB_COUNTER_SUM, ""},
    {"peak_threads", FB_COUNTER_MAX, ""}, {"handled", FB_COUNTER_SUM, ""},
    {"abandoned", FB_COUNTER_SUM, ""},    {"gc_cycles", FB_COUNTER_SUM, ""},
    {"heap_peak", FB_COUNTER_MAX, "B"},   {NULL, 0, NULL},
};

/* ---- threads alive ---------------------------------------------------------------------- */

static void s_thread_started (s_bus_t *self) {
    int alive = atomic_fetch_add (&self->alive_threads, 1) + 1;
    int peak = atomic_load (&self->peak_threads);
    while (alive > peak && !atomic_compare_exchange_weak (&self->peak_threads, &peak, alive))
        ;
}

static void s_thread_ended (s_bus_t *self) { atomic_fetch_sub (&self->alive_threads, 1); }

/* ---- handlers --------------------------------------------------------------------------- */

/* Every subscriber is this handler: it burns handler_work of CPU, as a handler that formats,
 * filters or renders would, then sleeps handler_sleep, as one that waits on I/O (or the seed's
 * benchmark handler, time.Sleep (10us)) would, and records when it started and ended. */
static void s_handler_begin (s_bus_t *self, const s_call_t *call, int shard) {
    int64_t start_ns = fb_clock_now_ns ();
    fb_hist_record_atomic (self->dispatch_hist[shard], start_ns - call->publish_ns);
    if (self->handler_work_ns > 0) {
        int64_t until_ns = start_ns + self->handler_work_ns;
        while (fb_clock_now_ns () < until_ns)
            ;
    }
}

static void s_handler_end (s_bus_t *self, const s_call_t *call, int shard) {
    fb_hist_record_atomic (self->completion_hist[shard], fb_clock_now_ns () - call->publish_ns);
    atomic_fetch_add_explicit (&self->handled, 1, memory_order_release);
}

/* On a thread (pool worker, spawned thread, publisher): the sleep holds the thread. */
static void s_handler_busy (s_bus_t *self, const s_call_t *call, int shard) {
    s_handler_begin (self, call, shard);
    if (self->handler_sleep_ns > 0)
        fb_clock_sleep_until_ns (fb_clock_now_ns () + self->handler_sleep_ns);
    s_handler_end (self, call, shard);
}

static void s_run_call (s_bus_t *self, const s_call_t *call, int shard) {
    self->handlers[call->type][call->handler](self, call, shard);
}

/* ---- the queue -------------------------------------------------------------------------- */

static int s_queue_init (s_queue_t *q, int capacity) {
    q->ring = calloc ((size_t)capacity, sizeof *q->ring);
    if (!q->ring)
        return -1;
    q->capacity = capacity;
    atomic_init (&q->full, false);
    pthread_mutex_init (&q->lock, NULL);
    pthread_cond_init (&q->not_empty, NULL);
    pthread_cond_init (&q->not_full, NULL);
    return 0;
}

static void s_queue_fini (s_queue_t *q) {
    if (!q->ring)
        return;
    pthread_mutex_destroy (&q->lock);
    pthread_cond_destroy (&q->not_empty);
    pthread_cond_destroy (&q->not_full);
    free (q->ring);
    q->ring = NULL;
}

/* Puts a call: straight to a parked worker task when there is one (returned, to be readied
 * after the unlock), else into the ring. */
static s_worker_t *s_queue_put_locked (s_queue_t *q, const s_call_t *call) {
    atomic_fetch_add_explicit (&q->puts, 1, memory_order_relaxed);
    s_worker_t *worker = q->parked;
    if (worker) {
        q->parked = worker->next_wait;
        worker->call = *call;
        worker->handed = true;
        return worker;
    }
    q->ring[(q->head + q->count) % q->capacity] = *call;
    q->count++;
    atomic_store_explicit (&q->full, q->count == q->capacity, memory_order_relaxed);
    pthread_cond_signal (&q->not_empty);
    return NULL;
}

/* Go's `select { case ch <- task: default: }`: false when the queue is full. As Go's chansend,
 * a send that would not block first looks at the count without the lock and fails at once
 * when the queue is full. That look can be stale: a publisher may see the queue full just
 * after a worker took a call, and overflow the call, as Go's can. */
static bool s_queue_try_put (s_queue_t *q, const s_call_t *call) {
    if (atomic_load_explicit (&q->full, memory_order_relaxed))
        return false;
    fb_gosched_lock (&q->lock);
    bool room = !q->stopping && (q->parked || q->count < q->capacity);
    s_worker_t *worker = room ? s_queue_put_locked (q, call) : NULL;
    pthread_mutex_unlock (&q->lock);
    if (worker)
        fb_gosched_ready (q->sched, &worker->task);
    return room;
}

/* Waits for room; false when the bus is stopping. */
static bool s_queue_put_wait (s_queue_t *q, const s_call_t *call) {
    fb_gosched_lock (&q->lock);
    while (!q->stopping && !q->parked && q->count == q->capacity) {
        q->full_waiters++;
        pthread_cond_wait (&q->not_full, &q->lock);
        q->full_waiters--;
    }
    bool ok = !q->stopping;
    s_worker_t *worker = ok ? s_queue_put_locked (q, call) : NULL;
    pthread_mutex_unlock (&q->lock);
    if (worker)
        fb_gosched_ready (q->sched, &worker->task);
    return ok;
}

/* Takes the oldest call (under lock, the queue not empty); wakes a publisher blocked on a full
 * queue only if there is one, as Go's receive does. */
static void s_queue_pop_locked (s_queue_t *q, s_call_t *call) {
    *call = q->ring[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    atomic_store_explicit (&q->full, false, memory_order_relaxed);
    if (q->full_waiters > 0)
        pthread_cond_signal (&q->not_full);
}
/* Waits for a call; false when the bus is stopping (queued calls are left, as Brummer's
 * workers return on ctx.Done without draining the channel). */
static bool s_queue_take (s_queue_t *q, s_call_t *call) {
    fb_gosched_lock (&q->lock);
    while (!q->stopping && q->count == 0)
        pthread_cond_wait (&q->not_empty, &q->lock);
    bool ok = !q->stopping;
    if (ok) {
        s_queue_pop_locked (q, call);
    }
    pthread_mutex_unlock (&q->lock);
    return ok;
}

/* Stops the queue; parked worker tasks are readied to see it and end. */
static void s_queue_stop (s_queue_t *q) {
    fb_gosched_lock (&q->lock);
    q->stopping = true;
    pthread_cond_broadcast (&q->not_empty);
    pthread_cond_broadcast (&q->not_full);
    s_worker_t *parked = q->parked;
    q->parked = NULL;
    pthread_mutex_unlock (&q->lock);
    while (parked) {
        s_worker_t *next = parked->next_wait;
        fb_gosched_ready (q->sched, &parked->task);
        parked = next;
    }
}

/* ---- the pool --------------------------------------------------------------------------- */

static void *s_worker_main (void *arg) {
    s_worker_t *worker = arg;
    s_bus_t *self = worker->bus;
    int shard = worker->index % self->nshards;
    s_call_t call;
    while (s_queue_take (&self->queue, &call)) {
        s_run_call (self, &call, shard);
        atomic_fetch_add_explicit (&worker->done, 1, memory_order_release);
    }
    return NULL;
}

/* A pool worker as a goroutine: takes calls from the ring; parks on the queue when it is
 * empty (a put hands it the next call and readies it, Go's direct hand-off to a waiting
 * receiver); a handler's sleep parks it in the timer heap. It yields after running for 10 ms
 * in a row, as Go preempts a goroutine after 10 ms. */
static int s_worker_step (fb_gosched_task_t *task, int carrier) {
    (void)carrier;
    s_worker_t *worker = (s_worker_t *)task;
    s_bus_t *self = worker->bus;
    s_queue_t *q = &self->queue;
    int shard = worker->index % self->nshards;
    bool have = false;
    if (worker->phase == S_WORKER_SLEEPING) {
        s_handler_end (self, &worker->call, shard);
        atomic_fetch_add_explicit (&worker->done, 1, memory_order_release);
    } else if (worker->phase == S_WORKER_PARKED) {
        have = worker->handed; /* false: readied by s_queue_stop */
        worker->handed = false;
    }
    worker->phase = S_WORKER_TAKE;
    int64_t slice_end_ns = fb_clock_now_ns () + FB_GOSCHED_SLICE_NS;
    for (int ran = 1;; ran++) {
        if (ran % 16 == 0 && fb_clock_now_ns () > slice_end_ns)
            return FB_GOSCHED_YIELD;
        if (!have) {
            fb_gosched_lock (&q->lock);
            if (q->stopping) {
                pthread_mutex_unlock (&q->lock);
                s_thread_ended (self);
                return FB_GOSCHED_DONE;
            }
            if (q->count == 0) {
                worker->phase = S_WORKER_PARKED;
                worker->next_wait = q->parked;
                q->parked = worker;
                pthread_mutex_unlock (&q->lock);
                return FB_GOSCHED_PARK; /* a put or the stop readies it */
            }
            s_queue_pop_locked (q, &worker->call);
            pthread_mutex_unlock (&q->lock);
        }
        have = false;
        s_handler_begin (self, &worker->call, shard);
        if (self->handler_sleep_ns > 0) {
            worker->phase = S_WORKER_SLEEPING;
            task->wake_ns = fb_clock_now_ns () + self->handler_sleep_ns;
            return FB_GOSCHED_SLEEP;
        }
        s_handler_end (self, &worker->call, shard);
        atomic_fetch_add_explicit (&worker->done, 1, memory_order_release);
    }
}

/* ---- spawned threads -------------------------------------------------------------------- */

/* A spawned thread runs one call, then puts itself on the reaper's list. After the unlock it
 * touches nothing of the bus, so teardown may free it once every spawned thread is joined. */
static void *s_spawn_main (void *arg) {
    s_spawn_t *spawn = arg;
    s_bus_t *self = spawn->bus;
    s_run_call (self, &spawn->call, (int)(spawn->call.event_id % (uint64_t)self->nshards));
    s_thread_ended (self);
    spawn->thread = pthread_self ();
    pthread_mutex_lock (&self->reap_lock);
    spawn->next = self->finished;
    self->finished = spawn;
    if (--self->spawned_alive == 0)
        pthread_cond_broadcast (&self->idle_cond);
    pthread_cond_signal (&self->reap_cond);
    pthread_mutex_unlock (&self->reap_lock);
    return NULL;
}

/* Joins spawned threads as they finish, so none is left unjoined for long. */
static void *s_reaper_main (void *arg) {
    s_bus_t *self = arg;
    pthread_mutex_lock (&self->reap_lock);
    for (;;) {
        while (!self->finished && !self->reaper_stop)
            pthread_cond_wait (&self->reap_cond, &self->reap_lock);
        s_spawn_t *spawn = self->finished;
        if (!spawn)
            break; /* stopping, and nothing left to join */
        self->finished = spawn->next;
        pthread_mutex_unlock (&self->reap_lock);
        pthread_join (spawn->thread, NULL);
        free (spawn);
        pthread_mutex_lock (&self->reap_lock);
    }
    pthread_mutex_unlock (&self->reap_lock);
    return NULL;
}

/* ---- spawned goroutine-like tasks ------------------------------------------------------- */

/* The handler as a goroutine: its work on a carrier, then (time.Sleep) parked in the
 * scheduler's timer heap, holding no thread, then its end on whichever carrier wakes it. */
static int s_task_step (fb_gosched_task_t *task, int carrier) {
    s_spawn_t *spawn = (s_spawn_t *)task;
    s_bus_t *self = spawn->bus;
    int shard = carrier % self->nshards;
    if (task->wake_ns == 0 && atomic_load_explicit (&self->abandon_spawned, memory_order_relaxed)) {
        atomic_fetch_add (&self->abandoned, 1); /* the run is over before the call started */
        s_thread_ended (self);
        return FB_GOSCHED_DONE;
    }
    /* The handler's frame on the task's stack, below the return address: h(e) gets a copy. */
    s_call_t *frame = fb_gmem_frame (spawn, sizeof (uintptr_t) + sizeof *frame);
    if (task->wake_ns == 0) {
        *frame = spawn->call;
        s_handler_begin (self, frame, shard);
        if (self->handler_sleep_ns > 0) {
            task->wake_ns = fb_clock_now_ns () + self->handler_sleep_ns;
            return FB_GOSCHED_SLEEP;
        }
    }
    s_handler_end (self, frame, shard);
    s_thread_ended (self);
    return FB_GOSCHED_DONE;
}

static void s_task_release (fb_gosched_task_t *task) {
    fb_gmem_put (((s_spawn_t *)task)->bus->gmem, task);
}

/* Bytes a spawned call allocates, as the collector counts them. */
static int64_t s_spawn_bytes (const s_bus_t *self) {
    return S_SPAWN_BYTES + (self->handler_sleep_ns > 0 ? S_SPAWN_SLEEP_BYTES : 0);
}

static_assert (sizeof (s_spawn_t) <= FB_GMEM_G_BYTES, "a spawned call fits a g record");

/* Go's `go func(h, e) { h(e) }(handler, event)`: a task, no thread. Its record goes where Go
 * puts the g, and the return address of its first frame at the top of its stack; a new block
 * counts as Go's new g does, on the collector's heap. */
static int s_go_call (s_bus_t *self, const s_call_t *call) {
    bool fresh;
    s_spawn_t *spawn = fb_gmem_get (self->gmem, &fresh);
    if (!spawn) {
        s_run_call (self, call, 0);
        return -1;
    }
    *spawn = (s_spawn_t){
        .task = {.step = s_task_step, .release = s_task_release}, .bus = self, .call = *call};
    *(uintptr_t *)fb_gmem_frame (spawn, sizeof (uintptr_t)) = (uintptr_t)spawn->task.step;
    s_thread_started (self);
    if (self->gogc) /* a new g is on Go's heap too (malg) */
        fb_gogc_alloc_with_g (self->gogc, s_spawn_bytes (self), fresh);
    fb_gosched_go (self->gosched, &spawn->task);
    return 0;
}

/* The same on a new kernel thread (spawn_as: thread). When no thread can be made, the call
 * runs on the publisher and the op reports a failure. */
static int s_spawn_call (s_bus_t *self, const s_call_t *call) {
    if (self->gosched)
        return s_go_call (self, call);
    s_spawn_t *spawn = malloc (sizeof *spawn);
    if (spawn) {
        *spawn = (s_spawn_t){.bus = self, .call = *call};
        pthread_mutex_lock (&self->reap_lock);
        self->spawned_alive++;
        pthread_mutex_unlock (&self->reap_lock);
        s_thread_started (self);
        pthread_t thread;
        if (pthread_create (&thread, &self->spawn_attr, s_spawn_main, spawn) == 0)
            return 0;
        s_thread_ended (self);
        pthread_mutex_lock (&self->reap_lock);
        if (--self->spawned_alive == 0)
            pthread_cond_broadcast (&self->idle_cond);
        pthread_mutex_unlock (&self->reap_lock);
        free (spawn);
    }
    s_run_call (self, call, 0);
    return -1;
}

/* ---- publish ---------------------------------------------------------------------------- */

/* A publisher as a goroutine publishes only on a carrier lent to it (gosched.h). */
static void s_publisher_enter (s_bus_t *self) {
    if (self->publishers_as == S_SPAWN_GOROUTINE)
        fb_gosched_enter (self->gosched);
}

static void s_publisher_leave (s_bus_t *self, bool blocking) {
    if (self->publishers_as == S_SPAWN_GOROUTINE)
        fb_gosched_leave (self->gosched, blocking);
}

static int s_dispatch_call (s_bus_t *self, const s_call_t *call) {
    if (self->dispatch == S_DISPATCH_THREAD)
        return s_spawn_call (self, call);
    if (s_queue_try_put (&self->queue, call))
        return 0;
    atomic_fetch_add_explicit (&self->overflows, 1, memory_order_relaxed);
    switch (self->overflow) {
    case S_OVERFLOW_BLOCK: { /* a goroutine blocked on a send hands its P off */
        s_publisher_leave (self, true);
        bool put = s_queue_put_wait (&self->queue, call);
        s_publisher_enter (self);
        return put ? 0 : -1;
    }
    case S_OVERFLOW_DROP:
        atomic_fetch_add_explicit (&self->drops, 1, memory_order_relaxed);
        return 0;
    default:
        return s_spawn_call (self, call);
    }
}

static int s_pick_type (const s_bus_t *self, uint64_t *rng) {
    if (self->mix_total == 0)
        return S_LOGLINE;
    uint64_t x = fb_rng_next (rng);
    int ticket = (int)(x % (uint64_t)self->mix_total);
    int type = 0;
    while (ticket >= self->mix_weights[type])
        ticket -= self->mix_weights[type++];
    return type;
}

/* The event's data and id, allocated and written as the caller and Publish build them, and
 * counted by the collector: the seed's `map[string]interface{}{"test": "data"}` is a map
 * header (48 bytes) and one bucket (272), the id a string; the rest of `payload` is one more
 * object. The model's handlers do not read them, so they are freed at once. */
static void s_payload (s_bus_t *self) {
    static const int64_t go_objects[] = {S_MAP_HEADER_BYTES, S_MAP_BUCKET_BYTES};
    char *objects[3];
    int n = 0;
    int64_t left = self->payload_bytes;
    for (int i = 0; left > 0 && n < 3; i++) {
        int64_t size = i < 2 && go_objects[i] < left ? go_objects[i] : left;
        if ((objects[n] = malloc ((size_t)size))) {
            memset (objects[n], 0x5a, (size_t)size);
            __asm__ volatile("" : : "r"(objects[n]) : "memory"); /* the writes stay */
            n++;
        }
        left -= size;
    }
    while (n > 0)
        free (objects[--n]);
    if (self->gogc)
        fb_gogc_alloc (self->gogc, self->payload_bytes);
}

/* One Publish: time stamp and id (Brummer stamps time.Now() and formats time.Now() again as
 * the id with fmt.Sprintf; each time.Now reads the wall and the monotonic clock), the handler
 * list read under the read lock (Brummer copies the slice and unlocks), then one non-blocking
 * hand-off per handler. */
static int s_op (void *state, fb_wl_op_t *op) {
    s_bus_t *self = state;
    s_publisher_enter (self);
    if (self->payload_bytes > 0)
        s_payload (self);
    s_call_t call = {.type = s_pick_type (self, &op->rng)};
    call.event_id = atomic_fetch_add_explicit (&self->next_event_id, 1, memory_order_relaxed);
    call.wall_ns = fb_clock_go_now (&call.publish_ns);
    int64_t id_ns = fb_clock_go_now (NULL); /* UnixNano drops the monotonic reading */
    snprintf (call.id, sizeof call.id, "%lld", (long long)id_ns);
    pthread_rwlock_rdlock (&self->map_lock);
    int n = self->nhandlers[call.type];
    pthread_rwlock_unlock (&self->map_lock);
    int rc = 0;
    for (call.handler = 0; call.handler < n; call.handler++)
        if (s_dispatch_call (self, &call) != 0)
            rc = -1;
    s_publisher_leave (self, false);
    return rc;
}

/* ---- setup and teardown ----------------------------------------------------------------- */

static int s_default_workers (void) {
    long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    return (int)((ncpu * 5 + 1) / 2); /* ncpu * 2.5, rounded up */
}

/* The subscription map: every type gets its handlers, all the busy handler. */
static int s_subscribe_all (s_bus_t *self, int handlers_each) {
    int total = 0;
    for (int t = 0; t < S_NTYPES; t++) {
        self->nhandlers[t] = handlers_each > 0 ? handlers_each : s_types[t].handlers;
        total += self->nhandlers[t];
    }
    self->handler_store = calloc ((size_t)total + 1, sizeof *self->handler_store);
    if (!self->handler_store)
        return -1;
    s_handler_fn **next = self->handler_store;
    for (int t = 0; t < S_NTYPES; t++) {
        self->handlers[t] = next;
        for (int h = 0; h < self->nhandlers[t]; h++)
            *next++ = s_handler_busy;
    }
    return 0;
}

static int s_read_params (s_bus_t *self, const fb_params_t *params) {
    self->dispatch = (int)fb_params_num (params, "dispatch");
    self->overflow = (int)fb_params_num (params, "overflow");
    self->spawn_as = (int)fb_params_num (params, "spawn_as");
    self->workers_as = (int)fb_params_num (params, "workers_as");
    self->publishers_as = (int)fb_params_num (params, "publishers_as");
    self->handoff = (int)fb_params_num (params, "handoff");
    self->gogc_percent = (int)fb_params_num (params, "gogc");
    self->payload_bytes = (int64_t)fb_params_num (params, "payload");
    self->ncarriers = (int)fb_params_num (params, "carriers");
    self->handler_work_ns = (int64_t)fb_params_num (params, "handler_work");
    self->handler_sleep_ns = (int64_t)fb_params_num (params, "handler_sleep");
    self->nworkers = (int)fb_params_num (params, "workers");
    if (self->nworkers == 0)
        self->nworkers = s_default_workers ();
    if (self->dispatch == S_DISPATCH_THREAD)
        self->nworkers = 0; /* every call gets its own thread: no pool */
    if ((int)fb_params_num (params, "mix") == S_MIX_PEAK)
        for (int t = 0; t < S_NTYPES; t++) {
            self->mix_weights[t] = s_types[t].weight;
            self->mix_total += s_types[t].weight;
        }
    return s_subscribe_all (self, (int)fb_params_num (params, "handlers"));
}

/* Handler calls per Publish, on average over the mix (at least 1). */
static int64_t s_calls_per_event (const s_bus_t *self) {
    if (self->mix_total == 0)
        return self->nhandlers[S_LOGLINE] > 0 ? self->nhandlers[S_LOGLINE] : 1;
    int64_t calls = 0;
    for (int t = 0; t < S_NTYPES; t++)
        calls += (int64_t)self->mix_weights[t] * self->nhandlers[t];
    calls /= self->mix_total;
    return calls > 0 ? calls : 1;
}

/* The share of the heap's bytes Go reads before it writes: the event's map bucket (mapassign
 * reads its tophash first) over what an event allocates when every call is spawned. */
static double s_read_first (const s_bus_t *self) {
    int64_t bucket = self->payload_bytes - S_MAP_HEADER_BYTES;
    bucket = bucket < 0 ? 0 : bucket > S_MAP_BUCKET_BYTES ? S_MAP_BUCKET_BYTES : bucket;
    int64_t per_event = self->payload_bytes + s_calls_per_event (self) * s_spawn_bytes (self);
    return per_event > 0 ? (double)bucket / (double)per_event : 0;
}

static int s_alloc (s_bus_t *self, const fb_params_t *params, fb_err_t *err) {
    if (s_read_params (self, params) != 0)
        return fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the handler table");
    if (s_queue_init (&self->queue, (int)fb_params_num (params, "queue")) != 0)
        return fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for a queue of %d calls",
                           (int)fb_params_num (params, "queue"));
    self->nshards = self->nworkers < 1                    ? 1
                    : self->nworkers > FB_EVENTBUS_SHARDS ? FB_EVENTBUS_SHARDS
                                                          : self->nworkers;
    for (int i = 0; i < self->nshards; i++) {
        self->dispatch_hist[i] = fb_hist_new_default (err);
        self->completion_hist[i] = self->dispatch_hist[i] ? fb_hist_new_default (err) : NULL;
        if (!self->completion_hist[i])
            return -1;
    }
    self->workers = calloc ((size_t)self->nworkers + 1, sizeof *self->workers);
    if (!self->workers)
        return fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for %d workers",
                           self->nworkers);
    return 0;
}

static int s_start_threads (s_bus_t *self, fb_err_t *err) {
    int rc = pthread_create (&self->reaper, NULL, s_reaper_main, self);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "eventbus: cannot start the reaper thread: %s",
                           strerror (rc));
    self->reaper_started = true;
    bool spawns = self->dispatch == S_DISPATCH_THREAD || self->overflow == S_OVERFLOW_SPAWN;
    bool task_workers = self->nworkers > 0 && self->workers_as == S_SPAWN_GOROUTINE;
    if ((spawns && self->spawn_as == S_SPAWN_GOROUTINE) || task_workers ||
        self->publishers_as == S_SPAWN_GOROUTINE) {
        self->gosched = fb_gosched_new (self->ncarriers, err);
        if (!self->gosched)
            return -1;
        fb_gosched_set_same_cpu (self->gosched, self->handoff == S_HANDOFF_SAME_CPU);
        self->gmem = fb_gmem_new (err);
        if (!self->gmem)
            return -1;
        self->queue.sched = self->gosched;
        int64_t held = s_spawn_bytes (self) + self->payload_bytes / s_calls_per_event (self);
        if (self->gogc_percent > 0 &&
            !(self->gogc = fb_gogc_new (self->gosched, self->gmem, self->gogc_percent, held,
                                        s_read_first (self), err)))
            return -1;
    }
    for (int i = 0; i < self->nworkers; i++) {
        s_worker_t *worker = &self->workers[i];
        *worker = (s_worker_t){.task = {.step = s_worker_step}, .bus = self, .index = i};
        s_thread_started (self);
        if (task_workers) {
            fb_gosched_go (self->gosched, &worker->task);
            self->task_workers++;
            continue;
        }
        rc = pthread_create (&worker->thread, NULL, s_worker_main, worker);
        if (rc != 0) {
            s_thread_ended (self);
            return fb_err_set (err, FB_ESYS,
                               "eventbus: cannot start pool worker %d of %d: %s (lower workers)",
                               i + 1, self->nworkers, strerror (rc));
        }
        self->started_workers++;
    }
    return 0;
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    (void)env; /* the runner's publishers call op; nothing here depends on rate or duration */
    s_bus_t *self = state;
    pthread_rwlock_init (&self->map_lock, NULL);
    pthread_mutex_init (&self->reap_lock, NULL);
    pthread_cond_init (&self->reap_cond, NULL);
    pthread_cond_init (&self->idle_cond, NULL);
    pthread_attr_init (&self->spawn_attr);
    pthread_attr_setstacksize (&self->spawn_attr, FB_EVENTBUS_STACK_BYTES);
    if (s_alloc (self, params, err) != 0 || s_start_threads (self, err) != 0)
        return -1;
    return 0;
}

/* Counters are read before the histograms are drained, and a handler records before it counts
 * itself handled (release), so every call counted in handled is in this interval's metrics. */
static void s_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    s_bus_t *self = state;
    counters[S_COUNTER_OVERFLOWS] = atomic_exchange (&self->overflows, 0);
    counters[S_COUNTER_DROPS] = atomic_exchange (&self->drops, 0);
    counters[S_COUNTER_HANDLED] = atomic_exchange (&self->handled, 0);
    counters[S_COUNTER_ABANDONED] = atomic_exchange (&self->abandoned, 0);
    /* The interval's peak; the next interval starts from the threads alive now. */
    counters[S_COUNTER_PEAK_THREADS] =
        atomic_exchange (&self->peak_threads, atomic_load (&self->alive_threads));
    if (self->gogc) {
        int64_t cycles = fb_gogc_cycles (self->gogc);
        counters[S_COUNTER_GC_CYCLES] = cycles - self->gc_cycles_counted;
        self->gc_cycles_counted = cycles;
        counters[S_COUNTER_HEAP_PEAK] = fb_gogc_heap_touched (self->gogc);
    }
    for (int i = 0; i < self->nshards; i++) {
        /* Same layout on both sides (the default range), so a drain cannot fail. */
        int rc = fb_hist_drain (metrics[S_METRIC_DISPATCH], self->dispatch_hist[i], NULL);
        rc |= fb_hist_drain (metrics[S_METRIC_COMPLETION], self->completion_hist[i], NULL);
        assert (rc == 0);
    }
}

/* Waits for spawned threads and tasks to finish their call; with worker tasks, only once the
 * queue is stopped (they end then). */
static void s_wait_spawned (s_bus_t *self) {
    if (self->gosched)
        fb_gosched_wait (self->gosched);
    pthread_mutex_lock (&self->reap_lock);
    while (self->spawned_alive > 0)
        pthread_cond_wait (&self->idle_cond, &self->reap_lock);
    pthread_mutex_unlock (&self->reap_lock);
}

static bool s_idle (s_bus_t *self) {
    pthread_mutex_lock (&self->reap_lock);
    bool idle = self->spawned_alive == 0;
    pthread_mutex_unlock (&self->reap_lock);
    if (self->gosched && fb_gosched_live (self->gosched) > self->task_workers)
        idle = false; /* a spawned task is queued, running or asleep */
    if (!idle)
        return false;
    int64_t done = 0; /* first: it never exceeds puts, so equal means none was in flight */
    for (int i = 0; i < self->nworkers; i++)
        done += atomic_load_explicit (&self->workers[i].done, memory_order_acquire);
    return done == atomic_load_explicit (&self->queue.puts, memory_order_acquire);
}

/* After the last Publish: the pool works through the queue until the deadline; calls still
 * queued then are abandoned (counted, never run), as Brummer's workers leave the channel on
 * shutdown. Calls already running finish, so every handled call is in the last interval. */
static void s_drain (void *state, int64_t deadline_ns) {
    s_bus_t *self = state;
    while (!s_idle (self) && fb_clock_now_ns () < deadline_ns)
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 1000 * 1000);
    s_queue_stop (&self->queue);
    atomic_store (&self->abandon_spawned, true);
    for (int i = 0; i < self->started_workers; i++)
        pthread_join (self->workers[i].thread, NULL);
    self->started_workers = 0;
    pthread_mutex_lock (&self->queue.lock);
    atomic_fetch_add (&self->abandoned, self->queue.count);
    self->queue.count = 0;
    atomic_store (&self->queue.full, false);
    pthread_mutex_unlock (&self->queue.lock);
    s_wait_spawned (self); /* worker tasks end too: the stopped queue readied them */
    self->task_workers = 0;
}

/* Stops the pool, waits for every spawned thread, joins them all, frees. */
static void s_teardown (void *state) {
    s_bus_t *self = state;
    if (self->queue.ring)
        s_queue_stop (&self->queue);
    atomic_store (&self->abandon_spawned, true);
    for (int i = 0; i < self->started_workers; i++)
        pthread_join (self->workers[i].thread, NULL);
    s_wait_spawned (self);
    fb_gosched_destroy (&self->gosched);
    fb_gogc_destroy (&self->gogc);
    fb_gmem_destroy (&self->gmem);
    pthread_mutex_lock (&self->reap_lock);
    self->reaper_stop = true;
    pthread_cond_signal (&self->reap_cond);
    pthread_mutex_unlock (&self->reap_lock);
    if (self->reaper_started)
        pthread_join (self->reaper, NULL);
    for (int i = 0; i < FB_EVENTBUS_SHARDS; i++) {
        fb_hist_destroy (&self->dispatch_hist[i]);
        fb_hist_destroy (&self->completion_hist[i]);
    }
    s_queue_fini (&self->queue);
    pthread_attr_destroy (&self->spawn_attr);
    pthread_cond_destroy (&self->idle_cond);
    pthread_cond_destroy (&self->reap_cond);
    pthread_mutex_destroy (&self->reap_lock);
    pthread_rwlock_destroy (&self->map_lock);
    free (self->workers);
    free (self->handler_store);
}

const fb_workload_t fb_workload_eventbus = {
    .kind = "eventbus",
    .summary = "Brummer's EventBus: publish to per-type handlers through a bounded worker pool",
    .params = s_params,
    .concurrency_param = "publishers",
    .metrics = s_metrics,
    .counters = s_counters,
    .state_size = sizeof (s_bus_t),
    .max_rate_per_s = 1e6,
    .setup = s_setup,
    .op = s_op,
    .interval = s_interval,
    .drain = s_drain,
    .teardown = s_teardown,
};

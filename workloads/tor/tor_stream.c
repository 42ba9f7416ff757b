/* tor_stream.c: the tor.stream workload. Model mode (the default): setup starts the loopback
 * network and a client, builds `circuits` circuits and opens `streams` streams over them (round
 * robin) to the exits' sink, and keeps them all open. One op is one request/response exchange on
 * one stream: `request` bytes out, `response` bytes back, in RELAY_DATA cells under SENDME flow
 * control. Operations run on the runner's asynchronous path (tor_streams.c): each runner thread
 * keeps its share of `concurrency` exchanges in flight as the client's asynchronous calls, and
 * hears of their ends through an eventfd. Mode tor (real/tor_real_stream.c) does the same
 * through a real tor client's SOCKS port; the descriptor below only dispatches on the mode. Mode
 * interop runs this file's model code with its client pointed at real tor relays and their
 * exits at the loopback sink (tor_interop.c). */
#include "common/clock.h"
#include "common/parallel.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_relay.h"
#include "workloads/tor/ops/tor_streams.h"
#include "workloads/tor/real/tor_real.h"
#include "workloads/tor/tor_interop.h"
#include "workloads/tor/tor_mode.h"
#include "workloads/workload.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define S_SETUP_THREADS 32 /* circuits built and streams opened at once during setup */
#define S_INTEROP_TRIES 3  /* a setup build's or stream's tries through real relays, as tor's */

enum { S_C_STREAMS, S_C_BYTES, S_C_STALLS, S_C_BAD_CELLS, S_C_FAILURES, S_C_CIRCUITS };
enum { S_C_TOR_NET_RSS = 8 };
enum { S_MODE_INTEROP = 2 }; /* the index of "interop" in the mode param */

/* A circuit slot: its circuit, replaced when it dies; dead ones wait for teardown, since
 * streams of other workers may still hold them. Runner threads read circ without the lock
 * (atomically) and open streams on it; a failure on the slot makes it suspect, and the next
 * open goes through the rebuilder, which checks the circuit and builds a new one if it died. */
typedef struct {
    pthread_mutex_t lock;
    fb_tor_circ_t *circ; /* written under lock, atomically */
    atomic_bool suspect;
    fb_tor_circ_t **retired;
    int nretired;
} s_slot_t;

typedef struct s_state s_state_t;

typedef struct {
    s_state_t *self;
    fb_tor_stream_t *stream;
    int slot;
    fb_tor_call_t *call; /* its open or exchange in flight */
    int64_t ended_ns;    /* when the call ended (the client's thread writes it) */
    bool no_circuit;     /* the rebuilder ended its open: no circuit could be built */
} s_held_t;

/* Stream indexes, first in first out; each stream is in it at most once, so size streams is
 * never too small. The owner locks. */
typedef struct {
    int *slot, head, count, size;
} s_ring_t;

static int s_ring_init (s_ring_t *ring, int size) {
    ring->size = size;
    return (ring->slot = calloc ((size_t)size, sizeof *ring->slot)) ? 0 : -1;
}

static void s_ring_push (s_ring_t *ring, int i) {
    assert (ring->count < ring->size);
    ring->slot[(ring->head + ring->count++) % ring->size] = i;
}

static int s_ring_pop (s_ring_t *ring) {
    int i = ring->slot[ring->head];
    ring->head = (ring->head + 1) % ring->size;
    ring->count--;
    return i;
}

/* A runner thread's ended calls, from the client's thread: held indexes in a ring (at most
 * one call per stream is in flight, so it never holds more than the thread's streams), and an
 * eventfd to wake the thread. */
typedef struct {
    pthread_mutex_t lock;
    s_ring_t ring;
    int efd;
} s_inbox_t;

/* The thread that checks and rebuilds suspect circuits for the opens that need them, so a
 * runner thread never waits for a build: stream indexes in a ring, at most one per stream. */
typedef struct {
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    s_ring_t ring;
} s_rebuilder_t;

struct s_state {
    fb_tor_streams_t ops;      /* first: the runner's calls go straight to it */
    fb_tor_relay_net_t *net;   /* model relays (NULL in mode interop) */
    fb_tor_interop_t *interop; /* real tor relays (mode interop only); it owns the client */
    fb_tor_client_t *client;
    int hops, ncircuits, nstreams, threads;
    int64_t timeout_ns;
    s_slot_t *slots;
    s_held_t *held;
    s_inbox_t *inbox; /* per runner thread */
    s_rebuilder_t rebuilder;
    atomic_uint_fast64_t seed; /* of circuits rebuilt during the run */
    int64_t stalls_seen, bad_seen;
};

_Static_assert(offsetof (s_state_t, ops) == 0, "the runner's calls take the state as its ops");

static const fb_param_spec_t s_params[] = {
    {"relays", FB_PARAM_INT, "5", 2, 64, NULL, "relays in the loopback network"},
    {"hops", FB_PARAM_INT, "3", 1, 8, NULL, "hops per circuit"},
    {"circuits", FB_PARAM_INT, "10", 1, 10000, NULL, "circuits the streams are spread over"},
    {"streams", FB_PARAM_INT, "100", 1, 100000, NULL, "streams held open at once"},
    {"concurrency", FB_PARAM_INT, "10", 1, 100000, NULL,
     "exchanges in flight at once, one per stream, spread over the threads; at most streams"},
    {"threads", FB_PARAM_INT, "1", 1, 1024, NULL,
     "runner threads, each keeping its share of concurrency in flight; at most concurrency"},
    {"request", FB_PARAM_SIZE, "512B", 8, 64e6, NULL, "bytes sent per exchange (8-byte header)"},
    {"response", FB_PARAM_SIZE, "4KB", 0, 256e6, NULL, "bytes the sink answers per exchange"},
    {"stream_bytes", FB_PARAM_SIZE, "64KB", 0, 1e12, NULL,
     "bytes a stream carries before it is ended and reopened; 0: never"},
    {"hop_rtt", FB_PARAM_DURATION, "0ms", 0, 10e9, NULL,
     "round trip of every link; a cell waits half of it where it arrives"},
    {"timeout", FB_PARAM_DURATION, "30s", 1e6, 600e9, NULL,
     "an open or exchange not done by then fails (counted in failures)"},
    {"mode", FB_PARAM_ENUM, "model", 0, 0, "model|tor|interop",
     "model: our own relays in the agent; tor: a private network of tor processes; interop: our "
     "client through that network's relays"},
    {"bootstrap_timeout", FB_PARAM_DURATION, "120s", 10e9, 600e9, NULL,
     "mode tor and interop: setup fails when the private network has not bootstrapped by then"},
    {"onionperf", FB_PARAM_BOOL, "false", 0, 0, NULL,
     "each op one OnionPerf download on a fresh stream, 50 KiB, 1 MiB and 5 MiB in turn "
     "(response is then unused): metrics ttfb_50kib, ttlb_50kib, ... ttlb_5mib"},
    {"nagle", FB_PARAM_BOOL, "false", 0, 0, NULL,
     "model and interop: leave Nagle's algorithm on on our links' sockets, as tor does"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* open, ttfb, then OnionPerf's ttfb and ttlb per size (tor_exchange.h) */
static const char *const s_metrics[] = {"open",       "ttfb",      "ttfb_50kib",
                                        "ttlb_50kib", "ttfb_1mib", "ttlb_1mib",
                                        "ttfb_5mib",  "ttlb_5mib", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"streams", FB_COUNTER_MAX, ""},
    {"bytes", FB_COUNTER_SUM, "B"},
    {"sendme_stalls", FB_COUNTER_SUM, ""},
    {"bad_cells", FB_COUNTER_SUM, ""},
    {"failures", FB_COUNTER_SUM, ""},
    {"circuits", FB_COUNTER_MAX, ""},
    {"tor_rss", FB_COUNTER_MAX, "B"},     /* mode tor: the client tor's VmRSS */
    {"tor_hwm", FB_COUNTER_MAX, "B"},     /* mode tor: the client tor's VmHWM */
    {"tor_net_rss", FB_COUNTER_MAX, "B"}, /* mode tor: VmRSS of every tor of the network */
    {NULL, 0, NULL},
};

static int s_model_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    int relays = (int)fb_params_num (params, "relays"), hops = (int)fb_params_num (params, "hops");
    int circuits = (int)fb_params_num (params, "circuits");
    int streams = (int)fb_params_num (params, "streams");
    if (fb_params_num (params, "mode") == S_MODE_INTEROP) {
        if (fb_tor_interop_check (params, err) != 0)
            return -1;
        if (hops < 2)
            return fb_err_set (err, FB_EINPUT,
                               "mode interop: hops must be 2 or more (a tor exit refuses BEGIN "
                               "on a circuit's first hop)");
        if (streams > 1000)
            return fb_err_set (err, FB_EINPUT,
                               "mode interop: streams must be at most 1000, as in mode tor: each "
                               "holds a socket at an exit and at the sink (got %d)",
                               streams);
    }
    if (hops > relays)
        return fb_err_set (err, FB_EINPUT, "hops must be at most relays (got hops %d, relays %d)",
                           hops, relays);
    if (circuits > streams)
        return fb_err_set (err, FB_EINPUT,
                           "circuits must be at most streams: every circuit carries a stream "
                           "(got circuits %d, streams %d)",
                           circuits, streams);
    int concurrency = (int)fb_params_num (params, "concurrency");
    if (concurrency > streams)
        return fb_err_set (err, FB_EINPUT,
                           "concurrency must be at most streams: an exchange holds its stream "
                           "(got concurrency %d, streams %d)",
                           concurrency, streams);
    if (env->workers > concurrency)
        return fb_err_set (err, FB_EINPUT,
                           "threads must be at most concurrency: each keeps an exchange in "
                           "flight (got threads %d, concurrency %d)",
                           env->workers, concurrency);
    return 0;
}

/* ---- setup: circuits and streams, many at once ------------------------------------------ */

/* The pause before an interop setup tries a build or a stream again. */
static void s_interop_pause (void) {
    fb_clock_sleep_until_ns (fb_clock_now_ns () + 200 * FB_NS_PER_MS);
}

/* Builds slot i's circuit. Through real relays a relay can end a build (DESTROY) while the
 * network is still settling after it bootstrapped; tor's own client then builds again on
 * another path, and so does setup in interop mode, up to S_INTEROP_TRIES builds. */
static int s_build_one (void *arg, int i, fb_err_t *err) {
    s_state_t *self = arg;
    int tries = self->interop ? S_INTEROP_TRIES : 1;
    for (int t = 0;; t++) {
        fb_tor_build_t build;
        uint64_t seed = 0x1000 + (uint64_t)i + ((uint64_t)t << 32); /* another path each try */
        int rc = fb_tor_client_build (self->client, self->hops, seed, self->timeout_ns,
                                      &self->slots[i].circ, &build, err);
        if (rc == 0 || t + 1 >= tries)
            return rc;
        fb_tor_client_close (self->client, &self->slots[i].circ);
        s_interop_pause ();
    }
}

static fb_tor_circ_t *s_slot_circ (s_state_t *self, s_slot_t *slot, uint64_t seed,
                                   const fb_tor_circ_t *refused);

/* Opens held stream i. Through real relays an exit can end a BEGIN (reason MISC) while it is
 * still settling after the network bootstrapped; tor's own client then tries the stream again
 * on another circuit, up to 3 times (MAX_RESOLVE_FAILURES), and so does setup in interop mode:
 * the slot gets a circuit of another path, the refused one is kept for streams already on it. */
static int s_open_one (void *arg, int i, fb_err_t *err) {
    s_state_t *self = arg;
    s_held_t *h = &self->held[i];
    int tries = self->interop ? S_INTEROP_TRIES : 1;
    fb_tor_circ_t *circ = self->slots[h->slot].circ;
    for (int t = 1;; t++) {
        int rc = circ ? fb_tor_client_open_stream (self->client, circ, self->timeout_ns, &h->stream,
                                                   NULL, err)
                      : fb_err_set (err, FB_ESTATE, "tor: no circuit for stream %d", i);
        if (rc == 0 || t >= tries)
            return rc;
        fb_tor_client_close_stream (self->client, &h->stream);
        s_interop_pause ();
        circ =
            s_slot_circ (self, &self->slots[h->slot], 0x2000 + 8 * (uint64_t)i + (uint64_t)t, circ);
    }
}

static void s_notify (fb_tor_call_t *call, void *arg);
static const fb_tor_backend_t s_backend;
static int s_rebuilder_start (s_state_t *self, fb_err_t *err);

static int s_alloc (s_state_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                    fb_err_t *err) {
    self->hops = (int)fb_params_num (params, "hops");
    self->ncircuits = (int)fb_params_num (params, "circuits");
    self->nstreams = (int)fb_params_num (params, "streams");
    self->threads = env->workers > 0 ? env->workers : 1;
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->slots = calloc ((size_t)self->ncircuits, sizeof *self->slots);
    self->held = calloc ((size_t)self->nstreams, sizeof *self->held);
    self->inbox = calloc ((size_t)self->threads, sizeof *self->inbox);
    if (!self->slots || !self->held || !self->inbox)
        return fb_err_set (err, FB_ENOMEM, "out of memory for %d streams", self->nstreams);
    for (int i = 0; i < self->ncircuits; i++)
        pthread_mutex_init (&self->slots[i].lock, NULL);
    for (int w = 0; w < self->threads; w++) {
        s_inbox_t *in = &self->inbox[w];
        pthread_mutex_init (&in->lock, NULL);
        in->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s_ring_init (&in->ring, self->nstreams / self->threads + 1) != 0 || in->efd < 0)
            return fb_err_set (err, in->ring.slot ? FB_ESYS : FB_ENOMEM, "eventfd: %s",
                               in->ring.slot ? strerror (errno) : "out of memory");
    }
    for (int i = 0; i < self->nstreams; i++) {
        s_held_t *h = &self->held[i];
        *h = (s_held_t){.self = self, .slot = i % self->ncircuits};
        if (!(h->call = fb_tor_client_call_new (s_notify, h)))
            return fb_err_set (err, FB_ENOMEM, "out of memory for %d streams", self->nstreams);
    }
    return 0;
}

static int s_model_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env,
                          fb_err_t *err) {
    s_state_t *self = state;
    int64_t hop_rtt_ns = (int64_t)fb_params_num (params, "hop_rtt");
    int relays = (int)fb_params_num (params, "relays");
    bool nagle = fb_params_num (params, "nagle") != 0;
    if (s_alloc (self, params, env, err) != 0) {
        fb_err_prefix (err, "tor.stream setup");
        return -1;
    }
    if (fb_params_num (params, "mode") == S_MODE_INTEROP) {
        self->interop = fb_tor_interop_new (
            relays, (int64_t)fb_params_num (params, "bootstrap_timeout"), nagle, "tor.stream", err);
        self->client = self->interop ? fb_tor_interop_client (self->interop) : NULL;
    } else if ((self->net = fb_tor_relay_net_new_with (relays, hop_rtt_ns, nagle, err))) {
        fb_tor_client_config_t config = {.relays = fb_tor_relay_net_relay (self->net, 0),
                                         .n = relays,
                                         .hop_rtt_ns = hop_rtt_ns,
                                         .nagle = nagle};
        self->client = fb_tor_client_new_config (&config, err);
    }
    if (!self->client ||
        fb_parallel_for (self->ncircuits, S_SETUP_THREADS, s_build_one, self, err) != 0 ||
        fb_parallel_for (self->nstreams, S_SETUP_THREADS, s_open_one, self, err) != 0 ||
        s_rebuilder_start (self, err) != 0 ||
        fb_tor_streams_init (&self->ops, params, self->threads, &s_backend, self, err) != 0) {
        fb_err_prefix (err, "tor.stream setup");
        return -1;
    }
    fb_tor_client_reset_peak (self->client);
    return 0;
}

/* ---- ops -------------------------------------------------------------------------------- */

/* The slot's circuit, rebuilt first when it died or is the one an exit refused a stream on
 * (refused, may be NULL). The old one is kept until teardown: streams of other workers may
 * still hold it. */
static fb_tor_circ_t *s_slot_circ (s_state_t *self, s_slot_t *slot, uint64_t seed,
                                   const fb_tor_circ_t *refused) {
    pthread_mutex_lock (&slot->lock);
    atomic_store (&slot->suspect, false); /* checked now: a later failure marks it again */
    fb_tor_circ_t *circ = slot->circ;
    if (circ && (circ == refused || !fb_tor_client_alive (self->client, circ))) {
        fb_tor_circ_t **retired =
            realloc (slot->retired, (size_t)(slot->nretired + 1) * sizeof *retired);
        if (retired) {
            slot->retired = retired;
            slot->retired[slot->nretired++] = circ;
            circ = NULL;
        }
    }
    if (!circ) {
        fb_tor_build_t build;
        if (fb_tor_client_build (self->client, self->hops, seed, self->timeout_ns, &circ, &build,
                                 NULL) != 0)
            fb_tor_client_close (self->client, &circ); /* no stream is on it yet */
    }
    __atomic_store_n (&slot->circ, circ, __ATOMIC_RELEASE);
    pthread_mutex_unlock (&slot->lock);
    return circ;
}

/* ---- the backend: the client's asynchronous calls ---------------------------------------- */

/* Held stream h's step ended: into its runner thread's inbox, and wake that thread. */
static void s_post (s_held_t *h) {
    s_state_t *self = h->self;
    int i = (int)(h - self->held);
    s_inbox_t *in = &self->inbox[i % self->threads];
    h->ended_ns = fb_clock_now_ns ();
    pthread_mutex_lock (&in->lock);
    s_ring_push (&in->ring, i);
    pthread_mutex_unlock (&in->lock);
    uint64_t one = 1;
    (void)!write (in->efd, &one, sizeof one);
}

/* On the client's thread: the call of held stream arg ended. */
static void s_notify (fb_tor_call_t *call, void *arg) {
    (void)call;
    s_post (arg);
}

static void *s_rebuilder_main (void *arg) {
    s_state_t *self = arg;
    s_rebuilder_t *rb = &self->rebuilder;
    pthread_mutex_lock (&rb->lock);
    for (;;) {
        while (rb->ring.count == 0 && !rb->stop)
            pthread_cond_wait (&rb->wake, &rb->lock);
        if (rb->stop)
            break;
        int i = s_ring_pop (&rb->ring);
        pthread_mutex_unlock (&rb->lock);
        s_held_t *h = &self->held[i];
        fb_tor_circ_t *circ = s_slot_circ (self, &self->slots[h->slot],
                                           0x10000 + atomic_fetch_add (&self->seed, 1), NULL);
        if (circ) {
            fb_tor_client_open_stream_start (self->client, h->call, circ, self->timeout_ns);
        } else {
            h->no_circuit = true;
            s_post (h);
        }
        pthread_mutex_lock (&rb->lock);
    }
    pthread_mutex_unlock (&rb->lock);
    return NULL;
}

static int s_rebuilder_start (s_state_t *self, fb_err_t *err) {
    s_rebuilder_t *rb = &self->rebuilder;
    pthread_mutex_init (&rb->lock, NULL);
    pthread_cond_init (&rb->wake, NULL);
    if (s_ring_init (&rb->ring, self->nstreams) != 0)
        return fb_err_set (err, FB_ENOMEM, "out of memory for %d streams", self->nstreams);
    int rc = pthread_create (&rb->thread, NULL, s_rebuilder_main, self);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "cannot start the circuit rebuilder: %s", strerror (rc));
    rb->started = true;
    return 0;
}

/* Stops the rebuilder after the build it may be in (bounded by timeout); opens still queued
 * are dropped: their operations were handed back already (a cancel) or the run is over. */
static void s_rebuilder_stop (s_state_t *self) {
    s_rebuilder_t *rb = &self->rebuilder;
    if (rb->started) {
        pthread_mutex_lock (&rb->lock);
        rb->stop = true;
        pthread_cond_signal (&rb->wake);
        pthread_mutex_unlock (&rb->lock);
        pthread_join (rb->thread, NULL);
        rb->started = false;
    }
    if (rb->ring.slot) {
        free (rb->ring.slot);
        rb->ring.slot = NULL;
        pthread_cond_destroy (&rb->wake);
        pthread_mutex_destroy (&rb->lock);
    }
}

/* On the slot's circuit at once; a suspect slot (a step on it failed) goes to the rebuilder. */
static int s_open (void *impl, int worker, int i, fb_err_t *err) {
    (void)worker;
    (void)err;
    s_state_t *self = impl;
    s_held_t *h = &self->held[i];
    s_slot_t *slot = &self->slots[h->slot];
    fb_tor_circ_t *circ = __atomic_load_n (&slot->circ, __ATOMIC_ACQUIRE);
    if (circ && !atomic_load (&slot->suspect)) {
        fb_tor_client_open_stream_start (self->client, h->call, circ, self->timeout_ns);
        return 0;
    }
    s_rebuilder_t *rb = &self->rebuilder;
    pthread_mutex_lock (&rb->lock);
    s_ring_push (&rb->ring, i);
    pthread_cond_signal (&rb->wake);
    pthread_mutex_unlock (&rb->lock);
    return 0;
}

static int s_exchange (void *impl, int worker, int i, uint32_t request, uint32_t response,
                       fb_err_t *err) {
    (void)worker;
    (void)err;
    s_state_t *self = impl;
    s_held_t *h = &self->held[i];
    assert (h->stream);
    fb_tor_client_exchange_start (self->client, h->call, h->stream, request, response,
                                  self->timeout_ns);
    return 0;
}

static void s_close (void *impl, int i) {
    s_state_t *self = impl;
    fb_tor_client_close_stream (self->client, &self->held[i].stream);
}

static int s_wait (void *impl, int worker, int64_t until_ns, fb_tor_end_t *ends, int max) {
    s_state_t *self = impl;
    s_inbox_t *in = &self->inbox[worker % self->threads];
    for (;;) {
        uint64_t count;
        (void)!read (in->efd, &count, sizeof count); /* before the ring: no wake-up is lost */
        int n = 0;
        pthread_mutex_lock (&in->lock);
        for (; n < max && in->ring.count > 0; n++)
            ends[n].stream = s_ring_pop (&in->ring);
        pthread_mutex_unlock (&in->lock);
        for (int k = 0; k < n; k++) {
            s_held_t *h = &self->held[ends[k].stream];
            ends[k].step.ended_ns = h->ended_ns;
            if (h->no_circuit) {
                h->no_circuit = false;
                ends[k].step.rc =
                    fb_err_set (&ends[k].step.err, FB_ESTATE,
                                "no circuit for stream %d: its rebuild failed", ends[k].stream);
                continue;
            }
            fb_tor_stream_t *opened = NULL;
            ends[k].step.rc = fb_tor_client_call_result (h->call, &opened, &ends[k].step.open_ns,
                                                         &ends[k].step.xfer, &ends[k].step.err);
            if (opened)
                h->stream = opened;   /* even a failed open's: the close frees it */
            if (ends[k].step.rc != 0) /* perhaps the circuit died: the next open checks it */
                atomic_store (&self->slots[h->slot].suspect, true);
        }
        int64_t now = fb_clock_now_ns ();
        if (n > 0 || now >= until_ns)
            return n;
        int64_t wait_ns = until_ns - now;
        struct pollfd pfd = {.fd = in->efd, .events = POLLIN};
        struct timespec ts = fb_clock_timespec (wait_ns);
        ppoll (&pfd, 1, &ts, NULL);
    }
}

static const fb_tor_backend_t s_backend = {
    .open = s_open, .exchange = s_exchange, .close = s_close, .wait = s_wait};

static void s_model_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* op records into the runner's histograms directly */
    s_state_t *self = state;
    fb_tor_relay_net_stats_t ns = {0};
    fb_tor_client_stats_t cs;
    if (self->net)
        fb_tor_relay_net_stats (self->net, &ns);
    else
        counters[S_C_TOR_NET_RSS] = fb_tor_interop_network_rss (self->interop);
    fb_tor_client_stats (self->client, &cs);
    fb_tor_client_reset_peak (self->client);
    counters[S_C_STREAMS] = cs.streams_peak;
    counters[S_C_CIRCUITS] = cs.circuits_open;
    int64_t open_peak; /* the client's own count is the model's truth */
    fb_tor_streams_take (&self->ops, &counters[S_C_BYTES], &counters[S_C_FAILURES], &open_peak);
    int64_t stalls = cs.sendme_stalls + ns.sendme_stalls, bad = cs.bad_cells + ns.bad_cells;
    counters[S_C_STALLS] = stalls - self->stalls_seen;
    counters[S_C_BAD_CELLS] = bad - self->bad_seen;
    self->stalls_seen = stalls;
    self->bad_seen = bad;
}

/* The rebuilder stops first (it calls the client), then streams and circuits, then the client,
 * which fails (and notifies) the calls it had taken up; only then the inboxes those notifications
 * land in. */
static void s_model_teardown (void *state) {
    s_state_t *self = state;
    s_rebuilder_stop (self);
    for (int i = 0; self->client && self->held && i < self->nstreams; i++)
        fb_tor_client_close_stream (self->client, &self->held[i].stream);
    for (int i = 0; self->slots && i < self->ncircuits; i++) {
        s_slot_t *slot = &self->slots[i];
        for (int k = 0; self->client && k < slot->nretired; k++)
            fb_tor_client_close (self->client, &slot->retired[k]);
        if (self->client)
            fb_tor_client_close (self->client, &slot->circ);
        free (slot->retired);
        pthread_mutex_destroy (&slot->lock);
    }
    if (self->interop)
        self->client = NULL; /* the interop network's */
    fb_tor_client_destroy (&self->client);
    fb_tor_interop_destroy (&self->interop);
    fb_tor_relay_net_destroy (&self->net);
    fb_tor_streams_fini (&self->ops, "tor.stream");
    for (int i = 0; self->held && i < self->nstreams; i++)
        fb_tor_client_call_destroy (&self->held[i].call);
    for (int w = 0; self->inbox && w < self->threads; w++) {
        s_inbox_t *in = &self->inbox[w];
        if (in->efd > 0)
            close (in->efd);
        free (in->ring.slot);
        pthread_mutex_destroy (&in->lock);
    }
    free (self->slots);
    free (self->held);
    free (self->inbox);
}

static const fb_workload_t s_model = {
    .state_size = sizeof (s_state_t),
    .setup = s_model_setup,
    .slots = fb_tor_streams_slots,
    .start = fb_tor_streams_start,
    .poll = fb_tor_streams_poll,
    .cancel = fb_tor_streams_cancel,
    .interval = s_model_interval,
    .teardown = s_model_teardown,
};

/* ---- the descriptor: model or real tor, chosen at setup ----------------------------------- */

static const fb_tor_mode_t s_modes = {
    .kind = "tor.stream", .check = s_model_check, .model = &s_model, .tor = &fb_tor_real_stream};

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    return fb_tor_mode_check (&s_modes, params, env, err);
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    return fb_tor_mode_setup (&s_modes, state, params, env, err);
}

const fb_workload_t fb_workload_tor_stream = {
    .kind = "tor.stream",
    .summary = "Tor streams (BEGIN, DATA both ways, SENDME windows) held open over circuits of a "
               "loopback relay network",
    .params = s_params,
    .concurrency_param = "threads",
    .metrics = s_metrics,
    .counters = s_counters,
    .state_size = sizeof (fb_tor_mode_state_t),
    .max_rate_per_s = 1e4,
    .check = s_check,
    .setup = s_setup,
    .slots = fb_tor_mode_slots,
    .start = fb_tor_mode_start,
    .poll = fb_tor_mode_poll,
    .cancel = fb_tor_mode_cancel,
    .interval = fb_tor_mode_interval,
    .teardown = fb_tor_mode_teardown,
};

/* tor_streams.h: tor.stream's operations on the runner's asynchronous path, the same in every
 * mode. Streams are held open for the run; runner thread w owns streams w, w + threads, ...
 * and keeps its share of `concurrency` exchanges in flight on them, one per stream. An
 * operation on a stream that is closed, broke in its last exchange, or has carried
 * `stream_bytes` (OnionPerf: any stream) first opens it anew, and that open is part of its
 * latency and recorded in the open metric. The mode (model client calls, or SOCKS through a
 * tor process) is a backend that only opens, exchanges and closes without blocking, and tells
 * which of a thread's streams ended a step. */
#ifndef FB_TOR_STREAMS_H
#define FB_TOR_STREAMS_H

#include "workloads/tor/ops/tor_failures.h"
#include "workloads/tor/wire/tor_exchange.h"
#include "workloads/workload.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The metrics both modes record, first in the descriptor's list. */
enum { FB_TOR_METRIC_OPEN, FB_TOR_METRIC_TTFB };

/* One step of one stream that ended: an open or an exchange. */
typedef struct {
    int stream; /* the held stream's index */
    fb_tor_step_t step;
} fb_tor_end_t;

/* What a mode does. Every call runs on the runner thread that owns the stream (worker). */
typedef struct {
    /* Starts opening closed stream i; -1 with err: it failed at once. */
    int (*open) (void *impl, int worker, int i, fb_err_t *err);
    /* Starts one exchange on open stream i. */
    int (*exchange) (void *impl, int worker, int i, uint32_t request, uint32_t response,
                     fb_err_t *err);
    /* Closes stream i (a no-op when closed). A step in flight on it ends, failed, from a
     * later wait; an open in flight may instead end by itself and is then closed again. */
    void (*close) (void *impl, int i);
    /* Waits until one of worker's steps ended or until_ns passed (at once when it has); fills
     * up to max ends and returns how many. */
    int (*wait) (void *impl, int worker, int64_t until_ns, fb_tor_end_t *ends, int max);
} fb_tor_backend_t;

typedef struct fb_tor_held fb_tor_held_t;
typedef struct fb_tor_streams_worker fb_tor_streams_worker_t;

typedef struct {
    const fb_tor_backend_t *backend;
    void *impl;
    int nstreams, threads, concurrency;
    uint32_t request, response;
    bool onionperf;
    uint64_t stream_bytes;
    fb_tor_held_t *held;
    fb_tor_streams_worker_t *workers;
    atomic_int_fast64_t bytes, open_now, open_peak;
    fb_tor_failures_t failed;
} fb_tor_streams_t;

/* Reads streams, concurrency, request, response, onionperf and stream_bytes from params, for
 * threads runner threads; every stream is taken as open (call it once setup opened them). */
int fb_tor_streams_init (fb_tor_streams_t *self, const fb_params_t *params, int threads,
                         const fb_tor_backend_t *backend, void *impl, fb_err_t *err);
/* Frees what init made; prints the failures' last reason as "<kind>: N ... failed". Takes a
 * zeroed struct too. */
void fb_tor_streams_fini (fb_tor_streams_t *self, const char *kind);

/* The runner's asynchronous operations (fb_workload_t slots, start, poll, cancel), for a
 * workload whose state begins with its fb_tor_streams_t: the descriptor names them directly. */
int fb_tor_streams_slots (void *state, int worker);
int fb_tor_streams_start (void *state, fb_wl_op_t *op, uint64_t tag);
int fb_tor_streams_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max);
void fb_tor_streams_cancel (void *state, int worker);

/* The interval's counters: bytes moved and failed operations since the last take, the most
 * streams open at once since then. */
void fb_tor_streams_take (fb_tor_streams_t *self, int64_t *bytes, int64_t *failures,
                          int64_t *open_peak);

#endif

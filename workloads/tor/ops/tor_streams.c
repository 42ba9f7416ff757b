/* tor_streams.c: one operation holds one stream, so a held stream is also the operation's
 * record: no allocation once running. A canceled operation is handed back at once and its
 * stream stays taken until the backend's end for it comes; the stream is then closed. */
#include "workloads/tor/ops/tor_streams.h"

#include "common/clock.h"

#include <assert.h>
#include <stdlib.h>

#define S_ENDS 32 /* ends taken from the backend per wait */

struct fb_tor_held {
    bool open;      /* the backend holds it open */
    bool broken;    /* its last exchange failed: open anew */
    bool busy;      /* an operation holds it */
    bool opening;   /* that operation waits for its open */
    bool canceled;  /* that operation was handed back already */
    int size;       /* OnionPerf: the transfer's size (0..2); -1 otherwise */
    uint64_t bytes; /* moved since it opened */
    uint64_t tag;
    int64_t start_ns;
    fb_hist_t *const *metrics;
};

struct fb_tor_streams_worker {
    int cursor;            /* the next stream to try */
    int nstreams;          /* its own: cursor, cursor + threads, ... */
    fb_wl_done_t *pending; /* canceled operations not yet handed back */
    int npending;
};

static void s_open_count (fb_tor_streams_t *self, int delta) {
    int_fast64_t now = atomic_fetch_add (&self->open_now, delta) + delta;
    int_fast64_t peak = atomic_load (&self->open_peak);
    while (now > peak && !atomic_compare_exchange_weak (&self->open_peak, &peak, now))
        ;
}

int fb_tor_streams_init (fb_tor_streams_t *self, const fb_params_t *params, int threads,
                         const fb_tor_backend_t *backend, void *impl, fb_err_t *err) {
    self->backend = backend;
    self->impl = impl;
    self->nstreams = (int)fb_params_num (params, "streams");
    self->concurrency = (int)fb_params_num (params, "concurrency");
    self->threads = threads > 0 ? threads : 1;
    self->request = (uint32_t)fb_params_num (params, "request");
    self->response = (uint32_t)fb_params_num (params, "response");
    self->onionperf = fb_params_num (params, "onionperf") != 0;
    self->stream_bytes = (uint64_t)fb_params_num (params, "stream_bytes");
    fb_tor_failures_init (&self->failed);
    self->held = calloc ((size_t)self->nstreams, sizeof *self->held);
    self->workers = calloc ((size_t)self->threads, sizeof *self->workers);
    if (!self->held || !self->workers)
        return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory for %d streams",
                           self->nstreams);
    for (int i = 0; i < self->nstreams; i++)
        self->held[i].open = true;
    atomic_store (&self->open_now, self->nstreams);
    atomic_store (&self->open_peak, self->nstreams);
    for (int w = 0; w < self->threads; w++) {
        fb_tor_streams_worker_t *wk = &self->workers[w];
        wk->cursor = w;
        wk->nstreams = self->nstreams / self->threads + (w < self->nstreams % self->threads);
        if (!(wk->pending = calloc ((size_t)wk->nstreams + 1, sizeof *wk->pending)))
            return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory");
    }
    return 0;
}

void fb_tor_streams_fini (fb_tor_streams_t *self, const char *kind) {
    if (self->backend)
        fb_tor_failures_fini (&self->failed, kind, "exchange(s) or open(s)");
    for (int w = 0; self->workers && w < self->threads; w++)
        free (self->workers[w].pending);
    free (self->workers);
    free (self->held);
    self->workers = NULL;
    self->held = NULL;
}

/* The runner asks no more of a thread at once than its share of concurrency, which is never
 * more than its share of the streams (check: concurrency <= streams). */
int fb_tor_streams_slots (void *state, int worker) {
    fb_tor_streams_t *self = state;
    return self->concurrency / self->threads + (worker < self->concurrency % self->threads);
}

static void s_close (fb_tor_streams_t *self, int i) {
    self->backend->close (self->impl, i);
    if (self->held[i].open)
        s_open_count (self, -1);
    self->held[i].open = false;
}

/* Worker w's next stream that no operation holds, round robin; -1: all are held. */
static int s_next_free (fb_tor_streams_t *self, int w) {
    fb_tor_streams_worker_t *wk = &self->workers[w];
    for (int tries = 0, i = wk->cursor; tries < wk->nstreams; tries++) {
        int next = i + self->threads < self->nstreams ? i + self->threads : w;
        if (!self->held[i].busy) {
            wk->cursor = next;
            return i;
        }
        i = next;
    }
    return -1;
}

static int s_exchange (fb_tor_streams_t *self, int w, int i, fb_err_t *err) {
    fb_tor_held_t *h = &self->held[i];
    uint32_t response = h->size >= 0 ? fb_tor_onionperf_bytes (h->size) : self->response;
    return self->backend->exchange (self->impl, w, i, self->request, response, err);
}

int fb_tor_streams_start (void *state, fb_wl_op_t *op, uint64_t tag) {
    fb_tor_streams_t *self = state;
    int w = op->worker % self->threads, i = s_next_free (self, w);
    if (i < 0)
        return -1; /* only after a cancel, whose streams wait for their ends */
    fb_tor_held_t *h = &self->held[i];
    h->size = self->onionperf ? (int)(op->seq % FB_TOR_ONIONPERF_SIZES) : -1;
    if (h->open &&
        (h->size >= 0 || h->broken || (self->stream_bytes > 0 && h->bytes >= self->stream_bytes)))
        s_close (self, i);
    h->tag = tag;
    h->metrics = op->metrics;
    h->start_ns = fb_clock_now_ns ();
    h->canceled = false;
    h->opening = !h->open;
    fb_err_t err;
    int rc =
        h->opening ? self->backend->open (self->impl, w, i, &err) : s_exchange (self, w, i, &err);
    if (rc != 0) {
        h->broken = true;
        fb_tor_failures_add (&self->failed, &err);
        return -1;
    }
    h->busy = true;
    return 0;
}

/* Takes one end; fills *done and returns true when it ends an operation. */
static bool s_ended (fb_tor_streams_t *self, int w, const fb_tor_end_t *end, fb_wl_done_t *done) {
    int i = end->stream;
    fb_tor_held_t *h = &self->held[i];
    assert (i % self->threads == w && h->busy);
    if (h->canceled) { /* handed back already, its stream closed: whatever it made goes */
        self->backend->close (self->impl, i);
        h->busy = false;
        return false;
    }
    *done = (fb_wl_done_t){.tag = h->tag, .rc = -1, .done_ns = end->step.ended_ns};
    fb_err_t err = end->step.err;
    if (h->opening) {
        h->opening = false;
        if (end->step.rc != 0) {
            self->backend->close (self->impl, i); /* what a failed open left */
            goto failed;
        }
        h->open = true;
        s_open_count (self, 1);
        h->bytes = 0;
        h->broken = false;
        fb_hist_record_atomic (h->metrics[FB_TOR_METRIC_OPEN], end->step.open_ns);
        if (s_exchange (self, w, i, &err) == 0)
            return false;
        h->broken = true;
        goto failed;
    }
    if (end->step.rc != 0) {
        h->broken = true;
        goto failed;
    }
    fb_hist_record_atomic (h->metrics[FB_TOR_METRIC_TTFB], end->step.xfer.ttfb_ns);
    if (h->size >= 0)
        fb_tor_onionperf_record (h->metrics, h->size, h->start_ns, end->step.ended_ns,
                                 &end->step.xfer);
    h->bytes += end->step.xfer.bytes;
    atomic_fetch_add_explicit (&self->bytes, (int64_t)end->step.xfer.bytes, memory_order_relaxed);
    h->busy = false;
    done->rc = 0;
    return true;
failed:
    fb_tor_failures_add (&self->failed, &err);
    h->busy = false;
    return true;
}

int fb_tor_streams_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max) {
    fb_tor_streams_t *self = state;
    fb_tor_streams_worker_t *wk = &self->workers[worker % self->threads];
    int n = 0;
    while (n < max && wk->npending > 0)
        done[n++] = wk->pending[--wk->npending];
    fb_tor_end_t ends[S_ENDS];
    for (;;) {
        int room = max - n < S_ENDS ? max - n : S_ENDS;
        if (room <= 0)
            return n;
        /* with endings to hand back, only what has ended by now */
        int k = self->backend->wait (self->impl, worker, n > 0 ? 0 : until_ns, ends, room);
        for (int j = 0; j < k; j++)
            n += s_ended (self, worker, &ends[j], &done[n]);
        if (n > 0 || fb_clock_now_ns () >= until_ns)
            return n;
    }
}

void fb_tor_streams_cancel (void *state, int worker) {
    fb_tor_streams_t *self = state;
    int w = worker % self->threads;
    fb_tor_streams_worker_t *wk = &self->workers[w];
    int64_t now = fb_clock_now_ns ();
    for (int i = w; i < self->nstreams; i += self->threads) {
        fb_tor_held_t *h = &self->held[i];
        if (!h->busy || h->canceled)
            continue;
        h->canceled = true;
        assert (wk->npending < wk->nstreams);
        wk->pending[wk->npending++] = (fb_wl_done_t){.tag = h->tag, .rc = -1, .done_ns = now};
        s_close (self, i);
    }
}

void fb_tor_streams_take (fb_tor_streams_t *self, int64_t *bytes, int64_t *failures,
                          int64_t *open_peak) {
    *bytes = atomic_exchange (&self->bytes, 0);
    *failures = fb_tor_failures_take (&self->failed);
    *open_peak = atomic_exchange (&self->open_peak, atomic_load (&self->open_now));
}

/* http_load.c: per-thread load clients as the runner drives them. */
#include "workloads/proxy/http_load.h"

#include <stdlib.h>

#define S_POLL_BATCH 64 /* responses collected per poll */

int fb_http_load_init (fb_http_load_t *self, int threads, int connections,
                       fb_http_load_cfg_fn *cfg_fn, void *cfg_arg,
                       fb_http_load_status_fn *status_ok, const void *status_arg, fb_err_t *err) {
    self->status_ok = status_ok;
    self->status_arg = status_arg;
    self->workers = calloc ((size_t)threads, sizeof *self->workers);
    if (!self->workers)
        return fb_err_set (err, FB_ENOMEM, "out of memory for %d threads", threads);
    self->threads = threads;
    for (int w = 0; w < threads; w++) {
        int share = connections / threads + (w < connections % threads);
        fb_http_client_cfg_t cfg = {.connections = share};
        cfg_fn (w, &cfg, cfg_arg);
        self->workers[w].connections = share;
        if (!(self->workers[w].client = fb_http_client_new (&cfg, err)))
            return -1;
    }
    return 0;
}

void fb_http_load_free (fb_http_load_t *self) {
    for (int w = 0; self->workers && w < self->threads; w++)
        fb_http_client_destroy (&self->workers[w].client);
    free (self->workers);
    self->workers = NULL;
}

int fb_http_load_slots (const fb_http_load_t *self, int worker) {
    return self->workers[worker].connections;
}

int fb_http_load_start (fb_http_load_t *self, int worker, const void *req, size_t len, uint64_t tag,
                        int64_t intended_ns) {
    return fb_http_client_send (self->workers[worker].client, req, len, tag, intended_ns) < 0 ? -1
                                                                                              : 0;
}

/* The counter of a request's failure; -1 when it succeeded, NCOUNTERS when canceled. */
static int s_error_kind (const fb_http_load_t *self, const fb_http_result_t *res) {
    switch (res->outcome) {
    case FB_HTTP_OK:
        return self->status_ok (res->status, self->status_arg) ? -1 : FB_HTTP_LOAD_ERR_STATUS;
    case FB_HTTP_ECONNECT:
        return FB_HTTP_LOAD_ERR_CONNECT;
    case FB_HTTP_ETIMEOUT:
        return FB_HTTP_LOAD_ERR_TIMEOUT;
    case FB_HTTP_ECLOSED:
        return FB_HTTP_LOAD_ERR_CLOSED;
    default:
        return FB_HTTP_LOAD_NCOUNTERS;
    }
}

int fb_http_load_poll (fb_http_load_t *self, int worker, int64_t until_ns, fb_wl_done_t *done,
                       int max) {
    fb_http_result_t res[S_POLL_BATCH];
    int n = fb_http_client_poll (self->workers[worker].client, until_ns, res,
                                 max < S_POLL_BATCH ? max : S_POLL_BATCH);
    int64_t bytes = 0;
    for (int i = 0; i < n; i++) {
        bytes += res[i].bytes;
        int kind = s_error_kind (self, &res[i]);
        if (kind >= 0 && kind < FB_HTTP_LOAD_NCOUNTERS)
            atomic_fetch_add_explicit (&self->counters[kind], 1, memory_order_relaxed);
        done[i] =
            (fb_wl_done_t){.tag = res[i].tag, .rc = kind < 0 ? 0 : -1, .done_ns = res[i].done_ns};
    }
    atomic_fetch_add_explicit (&self->counters[FB_HTTP_LOAD_BYTES], bytes, memory_order_relaxed);
    return n;
}

void fb_http_load_cancel (fb_http_load_t *self, int worker) {
    fb_http_client_cancel (self->workers[worker].client);
}

void fb_http_load_interval (fb_http_load_t *self, int64_t *counters) {
    for (int c = 0; c < FB_HTTP_LOAD_NCOUNTERS; c++)
        counters[c] = atomic_exchange (&self->counters[c], 0);
}

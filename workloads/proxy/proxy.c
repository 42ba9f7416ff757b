/* proxy.c: the proxy workload, Brummer's reverse proxy under load (the seed's "Proxy Server
 * Performance"). Setup starts, on 127.0.0.1, an origin (http_origin.c) and, with target
 * proxy, a reverse proxy with one listener per URL (http_proxy.c); each runner thread owns
 * an HTTP client (http_client.c) with its share of the keep-alive connections, and drives it
 * as wrk does: one request in flight on each connection, the thread's epoll loop moving them
 * all (the runner's asynchronous operations). One op is one request, sent on an idle
 * connection and ended at its last byte; the runner measures it from its intended start.
 * With target origin the same requests go straight to the origin: the difference between the
 * two runs is the proxy's cost. */
#include "common/clock.h"
#include "common/rng.h"
#include "workloads/proxy/http_client.h"
#include "workloads/proxy/http_load.h"
#include "workloads/proxy/http_origin.h"
#include "workloads/proxy/http_proxy.h"
#include "workloads/workload.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_TARGET_PROXY, S_TARGET_ORIGIN };
enum { S_MIX_PAGE, S_MIX_JSON, S_MIX_STATIC, S_MIX_BROWSE };
enum { S_PATH_PAGE, S_PATH_JSON, S_PATH_JS, S_PATH_PNG, S_NPATHS };
enum { S_METRIC_INJECT };
enum { /* after the load's (http_load.h): bytes, err_connect, err_timeout, err_closed, err_5xx */
       S_COUNTER_INJECTED = FB_HTTP_LOAD_NCOUNTERS,
       S_COUNTER_HISTORY,
       S_COUNTER_REGISTER
};

/* What a browser sends for each kind of request: Brummer decides on Accept and the
 * Sec-Fetch headers whether a page is a navigation (injected) or a fetch (streamed). */
static const struct {
    const char *path, *accept, *mode, *dest;
} s_paths[S_NPATHS] = {
    {"/page", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "navigate",
     "document"},
    {"/api/items.json", "application/json", "cors", "empty"},
    {"/static/app.js", "*/*", "no-cors", "script"},
    {"/static/logo.png", "image/avif,image/webp,*/*;q=0.8", "no-cors", "image"},
};

/* Mixes as weights per path. browse: what one page load asks for (the page, two API calls,
 * a script, and images), in the proportions of a small dev app. */
static const int s_mix_weights[][S_NPATHS] = {
    [S_MIX_PAGE] = {1, 0, 0, 0},
    [S_MIX_JSON] = {0, 1, 0, 0},
    [S_MIX_STATIC] = {0, 0, 1, 1},
    [S_MIX_BROWSE] = {1, 2, 2, 3},
};

typedef struct {
    fb_http_origin_t *origin;
    fb_http_proxy_t *proxy;
    int target, mix, nurls;
    int ports[FB_HTTP_PROXY_MAX_URLS]; /* where the clients connect, per URL */
    fb_bytes_t (*reqs)[S_NPATHS];      /* [url][path]: whole requests, built once */
    fb_http_load_t load;               /* the runner threads' clients */
    int mix_total;
    int64_t register_ns; /* the slowest URL registration */
    int64_t timeout_ns;  /* of each request, in the clients and the proxy */
    int64_t injected_seen;
    int history; /* the proxy's ring size */
} s_state_t;

static const fb_param_spec_t s_params[] = {
    {"threads", FB_PARAM_INT, "2", 1, 1024, NULL,
     "client threads (the runner's workers), each one event loop over its connections"},
    {"connections", FB_PARAM_INT, "0", 0, 65536, NULL,
     "keep-alive connections in all, spread over the threads, one request in flight on each; "
     "0 means one per thread"},
    {"target", FB_PARAM_ENUM, "proxy", 0, 0, "proxy|origin",
     "send requests through the proxy, or straight to the origin (the baseline)"},
    {"paths", FB_PARAM_ENUM, "page", 0, 0, "page|json|static|browse",
     "what is requested: HTML navigations, JSON fetches, static assets, or a page load's mix"},
    {"page_size", FB_PARAM_SIZE, "8KB", 64, 16777216, NULL, "size of the HTML page, uncompressed"},
    {"gzip", FB_PARAM_BOOL, "true", 0, 1, NULL,
     "clients accept gzip, so the origin compresses the page and the JSON"},
    {"inject", FB_PARAM_BOOL, "true", 0, 1, NULL,
     "the proxy injects its monitoring script into HTML navigations (Brummer's telemetry)"},
    {"script_size", FB_PARAM_SIZE, "96KB", 0, 4194304, NULL,
     "size of the injected script (Brummer's monitor.js is about 96 KB)"},
    {"timeout", FB_PARAM_DURATION, "2s", 1e6, 60e9, NULL,
     "longest wait for a response, in the client and in the proxy"},
    {"history", FB_PARAM_INT, "1000", 1, 1000000, NULL, "requests the proxy remembers"},
    {"port_base", FB_PARAM_INT, "18080", 1024, 65000, NULL,
     "first port probed on 127.0.0.1; ports in use are skipped"},
    {"urls", FB_PARAM_INT, "1", 1, FB_HTTP_PROXY_MAX_URLS, NULL,
     "proxied URLs, each with its own listener; threads are spread over them"},
    {"proxy_threads", FB_PARAM_INT, "1", 1, 64, NULL, "the proxy's epoll threads"},
    {"origin_threads", FB_PARAM_INT, "1", 1, 64, NULL, "the origin's epoll threads"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const char *const s_metrics[] = {"inject", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"bytes", FB_COUNTER_SUM, "B"},
    {"err_connect", FB_COUNTER_SUM, ""},
    {"err_timeout", FB_COUNTER_SUM, ""},
    {"err_closed", FB_COUNTER_SUM, ""},
    {"err_5xx", FB_COUNTER_SUM, ""},
    {"injected", FB_COUNTER_SUM, ""},
    {"history", FB_COUNTER_MAX, ""},
    {"register_ns", FB_COUNTER_MAX, "ns"},
    {NULL, 0, NULL},
};

static int s_connections (const fb_params_t *params, int workers) {
    int connections = (int)fb_params_num (params, "connections");
    return connections > 0 ? connections : workers;
}

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    int connections = s_connections (params, env->workers);
    if (connections < env->workers)
        return fb_err_set (err, FB_EINPUT,
                           "connections (%d) must be at least threads (%d): each thread needs "
                           "a connection of its own",
                           connections, env->workers);
    return 0;
}

static int s_build_requests (s_state_t *self, bool gzip) {
    self->reqs = calloc ((size_t)self->nurls, sizeof *self->reqs);
    if (!self->reqs)
        return -1;
    for (int u = 0; u < self->nurls; u++)
        for (int i = 0; i < S_NPATHS; i++) {
            char req[512];
            int n = snprintf (req, sizeof req,
                              "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                              "User-Agent: fleetbench/" FB_VERSION "\r\nAccept: %s\r\n%s"
                              "Sec-Fetch-Mode: %s\r\nSec-Fetch-Dest: %s\r\n\r\n",
                              s_paths[i].path, self->ports[u], s_paths[i].accept,
                              gzip ? "Accept-Encoding: gzip\r\n" : "", s_paths[i].mode,
                              s_paths[i].dest);
            if (fb_bytes_append (&self->reqs[u][i], req, (size_t)n) != 0)
                return -1;
        }
    return 0;
}

/* The origin, and with target proxy the proxy with its URLs registered (timed). */
static int s_start_servers (s_state_t *self, const fb_params_t *params, fb_err_t *err) {
    fb_http_origin_cfg_t ocfg = {.port_base = (int)fb_params_num (params, "port_base"),
                                 .threads = (int)fb_params_num (params, "origin_threads"),
                                 .page_bytes = (size_t)fb_params_num (params, "page_size"),
                                 .gzip = fb_params_num (params, "gzip") != 0};
    if (!(self->origin = fb_http_origin_new (&ocfg, err)))
        return -1;
    int origin_port = fb_http_origin_port (self->origin);
    for (int u = 0; u < self->nurls; u++)
        self->ports[u] = origin_port;
    if (self->target == S_TARGET_ORIGIN)
        return 0;
    fb_http_proxy_cfg_t pcfg = {.port_base = origin_port + 1,
                                .threads = (int)fb_params_num (params, "proxy_threads"),
                                .history = (int)fb_params_num (params, "history"),
                                .inject = fb_params_num (params, "inject") != 0,
                                .script_bytes = (size_t)fb_params_num (params, "script_size"),
                                .timeout_ns = (int64_t)fb_params_num (params, "timeout")};
    if (!(self->proxy = fb_http_proxy_new (&pcfg, err)))
        return -1;
    for (int u = 0; u < self->nurls; u++) {
        char process[32];
        snprintf (process, sizeof process, "dev-%d", u + 1);
        int64_t t0 = fb_clock_now_ns ();
        if (fb_http_proxy_register (self->proxy, origin_port, process, &self->ports[u], err))
            return -1;
        int64_t took = fb_clock_now_ns () - t0;
        self->register_ns = took > self->register_ns ? took : self->register_ns;
    }
    return 0;
}

/* Thread worker talks to URL worker % urls. */
static void s_client_cfg (int worker, fb_http_client_cfg_t *cfg, void *arg) {
    const s_state_t *self = arg;
    cfg->port = self->ports[worker % self->nurls];
    cfg->timeout_ns = self->timeout_ns;
}

/* A proxy or an origin failing: a 5xx answer. */
static bool s_status_ok (int status, const void *arg) {
    (void)arg;
    return status < 500;
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    s_state_t *self = state;
    self->target = (int)fb_params_num (params, "target");
    self->mix = (int)fb_params_num (params, "paths");
    self->nurls = (int)fb_params_num (params, "urls");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->history = (int)fb_params_num (params, "history");
    for (int i = 0; i < S_NPATHS; i++)
        self->mix_total += s_mix_weights[self->mix][i];
    if (s_start_servers (self, params, err) != 0 ||
        fb_http_load_init (&self->load, env->workers, s_connections (params, env->workers),
                           s_client_cfg, self, s_status_ok, NULL, err) != 0)
        goto fail;
    if (s_build_requests (self, fb_params_num (params, "gzip") != 0) != 0) {
        fb_err_set (err, FB_ENOMEM, "out of memory for the requests");
        goto fail;
    }
    return 0;
fail:
    return -1;
}

static int s_pick_path (const s_state_t *self, uint64_t *rng) {
    uint64_t x = fb_rng_next (rng);
    int ticket = (int)(x % (uint64_t)self->mix_total);
    int path = 0;
    while (ticket >= s_mix_weights[self->mix][path])
        ticket -= s_mix_weights[self->mix][path++];
    return path;
}

static int s_slots (void *state, int worker) {
    return fb_http_load_slots (&((s_state_t *)state)->load, worker);
}

/* One request, sent on one of the thread's idle connections; its end comes from s_poll. */
static int s_start (void *state, fb_wl_op_t *op, uint64_t tag) {
    s_state_t *self = state;
    const fb_bytes_t *req = &self->reqs[op->worker % self->nurls][s_pick_path (self, &op->rng)];
    return fb_http_load_start (&self->load, op->worker, req->data, req->len, tag,
                               op->intended_start_ns);
}

static int s_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max) {
    return fb_http_load_poll (&((s_state_t *)state)->load, worker, until_ns, done, max);
}

static void s_cancel (void *state, int worker) {
    fb_http_load_cancel (&((s_state_t *)state)->load, worker);
}

static void s_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    s_state_t *self = state;
    fb_http_load_interval (&self->load, counters);
    counters[S_COUNTER_REGISTER] = self->register_ns;
    if (!self->proxy)
        return;
    fb_http_proxy_stats_t stats;
    fb_http_proxy_stats (self->proxy, &stats);
    counters[S_COUNTER_INJECTED] = stats.injected - self->injected_seen;
    self->injected_seen = stats.injected;
    counters[S_COUNTER_HISTORY] = stats.requests < self->history ? stats.requests : self->history;
    int rc = fb_http_proxy_drain_inject (self->proxy, metrics[S_METRIC_INJECT], NULL);
    assert (rc == 0); /* same default layout on both sides */
    (void)rc;
}

static void s_teardown (void *state) {
    s_state_t *self = state;
    fb_http_load_free (&self->load);
    fb_http_proxy_destroy (&self->proxy);
    fb_http_origin_destroy (&self->origin);
    for (int u = 0; self->reqs && u < self->nurls; u++)
        for (int i = 0; i < S_NPATHS; i++)
            fb_bytes_free (&self->reqs[u][i]);
    free (self->reqs);
}

const fb_workload_t fb_workload_proxy = {
    .kind = "proxy",
    .summary = "Brummer's reverse proxy: a listener per URL, history, HTML script injection",
    .params = s_params,
    .concurrency_param = "threads",
    .metrics = s_metrics,
    .counters = s_counters,
    .max_rate_per_s = 1e5,
    .check = s_check,
    .state_size = sizeof (s_state_t),
    .setup = s_setup,
    .slots = s_slots,
    .start = s_start,
    .poll = s_poll,
    .cancel = s_cancel,
    .interval = s_interval,
    .teardown = s_teardown,
};

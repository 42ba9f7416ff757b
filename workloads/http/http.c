/* http.c: the http workload, load on an HTTP/1.1 server the user names (`url:`), as wrk
 * drives one: each runner thread owns a load client (workloads/proxy/http_client.c) with its
 * share of the connections, one request in flight on each, all moved by the thread's epoll
 * loop (the runner's asynchronous operations), plain or over TLS. The target must be on the
 * agent's own allow-list (`http:` entries of --allow): a plan cannot turn agents into a flood
 * tool aimed elsewhere. A response counts as a success when it arrived whole with one of the
 * `status` codes; anything else is an error with its reason in a counter. */
#include "workloads/http/http_target.h"
#include "workloads/proxy/http_client.h"
#include "workloads/proxy/http_load.h"
#include "workloads/workload.h"

typedef struct {
    fb_http_target_t target;
    SSL_CTX *tls;
    int64_t timeout_ns;
    fb_http_load_t load; /* the runner threads' clients */
} s_state_t;

static const fb_param_spec_t s_params[] = {
    {"url", FB_PARAM_URL, NULL, 0, 0, NULL,
     "the target, http:// or https://; it must be on the agent's allow-list"},
    {"method", FB_PARAM_ENUM, "GET", 0, 0, "GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS",
     "the request method"},
    {"headers", FB_PARAM_TEXT, "", 0, 0, NULL,
     "extra request headers, \"Name: value\" lines separated by newlines"},
    {"body", FB_PARAM_TEXT, "", 0, 0, NULL, "the request body (sent with its Content-Length)"},
    {"threads", FB_PARAM_INT, "1", 1, 1024, NULL,
     "client threads (the runner's workers), each one event loop over its connections"},
    {"connections", FB_PARAM_INT, "10", 1, 65536, NULL,
     "connections in all, spread over the threads, one request in flight on each"},
    {"keepalive", FB_PARAM_BOOL, "true", 0, 1, NULL,
     "reuse connections; false sends Connection: close and reconnects for every request"},
    {"timeout", FB_PARAM_DURATION, "2s", 1e6, 600e9, NULL,
     "longest wait for a whole response, connecting included; past it the request fails"},
    {"status", FB_PARAM_TEXT, "2xx,3xx", 0, 0, NULL,
     "the statuses that count as success: 200, 2xx or 200-299, separated by commas"},
    {"verify", FB_PARAM_BOOL, "true", 0, 1, NULL, "https: check the server's certificate and name"},
    {"ca_file", FB_PARAM_TEXT, "", 0, 0, NULL,
     "https: a PEM file of the authorities to trust (default: the system's)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const fb_counter_spec_t s_counters[] = {
    /* as http_load.h orders them */
    {"bytes", FB_COUNTER_SUM, "B"},      {"err_connect", FB_COUNTER_SUM, ""},
    {"err_timeout", FB_COUNTER_SUM, ""}, {"err_closed", FB_COUNTER_SUM, ""},
    {"err_status", FB_COUNTER_SUM, ""},  {NULL, 0, NULL},
};

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    int connections = (int)fb_params_num (params, "connections");
    if (connections < env->workers)
        return fb_err_set (err, FB_EINPUT,
                           "connections (%d) must be at least threads (%d): each thread needs "
                           "a connection of its own",
                           connections, env->workers);
    if (fb_http_target_check_params (params, err) != 0)
        return -1;
    /* Resolved and held against the allow-list now, so a refused target stops the plan
     * before Start and nothing is ever sent to it. */
    fb_http_target_t target = {0};
    int rc = fb_http_target_init (&target, params, &env->allow, err);
    fb_http_target_free (&target);
    return rc;
}

/* Every thread's client connects to the target's address, TLS when https. */
static void s_client_cfg (int worker, fb_http_client_cfg_t *cfg, void *arg) {
    (void)worker;
    const s_state_t *self = arg;
    cfg->addr = (const struct sockaddr *)&self->target.addr;
    cfg->addr_len = self->target.addr_len;
    cfg->timeout_ns = self->timeout_ns;
    cfg->tls = self->tls;
    cfg->sni = self->target.url.tls ? self->target.url.host : NULL;
}

static bool s_status_ok (int status, const void *arg) {
    return fb_http_target_status_ok (arg, status);
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    s_state_t *self = state;
    if (fb_http_target_init (&self->target, params, &env->allow, err) != 0)
        return -1;
    if (self->target.url.tls) {
        const char *ca = fb_params_text (params, "ca_file");
        self->tls =
            fb_http_client_tls_ctx (fb_params_num (params, "verify") != 0, ca[0] ? ca : NULL, err);
        if (!self->tls)
            return -1;
    }
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    return fb_http_load_init (&self->load, env->workers, (int)fb_params_num (params, "connections"),
                              s_client_cfg, self, s_status_ok, &self->target, err);
}

static int s_slots (void *state, int worker) {
    return fb_http_load_slots (&((s_state_t *)state)->load, worker);
}

/* The request built at setup, on one of the thread's idle connections. */
static int s_start (void *state, fb_wl_op_t *op, uint64_t tag) {
    s_state_t *self = state;
    return fb_http_load_start (&self->load, op->worker, self->target.request.data,
                               self->target.request.len, tag, op->intended_start_ns);
}

static int s_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max) {
    return fb_http_load_poll (&((s_state_t *)state)->load, worker, until_ns, done, max);
}

static void s_cancel (void *state, int worker) {
    fb_http_load_cancel (&((s_state_t *)state)->load, worker);
}

static void s_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics;
    fb_http_load_interval (&((s_state_t *)state)->load, counters);
}

static void s_teardown (void *state) {
    s_state_t *self = state;
    fb_http_load_free (&self->load);
    if (self->tls)
        SSL_CTX_free (self->tls);
    fb_http_target_free (&self->target);
}

const fb_workload_t fb_workload_http = {
    .kind = "http",
    .summary = "HTTP/1.1 load on a server the scenario names (and the agent's allow-list admits)",
    .params = s_params,
    .concurrency_param = "threads",
    .counters = s_counters,
    .max_rate_per_s = 1e6,
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

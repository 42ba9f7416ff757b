/* tor_real_circuit.c: the tor.circuit workload in mode tor: a private tor network on loopback
 * (tor_privnet.c), and circuits built through the client tor's control port (tor_control.c),
 * one conversation per worker. */
#include "workloads/tor/real/tor_real.h"

#include "common/clock.h"
#include "common/rng.h"
#include "workloads/tor/ops/tor_failures.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_privnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- tor.circuit in mode tor ------------------------------------------------------------- */

enum { S_METRIC_BUILD };
enum { S_C_FAILURES, S_C_BAD_CELLS, S_C_RELAY_CRYPTO, S_C_TOR_RSS, S_C_TOR_HWM, S_C_TOR_NET_RSS };

#define S_CONNECT_TIMEOUT_NS (10 * FB_NS_PER_S)
#define S_CLOSE_TIMEOUT_NS (5 * FB_NS_PER_S)
#define S_MAX_CONCURRENCY 32 /* tor's MaxClientCircuitsPending: more would queue in tor */

typedef struct {
    fb_tor_privnet_t *net;
    fb_tor_control_t **conns; /* one per worker: each its own conversation */
    int workers, hops;
    int64_t timeout_ns;
    fb_tor_failures_t failed; /* counted per interval, the last reason printed at teardown */
} s_mode_t;

static int s_mode_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    if (fb_tor_privnet_check ((int)fb_params_num (params, "relays"), err) != 0)
        return -1;
    if (fb_params_given (params, "hop_rtt"))
        return fb_err_set (err, FB_EINPUT,
                           "hop_rtt is the model's link delay: mode tor runs real tor on loopback "
                           "and adds none (leave hop_rtt out)");
    if (env->workers > S_MAX_CONCURRENCY)
        return fb_err_set (err, FB_EINPUT,
                           "mode tor: concurrency must be at most %d, the circuits a tor client "
                           "builds at once (got %d)",
                           S_MAX_CONCURRENCY, env->workers);
    return 0;
}

static fb_tor_control_t *s_connect (s_mode_t *self, fb_err_t *err) {
    fb_tor_control_t *conn =
        fb_tor_control_new (fb_tor_privnet_control_port (self->net),
                            fb_tor_privnet_cookie_path (self->net), S_CONNECT_TIMEOUT_NS, err);
    if (conn && fb_tor_control_watch_circuits (conn, S_CONNECT_TIMEOUT_NS, err) != 0)
        fb_tor_control_destroy (&conn);
    return conn;
}

static int s_mode_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    s_mode_t *self = state;
    fb_tor_failures_init (&self->failed);
    self->workers = env->workers > 0 ? env->workers : 1;
    self->hops = (int)fb_params_num (params, "hops");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->conns = calloc ((size_t)self->workers, sizeof *self->conns);
    if (!self->conns)
        return fb_err_set (err, FB_ENOMEM, "tor.circuit: out of memory");
    self->net = fb_tor_privnet_new ((int)fb_params_num (params, "relays"),
                                    (int64_t)fb_params_num (params, "bootstrap_timeout"),
                                    "tor.circuit", err);
    for (int w = 0; self->net && w < self->workers; w++)
        if (!(self->conns[w] = s_connect (self, err)))
            break;
    return self->net && self->conns[self->workers - 1] ? 0 : -1;
}

static int s_mode_op (void *state, fb_wl_op_t *op) {
    s_mode_t *self = state;
    fb_tor_control_t **conn = &self->conns[op->worker % self->workers];
    fb_err_t err;
    if (!fb_tor_control_usable (*conn)) {
        fb_tor_control_destroy (conn);
        if (!(*conn = s_connect (self, &err))) {
            fb_tor_failures_add (&self->failed, &err);
            return -1;
        }
    }
    /* hops distinct relays at random: a partial Fisher-Yates shuffle of the indexes */
    int order[FB_TOR_PRIVNET_MAX_RELAYS], n = fb_tor_privnet_size (self->net);
    const char *path[FB_TOR_PRIVNET_MAX_RELAYS];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int h = 0; h < self->hops; h++) {
        int pick = h + (int)(fb_rng_next (&op->rng) % (uint64_t)(n - h)), keep = order[h];
        order[h] = order[pick];
        order[pick] = keep;
        path[h] = fb_tor_privnet_relay (self->net, order[h])->fingerprint;
    }
    uint32_t id = 0;
    int64_t build_ns = 0;
    int rc = fb_tor_control_build (*conn, path, self->hops, self->timeout_ns, &id, &build_ns, &err);
    if (rc == 0)
        fb_hist_record_atomic (op->metrics[S_METRIC_BUILD], build_ns);
    else
        fb_tor_failures_add (&self->failed, &err);
    if (id != 0 && fb_tor_control_usable (*conn))
        fb_tor_control_close_circuit (*conn, id, S_CLOSE_TIMEOUT_NS, NULL);
    return rc;
}

static void s_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* op records into the runner's histograms directly */
    s_mode_t *self = state;
    counters[S_C_FAILURES] = fb_tor_failures_take (&self->failed);
    _Static_assert(S_C_TOR_HWM == S_C_TOR_RSS + 1 && S_C_TOR_NET_RSS == S_C_TOR_RSS + 2,
                   "the memory counters stand in a row");
    fb_tor_privnet_memory_counters (self->net, &counters[S_C_TOR_RSS]);
}

static void s_mode_teardown (void *state) {
    s_mode_t *self = state;
    fb_tor_failures_fini (&self->failed, "tor.circuit", "circuit build(s)");
    for (int w = 0; self->conns && w < self->workers; w++)
        fb_tor_control_destroy (&self->conns[w]);
    free (self->conns);
    fb_tor_privnet_destroy (&self->net);
}

const fb_workload_t fb_tor_real_circuit = {
    .kind = "tor.circuit",
    .summary = "tor.circuit in mode tor: EXTENDCIRCUIT through a private network of tor processes",
    .check = s_mode_check,
    .state_size = sizeof (s_mode_t),
    .setup = s_mode_setup,
    .op = s_mode_op,
    .interval = s_mode_interval,
    .teardown = s_mode_teardown,
};

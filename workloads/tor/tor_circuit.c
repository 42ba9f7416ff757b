/* tor_circuit.c: the tor.circuit workload. Model mode (the default): setup starts a loopback
 * network of `relays` relays and one client; one op builds one circuit of `hops` hops through
 * it (CREATE2, then EXTEND2 hop by hop, ntor at every hop) and destroys it (DESTROY). The op's
 * latency is the circuit build time. All workers share the client, so circuits share its TLS
 * links as a tor client's do; the client's thread does the client-side crypto of every
 * circuit. Mode tor (tor_control.c) builds the same circuits with real tor processes; the
 * descriptor below only dispatches on the mode. Mode interop runs this file's model code with
 * its client pointed at real tor relays (tor_interop.c) instead of the model's. */
#include "common/clock.h"
#include "common/rng.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_relay.h"
#include "workloads/tor/real/tor_real.h"
#include "workloads/tor/tor_interop.h"
#include "workloads/tor/tor_mode.h"
#include "workloads/workload.h"

#include <stdatomic.h>
#include <stdlib.h>

enum { S_METRIC_BUILD, S_METRIC_HOP1, S_METRIC_HOP2, S_METRIC_HOP3, S_METRIC_CRYPTO };
enum { S_COUNTER_FAILURES, S_COUNTER_BAD_CELLS, S_COUNTER_RELAY_CRYPTO, S_COUNTER_TOR_NET_RSS = 5 };
enum { S_MODE_INTEROP = 2 }; /* the index of "interop" in the mode param */

typedef struct {
    fb_tor_relay_net_t *net;   /* model relays (NULL in mode interop) */
    fb_tor_interop_t *interop; /* real tor relays (mode interop only); it owns the client */
    fb_tor_client_t *client;
    int hops;
    int64_t timeout_ns;
    atomic_int_fast64_t failures;
    int64_t bad_seen, relay_crypto_seen; /* runner's thread: totals already reported */
} s_state_t;

static const fb_param_spec_t s_params[] = {
    {"relays", FB_PARAM_INT, "5", 2, 64, NULL, "relays in the loopback network"},
    {"hops", FB_PARAM_INT, "3", 1, 8, NULL, "hops per circuit (distinct relays)"},
    {"concurrency", FB_PARAM_INT, "1", 1, 1024, NULL,
     "circuits being built at once (the runner's workers)"},
    {"hop_rtt", FB_PARAM_DURATION, "0ms", 0, 10e9, NULL,
     "round trip of every link; a cell waits half of it where it arrives"},
    {"timeout", FB_PARAM_DURATION, "30s", 1e6, 600e9, NULL,
     "a build not done by then fails (counted in failures)"},
    {"mode", FB_PARAM_ENUM, "model", 0, 0, "model|tor|interop",
     "model: our own relays in the agent; tor: a private network of tor processes; interop: our "
     "client through that network's relays"},
    {"bootstrap_timeout", FB_PARAM_DURATION, "120s", 10e9, 600e9, NULL,
     "mode tor and interop: setup fails when the private network has not bootstrapped by then"},
    {"nagle", FB_PARAM_BOOL, "false", 0, 0, NULL,
     "model and interop: leave Nagle's algorithm on on our links' sockets, as tor does"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const char *const s_metrics[] = {"build", "hop1", "hop2", "hop3", "crypto", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"failures", FB_COUNTER_SUM, ""},
    {"bad_cells", FB_COUNTER_SUM, ""},
    {"relay_crypto", FB_COUNTER_SUM, "ns"},
    {"tor_rss", FB_COUNTER_MAX, "B"},     /* mode tor: the client tor's VmRSS */
    {"tor_hwm", FB_COUNTER_MAX, "B"},     /* mode tor: the client tor's VmHWM */
    {"tor_net_rss", FB_COUNTER_MAX, "B"}, /* mode tor: VmRSS of every tor of the network */
    {NULL, 0, NULL},
};

static int s_model_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    (void)env;
    int relays = (int)fb_params_num (params, "relays"), hops = (int)fb_params_num (params, "hops");
    if (fb_params_num (params, "mode") == S_MODE_INTEROP && fb_tor_interop_check (params, err) != 0)
        return -1;
    if (hops > relays)
        return fb_err_set (err, FB_EINPUT,
                           "hops must be at most relays: a circuit uses distinct relays (got hops "
                           "%d, relays %d)",
                           hops, relays);
    return 0;
}

static int s_model_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env,
                          fb_err_t *err) {
    (void)env;
    s_state_t *self = state;
    self->hops = (int)fb_params_num (params, "hops");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    int64_t hop_rtt_ns = (int64_t)fb_params_num (params, "hop_rtt");
    int relays = (int)fb_params_num (params, "relays");
    bool nagle = fb_params_num (params, "nagle") != 0;
    if (fb_params_num (params, "mode") == S_MODE_INTEROP) {
        self->interop =
            fb_tor_interop_new (relays, (int64_t)fb_params_num (params, "bootstrap_timeout"), nagle,
                                "tor.circuit", err);
        self->client = self->interop ? fb_tor_interop_client (self->interop) : NULL;
        return self->client ? 0 : -1;
    }
    self->net = fb_tor_relay_net_new_with (relays, hop_rtt_ns, nagle, err);
    fb_tor_client_config_t config = {.relays =
                                         self->net ? fb_tor_relay_net_relay (self->net, 0) : NULL,
                                     .n = relays,
                                     .hop_rtt_ns = hop_rtt_ns,
                                     .nagle = nagle};
    if (!self->net || !(self->client = fb_tor_client_new_config (&config, err)))
        return -1;
    return 0;
}

static int s_model_op (void *state, fb_wl_op_t *op) {
    s_state_t *self = state;
    fb_tor_circ_t *circ = NULL;
    fb_tor_build_t build;
    int rc = fb_tor_client_build (self->client, self->hops, fb_rng_next (&op->rng),
                                  self->timeout_ns, &circ, &build, NULL);
    if (rc == 0) {
        fb_hist_record_atomic (op->metrics[S_METRIC_BUILD], build.build_ns);
        for (int h = 0; h < build.hops; h++)
            fb_hist_record_atomic (op->metrics[h < 2 ? S_METRIC_HOP1 + h : S_METRIC_HOP3],
                                   build.hop_ns[h]);
        fb_hist_record_atomic (op->metrics[S_METRIC_CRYPTO], build.crypto_ns);
    } else
        atomic_fetch_add (&self->failures, 1);
    fb_tor_client_close (self->client, &circ);
    return rc;
}

static void s_model_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* op records into the runner's histograms directly */
    s_state_t *self = state;
    fb_tor_relay_net_stats_t ns = {0};
    fb_tor_client_stats_t cs;
    if (self->net)
        fb_tor_relay_net_stats (self->net, &ns);
    else
        counters[S_COUNTER_TOR_NET_RSS] = fb_tor_interop_network_rss (self->interop);
    fb_tor_client_stats (self->client, &cs);
    counters[S_COUNTER_FAILURES] = atomic_exchange (&self->failures, 0);
    int64_t bad = ns.bad_cells + cs.bad_cells;
    counters[S_COUNTER_BAD_CELLS] = bad - self->bad_seen;
    counters[S_COUNTER_RELAY_CRYPTO] = ns.crypto_ns - self->relay_crypto_seen;
    self->bad_seen = bad;
    self->relay_crypto_seen = ns.crypto_ns;
}

static void s_model_teardown (void *state) {
    s_state_t *self = state;
    if (self->interop)
        self->client = NULL; /* the interop network's */
    fb_tor_client_destroy (&self->client);
    fb_tor_interop_destroy (&self->interop);
    fb_tor_relay_net_destroy (&self->net);
}

static const fb_workload_t s_model = {
    .state_size = sizeof (s_state_t),
    .setup = s_model_setup,
    .op = s_model_op,
    .interval = s_model_interval,
    .teardown = s_model_teardown,
};

/* ---- the descriptor: model or real tor, chosen at setup ----------------------------------- */

static const fb_tor_mode_t s_modes = {
    .kind = "tor.circuit", .check = s_model_check, .model = &s_model, .tor = &fb_tor_real_circuit};

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    return fb_tor_mode_check (&s_modes, params, env, err);
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    return fb_tor_mode_setup (&s_modes, state, params, env, err);
}

const fb_workload_t fb_workload_tor_circuit = {
    .kind = "tor.circuit",
    .summary = "Tor circuit builds (CREATE2, EXTEND2, ntor per hop) through a loopback relay "
               "network",
    .params = s_params,
    .concurrency_param = "concurrency",
    .metrics = s_metrics,
    .counters = s_counters,
    .state_size = sizeof (fb_tor_mode_state_t),
    .max_rate_per_s = 1e3,
    .check = s_check,
    .setup = s_setup,
    .op = fb_tor_mode_op,
    .interval = fb_tor_mode_interval,
    .teardown = fb_tor_mode_teardown,
};

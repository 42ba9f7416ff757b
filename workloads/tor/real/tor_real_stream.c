/* tor_real_stream.c: the tor.stream workload in mode tor: a private tor network on loopback
 * (tor_privnet.c), the sink (tor_sink.c), and streams opened through the client tor's SOCKS port
 * (tor_socks.c), held open and used for request/response exchanges as in the model, many in
 * flight per runner thread (workloads/tor/tor_streams.c): each thread's streams move in its own
 * SOCKS loop. */
#include "workloads/tor/real/tor_real.h"

#include "common/clock.h"
#include "workloads/tor/ops/tor_streams.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_privnet.h"
#include "workloads/tor/real/tor_sink.h"
#include "workloads/tor/real/tor_socks.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tor.stream in mode tor ------------------------------------------------------------- */

enum {
    S_C_STREAMS,
    S_C_BYTES,
    S_C_STALLS,
    S_C_BAD_CELLS,
    S_C_FAILURES,
    S_C_CIRCUITS,
    S_C_TOR_RSS,
    S_C_TOR_HWM,
    S_C_TOR_NET_RSS,
};

#define S_MAX_STREAMS 1000 /* tor's client and the agent hold a socket each */
#define S_MAX_CIRCUITS 100
#define S_SETUP_OPENS 32 /* streams being opened at once per thread during setup */
#define S_CONTROL_TIMEOUT_NS (5 * FB_NS_PER_S)

typedef struct {
    fb_tor_streams_t ops; /* first: the runner's calls go straight to it */
    fb_tor_privnet_t *net;
    fb_tor_sink_t *sink;
    fb_tor_control_t *ctl; /* the runner's thread only: counts circuits */
    int ncircuits, nstreams, threads;
    int64_t timeout_ns;
    fb_tor_socks_conn_t *conns;  /* per stream */
    fb_tor_socks_loop_t **loops; /* per runner thread */
    char status[65536];          /* the runner's thread: GETINFO circuit-status */
} s_mode_t;

_Static_assert(offsetof (s_mode_t, ops) == 0, "the runner's calls take the state as its ops");

static int s_mode_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    (void)env;
    int streams = (int)fb_params_num (params, "streams");
    int circuits = (int)fb_params_num (params, "circuits");
    if (fb_tor_privnet_check ((int)fb_params_num (params, "relays"), err) != 0)
        return -1;
    if (fb_params_given (params, "hop_rtt"))
        return fb_err_set (err, FB_EINPUT,
                           "hop_rtt is the model's link delay: mode tor runs real tor on loopback "
                           "and adds none (leave hop_rtt out)");
    if (streams > S_MAX_STREAMS || circuits > S_MAX_CIRCUITS)
        return fb_err_set (err, FB_EINPUT,
                           "mode tor: at most %d streams over at most %d circuits (got %d "
                           "streams, %d circuits)",
                           S_MAX_STREAMS, S_MAX_CIRCUITS, streams, circuits);
    return 0;
}

/* ---- the backend: SOCKS loops ------------------------------------------------------------ */

/* Stream i's circuit is chosen by its SOCKS username: tor isolates streams by it. */
static int s_open (void *impl, int worker, int i, fb_err_t *err) {
    s_mode_t *self = impl;
    char username[32];
    snprintf (username, sizeof username, "fleetbench-c%d", i % self->ncircuits);
    return fb_tor_socks_open_start (self->loops[worker % self->threads], &self->conns[i],
                                    fb_tor_privnet_socks_port (self->net), username,
                                    fb_tor_sink_port (self->sink), self->timeout_ns, err);
}

static int s_exchange (void *impl, int worker, int i, uint32_t request, uint32_t response,
                       fb_err_t *err) {
    s_mode_t *self = impl;
    return fb_tor_socks_exchange_start (self->loops[worker % self->threads], &self->conns[i],
                                        request, response, self->timeout_ns, err);
}

static void s_close (void *impl, int i) {
    s_mode_t *self = impl;
    fb_tor_socks_close (self->loops[i % self->threads], &self->conns[i]);
}

static int s_wait (void *impl, int worker, int64_t until_ns, fb_tor_end_t *ends, int max) {
    s_mode_t *self = impl;
    fb_tor_socks_conn_t *ended[64];
    int n = fb_tor_socks_loop_poll (self->loops[worker % self->threads], until_ns, ended,
                                    max < 64 ? max : 64);
    for (int k = 0; k < n; k++)
        ends[k] = (fb_tor_end_t){.stream = ended[k]->id, .step = ended[k]->step};
    return n;
}

static const fb_tor_backend_t s_backend = {
    .open = s_open, .exchange = s_exchange, .close = s_close, .wait = s_wait};

/* Opens runner thread w's streams, S_SETUP_OPENS at once; the number that failed (err: the
 * last one's reason). */
static int s_open_thread (s_mode_t *self, int w, fb_err_t *err) {
    fb_tor_socks_conn_t *ended[S_SETUP_OPENS];
    int failed = 0, flying = 0;
    for (int next = w; next < self->nstreams || flying > 0;) {
        for (; flying < S_SETUP_OPENS && next < self->nstreams; next += self->threads)
            if (self->conns[next].fd < 0) {
                if (s_open (self, w, next, err) != 0)
                    failed++;
                else
                    flying++;
            }
        if (flying == 0)
            break; /* the last ones failed at once: nothing to wait for */
        int n = fb_tor_socks_loop_poll (self->loops[w], fb_clock_now_ns () + self->timeout_ns,
                                        ended, S_SETUP_OPENS);
        for (int k = 0; k < n; k++, flying--)
            if (ended[k]->step.rc != 0) {
                *err = ended[k]->step.err;
                fb_tor_socks_close (self->loops[w], ended[k]);
                failed++;
            }
    }
    return failed;
}

/* At setup, a stream tor refuses is tried again, twice, half a second apart: a private network
 * a few seconds old may still fail its first circuits (SOCKS reply 1, general failure) while
 * tor settles. Nothing is measured yet; a network that keeps refusing still fails setup. */
#define S_SETUP_ATTEMPTS 3

static int s_open_all (s_mode_t *self, fb_err_t *err) {
    for (int w = 0; w < self->threads; w++)
        for (int attempt = 1, failed; (failed = s_open_thread (self, w, err)) > 0; attempt++) {
            if (attempt == S_SETUP_ATTEMPTS) {
                fb_err_prefix (err, "mode tor: %d of %d streams would not open", failed,
                               self->nstreams);
                return -1;
            }
            fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_S / 2);
        }
    return 0;
}

static int s_mode_alloc (s_mode_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    self->ncircuits = (int)fb_params_num (params, "circuits");
    self->nstreams = (int)fb_params_num (params, "streams");
    self->threads = env->workers > 0 ? env->workers : 1;
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->conns = calloc ((size_t)self->nstreams, sizeof *self->conns);
    self->loops = calloc ((size_t)self->threads, sizeof *self->loops);
    if (!self->conns || !self->loops)
        return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory");
    for (int i = 0; i < self->nstreams; i++)
        self->conns[i] = (fb_tor_socks_conn_t){.id = i, .fd = -1};
    for (int w = 0; w < self->threads; w++)
        if (!(self->loops[w] = fb_tor_socks_loop_new (self->nstreams / self->threads + 1, err)))
            return -1;
    return 0;
}

static int s_mode_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    s_mode_t *self = state;
    if (s_mode_alloc (self, params, env, err) != 0 ||
        !(self->net = fb_tor_privnet_new ((int)fb_params_num (params, "relays"),
                                          (int64_t)fb_params_num (params, "bootstrap_timeout"),
                                          "tor.stream", err)) ||
        !(self->sink = fb_tor_sink_new (err)) ||
        !(self->ctl = fb_tor_control_new (fb_tor_privnet_control_port (self->net),
                                          fb_tor_privnet_cookie_path (self->net),
                                          S_CONTROL_TIMEOUT_NS, err)) ||
        s_open_all (self, err) != 0 ||
        fb_tor_streams_init (&self->ops, params, self->threads, &s_backend, self, err) != 0)
        return -1;
    return 0;
}

/* Circuits the client has built for streams (GENERAL purpose), from circuit-status. */
static int64_t s_count_circuits (s_mode_t *self) {
    if (!fb_tor_control_usable (self->ctl)) {
        fb_tor_control_destroy (&self->ctl);
        self->ctl =
            fb_tor_control_new (fb_tor_privnet_control_port (self->net),
                                fb_tor_privnet_cookie_path (self->net), S_CONTROL_TIMEOUT_NS, NULL);
    }
    if (!self->ctl ||
        fb_tor_control_command (self->ctl, "GETINFO circuit-status", self->status,
                                sizeof self->status, S_CONTROL_TIMEOUT_NS, NULL) != 250)
        return 0;
    int64_t n = 0;
    for (char *line = self->status, *next; line && *line; line = next) {
        if ((next = strchr (line, '\n')))
            *next++ = '\0';
        n += strstr (line, " BUILT ") && strstr (line, "PURPOSE=GENERAL");
    }
    return n;
}

static void s_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* op records into the runner's histograms directly */
    s_mode_t *self = state;
    fb_tor_streams_take (&self->ops, &counters[S_C_BYTES], &counters[S_C_FAILURES],
                         &counters[S_C_STREAMS]);
    counters[S_C_CIRCUITS] = s_count_circuits (self);
    _Static_assert(S_C_TOR_HWM == S_C_TOR_RSS + 1 && S_C_TOR_NET_RSS == S_C_TOR_RSS + 2,
                   "the memory counters stand in a row");
    fb_tor_privnet_memory_counters (self->net, &counters[S_C_TOR_RSS]);
}

static void s_mode_teardown (void *state) {
    s_mode_t *self = state;
    fb_tor_streams_fini (&self->ops, "tor.stream");
    for (int i = 0; self->conns && self->loops && i < self->nstreams; i++)
        if (self->loops[i % self->threads])
            fb_tor_socks_close (self->loops[i % self->threads], &self->conns[i]);
    for (int w = 0; self->loops && w < self->threads; w++)
        fb_tor_socks_loop_destroy (&self->loops[w]);
    fb_tor_control_destroy (&self->ctl);
    fb_tor_sink_destroy (&self->sink);
    fb_tor_privnet_destroy (&self->net);
    free (self->conns);
    free (self->loops);
}

const fb_workload_t fb_tor_real_stream = {
    .kind = "tor.stream",
    .summary = "tor.stream in mode tor: SOCKS5 streams through a private network of tor "
               "processes to a loopback sink",
    .check = s_mode_check,
    .state_size = sizeof (s_mode_t),
    .setup = s_mode_setup,
    .slots = fb_tor_streams_slots,
    .start = fb_tor_streams_start,
    .poll = fb_tor_streams_poll,
    .cancel = fb_tor_streams_cancel,
    .interval = s_mode_interval,
    .teardown = s_mode_teardown,
};

/* tor_real_stream.c: the tor.stream workload in mode tor: a private tor network on loopback
 * (tor_privnet.c), the sink (tor_sink.c), and streams opened through the client tor's SOCKS port
 * (tor_socks.c), held open and used for request/response exchanges as in the model. */
#include "workloads/tor/real/tor_real.h"

#include "common/clock.h"
#include "common/parallel.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_failures.h"
#include "workloads/tor/real/tor_privnet.h"
#include "workloads/tor/real/tor_sink.h"
#include "workloads/tor/real/tor_socks.h"

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

/* ---- tor.stream in mode tor ------------------------------------------------------------- */

enum { S_METRIC_OPEN, S_METRIC_TTFB };
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
#define S_SETUP_THREADS 8 /* streams opened at once during setup */
#define S_READ_BUF 16384  /* per worker */
#define S_CONTROL_TIMEOUT_NS (5 * FB_NS_PER_S)

typedef struct {
    int fd; /* -1: closed */
    uint64_t bytes;
    bool broken;
} s_held_t;

typedef struct {
    fb_tor_privnet_t *net;
    fb_tor_sink_t *sink;
    fb_tor_control_t *ctl; /* the runner's thread only: counts circuits */
    int ncircuits, nstreams, workers;
    uint32_t request, response;
    bool onionperf;
    uint64_t stream_bytes;
    int64_t timeout_ns;
    s_held_t *held;
    int *cursor;   /* per worker: its next stream */
    uint8_t *bufs; /* per worker: S_READ_BUF */
    atomic_int_fast64_t bytes, open_now, open_peak;
    char status[65536];       /* the runner's thread: GETINFO circuit-status */
    fb_tor_failures_t failed; /* counted per interval, the last reason printed at teardown */
} s_mode_t;

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

/* Stream i's circuit is chosen by its SOCKS username: tor isolates streams by it. */
static int s_open (s_mode_t *self, int i, int64_t *open_ns, fb_err_t *err) {
    char username[32];
    snprintf (username, sizeof username, "fleetbench-c%d", i % self->ncircuits);
    s_held_t *h = &self->held[i];
    if (fb_tor_socks_connect (fb_tor_privnet_socks_port (self->net), username,
                              fb_tor_sink_port (self->sink), self->timeout_ns, &h->fd, open_ns,
                              err) != 0) {
        h->fd = -1;
        return -1;
    }
    h->bytes = 0;
    h->broken = false;
    int_fast64_t now = atomic_fetch_add (&self->open_now, 1) + 1;
    int_fast64_t peak = atomic_load (&self->open_peak);
    while (now > peak && !atomic_compare_exchange_weak (&self->open_peak, &peak, now))
        ;
    return 0;
}

static void s_close (s_mode_t *self, s_held_t *h) {
    if (h->fd < 0)
        return;
    close (h->fd);
    h->fd = -1;
    atomic_fetch_sub (&self->open_now, 1);
}

/* At setup, a stream tor refuses is tried again, twice, half a second apart: a private network
 * a few seconds old may still fail its first circuits (SOCKS reply 1, general failure) while
 * tor settles. Nothing is measured yet; a network that keeps refusing still fails setup. */
#define S_SETUP_ATTEMPTS 3

static int s_open_one (void *arg, int i, fb_err_t *err) {
    for (int attempt = 1;; attempt++) {
        if (s_open (arg, i, NULL, err) == 0)
            return 0;
        if (attempt == S_SETUP_ATTEMPTS)
            return -1;
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_S / 2);
    }
}

static int s_open_all (s_mode_t *self, fb_err_t *err) {
    if (fb_parallel_for (self->nstreams, S_SETUP_THREADS, s_open_one, self, err) != 0) {
        fb_err_prefix (err, "mode tor: opening %d streams", self->nstreams);
        return -1;
    }
    return 0;
}

static int s_mode_alloc (s_mode_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    self->ncircuits = (int)fb_params_num (params, "circuits");
    self->nstreams = (int)fb_params_num (params, "streams");
    self->workers = env->workers > 0 ? env->workers : 1;
    self->request = (uint32_t)fb_params_num (params, "request");
    self->response = (uint32_t)fb_params_num (params, "response");
    self->onionperf = fb_params_num (params, "onionperf") != 0;
    self->stream_bytes = (uint64_t)fb_params_num (params, "stream_bytes");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->held = calloc ((size_t)self->nstreams, sizeof *self->held);
    self->cursor = calloc ((size_t)self->workers, sizeof *self->cursor);
    self->bufs = malloc ((size_t)self->workers * S_READ_BUF);
    if (!self->held || !self->cursor || !self->bufs)
        return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory");
    for (int i = 0; i < self->nstreams; i++)
        self->held[i].fd = -1;
    for (int w = 0; w < self->workers; w++)
        self->cursor[w] = w;
    return 0;
}

static int s_mode_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    s_mode_t *self = state;
    fb_tor_failures_init (&self->failed);
    if (s_mode_alloc (self, params, env, err) != 0 ||
        !(self->net = fb_tor_privnet_new ((int)fb_params_num (params, "relays"),
                                          (int64_t)fb_params_num (params, "bootstrap_timeout"),
                                          "tor.stream", err)) ||
        !(self->sink = fb_tor_sink_new (err)) ||
        !(self->ctl = fb_tor_control_new (fb_tor_privnet_control_port (self->net),
                                          fb_tor_privnet_cookie_path (self->net),
                                          S_CONTROL_TIMEOUT_NS, err)) ||
        s_open_all (self, err) != 0)
        return -1;
    atomic_store (&self->open_peak, atomic_load (&self->open_now));
    return 0;
}

static int s_mode_op (void *state, fb_wl_op_t *op) {
    s_mode_t *self = state;
    int w = op->worker % self->workers, i = self->cursor[w];
    self->cursor[w] = i + self->workers < self->nstreams ? i + self->workers : w;
    s_held_t *held = &self->held[i];
    int size = self->onionperf ? (int)(op->seq % FB_TOR_ONIONPERF_SIZES) : -1;
    if (held->fd >= 0 && (size >= 0 || held->broken ||
                          (self->stream_bytes > 0 && held->bytes >= self->stream_bytes)))
        s_close (self, held);
    int64_t open_ns = 0, start_ns = fb_clock_now_ns ();
    fb_err_t err;
    if (held->fd < 0) {
        if (s_open (self, i, &open_ns, &err) != 0) {
            fb_tor_failures_add (&self->failed, &err);
            return -1;
        }
        fb_hist_record_atomic (op->metrics[S_METRIC_OPEN], open_ns);
    }
    fb_tor_xfer_t xfer;
    if (fb_tor_socks_exchange (
            held->fd, self->request, size >= 0 ? fb_tor_onionperf_bytes (size) : self->response,
            self->bufs + (size_t)w * S_READ_BUF, S_READ_BUF, self->timeout_ns, &xfer, &err) != 0) {
        held->broken = true;
        fb_tor_failures_add (&self->failed, &err);
        return -1;
    }
    fb_hist_record_atomic (op->metrics[S_METRIC_TTFB], xfer.ttfb_ns);
    if (size >= 0)
        fb_tor_onionperf_record (op->metrics, size, start_ns, fb_clock_now_ns (), &xfer);
    held->bytes += xfer.bytes;
    atomic_fetch_add_explicit (&self->bytes, (int64_t)xfer.bytes, memory_order_relaxed);
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
    int_fast64_t open_now = atomic_load (&self->open_now);
    counters[S_C_STREAMS] = atomic_exchange (&self->open_peak, open_now);
    counters[S_C_BYTES] = atomic_exchange (&self->bytes, 0);
    counters[S_C_FAILURES] = fb_tor_failures_take (&self->failed);
    counters[S_C_CIRCUITS] = s_count_circuits (self);
    _Static_assert(S_C_TOR_HWM == S_C_TOR_RSS + 1 && S_C_TOR_NET_RSS == S_C_TOR_RSS + 2,
                   "the memory counters stand in a row");
    fb_tor_privnet_memory_counters (self->net, &counters[S_C_TOR_RSS]);
}

static void s_mode_teardown (void *state) {
    s_mode_t *self = state;
    fb_tor_failures_fini (&self->failed, "tor.stream", "exchange(s) or open(s)");
    for (int i = 0; self->held && i < self->nstreams; i++)
        s_close (self, &self->held[i]);
    fb_tor_control_destroy (&self->ctl);
    fb_tor_sink_destroy (&self->sink);
    fb_tor_privnet_destroy (&self->net);
    free (self->held);
    free (self->cursor);
    free (self->bufs);
}

const fb_workload_t fb_tor_real_stream = {
    .kind = "tor.stream",
    .summary = "tor.stream in mode tor: SOCKS5 streams through a private network of tor "
               "processes to a loopback sink",
    .check = s_mode_check,
    .state_size = sizeof (s_mode_t),
    .setup = s_mode_setup,
    .op = s_mode_op,
    .interval = s_mode_interval,
    .teardown = s_mode_teardown,
};

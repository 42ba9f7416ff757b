/* test_tor_model.c: the model mode end to end on loopback: 5 relays (TLS, ntor, onion layers),
 * one client. A 3-hop circuit is built through real relays, 100 streams are held open at once
 * with data both ways, big transfers go through SENDME flow control, and bad cells end their
 * circuit with a counted error while the rest carries on; unknown commands are dropped. Counts
 * and bytes, never timings. */
#include "common/clock.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_relay.h"
#include "workloads/workload.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T_TIMEOUT_NS (20 * FB_NS_PER_S) /* generous: under ASan on a loaded host */
#define T_STREAMS 100
#define T_CIRCUITS 10

typedef struct {
    fb_tor_relay_net_t *net;
    fb_tor_client_t *client;
} t_world_t;

static int s_setup (void **state) {
    t_world_t *w = calloc (1, sizeof *w);
    fb_err_t err = {0};
    w->net = fb_tor_relay_net_new (5, 0, &err);
    if (!w->net)
        fail_msg ("net: %s", err.msg);
    w->client = fb_tor_client_new (w->net, 0, &err);
    if (!w->client)
        fail_msg ("client: %s", err.msg);
    *state = w;
    return 0;
}

static int s_teardown (void **state) {
    t_world_t *w = *state;
    fb_tor_client_destroy (&w->client);
    fb_tor_relay_net_destroy (&w->net);
    assert_null (w->net);
    free (w);
    return 0;
}

static fb_tor_circ_t *s_build (t_world_t *w, uint64_t seed, fb_tor_build_t *build) {
    fb_tor_circ_t *circ = NULL;
    fb_err_t err = {0};
    fb_tor_build_t local;
    if (fb_tor_client_build (w->client, 3, seed, T_TIMEOUT_NS, &circ, build ? build : &local,
                             &err) != 0)
        fail_msg ("build: %s", err.msg);
    return circ;
}

static fb_tor_stream_t *s_open (t_world_t *w, fb_tor_circ_t *circ) {
    fb_tor_stream_t *stream = NULL;
    fb_err_t err = {0};
    int64_t open_ns = 0;
    if (fb_tor_client_open_stream (w->client, circ, T_TIMEOUT_NS, &stream, &open_ns, &err) != 0)
        fail_msg ("open: %s", err.msg);
    assert_true (open_ns > 0);
    return stream;
}

static void test_three_hop_circuit_is_built_through_relays (void **state) {
    t_world_t *w = *state;
    fb_tor_relay_net_stats_t before, after;
    fb_tor_relay_net_stats (w->net, &before);
    fb_tor_build_t build;
    fb_tor_circ_t *circ = s_build (w, 42, &build);
    assert_int_equal (build.hops, 3);
    for (int h = 0; h < 3; h++)
        assert_true (build.hop_ns[h] > 0);
    assert_true (build.build_ns >= build.hop_ns[0] + build.hop_ns[1] + build.hop_ns[2]);
    assert_true (build.crypto_ns > 0);
    assert_true (fb_tor_client_alive (w->client, circ));
    fb_tor_relay_net_stats (w->net, &after);
    assert_int_equal (after.circuits_created - before.circuits_created, 3);
    assert_int_equal (after.bad_cells, before.bad_cells);
    fb_tor_client_stats_t cs;
    fb_tor_client_stats (w->client, &cs);
    assert_int_equal (cs.circuits_open, 1);
    fb_tor_client_close (w->client, &circ);
    assert_null (circ);
    fb_tor_client_stats (w->client, &cs);
    assert_int_equal (cs.circuits_open, 0);
}

typedef struct {
    t_world_t *w;
    fb_tor_stream_t **streams;
    int from, count, failed;
    uint64_t bytes;
} t_mover_t;

static void *s_mover_main (void *arg) {
    t_mover_t *m = arg;
    for (int round = 0; round < 2; round++)
        for (int i = m->from; i < m->from + m->count; i++) {
            fb_tor_xfer_t xfer;
            fb_err_t err = {0};
            if (fb_tor_client_exchange (m->w->client, m->streams[i], 1500, 3000, T_TIMEOUT_NS,
                                        &xfer, &err) != 0)
                m->failed++;
            else
                m->bytes += xfer.bytes;
        }
    return NULL;
}

static void test_hundred_streams_held_open_move_data_both_ways (void **state) {
    t_world_t *w = *state;
    fb_tor_circ_t *circs[T_CIRCUITS];
    fb_tor_stream_t *streams[T_STREAMS];
    for (int c = 0; c < T_CIRCUITS; c++)
        circs[c] = s_build (w, 1000 + (uint64_t)c, NULL);
    for (int s = 0; s < T_STREAMS; s++)
        streams[s] = s_open (w, circs[s % T_CIRCUITS]);
    fb_tor_client_stats_t cs;
    fb_tor_relay_net_stats_t ns;
    fb_tor_client_stats (w->client, &cs);
    fb_tor_relay_net_stats (w->net, &ns);
    assert_int_equal (cs.streams_open, T_STREAMS);
    assert_int_equal (ns.exit_streams, T_STREAMS);

    t_mover_t movers[4];
    pthread_t threads[4];
    for (int t = 0; t < 4; t++) {
        movers[t] = (t_mover_t){.w = w, .streams = streams, .from = t * 25, .count = 25};
        assert_int_equal (pthread_create (&threads[t], NULL, s_mover_main, &movers[t]), 0);
    }
    uint64_t bytes = 0;
    for (int t = 0; t < 4; t++) {
        pthread_join (threads[t], NULL);
        assert_int_equal (movers[t].failed, 0);
        bytes += movers[t].bytes;
    }
    assert_int_equal (bytes, (uint64_t)T_STREAMS * 2 * (1500 + 3000));
    fb_tor_client_stats (w->client, &cs);
    assert_int_equal (cs.streams_open, T_STREAMS); /* still all open */
    for (int s = 0; s < T_STREAMS; s++)
        fb_tor_client_close_stream (w->client, &streams[s]);
    for (int c = 0; c < T_CIRCUITS; c++)
        fb_tor_client_close (w->client, &circs[c]);
    fb_tor_client_stats (w->client, &cs);
    assert_int_equal (cs.streams_open, 0);
    fb_tor_relay_net_stats (w->net, &ns);
    assert_int_equal (ns.bad_cells, 0);
}

/* What asynchronous calls' notifications add up to: each call's end, counted once. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ended;
    int times[T_STREAMS]; /* how often each call was notified */
    fb_tor_call_t *calls[T_STREAMS];
} t_async_t;

static void s_notified (fb_tor_call_t *call, void *arg) {
    t_async_t *a = arg;
    pthread_mutex_lock (&a->lock);
    for (int i = 0; i < T_STREAMS; i++)
        a->times[i] += a->calls[i] == call;
    a->ended++;
    pthread_cond_signal (&a->cond);
    pthread_mutex_unlock (&a->lock);
}

/* Until n calls have ended (bounded by the client's own timeouts). */
static void s_wait_ended (t_async_t *a, int n) {
    pthread_mutex_lock (&a->lock);
    while (a->ended < n)
        pthread_cond_wait (&a->cond, &a->lock);
    pthread_mutex_unlock (&a->lock);
}

/* One thread opens 100 streams and runs an exchange on each, all in flight at once: every
 * call is notified exactly once, each open made a stream, each exchange moved its bytes. */
static void test_hundred_calls_in_flight_from_one_thread_end_once_each (void **state) {
    t_world_t *w = *state;
    t_async_t a = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    fb_tor_circ_t *circs[T_CIRCUITS];
    fb_tor_stream_t *streams[T_STREAMS] = {0};
    for (int c = 0; c < T_CIRCUITS; c++)
        circs[c] = s_build (w, 3000 + (uint64_t)c, NULL);
    for (int i = 0; i < T_STREAMS; i++) {
        assert_non_null (a.calls[i] = fb_tor_client_call_new (s_notified, &a));
        fb_tor_client_open_stream_start (w->client, a.calls[i], circs[i % T_CIRCUITS],
                                         T_TIMEOUT_NS);
    }
    s_wait_ended (&a, T_STREAMS);
    for (int i = 0; i < T_STREAMS; i++) {
        int64_t open_ns = 0;
        fb_err_t err = {0};
        assert_int_equal (a.times[i], 1);
        if (fb_tor_client_call_result (a.calls[i], &streams[i], &open_ns, NULL, &err) != 0)
            fail_msg ("open %d: %s", i, err.msg);
        assert_non_null (streams[i]);
        assert_true (open_ns > 0);
        fb_tor_client_exchange_start (w->client, a.calls[i], streams[i], 1500, 3000, T_TIMEOUT_NS);
    }
    s_wait_ended (&a, 2 * T_STREAMS);
    uint64_t bytes = 0;
    for (int i = 0; i < T_STREAMS; i++) {
        fb_tor_xfer_t xfer = {0};
        assert_int_equal (a.times[i], 2);
        assert_int_equal (fb_tor_client_call_result (a.calls[i], NULL, NULL, &xfer, NULL), 0);
        assert_true (xfer.ttfb_ns > 0 && xfer.ttfb_ns <= xfer.total_ns);
        bytes += xfer.bytes;
        fb_tor_client_close_stream (w->client, &streams[i]);
        fb_tor_client_call_destroy (&a.calls[i]);
    }
    assert_int_equal (bytes, (uint64_t)T_STREAMS * (1500 + 3000));
    fb_tor_relay_net_stats_t ns;
    fb_tor_relay_net_stats (w->net, &ns);
    assert_int_equal (ns.bad_cells, 0);
    /* A stream closed with an exchange in flight on it: the call ends, failed, once (the
     * cells the exit had sent for it already arrive for a stream that is gone). */
    fb_tor_call_t *call = fb_tor_client_call_new (s_notified, &a);
    fb_tor_stream_t *stream = s_open (w, circs[0]);
    a.calls[0] = call;
    a.times[0] = 0;
    fb_tor_client_exchange_start (w->client, call, stream, 64, 64 * 1024 * 1024, T_TIMEOUT_NS);
    fb_tor_client_close_stream (w->client, &stream);
    s_wait_ended (&a, 2 * T_STREAMS + 1);
    assert_int_equal (a.times[0], 1);
    fb_err_t err = {0};
    assert_int_equal (fb_tor_client_call_result (call, NULL, NULL, NULL, &err), -1);
    assert_non_null (strstr (err.msg, "closed"));
    fb_tor_client_call_destroy (&call);
    for (int c = 0; c < T_CIRCUITS; c++)
        fb_tor_client_close (w->client, &circs[c]);
}

/* 700 request cells (> the stream window of 500) and 1300 response cells (> the circuit window
 * of 1000): both sides must stall and go on only on the other's SENDMEs. */
static void test_sendme_windows_carry_transfers_past_the_windows (void **state) {
    t_world_t *w = *state;
    fb_tor_circ_t *circ = s_build (w, 7, NULL);
    fb_tor_stream_t *stream = s_open (w, circ);
    fb_tor_client_stats_t before, after;
    fb_tor_relay_net_stats_t nbefore, nafter;
    fb_tor_client_stats (w->client, &before);
    fb_tor_relay_net_stats (w->net, &nbefore);
    const uint32_t request = 700 * 498, response = 1300 * 498;
    fb_tor_xfer_t xfer;
    fb_err_t err = {0};
    for (int i = 0; i < 2; i++) { /* twice: windows must come back to where they were */
        if (fb_tor_client_exchange (w->client, stream, request, response, T_TIMEOUT_NS, &xfer,
                                    &err) != 0)
            fail_msg ("exchange: %s", err.msg);
        assert_int_equal (xfer.bytes, (uint64_t)request + response);
        assert_true (xfer.ttfb_ns > 0 && xfer.total_ns >= xfer.ttfb_ns);
    }
    fb_tor_client_stats (w->client, &after);
    fb_tor_relay_net_stats (w->net, &nafter);
    assert_true (after.sendme_stalls - before.sendme_stalls >= 2);
    assert_true (nafter.sendme_stalls - nbefore.sendme_stalls >= 2);
    assert_int_equal (nafter.bad_cells, nbefore.bad_cells); /* every SENDME tag checked out */
    fb_tor_client_close_stream (w->client, &stream);
    fb_tor_client_close (w->client, &circ);
}

static void s_wait_dead (t_world_t *w, fb_tor_circ_t *circ) {
    int64_t give_up = fb_clock_now_ns () + T_TIMEOUT_NS;
    while (fb_tor_client_alive (w->client, circ) && fb_clock_now_ns () < give_up)
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
    assert_false (fb_tor_client_alive (w->client, circ));
}

static void test_bad_cells_end_only_their_circuit (void **state) {
    t_world_t *w = *state;
    fb_tor_circ_t *good = s_build (w, 99, NULL);
    fb_tor_stream_t *good_stream = s_open (w, good);
    const fb_tor_fault_t faults[] = {FB_TOR_FAULT_BAD_DIGEST, FB_TOR_FAULT_BAD_LENGTH};
    for (int f = 0; f < 2; f++) {
        fb_tor_relay_net_stats_t before, after;
        fb_tor_relay_net_stats (w->net, &before);
        fb_tor_circ_t *bad = s_build (w, 500 + (uint64_t)f, NULL);
        fb_tor_stream_t *stream = s_open (w, bad);
        fb_err_t err = {0};
        assert_int_equal (fb_tor_client_inject (w->client, bad, faults[f], &err), 0);
        s_wait_dead (w, bad);
        fb_tor_relay_net_stats (w->net, &after);
        assert_int_equal (after.bad_cells - before.bad_cells, 1);
        fb_tor_xfer_t xfer;
        assert_int_equal (
            fb_tor_client_exchange (w->client, stream, 100, 100, T_TIMEOUT_NS, &xfer, &err), -1);
        fb_tor_client_close_stream (w->client, &stream);
        fb_tor_client_close (w->client, &bad);
        /* the other circuit, on the same links, still works */
        if (fb_tor_client_exchange (w->client, good_stream, 100, 5000, T_TIMEOUT_NS, &xfer, &err) !=
            0)
            fail_msg ("good circuit after fault %d: %s", f, err.msg);
    }
    fb_tor_client_close_stream (w->client, &good_stream);
    fb_tor_client_close (w->client, &good);
}

/* tor-spec 3 and 6.1: a cell or relay command a relay does not know is dropped, the circuit
 * goes on and nothing counts as a bad cell. */
static void test_relays_drop_unknown_cell_and_relay_commands (void **state) {
    t_world_t *w = *state;
    fb_tor_circ_t *circ = s_build (w, 123, NULL);
    fb_tor_stream_t *stream = s_open (w, circ);
    fb_tor_relay_net_stats_t before, after;
    fb_tor_relay_net_stats (w->net, &before);
    const fb_tor_fault_t faults[] = {FB_TOR_FAULT_UNKNOWN_COMMAND,
                                     FB_TOR_FAULT_UNKNOWN_RELAY_COMMAND};
    fb_err_t err = {0};
    fb_tor_xfer_t xfer;
    for (int f = 0; f < 2; f++) {
        assert_int_equal (fb_tor_client_inject (w->client, circ, faults[f], &err), 0);
        /* cells go in order: the exchange after the odd cell passing means it was dropped */
        if (fb_tor_client_exchange (w->client, stream, 100, 5000, T_TIMEOUT_NS, &xfer, &err) != 0)
            fail_msg ("exchange after odd cell %d: %s", f, err.msg);
        assert_true (fb_tor_client_alive (w->client, circ));
    }
    fb_tor_relay_net_stats (w->net, &after);
    assert_int_equal (after.bad_cells, before.bad_cells);
    fb_tor_client_close_stream (w->client, &stream);
    fb_tor_client_close (w->client, &circ);
}

/* ---- the workloads, driven as the runner drives them ------------------------------------ */

extern const fb_workload_t fb_workload_tor_circuit;
extern const fb_workload_t fb_workload_tor_stream;

typedef struct {
    const fb_workload_t *wl;
    void *state;
    fb_hist_t *metrics[FB_MAX_METRICS];
    int worker, ops, failed;
    int most_in_flight; /* asynchronous kinds */
} t_driver_t;

/* An asynchronous kind as the runner's closed loop drives it: every free slot starts one,
 * each tag ends once. */
static void s_drive_async (t_driver_t *d, fb_wl_op_t *op) {
    int slots = d->wl->slots (d->state, d->worker), flying = 0, started = 0, ended = 0;
    bool busy[64] = {false};
    assert_true (slots >= 1 && slots <= 64);
    while (ended < d->ops) {
        for (int slot = 0; slot < slots && started < d->ops; slot++) {
            if (busy[slot])
                continue;
            op->seq = (uint64_t)started++;
            op->intended_start_ns = fb_clock_now_ns ();
            if (d->wl->start (d->state, op, (uint64_t)slot) != 0) {
                d->failed++;
                ended++;
                continue;
            }
            busy[slot] = true;
            if (++flying > d->most_in_flight)
                d->most_in_flight = flying;
        }
        fb_wl_done_t done[8];
        int n = d->wl->poll (d->state, d->worker, fb_clock_now_ns () + T_TIMEOUT_NS, done, 8);
        assert_true (n > 0); /* an exchange ends well within its timeout */
        for (int k = 0; k < n; k++) {
            assert_true (done[k].tag < (uint64_t)slots && busy[done[k].tag]);
            busy[done[k].tag] = false;
            flying--;
            ended++;
            d->failed += done[k].rc != 0;
        }
    }
}

static void *s_driver_main (void *arg) {
    t_driver_t *d = arg;
    fb_wl_op_t op = {.worker = d->worker, .metrics = d->metrics, .rng = 77 + (uint64_t)d->worker};
    if (d->wl->start) {
        s_drive_async (d, &op);
        return NULL;
    }
    for (int i = 0; i < d->ops; i++) {
        op.seq = (uint64_t)i;
        op.intended_start_ns = fb_clock_now_ns ();
        if (d->wl->op (d->state, &op) != 0)
            d->failed++;
    }
    return NULL;
}

/* The workload set up with params pairs (name, value, ..., NULL) for workers threads. */
static void *s_setup_with (const fb_workload_t *wl, const char *const *pairs, int workers) {
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    for (int i = 0; pairs[i]; i += 2)
        if (fb_params_set (&params, pairs[i], pairs[i + 1], &err) != 0)
            fail_msg ("%s: %s", pairs[i], err.msg);
    fb_wl_env_t env = {.workers = workers};
    assert_int_equal (wl->check (&params, &env, &err), 0);
    void *state = NULL;
    if (fb_workload_setup (wl, &params, &env, &state, &err) != 0)
        fail_msg ("setup: %s", err.msg);
    return state;
}

/* Checks that param name = value on workers threads is refused with a message holding why. */
static void s_check_refuses (const fb_workload_t *wl, int workers, const char *name,
                             const char *value, const char *why) {
    fb_params_t params;
    fb_err_t err = {0};
    fb_wl_env_t env = {.workers = workers};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    assert_int_equal (fb_params_set (&params, name, value, &err), 0);
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, why));
}

/* setup with pairs, `workers` threads of `ops` ops, one interval into counters, teardown;
 * metric_counts gets each metric's sample count; returns the most operations one thread had in
 * flight at once. */
static int s_drive (const fb_workload_t *wl, const char *const *pairs, int workers, int ops,
                    int64_t *counters, int64_t *metric_counts) {
    void *state = s_setup_with (wl, pairs, workers);
    fb_err_t err = {0};
    t_driver_t drivers[4];
    pthread_t threads[4];
    int nmetrics = 0;
    while (wl->metrics[nmetrics])
        nmetrics++;
    for (int t = 0; t < workers; t++) {
        drivers[t] = (t_driver_t){.wl = wl, .state = state, .worker = t, .ops = ops};
        for (int m = 0; m < nmetrics; m++)
            assert_non_null (drivers[t].metrics[m] = fb_hist_new_default (&err));
        assert_int_equal (pthread_create (&threads[t], NULL, s_driver_main, &drivers[t]), 0);
    }
    for (int m = 0; m < nmetrics; m++)
        metric_counts[m] = 0;
    int most_in_flight = 0;
    for (int t = 0; t < workers; t++) {
        pthread_join (threads[t], NULL);
        assert_int_equal (drivers[t].failed, 0);
        if (drivers[t].most_in_flight > most_in_flight)
            most_in_flight = drivers[t].most_in_flight;
        for (int m = 0; m < nmetrics; m++) { /* atomic records are counted when drained */
            fb_hist_t *into = fb_hist_new_default (&err);
            assert_int_equal (fb_hist_drain (into, drivers[t].metrics[m], &err), 0);
            metric_counts[m] += fb_hist_count (into);
            fb_hist_destroy (&into);
            fb_hist_destroy (&drivers[t].metrics[m]);
        }
    }
    fb_hist_t *none[FB_MAX_METRICS] = {NULL};
    wl->interval (state, none, counters);
    fb_workload_teardown (wl, &state);
    assert_null (state);
    return most_in_flight;
}

static void test_circuit_workload_builds_and_destroys (void **state) {
    (void)state;
    const char *pairs[] = {"relays", "4", "hops", "3", "concurrency", "2", NULL};
    int64_t counters[FB_MAX_COUNTERS] = {0}, counts[FB_MAX_METRICS];
    s_drive (&fb_workload_tor_circuit, pairs, 2, 10, counters, counts);
    assert_int_equal (counts[0], 20);  /* build */
    assert_int_equal (counts[1], 20);  /* hop1 */
    assert_int_equal (counts[3], 20);  /* hop3 */
    assert_int_equal (counts[4], 20);  /* crypto */
    assert_int_equal (counters[0], 0); /* failures */
    assert_int_equal (counters[1], 0); /* bad_cells */
    assert_true (counters[2] > 0);     /* relay_crypto */
    s_check_refuses (&fb_workload_tor_circuit, 1, "relays", "2", "hops must be at most relays");
}

static void test_stream_workload_holds_its_streams (void **state) {
    (void)state;
    /* small stream_bytes: every stream is reopened during the ops */
    const char *pairs[] = {"streams",      "100", "circuits", "5",    "concurrency", "4",
                           "threads",      "4",   "request",  "100B", "response",    "1KB",
                           "stream_bytes", "2KB", NULL};
    int64_t counters[FB_MAX_COUNTERS] = {0}, counts[FB_MAX_METRICS];
    s_drive (&fb_workload_tor_stream, pairs, 4, 75, counters, counts);
    assert_int_equal (counters[0], 100);                /* streams: all held at once */
    assert_int_equal (counters[1], 300 * (100 + 1024)); /* bytes (1KB is 1024) */
    assert_int_equal (counters[3], 0);                  /* bad_cells */
    assert_int_equal (counters[4], 0);                  /* failures */
    assert_int_equal (counters[5], 5);                  /* circuits */
    assert_int_equal (counts[1], 300);                  /* ttfb: one per exchange */
    assert_int_equal (counts[0], 100); /* open: each stream's third exchange reopens it */
}

static void test_stream_workload_keeps_many_exchanges_in_flight_on_one_thread (void **state) {
    (void)state;
    /* one thread, 16 in flight over 32 streams; each exchange (1124 B) passes stream_bytes, so
     * every exchange but a stream's first reopens it. Which stream gets how many exchanges
     * depends on which end first; the first 32 starts take the 32 streams in turn. */
    const char *pairs[] = {"streams",      "32",      "circuits", "4",        "concurrency",
                           "16",           "request", "100B",     "response", "1KB",
                           "stream_bytes", "1KB",     NULL};
    int64_t counters[FB_MAX_COUNTERS] = {0}, counts[FB_MAX_METRICS];
    int most = s_drive (&fb_workload_tor_stream, pairs, 1, 96, counters, counts);
    assert_int_equal (most, 16);                       /* every slot filled at once */
    assert_int_equal (counters[0], 32);                /* streams: all held */
    assert_int_equal (counters[1], 96 * (100 + 1024)); /* bytes */
    assert_int_equal (counters[4], 0);                 /* failures */
    assert_int_equal (counts[1], 96);                  /* ttfb: one per exchange */
    assert_int_equal (counts[0], 96 - 32);             /* open: all but each stream's first */
    /* more threads than exchanges in flight is refused at check */
    s_check_refuses (&fb_workload_tor_stream, 3, "concurrency", "2",
                     "threads must be at most concurrency");
}

/* Exchanges that time out (32 MB each through SENDME windows at 20 ms a hop: far more than the
 * 2 s allowed, while setup needs a fraction of it even on a loaded host) fail, each once; a failure
 * makes its circuit suspect, so the next exchange's open goes through the rebuilder thread, which
 * finds the circuit alive and opens the stream from there. */
static void test_stream_workload_reopens_through_the_rebuilder_after_failures (void **state) {
    (void)state;
    const char *pairs[] = {"streams", "4",        "circuits", "2",       "concurrency",
                           "4",       "response", "32MB",     "hop_rtt", "20ms",
                           "timeout", "2s",       NULL};
    t_driver_t d = {.wl = &fb_workload_tor_stream, .ops = 12};
    d.state = s_setup_with (d.wl, pairs, 1);
    fb_err_t err = {0};
    for (int m = 0; d.wl->metrics[m]; m++)
        assert_non_null (d.metrics[m] = fb_hist_new_default (&err));
    fb_wl_op_t op = {.metrics = d.metrics};
    s_drive_async (&d, &op);
    assert_int_equal (d.failed, 12); /* every exchange timed out, each counted once */
    fb_hist_t *opens = fb_hist_new_default (&err);
    assert_int_equal (fb_hist_drain (opens, d.metrics[0], &err), 0);
    assert_int_equal (fb_hist_count (opens), 8); /* the 8 after the first on each stream */
    int64_t counters[FB_MAX_COUNTERS] = {0};
    fb_hist_t *none[FB_MAX_METRICS] = {NULL};
    d.wl->interval (d.state, none, counters);
    assert_int_equal (counters[4], 12); /* failures */
    fb_workload_teardown (d.wl, &d.state);
    fb_hist_destroy (&opens);
    for (int m = 0; d.wl->metrics[m]; m++)
        fb_hist_destroy (&d.metrics[m]);
}

/* An abort with exchanges in flight hands each back at once, failed, exactly once; the
 * network's distance (hop_rtt 400ms: an exchange takes 1.2 s) keeps them in flight meanwhile.
 * Teardown then ends what the client still has. */
static void test_stream_workload_cancel_hands_back_each_exchange_once (void **state) {
    (void)state;
    const fb_workload_t *wl = &fb_workload_tor_stream;
    const char *pairs[] = {"streams", "8",       "circuits", "2", "concurrency",
                           "8",       "hop_rtt", "400ms",    NULL};
    void *wl_state = s_setup_with (wl, pairs, 1);
    fb_err_t err = {0};
    fb_hist_t *metrics[FB_MAX_METRICS] = {NULL};
    for (int m = 0; wl->metrics[m]; m++)
        assert_non_null (metrics[m] = fb_hist_new_default (&err));
    fb_wl_op_t op = {.metrics = metrics};
    assert_int_equal (wl->slots (wl_state, 0), 8);
    for (int i = 0; i < 8; i++) {
        op.seq = (uint64_t)i;
        assert_int_equal (wl->start (wl_state, &op, (uint64_t)i), 0);
    }
    fb_wl_done_t done[16];
    assert_int_equal (wl->poll (wl_state, 0, fb_clock_now_ns (), done, 16), 0); /* none yet */
    wl->cancel (wl_state, 0);
    int n = wl->poll (wl_state, 0, fb_clock_now_ns () + FB_NS_PER_S, done, 16);
    assert_int_equal (n, 8);
    uint32_t seen = 0;
    for (int k = 0; k < n; k++) {
        assert_int_equal (done[k].rc, -1);
        assert_true (done[k].tag < 8 && !(seen & (1u << done[k].tag)));
        seen |= 1u << done[k].tag;
    }
    assert_int_equal (wl->poll (wl_state, 0, fb_clock_now_ns (), done, 16), 0); /* no more */
    int64_t counters[FB_MAX_COUNTERS] = {0};
    fb_hist_t *none[FB_MAX_METRICS] = {NULL};
    wl->interval (wl_state, none, counters);
    assert_int_equal (counters[4], 0); /* a cancel is no failure of the system */
    fb_workload_teardown (wl, &wl_state);
    for (int m = 0; wl->metrics[m]; m++)
        fb_hist_destroy (&metrics[m]);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_three_hop_circuit_is_built_through_relays),
        cmocka_unit_test (test_hundred_streams_held_open_move_data_both_ways),
        cmocka_unit_test (test_hundred_calls_in_flight_from_one_thread_end_once_each),
        cmocka_unit_test (test_sendme_windows_carry_transfers_past_the_windows),
        cmocka_unit_test (test_bad_cells_end_only_their_circuit),
        cmocka_unit_test (test_relays_drop_unknown_cell_and_relay_commands),
        cmocka_unit_test (test_circuit_workload_builds_and_destroys),
        cmocka_unit_test (test_stream_workload_holds_its_streams),
        cmocka_unit_test (test_stream_workload_keeps_many_exchanges_in_flight_on_one_thread),
        cmocka_unit_test (test_stream_workload_cancel_hands_back_each_exchange_once),
        cmocka_unit_test (test_stream_workload_reopens_through_the_rebuilder_after_failures),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

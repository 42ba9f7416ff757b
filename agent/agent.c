/* agent.c: the agent's connection to its coordinator and the life of one run on it.
 * One thread owns the DEALER socket; the workloads run in a runner actor whose reports come
 * back over the actor's pipe, get a sequence number here and wait in `unacked` until the
 * coordinator's Ack. Anything unacked for a second is sent again; the coordinator drops
 * duplicates by (agent, run, seq). */
#include "agent/agent.h"

#include "agent/agent_store.h"
#include "agent/runner.h"
#include "common/clock.h"
#include "common/escape.h"
#include "common/keys.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define S_HELLO_EVERY_NS (1 * FB_NS_PER_S)
#define S_HEARTBEAT_EVERY_NS (1 * FB_NS_PER_S)
#define S_RESEND_AFTER_NS (1 * FB_NS_PER_S)
#define S_DEFAULT_HEARTBEAT_TIMEOUT_NS (5 * FB_NS_PER_S)
/* A coordinator that answered before and has been silent this long may have dropped our link
 * without ZeroMQ noticing (another agent took our id for a moment): connect again, once. */
#define S_RELINK_AFTER_NS (2500 * FB_NS_PER_MS)

typedef enum { S_IDLE, S_PLANNED, S_RUNNING, S_FINISHING } s_state_t;

typedef struct {
    uint64_t seq;
    uint8_t *bytes;
    size_t len;
    int64_t sent_ns;
} s_pending_t;

struct fb_agent {
    fb_agent_config_t config;
    zsock_t *dealer;
    fb_fingerprint_t fp;
    s_state_t state;
    fb_plan_t *plan;         /* the run we are in, NULL when idle */
    zactor_t *runner;        /* the workloads' thread while running */
    bool runner_done;        /* its DONE came: nothing more is in its pipe */
    bool abort;              /* atomic: asks the runner to stop */
    fb_agent_store_t *store; /* every report of this run, for the local results */
    zlistx_t *unacked;       /* s_pending_t, oldest first */
    uint64_t next_seq;
    fb_done_t done; /* filled when the runner ended */
    bool done_acked;
    int64_t last_coord_ns; /* last message from the coordinator */
    int64_t last_hello_ns, last_heartbeat_ns, last_done_ns;
    int64_t resent;
    bool runs_ended;   /* with once: time to leave */
    uint64_t instance; /* random: tells this process from another agent with our id */
    char refused[256]; /* the coordinator will never take us: why ("" otherwise) */
    bool relinked;     /* connected again in this silence already */
};

/* The runner actor: runs the plan's workloads one after the other. */
typedef struct {
    fb_plan_t *plan;
    int64_t start_ns;
    bool *abort;
    const fb_allow_t *allow;
} s_runner_args_t;

/* Sends a pointer to the agent's thread, which owns it from then on. A signal that lands on
 * this thread can break the send (EINTR): it is tried again, and a pointer that never left is
 * the sender's to free. */
static int s_send_ptr (zsock_t *pipe, const char *cmd, void *ptr) {
    for (int tries = 0; tries < 100; tries++)
        if (zsock_send (pipe, "sp", cmd, ptr) == 0)
            return 0;
    return -1;
}

static void s_sink (fb_msg_t **report_p, void *arg) {
    zsock_t *pipe = arg;
    if (s_send_ptr (pipe, "REPORT", *report_p) == 0)
        *report_p = NULL; /* the agent's thread owns it now */
    else
        fb_wire_msg_destroy (report_p);
}

static void s_runner_actor (zsock_t *pipe, void *arg) {
    s_runner_args_t *args = arg;
    zsock_signal (pipe, 0);
    int64_t started_ns = 0;
    char error[256] = "";
    int64_t at = args->start_ns; /* every workload at its planned instant, on every host */
    for (int i = 0; i < args->plan->n_workloads; i++) {
        if (__atomic_load_n (args->abort, __ATOMIC_RELAXED))
            break;
        const fb_plan_workload_t *w = &args->plan->workloads[i];
        fb_runner_args_t ra = {.run_id = args->plan->run_id,
                               .plan = w,
                               .index = i,
                               .start_ns = at > fb_clock_now_ns () ? at : 0,
                               .abort = args->abort,
                               .sink = s_sink,
                               .sink_arg = pipe,
                               .allow = args->allow};
        at += w->warmup_ns + w->duration_ns + FB_WORKLOAD_GAP_NS;
        fb_runner_result_t result = {0};
        fb_err_t err = {0};
        if (fb_runner_run (&ra, &result, &err) != 0) {
            snprintf (error, sizeof error, "%s", err.msg);
            break;
        }
        if (i == 0)
            started_ns = result.started_ns;
    }
    fb_done_t *done = calloc (1, sizeof *done);
    if (done) {
        snprintf (done->run_id, sizeof done->run_id, "%s", args->plan->run_id);
        done->started_ns = started_ns;
        done->aborted = __atomic_load_n (args->abort, __ATOMIC_RELAXED) || error[0];
        snprintf (done->reason, sizeof done->reason, "%.*s", (int)sizeof done->reason - 1, error);
    }
    if (s_send_ptr (pipe, "DONE", done) != 0) /* NULL done: out of memory, still done */
        free (done);
    free (args);
    while (!zsys_interrupted) { /* wait for $TERM */
        char *cmd = zstr_recv (pipe);
        bool term = !cmd || streq (cmd, "$TERM");
        zstr_free (&cmd);
        if (term)
            break;
    }
}

static void s_pending_destroy (void **item_p) {
    s_pending_t *p = *item_p;
    if (p) {
        free (p->bytes);
        free (p);
        *item_p = NULL;
    }
}

/* CURVE: our key pair, and the coordinator's public key: a coordinator without the matching
 * secret cannot complete the handshake, so no plan from anyone else ever arrives. */
static int s_apply_keys (fb_agent_t *self, fb_err_t *err) {
    if (!self->config.cert && !self->config.coordinator_key)
        return 0;
    if (!self->config.cert || !self->config.coordinator_key)
        return fb_err_set (err, FB_EINPUT, "CURVE needs both --cert and --coordinator-key");
    char server[41];
    zcert_t *cert = fb_keys_load_pair (self->config.cert, err);
    if (!cert || fb_keys_load_public (self->config.coordinator_key, server, err) != 0) {
        zcert_destroy (&cert);
        return -1;
    }
    zcert_apply (cert, self->dealer);
    zsock_set_curve_serverkey (self->dealer, server);
    zcert_destroy (&cert);
    return 0;
}

fb_agent_t *fb_agent_new (const fb_agent_config_t *config, fb_err_t *err) {
    fb_agent_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return NULL;
    }
    self->config = *config;
    fb_fingerprint_read (&self->fp);
    if (!self->config.id[0])
        snprintf (self->config.id, sizeof self->config.id, "%s", self->fp.hostname);
    if (!fb_escape_name_is_safe (self->config.id)) {
        char shown[200];
        fb_escape (self->config.id, shown, sizeof shown, FB_ESCAPE_TEXT);
        fb_err_set (err, FB_EINPUT,
                    "agent id \"%s\" is not allowed: it must be 1 to %d of A-Z a-z 0-9 _ . - "
                    "and not \".\" or \"..\" (give one with --id)",
                    shown, FB_NAME_MAX);
        free (self);
        return NULL;
    }
    if (getrandom (&self->instance, sizeof self->instance, 0) != sizeof self->instance)
        self->instance = (uint64_t)fb_clock_now_ns () ^ ((uint64_t)getpid () << 32);
    self->unacked = zlistx_new ();
    if (!self->unacked) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        fb_agent_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->unacked, s_pending_destroy);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer) {
        fb_err_set (err, FB_ESYS, "cannot create a ZeroMQ socket");
        fb_agent_destroy (&self);
        return NULL;
    }
    zsock_set_identity (self->dealer, self->config.id);
    zsock_set_immediate (self->dealer, 1); /* no queueing toward a peer that is not there */
    zsock_set_linger (self->dealer, 0);
    zsock_set_reconnect_ivl (self->dealer, 100);
    zsock_set_reconnect_ivl_max (self->dealer, 5000); /* backoff up to 5 s */
    zsock_set_maxmsgsize (self->dealer, FB_MAX_FRAME_BYTES);
    if (s_apply_keys (self, err) != 0) {
        fb_agent_destroy (&self);
        return NULL;
    }
    if (zsock_connect (self->dealer, "%s", self->config.coordinator) != 0) {
        fb_err_set (err, FB_EINPUT, "cannot connect to \"%s\": %s", self->config.coordinator,
                    zmq_strerror (zmq_errno ()));
        fb_agent_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_on_report (fb_agent_t *self, fb_msg_t *msg);

/* Takes what an aborted runner still sends, up to its DONE: its last reports join the store
 * (so they are kept), and no message holding a pointer is left in the pipe when it closes. */
static void s_drain_runner (fb_agent_t *self) {
    zsock_t *pipe = zactor_sock (self->runner);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    int64_t give_up = fb_clock_now_ns () + 30 * FB_NS_PER_S; /* workloads stop within 2 s */
    while (poller && !self->runner_done && fb_clock_now_ns () < give_up) {
        char *cmd = NULL;
        void *ptr = NULL;
        if (zpoller_wait (poller, 100) != pipe || zsock_recv (pipe, "sp", &cmd, &ptr) != 0)
            continue;
        if (streq (cmd, "REPORT")) {
            fb_msg_t *msg = ptr;
            if (self->store)
                s_on_report (self, msg);
            fb_wire_msg_destroy (&msg);
        } else {
            free (ptr); /* the DONE */
            self->runner_done = true;
        }
        zstr_free (&cmd);
    }
    zpoller_destroy (&poller);
}

/* Stops the runner and waits until its thread has closed its sockets. SIGINT and SIGTERM are
 * held back meanwhile: a signal that broke this wait (EINTR) would let us go on, and at exit
 * close the runner's sockets under a thread still using them (libzmq aborts on that). */
static void s_stop_runner (fb_agent_t *self) {
    if (self->runner) {
        __atomic_store_n (&self->abort, true, __ATOMIC_RELAXED);
        sigset_t stops, old;
        sigemptyset (&stops);
        sigaddset (&stops, SIGINT);
        sigaddset (&stops, SIGTERM);
        pthread_sigmask (SIG_BLOCK, &stops, &old);
        s_drain_runner (self);
        zactor_destroy (&self->runner);
        pthread_sigmask (SIG_SETMASK, &old, NULL);
    }
}

static void s_end_run (fb_agent_t *self) {
    s_stop_runner (self);
    free (self->plan);
    self->plan = NULL;
    fb_agent_store_destroy (&self->store);
    zlistx_purge (self->unacked);
    self->state = S_IDLE;
    if (self->config.once)
        self->runs_ended = true;
}

void fb_agent_destroy (fb_agent_t **self_p) {
    fb_agent_t *self = *self_p;
    if (!self)
        return;
    s_end_run (self);
    zlistx_destroy (&self->unacked);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

static void s_log (fb_agent_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void s_log (fb_agent_t *self, const char *fmt, ...) {
    if (self->config.quiet)
        return;
    /* Log lines quote what the coordinator sent: escaped as a whole, so nothing it says can
     * move the cursor or start a line of its own. */
    char line[1024], safe[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    fb_escape (line, safe, sizeof safe, FB_ESCAPE_TEXT);
    fprintf (stderr, "agent %s: %s\n", self->config.id, safe);
}

/* Sends without blocking: a message that cannot leave now is dropped (reports stay in
 * unacked and go again; hellos and heartbeats are sent every second anyway). */
static void s_send_bytes (fb_agent_t *self, const uint8_t *bytes, size_t len) {
    zmq_send (zsock_resolve (self->dealer), bytes, len, ZMQ_DONTWAIT);
}

static void s_send (fb_agent_t *self, const fb_msg_t *msg) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    if (fb_wire_pack (msg, &bytes, &len, &err) != 0) {
        s_log (self, "cannot pack %s: %s", fb_wire_msg_type_name (msg->type), err.msg);
        return;
    }
    s_send_bytes (self, bytes, len);
    free (bytes);
}

static void s_send_error (fb_agent_t *self, const char *run_id, int code, const char *text) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ERROR);
    if (!msg)
        return;
    snprintf (msg->u.error.run_id, sizeof msg->u.error.run_id, "%s", run_id ? run_id : "");
    msg->u.error.code = code;
    snprintf (msg->u.error.message, sizeof msg->u.error.message, "%s", text);
    s_send (self, msg);
    fb_wire_msg_destroy (&msg);
}

static void s_send_hello (fb_agent_t *self) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    if (!msg)
        return;
    fb_hello_t *h = &msg->u.hello;
    snprintf (h->agent_id, sizeof h->agent_id, "%s", self->config.id);
    h->n_labels = self->config.n_labels;
    memcpy (h->labels, self->config.labels, sizeof h->labels);
    h->fp = self->fp;
    h->instance = self->instance;
    s_send (self, msg);
    fb_wire_msg_destroy (&msg);
    self->last_hello_ns = fb_clock_now_ns ();
}

static void s_on_plan (fb_agent_t *self, const fb_plan_t *plan) {
    if (self->state != S_IDLE) {
        bool same = self->plan && streq (self->plan->run_id, plan->run_id);
        if (!same) {
            char text[200];
            snprintf (text, sizeof text, "agent %s is busy with run %s", self->config.id,
                      self->plan->run_id);
            s_send_error (self, plan->run_id, FB_ESTATE, text);
            s_log (self, "refused plan %s: busy with run %s", plan->run_id, self->plan->run_id);
        }
        return; /* a repeated plan of our run: Ready went already */
    }
    if (!fb_escape_name_is_safe (plan->run_id)) {
        /* It names the folder our results are kept in. */
        s_send_error (self, plan->run_id, FB_EINPUT,
                      "run id is not allowed: it must be 1 to 63 of A-Z a-z 0-9 _ . - and not "
                      "\".\" or \"..\"");
        s_log (self, "refused plan %s: its run id is not a safe name", plan->run_id);
        return;
    }
    for (int i = 0; i < plan->n_workloads; i++) {
        fb_params_t params;
        fb_err_t err = {0};
        if (fb_runner_check (&plan->workloads[i], self->config.allow, NULL, &params, &err) != 0) {
            s_send_error (self, plan->run_id, FB_EINPUT, err.msg);
            s_log (self, "refused plan %s: %s", plan->run_id, err.msg);
            return;
        }
    }
    self->plan = malloc (sizeof *self->plan);
    fb_err_t err = {0};
    self->store = fb_agent_store_new (plan, self->config.id, &err);
    if (!self->plan || !self->store) {
        s_send_error (self, plan->run_id, FB_ENOMEM, "agent out of memory for the plan");
        free (self->plan);
        self->plan = NULL;
        fb_agent_store_destroy (&self->store);
        return;
    }
    *self->plan = *plan;
    self->state = S_PLANNED;
    self->next_seq = 1;
    self->done_acked = false;
    memset (&self->done, 0, sizeof self->done);
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_READY);
    if (msg) {
        snprintf (msg->u.ready.run_id, sizeof msg->u.ready.run_id, "%s", plan->run_id);
        s_send (self, msg);
        fb_wire_msg_destroy (&msg);
    }
    s_log (self, "plan %s: %d workload(s), ready", plan->run_id, plan->n_workloads);
}

static void s_on_start (fb_agent_t *self, const fb_start_t *start) {
    if (self->state != S_PLANNED || !streq (start->run_id, self->plan->run_id))
        return; /* a repeated Start, or one for a run we do not have */
    s_runner_args_t *args = malloc (sizeof *args);
    if (!args) {
        s_send_error (self, start->run_id, FB_ENOMEM, "agent out of memory starting the run");
        return;
    }
    *args = (s_runner_args_t){.plan = self->plan,
                              .start_ns = start->start_ns,
                              .abort = &self->abort,
                              .allow = self->config.allow};
    __atomic_store_n (&self->abort, false, __ATOMIC_RELAXED);
    self->runner_done = false;
    self->runner = zactor_new (s_runner_actor, args);
    if (!self->runner) {
        free (args);
        s_send_error (self, start->run_id, FB_ESYS, "agent cannot start its runner thread");
        return;
    }
    self->state = S_RUNNING;
    int64_t in_ms = (start->start_ns - fb_clock_now_ns ()) / FB_NS_PER_MS;
    s_log (self, "run %s starts in %lld ms (clock offset %.3f ms, rtt %.3f ms)", start->run_id,
           (long long)in_ms, start->offset_ns / 1e6, start->rtt_ns / 1e6);
}

/* A report from the runner: number it, keep it until acked, send it. */
static void s_on_report (fb_agent_t *self, fb_msg_t *msg) {
    msg->u.report.seq = self->next_seq++;
    s_pending_t *p = calloc (1, sizeof *p);
    fb_err_t err = {0};
    if (!p || fb_wire_pack (msg, &p->bytes, &p->len, &err) != 0) {
        s_log (self, "lost report %llu: %s", (unsigned long long)msg->u.report.seq,
               p ? err.msg : "out of memory");
        free (p);
        return;
    }
    p->seq = msg->u.report.seq;
    p->sent_ns = fb_clock_now_ns ();
    zlistx_add_end (self->unacked, p);
    fb_agent_store_add (self->store, &msg->u.report);
    s_send_bytes (self, p->bytes, p->len);
}

static void s_send_done (fb_agent_t *self) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_DONE);
    if (!msg)
        return;
    msg->u.done = self->done;
    s_send (self, msg);
    fb_wire_msg_destroy (&msg);
    self->last_done_ns = fb_clock_now_ns ();
}

static void s_finish_if_complete (fb_agent_t *self) {
    if (self->state != S_FINISHING || !self->done_acked || zlistx_size (self->unacked) > 0)
        return;
    s_log (self, "run %s finished: %llu reports, %lld measured ops, %lld resent%s",
           self->plan->run_id, (unsigned long long)(self->next_seq - 1),
           (long long)fb_agent_store_measured_ops (self->store), (long long)self->resent,
           self->done.aborted ? " (aborted)" : "");
    s_end_run (self);
}

static void s_on_runner (fb_agent_t *self) {
    char *cmd = NULL;
    void *ptr = NULL;
    if (zsock_recv (self->runner, "sp", &cmd, &ptr) != 0)
        return;
    if (streq (cmd, "REPORT")) {
        fb_msg_t *msg = ptr;
        s_on_report (self, msg);
        fb_wire_msg_destroy (&msg);
    } else if (streq (cmd, "DONE")) {
        self->runner_done = true;
        fb_done_t *done = ptr;
        if (done)
            self->done = *done;
        else
            self->done.aborted = 1;
        free (done);
        snprintf (self->done.run_id, sizeof self->done.run_id, "%s", self->plan->run_id);
        self->done.last_seq = self->next_seq - 1;
        if (self->done.reason[0]) {
            s_send_error (self, self->plan->run_id, FB_EINPUT, self->done.reason);
            s_log (self, "run %s: %s", self->plan->run_id, self->done.reason);
        }
        s_stop_runner (self);
        self->state = S_FINISHING;
        s_send_done (self);
    }
    zstr_free (&cmd);
}

static void s_on_ack (fb_agent_t *self, const fb_ack_t *ack) {
    if (!self->plan || !streq (ack->run_id, self->plan->run_id))
        return;
    if (ack->seq == 0) { /* seq 0 acknowledges Done */
        self->done_acked = self->state == S_FINISHING;
        return;
    }
    for (s_pending_t *p = zlistx_first (self->unacked); p; p = zlistx_next (self->unacked))
        if (p->seq == ack->seq) {
            zlistx_delete (self->unacked, zlistx_cursor (self->unacked));
            break;
        }
}

static void s_on_heartbeat (fb_agent_t *self, const fb_heartbeat_t *hb) {
    if (hb->echo_ns != 0)
        return; /* an answer to ours: being alive is all it says */
    int64_t received = fb_clock_now_ns ();
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HEARTBEAT);
    if (!msg)
        return;
    msg->u.heartbeat.echo_ns = hb->sent_ns;
    msg->u.heartbeat.echo_recv_ns = received;
    msg->u.heartbeat.state = self->state;
    msg->u.heartbeat.sent_ns = fb_clock_now_ns ();
    s_send (self, msg);
    fb_wire_msg_destroy (&msg);
}

static void s_on_frame (fb_agent_t *self, zframe_t *frame) {
    fb_err_t err = {0};
    fb_msg_t *msg = fb_wire_unpack (zframe_data (frame), zframe_size (frame), &err);
    if (!msg) {
        s_log (self, "dropped a bad frame from the coordinator: %s", err.msg);
        s_send_error (self, NULL, FB_EINPUT, err.msg);
        return;
    }
    self->last_coord_ns = fb_clock_now_ns ();
    self->relinked = false;
    switch (msg->type) {
    case FB_MSG_PLAN:
        s_on_plan (self, &msg->u.plan);
        break;
    case FB_MSG_START:
        s_on_start (self, &msg->u.start);
        break;
    case FB_MSG_ACK:
        s_on_ack (self, &msg->u.ack);
        break;
    case FB_MSG_HEARTBEAT:
        s_on_heartbeat (self, &msg->u.heartbeat);
        break;
    case FB_MSG_ABORT:
        if (self->plan && streq (msg->u.abort.run_id, self->plan->run_id)) {
            s_log (self, "run %s aborted by the coordinator: %s", self->plan->run_id,
                   msg->u.abort.reason);
            if (self->state == S_RUNNING)
                __atomic_store_n (&self->abort, true, __ATOMIC_RELAXED);
            else
                s_end_run (self);
        }
        break;
    case FB_MSG_ERROR:
        if (msg->u.error.code == FB_EREFUSED && msg->u.error.instance == self->instance &&
            self->state == S_IDLE) {
            /* A bad or taken id: saying Hello again cannot help. */
            s_log (self, "refused by the coordinator: %s", msg->u.error.message);
            fb_escape (msg->u.error.message, self->refused, sizeof self->refused, FB_ESCAPE_TEXT);
        } else
            s_log (self, "coordinator says: %s", msg->u.error.message);
        break;
    default:
        s_send_error (self, NULL, FB_EINPUT, "agents do not take this message");
        break;
    }
    fb_wire_msg_destroy (&msg);
}

/* Stops the run and keeps what it measured in the state folder. */
static void s_keep_results (fb_agent_t *self) {
    s_stop_runner (self);
    char path[600];
    fb_err_t err = {0};
    if (fb_agent_store_write (self->store, self->config.state_dir, path, sizeof path, &err) == 0)
        s_log (self, "results of run %s kept in %s", self->plan->run_id, path);
    else
        s_log (self, "cannot keep the results of run %s: %s", self->plan->run_id, err.msg);
    s_end_run (self);
}

/* The coordinator has been silent past the heartbeat timeout: stop, keep what we have. */
static void s_coordinator_lost (fb_agent_t *self) {
    s_log (self, "coordinator silent for %.1f s: stopping run %s",
           (fb_clock_now_ns () - self->last_coord_ns) / 1e9, self->plan->run_id);
    s_keep_results (self);
}

static bool s_stopping (const fb_agent_t *self) {
    return zsys_interrupted || (self->config.stop && *self->config.stop);
}

static void s_relink (fb_agent_t *self, int64_t now) {
    if (self->relinked || self->last_coord_ns == 0 || now - self->last_coord_ns < S_RELINK_AFTER_NS)
        return;
    self->relinked = true;
    s_log (self, "no word from the coordinator for %.1f s: connecting again",
           (now - self->last_coord_ns) / 1e9);
    zsock_disconnect (self->dealer, "%s", self->config.coordinator);
    if (zsock_connect (self->dealer, "%s", self->config.coordinator) != 0)
        s_log (self, "cannot connect to %s: %s", self->config.coordinator,
               zmq_strerror (zmq_errno ()));
}

static void s_timers (fb_agent_t *self) {
    int64_t now = fb_clock_now_ns ();
    s_relink (self, now);
    int64_t timeout = self->plan && self->plan->heartbeat_timeout_ns > 0
                          ? self->plan->heartbeat_timeout_ns
                          : S_DEFAULT_HEARTBEAT_TIMEOUT_NS;
    if (self->state == S_IDLE) {
        if (now - self->last_hello_ns >= S_HELLO_EVERY_NS)
            s_send_hello (self);
        return;
    }
    if (now - self->last_coord_ns > timeout) {
        s_coordinator_lost (self);
        return;
    }
    if (now - self->last_heartbeat_ns >= S_HEARTBEAT_EVERY_NS) {
        fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HEARTBEAT);
        if (msg) {
            msg->u.heartbeat.sent_ns = now;
            msg->u.heartbeat.state = self->state;
            s_send (self, msg);
            fb_wire_msg_destroy (&msg);
        }
        self->last_heartbeat_ns = now;
    }
    for (s_pending_t *p = zlistx_first (self->unacked); p; p = zlistx_next (self->unacked))
        if (now - p->sent_ns >= S_RESEND_AFTER_NS) {
            s_send_bytes (self, p->bytes, p->len);
            p->sent_ns = now;
            self->resent++;
        }
    if (self->state == S_FINISHING && !self->done_acked &&
        now - self->last_done_ns >= S_RESEND_AFTER_NS)
        s_send_done (self);
}

int fb_agent_run (fb_agent_t *self, fb_err_t *err) {
    s_log (self, "connecting to %s", self->config.coordinator);
    s_send_hello (self);
    while (!s_stopping (self) && !self->runs_ended && !self->refused[0]) {
        zpoller_t *poller = zpoller_new (self->dealer, NULL);
        if (!poller)
            return fb_err_set (err, FB_ENOMEM, "out of memory");
        if (self->runner)
            zpoller_add (poller, self->runner);
        void *which = zpoller_wait (poller, 100);
        zpoller_destroy (&poller);
        if (which == self->dealer) {
            zframe_t *frame = zframe_recv (self->dealer);
            if (frame)
                s_on_frame (self, frame);
            zframe_destroy (&frame);
        } else if (which && which == self->runner)
            s_on_runner (self);
        s_timers (self);
        s_finish_if_complete (self);
    }
    if (self->state != S_IDLE) {
        s_log (self, "interrupted: stopping run %s", self->plan->run_id);
        s_keep_results (self);
    }
    if (self->refused[0])
        return fb_err_set (err, FB_EREFUSED, "refused by the coordinator: %s", self->refused);
    return 0;
}

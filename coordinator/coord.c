/* coord.c: the coordinator's run loop. One thread, one ROUTER socket, a phase machine:
 * JOIN (agents say Hello) -> PLAN (each gets the Plan, answers Ready) -> SYNC (ping rounds
 * estimate each agent's clock offset) -> RUN (shared start, Reports acked and merged,
 * heartbeats, lost hosts) -> END (verdicts, results). */
#include "coordinator/coord.h"

#include "common/clock.h"
#include "common/endpoint.h"
#include "common/escape.h"
#include "common/keys.h"
#include "common/merge.h"
#include "coordinator/abort.h"
#include "coordinator/auth.h"
#include "coordinator/local.h"
#include "coordinator/metrics.h"
#include "coordinator/progress.h"
#include "coordinator/report.h"
#include "coordinator/results.h"
#include "coordinator/run.h"
#include "coordinator/verdict.h"
#include "workloads/workload.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

#define S_PLAN_TIMEOUT_NS (15 * FB_NS_PER_S)
#define S_SYNC_ROUNDS 5
#define S_SYNC_TIMEOUT_NS (3 * FB_NS_PER_S)
#define S_AUTO_LOCAL_AFTER_NS (1 * FB_NS_PER_S)
/* Refused frames (undecodable, a bad agent id): this many are logged one by one, the rest as
 * one count per second, so a flood can neither fill the disk nor bury the run's own lines. */
#define S_REFUSALS_LOGGED 10
/* A second agent saying Hello with a held id is a duplicate while the holder was heard from
 * this recently (agents say something every second); after that the holder is gone and the
 * newcomer is taken as its restart. */
#define S_HOLDER_ALIVE_NS (3 * FB_NS_PER_S)

typedef enum { S_JOIN, S_PLAN, S_SYNC, S_RUN, S_END } s_phase_t;
static const char *const s_phase_names[] = {"join", "plan", "sync", "run", "end"};

typedef struct {
    fb_run_t *run;
    const fb_coord_opts_t *opts;
    zsock_t *router;
    char connect_endpoint[300]; /* what local agents connect to */
    char bound[300];            /* the endpoint bound, with the port the system chose */
    s_phase_t phase;
    int64_t phase_started_ns;
    int64_t run_deadline_ns;
    int64_t last_heartbeat_ns, last_progress_ns, last_plan_ns;
    fb_local_t *local;
    zcert_t *cert;  /* CURVE: ours */
    zactor_t *auth; /* CURVE: the gatekeeper of agent keys */
    fb_progress_t *progress;
    fb_metrics_t *metrics; /* --metrics: NULL without */
    fb_err_t *err;
    int64_t refusals;          /* refused frames in this run */
    int64_t refusals_unlogged; /* of them, not yet in a log line */
    int64_t refusals_logged_ns;
    char refused_last[160]; /* the peer of the last one not logged */
} s_coord_t;

static void s_log (s_coord_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void s_log (s_coord_t *self, const char *fmt, ...) {
    va_list ap;
    va_start (ap, fmt);
    fb_progress_log (self->progress, fmt, ap);
    va_end (ap);
}

/* To a routing id as ZeroMQ gave it (any bytes: a peer without an id of its own gets 5). */
static void s_send_to (s_coord_t *self, const void *rid, size_t rid_len, const fb_msg_t *msg) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    if (fb_wire_pack (msg, &bytes, &len, &err) != 0) {
        s_log (self, "cannot pack %s: %s", fb_wire_msg_type_name (msg->type), err.msg);
        return;
    }
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addmem (zmsg, rid, rid_len);
    zmsg_addmem (zmsg, bytes, len);
    free (bytes);
    zmsg_send (&zmsg, self->router); /* to a peer gone away: dropped, which is fine */
}

static void s_send (s_coord_t *self, const char *id, const fb_msg_t *msg) {
    s_send_to (self, id, strlen (id), msg);
}

static void s_send_new (s_coord_t *self, const char *id, fb_msg_t **msg_p) {
    if (*msg_p)
        s_send (self, id, *msg_p);
    fb_wire_msg_destroy (msg_p);
}

static void s_send_error_to (s_coord_t *self, zframe_t *rid, int code, const char *text,
                             uint64_t instance) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ERROR);
    if (!msg)
        return;
    snprintf (msg->u.error.run_id, sizeof msg->u.error.run_id, "%s", self->run->run_id);
    msg->u.error.code = code;
    msg->u.error.instance = instance;
    snprintf (msg->u.error.message, sizeof msg->u.error.message, "%s", text);
    s_send_to (self, zframe_data (rid), zframe_size (rid), msg);
    fb_wire_msg_destroy (&msg);
}

static void s_send_error (s_coord_t *self, const char *id, int code, const char *text) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ERROR);
    if (!msg)
        return;
    snprintf (msg->u.error.run_id, sizeof msg->u.error.run_id, "%s", self->run->run_id);
    msg->u.error.code = code;
    snprintf (msg->u.error.message, sizeof msg->u.error.message, "%s", text);
    s_send_new (self, id, &msg);
}

static void s_send_ack (s_coord_t *self, fb_host_t *host, uint64_t seq) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ACK);
    if (!msg)
        return;
    snprintf (msg->u.ack.run_id, sizeof msg->u.ack.run_id, "%s", self->run->run_id);
    msg->u.ack.seq = seq;
    s_send_new (self, host->id, &msg);
}

/* Answers a Hello we took (seq 0, no run): the agent knows its link works. */
static void s_ack_hello (s_coord_t *self, const char *id) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ACK);
    if (msg)
        s_send_new (self, id, &msg);
}

static void s_send_abort (s_coord_t *self, fb_host_t *host, const char *reason) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ABORT);
    if (!msg)
        return;
    snprintf (msg->u.abort.run_id, sizeof msg->u.abort.run_id, "%s", self->run->run_id);
    snprintf (msg->u.abort.reason, sizeof msg->u.abort.reason, "%s", reason);
    s_send_new (self, host->id, &msg);
}

static bool s_active (const fb_host_t *host) {
    return host->state != FB_HOST_LOST && host->state != FB_HOST_FAILED;
}

static void s_set_phase (s_coord_t *self, s_phase_t phase) {
    self->phase = phase;
    self->phase_started_ns = fb_clock_now_ns ();
}

/* Ends the run early with an exit code and a sentence. */
static void s_give_up (s_coord_t *self, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_give_up (s_coord_t *self, int code, const char *fmt, ...) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->run->outcome, sizeof self->run->outcome, fmt, ap);
    va_end (ap);
    self->run->exit_code = code;
    for (int i = 0; i < self->run->n_hosts; i++)
        if (s_active (self->run->hosts[i]))
            s_send_abort (self, self->run->hosts[i], self->run->outcome);
    s_set_phase (self, S_END);
}

/* An agent's value for a label key: its own --label, else its fingerprint (arch, hostname). */
static const char *s_label_value (const fb_hello_t *hello, const char *key) {
    for (int i = 0; i < hello->n_labels; i++)
        if (streq (hello->labels[i].key, key))
            return hello->labels[i].value;
    if (streq (key, "arch"))
        return hello->fp.arch;
    if (streq (key, "hostname"))
        return hello->fp.hostname;
    if (streq (key, "board"))
        return hello->fp.board;
    return NULL;
}

static bool s_labels_match (const fb_scenario_t *sc, const fb_hello_t *hello, char *why,
                            size_t size) {
    for (int l = 0; l < sc->n_labels; l++) {
        const fb_label_match_t *m = &sc->labels[l];
        const char *value = s_label_value (hello, m->key);
        for (int v = 0; value && v < m->n_values; v++)
            if (streq (value, m->values[v]))
                goto next;
        snprintf (why, size, "label %s is \"%s\", the scenario wants %s%s", m->key,
                  value ? value : "(unset)", m->values[0],
                  m->n_values > 1 ? " or another listed" : "");
        return false;
    next:;
    }
    return true;
}

/* Every string of a Hello comes from the network: made safe once, before anything shows it. */
static void s_escape_hello (fb_hello_t *hello) {
    for (int i = 0; i < hello->n_labels; i++) {
        fb_escape_in_place (hello->labels[i].key, sizeof hello->labels[i].key);
        fb_escape_in_place (hello->labels[i].value, sizeof hello->labels[i].value);
    }
    fb_fingerprint_t *fp = &hello->fp;
    char *fields[] = {fp->hostname, fp->arch,      fp->cpu_model, fp->kernel,
                      fp->libc,     fp->openssl,   fp->build,     fp->clocksource,
                      fp->board,    fp->cpu_flags, fp->throttling};
    size_t sizes[] = {sizeof fp->hostname,  sizeof fp->arch,        sizeof fp->cpu_model,
                      sizeof fp->kernel,    sizeof fp->libc,        sizeof fp->openssl,
                      sizeof fp->build,     sizeof fp->clocksource, sizeof fp->board,
                      sizeof fp->cpu_flags, sizeof fp->throttling};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        fb_escape_in_place (fields[i], sizes[i]);
}

/* A Hello with an id a live agent already holds: the newcomer is told who holds it. */
static bool s_refuse_duplicate (s_coord_t *self, fb_host_t *host, const fb_hello_t *hello,
                                zframe_t *rid, const char *address, int64_t now) {
    if (hello->instance == host->hello.instance || now - host->last_seen_ns > S_HOLDER_ALIVE_NS)
        return false;
    char why[256];
    snprintf (why, sizeof why,
              "agent id \"%s\" is already taken by the agent at %s (host %s) in run %s: give "
              "each agent its own --id",
              host->id, host->address, host->hello.fp.hostname, self->run->run_id);
    s_send_error_to (self, rid, FB_EREFUSED, why, hello->instance);
    s_log (self, "refused a second agent with id %s from %s: the agent at %s holds it", host->id,
           address, host->address);
    return true;
}

static void s_on_hello (s_coord_t *self, const char *id, fb_hello_t *hello, zframe_t *rid,
                        const char *address, int64_t now) {
    fb_run_t *run = self->run;
    fb_host_t *host = fb_run_find_host (run, id);
    s_escape_hello (hello);
    if (host) {
        if (s_refuse_duplicate (self, host, hello, rid, address, now))
            return;
        if (hello->instance != host->hello.instance && self->phase != S_RUN) {
            host->hello = *hello; /* restarted before the run: the same host, a new process */
            snprintf (host->address, sizeof host->address, "%s", address);
        }
        host->last_seen_ns = now;
        s_ack_hello (self, id);
        bool finished = host->done_received && hello->instance == host->hello.instance;
        if (host->state == FB_HOST_RUNNING && self->phase == S_RUN && !finished) {
            /* An agent that says Hello again has lost its run (restarted, or gave it up); one
             * that said Done is idle again, and its Hello may come before we mark it done. */
            host->state = FB_HOST_LOST;
            host->lost_wall_ns = fb_clock_wall_ns ();
            snprintf (host->problem, sizeof host->problem, "agent restarted during the run");
            s_log (self, "host %s restarted during the run: counted as lost", id);
        }
        return;
    }
    char why[200];
    if (!streq (hello->agent_id, id)) {
        snprintf (why, sizeof why, "Hello says agent id \"%s\" but the routing id is \"%s\"",
                  hello->agent_id, id);
        s_send_error (self, id, FB_EINPUT, why);
        return;
    }
    if (self->phase != S_JOIN || run->n_hosts >= run->expected_hosts) {
        snprintf (why, sizeof why, "run %s already has its %d agent(s); try the next run",
                  run->run_id, run->expected_hosts);
        s_send_error (self, id, FB_ESTATE, why);
        return;
    }
    if (!s_labels_match (run->sc, hello, why, sizeof why)) {
        s_send_error (self, id, FB_EINPUT, why);
        s_log (self, "agent %s does not match: %s", id, why);
        return;
    }
    fb_err_t err = {0};
    if (!(host = fb_run_add_host (run, id, &err))) {
        s_log (self, "agent %s not taken: %s", id, err.msg);
        return;
    }
    snprintf (host->address, sizeof host->address, "%s", address);
    host->hello = *hello;
    host->last_seen_ns = fb_clock_now_ns ();
    s_ack_hello (self, id);
    s_log (self, "agent %s joined from %s (%s, %s, %d cores) [%d/%d]", id, address, hello->fp.arch,
           hello->fp.cpu_model, hello->fp.cores, run->n_hosts, run->expected_hosts);
}

/* Local agents; under CURVE each gets a key pair made for this run, allowed for this run. */
static int s_start_local (s_coord_t *self, int n, fb_err_t *err) {
    char agents_dir[600], coordinator_key[600];
    snprintf (agents_dir, sizeof agents_dir, "%s/agents", self->run->dir);
    snprintf (coordinator_key, sizeof coordinator_key, "%s/coordinator.key", self->opts->keys);
    if (self->auth) {
        if (fb_files_mkdirs (agents_dir, err) != 0)
            return -1;
        for (int i = 1; i <= n; i++) {
            char name[32], public_txt[41];
            snprintf (name, sizeof name, "local-%d", i);
            if (fb_keys_generate (agents_dir, name, public_txt, err) != 0)
                return -1;
            fb_auth_allow (self->auth, public_txt);
        }
    }
    self->local =
        fb_local_start (self->opts->agent_path, self->opts->local_allow, self->connect_endpoint, n,
                        self->run->dir, self->auth ? coordinator_key : NULL, err);
    return self->local ? 0 : -1;
}

static void s_join (s_coord_t *self, int64_t now) {
    fb_run_t *run = self->run;
    if (run->n_hosts >= run->expected_hosts) {
        s_set_phase (self, S_PLAN);
        return;
    }
    if (self->opts->local < 0 && !self->local && run->n_hosts == 0 &&
        now - self->phase_started_ns >= S_AUTO_LOCAL_AFTER_NS) {
        int n = run->expected_hosts;
        s_log (self, "no agent joined in 1 s: starting %d local agent(s)", n);
        fb_err_t err = {0};
        if (s_start_local (self, n, &err) != 0)
            s_give_up (self, 3, "cannot start local agents: %s", err.msg);
        return;
    }
    int code = 0, gone = self->local ? fb_local_exited (self->local, &code) : 0;
    if (gone) /* 2: it refused its command line or --allow file (bad input, as ours) */
        s_give_up (self, code == 2 ? 2 : 3,
                   "local agent local-%d exited with %d while the run waited for agents: see "
                   "%s/agents/local-%d.log",
                   gone, code, run->dir, gone);
    else if (now - self->phase_started_ns > run->sc->join_timeout_ns)
        s_give_up (self, 3, "only %d of %d agent(s) joined within %.0f s", run->n_hosts,
                   run->expected_hosts, run->sc->join_timeout_ns / 1e9);
}

static void s_plan (s_coord_t *self, int64_t now) {
    fb_run_t *run = self->run;
    int ready = fb_run_count_hosts (run, FB_HOST_READY);
    if (ready == run->n_hosts) {
        s_set_phase (self, S_SYNC);
        return;
    }
    if (now - self->phase_started_ns > S_PLAN_TIMEOUT_NS) {
        s_give_up (self, 3, "%d of %d agent(s) did not accept the plan within %.0f s",
                   run->n_hosts - ready, run->n_hosts, S_PLAN_TIMEOUT_NS / 1e9);
        return;
    }
    if (now - self->last_plan_ns < FB_NS_PER_S)
        return;
    self->last_plan_ns = now; /* (re)send to whoever has not answered: agents take it once */
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_PLAN);
    if (!msg)
        return;
    fb_scenario_to_plan (run->sc, run->run_id, &msg->u.plan);
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        if (host->state == FB_HOST_JOINED || host->state == FB_HOST_PLANNED) {
            host->state = FB_HOST_PLANNED;
            for (int w = 0; w < msg->u.plan.n_workloads; w++) /* each host its own arrivals */
                msg->u.plan.workloads[w].seed = fb_shape_host_seed (
                    fb_shape_seed (&run->sc->workloads[w].shape, run->run_id, w), host->id);
            s_send (self, host->id, msg);
        }
    }
    fb_wire_msg_destroy (&msg);
}

static void s_ping (s_coord_t *self, fb_host_t *host, int64_t now) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HEARTBEAT);
    if (!msg)
        return;
    msg->u.heartbeat.sent_ns = now;
    host->ping_sent_ns = now;
    s_send_new (self, host->id, &msg);
}

/* Ping rounds one after the other per host; then one start instant for all. */
static void s_sync (s_coord_t *self, int64_t now) {
    fb_run_t *run = self->run;
    bool all = true;
    int64_t max_rtt = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        if (host->pings_answered < S_SYNC_ROUNDS) {
            all = false;
            if (now - host->ping_sent_ns > 200 * FB_NS_PER_MS)
                s_ping (self, host, now); /* first round, or an answer lost */
        } else if (host->rtt_ns > max_rtt)
            max_rtt = host->rtt_ns;
    }
    bool late = now - self->phase_started_ns > S_SYNC_TIMEOUT_NS;
    if (!all && !late)
        return;
    for (int i = 0; i < run->n_hosts; i++)
        if (run->hosts[i]->pings_answered == 0) {
            s_give_up (self, 3, "agent %s did not answer clock pings", run->hosts[i]->id);
            return;
        }
    /* Far enough ahead that the Start reaches everyone, and each agent sets up its first
     * workload (threads, relays, servers), before the instant. */
    int64_t lead = 3 * max_rtt > FB_NS_PER_S ? 3 * max_rtt : FB_NS_PER_S;
    run->start_coord_ns = now + lead;
    run->start_wall_ns = fb_clock_wall_ns () + lead;
    int64_t total = fb_scenario_total_ns (run->sc, FB_WORKLOAD_GAP_NS);
    /* A safety net for agents that heartbeat but never finish; every workload may also spend
     * up to two minutes in setup (a private tor network bootstraps in about one). The scenario
     * bounds every duration, so this fits; checked all the same, saturating. */
    int64_t slack = 2 * run->sc->heartbeat_timeout_ns +
                    (30 + 120 * (int64_t)run->sc->n_workloads) * FB_NS_PER_S;
    if (__builtin_add_overflow (run->start_coord_ns, total, &self->run_deadline_ns) ||
        __builtin_add_overflow (self->run_deadline_ns, slack, &self->run_deadline_ns))
        self->run_deadline_ns = INT64_MAX;
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        fb_msg_t *msg = fb_wire_msg_new (FB_MSG_START);
        if (!msg)
            continue;
        fb_start_t *s = &msg->u.start;
        snprintf (s->run_id, sizeof s->run_id, "%s", run->run_id);
        s->coord_start_ns = run->start_coord_ns;
        s->offset_ns = host->offset_ns;
        s->rtt_ns = host->rtt_ns;
        s->start_ns = run->start_coord_ns + host->offset_ns;
        s_send_new (self, host->id, &msg);
        host->state = FB_HOST_RUNNING;
        host->last_seen_ns = now;
    }
    fb_progress_start (self->progress, run->start_coord_ns, total);
    s_log (self, "run %s: %d host(s) start together in %.0f ms", run->run_id, run->n_hosts,
           lead / 1e6);
    s_set_phase (self, S_RUN);
}

static void s_on_heartbeat (s_coord_t *self, fb_host_t *host, const fb_heartbeat_t *hb,
                            int64_t now) {
    if (hb->echo_ns == 0) {
        /* The agent's own heartbeat: answered so that it knows we are here. */
        fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HEARTBEAT);
        if (msg) {
            msg->u.heartbeat.sent_ns = now;
            msg->u.heartbeat.echo_ns = hb->sent_ns;
            msg->u.heartbeat.echo_recv_ns = now;
            s_send_new (self, host->id, &msg);
        }
        return;
    }
    if (self->phase != S_SYNC)
        return; /* the offset the host started by stays the one reported and used for skew */
    /* NTP: t0 sent, t1 agent received, t2 agent answered, t3 we received. */
    int64_t t0 = hb->echo_ns, t1 = hb->echo_recv_ns, t2 = hb->sent_ns, t3 = now;
    int64_t rtt = (t3 - t0) - (t2 - t1);
    if (t0 != host->ping_sent_ns || rtt < 0)
        return; /* not our last ping, or nonsense */
    host->pings_answered++;
    host->ping_sent_ns = 0;
    if (rtt < host->rtt_ns) {
        host->rtt_ns = rtt;
        host->offset_ns = ((t1 - t0) + (t2 - t3)) / 2;
    }
}

/* Marks seq seen; false when it was seen before. */
static bool s_mark_seen (fb_host_t *host, uint64_t seq) {
    if (seq >= host->seen_bits) {
        uint64_t bits = host->seen_bits ? host->seen_bits : 1024;
        while (bits <= seq)
            bits *= 2;
        uint8_t *seen = realloc (host->seen, bits / 8);
        if (!seen)
            return false;
        memset (seen + host->seen_bits / 8, 0, (bits - host->seen_bits) / 8);
        host->seen = seen;
        host->seen_bits = bits;
    }
    uint8_t bit = (uint8_t)(1u << (seq % 8));
    if (host->seen[seq / 8] & bit)
        return false;
    host->seen[seq / 8] |= bit;
    return true;
}

typedef struct {
    s_coord_t *self;
    fb_host_t *host;
    const fb_report_t *report;
} s_hlog_ctx_t;

static void s_hlog_metric (const char *name, const fb_hist_compact_t *hist, const uint8_t *bytes,
                           size_t len, void *arg) {
    s_hlog_ctx_t *ctx = arg;
    fb_err_t err = {0};
    if (fb_results_hlog_metric (ctx->self->run, ctx->host, ctx->report, name, hist, bytes, len,
                                &err) != 0)
        s_log (ctx->self, "results not saved: %s; the run goes on and will exit 3", err.msg);
    fb_run_sample_metric (ctx->self->run, ctx->host, ctx->report->workload,
                          ctx->report->wall_start_ns, name, hist);
}

/* An abort_on_fail target failed: every host is told to stop; their last reports and Done
 * still come in, and the run ends as any other, judged on what was measured. */
static void s_stop_early (s_coord_t *self) {
    s_log (self, "stopping the run early: %s", self->run->stop.reason);
    for (int i = 0; i < self->run->n_hosts; i++)
        if (s_active (self->run->hosts[i]))
            s_send_abort (self, self->run->hosts[i], self->run->stop.reason);
}

static void s_on_report (s_coord_t *self, fb_host_t *host, const fb_report_t *r) {
    fb_run_t *run = self->run;
    if (!streq (r->run_id, run->run_id) || r->seq == 0 || r->workload < 0 ||
        r->workload >= run->sc->n_workloads || !s_active (host))
        return;
    if (!s_mark_seen (host, r->seq)) {
        host->duplicates++;
        s_send_ack (self, host, r->seq); /* our first Ack was lost: say it again */
        return;
    }
    host->reports++;
    if (r->workload != host->workload_now) { /* that workload has ended */
        fb_stats_pack (&host->stats[host->workload_now], NULL);
        fb_run_host_spill (run, host, host->workload_now);
    }
    host->workload_now = r->workload;
    if (r->phase == FB_PHASE_MEASURE) {
        fb_err_t err = {0};
        const fb_scenario_workload_t *sw = &run->sc->workloads[r->workload];
        s_hlog_ctx_t ctx = {self, host, r};
        if (fb_merge_report (&host->stats[r->workload], r, fb_workload_counter_kind, sw->wl,
                             s_hlog_metric, &ctx, &err) != 0)
            s_log (self, "host %s: report %llu: %s", host->id, (unsigned long long)r->seq, err.msg);
        fb_err_t herr = {0};
        if (fb_results_hlog_pause (run, host, r->workload, &herr) != 0)
            s_log (self, "results not saved: %s; the run goes on and will exit 3", herr.msg);
        /* The measured window is what the host's reports cover: from the measured start to
         * the planned end, or to its last operation's end when that was later. */
        host->stats[r->workload].measured_ns += r->end_ns - r->start_ns;
        if (!run->stop.stopped && fb_abort_check (run, r->workload, host, fb_clock_now_ns ()))
            s_stop_early (self);
        fb_metrics_changed (self->metrics);
    }
    int64_t ops = 0, errors = 0;
    for (int c = 0; c < r->n_counters; c++)
        if (streq (r->counters[c].name, "ops"))
            ops = r->counters[c].value;
        else if (streq (r->counters[c].name, "errors"))
            errors = r->counters[c].value;
    if (r->phase == FB_PHASE_MEASURE)
        fb_run_sample_counts (run, host, r->workload, r->wall_start_ns, ops, errors,
                              r->end_ns - r->start_ns);
    if (r->phase == FB_PHASE_MEASURE && r->target_rate_per_s > 0)
        fb_run_sample_target (run, host, r->workload, r->wall_start_ns, r->target_rate_per_s);
    if (r->phase != FB_PHASE_MEASURE)
        host->warmup_ops[r->workload] += ops;
    host->warming_up = r->phase != FB_PHASE_MEASURE;
    host->interval_ops = ops;
    host->interval_s = (r->end_ns - r->start_ns) / 1e9;
    s_send_ack (self, host, r->seq);
}

static bool s_host_complete (const fb_host_t *host) {
    if (!host->done_received)
        return false;
    for (uint64_t s = 1; s <= host->done.last_seq; s++)
        if (s >= host->seen_bits || !(host->seen[s / 8] & (1u << (s % 8))))
            return false;
    return true;
}

static void s_on_done (s_coord_t *self, fb_host_t *host, const fb_done_t *done) {
    fb_run_t *run = self->run;
    if (!streq (done->run_id, run->run_id) || !s_active (host))
        return;
    if (!host->done_received) {
        host->done_received = true;
        host->done = *done;
        /* Its start in our clock, against the shared instant. */
        host->start_skew_ns = (done->started_ns - host->offset_ns) - run->start_coord_ns;
    }
    s_send_ack (self, host, 0);
}

static void s_on_error (s_coord_t *self, fb_host_t *host, const fb_error_msg_t *e) {
    if (!host || !streq (e->run_id, self->run->run_id)) {
        s_log (self, "agent %s says: %s", host ? host->id : "?", e->message);
        return;
    }
    if (self->phase == S_PLAN && e->code == FB_EINPUT) {
        char text[256];
        fb_escape (e->message, text, sizeof text, FB_ESCAPE_TEXT);
        s_give_up (self, 2, "agent %s refused the plan: %s", host->id, text);
        return;
    }
    if (!s_active (host))
        return;
    host->state = FB_HOST_FAILED;
    host->lost_wall_ns = fb_clock_wall_ns ();
    fb_escape (e->message, host->problem, sizeof host->problem, FB_ESCAPE_TEXT);
    s_log (self, "host %s failed: %s", host->id, host->problem);
}

static void s_dispatch (s_coord_t *self, const char *id, fb_msg_t *msg, zframe_t *rid,
                        const char *address, int64_t now) {
    if (msg->type == FB_MSG_HELLO) {
        s_on_hello (self, id, &msg->u.hello, rid, address, now);
        return;
    }
    fb_host_t *host = fb_run_find_host (self->run, id);
    if (!host) {
        if (msg->type != FB_MSG_HEARTBEAT && msg->type != FB_MSG_ERROR)
            s_send_error (self, id, FB_ESTATE, "unknown agent: say Hello first");
        return;
    }
    host->last_seen_ns = now;
    switch (msg->type) {
    case FB_MSG_READY:
        if (host->state == FB_HOST_PLANNED && streq (msg->u.ready.run_id, self->run->run_id))
            host->state = FB_HOST_READY;
        break;
    case FB_MSG_HEARTBEAT:
        s_on_heartbeat (self, host, &msg->u.heartbeat, now);
        break;
    case FB_MSG_REPORT:
        s_on_report (self, host, &msg->u.report);
        break;
    case FB_MSG_DONE:
        s_on_done (self, host, &msg->u.done);
        break;
    case FB_MSG_ERROR:
        s_on_error (self, host, &msg->u.error);
        break;
    default:
        s_send_error (self, id, FB_EINPUT, "the coordinator does not take this message");
        break;
    }
}

/* "agent a1 at 127.0.0.1", or for a routing id that is no agent id its bytes in hex. */
static void s_peer_name (zframe_t *rid, const char *address, char *out, size_t size) {
    char id[80] = "";
    size_t len = zframe_size (rid);
    const uint8_t *data = zframe_data (rid);
    if (len <= FB_NAME_MAX && memchr (data, 0, len) == NULL) {
        memcpy (id, data, len);
        id[len] = '\0';
    }
    if (id[0] && fb_escape_name_is_safe (id)) {
        snprintf (out, size, "agent %s at %s", id, address);
        return;
    }
    int n = snprintf (out, size, "routing id 0x");
    for (size_t i = 0; i < len && i < 16 && n + 3 < (int)size; i++)
        n += snprintf (out + n, size - (size_t)n, "%02x", data[i]);
    snprintf (out + n, size - (size_t)n, "%s at %s", len > 16 ? "..." : "", address);
}

/* Says how many refusals went unlogged since the last line, at most once a second. */
static void s_log_refusals (s_coord_t *self, int64_t now, bool final) {
    if (self->refusals_unlogged == 0 || (!final && now - self->refusals_logged_ns < FB_NS_PER_S))
        return;
    s_log (self, "refused %lld more bad frame(s) in the last %.1f s (the last from %s)",
           (long long)self->refusals_unlogged, (now - self->refusals_logged_ns) / 1e9,
           self->refused_last);
    self->refusals_unlogged = 0;
    self->refusals_logged_ns = now;
}

/* A frame we will not take: the peer gets an Error (its routing id may be any bytes), the
 * log gets the first few and then a count per second. */
static void s_refuse (s_coord_t *self, zframe_t *rid, const char *address, int code,
                      const char *why, uint64_t instance, int64_t now) {
    s_send_error_to (self, rid, code, why, instance);
    char peer[160];
    s_peer_name (rid, address, peer, sizeof peer);
    if (++self->refusals <= S_REFUSALS_LOGGED) {
        s_log (self, "dropped a bad frame from %s: %s%s", peer, why,
               self->refusals == S_REFUSALS_LOGGED ? " (more are counted once a second)" : "");
        self->refusals_logged_ns = now;
        return;
    }
    self->refusals_unlogged++;
    snprintf (self->refused_last, sizeof self->refused_last, "%s", peer);
    s_log_refusals (self, now, false);
}

static void s_on_frame (s_coord_t *self, int64_t now) {
    zmsg_t *zmsg = zmsg_recv (self->router);
    if (!zmsg)
        return;
    zframe_t *rid = zmsg_pop (zmsg);
    zframe_t *frame = zmsg_pop (zmsg);
    const char *address = frame ? zframe_meta (frame, "Peer-Address") : NULL;
    if (!address || !address[0])
        address = "an unknown address";
    char id[FB_NAME_MAX + 1] = "";
    if (rid && zframe_size (rid) < sizeof id)
        memcpy (id, zframe_data (rid), zframe_size (rid));
    fb_err_t err = {0};
    fb_msg_t *msg = NULL;
    if (!rid)
        ; /* ZeroMQ always gives one; nobody to answer otherwise */
    else if (!frame || zmsg_size (zmsg) != 0)
        s_refuse (self, rid, address, FB_EINPUT, "expected one frame per message", 0, now);
    else if (!(msg = fb_wire_unpack (zframe_data (frame), zframe_size (frame), &err)))
        s_refuse (self, rid, address, FB_EINPUT, err.msg, 0, now);
    else if (memchr (zframe_data (rid), 0, zframe_size (rid)) || !fb_escape_name_is_safe (id)) {
        char why[256], shown[100];
        fb_escape (msg->type == FB_MSG_HELLO ? msg->u.hello.agent_id : id, shown, sizeof shown,
                   FB_ESCAPE_TEXT);
        snprintf (why, sizeof why,
                  "agent id \"%s\" is not allowed: it must be 1 to %d of A-Z a-z 0-9 _ . - and "
                  "not \".\" or \"..\"",
                  shown, FB_NAME_MAX);
        s_refuse (self, rid, address, FB_EREFUSED, why,
                  msg->type == FB_MSG_HELLO ? msg->u.hello.instance : 0, now);
    } else
        s_dispatch (self, id, msg, rid, address, now);
    fb_wire_msg_destroy (&msg);
    zframe_destroy (&frame);
    zframe_destroy (&rid);
    zmsg_destroy (&zmsg);
}

static void s_mark_lost (s_coord_t *self, fb_host_t *host, const char *why) {
    host->state = FB_HOST_LOST;
    host->lost_wall_ns = fb_clock_wall_ns ();
    snprintf (host->problem, sizeof host->problem, "%s", why);
    s_log (self, "host %s lost: %s", host->id, why);
    s_send_abort (self, host, why);
}

static void s_running (s_coord_t *self, int64_t now) {
    fb_run_t *run = self->run;
    bool heartbeat = now - self->last_heartbeat_ns >= FB_NS_PER_S;
    int finished = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        if (host->state == FB_HOST_RUNNING && s_host_complete (host))
            host->state = FB_HOST_DONE;
        if (host->state != FB_HOST_RUNNING) {
            finished++;
            continue;
        }
        int64_t silent = now - host->last_seen_ns;
        if (silent > run->sc->heartbeat_timeout_ns) {
            char why[128];
            snprintf (why, sizeof why, "silent for %.1f s (heartbeat timeout %.1f s)", silent / 1e9,
                      run->sc->heartbeat_timeout_ns / 1e9);
            s_mark_lost (self, host, why);
            finished++;
        } else if (now > self->run_deadline_ns) {
            s_mark_lost (self, host, "no Done by the end of the run's time");
            finished++;
        } else if (heartbeat)
            s_ping (self, host, now);
    }
    if (heartbeat)
        self->last_heartbeat_ns = now;
    if (now - self->last_progress_ns >= FB_NS_PER_S) {
        self->last_progress_ns = now;
        fb_progress_update (self->progress, run, now);
    }
    if (finished == run->n_hosts)
        s_set_phase (self, S_END);
}

static void s_step (s_coord_t *self, int64_t now) {
    switch (self->phase) {
    case S_JOIN:
        s_join (self, now);
        break;
    case S_PLAN:
        s_plan (self, now);
        break;
    case S_SYNC:
        s_sync (self, now);
        break;
    case S_RUN:
        s_running (self, now);
        break;
    case S_END:
        break;
    }
    s_log_refusals (self, now, self->phase == S_END);
    if (self->phase != S_END) /* "end" is published once the results are written */
        fb_metrics_update (self->metrics, self->run, s_phase_names[self->phase], now, false);
}

/* Thresholds past which a host's numbers say more about its state than its hardware. */
#define S_SUSPECT_STEAL_PPM 50000                  /* 5% of CPU time stolen */
#define S_SUSPECT_SCHED_LAG_NS (10 * FB_NS_PER_MS) /* open loop p99 start delay */

/* Self-health: CPU steal, thermal throttling, a late open-loop scheduler. */
static void s_judge_health (const fb_run_t *run, fb_host_t *host) {
    int len = 0;
    for (int w = 0; w < run->sc->n_workloads; w++) {
        const fb_stats_t *st = &host->stats[w];
        const char *name = run->sc->workloads[w].name;
        int steal = fb_stats_find_counter (st, "steal");
        int throttled = fb_stats_find_counter (st, "throttled");
        const fb_hist_compact_t *lag = fb_stats_find_metric (st, "sched_lag");
        char *out = host->suspect + len;
        size_t room = sizeof host->suspect - (size_t)len;
        if (steal >= 0 && st->counters[steal] > S_SUSPECT_STEAL_PPM)
            len += snprintf (out, room, "%s%s: CPU steal %.1f%%", len ? "; " : "", name,
                             st->counters[steal] / 1e4);
        else if (throttled >= 0 && st->counters[throttled] > 0)
            len += snprintf (out, room, "%s%s: thermal throttling", len ? "; " : "", name);
        else if (lag && fb_hist_compact_count (lag) > 0 &&
                 fb_hist_compact_value_at_percentile (lag, 99) > S_SUSPECT_SCHED_LAG_NS)
            len += snprintf (out, room, "%s%s: operations started up to %.1f ms late (p99)",
                             len ? "; " : "", name,
                             fb_hist_compact_value_at_percentile (lag, 99) / 1e6);
        if (len >= (int)sizeof host->suspect)
            break;
    }
}

/* Merges hosts into the fleet, judges, and sets the exit code unless a phase gave up. */
static void s_conclude (s_coord_t *self) {
    fb_run_t *run = self->run;
    run->finished_wall_ns = fb_clock_wall_ns ();
    fb_progress_finish (self->progress);
    if (run->exit_code != 0)
        return; /* gave up before the run: nothing to judge */
    int lost = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        fb_stats_pack (&host->stats[host->workload_now], NULL); /* the last workload too */
        s_judge_health (run, host);
        if (host->suspect[0])
            s_log (self, "host %s is suspect: %s", host->id, host->suspect);
        if (!s_active (host)) {
            lost++;
            continue; /* a lost host's partial numbers stay in its own section only */
        }
        for (int w = 0; w < run->sc->n_workloads; w++) {
            fb_err_t err = {0};
            if (fb_stats_merge (&run->fleet[w], &host->stats[w], &err) != 0)
                s_log (self, "merge of %s: %s", host->id, err.msg);
        }
    }
    int failed = fb_verdict_judge (run);
    if (failed < 0) {
        run->exit_code = 2; /* a baseline that cannot be read: outcome names the file */
    } else if (lost > run->sc->allow_lost) {
        run->exit_code = 3;
        snprintf (run->outcome, sizeof run->outcome,
                  "incomplete: %d of %d host(s) lost or failed (allow_lost: %d)", lost,
                  run->n_hosts, run->sc->allow_lost);
    } else if (lost == run->n_hosts) {
        run->exit_code = 3;
        snprintf (run->outcome, sizeof run->outcome, "incomplete: every host was lost");
    } else {
        char counts[200];
        fb_verdict_count_text (run, counts, sizeof counts);
        run->exit_code = failed > 0 || run->stop.stopped ? 1 : 0;
        snprintf (run->outcome, sizeof run->outcome, "%s: %s%s%s",
                  run->exit_code ? "failed" : "passed", run->stop.stopped ? "stopped early: " : "",
                  run->stop.stopped ? run->stop.reason : "", run->stop.stopped ? "; " : "");
        size_t len = strlen (run->outcome);
        snprintf (run->outcome + len, sizeof run->outcome - len, "%s", counts);
    }
}

void fb_coord_opts_default (fb_coord_opts_t *opts) {
    memset (opts, 0, sizeof *opts);
    snprintf (opts->bind, sizeof opts->bind, "tcp://127.0.0.1:5690");
    opts->local = -1;
    snprintf (opts->out_dir, sizeof opts->out_dir, "results");
}

static int s_bind (s_coord_t *self, fb_err_t *err) {
    const char *bind = self->opts->bind;
    const char *keys = self->opts->keys;
    int want_port = -1;
    if (fb_endpoint_port (bind, &want_port, err) != 0)
        return -1;
    if (!keys[0] && !fb_endpoint_is_loopback (bind) && !self->opts->insecure)
        return fb_err_set (err, FB_EINPUT,
                           "--bind %s is not loopback: give CURVE keys (coord keygen --out keys "
                           "--agents 3, then --keys keys) or, on a lab network you trust, "
                           "--insecure",
                           bind);
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router)
        return fb_err_set (err, FB_ESYS, "cannot create a ZeroMQ socket");
    if (keys[0]) {
        char path[600], agents[600];
        snprintf (path, sizeof path, "%s/coordinator.key", keys);
        snprintf (agents, sizeof agents, "%s/agents", keys);
        if (!(self->cert = fb_keys_load_pair (path, err)) ||
            !(self->auth = fb_auth_new (agents, err)))
            return -1;
        zcert_apply (self->cert, self->router);
        zsock_set_curve_server (self->router, 1);
    }
    zsock_set_router_handover (self->router, 1); /* a reconnecting agent takes its id back */
    zsock_set_maxmsgsize (self->router, FB_MAX_FRAME_BYTES);
    zsock_set_linger (self->router, 0);
    if (zsock_bind (self->router, "%s", bind) < 0)
        return fb_err_set (err, FB_EINPUT, "cannot bind %s: %s", bind, zmq_strerror (zmq_errno ()));
    /* Local agents connect to loopback on the port actually bound: with ":0" or ":*" the
     * system chose it, and only the socket knows which. */
    char *bound = zsock_last_endpoint (self->router);
    int port = -1;
    fb_err_t ignored = {0};
    if (bound && fb_endpoint_port (bound, &port, &ignored) == 0 && port > 0)
        snprintf (self->bound, sizeof self->bound, "%s", bound);
    else
        snprintf (self->bound, sizeof self->bound, "%s", bind);
    zstr_free (&bound);
    if (port <= 0 && want_port >= 0)
        return fb_err_set (err, FB_ESYS, "bound %s but cannot tell which port", bind);
    snprintf (self->connect_endpoint, sizeof self->connect_endpoint, "tcp://127.0.0.1:%d",
              port > 0 ? port : 5690);
    return 0;
}

int fb_coord_run (const fb_scenario_t *sc, const fb_coord_opts_t *opts, char *run_dir,
                  size_t run_dir_size, fb_err_t *err) {
    fb_run_t *run = calloc (1, sizeof *run);
    if (!run) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return 3;
    }
    run->sc = sc;
    run->expected_hosts = sc->expect;
    run->started_wall_ns = fb_clock_wall_ns ();
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_init (&run->fleet[w]);
    if (opts->baseline[0])
        snprintf (run->baseline_path, sizeof run->baseline_path, "%s", opts->baseline);
    else
        snprintf (run->baseline_path, sizeof run->baseline_path, "baselines/%s.json", sc->name);
    snprintf (run->allow_different, sizeof run->allow_different, "%s", opts->allow_different);
    run->n_prior = opts->n_prior;
    run->prior = opts->prior;
    run->intermediate = opts->intermediate;
    run->reruns_left = opts->reruns_left;

    s_coord_t self = {.run = run, .opts = opts, .err = err};
    self.progress = fb_progress_new (opts->quiet);
    int code = 3;
    if (fb_verdict_check_baseline (sc, run->baseline_path, err) != 0) {
        code = 2; /* an unusable baseline would end the run refused: no fleet time for it */
        goto done;
    }
    if (opts->metrics[0] && !(self.metrics = fb_metrics_new (opts->metrics, opts->insecure, err))) {
        code = err->code == FB_EINPUT ? 2 : 3; /* before the results folder: none is left */
        goto done;
    }
    int made = fb_run_make_dir (run, opts->out_dir, err);
    if (made == 0 && run_dir)
        snprintf (run_dir, run_dir_size, "%s", run->dir);
    if (made != 0 || s_bind (&self, err) != 0) {
        code = err->code == FB_EINPUT ? 2 : 3;
        goto done;
    }
    if (self.metrics) {
        fb_metrics_update (self.metrics, run, s_phase_names[S_JOIN], fb_clock_now_ns (), true);
        fprintf (stderr, "coord: metrics on %s\n", fb_metrics_url (self.metrics));
    }
    s_log (&self, "run %s: waiting for %d agent(s) on %s", run->run_id, run->expected_hosts,
           self.bound);
    if (opts->local > 0) {
        if (s_start_local (&self, opts->local, err) != 0)
            goto done;
    }
    s_set_phase (&self, S_JOIN);
    zpoller_t *poller = zpoller_new (self.router, NULL);
    while (self.phase != S_END && !zsys_interrupted) {
        if (zpoller_wait (poller, 50) == self.router)
            for (int i = 0; i < 1000 && (zsock_events (self.router) & ZMQ_POLLIN); i++)
                s_on_frame (&self, fb_clock_now_ns ());
        s_step (&self, fb_clock_now_ns ());
    }
    zpoller_destroy (&poller);
    s_log_refusals (&self, fb_clock_now_ns (), true);
    if (zsys_interrupted && self.phase != S_END)
        s_give_up (&self, 3, "interrupted");
    s_conclude (&self);
    fb_err_t werr = {0};
    fb_results_write (run, &werr); /* a file it cannot write makes the outcome say which */
    if (!opts->no_summary)
        fb_report_print (run, stdout);
    if (opts->json_out && fb_results_print_json (run, opts->json_out, &werr) != 0) {
        run->exit_code = 3;
        snprintf (run->outcome, sizeof run->outcome, "incomplete: %s", werr.msg);
    }
    fb_metrics_update (self.metrics, run, s_phase_names[S_END], fb_clock_now_ns (), true);
    fb_metrics_hold (self.metrics, opts->metrics_hold_ns);
    code = run->exit_code;
    if (opts->rerun_wanted)
        *opts->rerun_wanted = run->rerun_wanted;
    if (opts->stopped_early)
        *opts->stopped_early = run->stop.stopped;
    if (code != 0)
        fb_err_set (err, code == 2 ? FB_EINPUT : FB_ESTATE, "%s", run->outcome);
done:
    fb_metrics_destroy (&self.metrics);
    fb_local_stop (&self.local);
    fb_progress_destroy (&self.progress);
    zsock_destroy (&self.router);
    zactor_destroy (&self.auth);
    zcert_destroy (&self.cert);
    fb_run_clear (run);
    free (run);
    return code;
}

/* bench_ingest.c: what a fleet costs the coordinator. One process plays N agents (N DEALER
 * sockets that say Hello, accept the plan, answer clock pings and send a realistic interval
 * Report every second: 5 metrics, V2 histograms of 500 samples, a few hundred used buckets)
 * against a real `coord run` of 6 workloads in sequence; we read the coordinator's CPU time,
 * peak RSS and open descriptors from /proc and print, per N, reports/s, CPU per report, the
 * share of a core, peak RSS, descriptors and the wire bytes per metric per interval. The floor
 * row under each is the same frames through a bare ZeroMQ ROUTER receive + protobuf unpack in
 * a process of its own: what ingesting them cannot cost less than.
 *   bench_ingest [N...]            (default 10 100 1000 5000)
 * FB_INGEST_WORKLOADS, FB_INGEST_METRICS and FB_INGEST_SAMPLES change the shape (6, 5, 500).
 * Built with the tree; run by ./bench.sh, not a test. */
#include "common/clock.h"
#include "common/hist.h"
#include "common/rng.h"
#include "common/wire.h"

#include <czmq.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_DURATION_S 5 /* per workload */
#define S_PORT 5790
#define S_FLOOR_PORT 5791
#define S_MAX_METRICS 8

static int s_workloads = 6, s_metrics = 5, s_samples = 500;

typedef struct {
    zsock_t *sock;
    char id[32];
    uint64_t seq;
    bool running;
    bool done;
} s_sim_t;

static uint8_t *s_blob[S_MAX_METRICS];
static size_t s_blob_len[S_MAX_METRICS];

/* Histograms like a second of a busy eventbus host: log-normal around 20 us and up. */
static void s_make_blobs (void) {
    uint64_t x = 88172645463325252ULL;
    for (int m = 0; m < s_metrics; m++) {
        fb_hist_t *h = fb_hist_new_default (NULL);
        for (int i = 0; i < s_samples; i++) {
            double u1 = fb_rng_unit (&x), u2 = fb_rng_unit (&x);
            double z = sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
            fb_hist_record (h, (int64_t)(20000.0 * (m + 1) * exp (0.8 * z)));
        }
        fb_hist_encode (h, &s_blob[m], &s_blob_len[m], NULL);
        fb_hist_destroy (&h);
    }
}

static void s_send (s_sim_t *sim, fb_msg_t *msg) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fb_wire_pack (msg, &buf, &len, NULL) == 0)
        zmq_send (zsock_resolve (sim->sock), buf, len, ZMQ_DONTWAIT);
    free (buf);
}

static void s_report (s_sim_t *sim, const char *run_id, int workload, int64_t now) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_REPORT);
    fb_report_t *r = &msg->u.report;
    snprintf (r->run_id, sizeof r->run_id, "%s", run_id);
    r->seq = ++sim->seq;
    r->workload = workload;
    r->phase = FB_PHASE_MEASURE;
    r->start_ns = now - FB_NS_PER_S;
    r->end_ns = now;
    r->wall_start_ns = fb_clock_wall_ns () - FB_NS_PER_S;
    const char *names[S_MAX_METRICS] = {"latency",    "service", "sched_lag", "dispatch",
                                        "completion", "m5",      "m6",        "m7"};
    for (int m = 0; m < s_metrics; m++) {
        snprintf (r->metrics[m].name, sizeof r->metrics[m].name, "%s", names[m]);
        r->metrics[m].hist = malloc (s_blob_len[m]);
        memcpy (r->metrics[m].hist, s_blob[m], s_blob_len[m]);
        r->metrics[m].hist_len = s_blob_len[m];
    }
    r->n_metrics = s_metrics;
    const char *counters[] = {"ops", "errors", "rss", "cpu"};
    int64_t values[] = {5000, 0, 20 << 20, 100000000};
    for (int c = 0; c < 4; c++) {
        snprintf (r->counters[c].name, sizeof r->counters[c].name, "%s", counters[c]);
        r->counters[c].value = values[c];
    }
    r->n_counters = 4;
    s_send (sim, msg);
    fb_wire_msg_destroy (&msg);
}

static void s_on_message (s_sim_t *sim, fb_msg_t *msg, char *run_id, size_t run_id_size) {
    int64_t now = fb_clock_now_ns ();
    fb_msg_t *reply = NULL;
    if (msg->type == FB_MSG_PLAN) {
        snprintf (run_id, run_id_size, "%s", msg->u.plan.run_id);
        reply = fb_wire_msg_new (FB_MSG_READY);
        snprintf (reply->u.ready.run_id, sizeof reply->u.ready.run_id, "%s", run_id);
    } else if (msg->type == FB_MSG_HEARTBEAT && msg->u.heartbeat.echo_ns == 0) {
        reply = fb_wire_msg_new (FB_MSG_HEARTBEAT);
        reply->u.heartbeat.echo_ns = msg->u.heartbeat.sent_ns;
        reply->u.heartbeat.echo_recv_ns = now;
        reply->u.heartbeat.sent_ns = now;
    } else if (msg->type == FB_MSG_START)
        sim->running = true;
    if (reply)
        s_send (sim, reply);
    fb_wire_msg_destroy (&reply);
}

static double s_cpu_s (pid_t pid) {
    char path[64], buf[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = '\0';
    char *p = strrchr (buf, ')');
    unsigned long utime = 0, stime = 0;
    if (p)
        sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

/* Peak RSS (kB) and open descriptors of pid, kept at their highest over calls. */
static void s_sample_mem (pid_t pid, long *peak_kb, int *fds) {
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen (path, "r");
    while (f && fgets (line, sizeof line, f)) {
        long kb;
        if (sscanf (line, "VmHWM: %ld kB", &kb) == 1 && kb > *peak_kb)
            *peak_kb = kb;
    }
    if (f)
        fclose (f);
    snprintf (path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir (path);
    int n = 0;
    while (d && readdir (d))
        n++;
    if (d) {
        closedir (d);
        if (n - 2 > *fds)
            *fds = n - 2; /* . and .. */
    }
}

static pid_t s_start_coord (const char *coord, int n, char *dir) {
    char yaml[600];
    snprintf (yaml, sizeof yaml, "%s/ingest.yaml", dir);
    FILE *f = fopen (yaml, "w");
    fprintf (f,
             "name: ingest\nagents: { expect: %d, join_timeout: 60s, heartbeat_timeout: 30s }\n"
             "defaults: { duration: %ds, warmup: 0s, interval: 1s }\n"
             "workloads:\n",
             n, S_DURATION_S);
    for (int w = 0; w < s_workloads; w++)
        fprintf (f, "  - name: bus%d\n    kind: eventbus\n", w);
    fclose (f);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        char bind[64], out[600];
        snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", S_PORT);
        snprintf (out, sizeof out, "%s/results", dir);
        freopen ("/dev/null", "w", stdout);
        freopen ("/dev/null", "w", stderr);
        execl (coord, coord, "run", yaml, "--bind", bind, "--local", "0", "--quiet", "--out", out,
               (char *)NULL);
        _exit (127);
    }
    return pid;
}

typedef struct {
    double reports_per_s, cpu_per_s, cpu_us_per_report;
    long peak_kb;
    int fds;
} s_result_t;

/* N DEALERs connected to port, each saying Hello when hello is set. */
static s_sim_t *s_sims_new (int n, int port, bool hello, zmq_pollitem_t **items_p) {
    s_sim_t *sims = calloc ((size_t)n, sizeof *sims);
    zmq_pollitem_t *items = calloc ((size_t)n, sizeof *items);
    if (!sims || !items)
        exit (1);
    fb_fingerprint_t fp;
    fb_fingerprint_read (&fp);
    for (int i = 0; i < n; i++) {
        s_sim_t *sim = &sims[i];
        snprintf (sim->id, sizeof sim->id, "sim-%d", i);
        sim->sock = zsock_new (ZMQ_DEALER);
        if (!sim->sock) {
            fprintf (stderr, "bench_ingest: no socket for agent %d (descriptor limit?)\n", i);
            exit (1);
        }
        zsock_set_identity (sim->sock, sim->id);
        zsock_set_linger (sim->sock, 0);
        zsock_set_sndhwm (sim->sock, 0);
        zsock_connect (sim->sock, "tcp://127.0.0.1:%d", port);
        items[i] = (zmq_pollitem_t){.socket = zsock_resolve (sim->sock), .events = ZMQ_POLLIN};
        if (!hello)
            continue;
        fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
        snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "%s", sim->id);
        msg->u.hello.fp = fp;
        s_send (sim, msg);
        fb_wire_msg_destroy (&msg);
    }
    *items_p = items;
    return sims;
}

static void s_sims_destroy (s_sim_t *sims, zmq_pollitem_t *items, int n) {
    for (int i = 0; i < n; i++)
        zsock_destroy (&sims[i].sock);
    free (sims);
    free (items);
}

/* Runs one fleet of n simulated agents through every workload against a real coordinator. */
static int s_fleet (const char *coord, int n, s_result_t *out) {
    char dir[] = "/tmp/fleetbench-ingest.XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    pid_t pid = s_start_coord (coord, n, dir);
    usleep (300000);
    zmq_pollitem_t *items;
    s_sim_t *sims = s_sims_new (n, S_PORT, true, &items);
    char run_id[64] = "";
    int running = 0, rounds = 0, total_rounds = S_DURATION_S * s_workloads;
    int64_t next_report = 0, t0 = 0, t1 = 0, deadline = fb_clock_now_ns () + 120 * FB_NS_PER_S;
    double cpu0 = 0, cpu1 = 0;
    while (rounds <= total_rounds && fb_clock_now_ns () < deadline) {
        if (zmq_poll (items, n, 20) > 0)
            for (int i = 0; i < n; i++)
                while (zsock_events (sims[i].sock) & ZMQ_POLLIN) {
                    zframe_t *frame = zframe_recv (sims[i].sock);
                    fb_msg_t *msg =
                        frame ? fb_wire_unpack (zframe_data (frame), zframe_size (frame), NULL)
                              : NULL;
                    bool was = sims[i].running;
                    if (msg)
                        s_on_message (&sims[i], msg, run_id, sizeof run_id);
                    running += !was && sims[i].running;
                    fb_wire_msg_destroy (&msg);
                    zframe_destroy (&frame);
                }
        int64_t now = fb_clock_now_ns ();
        if (running == n && t0 == 0) {
            t0 = now;
            cpu0 = s_cpu_s (pid);
            next_report = now + FB_NS_PER_S;
        }
        if (t0 && now >= next_report) {
            s_sample_mem (pid, &out->peak_kb, &out->fds);
            if (rounds == total_rounds) {
                t1 = now;
                cpu1 = s_cpu_s (pid);
                rounds++;
                break;
            }
            for (int i = 0; i < n; i++)
                s_report (&sims[i], run_id, rounds / S_DURATION_S, now);
            rounds++;
            next_report += FB_NS_PER_S;
        }
    }
    for (int i = 0; i < n; i++) {
        fb_msg_t *done = fb_wire_msg_new (FB_MSG_DONE);
        snprintf (done->u.done.run_id, sizeof done->u.done.run_id, "%s", run_id);
        done->u.done.last_seq = sims[i].seq;
        s_send (&sims[i], done);
        fb_wire_msg_destroy (&done);
    }
    int64_t wait_until = fb_clock_now_ns () + 60 * FB_NS_PER_S;
    int status = 0;
    while (waitpid (pid, &status, WNOHANG) == 0 && fb_clock_now_ns () < wait_until) {
        s_sample_mem (pid, &out->peak_kb, &out->fds); /* the results are written at the end */
        zmq_poll (items, n, 50); /* keep the sockets alive while coord finishes */
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    s_sims_destroy (sims, items, n);
    char cmd[700];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_ingest: could not remove %s\n", dir);
    if (t1 == 0)
        return -1;
    double secs = (t1 - t0) / 1e9;
    out->reports_per_s = (double)n * total_rounds / secs;
    out->cpu_per_s = (cpu1 - cpu0) / secs;
    out->cpu_us_per_report = (cpu1 - cpu0) * 1e6 / ((double)n * total_rounds);
    return 0;
}

/* The floor: a process that only receives the frames on a ROUTER and unpacks them. */
static void s_floor_main (int expected) {
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (!router || zsock_bind (router, "tcp://127.0.0.1:%d", S_FLOOR_PORT) < 0)
        _exit (2);
    zsock_set_rcvtimeo (router, 10000);
    for (int got = 0; got < expected;) {
        zmsg_t *msg = zmsg_recv (router);
        if (!msg)
            break; /* the sender gave up */
        zframe_t *id = zmsg_pop (msg), *body = zmsg_pop (msg);
        fb_msg_t *m = body ? fb_wire_unpack (zframe_data (body), zframe_size (body), NULL) : NULL;
        got += m && m->type == FB_MSG_REPORT;
        fb_wire_msg_destroy (&m);
        zframe_destroy (&id);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    zsock_destroy (&router);
    _exit (0);
}

static int s_floor (int n, s_result_t *out) {
    int total_rounds = S_DURATION_S * s_workloads;
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0)
        s_floor_main (n * total_rounds);
    usleep (300000);
    zmq_pollitem_t *items;
    s_sim_t *sims = s_sims_new (n, S_FLOOR_PORT, false, &items);
    usleep (500000); /* connected before the first round */
    double cpu0 = s_cpu_s (pid);
    int64_t t0 = fb_clock_now_ns (), next = t0;
    for (int round = 0; round < total_rounds; round++) {
        fb_clock_sleep_until_ns (next);
        for (int i = 0; i < n; i++)
            s_report (&sims[i], "floor", round / S_DURATION_S, next);
        s_sample_mem (pid, &out->peak_kb, &out->fds);
        next += FB_NS_PER_S;
    }
    fb_clock_sleep_until_ns (next);
    double cpu1 = s_cpu_s (pid);
    int64_t t1 = fb_clock_now_ns ();
    int status = 0;
    int64_t wait_until = t1 + 30 * FB_NS_PER_S;
    while (waitpid (pid, &status, WNOHANG) == 0 && fb_clock_now_ns () < wait_until)
        usleep (20000);
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    s_sims_destroy (sims, items, n);
    double secs = (t1 - t0) / 1e9;
    out->reports_per_s = (double)n * total_rounds / secs;
    out->cpu_per_s = (cpu1 - cpu0) / secs;
    out->cpu_us_per_report = (cpu1 - cpu0) * 1e6 / ((double)n * total_rounds);
    return 0;
}

static void s_print (const char *what, int n, const s_result_t *r, double wire) {
    printf ("%-6s %7d %10.0f %12.1f %10.1f%% %12.1f %8d %12.0f\n", what, n, r->reports_per_s,
            r->cpu_us_per_report, 100.0 * r->cpu_per_s, r->peak_kb / 1024.0, r->fds, wire);
}

static int s_env (const char *name, int fallback, int lo, int hi) {
    const char *v = getenv (name);
    int x = v ? atoi (v) : fallback;
    return x < lo ? lo : (x > hi ? hi : x);
}

int main (int argc, char **argv) {
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    s_workloads = s_env ("FB_INGEST_WORKLOADS", s_workloads, 1, 32);
    s_metrics = s_env ("FB_INGEST_METRICS", s_metrics, 1, S_MAX_METRICS);
    s_samples = s_env ("FB_INGEST_SAMPLES", s_samples, 1, 10000000);
    zsys_init ();
    zsys_set_max_sockets (0); /* as many as the fd limit allows */
    zsys_set_logstream (NULL);
    char coord[600];
    ssize_t len = readlink ("/proc/self/exe", coord, sizeof coord - 1);
    coord[len > 0 ? len : 0] = '\0';
    char *slash = strrchr (coord, '/');
    snprintf (slash ? slash + 1 : coord, 16, "coord");
    s_make_blobs ();
    double wire = 0;
    for (int m = 0; m < s_metrics; m++)
        wire += (double)s_blob_len[m] / s_metrics;
    printf ("coordinator ingest: N simulated agents, one report a second each, %d workloads in "
            "sequence (%d s each), %d metrics a report, %d samples a histogram\n",
            s_workloads, S_DURATION_S, s_metrics, s_samples);
    printf ("%-6s %7s %10s %12s %11s %12s %8s %12s\n", "", "agents", "reports/s", "CPU us/report",
            "core share", "peak RSS MB", "fds", "wire B/metric");
    int ns[] = {10, 100, 1000, 5000};
    int count = argc > 1 ? argc - 1 : 4;
    for (int i = 0; i < count; i++) {
        int n = argc > 1 ? atoi (argv[i + 1]) : ns[i];
        s_result_t coord_r = {0}, floor_r = {0};
        if (s_fleet (coord, n, &coord_r) != 0)
            printf ("%-6s %7d  run did not complete\n", "coord", n);
        else
            s_print ("coord", n, &coord_r, wire);
        s_floor (n, &floor_r);
        s_print ("floor", n, &floor_r, wire);
        fflush (stdout);
    }
    for (int m = 0; m < s_metrics; m++)
        free (s_blob[m]);
    return 0;
}

/* bench_ingest.c: how much coordinator CPU a fleet costs. One process plays N agents (N
 * DEALER sockets that say Hello, accept the plan, answer clock pings and send a realistic
 * interval Report every second: three metrics, V2 histograms of a few thousand samples)
 * against a real `coord run`; we read the coordinator's CPU time from /proc and print, per
 * N, the CPU it used per second of run and per report, next to the wire bytes per metric.
 *   bench_ingest [N...]            (default 10 100 1000)
 * Built with the tree; run by ./bench.sh, not a test. */
#include "common/clock.h"
#include "common/hist.h"
#include "common/rng.h"
#include "common/wire.h"

#include <czmq.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_DURATION_S 5
#define S_PORT 5790

typedef struct {
    zsock_t *sock;
    char id[32];
    uint64_t seq;
    bool running;
    bool done;
} s_sim_t;

static uint8_t *s_blob[3];
static size_t s_blob_len[3];

/* Three histograms like a second of a busy eventbus host: log-normal around 20 us. */
static void s_make_blobs (void) {
    uint64_t x = 88172645463325252ULL;
    for (int m = 0; m < 3; m++) {
        fb_hist_t *h = fb_hist_new_default (NULL);
        for (int i = 0; i < 5000; i++) {
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

static void s_report (s_sim_t *sim, const char *run_id, int64_t now) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_REPORT);
    fb_report_t *r = &msg->u.report;
    snprintf (r->run_id, sizeof r->run_id, "%s", run_id);
    r->seq = ++sim->seq;
    r->phase = FB_PHASE_MEASURE;
    r->start_ns = now - FB_NS_PER_S;
    r->end_ns = now;
    r->wall_start_ns = fb_clock_wall_ns () - FB_NS_PER_S;
    const char *names[] = {"latency", "service", "sched_lag"};
    for (int m = 0; m < 3; m++) {
        snprintf (r->metrics[m].name, sizeof r->metrics[m].name, "%s", names[m]);
        r->metrics[m].hist = malloc (s_blob_len[m]);
        memcpy (r->metrics[m].hist, s_blob[m], s_blob_len[m]);
        r->metrics[m].hist_len = s_blob_len[m];
    }
    r->n_metrics = 3;
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

static pid_t s_start_coord (const char *coord, int n, char *dir) {
    char yaml[600];
    snprintf (yaml, sizeof yaml, "%s/ingest.yaml", dir);
    FILE *f = fopen (yaml, "w");
    fprintf (f,
             "name: ingest\nagents: { expect: %d, join_timeout: 60s, heartbeat_timeout: 30s }\n"
             "defaults: { duration: %ds, warmup: 0s, interval: 1s }\n"
             "workloads:\n  - name: bus\n    kind: eventbus\n",
             n, S_DURATION_S);
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

/* Runs one fleet of n simulated agents; fills cpu per run-second and per report. */
static int s_fleet (const char *coord, int n, double *cpu_per_s, double *cpu_us_per_report) {
    char dir[] = "/tmp/fleetbench-ingest.XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    pid_t pid = s_start_coord (coord, n, dir);
    usleep (300000);
    s_sim_t *sims = calloc ((size_t)n, sizeof *sims);
    zmq_pollitem_t *items = calloc ((size_t)n, sizeof *items);
    fb_fingerprint_t fp;
    fb_fingerprint_read (&fp);
    for (int i = 0; i < n; i++) {
        s_sim_t *sim = &sims[i];
        snprintf (sim->id, sizeof sim->id, "sim-%d", i);
        sim->sock = zsock_new (ZMQ_DEALER);
        zsock_set_identity (sim->sock, sim->id);
        zsock_set_linger (sim->sock, 0);
        zsock_connect (sim->sock, "tcp://127.0.0.1:%d", S_PORT);
        items[i] = (zmq_pollitem_t){.socket = zsock_resolve (sim->sock), .events = ZMQ_POLLIN};
        fb_msg_t *hello = fb_wire_msg_new (FB_MSG_HELLO);
        snprintf (hello->u.hello.agent_id, sizeof hello->u.hello.agent_id, "%s", sim->id);
        hello->u.hello.fp = fp;
        s_send (sim, hello);
        fb_wire_msg_destroy (&hello);
    }
    char run_id[64] = "";
    int running = 0, rounds = 0;
    int64_t next_report = 0, t0 = 0, t1 = 0, deadline = fb_clock_now_ns () + 90 * FB_NS_PER_S;
    double cpu0 = 0, cpu1 = 0;
    while (rounds <= S_DURATION_S && fb_clock_now_ns () < deadline) {
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
            if (rounds == S_DURATION_S) {
                t1 = now;
                cpu1 = s_cpu_s (pid);
                rounds++;
                break;
            }
            for (int i = 0; i < n; i++)
                s_report (&sims[i], run_id, now);
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
    int64_t wait_until = fb_clock_now_ns () + 20 * FB_NS_PER_S;
    int status = 0;
    while (waitpid (pid, &status, WNOHANG) == 0 && fb_clock_now_ns () < wait_until)
        zmq_poll (items, n, 50); /* keep the sockets alive while coord finishes */
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    for (int i = 0; i < n; i++)
        zsock_destroy (&sims[i].sock);
    free (sims);
    free (items);
    char cmd[700];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_ingest: could not remove %s\n", dir);
    if (t1 == 0)
        return -1;
    double secs = (t1 - t0) / 1e9;
    *cpu_per_s = (cpu1 - cpu0) / secs;
    *cpu_us_per_report = (cpu1 - cpu0) * 1e6 / ((double)n * S_DURATION_S);
    return 0;
}

int main (int argc, char **argv) {
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    zsys_init ();
    zsys_set_max_sockets (0); /* as many as the fd limit allows */
    zsys_set_logstream (NULL);
    char coord[600];
    ssize_t len = readlink ("/proc/self/exe", coord, sizeof coord - 1);
    coord[len > 0 ? len : 0] = '\0';
    char *slash = strrchr (coord, '/');
    snprintf (slash ? slash + 1 : coord, 16, "coord");
    s_make_blobs ();
    printf (
        "coordinator ingest: N simulated agents, one report a second each, 3 metrics a report\n");
    printf ("%8s %12s %16s %16s %18s\n", "agents", "reports/s", "coord CPU s/s", "CPU us/report",
            "wire B/metric");
    int ns[] = {10, 100, 1000};
    int count = argc > 1 ? argc - 1 : 3;
    for (int i = 0; i < count; i++) {
        int n = argc > 1 ? atoi (argv[i + 1]) : ns[i];
        double per_s = 0, per_report = 0;
        if (s_fleet (coord, n, &per_s, &per_report) != 0) {
            printf ("%8d  run did not complete\n", n);
            continue;
        }
        printf ("%8d %12d %16.3f %16.1f %18.0f\n", n, n, per_s, per_report,
                (s_blob_len[0] + s_blob_len[1] + s_blob_len[2]) / 3.0);
    }
    for (int m = 0; m < 3; m++)
        free (s_blob[m]);
    return 0;
}

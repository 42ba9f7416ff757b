/* bench_ingest.c: what a fleet costs the coordinator. One process plays N agents (N DEALER
 * sockets that say Hello, accept the plan, answer clock pings and send a realistic interval
 * Report every second: 5 metrics, V2 histograms of 500 samples, a few hundred used buckets)
 * against a real `coord run` of 6 workloads in sequence; we read the coordinator's CPU time,
 * peak RSS and open descriptors from /proc and print, per N, reports/s, CPU per report, the
 * share of a core, peak RSS, descriptors and the wire bytes per metric per interval. The floor
 * row under each is the same frames through a bare ZeroMQ ROUTER receive + protobuf unpack in
 * a process of its own: what ingesting them cannot cost less than.
 *   bench_ingest [N...]            (default 10 100 1000 5000)
 *   bench_ingest --check N         the scale test (tests/integration/scale_fleet.sh): N agents
 *                                  through 3 workloads of 2 s; exit 1 when a count is off, the
 *                                  descriptors grow or the peak RSS passes its bound
 *   bench_ingest --check-growth N  N agents through 6 workloads of 2 s: exit 1 when the peak
 *                                  RSS after the sixth passes 1.3 times the peak after the
 *                                  second, or the descriptors change
 * FB_INGEST_WORKLOADS, FB_INGEST_METRICS and FB_INGEST_SAMPLES change the shape (6, 5, 500).
 * Built with the tree; run by ./bench.sh, not a test. */
#include "common/clock.h"
#include "common/hist.h"
#include "common/rng.h"
#include "common/wire.h"

#include <czmq.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_MAX_METRICS 8
#define S_OPS_PER_REPORT 5000
#define S_CHECK_RSS_MB 150 /* --check: the coordinator's peak RSS must stay below it */

static int s_workloads = 6, s_metrics = 5, s_samples = 500;
static int s_duration_s = 5; /* per workload */

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
    int64_t values[] = {S_OPS_PER_REPORT, 0, 20 << 20, 100000000};
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

/* The port coord's first line names ("... on tcp://127.0.0.1:PORT"), once it is written. */
static int s_coord_port (const char *log, pid_t pid) {
    int64_t until = fb_clock_now_ns () + 30 * FB_NS_PER_S;
    while (fb_clock_now_ns () < until && waitpid (pid, NULL, WNOHANG) == 0) {
        FILE *f = fopen (log, "r");
        char line[512] = "";
        if (f && fgets (line, sizeof line, f)) {
            const char *at = strstr (line, "on tcp://127.0.0.1:");
            if (at && strchr (line, '\n')) {
                fclose (f);
                return atoi (at + strlen ("on tcp://127.0.0.1:"));
            }
        }
        if (f)
            fclose (f);
        usleep (20000);
    }
    return -1;
}

static pid_t s_start_coord (const char *coord, int n, char *dir, int *port) {
    char yaml[600], log[600];
    snprintf (yaml, sizeof yaml, "%s/ingest.yaml", dir);
    snprintf (log, sizeof log, "%s/coord.log", dir);
    FILE *f = fopen (yaml, "w");
    fprintf (f,
             "name: ingest\nagents: { expect: %d, join_timeout: 60s, heartbeat_timeout: 30s }\n"
             "defaults: { duration: %ds, warmup: 0s, interval: 1s }\n"
             "workloads:\n",
             n, s_duration_s);
    for (int w = 0; w < s_workloads; w++)
        fprintf (f, "  - name: bus%d\n    kind: eventbus\n", w);
    fclose (f);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        char out[600];
        snprintf (out, sizeof out, "%s/results", dir);
        freopen ("/dev/null", "w", stdout);
        freopen (log, "w", stderr);
        /* a port of the system's choosing: two benches (or a bench and a test) never collide */
        execl (coord, coord, "run", yaml, "--bind", "tcp://127.0.0.1:0", "--local", "0", "--out",
               out, (char *)NULL);
        _exit (127);
    }
    *port = s_coord_port (log, pid);
    return pid;
}

typedef struct {
    double reports_per_s, cpu_per_s, cpu_us_per_report;
    long peak_kb;
    int fds;
    int fds_at[32];  /* the coordinator's descriptors at the end of each workload */
    long hwm_at[32]; /* its peak RSS (kB) up to the end of each workload */
    int status;      /* how coord exited (waitpid) */
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

/* Runs one fleet of n simulated agents through every workload against a real coordinator
 * whose results go to dir (made by the caller). */
static int s_fleet (const char *coord, int n, const char *dir, s_result_t *out) {
    int port = -1;
    pid_t pid = s_start_coord (coord, n, (char *)dir, &port);
    if (port <= 0) {
        fprintf (stderr, "bench_ingest: coord named no port (see %s/coord.log)\n", dir);
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        return -1;
    }
    zmq_pollitem_t *items;
    s_sim_t *sims = s_sims_new (n, port, true, &items);
    char run_id[64] = "";
    int running = 0, rounds = 0, total_rounds = s_duration_s * s_workloads;
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
            if (rounds > 0 && rounds % s_duration_s == 0 && rounds / s_duration_s <= 32) {
                int fds = 0;  /* this moment's count, not the peak */
                long hwm = 0; /* the peak so far */
                s_sample_mem (pid, &hwm, &fds);
                out->fds_at[rounds / s_duration_s - 1] = fds;
                out->hwm_at[rounds / s_duration_s - 1] = hwm;
            }
            if (rounds == total_rounds) {
                t1 = now;
                cpu1 = s_cpu_s (pid);
                rounds++;
                break;
            }
            for (int i = 0; i < n; i++)
                s_report (&sims[i], run_id, rounds / s_duration_s, now);
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
    out->status = -1;
    while (waitpid (pid, &out->status, WNOHANG) == 0 && fb_clock_now_ns () < wait_until) {
        s_sample_mem (pid, &out->peak_kb, &out->fds); /* the results are written at the end */
        zmq_poll (items, n, 50); /* keep the sockets alive while coord finishes */
    }
    if (out->status == -1) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    s_sims_destroy (sims, items, n);
    if (t1 == 0)
        return -1;
    double secs = (t1 - t0) / 1e9;
    out->reports_per_s = (double)n * total_rounds / secs;
    out->cpu_per_s = (cpu1 - cpu0) / secs;
    out->cpu_us_per_report = (cpu1 - cpu0) * 1e6 / ((double)n * total_rounds);
    return 0;
}

static void s_remove (const char *dir) {
    char cmd[700];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_ingest: could not remove %s\n", dir);
}

/* The floor: a process that only receives the frames on a ROUTER and unpacks them. It binds
 * a port of the system's choosing and writes it to port_fd. */
static void s_floor_main (int expected, int port_fd) {
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int port = router ? zsock_bind (router, "tcp://127.0.0.1:*") : -1;
    if (port <= 0 || write (port_fd, &port, sizeof port) != sizeof port)
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
    int total_rounds = s_duration_s * s_workloads;
    int fds[2];
    if (pipe (fds) != 0)
        return -1;
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        close (fds[0]);
        s_floor_main (n * total_rounds, fds[1]);
    }
    close (fds[1]);
    int port = -1;
    if (read (fds[0], &port, sizeof port) != sizeof port)
        port = -1;
    close (fds[0]);
    if (port <= 0) {
        waitpid (pid, NULL, 0);
        return -1;
    }
    zmq_pollitem_t *items;
    s_sim_t *sims = s_sims_new (n, port, false, &items);
    usleep (500000); /* connected before the first round */
    double cpu0 = s_cpu_s (pid);
    int64_t t0 = fb_clock_now_ns (), next = t0;
    for (int round = 0; round < total_rounds; round++) {
        fb_clock_sleep_until_ns (next);
        for (int i = 0; i < n; i++)
            s_report (&sims[i], "floor", round / s_duration_s, next);
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

/* The run.json coord wrote under dir/results/, loaded; NULL when there is none. */
static json_t *s_run_json (const char *dir) {
    char results[700];
    snprintf (results, sizeof results, "%s/results", dir);
    DIR *d = opendir (results);
    struct dirent *e;
    json_t *root = NULL;
    while (d && !root && (e = readdir (d)))
        if (e->d_name[0] != '.') {
            char path[1000];
            snprintf (path, sizeof path, "%s/%s/run.json", results, e->d_name);
            root = json_load_file (path, 0, NULL);
        }
    if (d)
        closedir (d);
    return root;
}

/* --check N: the scale test. N simulated agents through the workloads (3 of 2 s unless the
 * environment says otherwise): coord must pass (exit 0), every workload's fleet operations
 * must be exactly what the agents reported, the coordinator's descriptors the same at the end
 * of every workload, and its peak RSS below S_CHECK_RSS_MB. Exits 1 on any failure. */
static int s_check (const char *coord, int n) {
    char dir[] = "/tmp/fleetbench-ingest.XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    s_result_t r = {0};
    int failed = 0;
    if (s_fleet (coord, n, dir, &r) != 0 || !WIFEXITED (r.status) || WEXITSTATUS (r.status) != 0) {
        printf ("FAIL: %d agents: the run did not complete or did not pass (status %d; %s)\n", n,
                r.status, dir);
        return 1; /* the folder stays, for its coord.log */
    }
    json_t *run = s_run_json (dir);
    json_t *workloads = json_object_get (run, "workloads");
    int64_t want = (int64_t)n * s_duration_s * S_OPS_PER_REPORT;
    for (int w = 0; w < s_workloads; w++) {
        json_t *fleet = json_object_get (json_array_get (workloads, (size_t)w), "fleet");
        int64_t ops = json_integer_value (json_object_get (fleet, "ops"));
        if (ops != want) {
            printf ("FAIL: workload %d: fleet ops %lld, the agents reported %lld\n", w,
                    (long long)ops, (long long)want);
            failed++;
        }
        if (r.fds_at[w] != r.fds_at[0]) {
            printf ("FAIL: %d descriptors after workload %d, %d after the first\n", r.fds_at[w], w,
                    r.fds_at[0]);
            failed++;
        }
    }
    json_decref (run);
    if (r.peak_kb / 1024 >= S_CHECK_RSS_MB) {
        printf ("FAIL: peak RSS %ld MB, the bound is %d MB\n", r.peak_kb / 1024, S_CHECK_RSS_MB);
        failed++;
    }
    if (!failed)
        printf ("PASS: %d agents x %d workloads: fleet ops exact (%lld each), %d descriptors after "
                "every workload, peak RSS %ld MB (< %d MB)\n",
                n, s_workloads, (long long)want, r.fds_at[0], r.peak_kb / 1024, S_CHECK_RSS_MB);
    s_remove (dir);
    return failed ? 1 : 0;
}

/* --check-growth N: what the coordinator holds must not grow with the workloads it has run.
 * N agents through 6 workloads of 2 s: the run passes, the coordinator holds as many descriptors
 * after every workload as after the first, and its peak RSS up to the end of the sixth is below
 * S_GROWTH_RATIO times its peak up to the end of the second. (The results written after the
 * last workload, run.json and report.html, are built whole and do grow with the workloads: the
 * peak with them is printed, not bounded.) Exits 1 on any failure. */
#define S_GROWTH_RATIO 1.3
static int s_check_growth (const char *coord, int n) {
    s_workloads = 6;
    s_result_t r = {0};
    char dir[] = "/tmp/fleetbench-ingest.XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    if (s_fleet (coord, n, dir, &r) != 0 || !WIFEXITED (r.status) || WEXITSTATUS (r.status) != 0) {
        printf ("FAIL: %d agents x %d workloads: the run did not complete or did not pass "
                "(status %d; %s)\n",
                n, s_workloads, r.status, dir);
        return 1;
    }
    s_remove (dir);
    int failed = 0;
    for (int w = 1; w < s_workloads; w++)
        if (r.fds_at[w] != r.fds_at[0]) {
            printf ("FAIL: %d descriptors after workload %d, %d after the first\n", r.fds_at[w],
                    w + 1, r.fds_at[0]);
            failed++;
        }
    double ratio = (double)r.hwm_at[5] / (double)(r.hwm_at[1] > 0 ? r.hwm_at[1] : 1);
    failed += ratio >= S_GROWTH_RATIO;
    printf ("%s: %d agents: peak RSS %.1f MB after 2 workloads, %.1f MB after 6 (ratio %.2f, "
            "bound %.2f); %d descriptors after each; %.1f MB with the results written\n",
            failed ? "FAIL" : "PASS", n, r.hwm_at[1] / 1024.0, r.hwm_at[5] / 1024.0, ratio,
            S_GROWTH_RATIO, r.fds_at[0], r.peak_kb / 1024.0);
    return failed ? 1 : 0;
}

int main (int argc, char **argv) {
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    bool check = argc == 3 && strcmp (argv[1], "--check") == 0;
    bool growth = argc == 3 && strcmp (argv[1], "--check-growth") == 0;
    if (check || growth) {
        s_workloads = 3;
        s_duration_s = 2;
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
    if (check || growth) {
        int rc = check ? s_check (coord, atoi (argv[2])) : s_check_growth (coord, atoi (argv[2]));
        for (int m = 0; m < s_metrics; m++)
            free (s_blob[m]);
        return rc;
    }
    double wire = 0;
    for (int m = 0; m < s_metrics; m++)
        wire += (double)s_blob_len[m] / s_metrics;
    printf ("coordinator ingest: N simulated agents, one report a second each, %d workloads in "
            "sequence (%d s each), %d metrics a report, %d samples a histogram\n",
            s_workloads, s_duration_s, s_metrics, s_samples);
    printf ("%-6s %7s %10s %12s %11s %12s %8s %12s\n", "", "agents", "reports/s", "CPU us/report",
            "core share", "peak RSS MB", "fds", "wire B/metric");
    int ns[] = {10, 100, 1000, 5000};
    int count = argc > 1 ? argc - 1 : 4;
    for (int i = 0; i < count; i++) {
        int n = argc > 1 ? atoi (argv[i + 1]) : ns[i];
        s_result_t coord_r = {0}, floor_r = {0};
        char dir[] = "/tmp/fleetbench-ingest.XXXXXX";
        if (!mkdtemp (dir) || s_fleet (coord, n, dir, &coord_r) != 0)
            printf ("%-6s %7d  run did not complete\n", "coord", n);
        else
            s_print ("coord", n, &coord_r, wire);
        s_remove (dir);
        s_floor (n, &floor_r);
        s_print ("floor", n, &floor_r, wire);
        fflush (stdout);
    }
    for (int m = 0; m < s_metrics; m++)
        free (s_blob[m]);
    return 0;
}

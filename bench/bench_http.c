/* bench_http.c: the http workload beside wrk and h2load (HTTP/1.1), all three loading the same
 * Debian nginx on 127.0.0.1 with the same request, one thread and the same connections each.
 *
 * 1. Capacity per CPU: each closed loop (as fast as its connections go) for the same time;
 *    requests per CPU-second of the load generator alone (our runner's worker thread; the
 *    peers' rusage) and the ratio to wrk.
 * 2. p99 at 50 % of our maximum: ours in open loop (latency from each request's intended
 *    start), h2load at the same rate (--rps; its latency runs from each request's actual
 *    send). wrk has no rate: its p99 is at its maximum, printed for what it is.
 *
 * Not a test: it asserts nothing and prints numbers. nginx is started here (a process of its
 * own, master_process off, a temp folder) and stopped at the end.
 *
 *   bench_http [seconds-per-case] [connections]     defaults: 3 64 */
#include "bench/peer.h"
#include "bench/runs.h"
#include "common/clock.h"
#include "common/hist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The http workload as an agent runs it (allow-list: 127.0.0.1 only). */
static int s_ours (const char *url, int connections, double rate, int seconds,
                   const fb_allow_t *allow, fb_peer_result_t *r) {
    fb_plan_workload_t plan = fb_runs_plan ("http", rate, seconds);
    char conns[16];
    snprintf (conns, sizeof conns, "%d", connections);
    fb_runs_param (&plan, "url", url);
    fb_runs_param (&plan, "threads", "1");
    fb_runs_param (&plan, "connections", conns);
    fb_runs_tally_t t = {.latency = fb_hist_new_default (NULL)};
    fb_runner_result_t res;
    int rc = t.latency ? fb_runs_workload (&plan, allow, &t, &res) : -1;
    *r =
        (fb_peer_result_t){.requests = rc == 0 ? res.ops : 0,
                           .cpu_ns = rc == 0 ? res.worker_cpu_ns : 0,
                           .seconds = seconds,
                           .p99_us = rc == 0 && fb_hist_count (t.latency)
                                         ? (double)fb_hist_value_at_percentile (t.latency, 99) / 1e3
                                         : -1};
    fb_hist_destroy (&t.latency);
    return rc;
}

static double s_per_cpu_s (const fb_peer_result_t *r) {
    return r->cpu_ns > 0 ? (double)r->requests / ((double)r->cpu_ns / 1e9) : 0;
}

/* One line of the table; a negative number prints as "-". */
static void s_row (const char *name, const fb_peer_result_t *r, bool ok, double ref_per_cpu_s,
                   const char *note) {
    if (!ok) {
        printf ("| %-34s | %8s | %9s | %6s | %10s | %-36s |\n", name, "-", "-", "-", "-", note);
        return;
    }
    char ratio[16] = "-", p99[24] = "-";
    if (ref_per_cpu_s > 0)
        snprintf (ratio, sizeof ratio, "%.2fx", s_per_cpu_s (r) / ref_per_cpu_s);
    if (r->p99_us >= 0)
        snprintf (p99, sizeof p99, "%.1f", r->p99_us);
    printf ("| %-34s | %8.0f | %9.0f | %6s | %10s | %-36s |\n", name,
            (double)r->requests / r->seconds, s_per_cpu_s (r), ratio, p99, note);
}

int main (int argc, char **argv) {
    int seconds = argc > 1 ? atoi (argv[1]) : 3;
    int connections = argc > 2 ? atoi (argv[2]) : 64;
    if (seconds < 1 || connections < 1) {
        fprintf (stderr, "usage: bench_http [seconds-per-case] [connections]\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    struct rlimit nofile;
    if (getrlimit (RLIMIT_NOFILE, &nofile) == 0) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit (RLIMIT_NOFILE, &nofile);
    }
    static const char allow_text[] = "http: [127.0.0.1]\n";
    fb_err_t err = {0};
    fb_allow_t *allow = fb_allow_parse (allow_text, sizeof allow_text - 1, "bench", &err);
    fb_peer_nginx_t nginx;
    if (!allow || fb_peer_nginx_start (&nginx, 4096) != 0) {
        fprintf (stderr, "bench_http: %s\n", allow ? "no nginx" : err.msg);
        fb_allow_destroy (&allow);
        return 1;
    }
    char url[96];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/page.html", nginx.port);
    printf ("http bench: nginx (1 process) serving a 4 KB page on 127.0.0.1, %d connections, "
            "1 thread each, %d s per case\n\n",
            connections, seconds);
    printf ("| %-34s | %8s | %9s | %6s | %10s | %-36s |\n", "case", "req/s", "req/CPU-s", "vs wrk",
            "p99 us", "note");
    printf ("|%.36s|%.10s|%.11s|%.8s|%.12s|%.38s|\n", "------------------------------------",
            "----------", "-----------", "--------", "------------",
            "--------------------------------------");
    fb_peer_result_t wrk, h2, ours, ours_half, h2_half;
    bool have_wrk = fb_peer_wrk (url, connections, seconds, &wrk) == 0;
    bool have_h2 = fb_peer_h2load (url, connections, seconds, 0, &h2) == 0;
    bool have_ours = s_ours (url, connections, 0, seconds, allow, &ours) == 0;
    double ref = have_wrk ? s_per_cpu_s (&wrk) : 0;
    s_row ("wrk -t1, closed loop", &wrk, have_wrk, ref, "p99 at its maximum");
    s_row ("h2load --h1 -t1, closed loop", &h2, have_h2, ref, "p99 from actual send");
    s_row ("http kind, closed loop", &ours, have_ours, ref, "p99 from intended start");
    double half = have_ours ? 0.5 * (double)ours.requests / ours.seconds : 0;
    char name[64];
    if (half >= 1) {
        snprintf (name, sizeof name, "http kind at 50%% (%.0f/s)", half);
        bool ok = s_ours (url, connections, half, seconds, allow, &ours_half) == 0;
        s_row (name, &ours_half, ok, 0, "open loop, from intended start");
        snprintf (name, sizeof name, "h2load --rps at 50%% (%.0f/s)", half);
        ok = fb_peer_h2load (url, connections, seconds, half, &h2_half) == 0;
        s_row (name, &h2_half, ok, 0, "paced, from actual send");
    }
    fb_peer_nginx_stop (&nginx);
    fb_allow_destroy (&allow);
    return 0;
}

/* bench_proxy.c: the proxy workload's two questions, in one table.
 *
 * 1. Is our load generator efficient? The proxy workload run by the runner as an agent runs
 *    it (one thread, C keep-alive connections, one request in flight on each, the runner's
 *    asynchronous operations) and wrk (-t1 -cC) hit the same origin with the same request
 *    for the same time, at 1, 64 and 1024 connections; we print requests per CPU-second of
 *    the generator alone (the runner's worker thread; wrk's rusage) and their ratio, then
 *    the runner in open loop at 80 % of the rate it reached, with its schedule lag.
 * 2. What does the proxy cost? Open loop at a fixed rate (latency from each request's
 *    intended start, as wrk2), the same requests straight to the origin and through the
 *    proxy; the difference at p50 and p99 is the proxy's overhead, next to the seed's
 *    figures (request overhead ~1.7 us, injection 245 us for a small page).
 *
 * Everything runs on 127.0.0.1 in this process (wrk as a child). Not a test: it asserts
 * nothing and prints numbers.
 *
 *   bench_proxy [seconds-per-case] [connections] [rate/s]     defaults: 2 0 250
 *   (connections 0: 1, 64 and 1024 in turn) */
#include "bench/peer.h"
#include "bench/runs.h"
#include "common/clock.h"
#include "common/hist.h"
#include "workloads/proxy/http_client.h"
#include "workloads/proxy/http_origin.h"
#include "workloads/proxy/http_proxy.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int port, connections;
    double rate; /* per second; 0: closed loop, as fast as the connections go */
    int64_t duration_ns;
    const char *request;
} s_drive_t;

typedef struct {
    int64_t ok, errors, bytes, cpu_ns;
    double seconds;
    fb_hist_t *latency;
} s_result_t;

static int64_t s_thread_cpu_ns (void) {
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * FB_NS_PER_S + ts.tv_nsec;
}

static void s_harvest (fb_http_client_t *client, int64_t until_ns, s_result_t *r) {
    fb_http_result_t done[64];
    int n = fb_http_client_poll (client, until_ns, done, 64);
    for (int i = 0; i < n; i++) {
        r->bytes += done[i].bytes;
        if (done[i].outcome != FB_HTTP_OK || done[i].status >= 500) {
            r->errors++;
            continue;
        }
        r->ok++;
        fb_hist_record (r->latency, done[i].done_ns - done[i].start_ns);
    }
}

/* wrk2's loop on one thread: request k is due at t0 + k / rate (closed loop: whenever a
 * connection is free); a request that finds no free connection waits, and its latency
 * still counts from when it was due. */
static int s_drive (const s_drive_t *d, s_result_t *r) {
    fb_err_t err = {0};
    fb_http_client_cfg_t cfg = {
        .port = d->port, .connections = d->connections, .timeout_ns = 2 * FB_NS_PER_S};
    fb_http_client_t *client = fb_http_client_new (&cfg, &err);
    if (!client || !(r->latency = fb_hist_new_default (&err))) {
        fprintf (stderr, "bench_proxy: %s\n", err.msg);
        fb_http_client_destroy (&client);
        return -1;
    }
    size_t len = strlen (d->request);
    int64_t cpu0 = s_thread_cpu_ns (), t0 = fb_clock_now_ns (), end = t0 + d->duration_ns;
    for (int64_t k = 0;;) {
        int64_t now = fb_clock_now_ns ();
        int64_t due = d->rate > 0 ? t0 + (int64_t)((double)k * 1e9 / d->rate) : now;
        while (due < end && due <= now &&
               fb_http_client_send (client, d->request, len, (uint64_t)k, due) >= 0) {
            k++;
            due = d->rate > 0 ? t0 + (int64_t)((double)k * 1e9 / d->rate) : now;
        }
        if (due >= end && fb_http_client_in_flight (client) == 0)
            break;
        s_harvest (client, due < end && due > now ? due : end + 3 * FB_NS_PER_S, r);
    }
    r->seconds = (double)(fb_clock_now_ns () - t0) / 1e9;
    r->cpu_ns = s_thread_cpu_ns () - cpu0;
    fb_http_client_destroy (&client);
    return 0;
}

static double s_per_cpu_s (const s_result_t *r) {
    return r->cpu_ns > 0 ? (double)r->ok / ((double)r->cpu_ns / 1e9) : 0;
}

static double s_us (const fb_hist_t *h, double pct) {
    return h ? (double)fb_hist_value_at_percentile (h, pct) / 1e3 : -1;
}

/* One line of the table; a negative number prints as "-". */
static void s_row (const char *name, double per_s, double per_cpu_s, double p50_us, double p99_us,
                   const char *note) {
    char cells[4][24];
    double v[4] = {per_s, per_cpu_s, p50_us, p99_us};
    for (int i = 0; i < 4; i++)
        snprintf (cells[i], sizeof cells[i], v[i] < 0 ? "-" : i < 2 ? "%.0f" : "%.1f", v[i]);
    printf ("| %-36s | %8s | %9s | %8s | %8s | %-44s |\n", name, cells[0], cells[1], cells[2],
            cells[3], note);
}

typedef struct {
    const char *name, *path, *headers;
} s_case_t;

/* The same requests straight to the origin and through the proxy, open loop. */
static void s_overhead (const s_case_t *c, int origin_port, int proxy_port, double rate,
                        int64_t duration_ns) {
    s_result_t direct = {0}, proxied = {0};
    char req_direct[512], req_proxy[512], name[64], note[64];
    snprintf (req_direct, sizeof req_direct, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n",
              c->path, origin_port, c->headers);
    snprintf (req_proxy, sizeof req_proxy, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n",
              c->path, proxy_port, c->headers);
    s_drive_t d = {.port = origin_port,
                   .connections = 8,
                   .rate = rate,
                   .duration_ns = duration_ns,
                   .request = req_direct};
    if (s_drive (&d, &direct) != 0)
        return;
    d.port = proxy_port;
    d.request = req_proxy;
    if (s_drive (&d, &proxied) == 0) {
        snprintf (name, sizeof name, "%s, direct", c->name);
        s_row (name, (double)direct.ok / direct.seconds, -1, s_us (direct.latency, 50),
               s_us (direct.latency, 99), direct.errors ? "errors!" : "baseline");
        snprintf (name, sizeof name, "%s, via proxy", c->name);
        snprintf (note, sizeof note, "overhead %+.1f us p50, %+.1f us p99",
                  s_us (proxied.latency, 50) - s_us (direct.latency, 50),
                  s_us (proxied.latency, 99) - s_us (direct.latency, 99));
        s_row (name, (double)proxied.ok / proxied.seconds, -1, s_us (proxied.latency, 50),
               s_us (proxied.latency, 99), proxied.errors ? "errors!" : note);
    }
    fb_hist_destroy (&direct.latency);
    fb_hist_destroy (&proxied.latency);
}

/* The proxy workload through the runner, as an agent runs it: straight to its origin (8 KB
 * page, no gzip), 1 thread, `connections` connections; closed loop when rate is 0. */
static int s_runner (int connections, double rate, int seconds, s_result_t *r, fb_runs_tally_t *t) {
    fb_plan_workload_t plan = fb_runs_plan ("proxy", rate, seconds);
    char conns[16];
    snprintf (conns, sizeof conns, "%d", connections);
    const char *pairs[] = {"target",    "origin",  "paths", "page",        "gzip",
                           "false",     "threads", "1",     "connections", conns,
                           "port_base", "38300",   NULL};
    for (int i = 0; pairs[i]; i += 2)
        fb_runs_param (&plan, pairs[i], pairs[i + 1]);
    fb_runner_result_t res;
    if (fb_runs_workload (&plan, NULL, t, &res) != 0)
        return -1;
    *r = (s_result_t){.ok = res.ops, .cpu_ns = res.worker_cpu_ns, .seconds = seconds};
    return 0;
}

/* Part 1: the proxy workload through the runner and wrk, each on one thread with the same
 * connections, against the same origin (the workload's own, started in its setup; wrk's, the
 * same code and page, started here); then the runner at 80 % of the rate it reached. */
static void s_throughput (int connections, int seconds) {
    fb_err_t err = {0};
    fb_http_origin_cfg_t ocfg = {.port_base = 38200, .threads = 1, .page_bytes = 8192};
    fb_http_origin_t *origin = fb_http_origin_new (&ocfg, &err);
    s_result_t ours = {0}, wrk = {0}, paced = {0};
    fb_runs_tally_t max = {fb_hist_new_default (&err), fb_hist_new_default (&err)};
    fb_runs_tally_t paced_tally = {fb_hist_new_default (&err), fb_hist_new_default (&err)};
    char name[64], note[64];
    if (!origin || !max.latency || !max.sched_lag || !paced_tally.latency ||
        !paced_tally.sched_lag || s_runner (connections, 0, seconds, &ours, &max) != 0)
        goto done;
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/page", fb_http_origin_port (origin));
    fb_peer_result_t peer;
    bool have_wrk = fb_peer_wrk (url, connections, seconds, &peer) == 0;
    wrk = (s_result_t){.ok = peer.requests, .cpu_ns = peer.cpu_ns, .seconds = peer.seconds};
    snprintf (name, sizeof name, "wrk -t1 -c%d, origin /page", connections);
    if (have_wrk)
        s_row (name, (double)wrk.ok / wrk.seconds, s_per_cpu_s (&wrk), -1, -1, "reference");
    else
        s_row (name, -1, -1, -1, -1, "wrk missing or failed");
    snprintf (name, sizeof name, "runner, proxy kind, 1 thread, -c%d", connections);
    snprintf (note, sizeof note, "%.2fx wrk's requests per CPU-s",
              have_wrk ? s_per_cpu_s (&ours) / s_per_cpu_s (&wrk) : 0);
    s_row (name, (double)ours.ok / ours.seconds, s_per_cpu_s (&ours), s_us (max.latency, 50),
           s_us (max.latency, 99), have_wrk ? note : "");
    for (int pct = 80; pct >= 50; pct -= 30) {
        double rate = pct / 100.0 * (double)ours.ok / ours.seconds;
        fb_hist_reset (paced_tally.latency);
        fb_hist_reset (paced_tally.sched_lag);
        if (rate < 1 || s_runner (connections, rate, seconds, &paced, &paced_tally) != 0)
            break;
        snprintf (name, sizeof name, "runner at %d%% (%.0f/s), -c%d", pct, rate, connections);
        snprintf (note, sizeof note, "schedule lag p50 %.1f us, p99 %.1f us",
                  s_us (paced_tally.sched_lag, 50), s_us (paced_tally.sched_lag, 99));
        s_row (name, (double)paced.ok / paced.seconds, s_per_cpu_s (&paced),
               s_us (paced_tally.latency, 50), s_us (paced_tally.latency, 99), note);
    }
done:
    if (err.msg[0])
        fprintf (stderr, "bench_proxy: %s\n", err.msg);
    fb_hist_destroy (&max.latency);
    fb_hist_destroy (&max.sched_lag);
    fb_hist_destroy (&paced_tally.latency);
    fb_hist_destroy (&paced_tally.sched_lag);
    fb_http_origin_destroy (&origin);
}

int main (int argc, char **argv) {
    int seconds = argc > 1 ? atoi (argv[1]) : 2;
    int connections = argc > 2 ? atoi (argv[2]) : 0;
    double rate = argc > 3 ? atof (argv[3]) : 250;
    if (seconds < 1 || connections < 0 || rate <= 0) {
        fprintf (stderr, "usage: bench_proxy [seconds-per-case] [connections] [rate/s]\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    struct rlimit nofile; /* 1024 connections, and the origin's ends of them */
    if (getrlimit (RLIMIT_NOFILE, &nofile) == 0) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit (RLIMIT_NOFILE, &nofile);
    }
    fb_err_t err = {0};
    fb_http_origin_cfg_t ocfg = {
        .port_base = 38080, .threads = 1, .page_bytes = 8192, .gzip = true};
    fb_http_origin_t *origin = fb_http_origin_new (&ocfg, &err);
    fb_http_proxy_cfg_t pcfg = {.port_base = 38180,
                                .threads = 1,
                                .history = 1000,
                                .inject = true,
                                .script_bytes = 96 * 1024,
                                .timeout_ns = 2 * FB_NS_PER_S};
    fb_http_proxy_t *proxy = origin ? fb_http_proxy_new (&pcfg, &err) : NULL;
    int origin_port = origin ? fb_http_origin_port (origin) : 0, proxy_port = 0;
    int64_t t0 = fb_clock_now_ns ();
    if (!proxy || fb_http_proxy_register (proxy, origin_port, "web", &proxy_port, &err) != 0) {
        fprintf (stderr, "bench_proxy: %s\n", err.msg);
        fb_http_proxy_destroy (&proxy);
        fb_http_origin_destroy (&origin);
        return 1;
    }
    double register_us = (double)(fb_clock_now_ns () - t0) / 1e3;

    printf ("proxy bench: origin 8 KB page (gzip), proxy injecting a 96 KB script, %d s per "
            "case, open loop at %.0f/s on 8 connections\n\n",
            seconds, rate);
    printf ("| %-36s | %8s | %9s | %8s | %8s | %-44s |\n", "case", "req/s", "req/CPU-s", "p50 us",
            "p99 us", "note");
    printf ("|%.38s|%.10s|%.11s|%.10s|%.10s|%.46s|\n", "--------------------------------------",
            "----------", "-----------", "----------", "----------",
            "----------------------------------------------");
    if (connections > 0)
        s_throughput (connections, seconds);
    else /* wrk's own figures: 1, 64 and 1024 connections */
        for (int c = 1; c <= 1024; c = c == 1 ? 64 : c * 16)
            s_throughput (c, seconds);
    static const s_case_t cases[] = {
        {"page 8KB gzip, injected", "/page",
         "Accept: text/html,*/*;q=0.8\r\nAccept-Encoding: gzip\r\nSec-Fetch-Mode: navigate\r\n"},
        {"json 1.5KB gzip, streamed", "/api/items.json",
         "Accept: application/json\r\nAccept-Encoding: gzip\r\nSec-Fetch-Mode: cors\r\n"},
        {"static js 32KB, streamed", "/static/app.js", "Accept: */*\r\n"},
    };
    fb_hist_t *inject = fb_hist_new_default (&err);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_overhead (&cases[i], origin_port, proxy_port, rate, seconds * FB_NS_PER_S);
        if (i == 0 && inject)
            fb_http_proxy_drain_inject (proxy, inject, NULL);
    }
    s_row ("proxy: injection (gunzip+insert+gzip)", -1, -1, s_us (inject, 50), s_us (inject, 99),
           "seed: 245 us small page");
    char note[64];
    snprintf (note, sizeof note, "seed: 125 us port + 2.3 ms start");
    s_row ("proxy: URL registration (one)", -1, -1, register_us, -1, note);
    printf ("\nseed (Brummer, Go): request overhead ~1.7 us (lock, record, history, event);"
            " injection 245 us (<10 KB) / 2.8 ms (>100 KB).\n");
    fb_hist_destroy (&inject);
    fb_http_proxy_destroy (&proxy);
    fb_http_origin_destroy (&origin);
    return 0;
}

/* bench_proxy.c: the proxy workload's two questions, in one table.
 *
 * 1. Is our load client efficient? Our client (one thread, C keep-alive connections, epoll,
 *    a new request as soon as a connection is free) and wrk (-t1 -cC) hit the same origin
 *    with the same request for the same time; we print requests per CPU-second of the
 *    client alone (its thread's CPU time; wrk's from its rusage) and their ratio.
 * 2. What does the proxy cost? Open loop at a fixed rate (latency from each request's
 *    intended start, as wrk2), the same requests straight to the origin and through the
 *    proxy; the difference at p50 and p99 is the proxy's overhead, next to the seed's
 *    figures (request overhead ~1.7 us, injection 245 us for a small page).
 *
 * Everything runs on 127.0.0.1 in this process (wrk as a child). Not a test: it asserts
 * nothing and prints numbers.
 *
 *   bench_proxy [seconds-per-case] [connections] [rate/s]     defaults: 2 32 250 */
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

/* wrk -t1 -cC -dS on the same URL; fills ok (requests) and cpu_ns (its user + system). */
static int s_wrk (int port, int connections, int seconds, s_result_t *r) {
    char url[64], conns[16], dur[16];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/page", port);
    snprintf (conns, sizeof conns, "-c%d", connections);
    snprintf (dur, sizeof dur, "-d%ds", seconds);
    int out[2];
    if (pipe (out) != 0)
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (out[1], 1);
        close (out[0]);
        execlp ("wrk", "wrk", "-t1", conns, dur, url, (char *)NULL);
        _exit (127);
    }
    close (out[1]);
    char text[4096] = "";
    size_t have = 0;
    ssize_t n;
    while (have < sizeof text - 1 && (n = read (out[0], text + have, sizeof text - 1 - have)) > 0)
        have += (size_t)n;
    text[have] = '\0';
    close (out[0]);
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4 (pid, &status, 0, &ru) != pid || !WIFEXITED (status) ||
        WEXITSTATUS (status) != 0)
        return -1;
    const char *at = strstr (text, " requests in ");
    while (at && at > text && at[-1] != ' ' && at[-1] != '\n')
        at--;
    r->ok = at ? atoll (at) : 0;
    r->cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * FB_NS_PER_S +
                ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
    r->seconds = seconds;
    return r->ok > 0 ? 0 : -1;
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

/* Part 1: our client and wrk, same origin, same request, same connections. */
static void s_throughput (int origin_port, int connections, int seconds) {
    char req[128];
    snprintf (req, sizeof req, "GET /page HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", origin_port);
    s_drive_t d = {.port = origin_port,
                   .connections = connections,
                   .duration_ns = 300 * FB_NS_PER_MS,
                   .request = req};
    s_result_t warm = {0}, ours = {0}, wrk = {0};
    s_drive (&d, &warm); /* connections made, caches warm */
    fb_hist_destroy (&warm.latency);
    d.duration_ns = seconds * FB_NS_PER_S;
    if (s_drive (&d, &ours) != 0)
        return;
    char name[64], note[64];
    bool have_wrk = s_wrk (origin_port, connections, seconds, &wrk) == 0;
    snprintf (name, sizeof name, "wrk -t1 -c%d, origin /page", connections);
    if (have_wrk)
        s_row (name, (double)wrk.ok / wrk.seconds, s_per_cpu_s (&wrk), -1, -1, "reference");
    else
        s_row (name, -1, -1, -1, -1, "wrk missing or failed");
    snprintf (name, sizeof name, "our client 1 thread, -c%d, same", connections);
    snprintf (note, sizeof note, "%.2fx wrk's requests per CPU-s",
              have_wrk ? s_per_cpu_s (&ours) / s_per_cpu_s (&wrk) : 0);
    s_row (name, (double)ours.ok / ours.seconds, s_per_cpu_s (&ours), s_us (ours.latency, 50),
           s_us (ours.latency, 99), have_wrk ? note : "");
    fb_hist_destroy (&ours.latency);
}

int main (int argc, char **argv) {
    int seconds = argc > 1 ? atoi (argv[1]) : 2;
    int connections = argc > 2 ? atoi (argv[2]) : 32;
    double rate = argc > 3 ? atof (argv[3]) : 250;
    if (seconds < 1 || connections < 1 || rate <= 0) {
        fprintf (stderr, "usage: bench_proxy [seconds-per-case] [connections] [rate/s]\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
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
    s_throughput (origin_port, connections, seconds);
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

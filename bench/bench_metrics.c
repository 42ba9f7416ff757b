/* bench_metrics.c: what --metrics costs the coordinator. A run of N hosts and three workloads
 * (three latency metrics of a few thousand samples and eight counters each, as a busy eventbus
 * host reports them) is built in memory; we time one rendering of the Prometheus text next to
 * the floor the coordinator pays anyway for one interval: merging one report per host and
 * workload. The text is rendered at most every 250 ms, or 20 renderings' time apart when that
 * is longer, so its share of the coordinator's time stays under about 5 %.
 *   bench_metrics [N...]            (default 20 200 1000)
 * Built with the tree; run by ./bench.sh, not a test. */
#include "common/clock.h"
#include "common/hist_compact.h"
#include "common/rng.h"
#include "common/stats.h"
#include "coordinator/metrics.h"
#include "coordinator/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WORKLOADS 3
#define S_ROUNDS 5

static const char s_yaml[] = "name: bench\n"
                             "agents: { expect: 1 }\n"
                             "defaults: { duration: 10s, warmup: 0s, interval: 1s }\n"
                             "workloads:\n"
                             "  - { name: a, kind: eventbus, rate: 1000/s }\n"
                             "  - { name: b, kind: eventbus }\n"
                             "  - { name: c, kind: eventbus }\n";

/* One interval of one host and workload: log-normal latencies around 20 us and counters. */
static void s_interval (fb_stats_t *st, uint64_t *x) {
    static const char *const metrics[] = {"latency", "service", "sched_lag"};
    static const char *const counters[] = {"ops",       "errors", "drops",  "handled",
                                           "overflows", "cpu",    "missed", "abandoned"};
    fb_hist_t *h = fb_hist_new_default (NULL);
    for (int m = 0; h && m < 3; m++) {
        fb_hist_reset (h);
        for (int i = 0; i < 3000; i++) {
            double u1 = fb_rng_unit (x), u2 = fb_rng_unit (x);
            double z = sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
            fb_hist_record (h, (int64_t)(20000.0 * (m + 1) * exp (0.8 * z)));
        }
        fb_hist_compact_merge_hist (fb_stats_metric (st, metrics[m], NULL), h, NULL);
    }
    fb_hist_destroy (&h);
    for (int c = 0; c < 8; c++)
        fb_stats_add_counter (st, counters[c], FB_COUNTER_SUM, 3000, NULL);
    fb_stats_add_counter (st, "rss", FB_COUNTER_MAX, 50 << 20, NULL);
    fb_stats_add_counter (st, "steal", FB_COUNTER_MAX, 0, NULL);
}

static double s_bench (const fb_scenario_t *sc, int n, size_t *bytes, double *merge_ms) {
    fb_run_t *run = calloc (1, sizeof *run);
    run->sc = sc;
    snprintf (run->run_id, sizeof run->run_id, "bench");
    uint64_t x = 88172645463325252ULL;
    fb_stats_t one;
    fb_stats_init (&one);
    s_interval (&one, &x);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf (id, sizeof id, "host-%04d", i);
        fb_host_t *h = fb_run_add_host (run, id, NULL);
        h->state = FB_HOST_RUNNING;
        h->reports = 30;
        for (int w = 0; w < S_WORKLOADS; w++)
            s_interval (&h->stats[w], &x);
    }
    double best = 1e30, best_merge = 1e30;
    for (int r = 0; r < S_ROUNDS; r++) {
        char *text = NULL;
        FILE *out = open_memstream (&text, bytes);
        int64_t t0 = fb_clock_now_ns ();
        fb_metrics_render (run, "run", out);
        fclose (out);
        double ms = (fb_clock_now_ns () - t0) / 1e6;
        best = ms < best ? ms : best;
        free (text);
        t0 = fb_clock_now_ns ();
        for (int i = 0; i < n; i++)
            for (int w = 0; w < S_WORKLOADS; w++)
                fb_stats_merge (&run->hosts[i]->stats[w], &one, NULL);
        ms = (fb_clock_now_ns () - t0) / 1e6;
        best_merge = ms < best_merge ? ms : best_merge;
    }
    *merge_ms = best_merge;
    fb_stats_clear (&one);
    fb_run_clear (run);
    free (run);
    return best;
}

int main (int argc, char **argv) {
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_parse (s_yaml, strlen (s_yaml), "bench.yaml", &err);
    if (!sc) {
        fprintf (stderr, "bench_metrics: %s\n", err.msg);
        return 1;
    }
    int def[] = {20, 200, 1000};
    int count = argc > 1 ? argc - 1 : 3;
    printf ("%6s %10s %10s %12s %8s %14s\n", "hosts", "text KiB", "render ms", "merge ms (1s)",
            "ratio", "share of 1 s");
    for (int i = 0; i < count; i++) {
        int n = argc > 1 ? atoi (argv[i + 1]) : def[i];
        if (n < 1 || n > 100000)
            continue;
        size_t bytes = 0;
        double merge = 0, ms = s_bench (sc, n, &bytes, &merge);
        double period = ms * 20 > 250 ? ms * 20 : 250; /* fb_metrics_update's pace */
        printf ("%6d %10.0f %10.2f %12.2f %8.2f %13.1f%%\n", n, bytes / 1024.0, ms, merge,
                ms / merge, 100 * ms / period);
    }
    fb_scenario_destroy (&sc);
    return 0;
}

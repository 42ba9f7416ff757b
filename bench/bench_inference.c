/* bench_inference.c: what the bootstrap costs. 1000 resamples of 60 one-second intervals
 * (1000 latencies each, log-uniform 50 us .. 50 ms: ~2000 distinct buckets) for p50, p95,
 * p99, mean and throughput, one run and five runs; then a gate's comparison of one run with a
 * five-run baseline. Next to it, the floor: merging the same 60 intervals once as full
 * histograms (what one resample would cost done the naive way), times 1000. */
#include "common/clock.h"
#include "common/hist.h"
#include "common/rng.h"
#include "coordinator/inference.h"
#include "coordinator/samples.h"

#include <math.h>
#include <stdio.h>

#define S_INTERVALS 60
#define S_PER 1000

static fb_samples_t *s_samples (int runs, uint64_t *rng, fb_hist_t **hists) {
    fb_samples_t *s = fb_samples_new (NULL);
    fb_hist_t *h = fb_hist_new_default (NULL);
    for (int r = 0; r < runs; r++) {
        fb_samples_begin_run (s, NULL);
        for (int i = 0; i < S_INTERVALS; i++) {
            fb_hist_reset (h);
            for (int k = 0; k < S_PER; k++)
                fb_hist_record (h, (int64_t)(50000.0 * pow (1000.0, fb_rng_unit (rng))));
            fb_samples_add_hist (s, i, "latency", h, NULL);
            fb_samples_add_counts (s, i, S_PER, 0, 1000000000, NULL);
            if (hists && r == 0)
                hists[i] = fb_hist_copy (h, NULL);
        }
    }
    fb_hist_destroy (&h);
    return s;
}

static double s_ci_ms (const fb_samples_t *s) {
    static const char *const names[] = {"p50", "p95", "p99", "mean", "throughput"};
    fb_inference_opts_t o;
    fb_inference_opts_default (&o);
    int64_t t0 = fb_clock_now_ns ();
    for (int m = 0; m < 5; m++) {
        fb_measure_t measure;
        fb_target_measure_parse (names[m], NULL, &measure, NULL);
        fb_inference_ci_t ci;
        fb_inference_ci (s, &measure, &o, &ci, NULL);
    }
    return (fb_clock_now_ns () - t0) / 1e6;
}

int main (void) {
    uint64_t rng = 42;
    fb_hist_t *hists[S_INTERVALS];
    fb_samples_t *one = s_samples (1, &rng, hists);
    fb_samples_t *five = s_samples (5, &rng, NULL);
    double one_ms = s_ci_ms (one), five_ms = s_ci_ms (five);
    fb_inference_opts_t o;
    fb_inference_opts_default (&o);
    fb_measure_t p95;
    fb_target_measure_parse ("p95", NULL, &p95, NULL);
    fb_inference_decision_t d;
    int64_t t0 = fb_clock_now_ns ();
    fb_inference_compare (one, five, &p95, 0.2, &o, &d, NULL);
    double gate_ms = (fb_clock_now_ns () - t0) / 1e6;
    /* floor: 60 full-histogram merges and one percentile, 1000 times */
    fb_hist_t *acc = fb_hist_new_default (NULL);
    t0 = fb_clock_now_ns ();
    for (int b = 0; b < 1000; b++) {
        fb_hist_reset (acc);
        for (int i = 0; i < S_INTERVALS; i++)
            fb_hist_merge (acc, hists[(i * 7 + b) % S_INTERVALS], NULL);
        fb_hist_value_at_percentile (acc, 95);
    }
    double naive_ms = (fb_clock_now_ns () - t0) / 1e6;
    printf ("bootstrap, 1000 resamples of %d intervals x %d ops, 5 statistics\n", S_INTERVALS,
            S_PER);
    printf ("  %-44s %9.1f ms\n", "one run (60 intervals), 5 statistics", one_ms);
    printf ("  %-44s %9.1f ms\n", "five runs (300 intervals), 5 statistics", five_ms);
    printf ("  %-44s %9.1f ms\n", "gate: one run vs five-run baseline, p95", gate_ms);
    printf ("  %-44s %9.1f ms  (1 statistic; ours per statistic: %.1f ms, %.1fx)\n",
            "floor: full-histogram merges, 1000 x 60", naive_ms, one_ms / 5,
            naive_ms / (one_ms / 5));
    for (int i = 0; i < S_INTERVALS; i++)
        fb_hist_destroy (&hists[i]);
    fb_hist_destroy (&acc);
    fb_samples_destroy (&one);
    fb_samples_destroy (&five);
    return 0;
}

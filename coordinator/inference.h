/* inference.h: confidence intervals and gate decisions from measured intervals (samples.h).
 * The bootstrap resamples runs (or repetitions), then blocks of adjacent intervals within each
 * chosen run, and adds their histogram counts; the statistic of the exact merge of every
 * interval stays the point estimate. docs/statistics.md explains the model and the rule. */
#ifndef FB_INFERENCE_H
#define FB_INFERENCE_H

#include "common/err.h"
#include "coordinator/samples.h"
#include "coordinator/target.h"

#include <stdbool.h>
#include <stdint.h>

#define FB_INFERENCE_RESAMPLES 1000
#define FB_INFERENCE_CONFIDENCE 0.95
#define FB_INFERENCE_RANK_RUNS 5 /* runs a side needs for the rank interval of the ratio */

typedef struct {
    int resamples;     /* bootstrap replicates, 100..100000 */
    double confidence; /* level of the two-sided interval, 0.5..0.999 */
    uint64_t seed;     /* the same data and seed give the same interval */
    int block;         /* adjacent intervals resampled together; 0: cube root of the count */
} fb_inference_opts_t;

typedef struct {
    double point;      /* the statistic of every interval merged */
    double lo, hi;     /* the confidence interval (lo = hi = point when it cannot be had) */
    int runs;          /* top-level units: runs or repetitions */
    int intervals;     /* measured intervals in all of them */
    bool between_runs; /* the interval includes run-to-run variance (two runs or more) */
} fb_inference_ci_t;

typedef enum {
    FB_INFERENCE_HELD,
    FB_INFERENCE_FAILED,
    FB_INFERENCE_INCONCLUSIVE,
} fb_inference_verdict_t;

typedef struct {
    fb_inference_ci_t current, baseline;
    fb_inference_ci_t ratio; /* current / baseline */
    double limit;            /* the ratio the gate allows: 1 + max_regression (1 - for
                                throughput) */
    fb_inference_verdict_t verdict;
    bool by_rank;     /* the ratio's interval is the rank interval of the runs (rank.h) */
    int set_aside[2]; /* runs of the current side and the baseline left out as far (rank.h) */
    char why[240];    /* one sentence: what the interval shows */
} fb_inference_decision_t;

void fb_inference_opts_default (fb_inference_opts_t *opts);

/* The statistic of measure (percentile, mean, min, max, throughput, errors) with its interval.
 * Error when the samples lack the metric or hold no interval; counters are not resampled. */
int fb_inference_ci (const fb_samples_t *samples, const fb_measure_t *measure,
                     const fb_inference_opts_t *opts, fb_inference_ci_t *ci, fb_err_t *err);
/* The intervals of measures[n] of one histogram metric (throughput and errors go with any),
 * each the one fb_inference_ci gives it, from one set of draws: a fleet's per-host intervals at
 * a fraction of the cost. Measures of several metrics are taken one by one. */
#define FB_INFERENCE_MANY_MAX 8
int fb_inference_ci_many (const fb_samples_t *samples, const fb_measure_t *measures, int n,
                          const fb_inference_opts_t *opts, fb_inference_ci_t *cis, fb_err_t *err);

/* The ratio current / baseline of measure with its interval, and the gate's verdict. The
 * interval is the rank interval of the runs' own statistics when each side has
 * FB_INFERENCE_RANK_RUNS runs, the bootstrap's otherwise. The verdict is
 * failed when the whole interval is past the limit, held when it is all within, inconclusive
 * otherwise, and inconclusive when neither side has two runs (run-to-run variance unknown). */
int fb_inference_compare (const fb_samples_t *current, const fb_samples_t *baseline,
                          const fb_measure_t *measure, double max_regression,
                          const fb_inference_opts_t *opts, fb_inference_decision_t *d,
                          fb_err_t *err);

/* Quantile q (0..1) of Student's t with df degrees of freedom (df <= 0: the normal). */
double fb_inference_t_quantile (double q, int df);

#endif

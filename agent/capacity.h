/* capacity.h: a host's capacity search. The workload runs its steps (stages of rising rates,
 * open loop); after each step the step's percentile of the objective's metric is judged
 * against the limit with its 95 % interval, as gates are judged: a step passes when the whole
 * interval meets the objective, fails when none of it does, and is unsure otherwise. Two
 * failing steps in a row end the search. The capacity is the highest rate of a step that
 * passed (0 when none did). */
#ifndef FB_CAPACITY_H
#define FB_CAPACITY_H

#include "common/hist.h"
#include "common/wire.h"

#include <stdbool.h>

typedef enum { FB_CAPACITY_PASS, FB_CAPACITY_FAIL, FB_CAPACITY_UNSURE } fb_capacity_verdict_t;

typedef struct {
    double best_per_s; /* the highest passing step's rate so far */
    int failed_in_row;
    int steps;  /* judged so far */
    int unsure; /* of them, steps whose interval straddled the limit */
    bool done;  /* two failures in a row */
} fb_capacity_t;

/* The 95 % interval of the step's percentile p from its n samples in hist: the values at the
 * ranks n p -/+ 1.96 sqrt (n p (1 - p)), rounded outward (the distribution-free interval of a
 * quantile, by the normal approximation to the binomial). A rank below the first sample gives
 * lo -1, past the last hi INT64_MAX: too few samples to bound it (a p99 needs about 300 to
 * pass, 1000 for a p99.9). */
void fb_capacity_interval (const fb_hist_t *hist, double percentile, int64_t *lo, int64_t *hi);
/* The verdict on a step whose samples are in hist against plan's objective. A step without
 * samples (no operation ended) fails. */
fb_capacity_verdict_t fb_capacity_judge (const fb_plan_workload_t *plan, const fb_hist_t *hist);
/* Books one judged step at rate_per_s: a pass may raise the capacity and ends a run of
 * failures, a failure extends it, an unsure step does neither. True when the search is over. */
bool fb_capacity_step (fb_capacity_t *self, double rate_per_s, fb_capacity_verdict_t verdict);

#endif

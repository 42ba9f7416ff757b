/* capacity.h: a host's capacity search. The workload runs its steps (stages of rising rates,
 * open loop); after each step the step's percentile of the objective's metric is judged
 * against the limit, and two failing steps in a row end the search. The capacity is the
 * highest rate of a step that passed (0 when none did). */
#ifndef FB_CAPACITY_H
#define FB_CAPACITY_H

#include "common/hist.h"
#include "common/wire.h"

#include <stdbool.h>

typedef struct {
    double best_per_s; /* the highest passing step's rate so far */
    int failed_in_row;
    int steps; /* judged so far */
    bool done; /* two failures in a row */
} fb_capacity_t;

/* Does a step whose samples are in hist meet plan's objective? A step without samples (no
 * operation ended) does not. */
bool fb_capacity_passes (const fb_plan_workload_t *plan, const fb_hist_t *hist);
/* Books one judged step at rate_per_s; true when the search is over. */
bool fb_capacity_step (fb_capacity_t *self, double rate_per_s, bool passed);

#endif

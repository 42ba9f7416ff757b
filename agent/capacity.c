/* capacity.c: the capacity search's decisions (capacity.h); the runner owns the steps. Two
 * failures in a row, not one: a single step can fail on a hiccup of the host (a page cache
 * flush, a timer tick storm) and the next one, higher still, passing says the first was
 * noise; a rate that is really past the knee fails again. And a step is judged with its
 * interval, not its point: a p99 from a few hundred samples can land on either side of the
 * limit by chance, and such a step says nothing either way. */
#include "agent/capacity.h"

#include <math.h>
#include <stdint.h>

#define S_Z95 1.959964

void fb_capacity_interval (const fb_hist_t *hist, double percentile, int64_t *lo, int64_t *hi) {
    double n = (double)fb_hist_count (hist), p = percentile / 100;
    double half = S_Z95 * sqrt (n * p * (1 - p));
    double rank_lo = floor (n * p - half), rank_hi = ceil (n * p + half);
    /* Half a rank below each: the nearest-rank lookup (ceil) lands on the rank itself. Past
     * the samples, the interval is open: the largest sample says nothing of a p99 from 100
     * samples. */
    *lo = rank_lo < 1 ? -1 : fb_hist_value_at_percentile (hist, 100 * (rank_lo - 0.5) / n);
    *hi = rank_hi > n ? INT64_MAX : fb_hist_value_at_percentile (hist, 100 * (rank_hi - 0.5) / n);
}

/* Whether value meets the objective's limit. */
static bool s_meets (const fb_plan_workload_t *plan, int64_t value) {
    return plan->capacity_inclusive ? value <= plan->capacity_limit_ns
                                    : value < plan->capacity_limit_ns;
}

fb_capacity_verdict_t fb_capacity_judge (const fb_plan_workload_t *plan, const fb_hist_t *hist) {
    if (!hist || fb_hist_count (hist) == 0)
        return FB_CAPACITY_FAIL;
    int64_t lo, hi;
    fb_capacity_interval (hist, plan->capacity_percentile, &lo, &hi);
    if (s_meets (plan, hi))
        return FB_CAPACITY_PASS;
    return s_meets (plan, lo) ? FB_CAPACITY_UNSURE : FB_CAPACITY_FAIL;
}

bool fb_capacity_step (fb_capacity_t *self, double rate_per_s, fb_capacity_verdict_t verdict) {
    if (self->done)
        return true;
    self->steps++;
    if (verdict == FB_CAPACITY_PASS) {
        self->failed_in_row = 0;
        if (rate_per_s > self->best_per_s)
            self->best_per_s = rate_per_s;
    } else if (verdict == FB_CAPACITY_UNSURE) {
        self->unsure++;
    } else if (++self->failed_in_row >= 2) {
        self->done = true;
    }
    return self->done;
}

/* capacity.c: the capacity search's decisions (capacity.h); the runner owns the steps. Two
 * failures in a row, not one: a single step can fail on a hiccup of the host (a page cache
 * flush, a timer tick storm) and the next one, higher still, passing says the first was
 * noise; a rate that is really past the knee fails again. */
#include "agent/capacity.h"

bool fb_capacity_passes (const fb_plan_workload_t *plan, const fb_hist_t *hist) {
    if (!hist || fb_hist_count (hist) == 0)
        return false;
    int64_t value = fb_hist_value_at_percentile (hist, plan->capacity_percentile);
    return plan->capacity_inclusive ? value <= plan->capacity_limit_ns
                                    : value < plan->capacity_limit_ns;
}

bool fb_capacity_step (fb_capacity_t *self, double rate_per_s, bool passed) {
    if (self->done)
        return true;
    self->steps++;
    if (passed) {
        self->failed_in_row = 0;
        if (rate_per_s > self->best_per_s)
            self->best_per_s = rate_per_s;
    } else if (++self->failed_in_row >= 2) {
        self->done = true;
    }
    return self->done;
}

/* schedule.c: the open-loop schedule (schedule.h): the planned count of operations over time
 * and its inverse, segment by segment.
 *
 * In a segment of length D (s) whose rate moves linearly from a to b (per s), the operations
 * planned in its first t seconds are y(t) = a t + (b - a) t^2 / (2 D). Its inverse, the root
 * of that quadratic written so that it neither divides by b - a nor loses digits when b is
 * close to a, is t = 2 y / (a + sqrt (a^2 + 2 (b - a) y / D)); with a = b it is y / a. */
#include "agent/schedule.h"

#include "common/clock.h"
#include "common/rng.h"

#include <math.h>
#include <string.h>

static uint64_t s_splitmix (uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double s_seg_ops (const fb_schedule_t *self, int i, double t_s) {
    double a = self->seg[i].from_per_s, b = self->seg[i].to_per_s;
    double d = self->seg[i].length_ns / 1e9;
    return a * t_s + (b - a) * t_s * t_s / (2 * d);
}

static int s_add (fb_schedule_t *self, int64_t length_ns, double from, double to) {
    if (length_ns <= 0)
        return 0;
    int i = self->n++;
    self->seg[i].start_ns = self->length_ns;
    self->seg[i].length_ns = length_ns;
    self->seg[i].from_per_s = from;
    self->seg[i].to_per_s = to;
    self->seg[i].ops_before = self->total_ops;
    self->length_ns += length_ns;
    self->total_ops += s_seg_ops (self, i, length_ns / 1e9);
    return 0;
}

static int s_check_stages (const fb_plan_workload_t *plan, double max_rate, fb_err_t *err) {
    if (plan->n_stages < 0 || plan->n_stages > FB_MAX_STAGES)
        return fb_err_set (err, FB_EINPUT, "%d stages, at most %d are allowed", plan->n_stages,
                           FB_MAX_STAGES);
    int64_t sum = 0;
    for (int i = 0; i < plan->n_stages; i++) {
        const fb_plan_stage_t *st = &plan->stages[i];
        if (st->duration_ns <= 0 || !(st->rate_per_s > 0 && st->rate_per_s <= max_rate))
            return fb_err_set (err, FB_EINPUT,
                               "stage %d must last more than 0 s at a rate of more than 0/s and "
                               "at most %.0f/s (got %.3f s at %g/s)",
                               i + 1, max_rate, st->duration_ns / 1e9, st->rate_per_s);
        if (__builtin_add_overflow (sum, st->duration_ns, &sum))
            return fb_err_set (err, FB_EINPUT, "the stages are too long");
    }
    if (plan->n_stages > 0 && sum != plan->duration_ns)
        return fb_err_set (err, FB_EINPUT, "the stages last %lld ns, the duration is %lld ns",
                           (long long)sum, (long long)plan->duration_ns);
    return 0;
}

int fb_schedule_init (fb_schedule_t *self, const fb_plan_workload_t *plan, double max_rate_per_s,
                      fb_err_t *err) {
    memset (self, 0, sizeof *self);
    if (s_check_stages (plan, max_rate_per_s, err) != 0)
        return -1;
    if (plan->n_stages == 0 && !(plan->rate_per_s > 0))
        return fb_err_set (err, FB_EINPUT, "a schedule needs a rate or stages (closed loop)");
    self->arrivals = plan->arrivals;
    self->seed = plan->seed;
    if (plan->n_stages == 0) {
        s_add (self, plan->warmup_ns + plan->duration_ns, plan->rate_per_s, plan->rate_per_s);
        return 0;
    }
    double first = plan->stages[0].rate_per_s;
    s_add (self, plan->warmup_ns, first, first); /* the warm-up at the first stage's rate */
    for (int i = 0; i < plan->n_stages; i++) {
        const fb_plan_stage_t *st = &plan->stages[i];
        double from =
            plan->ramp == FB_RAMP_LINEAR && i > 0 ? plan->stages[i - 1].rate_per_s : st->rate_per_s;
        s_add (self, st->duration_ns, from, st->rate_per_s);
    }
    return 0;
}

double fb_schedule_ops_before (const fb_schedule_t *self, int64_t offset_ns) {
    if (offset_ns <= 0)
        return 0;
    if (offset_ns >= self->length_ns)
        return self->total_ops;
    int i = self->n - 1;
    while (i > 0 && self->seg[i].start_ns > offset_ns)
        i--;
    return self->seg[i].ops_before + s_seg_ops (self, i, (offset_ns - self->seg[i].start_ns) / 1e9);
}

int64_t fb_schedule_offset_ns (const fb_schedule_t *self, double ops) {
    if (!(ops < self->total_ops))
        return self->length_ns;
    if (ops <= 0)
        return 0;
    int lo = 0, hi = self->n - 1; /* the last segment that begins at or before ops */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (self->seg[mid].ops_before <= ops)
            lo = mid;
        else
            hi = mid - 1;
    }
    double a = self->seg[lo].from_per_s, b = self->seg[lo].to_per_s;
    double d = self->seg[lo].length_ns / 1e9, y = ops - self->seg[lo].ops_before;
    double disc = a * a + 2 * (b - a) * y / d;
    double t = 2 * y / (a + sqrt (disc > 0 ? disc : 0));
    int64_t at = self->seg[lo].start_ns + (int64_t)(t * 1e9);
    int64_t end = self->seg[lo].start_ns + self->seg[lo].length_ns;
    return at < end ? at : end - 1; /* rounding never moves it into the next segment */
}

double fb_schedule_rate_between (const fb_schedule_t *self, int64_t from_ns, int64_t to_ns) {
    if (to_ns > self->length_ns)
        to_ns = self->length_ns;
    if (from_ns < 0)
        from_ns = 0;
    if (to_ns <= from_ns)
        return 0;
    double ops = fb_schedule_ops_before (self, to_ns) - fb_schedule_ops_before (self, from_ns);
    return ops * 1e9 / (double)(to_ns - from_ns);
}

void fb_schedule_cursor_init (fb_schedule_cursor_t *cursor, const fb_schedule_t *self, int worker,
                              int workers) {
    cursor->poisson = self->arrivals == FB_ARRIVALS_POISSON;
    cursor->step = workers > 0 ? workers : 1;
    cursor->x = cursor->poisson ? 0 : worker - cursor->step;
    /* Each worker its own stream: the seed mixed with its index, never 0 (xorshift's fixed
     * point). */
    cursor->rng = s_splitmix (self->seed ^ s_splitmix ((uint64_t)worker + 1)) | 1;
}

int64_t fb_schedule_next_ns (const fb_schedule_t *self, fb_schedule_cursor_t *cursor) {
    /* Poisson: a gap of -ln U (U uniform in (0, 1]) is exponential of mean 1; a worker's
     * process runs at 1/workers of the rate, so its gaps on the count axis have mean workers. */
    cursor->x += cursor->poisson ? -log (fb_rng_unit (&cursor->rng)) * cursor->step : cursor->step;
    return fb_schedule_offset_ns (self, cursor->x);
}

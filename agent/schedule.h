/* schedule.h: the open-loop schedule of one workload on one host: when each planned operation
 * should start. The planned rate over time (a constant rate, or stages with step or linear
 * ramps, the warm-up at the first rate) gives the expected count of operations by each instant,
 * ops(t), the integral of the rate. Operation positions are numbers on that count axis: the
 * n-th of evenly spaced arrivals is at n, and a Poisson process of the planned rate has
 * exponential gaps of mean 1 there. An operation at position x starts at ops^-1(x), so every
 * shape and both arrival kinds share one inverse. Workers interleave: worker w of W takes
 * positions w, w + W, w + 2W... (uniform) or runs its own Poisson process of 1/W of the rate,
 * whose superposition is the planned Poisson process. Everything here is allocation-free. */
#ifndef FB_SCHEDULE_H
#define FB_SCHEDULE_H

#include "common/err.h"
#include "common/wire.h"

#include <stdbool.h>
#include <stdint.h>

#define FB_SCHEDULE_MAX_SEGMENTS (FB_MAX_STAGES + 1) /* the warm-up, then the stages */

/* A plain value (fill with fb_schedule_init): read-only once made, shared by the workers. */
typedef struct {
    int n;
    struct {
        int64_t start_ns, length_ns; /* from the workload's start (warm-up included) */
        double from_per_s, to_per_s; /* the rate at its start and at its end (linear between) */
        double ops_before;           /* planned operations before the segment */
    } seg[FB_SCHEDULE_MAX_SEGMENTS];
    int64_t length_ns; /* warm-up + duration */
    double total_ops;  /* planned operations over length_ns */
    int arrivals;      /* fb_arrivals_t */
    uint64_t seed;
} fb_schedule_t;

/* The schedule of an open-loop plan (rate_per_s > 0 or stages): stages must be positive and at
 * most max_rate_per_s, and add up to duration_ns. -1 with err otherwise (no workload name). */
int fb_schedule_init (fb_schedule_t *self, const fb_plan_workload_t *plan, double max_rate_per_s,
                      fb_err_t *err);
/* Planned operations in [0, offset_ns) (clamped to the schedule's length). */
double fb_schedule_ops_before (const fb_schedule_t *self, int64_t offset_ns);
/* The instant (from the start) at which position ops is due: the inverse of ops_before;
 * length_ns for a position at or past the total. */
int64_t fb_schedule_offset_ns (const fb_schedule_t *self, double ops);
/* The planned rate over [from_ns, to_ns): operations over the part within the schedule, per
 * second; 0 when none of it is. */
double fb_schedule_rate_between (const fb_schedule_t *self, int64_t from_ns, int64_t to_ns);

/* One worker's walk through its positions. */
typedef struct {
    double x;     /* the position of the last arrival handed out (-1 before the first) */
    double step;  /* uniform: workers; poisson: workers (the mean gap) */
    bool poisson; /* exponential gaps */
    uint64_t rng; /* poisson: xorshift state */
} fb_schedule_cursor_t;

/* Worker worker of workers: its positions in self's arrivals (the rng from self->seed). */
void fb_schedule_cursor_init (fb_schedule_cursor_t *cursor, const fb_schedule_t *self, int worker,
                              int workers);
/* The offset (from the start) of the worker's next operation; length_ns once it is past. */
int64_t fb_schedule_next_ns (const fb_schedule_t *self, fb_schedule_cursor_t *cursor);

#endif

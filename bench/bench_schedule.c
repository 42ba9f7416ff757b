/* bench_schedule.c: what the open-loop schedule costs a worker per operation. The floor is the
 * evenly spaced schedule as the runner computed it before stages (t0 + n x period, one
 * multiply); next to it fb_schedule_next_ns for a constant rate, 32 stages of linear ramps
 * (a binary search and a square root) and Poisson arrivals (a logarithm more). The peer is one
 * clock read (fb_clock_now_ns), of which a worker pays two per operation anyway, beside a sleep
 * of microseconds at least: the schedule should cost about that much or less.
 * Built with the tree; run by ./bench.sh, not a test. */
#include "agent/schedule.h"
#include "common/clock.h"

#include <stdio.h>
#include <string.h>

#define S_N 20000000LL
#define S_ROUNDS 5

static volatile int64_t s_sink; /* keeps the loops from being optimized away */

static double s_floor_ns (double rate) {
    double period = 1e9 / rate;
    int64_t t0 = fb_clock_now_ns (), sum = 0;
    for (int64_t n = 0; n < S_N; n++)
        sum += (int64_t)((double)n * period);
    s_sink = sum;
    return (double)(fb_clock_now_ns () - t0) / S_N;
}

static double s_clock_ns (void) {
    int64_t t0 = fb_clock_now_ns (), sum = 0;
    for (int64_t n = 0; n < S_N; n++)
        sum += fb_clock_now_ns ();
    s_sink = sum;
    return (double)(fb_clock_now_ns () - t0) / S_N;
}

static double s_next_ns (const fb_schedule_t *sc) {
    fb_schedule_cursor_t c;
    fb_schedule_cursor_init (&c, sc, 0, 1);
    int64_t t0 = fb_clock_now_ns (), sum = 0;
    for (int64_t n = 0; n < S_N; n++) {
        if (c.x > sc->total_ops - 2) /* start over: the walk stays inside the schedule */
            fb_schedule_cursor_init (&c, sc, 0, 1);
        sum += fb_schedule_next_ns (sc, &c);
    }
    s_sink = sum;
    return (double)(fb_clock_now_ns () - t0) / S_N;
}

static double s_best (double (*fn) (const fb_schedule_t *), const fb_schedule_t *sc) {
    double best = 1e9;
    for (int r = 0; r < S_ROUNDS; r++) {
        double ns = fn (sc);
        best = ns < best ? ns : best;
    }
    return best;
}

int main (void) {
    const double rate = 1e6;
    fb_plan_workload_t plan;
    memset (&plan, 0, sizeof plan);
    plan.rate_per_s = rate;
    plan.duration_ns = 60 * FB_NS_PER_S;
    fb_schedule_t constant, staged, poisson;
    fb_schedule_init (&constant, &plan, 1e7, NULL);
    plan.n_stages = 32;
    for (int i = 0; i < 32; i++)
        plan.stages[i] = (fb_plan_stage_t){FB_NS_PER_S, rate * (1 + i % 4)};
    plan.duration_ns = 32 * FB_NS_PER_S;
    plan.ramp = FB_RAMP_LINEAR;
    fb_schedule_init (&staged, &plan, 1e7, NULL);
    plan.arrivals = FB_ARRIVALS_POISSON;
    plan.seed = 1;
    fb_schedule_init (&poisson, &plan, 1e7, NULL);
    double floor = 1e9, clock = 1e9;
    for (int r = 0; r < S_ROUNDS; r++) {
        double ns = s_floor_ns (rate), c = s_clock_ns ();
        floor = ns < floor ? ns : floor;
        clock = c < clock ? c : clock;
    }
    const struct {
        const char *name;
        const fb_schedule_t *sc;
    } rows[] = {{"constant rate", &constant},
                {"32 linear stages", &staged},
                {"32 stages, poisson", &poisson}};
    printf ("%-28s %10s %10s %10s\n", "intended start of one op", "ns", "vs floor", "vs clock");
    printf ("%-28s %10.2f %9.2fx %9.2fx\n", "floor: t0 + n x period", floor, 1.0, floor / clock);
    printf ("%-28s %10.2f %9.2fx %9.2fx\n", "peer: one clock read", clock, clock / floor, 1.0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double ns = s_best (s_next_ns, rows[i].sc);
        printf ("%-28s %10.2f %9.2fx %9.2fx\n", rows[i].name, ns, ns / floor, ns / clock);
    }
    return 0;
}

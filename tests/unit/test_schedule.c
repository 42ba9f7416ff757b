/* test_schedule.c: the open-loop schedule, counted, never timed: the intended starts of every
 * worker, bucketed by interval, match the planned rate of each interval (stages with step and
 * linear ramps, the warm-up at the first stage's rate), and Poisson arrivals have the mean and
 * variance of exponential gaps at the planned rate, repeatably from their seed. */
#include "agent/schedule.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h, which it needs */

#define S_S 1000000000LL
#define S_MAX_INTERVALS 64

static fb_plan_workload_t s_plan (int64_t warmup_ns, int ramp, int n, const double *secs,
                                  const double *rates) {
    fb_plan_workload_t p;
    memset (&p, 0, sizeof p);
    p.warmup_ns = warmup_ns;
    p.ramp = ramp;
    p.n_stages = n;
    for (int i = 0; i < n; i++) {
        p.stages[i] = (fb_plan_stage_t){(int64_t)(secs[i] * S_S), rates[i]};
        p.duration_ns += p.stages[i].duration_ns;
        if (rates[i] > p.rate_per_s)
            p.rate_per_s = rates[i];
    }
    p.interval_ns = S_S;
    return p;
}

/* Every worker's intended starts, counted per 1 s interval; returns the total. */
static int64_t s_count (const fb_schedule_t *sc, int workers, int64_t *counts) {
    int64_t total = 0;
    memset (counts, 0, S_MAX_INTERVALS * sizeof *counts);
    for (int w = 0; w < workers; w++) {
        fb_schedule_cursor_t c;
        fb_schedule_cursor_init (&c, sc, w, workers);
        int64_t last = -1;
        for (int64_t at; (at = fb_schedule_next_ns (sc, &c)) < sc->length_ns;) {
            assert_true (at >= last); /* a worker's starts never go back in time */
            last = at;
            counts[at / S_S]++;
            total++;
        }
    }
    return total;
}

/* Each interval's count within 1 % of the planned operations in it, and the plan as known. */
static void s_assert_intervals (const fb_schedule_t *sc, int workers, const double *want_rates,
                                int n) {
    int64_t counts[S_MAX_INTERVALS];
    int64_t total = s_count (sc, workers, counts);
    assert_int_equal (sc->length_ns, (int64_t)n * S_S);
    for (int i = 0; i < n; i++) {
        double planned = fb_schedule_rate_between (sc, i * S_S, (i + 1) * S_S);
        if (fabs (planned - want_rates[i]) > 1e-6 * want_rates[i])
            print_error ("interval %d: planned %.3f/s, expected %.3f/s\n", i, planned,
                         want_rates[i]);
        assert_true (fabs (planned - want_rates[i]) <= 1e-6 * want_rates[i]);
        if (fabs ((double)counts[i] - planned) > 0.01 * planned)
            print_error ("interval %d: %lld starts, planned %.1f\n", i, (long long)counts[i],
                         planned);
        assert_true (fabs ((double)counts[i] - planned) <= 0.01 * planned);
    }
    assert_true (fabs ((double)total - sc->total_ops) <= workers);
}

static void test_step_stages_start_the_planned_count_in_every_interval (void **state) {
    (void)state;
    const double secs[] = {2, 3, 1}, rates[] = {1000, 5000, 200};
    fb_plan_workload_t p = s_plan (S_S, FB_RAMP_STEP, 3, secs, rates);
    fb_schedule_t sc;
    fb_err_t err = {0};
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    /* warm-up 1 s at the first rate, then the stages as written */
    const double want[] = {1000, 1000, 1000, 5000, 5000, 5000, 200};
    s_assert_intervals (&sc, 1, want, 7);
    s_assert_intervals (&sc, 7, want, 7);
    assert_true (fabs (sc.total_ops - 18200) < 1e-6);
}

static void test_a_linear_ramp_moves_from_one_stage_to_the_next (void **state) {
    (void)state;
    const double secs[] = {2, 4, 2}, rates[] = {1000, 5000, 3000};
    fb_plan_workload_t p = s_plan (0, FB_RAMP_LINEAR, 3, secs, rates);
    fb_schedule_t sc;
    fb_err_t err = {0};
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    /* 1000 held (the first stage), 1000 -> 5000 over 4 s (interval means), 5000 -> 3000 */
    const double want[] = {1000, 1000, 1500, 2500, 3500, 4500, 4500, 3500};
    s_assert_intervals (&sc, 1, want, 8);
    s_assert_intervals (&sc, 4, want, 8);
    /* the inverse is the inverse, up and down the ramps */
    for (int64_t t = 0; t < sc.length_ns; t += S_S / 7) {
        int64_t back = fb_schedule_offset_ns (&sc, fb_schedule_ops_before (&sc, t));
        assert_true (llabs (back - t) <= 2);
    }
}

static void test_a_constant_rate_is_the_evenly_spaced_schedule (void **state) {
    (void)state;
    fb_plan_workload_t p;
    memset (&p, 0, sizeof p);
    p.rate_per_s = 2000;
    p.warmup_ns = S_S;
    p.duration_ns = 2 * S_S;
    fb_schedule_t sc;
    fb_err_t err = {0};
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    fb_schedule_cursor_t c;
    fb_schedule_cursor_init (&c, &sc, 1, 4); /* worker 1 of 4: the fleet's 1st, 5th, 9th... */
    assert_int_equal (fb_schedule_next_ns (&sc, &c), 500000);
    assert_int_equal (fb_schedule_next_ns (&sc, &c), 2500000);
    assert_int_equal (fb_schedule_next_ns (&sc, &c), 4500000);
    const double want[] = {2000, 2000, 2000};
    s_assert_intervals (&sc, 3, want, 3);
    int64_t counts[S_MAX_INTERVALS];
    assert_int_equal (s_count (&sc, 3, counts), 6000); /* exactly, as before stages */
}

static int s_cmp (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Gaps of the merged schedule of every worker: their mean and variance. */
static void s_gaps (const fb_schedule_t *sc, int workers, double *mean, double *var, int64_t *n) {
    int64_t cap = (int64_t)(sc->total_ops * 1.1) + 100, count = 0;
    int64_t *at = malloc ((size_t)cap * sizeof *at);
    assert_non_null (at);
    for (int w = 0; w < workers; w++) {
        fb_schedule_cursor_t c;
        fb_schedule_cursor_init (&c, sc, w, workers);
        for (int64_t t; (t = fb_schedule_next_ns (sc, &c)) < sc->length_ns && count < cap;)
            at[count++] = t;
    }
    qsort (at, (size_t)count, sizeof *at, s_cmp);
    double sum = 0, sum2 = 0;
    for (int64_t i = 1; i < count; i++) {
        double g = (double)(at[i] - at[i - 1]) / 1e9;
        sum += g;
        sum2 += g * g;
    }
    *n = count - 1;
    *mean = sum / (double)*n;
    *var = sum2 / (double)*n - *mean * *mean;
    free (at);
}

static void test_poisson_gaps_have_the_mean_and_variance_of_the_rate (void **state) {
    (void)state;
    fb_plan_workload_t p;
    memset (&p, 0, sizeof p);
    p.rate_per_s = 20000;
    p.duration_ns = 10 * S_S;
    p.arrivals = FB_ARRIVALS_POISSON;
    p.seed = 12345;
    fb_schedule_t sc;
    fb_err_t err = {0};
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    for (int workers = 1; workers <= 5; workers += 4) { /* one process, and five merged */
        double mean, var;
        int64_t n;
        s_gaps (&sc, workers, &mean, &var, &n);
        double m = 1 / p.rate_per_s;
        /* 200 000 gaps: the mean's standard error is 0.22 %, the variance's 0.6 % */
        if (fabs (mean - m) > 0.02 * m || fabs (var - m * m) > 0.05 * m * m)
            print_error ("%d workers: %lld gaps, mean %g (want %g), variance %g (want %g)\n",
                         workers, (long long)n, mean, m, var, m * m);
        assert_true (fabs (mean - m) <= 0.02 * m);
        assert_true (fabs (var - m * m) <= 0.05 * m * m);
        assert_true (llabs (n + 1 - 200000) < 2000);
    }
}

static void test_poisson_follows_the_stages_and_repeats_from_its_seed (void **state) {
    (void)state;
    const double secs[] = {2, 2}, rates[] = {50000, 150000};
    fb_plan_workload_t p = s_plan (0, FB_RAMP_LINEAR, 2, secs, rates);
    p.arrivals = FB_ARRIVALS_POISSON;
    p.seed = 7;
    fb_schedule_t sc;
    fb_err_t err = {0};
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    int64_t a[S_MAX_INTERVALS], b[S_MAX_INTERVALS];
    s_count (&sc, 3, a);
    const double want[] = {50000, 50000, 75000, 125000};
    for (int i = 0; i < 4; i++) /* 50 000 and more per interval: a standard error under 0.5 % */
        assert_true (fabs ((double)a[i] - want[i]) <= 0.02 * want[i]);
    s_count (&sc, 3, b);
    assert_memory_equal (a, b, sizeof a); /* the same seed, the same schedule */
    p.seed = 8;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    s_count (&sc, 3, b);
    assert_true (memcmp (a, b, 4 * sizeof a[0]) != 0);
}

static void test_stages_that_do_not_fit_the_plan_are_refused (void **state) {
    (void)state;
    const double secs[] = {1, 1}, rates[] = {100, 200};
    fb_plan_workload_t p = s_plan (0, FB_RAMP_STEP, 2, secs, rates);
    fb_schedule_t sc;
    fb_err_t err = {0};
    p.duration_ns += 1;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), -1);
    assert_non_null (strstr (err.msg, "the stages last"));
    p.duration_ns -= 1;
    p.stages[1].rate_per_s = 0;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), -1);
    assert_non_null (strstr (err.msg, "stage 2"));
    p.stages[1].rate_per_s = 2e6;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), -1);
    p.stages[1].rate_per_s = 200;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), 0);
    memset (&p, 0, sizeof p);
    p.duration_ns = S_S;
    assert_int_equal (fb_schedule_init (&sc, &p, 1e6, &err), -1); /* closed loop */
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_step_stages_start_the_planned_count_in_every_interval),
        cmocka_unit_test (test_a_linear_ramp_moves_from_one_stage_to_the_next),
        cmocka_unit_test (test_a_constant_rate_is_the_evenly_spaced_schedule),
        cmocka_unit_test (test_poisson_gaps_have_the_mean_and_variance_of_the_rate),
        cmocka_unit_test (test_poisson_follows_the_stages_and_repeats_from_its_seed),
        cmocka_unit_test (test_stages_that_do_not_fit_the_plan_are_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

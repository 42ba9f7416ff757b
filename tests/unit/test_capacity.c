/* test_capacity.c: the capacity search's decisions on a synthetic host whose p99 rises at a
 * known rate: linearly with the offered rate, 2 ms at its true capacity. With the objective
 * "p99 < 2ms" every step below the truth passes and every step above fails, so the capacity
 * found is the last step below the truth: within one step of it. A single failing step (noise)
 * does not end the search; two in a row do; a step whose 95 % interval straddles the limit is
 * neither. Counted, never timed. */
#include "agent/capacity.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define S_MS 1000000LL

static fb_plan_workload_t s_plan (void) {
    fb_plan_workload_t p;
    memset (&p, 0, sizeof p);
    snprintf (p.capacity_metric, sizeof p.capacity_metric, "latency");
    p.capacity_percentile = 99;
    p.capacity_limit_ns = 2 * S_MS;
    return p;
}

/* The synthetic host's step at rate: 1000 samples, 97 % of them at half the p99 model's value
 * and 3 % at it, so its p99 and the whole of its 95 % interval (ranks 984..997) are the model's
 * value: each step is clearly on one side of the limit. */
static fb_hist_t *s_step (double rate, double truth) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    double p99 = 2.0 * rate / truth; /* ms */
    assert_true (fb_hist_record_n (h, (int64_t)(p99 / 2 * S_MS), 970));
    assert_true (fb_hist_record_n (h, (int64_t)(p99 * S_MS), 30));
    return h;
}

/* Runs the search from start by step up to max against a host of capacity truth. */
static double s_search (double truth, double start, double max, double step, int *steps) {
    fb_plan_workload_t plan = s_plan ();
    fb_capacity_t cap = {0};
    for (double rate = start; rate <= max * (1 + 1e-9); rate *= step) {
        fb_hist_t *h = s_step (rate, truth);
        bool done = fb_capacity_step (&cap, rate, fb_capacity_judge (&plan, h));
        fb_hist_destroy (&h);
        if (done)
            break;
    }
    *steps = cap.steps;
    return cap.best_per_s;
}

static void test_the_capacity_found_is_within_one_step_of_the_truth (void **state) {
    (void)state;
    const double truths[] = {1100, 12000, 20000, 33333, 250000}; /* off the steps' grid */
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++) {
        int steps = 0;
        double found = s_search (truths[i], 1000, 1000000, 1.25, &steps);
        if (!(found < truths[i] && found * 1.25 > truths[i]))
            print_error ("truth %.0f/s: found %.1f/s after %d steps\n", truths[i], found, steps);
        assert_true (found < truths[i] && found * 1.25 > truths[i]);
        assert_true (steps < 31); /* it stopped past the knee, not at max */
    }
}

static void test_one_failing_step_is_noise_two_end_the_search (void **state) {
    (void)state;
    fb_capacity_t cap = {0};
    const fb_capacity_verdict_t pass = FB_CAPACITY_PASS, fail = FB_CAPACITY_FAIL;
    assert_false (fb_capacity_step (&cap, 1000, pass));
    assert_false (fb_capacity_step (&cap, 1250, fail)); /* a hiccup */
    assert_false (fb_capacity_step (&cap, 1562, pass)); /* the next one higher passes */
    assert_true (cap.best_per_s == 1562);
    assert_false (fb_capacity_step (&cap, 1953, fail));
    assert_true (fb_capacity_step (&cap, 2441, fail));
    assert_true (cap.done && cap.best_per_s == 1562 && cap.steps == 5);
    assert_true (fb_capacity_step (&cap, 3051, pass)); /* over: nothing changes */
    assert_true (cap.best_per_s == 1562 && cap.steps == 5);
    fb_capacity_t none = {0}; /* nothing passes: capacity 0 */
    assert_false (fb_capacity_step (&none, 1000, fail));
    assert_true (fb_capacity_step (&none, 1250, fail));
    assert_true (none.best_per_s == 0);
}

static void test_a_step_passes_under_the_limit_or_at_it_when_inclusive (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan ();
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_FAIL); /* no sample */
    assert_true (fb_hist_record_n (h, 2 * S_MS, 1000));
    int64_t at = fb_hist_value_at_percentile (h, 99);
    plan.capacity_limit_ns = at;
    /* "p99 < limit": at the limit fails */
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_FAIL);
    plan.capacity_inclusive = 1;
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_PASS); /* "p99 <= limit" */
    fb_hist_destroy (&h);
}

/* 200 samples, the slowest at 5 ms and the rest at 1 ms: the p99 (rank 198) is 1 ms, under
 * "p99 < 2ms", but its interval (ranks 195..200) reaches the slow one. The data cannot tell,
 * so the step is unsure: no capacity claimed at it, no failure counted. With 20 times the
 * samples and the same shares, ranks 3947..3973 of 4000 are all 1 ms: a pass. */
static void test_a_step_whose_interval_straddles_the_limit_is_unsure (void **state) {
    (void)state;
    fb_plan_workload_t plan = s_plan ();
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_true (fb_hist_record_n (h, 1 * S_MS, 199));
    assert_true (fb_hist_record_n (h, 5 * S_MS, 1));
    int64_t lo, hi;
    fb_capacity_interval (h, 99, &lo, &hi);
    assert_true (lo < 2 * S_MS && hi > 4 * S_MS);
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_UNSURE);
    fb_capacity_t cap = {0};
    assert_false (fb_capacity_step (&cap, 1000, FB_CAPACITY_FAIL));
    assert_false (fb_capacity_step (&cap, 1250, FB_CAPACITY_UNSURE)); /* not a second failure */
    assert_true (cap.best_per_s == 0 && cap.unsure == 1 && cap.failed_in_row == 1);
    assert_true (fb_capacity_step (&cap, 1562, FB_CAPACITY_FAIL));
    /* 100 samples, all of them fast: their p99's interval runs past the largest, so it
     * cannot pass (nor fail). */
    fb_hist_reset (h);
    assert_true (fb_hist_record_n (h, 1 * S_MS, 100));
    fb_capacity_interval (h, 99, &lo, &hi);
    assert_true (hi == INT64_MAX);
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_UNSURE);
    fb_hist_reset (h);
    assert_true (fb_hist_record_n (h, 1 * S_MS, 199 * 20));
    assert_true (fb_hist_record_n (h, 5 * S_MS, 1 * 20));
    assert_int_equal (fb_capacity_judge (&plan, h), FB_CAPACITY_PASS);
    fb_hist_destroy (&h);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_capacity_found_is_within_one_step_of_the_truth),
        cmocka_unit_test (test_one_failing_step_is_noise_two_end_the_search),
        cmocka_unit_test (test_a_step_passes_under_the_limit_or_at_it_when_inclusive),
        cmocka_unit_test (test_a_step_whose_interval_straddles_the_limit_is_unsure),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

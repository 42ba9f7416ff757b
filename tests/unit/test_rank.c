/* test_rank.c: the Mann-Whitney critical values against the published tables, and the rank
 * interval of a ratio on data with a known answer. */
#include "coordinator/rank.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static void test_critical_values_match_the_tables (void **state) {
    (void)state;
    /* Two-sided 5 % (2.5 % a tail), the largest U still significant: the usual table. */
    assert_int_equal (fb_rank_critical (3, 3, 0.025), -1);
    assert_int_equal (fb_rank_critical (4, 4, 0.025), 0);
    assert_int_equal (fb_rank_critical (5, 5, 0.025), 2);
    assert_int_equal (fb_rank_critical (5, 8, 0.025), 6);
    assert_int_equal (fb_rank_critical (8, 8, 0.025), 13);
    assert_int_equal (fb_rank_critical (10, 10, 0.025), 23);
    assert_int_equal (fb_rank_critical (20, 20, 0.025), 127);
    /* Symmetric in the two sides, and wider at 99 %. */
    assert_int_equal (fb_rank_critical (8, 5, 0.025), 6);
    assert_int_equal (fb_rank_critical (8, 8, 0.005), 7);
}

static void test_normal_approximation_joins_the_exact_count (void **state) {
    (void)state;
    /* 100 + 100 is counted exactly, 101 + 100 approximated: they must nearly agree (mean
     * 5000, sd 409: the normal puts c near 5000 - 1.96 * 409 = 4198). */
    int exact = fb_rank_critical (100, 100, 0.025);
    int approx = fb_rank_critical (101, 100, 0.025);
    assert_true (abs (exact - 4198) <= 2);
    assert_true (abs (approx - exact - 48) < 10); /* one more x adds about m/2 to U */
    /* Far past the exact range it still lands on the normal's value. */
    assert_true (abs (fb_rank_critical (300, 300, 0.025) - 40838) <= 2);
}

static void test_interval_of_a_known_ratio (void **state) {
    (void)state;
    const double y[] = {100, 103, 98, 145, 101, 99, 104, 97};
    double x[8];
    for (int i = 0; i < 8; i++)
        x[i] = 1.3 * y[i];
    double lo, mid, hi;
    assert_true (fb_rank_ratio_ci (x, 8, y, 8, 0.95, &lo, &mid, &hi));
    assert_true (fabs (mid - 1.3) < 1e-9);
    assert_true (lo < 1.3 && hi > 1.3);
    /* One slow run on each side (145, 1.3 * 145) moves the interval by order statistics only:
     * it stays well clear of 1.05. */
    assert_true (lo > 1.15 && hi < 1.45);
    /* Too few runs for a 95 % interval: refused. */
    assert_false (fb_rank_ratio_ci (x, 3, y, 3, 0.95, &lo, &mid, &hi));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_critical_values_match_the_tables),
        cmocka_unit_test (test_normal_approximation_joins_the_exact_count),
        cmocka_unit_test (test_interval_of_a_known_ratio),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

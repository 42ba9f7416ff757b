/* test_parallel.c: every item runs once, on several threads, and a failure stops the loop with
 * its reason. */
#include "common/parallel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define T_ITEMS 1000

typedef struct {
    atomic_int calls[T_ITEMS];
    int fail_at; /* -1: none */
} t_job_t;

static int t_item (void *arg, int i, fb_err_t *err) {
    t_job_t *job = arg;
    atomic_fetch_add (&job->calls[i], 1);
    if (i == job->fail_at)
        return fb_err_set (err, FB_ESTATE, "item %d failed", i);
    return 0;
}

static void test_every_item_runs_exactly_once (void **state) {
    (void)state;
    static t_job_t job;
    memset (&job, 0, sizeof job);
    job.fail_at = -1;
    fb_err_t err = {0};
    assert_int_equal (fb_parallel_for (T_ITEMS, 8, t_item, &job, &err), 0);
    for (int i = 0; i < T_ITEMS; i++)
        assert_int_equal (atomic_load (&job.calls[i]), 1);
    /* No threads asked for: the caller runs them all. */
    memset (&job, 0, sizeof job);
    job.fail_at = -1;
    assert_int_equal (fb_parallel_for (T_ITEMS, 0, t_item, &job, &err), 0);
    for (int i = 0; i < T_ITEMS; i++)
        assert_int_equal (atomic_load (&job.calls[i]), 1);
}

static void test_a_failure_stops_the_loop_and_says_why (void **state) {
    (void)state;
    static t_job_t job;
    memset (&job, 0, sizeof job);
    job.fail_at = 3;
    fb_err_t err = {0};
    assert_int_equal (fb_parallel_for (T_ITEMS, 1, t_item, &job, &err), -1);
    assert_string_equal (err.msg, "item 3 failed");
    /* One thread takes items in order: nothing after the failure started. */
    assert_int_equal (atomic_load (&job.calls[4]), 0);
    for (int i = 0; i <= 3; i++)
        assert_int_equal (atomic_load (&job.calls[i]), 1);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_item_runs_exactly_once),
        cmocka_unit_test (test_a_failure_stops_the_loop_and_says_why),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

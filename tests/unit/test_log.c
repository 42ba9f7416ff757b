/* test_log.c: the `log` workload driven as the runner drives it: setup, op from worker
 * threads, interval on the owner's thread, teardown. Counts, never timings. */
#include "agent/runner.h"
#include "common/clock.h"
#include "common/hist.h"
#include "workloads/workload.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

enum { M_INGEST, M_SEARCH, M_DETECT, M_N };
enum {
    C_LINES,
    C_DROPS,
    C_SYNC,
    C_TRUNCATED,
    C_EVICTED,
    C_STORED,
    C_ERRORS,
    C_URLS,
    C_SEARCHES,
    C_MATCHES,
    C_DETECT_NS,
    C_N
};

#define T_PATIENCE_NS (60 * FB_NS_PER_S)

typedef struct {
    const fb_workload_t *wl;
    void *state;
    int workers;
    fb_hist_t *metrics[M_N];
    int64_t totals[C_N]; /* SUM counters added up, MAX counters the highest */
} t_log_t;

typedef struct {
    t_log_t *log;
    int worker, ops, failed;
    fb_hist_t *metrics[M_N];
} t_worker_t;

static void s_setup (t_log_t *log, int workers, const char *const *pairs) {
    memset (log, 0, sizeof *log);
    log->wl = fb_workload_find ("log");
    assert_non_null (log->wl);
    log->workers = workers;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, log->wl, &err), 0);
    for (int i = 0; pairs && pairs[i]; i += 2)
        if (fb_params_set (&params, pairs[i], pairs[i + 1], &err) != 0)
            fail_msg ("%s=%s: %s", pairs[i], pairs[i + 1], err.msg);
    fb_wl_env_t env = {.workers = workers, .helper_dir = fb_runner_default_helper_dir ()};
    if (fb_workload_setup (log->wl, &params, &env, &log->state, &err) != 0)
        fail_msg ("setup: %s", err.msg);
    for (int i = 0; i < M_N; i++)
        assert_non_null (log->metrics[i] = fb_hist_new_default (&err));
}

static void s_interval (t_log_t *log) {
    int64_t counters[FB_MAX_COUNTERS] = {0};
    log->wl->interval (log->state, log->metrics, counters);
    const fb_counter_spec_t *specs = log->wl->counters;
    for (int c = 0; c < C_N; c++) {
        if (specs[c].kind == FB_COUNTER_SUM)
            log->totals[c] += counters[c];
        else if (counters[c] > log->totals[c])
            log->totals[c] = counters[c];
    }
}

static void *s_worker_main (void *arg) {
    t_worker_t *w = arg;
    fb_wl_op_t op = {.worker = w->worker, .metrics = w->metrics, .rng = 1};
    for (int k = 0; k < w->ops; k++) {
        op.seq = (uint64_t)k;
        op.intended_start_ns = fb_clock_now_ns ();
        w->failed += w->log->wl->op (w->log->state, &op) != 0;
    }
    return NULL;
}

/* Runs ops_each ops on every worker; their op-recorded metrics are merged into log->metrics. */
static int s_run (t_log_t *log, int ops_each) {
    t_worker_t workers[8];
    pthread_t threads[8];
    assert_true (log->workers <= 8);
    fb_err_t err = {0};
    for (int i = 0; i < log->workers; i++) {
        workers[i] = (t_worker_t){.log = log, .worker = i, .ops = ops_each};
        for (int m = 0; m < M_N; m++)
            assert_non_null (workers[i].metrics[m] = fb_hist_new_default (&err));
        assert_int_equal (pthread_create (&threads[i], NULL, s_worker_main, &workers[i]), 0);
    }
    int failed = 0;
    for (int i = 0; i < log->workers; i++) {
        pthread_join (threads[i], NULL);
        failed += workers[i].failed;
        for (int m = 0; m < M_N; m++) {
            assert_int_equal (fb_hist_drain (log->metrics[m], workers[i].metrics[m], &err), 0);
            fb_hist_destroy (&workers[i].metrics[m]);
        }
    }
    return failed;
}

/* Intervals until every appended line has been measured as searchable (bounded wait). */
static void s_settle (t_log_t *log, int64_t lines) {
    int64_t deadline = fb_clock_now_ns () + T_PATIENCE_NS;
    struct timespec pause = {0, 1000000};
    s_interval (log);
    while (fb_hist_count (log->metrics[M_INGEST]) < lines - log->totals[C_DROPS] &&
           fb_clock_now_ns () < deadline) {
        nanosleep (&pause, NULL);
        s_interval (log);
    }
    /* Counters are read before the histograms are drained: one more interval for the
     * counters of the lines the last drain saw. */
    s_interval (log);
}

static void s_teardown (t_log_t *log) {
    fb_workload_teardown (log->wl, &log->state);
    assert_null (log->state);
    for (int i = 0; i < M_N; i++)
        fb_hist_destroy (&log->metrics[i]);
}

static void test_descriptor_lists_the_params_metrics_and_counters (void **state) {
    (void)state;
    const fb_workload_t *wl = fb_workload_find ("log");
    assert_non_null (wl);
    assert_string_equal (wl->kind, "log");
    assert_string_equal (wl->metrics[M_INGEST], "ingest");
    assert_string_equal (wl->metrics[M_SEARCH], "search");
    assert_string_equal (wl->metrics[M_DETECT], "detect");
    assert_string_equal (wl->counters[C_DROPS].name, "drops");
    assert_string_equal (wl->counters[C_SYNC].name, "sync_fallbacks");
    assert_string_equal (wl->counters[C_DETECT_NS].name, "detect_ns_per_line");
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    assert_int_equal ((int)fb_params_num (&params, "capacity"), 10000);
    assert_int_equal ((int)fb_params_num (&params, "queue"), 1000);
    assert_int_equal ((int)fb_params_num (&params, "line_bytes"), 512);
    assert_int_not_equal (fb_params_set (&params, "eviction", "sideways", &err), 0);
    assert_int_not_equal (fb_params_set (&params, "capacity", "0", &err), 0);
}

static void test_append_stores_every_line_and_measures_ingest (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"capacity", "500", "processes", "3", NULL};
    s_setup (&log, 2, pairs);
    assert_int_equal (s_run (&log, 1000), 0);
    s_settle (&log, 2000);
    assert_int_equal (log.totals[C_LINES], 2000);
    assert_int_equal (log.totals[C_DROPS], 0);
    assert_int_equal (fb_hist_count (log.metrics[M_INGEST]), 2000);
    assert_int_equal (log.totals[C_STORED], 500);
    assert_int_equal (log.totals[C_EVICTED], 2000); /* prefilled: every append evicts */
    assert_true (log.totals[C_ERRORS] > 0);
    assert_true (log.totals[C_URLS] > 0);
    assert_true (log.totals[C_TRUNCATED] > 0); /* the generator's long lines */
    s_teardown (&log);
}

static void test_shift_eviction_runs_the_same_ops (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"capacity", "300", "eviction", "shift", "detect", "regex", NULL};
    s_setup (&log, 1, pairs);
    assert_int_equal (s_run (&log, 600), 0);
    s_settle (&log, 600);
    assert_int_equal (log.totals[C_LINES], 600);
    assert_int_equal (log.totals[C_EVICTED], 600);
    assert_int_equal (log.totals[C_STORED], 300);
    s_teardown (&log);
}

static void test_search_ops_search_the_full_store (void **state) {
    (void)state;
    const char *modes[] = {"substr", "regex"};
    for (int m = 0; m < 2; m++) {
        t_log_t log;
        const char *pairs[] = {"op", "search", "capacity", "2000", "search", modes[m], NULL};
        s_setup (&log, 2, pairs);
        assert_int_equal (s_run (&log, 5), 0);
        s_interval (&log);
        assert_int_equal (log.totals[C_SEARCHES], 10);
        assert_true (log.totals[C_MATCHES] > 10);
        assert_true (log.totals[C_MATCHES] % 10 == 0); /* the same store each time */
        assert_int_equal (log.totals[C_LINES], 0);
        assert_int_equal (log.totals[C_STORED], 2000);
        assert_int_equal (fb_hist_count (log.metrics[M_SEARCH]), 10);
        s_teardown (&log);
    }
}

static void test_absent_query_matches_nothing (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"op", "search", "capacity", "1000", "query", "absent", NULL};
    s_setup (&log, 1, pairs);
    assert_int_equal (s_run (&log, 3), 0);
    s_interval (&log);
    assert_int_equal (log.totals[C_SEARCHES], 3);
    assert_int_equal (log.totals[C_MATCHES], 0);
    s_teardown (&log);
}

static void test_detect_op_measures_each_line (void **state) {
    (void)state;
    const char *engines[] = {"fast", "regex"};
    for (int e = 0; e < 2; e++) {
        t_log_t log;
        const char *pairs[] = {"op", "detect", "detect", engines[e], NULL};
        s_setup (&log, 2, pairs);
        assert_int_equal (s_run (&log, 500), 0);
        s_interval (&log);
        assert_int_equal (log.totals[C_LINES], 1000);
        assert_int_equal (fb_hist_count (log.metrics[M_DETECT]), 1000);
        assert_true (log.totals[C_DETECT_NS] > 0);
        s_teardown (&log);
    }
}

static void test_mixed_searches_while_appending (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"op", "mixed", "capacity", "1000", "search_rate", "1000/s", NULL};
    s_setup (&log, 2, pairs);
    /* Appends until the searcher has searched a few times (bounded). */
    int64_t deadline = fb_clock_now_ns () + T_PATIENCE_NS;
    int64_t lines = 0;
    while (log.totals[C_SEARCHES] < 3 && fb_clock_now_ns () < deadline) {
        assert_int_equal (s_run (&log, 200), 0);
        lines += 400;
        s_interval (&log);
    }
    s_settle (&log, lines);
    assert_true (log.totals[C_SEARCHES] >= 3);
    assert_int_equal (fb_hist_count (log.metrics[M_SEARCH]), log.totals[C_SEARCHES]);
    assert_int_equal (log.totals[C_LINES], lines);
    assert_int_equal (fb_hist_count (log.metrics[M_INGEST]), lines);
    s_teardown (&log);
}

static void test_drop_overflow_counts_drops (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"capacity", "5000",   "queue", "1", "overflow",
                           "drop",     "detect", "regex", NULL};
    s_setup (&log, 1, pairs);
    assert_int_equal (s_run (&log, 3000), 0);
    s_settle (&log, 3000);
    assert_int_equal (log.totals[C_LINES], 3000);
    assert_true (log.totals[C_DROPS] > 0);
    assert_int_equal (log.totals[C_SYNC], 0);
    assert_int_equal (fb_hist_count (log.metrics[M_INGEST]), 3000 - log.totals[C_DROPS]);
    s_teardown (&log);
}

static void test_child_source_feeds_the_store_while_searching (void **state) {
    (void)state;
    t_log_t log;
    const char *pairs[] = {"op",      "search", "source",     "child",  "capacity",         "1000",
                           "prefill", "false",  "child_rate", "5000/s", "child_line_bytes", "80",
                           NULL};
    s_setup (&log, 1, pairs);
    int64_t deadline = fb_clock_now_ns () + T_PATIENCE_NS;
    while (log.totals[C_LINES] < 200 && fb_clock_now_ns () < deadline) {
        assert_int_equal (s_run (&log, 1), 0);
        s_interval (&log);
    }
    assert_true (log.totals[C_LINES] >= 200);
    assert_true (log.totals[C_SEARCHES] >= 1);
    assert_true (fb_hist_count (log.metrics[M_INGEST]) > 0);
    s_teardown (&log);
}

static void test_child_source_is_refused_for_detect (void **state) {
    (void)state;
    const fb_workload_t *wl = fb_workload_find ("log");
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    assert_int_equal (fb_params_set (&params, "source", "child", &err), 0);
    assert_int_equal (fb_params_set (&params, "op", "detect", &err), 0);
    fb_wl_env_t env = {.workers = 1, .helper_dir = fb_runner_default_helper_dir ()};
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "op: detect"));
    env.helper_dir = "/nonexistent";
    assert_int_equal (fb_params_set (&params, "op", "search", &err), 0);
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "fb-child"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_descriptor_lists_the_params_metrics_and_counters),
        cmocka_unit_test (test_append_stores_every_line_and_measures_ingest),
        cmocka_unit_test (test_shift_eviction_runs_the_same_ops),
        cmocka_unit_test (test_search_ops_search_the_full_store),
        cmocka_unit_test (test_absent_query_matches_nothing),
        cmocka_unit_test (test_detect_op_measures_each_line),
        cmocka_unit_test (test_mixed_searches_while_appending),
        cmocka_unit_test (test_drop_overflow_counts_drops),
        cmocka_unit_test (test_child_source_feeds_the_store_while_searching),
        cmocka_unit_test (test_child_source_is_refused_for_detect),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

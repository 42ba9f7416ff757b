/* test_compare.c: `coord compare` over saved run.json files: a row's throughput per host is
 * each run's operations over that run's own measured time. */
#include "common/b64.h"
#include "common/hist.h"
#include "coordinator/compare.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A minimal run.json of one host on CPU "Test CPU" that ran ops operations in measured_ns;
 * with a capacity counter of capacity per second unless it is negative. */
static void s_write_run (const char *path, const char *run_id, long long ops, long long measured_ns,
                         long long capacity) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    fb_hist_record_n (h, 1000000, ops);
    uint8_t *bytes;
    size_t len;
    assert_int_equal (fb_hist_encode (h, &bytes, &len, NULL), 0);
    char *b64 = fb_b64_encode (bytes, len);
    assert_non_null (b64);
    json_t *root = json_pack (
        "{s:s,s:{s:s},s:[{s:s,s:s,s:{s:s}}],s:[{s:s,s:{s:{s:I,s:I,s:{s:{s:I,s:s}},s:{s:{s:s}}}}}]}",
        "run_id", run_id, "scenario", "name", "cmp", "hosts", "id", "h1", "state", "done",
        "fingerprint", "cpu_model", "Test CPU", "workloads", "name", "bus", "hosts", "h1", "ops",
        (json_int_t)ops, "measured_ns", (json_int_t)measured_ns, "counters", "ops", "value",
        (json_int_t)ops, "kind", "sum", "metrics", "latency", "hist", b64);
    json_t *counters = json_object_get (
        json_object_get (
            json_object_get (json_array_get (json_object_get (root, "workloads"), 0), "hosts"),
            "h1"),
        "counters");
    if (capacity >= 0)
        json_object_set_new (counters, "capacity",
                             json_pack ("{s:I,s:s}", "value", (json_int_t)capacity, "kind", "max"));
    free (b64);
    free (bytes);
    fb_hist_destroy (&h);
    assert_non_null (root);
    assert_int_equal (json_dump_file (root, path, 0), 0);
    json_decref (root);
}

/* Two saved runs, a.json and b.json, in a folder of their own. */
typedef struct {
    char dir[32], a[64], b[64];
} s_runs_t;

static void s_two_runs (s_runs_t *t, long long ops_a, long long ns_a, long long cap_a,
                        long long ops_b, long long ns_b, long long cap_b) {
    snprintf (t->dir, sizeof t->dir, "/tmp/fb-compare.XXXXXX");
    assert_non_null (mkdtemp (t->dir));
    snprintf (t->a, sizeof t->a, "%s/a.json", t->dir);
    snprintf (t->b, sizeof t->b, "%s/b.json", t->dir);
    s_write_run (t->a, "run-a", ops_a, ns_a, cap_a);
    s_write_run (t->b, "run-b", ops_b, ns_b, cap_b);
}

static void s_remove_runs (const s_runs_t *t) {
    unlink (t->a);
    unlink (t->b);
    rmdir (t->dir);
}

/* compare's output of the two runs as opts say (printed into text), and its JSON. */
static json_t *s_compare (const s_runs_t *t, fb_compare_opts_t opts, char *text, size_t size) {
    const char *runs[] = {t->a, t->b};
    json_t *result = NULL;
    opts.comparison = &result;
    FILE *out = fmemopen (text, size, "w");
    assert_non_null (out);
    fb_err_t err = {0};
    if (fb_compare (runs, 2, &opts, out, &err) != 0)
        fail_msg ("fb_compare: %s", err.msg);
    fclose (out);
    assert_non_null (result);
    return result;
}

static void test_grouped_runs_of_different_lengths_keep_their_own_rate (void **state) {
    (void)state;
    s_runs_t t;
    s_two_runs (&t, 494, 1000000000LL, -1, 1482, 3000000000LL, -1); /* 494/s for 1 s, 3 s */
    static char text[16384];
    json_t *root =
        s_compare (&t, (fb_compare_opts_t){.by = FB_COMPARE_BY_CPU, .format = FB_COMPARE_JSON},
                   text, sizeof text);
    json_t *w = json_array_get (json_object_get (root, "workloads"), 0);
    json_t *row = json_array_get (
        json_object_get (json_array_get (json_object_get (w, "metrics"), 0), "rows"), 0);
    assert_non_null (row);
    assert_int_equal (json_integer_value (json_object_get (row, "hosts")), 2);
    double rate = json_real_value (json_object_get (row, "ops_per_s_per_host"));
    if (rate < 493.99 || rate > 494.01)
        fail_msg ("two runs at 494/s compare as %.1f/s per host", rate);
    assert_null (json_object_get (w, "capacity")); /* no capacity search: no capacity table */
    assert_non_null (strstr (text, "\"ops_per_s_per_host\""));
    json_decref (root);
    s_remove_runs (&t);
}

/* A capacity search's result per row: the mean of its hosts' capacities, their range, and the
 * ratio to the reference row. */
static void test_capacity_is_compared_per_row (void **state) {
    (void)state;
    s_runs_t t;
    s_two_runs (&t, 1000, 1000000000LL, 400, 1000, 1000000000LL, 800);
    static char text[16384];
    json_t *r =
        s_compare (&t, (fb_compare_opts_t){.by = FB_COMPARE_BY_CPU, .format = FB_COMPARE_MARKDOWN},
                   text, sizeof text);
    json_t *cap = json_array_get (
        json_object_get (json_array_get (json_object_get (r, "workloads"), 0), "capacity"), 0);
    assert_non_null (cap);
    assert_string_equal (json_string_value (json_object_get (cap, "name")), "Test CPU");
    assert_int_equal (json_integer_value (json_object_get (cap, "hosts")), 2);
    assert_true (json_real_value (json_object_get (cap, "per_host_per_s")) == 600);
    assert_true (json_real_value (json_object_get (cap, "lowest_per_s")) == 400);
    assert_true (json_real_value (json_object_get (cap, "highest_per_s")) == 800);
    assert_non_null (strstr (text, "| Test CPU | 2 | 600/s | 400/s | 800/s | 1.00x |"));
    json_decref (r);
    r = s_compare (
        &t,
        (fb_compare_opts_t){.by = FB_COMPARE_BY_HOST, .format = FB_COMPARE_TEXT, .ref = "h1@run-a"},
        text, sizeof text);
    json_t *rows =
        json_object_get (json_array_get (json_object_get (r, "workloads"), 0), "capacity");
    assert_int_equal (json_array_size (rows), 2);
    assert_true (json_real_value (json_object_get (json_array_get (rows, 0), "vs_ref")) == 1);
    assert_true (json_real_value (json_object_get (json_array_get (rows, 1), "vs_ref")) == 2);
    assert_non_null (strstr (text, "bus: capacity (reference: h1@run-a)"));
    json_decref (r);
    s_remove_runs (&t);
    /* a reference without a capacity: no ratio, rather than 0x */
    s_two_runs (&t, 1000, 1000000000LL, -1, 1000, 1000000000LL, 800);
    r = s_compare (&t,
                   (fb_compare_opts_t){
                       .by = FB_COMPARE_BY_HOST, .format = FB_COMPARE_MARKDOWN, .ref = "h1@run-a"},
                   text, sizeof text);
    rows = json_object_get (json_array_get (json_object_get (r, "workloads"), 0), "capacity");
    assert_int_equal (json_array_size (rows), 1);
    assert_true (json_is_null (json_object_get (json_array_get (rows, 0), "vs_ref")));
    assert_non_null (strstr (text, "| h1@run-b | 1 | 800/s | 800/s | 800/s | - |"));
    json_decref (r);
    s_remove_runs (&t);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_grouped_runs_of_different_lengths_keep_their_own_rate),
        cmocka_unit_test (test_capacity_is_compared_per_row),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

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

/* A minimal run.json of one host on CPU "Test CPU" that ran ops operations in measured_ns. */
static void s_write_run (const char *path, const char *run_id, long long ops,
                         long long measured_ns) {
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
    free (b64);
    free (bytes);
    fb_hist_destroy (&h);
    assert_non_null (root);
    assert_int_equal (json_dump_file (root, path, 0), 0);
    json_decref (root);
}

static void test_grouped_runs_of_different_lengths_keep_their_own_rate (void **state) {
    (void)state;
    char dir[] = "/tmp/fb-compare.XXXXXX";
    assert_non_null (mkdtemp (dir));
    char a[64], b[64], out_path[64];
    snprintf (a, sizeof a, "%s/a.json", dir);
    snprintf (b, sizeof b, "%s/b.json", dir);
    snprintf (out_path, sizeof out_path, "%s/out.json", dir);
    s_write_run (a, "run-a", 494, 1000000000LL);  /* 494/s for 1 s */
    s_write_run (b, "run-b", 1482, 3000000000LL); /* 494/s for 3 s */
    const char *runs[] = {a, b};
    fb_compare_opts_t opts = {.by = FB_COMPARE_BY_CPU, .format = FB_COMPARE_JSON};
    FILE *out = fopen (out_path, "w");
    assert_non_null (out);
    fb_err_t err = {0};
    assert_int_equal (fb_compare (runs, 2, &opts, out, &err), 0);
    fclose (out);
    json_error_t jerr;
    json_t *root = json_load_file (out_path, 0, &jerr);
    assert_non_null (root);
    json_t *row = json_array_get (
        json_object_get (
            json_array_get (json_object_get (
                                json_array_get (json_object_get (root, "workloads"), 0), "metrics"),
                            0),
            "rows"),
        0);
    assert_non_null (row);
    assert_int_equal (json_integer_value (json_object_get (row, "hosts")), 2);
    double rate = json_real_value (json_object_get (row, "ops_per_s_per_host"));
    if (rate < 493.99 || rate > 494.01)
        fail_msg ("two runs at 494/s compare as %.1f/s per host", rate);
    json_decref (root);
    unlink (a);
    unlink (b);
    unlink (out_path);
    rmdir (dir);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_grouped_runs_of_different_lengths_keep_their_own_rate),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

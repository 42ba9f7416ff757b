/* test_samples.c: a host's intervals read back from its .hlog (what the coordinator keeps of a
 * workload that ended is their counts; the histograms come back from the file) are the
 * intervals it had in memory: the same slots, counts and histograms, the kept metrics only. */
#include "common/hlog.h"
#include "common/rng.h"
#include "coordinator/samples.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static bool s_keep_latency_and_dispatch (const char *metric, const void *arg) {
    (void)arg;
    return strcmp (metric, "latency") == 0 || strcmp (metric, "dispatch") == 0;
}

static void test_intervals_read_back_from_the_hlog_are_those_kept (void **state) {
    (void)state;
    char path[] = "/tmp/test_samples.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    assert_non_null (f);
    assert_int_equal (fb_hlog_write_header (f, 1700000000.0, NULL), 0);
    fb_samples_t *memory = fb_samples_new (NULL), *spilled = fb_samples_new (NULL);
    assert_non_null (memory);
    assert_non_null (spilled);
    const char *metrics[] = {"latency", "service", "dispatch"};
    uint64_t rng = 42;
    for (int slot = 0; slot < 6; slot++) {
        for (int m = 0; m < 3; m++) {
            fb_hist_t *h = fb_hist_new_default (NULL);
            for (int i = 0; i < 300; i++)
                fb_hist_record (h, (int64_t)(1000.0 * (m + 1) * exp (3 * fb_rng_unit (&rng))));
            uint8_t *bytes = NULL;
            size_t len = 0;
            assert_int_equal (fb_hist_encode (h, &bytes, &len, NULL), 0);
            /* a report 1 s long starting about slot s (a few ms late, as agents report) */
            assert_int_equal (fb_hlog_write_encoded (f, m == 0 ? NULL : metrics[m], slot + 0.004,
                                                     1.0, fb_hist_max (h), bytes, len, NULL),
                              0);
            if (m != 1) /* the coordinator keeps latency and the metrics asked of the host */
                assert_int_equal (fb_samples_add_hist (memory, slot, metrics[m], h, NULL), 0);
            free (bytes);
            fb_hist_destroy (&h);
        }
        assert_int_equal (fb_samples_add_counts (memory, slot, 100 + slot, slot, 1000000000, NULL),
                          0);
    }
    assert_int_equal (fclose (f), 0);
    /* the counts stay; the histograms go, and come back from the file */
    fb_samples_t *counts = fb_samples_new (NULL);
    assert_int_equal (fb_samples_merge (counts, memory, NULL), 0);
    fb_samples_drop_hists (counts);
    assert_int_equal (fb_samples_metric_index (counts, "latency"), -1);
    assert_int_equal (fb_samples_begin_run (spilled, NULL), 0);
    assert_int_equal (fb_samples_add_hlog_hists (spilled, path, 1000000000,
                                                 s_keep_latency_and_dispatch, NULL, NULL),
                      0);
    assert_int_equal (fb_samples_merge (spilled, counts, NULL), 0);
    json_t *a = fb_samples_json_encode (memory), *b = fb_samples_json_encode (spilled);
    assert_non_null (a);
    assert_non_null (b);
    assert_true (json_equal (a, b));
    assert_int_equal (fb_samples_metric_index (spilled, "service"), -1);
    json_decref (a);
    json_decref (b);
    fb_samples_destroy (&counts);
    fb_samples_destroy (&memory);
    fb_samples_destroy (&spilled);
    unlink (path);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_intervals_read_back_from_the_hlog_are_those_kept),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

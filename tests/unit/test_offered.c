/* test_offered.c: latency against offered load. Each host's interval reports its offered rate;
 * the fleet's interval holds the hosts' sum, run.json keeps it through encode and decode, and
 * report.md's table lists each interval's offered rate, achieved rate and latency, the fleet's
 * and each host's. */
#include "coordinator/offered.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "fakerun.h"

/* Host h's interval i: 100 operations of latency_ns, offered at rate. */
static void s_interval (t_fake_t *f, fb_host_t *h, int i, double rate, int64_t latency_ns) {
    fb_hist_t *hist = fb_hist_new_default (NULL);
    assert_non_null (hist);
    assert_true (fb_hist_record_n (hist, latency_ns, 100));
    fb_hist_compact_t *compact = fb_hist_compact_from_hist (hist, NULL);
    assert_non_null (compact);
    fb_run_sample_metric (&f->run, h, 0, i * T_S, "latency", compact);
    fb_run_sample_counts (&f->run, h, 0, i * T_S, 100, 0, T_S);
    fb_run_sample_target (&f->run, h, 0, i * T_S, rate);
    fb_hist_compact_destroy (&compact);
    fb_hist_destroy (&hist);
}

static t_fake_t *s_two_hosts (void) {
    t_fake_t *f = t_fake_new (1);
    f->sc.workloads[0].shape.n_stages = 2;
    fb_host_t *a = t_fake_host (f, "pi4-a", "pi4", "A72");
    fb_host_t *b = t_fake_host (f, "pi5-b", "pi5", "A76");
    const double rates[3] = {200, 300, 500};
    for (int i = 0; i < 3; i++) {
        s_interval (f, a, i, rates[i], 1000000 * (i + 1)); /* 1, 2, 3 ms */
        s_interval (f, b, i, rates[i], 1000);              /* 1 us */
    }
    return f;
}

static void test_the_fleets_offered_rate_is_the_hosts_sum_and_survives_json (void **state) {
    (void)state;
    t_fake_t *f = s_two_hosts ();
    const fb_samples_t *fleet = f->run.samples[0];
    assert_int_equal (fb_samples_intervals (fleet, 0), 3);
    fb_samples_counts_t c;
    fb_samples_counts (fleet, 0, 2, &c);
    assert_true (c.target_rate_per_s == 1000);
    fb_samples_counts (f->run.hosts[0]->samples[0], 0, 2, &c);
    assert_true (c.target_rate_per_s == 500);
    json_t *j = fb_samples_json_encode (fleet);
    assert_non_null (j);
    fb_samples_t *back = fb_samples_new (NULL);
    assert_int_equal (fb_samples_json_decode (back, j, NULL), 0);
    fb_samples_counts (back, 0, 1, &c);
    assert_true (c.target_rate_per_s == 600);
    fb_samples_t *merged = fb_samples_new (NULL); /* a merge of two runs' hosts adds them too */
    assert_int_equal (fb_samples_merge (merged, back, NULL), 0);
    assert_int_equal (fb_samples_merge (merged, back, NULL), 0);
    fb_samples_counts (merged, 0, 0, &c);
    assert_true (c.target_rate_per_s == 800);
    fb_samples_destroy (&merged);
    fb_samples_destroy (&back);
    json_decref (j);
    /* a closed loop's interval has no target_rate_per_s at all */
    fb_samples_t *closed = fb_samples_new (NULL);
    assert_int_equal (fb_samples_add_counts (closed, 0, 5, 0, T_S, NULL), 0);
    j = fb_samples_json_encode (closed);
    assert_null (json_object_get (
        json_array_get (
            json_object_get (json_array_get (json_object_get (j, "runs"), 0), "intervals"), 0),
        "target_rate_per_s"));
    json_decref (j);
    fb_samples_destroy (&closed);
    t_fake_destroy (&f);
}

static void test_report_md_sets_latency_against_offered_load (void **state) {
    (void)state;
    t_fake_t *f = s_two_hosts ();
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    fb_offered_md (out, &f->run, 0);
    fclose (out);
    assert_non_null (strstr (text, "| interval | offered /s | achieved /s | p50 | p99 | p99 pi4-a "
                                   "| p99 pi5-b |"));
    /* interval 2: 600/s offered (300 + 300), 200 ops in 1 s, p99 of 100 at 2 ms and 100 at 1 us */
    if (!strstr (text, "| 2 | 600 | 200 | 1us | 2ms | 2ms | 1us |"))
        print_error ("%s\n", text);
    assert_non_null (strstr (text, "| 2 | 600 | 200 | 1us | 2ms | 2ms | 1us |"));
    assert_non_null (strstr (text, "| 3 | 1000 | 200 |"));
    free (text);
    /* a capacity search says each host's capacity under the table */
    f->sc.workloads[0].shape.capacity = true;
    snprintf (f->sc.workloads[0].shape.objective.text, 96, "p99 < 2ms");
    for (int h = 0; h < 2; h++) {
        assert_int_equal (fb_stats_add_counter (&f->run.hosts[h]->stats[0], FB_COUNTER_CAPACITY,
                                                FB_COUNTER_MAX, 400 - 200 * h, NULL),
                          0);
        assert_int_equal (fb_stats_add_counter (&f->run.hosts[h]->stats[0],
                                                FB_COUNTER_CAPACITY_UNSURE, FB_COUNTER_MAX, h * 2,
                                                NULL),
                          0);
    }
    out = open_memstream (&text, &len);
    fb_offered_md (out, &f->run, 0);
    fclose (out);
    assert_non_null (strstr (text, "Capacity (the highest step that met `p99 < 2ms`; the knee is "
                                   "past it): pi4-a 400/s, pi5-b 200/s (2 steps unsure)\n"));
    free (text);
    /* no stages, no table */
    f->sc.workloads[0].shape.n_stages = 0;
    out = open_memstream (&text, &len);
    fb_offered_md (out, &f->run, 0);
    fclose (out);
    assert_int_equal (len, 0);
    free (text);
    t_fake_destroy (&f);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_fleets_offered_rate_is_the_hosts_sum_and_survives_json),
        cmocka_unit_test (test_report_md_sets_latency_against_offered_load),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_per.c: per: targets judged on every host or group, where the fleet's merge can hide a
 * bad host, and the verdict naming who failed. */
#include "common/stats_json.h"
#include "coordinator/per.h"
#include "coordinator/verdict.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakerun.h"

#define T_MS 1000000LL

static void s_assert_count_text (const t_fake_t *f, const char *want) {
    char text[400];
    fb_verdict_count_text (&f->run, text, sizeof text);
    if (strcmp (text, want) != 0)
        print_error ("got \"%s\"\n", text);
    assert_string_equal (text, want);
}

/* a: 1000 operations of 1 ms; b: 20 of 10 ms. The fleet's p95 is 1 ms (20 of 1020 are slow),
 * b's own p95 is 10 ms. */
static t_fake_t *s_one_slow_host (void) {
    t_fake_t *f = t_fake_new (1);
    t_fake_measure (t_fake_host (f, "a", "", "cpu"), 0, 1000, 1 * T_MS, 10 * T_S);
    t_fake_measure (t_fake_host (f, "b", "", "cpu"), 0, 20, 10 * T_MS, 10 * T_S);
    t_fake_merge (f);
    return f;
}

static void test_one_slow_host_fails_per_host_while_the_fleet_merge_holds (void **state) {
    (void)state;
    t_fake_t *f = s_one_slow_host ();
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_HOST);
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_FLEET);
    assert_int_equal (fb_verdict_judge (&f->run), 1);
    const fb_verdict_t *host = &f->run.verdicts[0][0], *fleet = &f->run.verdicts[0][1];
    assert_int_equal (host->state, FB_VERDICT_FAILED);
    assert_string_equal (host->failed_on, "host b");
    assert_string_equal (host->text, "p95 < 5ms (per host)");
    assert_non_null (strstr (host->detail, "failed on 1 of 2 hosts: b p95 10"));
    assert_true (host->actual >= 10 * T_MS * 0.99 && host->actual <= 10 * T_MS * 1.01);
    assert_int_equal (host->n_groups, 2);
    assert_int_equal (host->groups[0].state, FB_VERDICT_HELD);
    assert_int_equal (host->groups[1].state, FB_VERDICT_FAILED);
    assert_int_equal (fleet->state, FB_VERDICT_HELD);
    assert_string_equal (fleet->text, "p95 < 5ms (per fleet)");
    s_assert_count_text (f, "1 target failed (on host b), 1 target held");
    t_fake_destroy (&f);
}

static void test_throughput_per_host_fails_when_one_host_did_nothing (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    t_fake_measure (t_fake_host (f, "a", "", "cpu"), 0, 100000, 1 * T_MS, 10 * T_S);
    fb_host_t *idle = t_fake_host (f, "b", "", "cpu");
    assert_int_equal (fb_stats_add_counter (&idle->stats[0], "ops", FB_COUNTER_SUM, 0, NULL), 0);
    idle->stats[0].measured_ns = 10 * T_S; /* reported every interval, ran nothing */
    t_fake_merge (f);
    t_fake_target (f, 0, "throughput >= 5000/s", FB_PER_HOST);
    t_fake_target (f, 0, "throughput >= 5000/s", FB_PER_FLEET);
    assert_int_equal (fb_verdict_judge (&f->run), 1);
    assert_int_equal (f->run.verdicts[0][0].state, FB_VERDICT_FAILED);
    assert_string_equal (f->run.verdicts[0][0].failed_on, "host b");
    assert_true (f->run.verdicts[0][0].actual == 0.0);
    /* the fleet's 10000/s hides it */
    assert_int_equal (f->run.verdicts[0][1].state, FB_VERDICT_HELD);
    assert_true (f->run.verdicts[0][1].actual > 9999 && f->run.verdicts[0][1].actual < 10001);
    t_fake_destroy (&f);
}

static void test_a_host_that_measured_nothing_fails_a_per_host_target (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    t_fake_measure (t_fake_host (f, "a", "", "cpu"), 0, 100, 1 * T_MS, 10 * T_S);
    t_fake_host (f, "b", "", "cpu"); /* no report at all */
    t_fake_merge (f);
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_HOST);
    assert_int_equal (fb_verdict_judge (&f->run), 1);
    const fb_verdict_t *v = &f->run.verdicts[0][0];
    assert_string_equal (v->failed_on, "host b");
    assert_non_null (strstr (v->detail, "b (not measured"));
    t_fake_destroy (&f);
}

static void test_boards_and_cpus_are_judged_on_their_hosts_merged (void **state) {
    (void)state;
    t_fake_t *f = t_fake_new (1);
    /* two Pis: each alone has p95 10 ms, together too; the x86 host is fast */
    t_fake_measure (t_fake_host (f, "pi-1", "Raspberry Pi 4", "Cortex-A72"), 0, 50, 10 * T_MS,
                    10 * T_S);
    t_fake_measure (t_fake_host (f, "x86", "", "Xeon"), 0, 5000, 1 * T_MS, 10 * T_S);
    t_fake_measure (t_fake_host (f, "pi-2", "Raspberry Pi 4", "Cortex-A72"), 0, 50, 10 * T_MS,
                    10 * T_S);
    t_fake_merge (f);
    fb_err_t err = {0};
    fb_per_groups_t *groups = fb_per_groups_new (&f->run, 0, FB_PER_BOARD, -1, &err);
    assert_non_null (groups);
    assert_int_equal (groups->n, 2);
    assert_string_equal (groups->groups[0].name, "Raspberry Pi 4");
    assert_int_equal (groups->groups[0].n_hosts, 2);
    assert_int_equal (groups->groups[0].hosts[1], 2);
    assert_int_equal (
        fb_hist_compact_count (fb_stats_find_metric (&groups->groups[0].stats, "latency")), 100);
    assert_string_equal (groups->groups[1].name, "unknown board");
    fb_per_groups_destroy (&groups);
    /* only the group of host 2 (the abort check's view) */
    groups = fb_per_groups_new (&f->run, 0, FB_PER_CPU, 2, &err);
    assert_non_null (groups);
    assert_int_equal (groups->n, 1);
    assert_string_equal (groups->groups[0].name, "Cortex-A72");
    fb_per_groups_destroy (&groups);

    t_fake_target (f, 0, "p95 < 5ms", FB_PER_BOARD);
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_CPU);
    assert_int_equal (fb_verdict_judge (&f->run), 2);
    assert_string_equal (f->run.verdicts[0][0].failed_on, "board Raspberry Pi 4");
    assert_string_equal (f->run.verdicts[0][1].failed_on, "CPU model Cortex-A72");
    s_assert_count_text (f, "2 targets failed (on board Raspberry Pi 4; CPU model Cortex-A72)");
    t_fake_destroy (&f);
}

static void test_lost_hosts_are_left_out_of_the_groups (void **state) {
    (void)state;
    t_fake_t *f = s_one_slow_host ();
    f->run.hosts[1]->state = FB_HOST_LOST;
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_HOST);
    assert_int_equal (fb_verdict_judge (&f->run), 0);
    assert_int_equal (f->run.verdicts[0][0].n_groups, 1);
    assert_non_null (strstr (f->run.verdicts[0][0].detail, "held on its 1 host; the worst: a"));
    t_fake_destroy (&f);
}

static void test_run_json_names_the_groups_and_who_failed (void **state) {
    (void)state;
    t_fake_t *f = s_one_slow_host ();
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_HOST);
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_FLEET);
    assert_int_equal (fb_verdict_judge (&f->run), 1);
    json_t *arr = fb_verdict_json (&f->run, 0);
    assert_non_null (arr);
    json_t *host = json_array_get (arr, 0), *fleet = json_array_get (arr, 1);
    assert_string_equal (json_string_value (json_object_get (host, "per")), "host");
    assert_string_equal (
        json_string_value (json_array_get (json_object_get (host, "failed_on"), 0)), "b");
    json_t *b = json_array_get (json_object_get (host, "groups"), 1);
    assert_string_equal (json_string_value (json_object_get (b, "name")), "b");
    assert_string_equal (json_string_value (json_object_get (b, "verdict")), "failed");
    assert_string_equal (json_string_value (json_array_get (json_object_get (b, "hosts"), 0)), "b");
    assert_string_equal (json_string_value (json_object_get (fleet, "per")), "fleet");
    assert_null (json_object_get (fleet, "groups"));
    json_decref (arr);
    t_fake_destroy (&f);
}

/* With --repeat, the last repetition judges per-host targets on every repetition's numbers of
 * that host, as it judges per-fleet ones on every repetition's fleet. */
static void test_per_host_targets_count_the_earlier_repetitions (void **state) {
    (void)state;
    t_fake_t *prior = s_one_slow_host (); /* b: 20 operations of 10 ms */
    char dir[] = "/tmp/fb-test-per-XXXXXX";
    assert_non_null (mkdtemp (dir));
    json_t *hosts = json_object ();
    for (int h = 0; h < 2; h++)
        json_object_set_new (hosts, prior->run.hosts[h]->id,
                             fb_stats_json_encode (&prior->run.hosts[h]->stats[0]));
    fb_samples_t *samples = fb_samples_new (NULL);
    assert_non_null (samples);
    assert_int_equal (fb_samples_add_counts (samples, 0, 1020, 0, 10 * T_S, NULL), 0);
    json_t *root =
        json_pack ("{s:{s:s},s:[{s:s,s:o,s:o,s:o}]}", "scenario", "name", "x", "workloads", "name",
                   "w0", "samples", fb_samples_json_encode (samples), "fleet",
                   fb_stats_json_encode (&prior->run.fleet[0]), "hosts", hosts);
    fb_samples_destroy (&samples);
    char path[600];
    snprintf (path, sizeof path, "%s/run.json", dir);
    assert_int_equal (json_dump_file (root, path, 0), 0);
    json_decref (root);
    t_fake_destroy (&prior);

    /* this repetition: both hosts fast */
    t_fake_t *f = t_fake_new (1);
    t_fake_measure (t_fake_host (f, "a", "", "cpu"), 0, 1000, 1 * T_MS, 10 * T_S);
    t_fake_measure (t_fake_host (f, "b", "", "cpu"), 0, 20, 1 * T_MS, 10 * T_S);
    t_fake_merge (f);
    t_fake_target (f, 0, "p95 < 5ms", FB_PER_HOST);
    static char prior_dirs[1][512];
    snprintf (prior_dirs[0], sizeof prior_dirs[0], "%s", dir);
    f->run.n_prior = 1;
    f->run.prior = (const char (*)[512])prior_dirs;
    int failed = fb_verdict_judge (&f->run);
    if (failed != 1)
        print_error ("%s\n", f->run.outcome);
    assert_int_equal (failed, 1);
    assert_string_equal (f->run.verdicts[0][0].failed_on, "host b");
    assert_int_equal (
        fb_hist_compact_count (fb_stats_find_metric (&f->run.hosts[1]->stats[0], "latency")), 40);
    assert_int_equal (f->run.hosts[1]->stats[0].measured_ns, 20 * T_S);
    t_fake_destroy (&f);
    unlink (path);
    rmdir (dir);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_one_slow_host_fails_per_host_while_the_fleet_merge_holds),
        cmocka_unit_test (test_throughput_per_host_fails_when_one_host_did_nothing),
        cmocka_unit_test (test_a_host_that_measured_nothing_fails_a_per_host_target),
        cmocka_unit_test (test_boards_and_cpus_are_judged_on_their_hosts_merged),
        cmocka_unit_test (test_lost_hosts_are_left_out_of_the_groups),
        cmocka_unit_test (test_run_json_names_the_groups_and_who_failed),
        cmocka_unit_test (test_per_host_targets_count_the_earlier_repetitions),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

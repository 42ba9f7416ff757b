/* test_scenario.c: scenario files, good and broken. Every file in
 * tests/data/scenarios/broken/NAME.yaml must fail with the fragment in NAME.expect, and the
 * message must start with the file's path and a line:col. */
#include "coordinator/scenario.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_DIR FB_TEST_DATA "/scenarios"

static fb_scenario_t *s_load_good (const char *name) {
    char path[512];
    snprintf (path, sizeof path, "%s/good/%s", S_DIR, name);
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_load (path, &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    return sc;
}

static fb_scenario_t *s_parse (const char *text, fb_err_t *err) {
    return fb_scenario_parse (text, strlen (text), "mem.yaml", err);
}

static void s_assert_fails (const char *text, const char *message) {
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse (text, &err);
    assert_null (sc);
    if (!strstr (err.msg, message))
        print_error ("got \"%s\", expected \"%s\"\n", err.msg, message);
    assert_non_null (strstr (err.msg, message));
}

/* "PATH:LINE:COL: " with LINE and COL positive. */
static int s_has_position (const char *msg, const char *path) {
    size_t n = strlen (path);
    int line = 0, col = 0, used = 0;
    if (strncmp (msg, path, n) != 0)
        return 0;
    if (sscanf (msg + n, ":%d:%d: %n", &line, &col, &used) != 2 || used == 0)
        return 0;
    return line > 0 && col > 0;
}

/* Checks one broken file; returns 0 when it failed as expected. */
static int s_check_broken (const char *dir, const char *name) {
    char path[512], expect_path[512], expect[256] = "";
    snprintf (path, sizeof path, "%s/%s.yaml", dir, name);
    snprintf (expect_path, sizeof expect_path, "%s/%s.expect", dir, name);
    FILE *f = fopen (expect_path, "r");
    if (!f || !fgets (expect, sizeof expect, f)) {
        print_error ("%s: no .expect file\n", name);
        if (f)
            fclose (f);
        return -1;
    }
    fclose (f);
    expect[strcspn (expect, "\n")] = '\0';
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_load (path, &err);
    if (sc) {
        print_error ("%s: parsed, expected \"%s\"\n", name, expect);
        fb_scenario_destroy (&sc);
        return -1;
    }
    if (err.code != FB_EINPUT || !strstr (err.msg, expect) || !s_has_position (err.msg, path)) {
        print_error ("%s:\n  got      %s\n  expected %s\n", name, err.msg, expect);
        return -1;
    }
    return 0;
}

static void test_every_broken_file_fails_with_its_message_and_position (void **state) {
    (void)state;
    const char *dir = S_DIR "/broken";
    DIR *d = opendir (dir);
    assert_non_null (d);
    int files = 0, failed = 0;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        size_t len = strlen (entry->d_name);
        if (len < 6 || strcmp (entry->d_name + len - 5, ".yaml") != 0)
            continue;
        char name[256];
        snprintf (name, sizeof name, "%.*s", (int)(len - 5), entry->d_name);
        files++;
        if (s_check_broken (dir, name) != 0)
            failed++;
    }
    closedir (d);
    assert_true (files >= 20);
    assert_int_equal (failed, 0);
}

static void test_full_example_parses_with_every_value (void **state) {
    (void)state;
    fb_scenario_t *sc = s_load_good ("full.yaml");
    assert_string_equal (sc->name, "nightly-fleet");
    assert_int_equal (sc->expect, 3);
    assert_int_equal (sc->allow_lost, 1);
    assert_int_equal (sc->join_timeout_ns, 45000000000LL);
    assert_int_equal (sc->heartbeat_timeout_ns, 8000000000LL);
    assert_int_equal (sc->n_labels, 2);
    assert_string_equal (sc->labels[0].key, "arch");
    assert_int_equal (sc->labels[0].n_values, 2);
    assert_string_equal (sc->labels[0].values[1], "aarch64");
    assert_string_equal (sc->labels[1].key, "site");
    assert_int_equal (sc->labels[1].n_values, 1);
    assert_string_equal (sc->labels[1].values[0], "lab-2");
    assert_int_equal (sc->duration_ns, 30000000000LL);
    assert_int_equal (sc->n_workloads, 2);

    const fb_scenario_workload_t *w = &sc->workloads[0];
    assert_string_equal (w->name, "bus-burst");
    assert_string_equal (w->wl->kind, "eventbus");
    assert_int_equal (w->line, 11);
    assert_int_equal (w->col, 5);
    assert_true (w->rate_per_s == 20000.0);
    assert_int_equal (w->concurrency, 0);
    assert_int_equal (w->duration_ns, 10000000000LL); /* its own */
    assert_int_equal (w->warmup_ns, 5000000000LL);    /* the defaults' */
    assert_int_equal (w->interval_ns, 1000000000LL);
    assert_int_equal (w->n_params, 5);
    assert_string_equal (w->params[4].name, "handler_work");
    assert_string_equal (w->params[4].value, "10us");
    assert_true (fb_params_num (&w->resolved, "handler_work") == 10000.0);
    assert_true (fb_params_num (&w->resolved, "publishers") == 500.0);
    assert_true (fb_params_given (&w->resolved, "publishers"));
    assert_false (fb_params_given (&w->resolved, "queue"));
    assert_int_equal (w->n_targets, 4);
    assert_int_equal (w->targets[0].measure.stat, FB_STAT_PERCENTILE);
    assert_true (w->targets[0].value == 120000.0);
    assert_string_equal (w->targets[2].measure.metric, "dispatch");
    assert_true (w->targets[2].measure.percentile == 99.9);
    assert_int_equal (w->n_gates, 2);
    assert_true (w->gates[0].max_regression > 0.1999 && w->gates[0].max_regression < 0.2001);
    assert_int_equal (w->gates[1].measure.stat, FB_STAT_THROUGHPUT);

    w = &sc->workloads[1];
    assert_string_equal (w->name, "bus.closed_loop");
    assert_true (w->rate_per_s == 0.0);
    assert_int_equal (w->concurrency, 4);
    assert_int_equal (w->duration_ns, 30000000000LL);
    assert_int_equal (w->warmup_ns, 0);
    assert_int_equal (w->interval_ns, 500000000LL);
    assert_string_equal (fb_params_text (&w->resolved, "dispatch"), "thread-per-handler");
    assert_int_equal (w->targets[0].measure.stat, FB_STAT_COUNTER);
    assert_string_equal (w->targets[0].measure.metric, "peak_threads");
    fb_scenario_destroy (&sc);
    assert_null (sc);
}

static void test_minimal_scenario_gets_the_defaults (void **state) {
    (void)state;
    fb_scenario_t *sc = s_load_good ("minimal.yaml");
    assert_int_equal (sc->expect, 1);
    assert_int_equal (sc->allow_lost, 0);
    assert_int_equal (sc->join_timeout_ns, 30000000000LL);
    assert_int_equal (sc->heartbeat_timeout_ns, 5000000000LL);
    assert_int_equal (sc->n_labels, 0);
    assert_int_equal (sc->n_workloads, 1);
    const fb_scenario_workload_t *w = &sc->workloads[0];
    assert_int_equal (w->duration_ns, 10000000000LL);
    assert_int_equal (w->warmup_ns, 2000000000LL);
    assert_int_equal (w->interval_ns, 1000000000LL);
    assert_int_equal (w->n_params, 0);
    assert_int_equal (w->n_targets, 0);
    assert_int_equal (w->n_gates, 0);
    assert_true (fb_params_num (&w->resolved, "publishers") == 1.0); /* the kind's default */
    fb_scenario_destroy (&sc);
}

static void test_quoted_values_and_explicit_document_markers_are_fine (void **state) {
    (void)state;
    fb_scenario_t *sc = s_load_good ("explicit_document.yaml");
    assert_string_equal (sc->name, "quoted");
    assert_true (fb_params_num (&sc->workloads[0].resolved, "handler_work") == 1500000.0);
    assert_true (fb_params_num (&sc->workloads[0].resolved, "publishers") == 2.0);
    fb_scenario_destroy (&sc);
}

static void test_plan_carries_params_as_written (void **state) {
    (void)state;
    fb_scenario_t *sc = s_load_good ("full.yaml");
    fb_plan_t *plan = calloc (1, sizeof *plan);
    assert_non_null (plan);
    fb_scenario_to_plan (sc, "run-42", plan);
    assert_string_equal (plan->run_id, "run-42");
    assert_string_equal (plan->scenario, "nightly-fleet");
    assert_int_equal (plan->heartbeat_timeout_ns, 8000000000LL);
    assert_int_equal (plan->n_workloads, 2);
    assert_string_equal (plan->workloads[0].name, "bus-burst");
    assert_string_equal (plan->workloads[0].kind, "eventbus");
    assert_int_equal (plan->workloads[0].n_params, 5);
    assert_string_equal (plan->workloads[0].params[2].name, "dispatch");
    assert_string_equal (plan->workloads[0].params[2].value, "pool");
    assert_true (plan->workloads[0].rate_per_s == 20000.0);
    assert_int_equal (plan->workloads[0].duration_ns, 10000000000LL);
    assert_int_equal (plan->workloads[1].concurrency, 4);
    assert_int_equal (plan->workloads[1].interval_ns, 500000000LL);
    assert_int_equal (plan->workloads[1].n_params, 2);
    free (plan);
    fb_scenario_destroy (&sc);
}

static void test_missing_file_says_so (void **state) {
    (void)state;
    fb_err_t err = {0};
    assert_null (fb_scenario_load ("/nonexistent/nightly.yaml", &err));
    assert_int_equal (err.code, FB_EINPUT);
    assert_non_null (strstr (err.msg, "/nonexistent/nightly.yaml: cannot open the scenario file: "
                                      "No such file or directory"));
}

static void test_message_uses_the_path_given_to_parse (void **state) {
    (void)state;
    s_assert_fails ("name: x\nworkloads: 3\n", "mem.yaml:2:12: workloads must be a list");
}

static void test_a_second_workload_sees_the_same_checks (void **state) {
    (void)state;
    s_assert_fails ("name: x\nworkloads:\n  - { name: a, kind: eventbus }\n"
                    "  - { name: b, kind: eventbus, params: { queue: 0 } }\n",
                    "mem.yaml:4:49: queue must be between 1 and 1048576 (got 0)");
}

static void test_concurrency_alone_is_accepted (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse ("name: x\nworkloads:\n  - name: a\n    kind: eventbus\n"
                                 "    concurrency: 16\n    params: { workers: 2 }\n",
                                 &err);
    assert_non_null (sc);
    assert_int_equal (sc->workloads[0].concurrency, 16);
    fb_scenario_destroy (&sc);
}

static void test_duration_below_a_defaults_interval_points_at_the_workload (void **state) {
    (void)state;
    s_assert_fails ("name: x\ndefaults: { interval: 5s }\nworkloads:\n"
                    "  - { name: a, kind: eventbus, duration: 2s }\n",
                    "mem.yaml:4:42: duration must be at least the interval, 5s (got 2s)");
    s_assert_fails ("name: x\ndefaults: { duration: 2s, interval: 5s }\nworkloads:\n"
                    "  - { name: a, kind: eventbus }\n",
                    "mem.yaml:2:23: duration must be at least the interval, 5s (got 2s)");
}

static void test_too_many_workloads_is_an_error (void **state) {
    (void)state;
    char text[8192] = "name: x\nworkloads:\n";
    for (int i = 0; i <= FB_MAX_WORKLOADS; i++) {
        char line[64];
        snprintf (line, sizeof line, "  - { name: w%d, kind: eventbus }\n", i);
        strcat (text, line);
    }
    s_assert_fails (text, "mem.yaml:3:3: workloads must list 1 to 32 workloads (got 33)");
}

static void test_text_with_a_nul_byte_is_refused (void **state) {
    (void)state;
    static const char text[] = "name: x\0\nworkloads: []\n";
    fb_err_t err = {0};
    assert_null (fb_scenario_parse (text, sizeof text - 1, "nul.yaml", &err));
    assert_non_null (strstr (err.msg, "nul.yaml:1:8: expected text (got control character 0x00)"));
}

static void test_seven_days_is_the_longest_duration (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse ("name: x\nworkloads:\n  - name: a\n    kind: eventbus\n"
                                 "    duration: 10080m\n    warmup: 10080m\n",
                                 &err);
    assert_non_null (sc);
    assert_int_equal (sc->workloads[0].duration_ns, FB_SCENARIO_MAX_DURATION_NS);
    fb_scenario_destroy (&sc);
    s_assert_fails ("name: x\nworkloads:\n  - name: a\n    kind: eventbus\n"
                    "    duration: 10081m\n",
                    "mem.yaml:5:15: duration must be at most 10080m (7 days)");
    s_assert_fails ("name: x\nagents: { heartbeat_timeout: 52596000m }\nworkloads:\n"
                    "  - name: a\n    kind: eventbus\n",
                    "mem.yaml:2:30: agents.heartbeat_timeout must be at most 10080m");
}

/* 32 workloads of 100 years each wrapped the progress total to 8750599662 s; at the bound the
 * sum is exact, and past any bound it saturates rather than wraps. */
static void test_the_total_of_every_workload_never_wraps (void **state) {
    (void)state;
    char text[8192];
    int len = snprintf (text, sizeof text, "name: x\nworkloads:\n");
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        len +=
            snprintf (text + len, sizeof text - (size_t)len,
                      "  - { name: w%d, kind: eventbus, duration: 10080m, warmup: 10080m }\n", w);
    fb_err_t err = {0};
    fb_scenario_t *sc = fb_scenario_parse (text, (size_t)len, "mem.yaml", &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    int64_t gap = 1000000000LL;
    assert_int_equal (fb_scenario_total_ns (sc, gap),
                      2 * FB_MAX_WORKLOADS * FB_SCENARIO_MAX_DURATION_NS +
                          (FB_MAX_WORKLOADS - 1) * gap);
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        sc->workloads[w].duration_ns = INT64_MAX / 4; /* only a bypassed parser gets here */
    assert_int_equal (fb_scenario_total_ns (sc, gap), INT64_MAX);
    fb_scenario_destroy (&sc);
}

/* A workload's repeat: runs it in the last N repetitions of the run; the others (the run's
 * repeat) in the last ones, so the last repetition holds every workload, in scenario order. */
static void test_a_workloads_repeat_runs_it_in_the_last_repetitions (void **state) {
    (void)state;
    static const char text[] = "name: x\nworkloads:\n"
                               "  - { name: a, kind: eventbus }\n"
                               "  - { name: b, kind: eventbus, repeat: 3 }\n"
                               "  - { name: c, kind: eventbus, repeat: 2 }\n";
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse (text, &err);
    assert_non_null (sc);
    assert_int_equal (fb_scenario_repetitions (sc, 1), 3);
    assert_int_equal (fb_scenario_repetitions (sc, 5), 5); /* the run's repeat is the most */
    fb_scenario_t *sub = malloc (sizeof *sub);
    assert_non_null (sub);
    static const char *const expected[3] = {"b", "b c", "a b c"};
    for (int done = 0; done < 3; done++) {
        char names[32] = "";
        int n = fb_scenario_repetition (sc, 1, done, sub);
        for (int w = 0; w < n; w++)
            snprintf (names + strlen (names), sizeof names - strlen (names), "%s%s", w ? " " : "",
                      sub->workloads[w].name);
        assert_string_equal (names, expected[done]);
    }
    assert_int_equal (fb_scenario_repetition (sc, 1, 3, sub), 3); /* a rerun runs every one */
    free (sub);
    fb_scenario_destroy (&sc);
}

static void test_targets_take_the_string_and_the_map_form (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc =
        s_parse ("name: x\n"
                 "workloads:\n"
                 "  - name: bus\n"
                 "    kind: eventbus\n"
                 "    targets:\n"
                 "      - \"p95 < 5ms\"\n"
                 "      - { target: \"throughput >= 5000/s\", per: fleet }\n"
                 "      - { target: \"p99 < 9ms\", per: board }\n"
                 "      - { target: \"p50 < 1ms\", per: cpu }\n"
                 "      - { target: \"errors < 1%\", per: host }\n"
                 "    gates: [ { metric: p95, max_regression: 20%, per: fleet } ]\n",
                 &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    const fb_scenario_workload_t *w = &sc->workloads[0];
    assert_int_equal (w->n_targets, 5);
    assert_int_equal (w->targets[0].per, FB_PER_HOST); /* the default */
    assert_int_equal (w->targets[1].per, FB_PER_FLEET);
    assert_string_equal (w->targets[1].text, "throughput >= 5000/s");
    assert_true (w->targets[1].value == 5000.0);
    assert_int_equal (w->targets[2].per, FB_PER_BOARD);
    assert_int_equal (w->targets[3].per, FB_PER_CPU);
    assert_int_equal (w->targets[4].per, FB_PER_HOST);
    assert_int_equal (w->n_gates, 1);
    assert_int_equal (w->gates[0].per, FB_PER_FLEET);
    fb_scenario_destroy (&sc);
}

static void test_gates_take_per_host_board_and_cpu (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse ("name: x\n"
                                 "workloads:\n"
                                 "  - name: bus\n"
                                 "    kind: eventbus\n"
                                 "    gates:\n"
                                 "      - { metric: p95, max_regression: 20%, per: host }\n"
                                 "      - { metric: p99, max_regression: 20%, per: board }\n"
                                 "      - { metric: throughput, max_regression: 10%, per: cpu }\n"
                                 "      - { metric: p50, max_regression: 20% }\n",
                                 &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    const fb_scenario_workload_t *w = &sc->workloads[0];
    assert_int_equal (w->n_gates, 4);
    assert_int_equal (w->gates[0].per, FB_PER_HOST);
    assert_int_equal (w->gates[1].per, FB_PER_BOARD);
    assert_int_equal (w->gates[2].per, FB_PER_CPU);
    assert_int_equal (w->gates[3].per, FB_PER_FLEET); /* the default on a gate */
    fb_scenario_destroy (&sc);
}

static void test_abort_on_fail_takes_a_delay_into_the_measured_window (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc =
        s_parse ("name: x\n"
                 "workloads:\n"
                 "  - name: bus\n"
                 "    kind: eventbus\n"
                 "    duration: 30s\n"
                 "    targets:\n"
                 "      - \"p95 < 5ms\"\n"
                 "      - { target: \"p50 < 1ms\", per: cpu, abort_on_fail: false }\n"
                 "      - { target: \"errors < 1%\", abort_on_fail: true, delay: 10s }\n"
                 "      - { target: \"p99.9 < 1s\", abort_on_fail: true, per: fleet }\n",
                 &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    const fb_scenario_workload_t *w = &sc->workloads[0];
    assert_int_equal (w->n_targets, 4);
    assert_false (w->targets[0].abort_on_fail);
    assert_false (w->targets[1].abort_on_fail);
    assert_int_equal (w->targets[1].per, FB_PER_CPU);
    assert_true (w->targets[2].abort_on_fail);
    assert_int_equal (w->targets[2].abort_delay_ns, 10000000000LL);
    assert_int_equal (w->targets[2].per, FB_PER_HOST);
    assert_true (w->targets[3].abort_on_fail);
    assert_int_equal (w->targets[3].abort_delay_ns, 0); /* from the measured window's start */
    assert_int_equal (w->targets[3].per, FB_PER_FLEET);
    fb_scenario_destroy (&sc);
}

/* The text as read and its SHA-256 (as sha256sum prints it) are kept for run.json. */
static void test_the_text_and_its_sha256_are_kept (void **state) {
    (void)state;
    const char *text = "name: x\nworkloads:\n  - name: a\n    kind: eventbus\n";
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse (text, &err);
    assert_non_null (sc);
    assert_int_equal (sc->text_len, strlen (text));
    assert_string_equal (sc->text, text);
    assert_string_equal (sc->sha256,
                         "219a4e41a10ea2a8ddf8ed3cc2093437d8ac5e4e7f9dc66a9ce33e8b36e4a292");
    fb_scenario_destroy (&sc);
}

static void test_stages_set_the_duration_the_peak_rate_and_the_plan (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse ("name: s\n"
                                 "workloads:\n"
                                 "  - name: a\n"
                                 "    kind: eventbus\n"
                                 "    stages:\n"
                                 "      - { duration: 2s, rate: 1000/s }\n"
                                 "      - { at: 2s, duration: 3s, rate: 5000/s }\n"
                                 "      - { duration: 1s, rate: 200/s }\n"
                                 "    ramp: linear\n"
                                 "    arrivals: poisson\n"
                                 "  - name: b\n"
                                 "    kind: eventbus\n"
                                 "    rate: 100/s\n"
                                 "    arrivals: poisson\n"
                                 "    seed: 42\n",
                                 &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    const fb_scenario_workload_t *a = &sc->workloads[0], *b = &sc->workloads[1];
    assert_int_equal (a->duration_ns, 6000000000LL);
    assert_true (a->rate_per_s == 5000);
    assert_int_equal (a->shape.n_stages, 3);
    assert_int_equal (a->shape.ramp, FB_RAMP_LINEAR);
    assert_int_equal (a->shape.arrivals, FB_ARRIVALS_POISSON);
    assert_false (a->shape.seed_given);
    assert_true (b->shape.seed_given && b->shape.seed == 42);
    assert_int_equal (b->shape.n_stages, 0);
    fb_plan_t *plan = calloc (1, sizeof *plan);
    assert_non_null (plan);
    fb_scenario_to_plan (sc, "run-1", plan);
    assert_int_equal (plan->workloads[0].n_stages, 3);
    assert_int_equal (plan->workloads[0].stages[1].duration_ns, 3000000000LL);
    assert_true (plan->workloads[0].stages[2].rate_per_s == 200);
    assert_int_equal (plan->workloads[0].duration_ns, 6000000000LL);
    assert_int_equal (plan->workloads[0].ramp, FB_RAMP_LINEAR);
    assert_true (plan->workloads[1].seed == 42);
    /* a derived seed: the same for the same run, another for another run or workload, and
     * small enough to survive a JSON reader */
    uint64_t seed = fb_shape_seed (&a->shape, "run-1", 0);
    assert_true (plan->workloads[0].seed == seed);
    assert_true (seed == fb_shape_seed (&a->shape, "run-1", 0));
    assert_true (seed != fb_shape_seed (&a->shape, "run-2", 0));
    assert_true (seed != fb_shape_seed (&a->shape, "run-1", 1));
    assert_true (seed < (1ULL << 53));
    assert_true (fb_shape_host_seed (seed, "pi4-a") != fb_shape_host_seed (seed, "pi4-b"));
    assert_true (fb_shape_host_seed (seed, "pi4-a") == fb_shape_host_seed (seed, "pi4-a"));
    free (plan);
    fb_scenario_destroy (&sc);
}

static void test_capacity_makes_its_steps_and_plans_the_objective (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_scenario_t *sc = s_parse ("name: c\n"
                                 "defaults: { warmup: 1s, interval: 1s }\n"
                                 "workloads:\n"
                                 "  - name: a\n"
                                 "    kind: eventbus\n"
                                 "    capacity: { objective: \"p99 <= 2ms\", start: 1000/s,\n"
                                 "                max: 1000000/s, step: 1.25x, hold: 2s }\n"
                                 "    targets: [ \"capacity > 20000/s\" ]\n",
                                 &err);
    if (!sc)
        print_error ("%s\n", err.msg);
    assert_non_null (sc);
    const fb_scenario_workload_t *w = &sc->workloads[0];
    /* 1000 x 1.25^30 = 807 794/s is the last step at or under 1 000 000/s: 31 steps */
    assert_int_equal (w->shape.n_stages, 31);
    assert_int_equal (w->duration_ns, 62000000000LL);
    assert_true (w->shape.stages[1].rate_per_s == 1250);
    assert_true (w->rate_per_s > 807793 && w->rate_per_s < 807794);
    assert_true (w->targets[0].value == 20000);
    fb_plan_t *plan = calloc (1, sizeof *plan);
    assert_non_null (plan);
    fb_scenario_to_plan (sc, "run-1", plan);
    const fb_plan_workload_t *p = &plan->workloads[0];
    assert_string_equal (p->capacity_metric, "latency");
    assert_true (p->capacity_percentile == 99);
    assert_int_equal (p->capacity_limit_ns, 2000000);
    assert_int_equal (p->capacity_inclusive, 1);
    assert_int_equal (p->n_stages, 31);
    assert_int_equal (p->stages[30].duration_ns, 2000000000LL);
    free (plan);
    fb_scenario_destroy (&sc);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_text_and_its_sha256_are_kept),
        cmocka_unit_test (test_every_broken_file_fails_with_its_message_and_position),
        cmocka_unit_test (test_full_example_parses_with_every_value),
        cmocka_unit_test (test_minimal_scenario_gets_the_defaults),
        cmocka_unit_test (test_quoted_values_and_explicit_document_markers_are_fine),
        cmocka_unit_test (test_plan_carries_params_as_written),
        cmocka_unit_test (test_missing_file_says_so),
        cmocka_unit_test (test_message_uses_the_path_given_to_parse),
        cmocka_unit_test (test_a_second_workload_sees_the_same_checks),
        cmocka_unit_test (test_concurrency_alone_is_accepted),
        cmocka_unit_test (test_duration_below_a_defaults_interval_points_at_the_workload),
        cmocka_unit_test (test_too_many_workloads_is_an_error),
        cmocka_unit_test (test_text_with_a_nul_byte_is_refused),
        cmocka_unit_test (test_seven_days_is_the_longest_duration),
        cmocka_unit_test (test_the_total_of_every_workload_never_wraps),
        cmocka_unit_test (test_a_workloads_repeat_runs_it_in_the_last_repetitions),
        cmocka_unit_test (test_targets_take_the_string_and_the_map_form),
        cmocka_unit_test (test_abort_on_fail_takes_a_delay_into_the_measured_window),
        cmocka_unit_test (test_gates_take_per_host_board_and_cpu),
        cmocka_unit_test (test_stages_set_the_duration_the_peak_rate_and_the_plan),
        cmocka_unit_test (test_capacity_makes_its_steps_and_plans_the_objective),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* verdict.c: targets and gates of every workload. */
#include "coordinator/verdict.h"

#include "coordinator/baseline.h"
#include "coordinator/target.h"

#include <stdio.h>
#include <string.h>

static void s_targets (fb_run_t *run, int w, int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    for (int t = 0; t < sw->n_targets; t++) {
        const fb_target_t *target = &sw->targets[t];
        fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
        snprintf (v->text, sizeof v->text, "%s", target->text);
        v->expected = target->value;
        bool held = false;
        fb_err_t err = {0};
        if (fb_target_judge (target, &run->fleet[w], &v->actual, &held, &err) != 0) {
            v->state = FB_VERDICT_FAILED;
            snprintf (v->detail, sizeof v->detail, "not measured: %s", err.msg);
        } else {
            char actual[48];
            fb_target_measure_format (&target->measure, sw->wl, v->actual, actual, sizeof actual);
            v->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
            snprintf (v->detail, sizeof v->detail, "%s was %s", target->measure.text, actual);
        }
        *failed += v->state == FB_VERDICT_FAILED;
    }
}

static void s_gates (fb_run_t *run, int w, const json_t *baseline, const char *why, int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    fb_stats_t base;
    fb_stats_init (&base);
    fb_err_t berr = {0};
    bool have = baseline && fb_baseline_workload (baseline, sw->name, &base, &berr) == 0;
    for (int g = 0; g < sw->n_gates; g++) {
        const fb_gate_t *gate = &sw->gates[g];
        fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
        v->gate = true;
        snprintf (v->text, sizeof v->text, "%s at most %.0f%% worse than the baseline",
                  gate->measure.text, gate->max_regression * 100);
        if (!have) {
            v->state = FB_VERDICT_SKIPPED;
            snprintf (v->detail, sizeof v->detail, "skipped: %s", baseline ? berr.msg : why);
            continue;
        }
        bool held = false;
        fb_err_t err = {0};
        if (fb_target_gate_judge (gate, &run->fleet[w], &base, &v->actual, &v->expected, &held,
                                  &err) != 0) {
            v->state = FB_VERDICT_FAILED;
            snprintf (v->detail, sizeof v->detail, "not measured: %s", err.msg);
        } else {
            char a[48], b[48];
            fb_target_measure_format (&gate->measure, sw->wl, v->actual, a, sizeof a);
            fb_target_measure_format (&gate->measure, sw->wl, v->expected, b, sizeof b);
            v->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
            double change = v->expected != 0 ? (v->actual / v->expected - 1) * 100 : 0;
            snprintf (v->detail, sizeof v->detail, "%s now, %s in the baseline (%+.1f%%)", a, b,
                      change);
        }
        *failed += v->state == FB_VERDICT_FAILED;
    }
    fb_stats_clear (&base);
}

/* An open-loop workload whose generator fell behind did not run its schedule: the operations
 * it could not start by the planned end are missed, and the run says so instead of passing
 * on the operations that did run. */
static void s_schedule (fb_run_t *run, int w, int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    if (sw->rate_per_s <= 0)
        return;
    const fb_stats_t *fleet = &run->fleet[w];
    int ops_i = fb_stats_find_counter (fleet, "ops");
    int missed_i = fb_stats_find_counter (fleet, "missed");
    int64_t ops = ops_i >= 0 ? fleet->counters[ops_i] : 0;
    int64_t missed = missed_i >= 0 ? fleet->counters[missed_i] : 0;
    fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
    v->schedule = true;
    snprintf (v->text, sizeof v->text, "schedule: %.0f/s per host, every operation started",
              sw->rate_per_s);
    v->expected = 0;
    v->actual = (double)missed;
    v->state = missed > 0 ? FB_VERDICT_FAILED : FB_VERDICT_HELD;
    if (missed > 0)
        snprintf (v->detail, sizeof v->detail,
                  "the generator fell behind: %lld of %lld planned operations missed (not "
                  "started by the planned end)",
                  (long long)missed, (long long)(ops + missed));
    else
        snprintf (v->detail, sizeof v->detail, "0 missed, %lld operations", (long long)ops);
    *failed += v->state == FB_VERDICT_FAILED;
}

int fb_verdict_judge (fb_run_t *run) {
    bool any_gate = false;
    for (int w = 0; w < run->sc->n_workloads; w++)
        any_gate = any_gate || run->sc->workloads[w].n_gates > 0;
    json_t *baseline = NULL;
    fb_err_t err = {0};
    char why[300] = "";
    if (any_gate) {
        baseline = fb_baseline_load (run->baseline_path, &err);
        if (!baseline)
            snprintf (why, sizeof why, "%s; save one with `coord baseline save RUN_DIR`", err.msg);
        run->baseline_loaded = baseline != NULL;
    }
    int failed = 0;
    for (int w = 0; w < run->sc->n_workloads; w++) {
        run->n_verdicts[w] = 0;
        s_targets (run, w, &failed);
        s_gates (run, w, baseline, why, &failed);
        s_schedule (run, w, &failed);
    }
    json_decref (baseline);
    return failed;
}

/* Appends ", 2 targets held" (no comma first) when n > 0. */
static void s_count (char *buf, size_t size, int n, const char *what, const char *state) {
    size_t len = strlen (buf);
    if (n > 0 && len < size)
        snprintf (buf + len, size - len, "%s%d %s%s %s", len ? ", " : "", n, what,
                  n == 1 ? "" : "s", state);
}

void fb_verdict_count_text (const fb_run_t *run, char *buf, size_t size) {
    enum { S_TARGET, S_GATE, S_SCHEDULE };
    static const char *const nouns[] = {"target", "gate", "schedule"};
    int n[3][3] = {{0}}; /* [kind][state] */
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_verdicts[w]; i++) {
            const fb_verdict_t *v = &run->verdicts[w][i];
            n[v->gate ? S_GATE : v->schedule ? S_SCHEDULE : S_TARGET][v->state]++;
        }
    buf[0] = '\0';
    for (int k = 0; k < 3; k++)
        s_count (buf, size, n[k][FB_VERDICT_FAILED], nouns[k], "failed");
    for (int k = 0; k < 3; k++)
        s_count (buf, size, n[k][FB_VERDICT_HELD], nouns[k], "held");
    s_count (buf, size, n[S_TARGET][FB_VERDICT_SKIPPED], "target", "skipped");
    s_count (buf, size, n[S_GATE][FB_VERDICT_SKIPPED], "gate", "skipped (no baseline)");
    if (!buf[0])
        snprintf (buf, size, "no targets or gates");
}

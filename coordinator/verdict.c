/* verdict.c: targets and gates of every workload. */
#include "verdict.h"

#include "baseline.h"
#include "target.h"

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
            fb_measure_format (&target->measure, sw->wl, v->actual, actual, sizeof actual);
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
        if (fb_gate_judge (gate, &run->fleet[w], &base, &v->actual, &v->expected, &held, &err) !=
            0) {
            v->state = FB_VERDICT_FAILED;
            snprintf (v->detail, sizeof v->detail, "not measured: %s", err.msg);
        } else {
            char a[48], b[48];
            fb_measure_format (&gate->measure, sw->wl, v->actual, a, sizeof a);
            fb_measure_format (&gate->measure, sw->wl, v->expected, b, sizeof b);
            v->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
            double change = v->expected != 0 ? (v->actual / v->expected - 1) * 100 : 0;
            snprintf (v->detail, sizeof v->detail, "%s now, %s in the baseline (%+.1f%%)", a, b,
                      change);
        }
        *failed += v->state == FB_VERDICT_FAILED;
    }
    fb_stats_clear (&base);
}

int fb_verdicts_judge (fb_run_t *run) {
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

void fb_verdicts_count_text (const fb_run_t *run, char *buf, size_t size) {
    int n[2][3] = {{0}}; /* [gate][state] */
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_verdicts[w]; i++)
            n[run->verdicts[w][i].gate][run->verdicts[w][i].state]++;
    buf[0] = '\0';
    s_count (buf, size, n[0][FB_VERDICT_FAILED], "target", "failed");
    s_count (buf, size, n[1][FB_VERDICT_FAILED], "gate", "failed");
    s_count (buf, size, n[0][FB_VERDICT_HELD], "target", "held");
    s_count (buf, size, n[1][FB_VERDICT_HELD], "gate", "held");
    s_count (buf, size, n[0][FB_VERDICT_SKIPPED], "target", "skipped");
    s_count (buf, size, n[1][FB_VERDICT_SKIPPED], "gate", "skipped (no baseline)");
    if (!buf[0])
        snprintf (buf, size, "no targets or gates");
}

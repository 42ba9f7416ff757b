/* verdict.c: targets and gates of every workload, and the fleet's intervals. */
#include "coordinator/verdict.h"

#include "common/stats_json.h"
#include "coordinator/abort.h"
#include "coordinator/baseline.h"
#include "coordinator/compat.h"
#include "coordinator/gate_per.h"
#include "coordinator/paramjson.h"
#include "coordinator/per.h"
#include "coordinator/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const fb_verdict_ci_names[FB_RUN_N_CI] = {"p50", "p95", "p99", "mean", "throughput"};

const char *fb_verdict_state_name (fb_verdict_state_t state) {
    static const char *const names[] = {"held", "failed", "skipped", "inconclusive",
                                        "incomparable"};
    return state <= FB_VERDICT_INCOMPARABLE ? names[state] : "?";
}

/* measure "name" of the latency metric (or throughput). */
static fb_measure_t s_measure (const char *name, const fb_workload_t *wl) {
    fb_measure_t m;
    fb_target_measure_parse (name, wl, &m, NULL);
    return m;
}

/* The five figures' intervals of samples; false when it has none. */
static bool s_cis (const fb_samples_t *samples, const fb_workload_t *wl,
                   fb_inference_ci_t ci[FB_RUN_N_CI]) {
    if (!samples)
        return false;
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    fb_measure_t m[FB_RUN_N_CI];
    for (int i = 0; i < FB_RUN_N_CI; i++)
        m[i] = s_measure (fb_verdict_ci_names[i], wl);
    return fb_inference_ci_many (samples, m, FB_RUN_N_CI, &opts, ci, NULL) == 0;
}

/* The fleet's and every host's intervals of workload w. */
static void s_fleet_ci (fb_run_t *run, int w) {
    const fb_workload_t *wl = run->sc->workloads[w].wl;
    run->have_ci[w] = s_cis (run->samples[w], wl, run->fleet_ci[w]);
    for (int i = 0; i < run->n_hosts; i++) {
        fb_samples_t *own;
        run->hosts[i]->have_ci[w] =
            s_cis (fb_run_host_samples (run, run->hosts[i], w, &own), wl, run->hosts[i]->ci[w]);
        fb_samples_destroy (&own);
    }
}

/* A target judged on the fleet's merge, with its interval. */
static void s_fleet_target (fb_run_t *run, int w, const fb_target_t *target, fb_verdict_t *v) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    bool held = false;
    fb_err_t err = {0};
    if (fb_target_judge (target, &run->fleet[w], &v->actual, &held, &err) != 0) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not measured: %s", err.msg);
        return;
    }
    char actual[48], interval[160] = "";
    fb_target_measure_format (&target->measure, sw->wl, v->actual, actual, sizeof actual);
    fb_inference_ci_t ci;
    if (run->samples[w] &&
        fb_inference_ci (run->samples[w], &target->measure, &opts, &ci, NULL) == 0) {
        char lo[48], hi[48];
        snprintf (interval, sizeof interval, " (95%% interval %s..%s)",
                  fb_target_measure_format (&target->measure, sw->wl, ci.lo, lo, sizeof lo),
                  fb_target_measure_format (&target->measure, sw->wl, ci.hi, hi, sizeof hi));
    }
    v->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
    snprintf (v->detail, sizeof v->detail, "%s was %s%s", target->measure.text, actual, interval);
}

static void s_targets (fb_run_t *run, int w, int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    for (int t = 0; t < sw->n_targets; t++) {
        const fb_target_t *target = &sw->targets[t];
        fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
        memset (v, 0, sizeof *v);
        fb_target_name (target, v->text, sizeof v->text);
        v->expected = target->value;
        v->per = target->per;
        if (fb_abort_skipped (run, w)) {
            v->state = FB_VERDICT_SKIPPED;
            snprintf (v->detail, sizeof v->detail,
                      "skipped: the run stopped early, before this workload");
        } else if (target->per == FB_PER_FLEET)
            s_fleet_target (run, w, target, v);
        else
            fb_per_judge (run, w, target, v);
        fb_abort_note (run, w, t, v);
        v->counts_as_failed = v->state == FB_VERDICT_FAILED;
        *failed += v->counts_as_failed;
    }
}

/* A counter gate ("rss"): no intervals to resample, judged on the two point values. */
static void s_point_gate (fb_run_t *run, int w, const fb_gate_t *gate, const fb_stats_t *base,
                          fb_verdict_t *v) {
    const fb_workload_t *wl = run->sc->workloads[w].wl;
    bool held = false;
    fb_err_t err = {0};
    if (fb_target_gate_judge (gate, &run->fleet[w], base, &v->actual, &v->expected, &held, &err) !=
        0) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not measured: %s", err.msg);
        return;
    }
    char a[48], b[48];
    fb_target_measure_format (&gate->measure, wl, v->actual, a, sizeof a);
    fb_target_measure_format (&gate->measure, wl, v->expected, b, sizeof b);
    v->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
    double change = v->expected != 0 ? (v->actual / v->expected - 1) * 100 : 0;
    snprintf (v->detail, sizeof v->detail,
              "%s now, %s in the baseline (%+.1f%%; a counter, judged on the values alone)", a, b,
              change);
}

static void s_stat_gate (fb_run_t *run, int w, const fb_gate_t *gate, const fb_samples_t *base,
                         fb_verdict_t *v) {
    const fb_workload_t *wl = run->sc->workloads[w].wl;
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    if (gate->confidence > 0)
        opts.confidence = gate->confidence;
    fb_err_t err = {0};
    fb_inference_decision_t *d = &v->decision;
    if (!run->samples[w] || fb_inference_compare (run->samples[w], base, &gate->measure,
                                                  gate->max_regression, &opts, d, &err) != 0) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not measured: %s",
                  run->samples[w] ? err.msg : "no measured interval");
        return;
    }
    v->has_ci = true;
    v->actual = d->current.point;
    v->expected = d->baseline.point;
    v->state = fb_gate_per_state (d->verdict);
    char a[120], b[120];
    fb_target_measure_format_interval (&gate->measure, wl, d->current.point, d->current.lo,
                                       d->current.hi, a, sizeof a);
    fb_target_measure_format_interval (&gate->measure, wl, d->baseline.point, d->baseline.lo,
                                       d->baseline.hi, b, sizeof b);
    snprintf (v->detail, sizeof v->detail,
              "%s%s now, %s in the baseline (%d run(s)): ratio %.2fx; %s%s",
              v->state == FB_VERDICT_INCONCLUSIVE ? "inconclusive: " : "", a, b, d->baseline.runs,
              d->ratio.point, d->why,
              v->state != FB_VERDICT_INCONCLUSIVE              ? ""
              : gate->on_inconclusive == FB_INCONCLUSIVE_FAIL  ? " (on_inconclusive: fail)"
              : gate->on_inconclusive == FB_INCONCLUSIVE_RERUN ? " (on_inconclusive: rerun)"
                                                               : " (on_inconclusive: pass)");
}

/* This run's side of the comparability check for workload w. */
static unsigned s_compat (const fb_run_t *run, int w, const json_t *baseline, bool per_group,
                          char *why, size_t why_size, char *note, size_t note_size) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    char (*keys)[200] = malloc ((size_t)(run->n_hosts + 1) * sizeof *keys);
    const char **ptrs = malloc ((size_t)(run->n_hosts + 1) * sizeof *ptrs);
    int n = 0;
    for (int i = 0; keys && ptrs && i < run->n_hosts; i++) {
        const fb_fingerprint_t *fp = &run->hosts[i]->hello.fp;
        if (run->hosts[i]->state != FB_HOST_DONE)
            continue;
        ptrs[n] = fb_compat_host_key (fp->cpu_model, fp->cores, fp->board, fp->kernel, keys[n],
                                      sizeof keys[n]);
        n++;
    }
    json_t *params = fb_paramjson_encode (&sw->resolved), *shape = json_object ();
    if (shape)
        fb_shape_json (&sw->shape, 0, sw->rate_per_s > 0, shape);
    fb_compat_run_t side = {ptrs,          n,         params, sw->rate_per_s, FB_VERSION,
                            &sw->resolved, per_group, shape};
    unsigned allow = 0;
    fb_compat_allow_parse (run->allow_different, &allow, NULL);
    unsigned differs =
        fb_compat_check (baseline, sw->name, &side, allow, why, why_size, note, note_size);
    json_decref (params);
    json_decref (shape);
    free (keys);
    free (ptrs);
    return differs;
}

static int s_gates (fb_run_t *run, int w, const json_t *baseline, const char *why_none,
                    int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    if (sw->n_gates == 0 || run->intermediate)
        return 0;
    fb_stats_t base;
    fb_stats_init (&base);
    fb_samples_t *samples = fb_samples_new (NULL);
    fb_err_t berr = {0};
    char incomparable[400] = "", note[400] = "", incomparable_g[400] = "", note_g[400] = "";
    bool have = baseline && fb_baseline_workload (baseline, sw->name, &base, &berr) == 0;
    if (have && samples && fb_baseline_samples (baseline, sw->name, samples, &berr) != 0) {
        snprintf (run->outcome, sizeof run->outcome, "baseline %s: %s", run->baseline_path,
                  berr.msg);
        fb_stats_clear (&base);
        fb_samples_destroy (&samples);
        return -1;
    }
    if (have) {
        s_compat (run, w, baseline, false, incomparable, sizeof incomparable, note, sizeof note);
        /* gates per host, board or CPU compare each group's hosts with their counterparts */
        s_compat (run, w, baseline, true, incomparable_g, sizeof incomparable_g, note_g,
                  sizeof note_g);
    }
    unsigned allow = 0;
    fb_compat_allow_parse (run->allow_different, &allow, NULL);
    for (int g = 0; g < sw->n_gates; g++) {
        const fb_gate_t *gate = &sw->gates[g];
        fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
        memset (v, 0, sizeof *v);
        v->gate = true;
        fb_target_gate_name (gate, v->text, sizeof v->text);
        v->per = gate->per;
        bool per_group = gate->per != FB_PER_FLEET;
        const char *why_incomparable = per_group ? incomparable_g : incomparable;
        if (fb_abort_skipped (run, w)) {
            v->state = FB_VERDICT_SKIPPED;
            snprintf (v->detail, sizeof v->detail,
                      "skipped: the run stopped early, before this workload");
        } else if (!have) {
            v->state = FB_VERDICT_SKIPPED;
            snprintf (v->detail, sizeof v->detail, "skipped: %s", baseline ? berr.msg : why_none);
        } else if (why_incomparable[0]) {
            v->state = FB_VERDICT_INCOMPARABLE;
            snprintf (v->detail, sizeof v->detail,
                      "incomparable: %s (judge anyway with --allow-different host|params|build)",
                      why_incomparable);
        } else if (per_group) {
            fb_inference_opts_t opts;
            fb_inference_opts_default (&opts);
            if (gate->confidence > 0)
                opts.confidence = gate->confidence;
            if (fb_gate_per_judge (run, w, gate, baseline, allow, &opts, v, &berr) != 0) {
                snprintf (run->outcome, sizeof run->outcome, "baseline %s: %s", run->baseline_path,
                          berr.msg);
                fb_stats_clear (&base);
                fb_samples_destroy (&samples);
                return -1;
            }
        } else if (gate->measure.stat == FB_STAT_COUNTER) {
            s_point_gate (run, w, gate, &base, v);
        } else {
            s_stat_gate (run, w, gate, samples, v);
        }
        const char *why_note = per_group ? note_g : note;
        if (why_note[0] && v->state != FB_VERDICT_SKIPPED) {
            size_t len = strlen (v->detail);
            snprintf (v->detail + len, sizeof v->detail - len, " [%s]", why_note);
        }
        v->counts_as_failed =
            v->state == FB_VERDICT_FAILED ||
            (v->state == FB_VERDICT_INCONCLUSIVE && gate->on_inconclusive == FB_INCONCLUSIVE_FAIL);
        bool rerun = v->state == FB_VERDICT_INCONCLUSIVE &&
                     gate->on_inconclusive == FB_INCONCLUSIVE_RERUN && run->reruns_left > 0;
        run->rerun_wanted = run->rerun_wanted || rerun; /* the next repetition decides */
        run->inconclusive += v->state == FB_VERDICT_INCONCLUSIVE && !v->counts_as_failed;
        if (v->state == FB_VERDICT_INCONCLUSIVE && !v->counts_as_failed && !rerun)
            fprintf (stderr,
                     "coord: warning: %s: gate %s is inconclusive (counted as passed): %s\n",
                     sw->name, gate->measure.text, v->detail);
        *failed += v->counts_as_failed;
    }
    fb_stats_clear (&base);
    fb_samples_destroy (&samples);
    return 0;
}

int fb_verdict_check_baseline (const fb_scenario_t *sc, const char *path, fb_err_t *err) {
    bool any_gate = false;
    for (int w = 0; w < sc->n_workloads; w++)
        any_gate = any_gate || sc->workloads[w].n_gates > 0;
    if (!any_gate || access (path, F_OK) != 0)
        return 0;
    json_t *baseline = fb_baseline_load_for (path, sc->name, err);
    int rc = baseline ? 0 : -1;
    for (int w = 0; rc == 0 && w < sc->n_workloads; w++) {
        if (sc->workloads[w].n_gates == 0 ||
            !fb_baseline_find_workload (baseline, sc->workloads[w].name))
            continue;
        /* Each workload's own, as the gates read them: metric names of several workloads
         * together may pass what one workload holds. */
        fb_samples_t *samples = fb_samples_new (err);
        const char *unused[1];
        bool per_group = fb_gate_per_metrics (&sc->workloads[w], unused, 0) >= 0;
        if (!samples || fb_baseline_samples (baseline, sc->workloads[w].name, samples, err) != 0 ||
            (per_group && fb_gate_per_check_baseline (baseline, sc->workloads[w].name, err) != 0)) {
            fb_err_prefix (err, "baseline %s", path);
            rc = -1;
        }
        fb_samples_destroy (&samples);
    }
    json_decref (baseline);
    return rc;
}

int fb_verdict_check_series (const fb_scenario_t *sc, const char *dir, fb_err_t *err) {
    char path[600];
    snprintf (path, sizeof path, "%s/run.json", dir);
    json_t *prior = fb_baseline_load (path, err);
    if (!prior)
        return -1;
    const char *name =
        json_string_value (json_object_get (json_object_get (prior, "scenario"), "name"));
    int rc = 0;
    if (!name || strcmp (name, sc->name) != 0)
        rc = fb_err_set (err, FB_EINPUT, "%s: a run of scenario \"%s\", this one is \"%s\"", path,
                         name ? name : "?", sc->name);
    for (int w = 0; rc == 0 && w < sc->n_workloads; w++) {
        const fb_scenario_workload_t *sw = &sc->workloads[w];
        const json_t *pw = fb_baseline_find_workload (prior, sw->name);
        if (!pw)
            continue; /* a workload that run did not have starts its series here */
        json_t *params = fb_paramjson_encode (&sw->resolved);
        char why[200];
        if (!json_equal (params, json_object_get (pw, "params")) ||
            json_number_value (json_object_get (pw, "rate_per_s")) != sw->rate_per_s)
            rc = fb_err_set (err, FB_EINPUT,
                             "%s: workload %s ran with other params or rate; a series holds runs "
                             "of one setting",
                             path, sw->name);
        else if (fb_shape_differs (pw, &sw->shape, sw->rate_per_s > 0, why, sizeof why))
            rc = fb_err_set (err, FB_EINPUT,
                             "%s: workload %s ran with another load shape (%s); a series holds "
                             "runs of one setting",
                             path, sw->name, why);
        else if (!json_is_array (json_object_get (json_object_get (pw, "samples"), "runs")))
            rc = fb_err_set (err, FB_EINPUT,
                             "%s: workload %s has no per-interval samples (a run of an older "
                             "fleetbench, or one that measured nothing)",
                             path, sw->name);
        json_decref (params);
    }
    json_decref (prior);
    return rc;
}

/* Adds each host's stats in an earlier repetition (hosts, by id) to its own, so that targets
 * per host rest on every repetition as those per fleet do. */
static int s_add_prior_hosts (fb_run_t *run, int w, const json_t *hosts, fb_err_t *err) {
    int rc = 0;
    for (int h = 0; rc == 0 && h < run->n_hosts; h++) {
        fb_stats_t *own = &run->hosts[h]->stats[w], stats;
        fb_stats_init (&stats);
        const json_t *hj = json_object_get (hosts, run->hosts[h]->id);
        if (json_is_object (hj) && fb_stats_json_decode (hj, &stats, err) == 0) {
            int64_t measured = own->measured_ns + stats.measured_ns;
            rc = fb_stats_merge (own, &stats, err);
            own->measured_ns = measured;
        }
        fb_stats_clear (&stats);
        /* its intervals, kept when a gate is per host, board or CPU */
        fb_samples_t **samples = &run->hosts[h]->samples[w];
        if (rc == 0 && json_is_object (hj) && json_object_get (hj, "samples")) {
            if (!*samples && !(*samples = fb_samples_new (err)))
                rc = -1;
            else if (fb_samples_json_decode (*samples, json_object_get (hj, "samples"), err) != 0) {
                fb_err_prefix (err, "host %s: samples", run->hosts[h]->id);
                rc = -1;
            }
        }
    }
    return rc;
}

/* Adds the earlier repetitions' intervals and fleet stats to this run's, so every figure and
 * verdict rests on all of them. */
static int s_add_prior (fb_run_t *run, const char *dir, fb_err_t *err) {
    char path[600];
    snprintf (path, sizeof path, "%s/run.json", dir);
    json_t *prior = fb_baseline_load (path, err);
    int rc = prior ? 0 : -1;
    for (int w = 0; rc == 0 && w < run->sc->n_workloads; w++) {
        const json_t *pw = fb_baseline_find_workload (prior, run->sc->workloads[w].name);
        if (!pw || !json_object_get (pw, "samples"))
            continue; /* that repetition measured nothing of it */
        fb_stats_t stats;
        fb_stats_init (&stats);
        if (!run->samples[w] && !(run->samples[w] = fb_samples_new (err)))
            rc = -1;
        if (rc == 0 &&
            fb_samples_json_decode (run->samples[w], json_object_get (pw, "samples"), err) != 0)
            rc = -1;
        if (rc == 0 && fb_stats_json_decode (json_object_get (pw, "fleet"), &stats, err) == 0) {
            int64_t measured = run->fleet[w].measured_ns + stats.measured_ns;
            rc = fb_stats_merge (&run->fleet[w], &stats, err);
            run->fleet[w].measured_ns = measured;
        }
        fb_stats_clear (&stats);
        if (rc == 0)
            rc = s_add_prior_hosts (run, w, json_object_get (pw, "hosts"), err);
    }
    json_decref (prior);
    if (rc != 0)
        fb_err_prefix (err, "repetition %s", dir);
    return rc;
}

/* An open-loop workload whose generator fell behind did not run its schedule: the operations
 * it could not start by the planned end are missed, and the run says so instead of passing
 * on the operations that did run. */
static void s_schedule (fb_run_t *run, int w, int *failed) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    if (sw->rate_per_s <= 0 || fb_abort_skipped (run, w))
        return; /* no schedule, or never started */
    const fb_stats_t *fleet = &run->fleet[w];
    int ops_i = fb_stats_find_counter (fleet, "ops");
    int missed_i = fb_stats_find_counter (fleet, "missed");
    int64_t ops = ops_i >= 0 ? fleet->counters[ops_i] : 0;
    int64_t missed = missed_i >= 0 ? fleet->counters[missed_i] : 0;
    fb_verdict_t *v = &run->verdicts[w][run->n_verdicts[w]++];
    memset (v, 0, sizeof *v);
    v->schedule = true;
    snprintf (v->text, sizeof v->text, "schedule: %.0f/s per host, every operation started",
              sw->rate_per_s);
    v->expected = 0;
    v->actual = (double)missed;
    v->state = missed > 0 ? FB_VERDICT_FAILED : FB_VERDICT_HELD;
    v->counts_as_failed = v->state == FB_VERDICT_FAILED; /* run.json and junit.xml read it */
    if (missed > 0)
        snprintf (v->detail, sizeof v->detail,
                  "the generator fell behind: %lld of %lld planned operations missed (not "
                  "started by the planned end)",
                  (long long)missed, (long long)(ops + missed));
    else
        snprintf (v->detail, sizeof v->detail, "0 missed, %lld operations", (long long)ops);
    *failed += v->counts_as_failed;
}

int fb_verdict_judge (fb_run_t *run) {
    for (int p = 0; p < run->n_prior; p++) {
        fb_err_t err = {0};
        if (s_add_prior (run, run->prior[p], &err) != 0) {
            snprintf (run->outcome, sizeof run->outcome, "incomplete: %s", err.msg);
            return -1;
        }
    }
    bool any_gate = false;
    for (int w = 0; w < run->sc->n_workloads; w++)
        any_gate = any_gate || run->sc->workloads[w].n_gates > 0;
    json_t *baseline = NULL;
    fb_err_t err = {0};
    char why[400] = "";
    if (any_gate && access (run->baseline_path, F_OK) != 0) {
        snprintf (why, sizeof why,
                  "no baseline file %s; save one with `coord baseline save RUN_DIR...`",
                  run->baseline_path);
    } else if (any_gate &&
               !(baseline = fb_baseline_load_for (run->baseline_path, run->sc->name, &err))) {
        snprintf (run->outcome, sizeof run->outcome, "refused: %s", err.msg);
        return -1; /* a baseline that is there but unusable is never a pass */
    }
    run->baseline_loaded = baseline != NULL;
    run->inconclusive = 0;
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int v = 0; v < run->n_verdicts[w]; v++)
            fb_run_clear_verdict (&run->verdicts[w][v]);
    int failed = 0, rc = 0;
    for (int w = 0; w < run->sc->n_workloads; w++) {
        run->n_verdicts[w] = 0;
        s_fleet_ci (run, w);
        s_targets (run, w, &failed);
        if (rc == 0 && s_gates (run, w, baseline, why, &failed) != 0)
            rc = -1;
        s_schedule (run, w, &failed);
    }
    json_decref (baseline);
    return rc < 0 ? -1 : failed;
}

static json_t *s_ci_json (const fb_inference_ci_t *ci) {
    return json_pack ("{s:f,s:f,s:f,s:i,s:i,s:b}", "point", ci->point, "lo", ci->lo, "hi", ci->hi,
                      "runs", ci->runs, "intervals", ci->intervals, "between_runs",
                      ci->between_runs);
}

/* A target's "per", "failed_on" and, per host or group, "groups". */
static void s_per_json (const fb_run_t *run, const fb_verdict_t *v, json_t *vj) {
    json_object_set_new (vj, "per", json_string (fb_target_per_name (v->per)));
    if (v->per == FB_PER_FLEET)
        return;
    json_t *failed_on = json_array (), *groups = json_array ();
    for (int g = 0; g < v->n_groups; g++) {
        const fb_verdict_group_t *group = &v->groups[g];
        json_t *hosts = json_array ();
        for (int h = 0; h < group->n_hosts; h++)
            json_array_append_new (hosts, json_string (run->hosts[group->hosts[h]]->id));
        json_t *gj = json_pack ("{s:s,s:o,s:s,s:f}", "name", group->name, "hosts", hosts, "verdict",
                                fb_verdict_state_name (group->state), "actual", group->actual);
        if (gj && group->has_ci)
            json_object_set_new (gj, "actual_ci", s_ci_json (&group->ci));
        if (gj && group->has_decision) {
            json_object_set_new (gj, "current", s_ci_json (&group->decision.current));
            json_object_set_new (gj, "baseline", s_ci_json (&group->decision.baseline));
            json_object_set_new (gj, "ratio", s_ci_json (&group->decision.ratio));
            json_object_set_new (gj, "limit", json_real (group->decision.limit));
        }
        if (gj && group->why[0])
            json_object_set_new (gj, "detail", json_string (group->why));
        json_array_append_new (groups, gj);
        if (group->state == FB_VERDICT_FAILED)
            json_array_append_new (failed_on, json_string (group->name));
    }
    json_object_set_new (vj, "failed_on", failed_on);
    json_object_set_new (vj, "groups", groups);
}

json_t *fb_verdict_json (const fb_run_t *run, int w) {
    json_t *arr = json_array ();
    for (int i = 0; arr && i < run->n_verdicts[w]; i++) {
        const fb_verdict_t *v = &run->verdicts[w][i];
        json_t *vj = json_pack ("{s:s,s:s,s:s,s:f,s:f,s:s,s:b}", "type",
                                v->gate       ? "gate"
                                : v->schedule ? "schedule"
                                              : "target",
                                "text", v->text, "verdict", fb_verdict_state_name (v->state),
                                "actual", v->actual, v->gate ? "baseline" : "expected", v->expected,
                                "detail", v->detail, "counts_as_failed", v->counts_as_failed);
        if (vj && v->has_ci) {
            const fb_inference_decision_t *d = &v->decision;
            json_object_set_new (vj, "actual_ci", s_ci_json (&d->current));
            json_object_set_new (vj, "baseline_ci", s_ci_json (&d->baseline));
            json_object_set_new (vj, "ratio", s_ci_json (&d->ratio));
            json_object_set_new (vj, "limit", json_real (d->limit));
        }
        if (vj && !v->schedule)
            s_per_json (run, v, vj);
        if (vj && v->gate && run->allow_different[0])
            json_object_set_new (vj, "allowed_different", json_string (run->allow_different));
        json_array_append_new (arr, vj);
    }
    return arr;
}

void fb_verdict_workload_json (const fb_run_t *run, int w, bool host_samples, json_t *workload) {
    if (!workload)
        return;
    if (run->have_ci[w]) {
        json_t *ci = json_object ();
        json_object_set_new (ci, "confidence", json_real (FB_INFERENCE_CONFIDENCE));
        for (int i = 0; i < FB_RUN_N_CI; i++)
            json_object_set_new (ci, fb_verdict_ci_names[i], s_ci_json (&run->fleet_ci[w][i]));
        json_object_set_new (workload, "fleet_ci", ci);
    }
    json_t *hosts = json_object_get (workload, "hosts");
    const char *keep[FB_MAX_METRICS];
    int n_keep =
        host_samples ? fb_gate_per_metrics (&run->sc->workloads[w], keep, FB_MAX_METRICS) : -1;
    for (int h = 0; h < run->n_hosts; h++) {
        json_t *hj = json_object_get (hosts, run->hosts[h]->id);
        fb_samples_t *own = NULL;
        const fb_samples_t *his = n_keep >= 0 && json_is_object (hj)
                                      ? fb_run_host_samples (run, run->hosts[h], w, &own)
                                      : NULL;
        json_t *hs = his ? fb_samples_json_encode_only (his, keep, n_keep) : NULL;
        fb_samples_destroy (&own);
        if (hs)
            json_object_set_new (hj, "samples", hs);
        if (!json_is_object (hj) || !run->hosts[h]->have_ci[w])
            continue;
        json_t *ci = json_object ();
        for (int i = 0; i < FB_RUN_N_CI; i++)
            json_object_set_new (ci, fb_verdict_ci_names[i], s_ci_json (&run->hosts[h]->ci[w][i]));
        json_object_set_new (hj, "ci", ci);
    }
    json_t *samples = run->samples[w] ? fb_samples_json_encode (run->samples[w]) : NULL;
    if (samples)
        json_object_set_new (workload, "samples", samples);
}

/* "  NAME: p50 X (lo..hi), ..." */
static void s_print_cis (FILE *out, bool md, const char *name, const fb_workload_t *wl,
                         const fb_inference_ci_t *ci) {
    fprintf (out, md ? "- %s:" : "    %s:", name);
    for (int i = 0; i < FB_RUN_N_CI; i++) {
        fb_measure_t m = s_measure (fb_verdict_ci_names[i], wl);
        char text[160];
        fb_target_measure_format_interval (&m, wl, ci[i].point, ci[i].lo, ci[i].hi, text,
                                           sizeof text);
        fprintf (out, "%s %s %s", i ? "," : "", fb_verdict_ci_names[i], text);
    }
    fputs ("\n", out);
}

void fb_verdict_print_intervals (FILE *out, bool md, const fb_run_t *run, int w) {
    if (!run->have_ci[w])
        return;
    const fb_workload_t *wl = run->sc->workloads[w].wl;
    const fb_inference_ci_t *ci = run->fleet_ci[w];
    fprintf (out,
             md ? "\n95 %% intervals (%d interval(s) in %d run(s)%s):\n\n"
                : "  95%% intervals (%d interval(s) in %d run(s)%s):\n",
             ci[0].intervals, ci[0].runs, ci[0].between_runs ? "" : ", within this run only");
    s_print_cis (out, md, "fleet", wl, ci);
    if (run->n_hosts > FB_RUN_LISTED_HOSTS) { /* a fleet: the hosts' are in run.json */
        fprintf (out, md ? "- each host's: run.json (`hosts.<id>.ci`)\n"
                         : "    each host's: run.json (hosts.<id>.ci)\n");
        return;
    }
    for (int h = 0; h < run->n_hosts; h++)
        if (run->hosts[h]->have_ci[w])
            s_print_cis (out, md, run->hosts[h]->id, wl, run->hosts[h]->ci[w]);
}

/* Appends ", 2 targets held" (no comma first) when n > 0. */
static void s_count (char *buf, size_t size, int n, const char *what, const char *state) {
    size_t len = strlen (buf);
    if (n > 0 && len < size)
        snprintf (buf + len, size - len, "%s%d %s%s %s", len ? ", " : "", n, what,
                  n == 1 ? "" : "s", state);
}

/* "host b", "the fleet; hosts b, c": where the failed targets failed ("" when only on the
 * fleet). */
static void s_failed_on (const fb_run_t *run, bool gates, char *buf, size_t size) {
    const char *said[FB_MAX_WORKLOADS * FB_MAX_TARGETS];
    int n_said = 0;
    size_t at = 0;
    bool any_group = false; /* when only fleet targets failed, the fleet goes without saying */
    buf[0] = '\0';
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_verdicts[w]; i++)
            any_group =
                any_group || (run->verdicts[w][i].gate == gates && !run->verdicts[w][i].schedule &&
                              run->verdicts[w][i].state == FB_VERDICT_FAILED &&
                              run->verdicts[w][i].failed_on[0]);
    for (int w = 0; any_group && w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_verdicts[w]; i++) {
            const fb_verdict_t *v = &run->verdicts[w][i];
            if (v->gate != gates || v->schedule || v->state != FB_VERDICT_FAILED)
                continue;
            const char *where =
                v->per == FB_PER_FLEET || !v->failed_on[0] ? "the fleet" : v->failed_on;
            bool again = false;
            for (int k = 0; k < n_said && !again; k++)
                again = strcmp (said[k], where) == 0;
            if (again || n_said == (int)(sizeof said / sizeof said[0]))
                continue;
            said[n_said++] = where;
            if (at + strlen (where) + 8 < size)
                at += (size_t)snprintf (buf + at, size - at, "%s%s", at ? "; " : "", where);
        }
}

void fb_verdict_count_text (const fb_run_t *run, char *buf, size_t size) {
    enum { S_TARGET, S_GATE, S_SCHEDULE };
    static const char *const nouns[] = {"target", "gate", "schedule"};
    int n[3][FB_VERDICT_INCOMPARABLE + 1] = {{0}}, undecided_failed = 0; /* [kind][state] */
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_verdicts[w]; i++) {
            const fb_verdict_t *v = &run->verdicts[w][i];
            if (v->state == FB_VERDICT_INCONCLUSIVE && v->counts_as_failed)
                undecided_failed++;
            else
                n[v->gate ? S_GATE : v->schedule ? S_SCHEDULE : S_TARGET][v->state]++;
        }
    buf[0] = '\0';
    for (int k = 0; k < 3; k++) {
        s_count (buf, size, n[k][FB_VERDICT_FAILED], nouns[k], "failed");
        char where[160];
        size_t len = strlen (buf);
        if (k != S_SCHEDULE && n[k][FB_VERDICT_FAILED] > 0 && len < size) {
            s_failed_on (run, k == S_GATE, where, sizeof where);
            if (where[0])
                snprintf (buf + len, size - len, " (on %s)", where);
        }
    }
    s_count (buf, size, undecided_failed, "gate", "inconclusive (counted as failed)");
    for (int k = 0; k < 3; k++)
        s_count (buf, size, n[k][FB_VERDICT_HELD], nouns[k], "held");
    s_count (buf, size, n[S_GATE][FB_VERDICT_INCONCLUSIVE], "gate",
             "inconclusive (counted as passed)");
    s_count (buf, size, n[S_GATE][FB_VERDICT_INCOMPARABLE], "gate", "incomparable");
    s_count (buf, size, n[S_TARGET][FB_VERDICT_SKIPPED], "target", "skipped");
    s_count (buf, size, n[S_GATE][FB_VERDICT_SKIPPED], "gate",
             run->stop.stopped ? "skipped" : "skipped (no baseline)");
    if (!buf[0])
        snprintf (buf, size, "no targets or gates");
}

/* gate_per.c: gates judged per host, board or CPU model against the baseline's same group. */
#include "coordinator/gate_per.h"

#include "common/stats_json.h"
#include "coordinator/baseline.h"
#include "coordinator/compat.h"
#include "coordinator/per.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hosts of a group whose compat keys are compared (the first this many of each side). */
#define S_MAX_KEYS 1024

int fb_gate_per_metrics (const fb_scenario_workload_t *sw, const char **names, int max) {
    int n = -1;
    for (int g = 0; g < sw->n_gates; g++) {
        const fb_gate_t *gate = &sw->gates[g];
        if (gate->per == FB_PER_FLEET)
            continue;
        n = n < 0 ? 0 : n;
        fb_stat_t stat = gate->measure.stat;
        if (stat == FB_STAT_THROUGHPUT || stat == FB_STAT_ERRORS || stat == FB_STAT_COUNTER)
            continue; /* counts of each interval, or the host's stats */
        bool have = false;
        for (int k = 0; k < n && !have; k++)
            have = strcmp (names[k], gate->measure.metric) == 0;
        if (!have && n < max)
            names[n++] = gate->measure.metric;
    }
    return n;
}

/* The fingerprint of host id in the baseline's runs (the first run that had it). */
static const json_t *s_base_fp (const json_t *baseline, const char *id) {
    size_t i, k;
    json_t *entry, *h;
    json_array_foreach (json_object_get (baseline, "runs"), i, entry) {
        json_array_foreach (json_object_get (entry, "hosts"), k, h) {
            const char *hid = json_string_value (json_object_get (h, "id"));
            if (hid && strcmp (hid, id) == 0)
                return json_object_get (h, "fingerprint");
        }
    }
    return NULL;
}

static const char *s_fp_str (const json_t *fp, const char *key) {
    return json_string_value (json_object_get (fp, key));
}

static const char *s_fp_key (const json_t *fp, char *buf, size_t size) {
    return fb_compat_host_key (s_fp_str (fp, "cpu_model"),
                               (int)json_integer_value (json_object_get (fp, "cores")),
                               s_fp_str (fp, "board"), s_fp_str (fp, "kernel"), buf, size);
}

/* The baseline's side of one group: its hosts' samples merged, their stats merged, their
 * compat keys. */
typedef struct {
    fb_samples_t *samples;
    fb_stats_t stats;
    int n_hosts, n_without; /* hosts of the group; of them, those without samples */
    char without[160];      /* the first of those */
    const char *keys[S_MAX_KEYS];
    char key_buf[S_MAX_KEYS][200];
} s_side_t;

/* Decodes a host's samples and merges them into into (NULL: only checks that they decode). */
static int s_decode_host_samples (const json_t *hj, const char *id, fb_samples_t *into,
                                  fb_err_t *err) {
    fb_samples_t *one = fb_samples_new (err);
    int rc = one ? fb_samples_json_decode (one, json_object_get (hj, "samples"), err) : -1;
    if (rc == 0 && into)
        rc = fb_samples_merge (into, one, err);
    else if (one)
        fb_err_prefix (err, "host %s: samples", id);
    fb_samples_destroy (&one);
    return rc;
}

/* Collects the baseline hosts of workload bw in group name (by per). */
static int s_base_side (const json_t *baseline, const json_t *bw, fb_per_t per, const char *name,
                        bool counter, s_side_t *side, fb_err_t *err) {
    const char *id;
    json_t *hj;
    json_object_foreach (json_object_get (bw, "hosts"), id, hj) {
        const json_t *fp = s_base_fp (baseline, id);
        if (!json_is_object (hj) ||
            strcmp (fb_per_key (per, id, s_fp_str (fp, "board"), s_fp_str (fp, "cpu_model")),
                    name) != 0)
            continue;
        if (side->n_hosts < S_MAX_KEYS) {
            side->keys[side->n_hosts] =
                s_fp_key (fp, side->key_buf[side->n_hosts], sizeof side->key_buf[0]);
        }
        side->n_hosts++;
        if (counter) {
            fb_stats_t stats;
            fb_stats_init (&stats);
            int rc = fb_stats_json_decode (hj, &stats, err);
            if (rc == 0)
                rc = fb_stats_merge (&side->stats, &stats, err);
            fb_stats_clear (&stats);
            if (rc != 0) {
                fb_err_prefix (err, "host %s", id);
                return -1;
            }
        } else if (!json_object_get (hj, "samples")) {
            if (side->n_without++ == 0)
                snprintf (side->without, sizeof side->without, "%s", id);
        } else if (s_decode_host_samples (hj, id, side->samples, err) != 0)
            return -1;
    }
    return 0;
}

/* Judges one group: out->state and out->why. */
static int s_judge_group (const fb_run_t *run, int w, const fb_gate_t *gate, const json_t *baseline,
                          unsigned allow, const fb_inference_opts_t *opts,
                          const fb_per_group_t *group, fb_verdict_group_t *out, fb_err_t *err) {
    const fb_workload_t *wl = run->sc->workloads[w].wl;
    const json_t *bw = fb_baseline_find_workload (baseline, run->sc->workloads[w].name);
    bool counter = gate->measure.stat == FB_STAT_COUNTER;
    const char *noun = fb_per_noun (gate->per, false);
    s_side_t *side = calloc (1, sizeof *side);
    fb_samples_t *current = fb_samples_new (err);
    if (!side || !current || !(side->samples = fb_samples_new (err))) {
        free (side);
        fb_samples_destroy (&current);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    fb_stats_init (&side->stats);
    int rc = s_base_side (baseline, bw, gate->per, group->name, counter, side, err);
    /* this run's side */
    const char *keys[S_MAX_KEYS];
    char key_buf[S_MAX_KEYS][200];
    int n_keys = 0;
    for (int h = 0; rc == 0 && h < group->n_hosts; h++) {
        const fb_host_t *host = run->hosts[group->hosts[h]];
        const fb_fingerprint_t *fp = &host->hello.fp;
        if (n_keys < S_MAX_KEYS) {
            keys[n_keys] = fb_compat_host_key (fp->cpu_model, fp->cores, fp->board, fp->kernel,
                                               key_buf[n_keys], sizeof key_buf[0]);
            n_keys++;
        }
        fb_samples_t *own;
        const fb_samples_t *his = fb_run_host_samples (run, host, w, &own);
        if (his)
            rc = fb_samples_merge (current, his, err);
        fb_samples_destroy (&own);
    }
    char why[700];
    out->state = FB_VERDICT_INCOMPARABLE;
    if (rc != 0) {
        /* corrupt baseline data: the caller refuses the run */
    } else if (side->n_hosts == 0) {
        snprintf (out->why, sizeof out->why, "incomparable: the baseline has no %s %s", noun,
                  group->name);
    } else if (!counter && side->n_without > 0) {
        snprintf (out->why, sizeof out->why,
                  "incomparable: the baseline keeps no samples of host %s (saved by an older "
                  "fleetbench or from runs without a gate per host, board or CPU); save it "
                  "again from runs of this scenario",
                  side->without);
    } else if (!(allow & FB_COMPAT_HOST) &&
               fb_compat_keys_differ (side->keys,
                                      side->n_hosts < S_MAX_KEYS ? side->n_hosts : S_MAX_KEYS, keys,
                                      n_keys, why, sizeof why)) {
        snprintf (out->why, sizeof out->why, "incomparable: %s", why);
    } else if (!counter && gate->measure.stat != FB_STAT_THROUGHPUT &&
               gate->measure.stat != FB_STAT_ERRORS &&
               fb_samples_metric_index (side->samples, gate->measure.metric) < 0) {
        snprintf (out->why, sizeof out->why,
                  "incomparable: the baseline's samples of this %s keep no metric %s (saved "
                  "before this gate was added); save it again from runs of this scenario",
                  noun, gate->measure.metric);
    } else if (counter) {
        bool held = false;
        fb_err_t jerr = {0};
        if (fb_target_gate_judge (gate, &group->stats, &side->stats, &out->actual,
                                  &out->decision.baseline.point, &held, &jerr) != 0) {
            out->state = FB_VERDICT_FAILED;
            snprintf (out->why, sizeof out->why, "not measured: %s", jerr.msg);
        } else {
            char a[48], b[48];
            fb_target_measure_format (&gate->measure, wl, out->actual, a, sizeof a);
            fb_target_measure_format (&gate->measure, wl, out->decision.baseline.point, b,
                                      sizeof b);
            out->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
            snprintf (out->why, sizeof out->why, "%s now, %s in the baseline (a counter)", a, b);
        }
    } else {
        fb_inference_decision_t *d = &out->decision;
        fb_err_t jerr = {0};
        if (fb_samples_total_intervals (current) == 0 ||
            fb_inference_compare (current, side->samples, &gate->measure, gate->max_regression,
                                  opts, d, &jerr) != 0) {
            out->state = FB_VERDICT_FAILED;
            snprintf (out->why, sizeof out->why, "not measured: %s",
                      jerr.msg[0] ? jerr.msg : "no measured interval");
        } else {
            out->has_decision = true;
            out->actual = d->current.point;
            out->state = fb_gate_per_state (d->verdict);
            char a[120], b[120];
            fb_target_measure_format_interval (&gate->measure, wl, d->current.point, d->current.lo,
                                               d->current.hi, a, sizeof a);
            fb_target_measure_format_interval (&gate->measure, wl, d->baseline.point,
                                               d->baseline.lo, d->baseline.hi, b, sizeof b);
            snprintf (out->why, sizeof out->why,
                      "%s now, %s in the baseline: ratio %.2fx (%.2fx..%.2fx)", a, b,
                      d->ratio.point, d->ratio.lo, d->ratio.hi);
        }
    }
    fb_samples_destroy (&side->samples);
    fb_stats_clear (&side->stats);
    free (side);
    fb_samples_destroy (&current);
    return rc;
}

static const char *s_state_word (fb_verdict_state_t state) {
    return state == FB_VERDICT_FAILED         ? "failed"
           : state == FB_VERDICT_INCONCLUSIVE ? "inconclusive"
           : state == FB_VERDICT_INCOMPARABLE ? "incomparable"
                                              : "held";
}

/* Appends "STATE on N of M hosts: g1 why; g2 why" of the groups in state to the detail, and
 * to failed_on their names when state is the gate's. */
static void s_list (fb_verdict_t *v, fb_verdict_state_t state, int count) {
    char text[400];
    snprintf (text, sizeof text, "%s%s on %s%d of %d %s: ", v->detail[0] ? "; " : "",
              s_state_word (state), state == FB_VERDICT_HELD ? "each, " : "", count, v->n_groups,
              fb_per_noun (v->per, v->n_groups != 1));
    fb_per_append (v->detail, sizeof v->detail, text);
    bool named = state == v->state && state != FB_VERDICT_HELD;
    if (named)
        snprintf (v->failed_on, sizeof v->failed_on, "%s ", fb_per_noun (v->per, count != 1));
    int listed = 0;
    for (int g = 0; g < v->n_groups; g++) {
        const fb_verdict_group_t *group = &v->groups[g];
        if (group->state != state)
            continue;
        if (listed == 4) {
            snprintf (text, sizeof text, " and %d more", count - listed);
            if (named)
                fb_per_append (v->failed_on, sizeof v->failed_on, text);
            fb_per_append (v->detail, sizeof v->detail, text);
            break;
        }
        if (named) {
            fb_per_append (v->failed_on, sizeof v->failed_on, listed ? ", " : "");
            fb_per_append (v->failed_on, sizeof v->failed_on, group->name);
        }
        snprintf (text, sizeof text, "%s%s %s", listed ? "; " : "", group->name, group->why);
        fb_per_append (v->detail, sizeof v->detail, text);
        if (listed == 0 && state == v->state) {
            v->actual = group->actual;
            v->expected = group->has_decision ? group->decision.baseline.point : 0;
        }
        listed++;
    }
}

/* The gate's state from its groups' (failed, else inconclusive, else incomparable, else
 * held), failed_on naming the groups in that state, and a detail listing the groups in each
 * state but held (every group when all held). */
static void s_describe (fb_verdict_t *v) {
    static const fb_verdict_state_t order[] = {FB_VERDICT_FAILED, FB_VERDICT_INCONCLUSIVE,
                                               FB_VERDICT_INCOMPARABLE};
    int n[FB_VERDICT_INCOMPARABLE + 1] = {0};
    for (int g = 0; g < v->n_groups; g++)
        n[v->groups[g].state]++;
    v->state = FB_VERDICT_HELD;
    for (int k = 2; k >= 0; k--)
        if (n[order[k]] > 0)
            v->state = order[k];
    v->detail[0] = v->failed_on[0] = '\0';
    if (v->state == FB_VERDICT_HELD) {
        s_list (v, FB_VERDICT_HELD, v->n_groups);
        return;
    }
    for (int k = 0; k < 3; k++)
        if (n[order[k]] > 0)
            s_list (v, order[k], n[order[k]]);
}

int fb_gate_per_judge (const fb_run_t *run, int w, const fb_gate_t *gate, const json_t *baseline,
                       unsigned allow, const fb_inference_opts_t *opts, fb_verdict_t *v,
                       fb_err_t *err) {
    fb_per_groups_t *groups = fb_per_groups_new (run, w, gate->per, -1, err);
    v->per = gate->per;
    if (!groups)
        return -1;
    if (groups->n == 0) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not measured: no host finished the workload");
        fb_per_groups_destroy (&groups);
        return 0;
    }
    if (!(v->groups = calloc ((size_t)groups->n, sizeof *v->groups))) {
        fb_per_groups_destroy (&groups);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (int g = 0; rc == 0 && g < groups->n; g++) {
        const fb_per_group_t *group = &groups->groups[g];
        fb_verdict_group_t *out = &v->groups[v->n_groups++];
        snprintf (out->name, sizeof out->name, "%s", group->name);
        out->hosts = calloc ((size_t)group->n_hosts, sizeof *out->hosts);
        if (out->hosts) {
            memcpy (out->hosts, group->hosts, (size_t)group->n_hosts * sizeof *out->hosts);
            out->n_hosts = group->n_hosts;
        }
        rc = s_judge_group (run, w, gate, baseline, allow, opts, group, out, err);
    }
    if (rc == 0)
        s_describe (v);
    fb_per_groups_destroy (&groups);
    return rc;
}

int fb_gate_per_check_baseline (const json_t *baseline, const char *name, fb_err_t *err) {
    const json_t *bw = fb_baseline_find_workload (baseline, name);
    int rc = 0;
    const char *id;
    json_t *hj;
    json_object_foreach (json_object_get (bw, "hosts"), id, hj) {
        if (rc == 0 && json_is_object (hj) && json_object_get (hj, "samples"))
            rc = s_decode_host_samples (hj, id, NULL, err);
    }
    if (rc != 0)
        fb_err_prefix (err, "workload %s", name);
    return rc;
}

fb_verdict_state_t fb_gate_per_state (fb_inference_verdict_t verdict) {
    return verdict == FB_INFERENCE_HELD     ? FB_VERDICT_HELD
           : verdict == FB_INFERENCE_FAILED ? FB_VERDICT_FAILED
                                            : FB_VERDICT_INCONCLUSIVE;
}

/* baseline.c: saving baselines from runs, reading them back for gates and comparisons. */
#include "coordinator/baseline.h"
#include "coordinator/shape.h"

#include "common/files.h"
#include "common/stats_json.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

json_t *fb_baseline_load (const char *path, fb_err_t *err) {
    if (access (path, R_OK) != 0) {
        fb_err_set (err, FB_EINPUT, "%s: %s", path, strerror (errno));
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_load_file (path, 0, &jerr);
    if (!root) {
        fb_err_set (err, FB_EINPUT, "%s:%d:%d: %s (corrupt or truncated)", path, jerr.line,
                    jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_array (json_object_get (root, "workloads")) ||
        !json_is_string (json_object_get (json_object_get (root, "scenario"), "name"))) {
        json_decref (root);
        fb_err_set (err, FB_EINPUT, "%s: not a fleetbench run.json (no scenario or workloads)",
                    path);
        return NULL;
    }
    return root;
}

static const char *s_scenario (const json_t *root) {
    return json_string_value (json_object_get (json_object_get (root, "scenario"), "name"));
}

const json_t *fb_baseline_find_workload (const json_t *baseline, const char *name) {
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get (baseline, "workloads"), i, w) {
        const char *wname = json_string_value (json_object_get (w, "name"));
        if (wname && strcmp (wname, name) == 0)
            return w;
    }
    return NULL;
}

json_t *fb_baseline_load_for (const char *path, const char *scenario, fb_err_t *err) {
    json_t *root = fb_baseline_load (path, err);
    if (!root)
        return NULL;
    json_int_t format = json_integer_value (json_object_get (root, "fleetbench_baseline"));
    const char *name = s_scenario (root);
    if (format != FB_BASELINE_FORMAT)
        fb_err_set (err, FB_EINPUT,
                    format == 0 ? "%s: an older baseline format (a run's numbers without its "
                                  "per-interval histograms); save it again with `coord baseline "
                                  "save RUN_DIR...` from runs of this version"
                                : "%s: baseline format %lld, this version reads %d",
                    path, (long long)format, FB_BASELINE_FORMAT);
    else if (strcmp (name, scenario) != 0)
        fb_err_set (err, FB_EINPUT, "%s: a baseline of scenario \"%s\", this run is \"%s\"", path,
                    name, scenario);
    else if (!json_is_array (json_object_get (root, "runs")) ||
             json_array_size (json_object_get (root, "runs")) == 0)
        fb_err_set (err, FB_EINPUT, "%s: no runs in the baseline", path);
    else
        return root;
    json_decref (root);
    return NULL;
}

int fb_baseline_workload (const json_t *baseline, const char *name, fb_stats_t *stats,
                          fb_err_t *err) {
    const json_t *w = fb_baseline_find_workload (baseline, name);
    if (!w)
        return fb_err_set (err, FB_EINPUT, "the baseline has no workload \"%s\"", name);
    return fb_stats_json_decode (json_object_get (w, "fleet"), stats, err);
}

int fb_baseline_samples (const json_t *baseline, const char *name, fb_samples_t *samples,
                         fb_err_t *err) {
    const json_t *w = fb_baseline_find_workload (baseline, name);
    if (!w)
        return fb_err_set (err, FB_EINPUT, "the baseline has no workload \"%s\"", name);
    if (fb_samples_json_decode (samples, json_object_get (w, "samples"), err) != 0) {
        fb_err_prefix (err, "workload %s: samples", name);
        return -1;
    }
    return 0;
}

/* Merges the stats at key of from into the same key of into (decoded, merged, encoded). */
static int s_merge_stats (json_t *into, const char *key, const json_t *from, fb_err_t *err) {
    fb_stats_t a, b;
    fb_stats_init (&a);
    fb_stats_init (&b);
    int rc = fb_stats_json_decode (json_object_get (into, key), &a, err);
    if (rc == 0)
        rc = fb_stats_json_decode (json_object_get (from, key), &b, err);
    if (rc == 0) {
        int64_t measured = a.measured_ns + b.measured_ns; /* throughput over both windows */
        rc = fb_stats_merge (&a, &b, err);
        a.measured_ns = measured;
    }
    json_t *merged = rc == 0 ? fb_stats_json_encode (&a) : NULL;
    if (rc == 0 && !merged)
        rc = fb_err_set (err, FB_ENOMEM, "out of memory");
    if (merged)
        json_object_set_new (into, key, merged);
    fb_stats_clear (&a);
    fb_stats_clear (&b);
    return rc;
}

/* Adds each host's samples of workload w (a run's) to the baseline workload bw's host of the
 * same id; a host the baseline lacks is added with its entry. */
static int s_add_hosts (json_t *bw, const json_t *w) {
    json_t *bhosts = json_object_get (bw, "hosts");
    if (!json_is_object (bhosts) && json_object_set_new (bw, "hosts", bhosts = json_object ()) != 0)
        return -1;
    const char *id;
    json_t *hj;
    json_object_foreach (json_object_get (w, "hosts"), id, hj) {
        json_t *runs = json_object_get (json_object_get (hj, "samples"), "runs");
        if (!json_is_array (runs))
            continue; /* kept only when a gate is per host, board or CPU */
        json_t *bh = json_object_get (bhosts, id);
        json_t *bruns = json_object_get (json_object_get (bh, "samples"), "runs");
        int rc = !json_is_object (bh) ? json_object_set_new (bhosts, id, json_deep_copy (hj))
                 : !json_is_array (bruns)
                     ? json_object_set_new (bh, "samples",
                                            json_deep_copy (json_object_get (hj, "samples")))
                     : json_array_extend (bruns, runs);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The run's summary a baseline keeps about it: id, version, hosts and their fingerprints. */
static json_t *s_run_entry (const json_t *run) {
    json_t *hosts = json_array ();
    size_t i;
    json_t *h;
    json_array_foreach (json_object_get (run, "hosts"), i, h) {
        json_array_append_new (hosts,
                               json_pack ("{s:O,s:O}", "id", json_object_get (h, "id"),
                                          "fingerprint", json_object_get (h, "fingerprint")));
    }
    return json_pack ("{s:O,s:O,s:O,s:o}", "run_id", json_object_get (run, "run_id"), "fleetbench",
                      json_object_get (run, "fleetbench"), "started",
                      json_object_get (run, "started"), "hosts", hosts);
}

/* Adds run (a run.json) to baseline: its summary, each workload's samples and stats. */
static int s_add_run (json_t *baseline, const json_t *run, const char *path, bool body,
                      fb_err_t *err) {
    if (strcmp (s_scenario (baseline), s_scenario (run)) != 0)
        return fb_err_set (err, FB_EINPUT, "%s: a run of scenario \"%s\", the baseline is \"%s\"",
                           path, s_scenario (run), s_scenario (baseline));
    json_int_t bv = json_integer_value (json_object_get (baseline, "schema_version"));
    json_int_t rv = json_integer_value (json_object_get (run, "schema_version"));
    if (bv != rv) /* schema_version 2 typed the params: 1's text would never compare equal */
        return fb_err_set (
            err, FB_EINPUT,
            "%s: a run.json of schema_version %lld, the baseline's runs are of %lld; "
            "one baseline holds runs of one format (save a new baseline)",
            path, (long long)rv, (long long)bv);
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get (run, "workloads"), i, w) {
        const char *name = json_string_value (json_object_get (w, "name"));
        json_t *bw = (json_t *)fb_baseline_find_workload (baseline, name ? name : "");
        const json_t *runs = json_object_get (json_object_get (w, "samples"), "runs");
        if (!json_is_array (runs))
            return fb_err_set (err, FB_EINPUT,
                               "%s: workload %s has no per-interval samples (a run of an older "
                               "fleetbench, or one that measured nothing)",
                               path, name ? name : "?");
        if (!bw)
            return fb_err_set (err, FB_EINPUT, "%s: workload %s is not in the baseline's runs",
                               path, name);
        char why[200];
        if (!json_equal (json_object_get (bw, "params"), json_object_get (w, "params")) ||
            !json_equal (json_object_get (bw, "rate_per_s"), json_object_get (w, "rate_per_s")) ||
            fb_shape_json_differs (bw, w, why, sizeof why))
            return fb_err_set (err, FB_EINPUT,
                               "%s: workload %s ran with other params, rate or load shape than the "
                               "baseline's runs; one baseline holds runs of one setting",
                               path, name);
        if (body) {
            json_object_del (bw, "verdicts"); /* the run's own, not the baseline's */
            continue;                         /* the first run is the baseline's body */
        }
        json_array_extend (json_object_get (json_object_get (bw, "samples"), "runs"),
                           (json_t *)runs);
        if (s_add_hosts (bw, w) != 0)
            return fb_err_set (err, FB_ENOMEM, "%s: out of memory adding its hosts", path);
        if (s_merge_stats (bw, "fleet", w, err) != 0) {
            fb_err_prefix (err, "%s: workload %s", path, name);
            return -1;
        }
    }
    json_array_append_new (json_object_get (baseline, "runs"), s_run_entry (run));
    return 0;
}

int fb_baseline_save (const char *const *run_dirs, int n_runs, const char *out_dir, bool add,
                      char *path, size_t path_size, fb_err_t *err) {
    json_t *baseline = NULL;
    int rc = 0;
    bool body = false;
    for (int r = 0; rc == 0 && r < n_runs; r++) {
        char run_json[600];
        snprintf (run_json, sizeof run_json, "%s/run.json", run_dirs[r]);
        json_t *run = fb_baseline_load (run_json, err);
        if (!run) {
            rc = -1;
            break;
        }
        if (!baseline) {
            snprintf (path, path_size, "%s/%s.json", out_dir, s_scenario (run));
            if (add && !(baseline = fb_baseline_load_for (path, s_scenario (run), err))) {
                json_decref (run);
                rc = -1;
                break;
            }
            body = !baseline;
            if (!baseline) {
                if (!(baseline = json_deep_copy (run))) {
                    json_decref (run);
                    rc = fb_err_set (err, FB_ENOMEM, "out of memory");
                    break;
                }
                json_object_del (baseline, "verdicts");
                json_object_set_new (baseline, "fleetbench_baseline",
                                     json_integer (FB_BASELINE_FORMAT));
                json_object_set_new (baseline, "runs", json_array ());
            }
        }
        rc = s_add_run (baseline, run, run_json, body, err);
        body = false;
        json_decref (run);
    }
    if (rc == 0)
        rc = fb_files_mkdirs (out_dir, err);
    if (rc == 0)
        rc = fb_files_write_json (path, baseline, err);
    json_decref (baseline);
    return rc;
}

/* baseline.c: saving and reading baselines (run.json files). */
#include "coordinator/baseline.h"

#include "common/files.h"
#include "common/stats_json.h"

#include <string.h>
#include <unistd.h>

json_t *fb_baseline_load (const char *path, fb_err_t *err) {
    if (access (path, R_OK) != 0) {
        fb_err_set (err, FB_EINPUT, "no baseline file %s", path);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_load_file (path, 0, &jerr);
    if (!root) {
        fb_err_set (err, FB_EINPUT, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
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

int fb_baseline_save (const char *run_dir, const char *out_dir, char *path, size_t path_size,
                      fb_err_t *err) {
    char run_json[600];
    snprintf (run_json, sizeof run_json, "%s/run.json", run_dir);
    json_t *root = fb_baseline_load (run_json, err);
    if (!root)
        return -1;
    const char *name =
        json_string_value (json_object_get (json_object_get (root, "scenario"), "name"));
    int rc = fb_files_mkdirs (out_dir, err);
    if (rc == 0) {
        snprintf (path, path_size, "%s/%s.json", out_dir, name);
        rc = fb_files_write_json (path, root, err);
    }
    json_decref (root);
    return rc;
}

int fb_baseline_workload (const json_t *baseline, const char *name, fb_stats_t *stats,
                          fb_err_t *err) {
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get (baseline, "workloads"), i, w) {
        const char *wname = json_string_value (json_object_get (w, "name"));
        if (wname && strcmp (wname, name) == 0)
            return fb_stats_json_decode (json_object_get (w, "fleet"), stats, err);
    }
    return fb_err_set (err, FB_EINPUT, "the baseline has no workload \"%s\"", name);
}

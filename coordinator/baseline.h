/* baseline.h: the numbers gates compare against. A baseline is a saved run.json:
 * `coord baseline save results/<run-id>` copies it to baselines/<scenario>.json. */
#ifndef FB_BASELINE_H
#define FB_BASELINE_H

#include "common/err.h"
#include "common/stats.h"

#include <jansson.h>
#include <stddef.h>

/* Reads RUN_DIR/run.json and writes it to OUT_DIR/<scenario>.json; path gets the file. */
int fb_baseline_save (const char *run_dir, const char *out_dir, char *path, size_t path_size,
                      fb_err_t *err);
/* Loads a baseline (or any run.json). NULL with err when missing or malformed. */
json_t *fb_baseline_load (const char *path, fb_err_t *err);
/* The fleet stats of workload name in a loaded baseline. */
int fb_baseline_workload (const json_t *baseline, const char *name, fb_stats_t *stats,
                          fb_err_t *err);

#endif

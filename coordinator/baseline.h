/* baseline.h: what gates compare against. A baseline holds one or more runs of a scenario:
 * `coord baseline save RUN_DIR...` writes baselines/<scenario>.json from them (--add appends
 * them to the one there). Each workload keeps its merged stats, every run's per-interval
 * histograms (samples.h) for the statistics, its params and rate, and each run its hosts'
 * fingerprints and fleetbench version, for the comparability check (compat.h). When the
 * scenario has gates per host, board or CPU, each host (by id) keeps its own intervals too
 * (workloads[].hosts.<id>.samples); a baseline without them still reads (those gates are
 * then incomparable). */
#ifndef FB_BASELINE_H
#define FB_BASELINE_H

#include "common/err.h"
#include "common/stats.h"
#include "coordinator/samples.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The "fleetbench_baseline" format number this version writes and reads. */
#define FB_BASELINE_FORMAT 2

/* Reads RUN_DIRS[i]/run.json (all of one scenario, same params) and writes
 * OUT_DIR/<scenario>.json; with add, the runs are added to that file's. path gets the file. */
int fb_baseline_save (const char *const *run_dirs, int n_runs, const char *out_dir, bool add,
                      char *path, size_t path_size, fb_err_t *err);
/* Loads a baseline (or any run.json). NULL with err when missing or malformed. */
json_t *fb_baseline_load (const char *path, fb_err_t *err);
/* Loads a baseline for gates of scenario: NULL with err naming path and what is wrong when it
 * is corrupt, truncated, of another scenario or of an older format. */
json_t *fb_baseline_load_for (const char *path, const char *scenario, fb_err_t *err);
/* The fleet stats of workload name in a loaded baseline. */
int fb_baseline_workload (const json_t *baseline, const char *name, fb_stats_t *stats,
                          fb_err_t *err);
/* The measured intervals of workload name, every run of the baseline, appended to samples. */
int fb_baseline_samples (const json_t *baseline, const char *name, fb_samples_t *samples,
                         fb_err_t *err);
/* The workload entry of name, NULL when absent. */
const json_t *fb_baseline_find_workload (const json_t *baseline, const char *name);

#endif

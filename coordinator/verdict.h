/* verdict.h: judging a finished run: every target against the fleet's merged stats, every
 * gate against the baseline's runs by the bootstrap (inference.h): held, failed or
 * inconclusive; skipped without a baseline, incomparable against one of other hosts, params or
 * build (compat.h). */
#ifndef FB_VERDICT_H
#define FB_VERDICT_H

#include "coordinator/run.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Fills run->verdicts and the fleet's intervals; returns how many failed (an inconclusive
 * gate counts when its on_inconclusive says fail), or -1 when the baseline file cannot be
 * used (run->outcome names the file and what is wrong). */
int fb_verdict_judge (fb_run_t *run);
/* What the verdicts were, counted, failures first: "3 targets held, 1 gate skipped (no
 * baseline)"; "no targets or gates" when there were none. */
void fb_verdict_count_text (const fb_run_t *run, char *buf, size_t size);

/* Before a run: 0 when sc has no gate, path does not exist, or it is a usable baseline of sc;
 * -1 with err naming the file and what is wrong otherwise. */
int fb_verdict_check_baseline (const fb_scenario_t *sc, const char *path, fb_err_t *err);
/* --continue DIR: 0 when DIR/run.json is a run of sc whose workloads ran with sc's params and
 * rates and kept their intervals, so this run's repetitions may join its series; -1 with err
 * naming the file and what differs otherwise. */
int fb_verdict_check_series (const fb_scenario_t *sc, const char *dir, fb_err_t *err);
/* run.json's "verdicts" of workload w. */
json_t *fb_verdict_json (const fb_run_t *run, int w);
/* Adds workload w's "samples" (per-interval histograms) and "fleet_ci" to its run.json entry,
 * and its hosts' "ci"; their "samples" too when host_samples (what a per-host gate needs of a
 * baseline: each is read back from the host's .hlog). */
void fb_verdict_workload_json (const fb_run_t *run, int w, bool host_samples, json_t *workload);
/* One line of the fleet's figures of workload w with their intervals ("" when no intervals). */
void fb_verdict_print_intervals (FILE *out, bool md, const fb_run_t *run, int w);
/* "held", "failed", "skipped", "inconclusive", "incomparable". */
const char *fb_verdict_state_name (fb_verdict_state_t state);
/* The fleet figures that carry an interval: "p50", "p95", "p99", "mean", "throughput". */
extern const char *const fb_verdict_ci_names[FB_RUN_N_CI];

#endif

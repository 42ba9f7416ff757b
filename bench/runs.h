/* runs.h: one workload run through the runner as an agent runs it, for the benches that set
 * the runner beside a peer: its measured latency and schedule lag merged from every report. */
#ifndef FB_BENCH_RUNS_H
#define FB_BENCH_RUNS_H

#include "agent/allow.h"
#include "agent/runner.h"
#include "common/hist.h"

/* What the measured reports of one run add up to (either may be NULL). */
typedef struct {
    fb_hist_t *latency, *sched_lag;
} fb_runs_tally_t;

/* A plan of kind: rate_per_s (0: closed loop), 300 ms of warm-up, then seconds measured in
 * intervals of a second. */
fb_plan_workload_t fb_runs_plan (const char *kind, double rate_per_s, int seconds);
/* Sets param name of plan to value. */
void fb_runs_param (fb_plan_workload_t *plan, const char *name, const char *value);
/* Runs plan (allow may be NULL), merging its measured latency and sched_lag into tally;
 * result gets the runner's result. 0, or -1 with the reason on stderr. */
int fb_runs_workload (const fb_plan_workload_t *plan, const fb_allow_t *allow,
                      fb_runs_tally_t *tally, fb_runner_result_t *result);

#endif

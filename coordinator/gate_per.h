/* gate_per.h: gates per host, board or CPU model. Each host's measured intervals are kept in
 * run.json (workloads[].hosts.<id>.samples) and in baselines; a gate per host judges each
 * host against the baseline's host of the same id, per board or CPU model the merge of the
 * group's hosts (interval by interval) against the baseline's hosts of that board or CPU
 * model, by the same bootstrap and rule as a fleet gate (inference.h). */
#ifndef FB_GATE_PER_H
#define FB_GATE_PER_H

#include "common/err.h"
#include "coordinator/inference.h"
#include "coordinator/run.h"
#include "coordinator/scenario.h"

#include <jansson.h>
#include <stdbool.h>

/* The histogram metrics the gates per host, board or CPU of workload sw resample (distinct,
 * up to max, into names): what each host's samples in run.json must keep. -1 when no gate of
 * sw is per host, board or CPU (its hosts' samples are not kept). */
int fb_gate_per_metrics (const fb_scenario_workload_t *sw, const char **names, int max);

/* Judges gate (per host, board or CPU) of workload w against baseline (loaded for this
 * scenario): v gets one group per host or group, its state failed when any group failed,
 * else inconclusive when any was, else incomparable when any was (a host or group the
 * baseline lacks, or whose hosts differ unless allow has FB_COMPAT_HOST), else held; detail
 * and failed_on name the groups. -1 with err when the baseline's host data are corrupt. */
int fb_gate_per_judge (const fb_run_t *run, int w, const fb_gate_t *gate, const json_t *baseline,
                       unsigned allow, const fb_inference_opts_t *opts, fb_verdict_t *v,
                       fb_err_t *err);

/* Checks that every host's samples of workload name in baseline decode; err says which host
 * and what is wrong. */
int fb_gate_per_check_baseline (const json_t *baseline, const char *name, fb_err_t *err);

/* A gate's verdict from the bootstrap's decision: held, failed or inconclusive. */
fb_verdict_state_t fb_gate_per_state (fb_inference_verdict_t verdict);

#endif

/* shape.h: the load shape of a scenario workload: stages (open loop in steps or linear ramps),
 * how arrivals are spaced (uniform or Poisson) and the Poisson seed. Parsed from the workload's
 * mapping with file:line:col errors, handed to agents in the plan, recorded in run.json. */
#ifndef FB_SHAPE_H
#define FB_SHAPE_H

#include "common/err.h"
#include "common/wire.h"
#include "common/yamltree.h"
#include "coordinator/target.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int n_stages; /* 0: no stages (a constant rate:, or closed loop) */
    fb_plan_stage_t stages[FB_MAX_STAGES];
    int ramp;        /* fb_ramp_t */
    int arrivals;    /* fb_arrivals_t */
    bool seed_given; /* seed: in the scenario; else derived from the run id (fb_shape_seed) */
    uint64_t seed;   /* as given */
    /* capacity: { objective, start, max, step, hold }: the stages are its steps */
    bool capacity;
    fb_target_t objective; /* a latency percentile under a limit */
    double start_per_s, max_per_s, step;
    int64_t hold_ns;
} fb_shape_t;

/* What the shape changes of the workload's timing, in and out. */
typedef struct {
    double rate_per_s;     /* in: its rate: (0: none); out: the highest stage rate with stages */
    int64_t duration_ns;   /* in: its duration (given or the default); out: the stages' sum */
    int64_t interval_ns;   /* in: the duration may not be shorter */
    double max_rate_per_s; /* in: the most a host can schedule for the kind */
} fb_shape_timing_t;

/* Reads stages, ramp, arrivals and seed of a workload's mapping map (path for messages) into
 * shape; -1 with err "path:line:col: ..." when any is wrong or they contradict rate: or
 * duration:. */
int fb_shape_parse (const fb_yamltree_node_t *map, const char *path, const fb_workload_t *wl,
                    fb_shape_t *shape, fb_shape_timing_t *timing, fb_err_t *err);
/* The seed of the workload at index in run run_id: the one given, else one derived from the
 * run id and the index (the same on every call; run.json records it). */
uint64_t fb_shape_seed (const fb_shape_t *shape, const char *run_id, int index);
/* A host's own seed from the workload's: host ids differ, so do their streams, and the same
 * seed and id repeat a host's schedule exactly. */
uint64_t fb_shape_host_seed (uint64_t seed, const char *host_id);
/* Copies the shape into a plan's workload (the seed: seed, the run's). */
void fb_shape_to_plan (const fb_shape_t *shape, uint64_t seed, fb_plan_workload_t *plan);
/* Adds the shape to a run.json workload: "stages" ([{duration_s, rate_per_s}]) and "ramp" with
 * stages, "arrivals" for an open loop, "seed" (the workload's, as fb_shape_seed) for poisson,
 * "capacity" ({objective, start_per_s, max_per_s, step, hold_s}) for a capacity search. */
void fb_shape_json (const fb_shape_t *shape, uint64_t seed, bool open_loop, json_t *workload);
/* Do two run.json workloads differ in their load shape (stages, ramp, arrivals, capacity; not
 * the seed)? why then names the first difference. A baseline, a series (--continue) or a
 * baseline's added run must share it, as they share params and rate. */
bool fb_shape_json_differs (const json_t *before, const json_t *now, char *why, size_t size);
/* The same against a scenario workload's shape (as fb_shape_json would write it). */
bool fb_shape_differs (const json_t *before, const fb_shape_t *shape, bool open_loop, char *why,
                       size_t size);
/* "step", "linear"; "uniform", "poisson". */
const char *fb_shape_ramp_name (int ramp);
const char *fb_shape_arrivals_name (int arrivals);

#endif

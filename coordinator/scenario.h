/* scenario.h: the scenario file (YAML, libyaml), validated against each workload kind's
 * schema. Every error names file:line:col and what was expected. */
#ifndef FB_SCENARIO_H
#define FB_SCENARIO_H

#include "common/err.h"
#include "common/wire.h"
#include "coordinator/shape.h"
#include "coordinator/target.h"
#include "workloads/workload.h"

#include <stddef.h>

#define FB_MAX_TARGETS 16
#define FB_MAX_GATES 16
#define FB_MAX_LABEL_VALUES 8
#define FB_MAX_REPEAT 32 /* repetitions of a run (repeat:, --repeat) */

typedef struct {
    char key[32];
    int n_values;
    char values[FB_MAX_LABEL_VALUES][96]; /* an agent matches when its value is any of these */
} fb_label_match_t;

typedef struct {
    char name[64];
    const fb_workload_t *wl; /* the kind */
    int line, col;           /* where the workload's entry starts */
    int n_params;
    fb_plan_param_t params[FB_MAX_PLAN_PARAMS]; /* as written, sent to agents */
    fb_params_t resolved;                       /* parsed and checked against the kind */
    double rate_per_s;                          /* 0: closed loop; with stages the highest */
    fb_shape_t shape;                           /* stages, ramp, arrivals, seed */
    int concurrency;                            /* 0: the kind's default (1, or its param) */
    int repeat; /* repetitions of this workload; 0: the run's (repeat:, --repeat) */
    int64_t duration_ns, warmup_ns, interval_ns; /* defaults applied */
    int n_targets;
    fb_target_t targets[FB_MAX_TARGETS];
    int n_gates;
    fb_gate_t gates[FB_MAX_GATES];
} fb_scenario_workload_t;

typedef struct {
    char path[256];  /* as given, for messages */
    char *text;      /* the file as read (at most 1 MB), NUL-terminated, for run.json */
    size_t text_len; /* its bytes */
    char sha256[65]; /* of those bytes, lower-case hex */
    char name[64];
    int expect;                   /* agents to wait for (default 1) */
    int allow_lost;               /* agents that may be lost before the run counts incomplete */
    int repeat;                   /* whole repetitions of the run (default 1; --repeat wins) */
    int64_t join_timeout_ns;      /* default 30s */
    int64_t heartbeat_timeout_ns; /* default 5s */
    int n_labels;
    fb_label_match_t labels[FB_MAX_LABELS];
    int64_t duration_ns, warmup_ns, interval_ns; /* defaults: 10s, 2s, 1s */
    int n_workloads;
    fb_scenario_workload_t workloads[FB_MAX_WORKLOADS];
} fb_scenario_t;

/* The longest duration, warm-up or timeout a scenario may give (7 days): longer is a typo, and
 * with this bound every sum of them fits int64 nanoseconds many times over. */
#define FB_SCENARIO_MAX_DURATION_NS (7 * 24 * 3600 * 1000000000LL)

fb_scenario_t *fb_scenario_load (const char *path, fb_err_t *err);
/* Same, from memory; path is only used in messages. */
fb_scenario_t *fb_scenario_parse (const char *text, size_t len, const char *path, fb_err_t *err);
void fb_scenario_destroy (fb_scenario_t **self_p);

/* How many repetitions workload w runs when the run has run_repeat: its own repeat:, or the
 * run's. */
int fb_scenario_workload_repeat (const fb_scenario_t *self, int w, int run_repeat);
/* Repetitions of the whole run: the most any workload has (at least 1). */
int fb_scenario_repetitions (const fb_scenario_t *self, int run_repeat);
/* The workloads of repetition done (0-based) of a run of run_repeat repetitions, into sub:
 * repetitions are aligned to the end, so a workload of r repetitions runs in the last r and
 * every one runs in the last (and in any later: a rerun). Returns how many there are. */
int fb_scenario_repetition (const fb_scenario_t *self, int run_repeat, int done,
                            fb_scenario_t *sub);

/* The plan agents receive: every workload with its params as written. */
/* Warm-up and duration of every workload, plus gap_ns between two workloads; INT64_MAX when the
 * sum would not fit (checked, never wrapped). */
int64_t fb_scenario_total_ns (const fb_scenario_t *self, int64_t gap_ns);

void fb_scenario_to_plan (const fb_scenario_t *self, const char *run_id, fb_plan_t *plan);

#endif

/* runner.h: runs one workload of a plan on this host and reports it interval by interval.
 * The runner owns timing for every workload: worker threads, closed loop or open loop at a
 * rate (latency from each operation's intended start, as wrk2), warm-up kept apart from the
 * measurement, interval reports with histograms and counters. */
#ifndef FB_RUNNER_H
#define FB_RUNNER_H

#include "agent/allow.h"
#include "common/err.h"
#include "common/wire.h"
#include "workloads/workload.h"

#include <stdbool.h>
#include <stdint.h>

/* Receives each interval report (runner thread); takes ownership of *report_p (sets NULL). */
typedef void (fb_runner_sink_fn) (fb_msg_t **report_p, void *arg);

typedef struct {
    const char *run_id;
    const fb_plan_workload_t *plan;
    int index;         /* the workload's index in the plan, echoed in reports */
    int64_t start_ns;  /* monotonic instant to begin; 0: now */
    const bool *abort; /* read with __atomic_load_n: true stops the workload early */
    fb_runner_sink_fn *sink;
    void *sink_arg;
    const fb_allow_t *allow; /* the agent's allow-list; may be NULL */
    const char *helper_dir;  /* where fb-child and friends are; NULL: the default below */
    /* The kind to run; NULL: the one the plan names (tests and benches run kinds of their
     * own). */
    const fb_workload_t *workload;
} fb_runner_args_t;

/* Checks a planned workload against this build and host: the kind exists, every param is
 * valid, the workload's own check passes (allow-listed commands, installed binaries).
 * The message names the workload ("bus-burst: unknown param ..."). */
int fb_runner_check (const fb_plan_workload_t *plan, const fb_allow_t *allow,
                     const char *helper_dir, fb_params_t *params, fb_err_t *err);

/* Where helpers are installed, relative to the prefix (deploy/package.cmake installs them
 * there): /usr/bin/fleetbench-agent runs /usr/libexec/fleetbench/fb-child. */
#define FB_RUNNER_INSTALLED_HELPER_DIR "libexec/fleetbench"

/* The folder of the helpers we ship (fb-child, ...): PREFIX/libexec/fleetbench when this
 * program is in a folder named bin (installed), else this program's own folder (a build tree),
 * "." when unknown. */
const char *fb_runner_default_helper_dir (void);

typedef struct {
    int64_t ops;           /* measured operations (the agent's own tally) */
    int64_t started_ns;    /* when the workers actually began: the start, or later if setup
                              overran it */
    int64_t worker_cpu_ns; /* CPU time of the runner's worker threads (the load generator's
                              own, without threads the workload runs for the system it models) */
} fb_runner_result_t;

/* Runs warm-up then the measured duration, calling sink once per interval; returns when the
 * workload ended or was aborted (every sample recorded is in a report, none lost). result may
 * be NULL. */
int fb_runner_run (const fb_runner_args_t *args, fb_runner_result_t *result, fb_err_t *err);

/* Open loop: how long after the planned end an operation planned before it may still start.
 * A wake-up a hair late is not a miss; a generator further behind stops and counts the rest
 * as missed. */
#define FB_RUNNER_START_GRACE_NS (100 * 1000 * 1000LL)
/* After the last operation: how long a workload may finish work its operations handed off
 * (queued handler calls) before what is left is counted as abandoned. Half the gap. */
#define FB_RUNNER_DRAIN_NS (500 * 1000 * 1000LL)

#endif

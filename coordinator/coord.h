/* coord.h: one run of a scenario: wait for agents, send plans, synchronise clocks, start
 * everyone at one instant, collect and merge reports, judge, write results. */
#ifndef FB_COORD_H
#define FB_COORD_H

#include "common/err.h"
#include "coordinator/scenario.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char bind[256];        /* ROUTER endpoint; default tcp://127.0.0.1:5690 */
    bool insecure;         /* allow plain TCP on a non-loopback bind */
    char keys[512];        /* CURVE: coord keygen's folder (coordinator.key, agents/); "" none */
    int local;             /* agents to start here: -1 auto (none joined after a second), 0 never */
    char out_dir[512];     /* results/ */
    char baseline[512];    /* baseline file for gates; "" = baselines/<scenario>.json */
    bool quiet;            /* no progress lines */
    bool no_summary;       /* no summary table on stdout */
    char agent_path[512];  /* the agent binary for local agents; "" = next to coord */
    char local_allow[512]; /* --allow FILE: local agents' allow-list (absolute); "" none */
    FILE *json_out;        /* run.json printed here too (built in memory, not read back) */
    char allow_different[64]; /* "host,params,build" or part: gates judge anyway */
    /* Repetitions (--repeat): the earlier repetitions' results folders, whose intervals and
     * fleet numbers this one adds to its own (and writes to its run.json); intermediate: judge
     * no gate (a later repetition will). */
    int n_prior;
    const char (*prior)[512];
    bool intermediate;
    int reruns_left;     /* on_inconclusive: rerun may ask for this many more repetitions */
    bool *rerun_wanted;  /* set when an inconclusive gate asked for one */
    bool *stopped_early; /* set when an abort_on_fail target ended the run: no more repetitions */
    char metrics[128];   /* --metrics ADDRESS:PORT: live Prometheus metrics; "" none */
    int64_t metrics_hold_ns; /* --metrics-hold: served this long after the run */
} fb_coord_opts_t;

void fb_coord_opts_default (fb_coord_opts_t *opts);

/* Runs the scenario. Returns the exit code (0 held, 1 failed, 2 bad scenario or plan refused,
 * 3 incomplete); err says why for 2 and 3. run_dir receives the results folder ("" if none). */
int fb_coord_run (const fb_scenario_t *sc, const fb_coord_opts_t *opts, char *run_dir,
                  size_t run_dir_size, fb_err_t *err);

#endif

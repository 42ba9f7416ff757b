/* compat.h: can a run be judged against a baseline? Not when the hosts differ in what moves
 * the numbers (CPU model, cores, board, kernel major), when a workload's params or rate
 * differ, or when the baseline was measured by another fleetbench version; each can be
 * allowed (--allow-different host|params|build), and the allowance is recorded. */
#ifndef FB_COMPAT_H
#define FB_COMPAT_H

#include "common/err.h"
#include "common/fingerprint.h"
#include "workloads/workload.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { FB_COMPAT_HOST = 1, FB_COMPAT_PARAMS = 2, FB_COMPAT_BUILD = 4 } fb_compat_t;

/* "host,params,build" (any part, "" none) -> a mask of fb_compat_t. */
int fb_compat_allow_parse (const char *text, unsigned *allow, fb_err_t *err);
/* "Intel Xeon E-2176G, 12 cores, kernel 6" (board when it has one). */
const char *fb_compat_host_key (const char *cpu_model, int cores, const char *board,
                                const char *kernel, char *buf, size_t size);

/* This run's side: its hosts' keys, one workload's params (typed, as fb_paramjson_encode
 * writes them) and rate, and the fleetbench version; resolved (may be NULL) reads the text
 * params of a baseline of schema_version 1. */
typedef struct {
    const char *const *host_keys;
    int n_hosts;
    const json_t *params;
    double rate_per_s;
    const char *version;
    const fb_params_t *resolved;
    bool hosts_per_group; /* a gate per host, board or CPU: its groups compare their own hosts
                             (fb_compat_keys_differ), not the fleet's */
    const json_t *shape;  /* the workload's load shape as run.json has it (fb_shape_json): part
                             of its params; NULL: not compared */
} fb_compat_run_t;

/* Compares against baseline (format 2) for workload name. Returns the differences not allowed
 * (0: comparable); why says the first ("baseline ran on X, this run on Y"), note lists those
 * allowed ("" when none). */
unsigned fb_compat_check (const json_t *baseline, const char *workload, const fb_compat_run_t *run,
                          unsigned allow, char *why, size_t why_size, char *note, size_t note_size);

/* Do two lists of host keys (as fb_compat_host_key) differ as sets? why then says "baseline
 * ran on X, this run on Y". Sorts both lists. */
bool fb_compat_keys_differ (const char **baseline, int nb, const char **run, int nr, char *why,
                            size_t size);

#endif

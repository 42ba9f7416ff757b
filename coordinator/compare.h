/* compare.h: `coord compare RUN_DIR...`: hardware side by side. For every workload and
 * metric of the given runs, one row per host (or per group of hosts with the same board or
 * CPU model), with p50/p95/p99 merged exactly from the saved histograms, throughput per host,
 * and both as a ratio to a reference row. */
#ifndef FB_COMPARE_H
#define FB_COMPARE_H

#include "common/err.h"

#include <jansson.h>
#include <stdio.h>

typedef enum { FB_COMPARE_BY_HOST, FB_COMPARE_BY_BOARD, FB_COMPARE_BY_CPU } fb_compare_by_t;
typedef enum { FB_COMPARE_TEXT, FB_COMPARE_MARKDOWN, FB_COMPARE_JSON } fb_compare_format_t;

typedef struct {
    fb_compare_by_t by;
    fb_compare_format_t format;
    const char *ref;     /* the reference row's name; NULL: the first row */
    json_t **comparison; /* not NULL: also the comparison as JSON here (the caller's to free) */
} fb_compare_opts_t;

/* run_dirs: folders holding run.json (or run.json files themselves). */
int fb_compare (const char *const *run_dirs, int n_runs, const fb_compare_opts_t *opts, FILE *out,
                fb_err_t *err);

#endif

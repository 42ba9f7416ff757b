/* stats.h: the merged numbers of one workload on one host or the whole fleet: a histogram per
 * metric and the counters. Targets, gates and reports read these; the merge fills them. */
#ifndef FB_STATS_H
#define FB_STATS_H

#include "common/err.h"
#include "common/hist.h"
#include "common/hist_compact.h"

#include <stdint.h>

#define FB_MAX_METRICS 12  /* per workload, the runner's own (3) included */
#define FB_MAX_COUNTERS 32 /* per workload, the runner's own included */

/* The two counters every workload has, and throughput is made of. */
#define FB_COUNTER_OPS "ops"
#define FB_COUNTER_ERRORS "errors"

typedef enum {
    FB_COUNTER_SUM, /* per-interval amounts, summed over intervals and hosts (drops) */
    FB_COUNTER_MAX, /* gauges, the highest seen wins (peak threads, RSS) */
} fb_counter_kind_t;

/* Tells the kind of a counter by its name; arg is the caller's (the workload interface knows
 * the kinds, common/ does not). */
typedef fb_counter_kind_t (fb_counter_kind_fn) (const char *name, const void *arg);

typedef struct {
    int n_metrics;
    char metric_names[FB_MAX_METRICS][32];      /* "latency" first, then "service", ... */
    fb_hist_compact_t *metrics[FB_MAX_METRICS]; /* used buckets only: a host's state is small */
    int n_counters;
    char counter_names[FB_MAX_COUNTERS][32]; /* "ops", "errors", then the runner's and the
                                                workload's own */
    fb_counter_kind_t counter_kinds[FB_MAX_COUNTERS];
    int64_t counters[FB_MAX_COUNTERS];
    int64_t measured_ns; /* the measured window: throughput = ops / measured_ns */
} fb_stats_t;

/* Empty stats (no metric, no counter). */
void fb_stats_init (fb_stats_t *stats);
/* Frees the histograms; the struct can be reused after fb_stats_init. */
void fb_stats_clear (fb_stats_t *stats);
/* The histogram of metric name, created (default layout) when absent. NULL when full. */
fb_hist_compact_t *fb_stats_metric (fb_stats_t *stats, const char *name, fb_err_t *err);
const fb_hist_compact_t *fb_stats_find_metric (const fb_stats_t *stats, const char *name);
/* Frees every histogram but metric name's (counters stay): what a reader of many hosts keeps. */
void fb_stats_keep_metric (fb_stats_t *stats, const char *name);
/* Adds an interval amount (SUM) or a gauge reading (MAX) to the counter name. */
int fb_stats_add_counter (fb_stats_t *stats, const char *name, fb_counter_kind_t kind,
                          int64_t value, fb_err_t *err);
/* -1 when absent. */
int fb_stats_find_counter (const fb_stats_t *stats, const char *name);
/* Packs every histogram (fb_hist_compact_pack): what a workload that ended keeps to the end of
 * the run. Reads answer the same; a merge into one unpacks it. */
int fb_stats_pack (fb_stats_t *stats, fb_err_t *err);
/* Merges every metric and counter of from into into (histograms exactly, counters by kind). */
int fb_stats_merge (fb_stats_t *into, const fb_stats_t *from, fb_err_t *err);

#endif

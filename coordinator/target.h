/* target.h: targets ("p95 < 120us", "throughput > 5000/s", "dispatch.p99 < 1ms",
 * "rss < 50MB", "errors < 0.1%") and regression gates ({ metric: p95, max_regression: 20% }),
 * parsed from scenario text and judged against merged stats. */
#ifndef FB_TARGET_H
#define FB_TARGET_H

#include "common/err.h"
#include "common/stats.h"
#include "workloads/workload.h"

#include <stdbool.h>

typedef enum {
    FB_STAT_PERCENTILE, /* pNN on a latency metric */
    FB_STAT_MEAN,
    FB_STAT_MIN,
    FB_STAT_MAX,
    FB_STAT_THROUGHPUT, /* ops per second over the measured window */
    FB_STAT_ERRORS,     /* errors / ops, a fraction */
    FB_STAT_COUNTER,    /* a counter's value: "rss", "drops", "overflows" */
} fb_stat_t;

typedef enum { FB_CMP_LT, FB_CMP_LE, FB_CMP_GT, FB_CMP_GE } fb_cmp_t;

/* The left-hand side: what is measured. */
typedef struct {
    char text[48];   /* as written: "p95", "dispatch.p99", "throughput", "rss" */
    char metric[32]; /* histogram name ("latency" when not named) or counter name */
    fb_stat_t stat;
    double percentile; /* FB_STAT_PERCENTILE: 0..100 */
} fb_measure_t;

/* Whose numbers a target or gate is judged on: the fleet's merge, every host's own, or the
 * merge of each group of hosts with one board or one CPU model (their fingerprints). */
typedef enum { FB_PER_FLEET, FB_PER_HOST, FB_PER_BOARD, FB_PER_CPU } fb_per_t;

typedef struct {
    char text[96]; /* the whole target as written */
    fb_measure_t measure;
    fb_cmp_t cmp;
    double value; /* base unit: ns, /s, fraction, bytes, count */
    fb_per_t per; /* default per host: a fleet merge can hide one bad host */
    /* Ends the run early once the target fails on the data so far, abort_delay_ns into the
     * measured window or later (coordinator/abort.h). */
    bool abort_on_fail;
    int64_t abort_delay_ns;
} fb_target_t;

/* What an inconclusive gate does to the run's exit code. */
typedef enum {
    FB_INCONCLUSIVE_PASS,
    FB_INCONCLUSIVE_FAIL,
    FB_INCONCLUSIVE_RERUN, /* one more repetition of the run, up to --rerun-budget, then pass */
} fb_on_inconclusive_t;

typedef struct {
    fb_measure_t measure;
    double max_regression; /* fraction: 0.2 for 20% */
    double confidence;     /* level of the interval that decides; 0: the default, 0.95 */
    fb_on_inconclusive_t on_inconclusive; /* default pass (with a warning) */
    fb_per_t per; /* default fleet; host, board or CPU: judged per group (gate_per.h) */
} fb_gate_t;

/* "p95", "dispatch.p99.9", "mean", "throughput", "errors", "rss" -> measure, checked against
 * the workload kind wl (its metric and counter names). Error text names what was expected. */
int fb_target_measure_parse (const char *text, const fb_workload_t *wl, fb_measure_t *measure,
                             fb_err_t *err);
/* "p95 < 120us" -> target. The right side's unit must fit the measure: a duration for latency
 * stats, a rate for throughput, a percent for errors, the counter's unit for counters. */
int fb_target_parse (const char *text, const fb_workload_t *wl, fb_target_t *target, fb_err_t *err);

/* The measured value of measure in stats (base unit). Error when stats lack the metric or no
 * operation was measured. */
int fb_target_measure_value (const fb_measure_t *measure, const fb_stats_t *stats, double *value,
                             fb_err_t *err);
/* Lower is better for everything but throughput and capacity. */
bool fb_target_measure_higher_is_better (const fb_measure_t *measure);

/* held = (actual cmp target->value). */
int fb_target_judge (const fb_target_t *target, const fb_stats_t *stats, double *actual, bool *held,
                     fb_err_t *err);
/* Compares the current value against the baseline's; held when it is at most
 * max_regression worse (for throughput: at most that much lower). */
int fb_target_gate_judge (const fb_gate_t *gate, const fb_stats_t *current,
                          const fb_stats_t *baseline, double *actual, double *base_value,
                          bool *held, fb_err_t *err);

/* What a verdict (and its JUnit test case) is called: "p95 < 5ms (per host)", "p95 at most
 * 20% worse than the baseline" (a gate's "(per ...)" only when it is not per fleet). One name
 * whether the run judged it or ended first, so CI sees the same test either way. */
void fb_target_name (const fb_target_t *target, char *buf, size_t size);
void fb_target_gate_name (const fb_gate_t *gate, char *buf, size_t size);

/* "95%" (50% .. 99.9%) -> 0.95. */
int fb_target_gate_confidence (const char *text, double *confidence, fb_err_t *err);
/* "pass", "fail" or "rerun". */
int fb_target_gate_on_inconclusive (const char *text, fb_on_inconclusive_t *on, fb_err_t *err);

/* "fleet", "host", "board" or "cpu". */
int fb_target_per_parse (const char *text, fb_per_t *per, fb_err_t *err);
const char *fb_target_per_name (fb_per_t per);

/* Human text of a value of that measure: "1.23ms", "5012/s", "0.05%", "48.0MB". */
const char *fb_target_measure_format (const fb_measure_t *measure, const fb_workload_t *wl,
                                      double value, char *buf, size_t size);
/* The same with an interval: "1.23ms (1.10ms..1.41ms)". */
const char *fb_target_measure_format_interval (const fb_measure_t *measure, const fb_workload_t *wl,
                                               double point, double lo, double hi, char *buf,
                                               size_t size);

#endif

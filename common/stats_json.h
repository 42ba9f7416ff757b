/* stats_json.h: fb_stats_t to and from JSON (jansson): a percentile table per metric for
 * people and tools, plus the exact histogram (HdrHistogram V2, base64) so a baseline can be
 * read back without losing precision. */
#ifndef FB_STATS_JSON_H
#define FB_STATS_JSON_H

#include "common/err.h"
#include "common/stats.h"

#include <jansson.h>

/* {"ops":N,"errors":N,"throughput":X,"counters":{...},"metrics":{"latency":{"count":..,
 *  "min":..,"mean":..,"stddev":..,"p50":..,"p90":..,"p95":..,"p99":..,"p99.9":..,"max":..,
 *  "hist":"HISTF..."}}}; latency values in ns. NULL when out of memory. */
json_t *fb_stats_json_encode (const fb_stats_t *stats);
/* Reads what fb_stats_json_encode wrote (histograms from "hist", counters with their kinds). */
int fb_stats_json_decode (const json_t *json, fb_stats_t *stats, fb_err_t *err);

/* The percentiles every table shows. */
#define FB_STATS_N_PERCENTILES 5
extern const double fb_stats_percentiles[FB_STATS_N_PERCENTILES];           /* 50 90 95 99 99.9 */
extern const char *const fb_stats_percentile_names[FB_STATS_N_PERCENTILES]; /* "p50".. */

#endif

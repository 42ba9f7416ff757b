/* stats_json.c: fb_stats_t <-> JSON, with exact histograms as base64 V2. */
#include "common/stats_json.h"

#include "common/b64.h"

#include <stdlib.h>
#include <string.h>

const double fb_stats_percentiles[FB_STATS_N_PERCENTILES] = {50, 90, 95, 99, 99.9};
const char *const fb_stats_percentile_names[FB_STATS_N_PERCENTILES] = {"p50", "p90", "p95", "p99",
                                                                       "p99.9"};

static json_t *s_hist_json (const fb_hist_compact_t *h) {
    json_t *m = json_object ();
    if (!m)
        return NULL;
    json_object_set_new (m, "count", json_integer (fb_hist_compact_count (h)));
    json_object_set_new (m, "min", json_integer (fb_hist_compact_min (h)));
    json_object_set_new (m, "mean", json_real (fb_hist_compact_mean (h)));
    json_object_set_new (m, "stddev", json_real (fb_hist_compact_stddev (h)));
    for (int p = 0; p < FB_STATS_N_PERCENTILES; p++)
        json_object_set_new (
            m, fb_stats_percentile_names[p],
            json_integer (fb_hist_compact_value_at_percentile (h, fb_stats_percentiles[p])));
    json_object_set_new (m, "max", json_integer (fb_hist_compact_max (h)));
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (fb_hist_compact_encode (h, &bytes, &len, NULL) == 0) {
        char *b64 = fb_b64_encode (bytes, len);
        if (b64)
            json_object_set_new (m, "hist", json_string (b64));
        free (b64);
        free (bytes);
    }
    return m;
}

json_t *fb_stats_json_encode (const fb_stats_t *stats) {
    json_t *root = json_object ();
    json_t *counters = json_object ();
    json_t *metrics = json_object ();
    if (!root || !counters || !metrics) {
        json_decref (root);
        json_decref (counters);
        json_decref (metrics);
        return NULL;
    }
    int ops_i = fb_stats_find_counter (stats, FB_COUNTER_OPS);
    int err_i = fb_stats_find_counter (stats, FB_COUNTER_ERRORS);
    int64_t ops = ops_i >= 0 ? stats->counters[ops_i] : 0;
    json_object_set_new (root, "ops", json_integer (ops));
    json_object_set_new (root, "errors", json_integer (err_i >= 0 ? stats->counters[err_i] : 0));
    json_object_set_new (root, "measured_ns", json_integer (stats->measured_ns));
    json_object_set_new (root, "throughput",
                         json_real (stats->measured_ns > 0 ? ops * 1e9 / stats->measured_ns : 0));
    for (int c = 0; c < stats->n_counters; c++) {
        json_t *cj = json_pack ("{s:I,s:s}", "value", (json_int_t)stats->counters[c], "kind",
                                stats->counter_kinds[c] == FB_COUNTER_MAX ? "max" : "sum");
        json_object_set_new (counters, stats->counter_names[c], cj);
    }
    for (int m = 0; m < stats->n_metrics; m++)
        json_object_set_new (metrics, stats->metric_names[m], s_hist_json (stats->metrics[m]));
    json_object_set_new (root, "counters", counters);
    json_object_set_new (root, "metrics", metrics);
    return root;
}

static int s_hist_from_json (const char *name, const json_t *mj, fb_stats_t *stats, fb_err_t *err) {
    const char *b64 = json_string_value (json_object_get (mj, "hist"));
    if (!b64)
        return fb_err_set (err, FB_EINPUT, "metric %s has no \"hist\"", name);
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (fb_b64_decode (b64, strlen (b64), &bytes, &n, err) != 0) {
        fb_err_prefix (err, "metric %s", name);
        return -1;
    }
    fb_hist_compact_t *h = fb_hist_compact_decode (bytes, n, err);
    free (bytes);
    if (!h)
        return -1;
    fb_hist_compact_t *into = fb_stats_metric (stats, name, err);
    int rc = into ? fb_hist_compact_merge (into, h, err) : -1;
    fb_hist_compact_destroy (&h);
    return rc;
}

int fb_stats_json_decode (const json_t *json, fb_stats_t *stats, fb_err_t *err) {
    if (!json_is_object (json))
        return fb_err_set (err, FB_EINPUT, "stats must be an object");
    stats->measured_ns = json_integer_value (json_object_get (json, "measured_ns"));
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)json_object_get (json, "counters"), key, value) {
        const char *kind = json_string_value (json_object_get (value, "kind"));
        fb_counter_kind_t k = kind && strcmp (kind, "max") == 0 ? FB_COUNTER_MAX : FB_COUNTER_SUM;
        if (fb_stats_add_counter (stats, key, k,
                                  json_integer_value (json_object_get (value, "value")), err) != 0)
            return -1;
    }
    json_object_foreach ((json_t *)json_object_get (json, "metrics"), key, value) {
        if (s_hist_from_json (key, value, stats, err) != 0)
            return -1;
    }
    return 0;
}

/* fuzz_stats_json.c: JSON text -> jansson -> fb_stats_json_decode, as `coord` reads baselines and
 * earlier runs (fb_baseline_load, then fb_baseline_workload for each workload). Stats that
 * read must write (fb_stats_json_encode) and read back with the same counters and counts. */
#include "common/stats_json.h"
#include "coordinator/baseline.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

static void s_check_round_trip (const fb_stats_t *stats) {
    json_t *json = fb_stats_json_encode (stats);
    FB_FUZZ_CHECK (json != NULL, "fb_stats_json_encode failed");
    fb_stats_t back;
    fb_stats_init (&back);
    fb_err_t err = {0};
    FB_FUZZ_CHECK (fb_stats_json_decode (json, &back, &err) == 0,
                   "stats we wrote do not read back: %s", err.msg);
    FB_FUZZ_CHECK (back.n_metrics == stats->n_metrics && back.n_counters == stats->n_counters,
                   "%d metrics, %d counters came back as %d, %d", stats->n_metrics,
                   stats->n_counters, back.n_metrics, back.n_counters);
    for (int i = 0; i < stats->n_counters; i++) {
        int j = fb_stats_find_counter (&back, stats->counter_names[i]);
        FB_FUZZ_CHECK (j >= 0 && back.counters[j] == stats->counters[i] &&
                           back.counter_kinds[j] == stats->counter_kinds[i],
                       "counter %s changed on a round trip", stats->counter_names[i]);
    }
    for (int i = 0; i < stats->n_metrics; i++) {
        const fb_hist_compact_t *h = fb_stats_find_metric (&back, stats->metric_names[i]);
        FB_FUZZ_CHECK (h &&
                           fb_hist_compact_count (h) == fb_hist_compact_count (stats->metrics[i]) &&
                           fb_hist_compact_max (h) == fb_hist_compact_max (stats->metrics[i]),
                       "metric %s changed on a round trip", stats->metric_names[i]);
    }
    fb_stats_clear (&back);
    json_decref (json);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    json_error_t jerr;
    json_t *root = json_loadb ((const char *)data, size, 0, &jerr);
    if (!root)
        return 0;
    fb_stats_t stats;
    fb_stats_init (&stats);
    fb_err_t err = {0};
    if (fb_stats_json_decode (root, &stats, &err) == 0)
        s_check_round_trip (&stats);
    else
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
    fb_stats_clear (&stats);

    /* A run.json: every workload's fleet stats, looked up by name as the gates do. */
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get (root, "workloads"), i, w) {
        const char *name = json_string_value (json_object_get (w, "name"));
        if (!name)
            continue;
        fb_stats_init (&stats);
        if (fb_baseline_workload (root, name, &stats, &err) == 0)
            s_check_round_trip (&stats);
        fb_stats_clear (&stats);
    }
    json_decref (root);
    return 0;
}

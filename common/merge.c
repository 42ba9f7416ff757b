/* merge.c: Report -> stats. */
#include "common/merge.h"

int fb_merge_report (fb_stats_t *stats, const fb_report_t *report, fb_counter_kind_fn *kind_of,
                     const void *kind_arg, fb_merge_metric_fn *on_metric, void *arg,
                     fb_err_t *err) {
    for (int m = 0; m < report->n_metrics; m++) {
        const fb_report_metric_t *rm = &report->metrics[m];
        fb_hist_compact_t *h = fb_hist_compact_decode (rm->hist, rm->hist_len, err);
        if (!h) {
            fb_err_prefix (err, "metric %s", rm->name);
            return -1;
        }
        fb_hist_compact_t *into = fb_stats_metric (stats, rm->name, err);
        int rc = into ? fb_hist_compact_merge (into, h, err) : -1;
        if (rc == 0 && on_metric)
            on_metric (rm->name, h, rm->hist, rm->hist_len, arg);
        fb_hist_compact_destroy (&h);
        if (rc != 0)
            return -1;
    }
    for (int c = 0; c < report->n_counters; c++) {
        const fb_report_counter_t *rc = &report->counters[c];
        if (fb_stats_add_counter (stats, rc->name, kind_of (rc->name, kind_arg), rc->value, err) !=
            0)
            return -1;
    }
    return 0;
}

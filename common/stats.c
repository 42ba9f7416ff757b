/* stats.c: the merged numbers of one workload (per host or fleet): named histograms and
 * counters, merged exactly (histograms by bucket addition, counters by their kind). */
#include "common/stats.h"

#include <stdio.h>
#include <string.h>

void fb_stats_init (fb_stats_t *stats) { memset (stats, 0, sizeof *stats); }

void fb_stats_clear (fb_stats_t *stats) {
    for (int i = 0; i < stats->n_metrics; i++)
        fb_hist_compact_destroy (&stats->metrics[i]);
    memset (stats, 0, sizeof *stats);
}

static int s_metric_index (const fb_stats_t *stats, const char *name) {
    for (int i = 0; i < stats->n_metrics; i++)
        if (strcmp (stats->metric_names[i], name) == 0)
            return i;
    return -1;
}

void fb_stats_keep_metric (fb_stats_t *stats, const char *name) {
    int kept = 0;
    for (int i = 0; i < stats->n_metrics; i++) {
        if (strcmp (stats->metric_names[i], name) != 0) {
            fb_hist_compact_destroy (&stats->metrics[i]);
            continue;
        }
        stats->metrics[kept] = stats->metrics[i];
        memmove (stats->metric_names[kept], stats->metric_names[i], sizeof stats->metric_names[i]);
        kept++;
    }
    for (int i = kept; i < stats->n_metrics; i++) {
        stats->metrics[i] = NULL;
        stats->metric_names[i][0] = '\0';
    }
    stats->n_metrics = kept;
}

fb_hist_compact_t *fb_stats_metric (fb_stats_t *stats, const char *name, fb_err_t *err) {
    int i = s_metric_index (stats, name);
    if (i >= 0)
        return stats->metrics[i];
    if (strlen (name) >= sizeof stats->metric_names[0]) {
        fb_err_set (err, FB_EINPUT, "metric name \"%.40s\" is longer than %zu characters", name,
                    sizeof stats->metric_names[0] - 1);
        return NULL;
    }
    if (stats->n_metrics == FB_MAX_METRICS) {
        fb_err_set (err, FB_EINPUT, "more than %d metrics (\"%s\" is one too many)", FB_MAX_METRICS,
                    name);
        return NULL;
    }
    fb_hist_compact_t *hist = fb_hist_compact_new_default (err);
    if (!hist)
        return NULL;
    i = stats->n_metrics++;
    snprintf (stats->metric_names[i], sizeof stats->metric_names[i], "%s", name);
    stats->metrics[i] = hist;
    return hist;
}

const fb_hist_compact_t *fb_stats_find_metric (const fb_stats_t *stats, const char *name) {
    int i = s_metric_index (stats, name);
    return i >= 0 ? stats->metrics[i] : NULL;
}

int fb_stats_add_counter (fb_stats_t *stats, const char *name, fb_counter_kind_t kind,
                          int64_t value, fb_err_t *err) {
    int i = fb_stats_find_counter (stats, name);
    if (i < 0) {
        if (strlen (name) >= sizeof stats->counter_names[0])
            return fb_err_set (err, FB_EINPUT,
                               "counter name \"%.40s\" is longer than %zu characters", name,
                               sizeof stats->counter_names[0] - 1);
        if (stats->n_counters == FB_MAX_COUNTERS)
            return fb_err_set (err, FB_EINPUT, "more than %d counters (\"%s\" is one too many)",
                               FB_MAX_COUNTERS, name);
        i = stats->n_counters++;
        snprintf (stats->counter_names[i], sizeof stats->counter_names[i], "%s", name);
        stats->counter_kinds[i] = kind;
        stats->counters[i] = value;
        return 0;
    }
    /* The kind given first wins: it comes from the workload's descriptor, which both sides
     * share, so a mismatch is not worth failing a run over. */
    if (stats->counter_kinds[i] == FB_COUNTER_MAX) {
        if (value > stats->counters[i])
            stats->counters[i] = value;
    } else if (__builtin_add_overflow (stats->counters[i], value, &stats->counters[i]))
        stats->counters[i] = value > 0 ? INT64_MAX : INT64_MIN;
    return 0;
}

int fb_stats_find_counter (const fb_stats_t *stats, const char *name) {
    for (int i = 0; i < stats->n_counters; i++)
        if (strcmp (stats->counter_names[i], name) == 0)
            return i;
    return -1;
}

/* from's hosts ran over the same window as into's, so the measured window is the longer of
 * the two, not their sum: fleet throughput is every host's operations over that window. A
 * caller adding consecutive intervals of one host adds measured_ns itself. */
int fb_stats_merge (fb_stats_t *into, const fb_stats_t *from, fb_err_t *err) {
    for (int i = 0; i < from->n_metrics; i++) {
        fb_hist_compact_t *hist = fb_stats_metric (into, from->metric_names[i], err);
        if (!hist || fb_hist_compact_merge (hist, from->metrics[i], err) != 0)
            return -1;
    }
    for (int i = 0; i < from->n_counters; i++)
        if (fb_stats_add_counter (into, from->counter_names[i], from->counter_kinds[i],
                                  from->counters[i], err) != 0)
            return -1;
    if (from->measured_ns > into->measured_ns)
        into->measured_ns = from->measured_ns;
    return 0;
}

int fb_stats_pack (fb_stats_t *stats, fb_err_t *err) {
    for (int m = 0; m < stats->n_metrics; m++)
        if (stats->metrics[m] && fb_hist_compact_pack (stats->metrics[m], err) != 0)
            return -1;
    return 0;
}

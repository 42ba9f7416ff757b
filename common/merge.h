/* merge.h: folds one interval Report from the wire into a host's stats: each metric's V2
 * histogram decoded and added exactly, each counter by its kind. */
#ifndef FB_MERGE_H
#define FB_MERGE_H

#include "common/err.h"
#include "common/stats.h"
#include "common/wire.h"

/* Called for each metric after its merge, with the decoded histogram (compact: decoded
 * straight into its used buckets) and the bytes it came from (the coordinator writes them to
 * its hlog without encoding again). */
typedef void (fb_merge_metric_fn) (const char *name, const fb_hist_compact_t *hist,
                                   const uint8_t *bytes, size_t len, void *arg);

/* Each counter's kind comes from kind_of (kind_arg). */
int fb_merge_report (fb_stats_t *stats, const fb_report_t *report, fb_counter_kind_fn *kind_of,
                     const void *kind_arg, fb_merge_metric_fn *on_metric, void *arg, fb_err_t *err);

#endif

/* merge.h: folds one interval Report from the wire into a host's stats: each metric's V2
 * histogram decoded and added exactly, each counter by its kind. */
#ifndef FB_MERGE_H
#define FB_MERGE_H

#include "err.h"
#include "stats.h"
#include "wire.h"
#include "workload.h"

int fb_stats_merge_report (fb_stats_t *stats, const fb_workload_t *wl, const fb_report_t *report,
                           fb_err_t *err);

#endif

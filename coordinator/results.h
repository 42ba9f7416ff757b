/* results.h: what a run leaves behind in results/<run-id>/: run.json (everything), one .hlog
 * per host and workload (HdrHistogram interval logs, written as reports arrive), report.md,
 * junit.xml, and the summary printed at the end. */
#ifndef FB_RESULTS_H
#define FB_RESULTS_H

#include "coordinator/run.h"

#include <stdio.h>

/* Appends one metric of a report to <dir>/<host>.<workload>.hlog (opened on first use). */
void fb_results_hlog_metric (fb_run_t *run, fb_host_t *host, const fb_report_t *report,
                             const char *metric, const fb_hist_t *hist, const uint8_t *bytes,
                             size_t len);
/* Writes run.json, report.md and junit.xml and closes the hlogs (all through temp names). */
int fb_results_write (fb_run_t *run, fb_err_t *err);

#endif

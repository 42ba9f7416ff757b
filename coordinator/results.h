/* results.h: what a run leaves behind in results/<run-id>/: run.json (everything), one .hlog
 * per host and workload (HdrHistogram interval logs, written as reports arrive), report.md,
 * junit.xml, and the summary printed at the end. */
#ifndef FB_RESULTS_H
#define FB_RESULTS_H

#include "coordinator/run.h"

#include <stdio.h>

/* run.json's "schema_version": raised when a field is removed, renamed, or changes its type,
 * unit or meaning; a new field comes with docs/run-json.schema.json in the same commit and
 * does not raise it (docs/run-json.md). */
#define FB_RESULTS_SCHEMA_VERSION 2

/* Appends one metric of a report to <dir>/<host>.<workload>.hlog, opened (or reopened) by the
 * first metric of the report; fb_results_hlog_pause closes it after the last, so a host holds a
 * descriptor only while its report is written, and a report costs one open, not one a metric.
 * Returns -1 with err naming the file the first time a write to it fails (the file is then
 * removed, no more is written to it, and the run will exit 3); 0 otherwise. */
int fb_results_hlog_metric (fb_run_t *run, fb_host_t *host, const fb_report_t *report,
                            const char *metric, const fb_hist_compact_t *hist, const uint8_t *bytes,
                            size_t len, fb_err_t *err);
/* Closes host's hlog of workload w when open, checked as fb_results_hlog_metric. */
int fb_results_hlog_pause (fb_run_t *run, fb_host_t *host, int w, fb_err_t *err);
/* Commits the hlogs and writes run.json, report.md and junit.xml (all through temp names).
 * When a file cannot be written the run becomes incomplete (exit 3, outcome naming the file),
 * the files already written are rewritten to say so, and -1 is returned with err. */
int fb_results_write (fb_run_t *run, fb_err_t *err);
/* run.json's text on out (for --json), built from memory, never read back from disk. */
int fb_results_print_json (const fb_run_t *run, FILE *out, fb_err_t *err);

#endif

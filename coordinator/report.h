/* report.h: the run for people: report.md in the results folder, and the summary printed at
 * the end of `coord run`. Both show, per workload, the fleet and every host; past
 * FB_RUN_LISTED_HOSTS hosts, the fleet, each board or CPU group and the FB_REPORT_WORST hosts of
 * highest p99 per metric (run.json keeps every host), and report.md's hosts table groups the
 * hosts by what they are and lists those that need a look. */
#ifndef FB_REPORT_H
#define FB_REPORT_H

#include "coordinator/run.h"

#include <stdio.h>

#define FB_REPORT_WORST 5
#define FB_REPORT_LOOK 20 /* hosts named in the "need a look" list */

int fb_report_write_md (const fb_run_t *run, fb_err_t *err);
/* The end-of-run summary, as report.md says it, in plain text. */
void fb_report_print (const fb_run_t *run, FILE *out);

#endif

/* report.h: the run for people: report.md in the results folder, and the summary printed at
 * the end of `coord run`. Both show, per workload, the fleet and every host. */
#ifndef FB_REPORT_H
#define FB_REPORT_H

#include "coordinator/run.h"

#include <stdio.h>

int fb_report_write_md (const fb_run_t *run, fb_err_t *err);
/* The end-of-run summary, as report.md says it, in plain text. */
void fb_report_print (const fb_run_t *run, FILE *out);

#endif

/* offered.h: latency against offered load, for open-loop workloads in stages: a table in
 * report.md (each measured interval's offered rate, achieved rate and latency, the fleet's and
 * each listed host's p99) and a chart in report.html (from run.json's intervals). */
#ifndef FB_OFFERED_H
#define FB_OFFERED_H

#include "coordinator/run.h"

#include <jansson.h>
#include <stdio.h>

/* The report.md section of workload w; nothing when it has no stages. */
void fb_offered_md (FILE *out, const fb_run_t *run, int w);
/* The report.html chart of a run.json workload; nothing when it has no stages or intervals. */
void fb_offered_html (FILE *out, const json_t *workload);

#endif

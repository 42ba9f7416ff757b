/* fleet_hlog.h: the fleet's interval log of each workload, fleet.<workload>.hlog, next to the
 * hosts' own: every interval of the hosts whose numbers make the fleet's, merged bucket by
 * bucket, latency rows untagged so that HdrHistogram's tools read them with no flag. */
#ifndef FB_FLEET_HLOG_H
#define FB_FLEET_HLOG_H

#include "coordinator/run.h"

/* Writes <run dir>/fleet.<workload>.hlog for every workload some host measured (through a
 * temp name); none when a host's id is "fleet". -1 with err naming the file when one cannot be
 * written. */
int fb_fleet_hlog_write (const fb_run_t *run, fb_err_t *err);

#endif

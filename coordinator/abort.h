/* abort.h: abort_on_fail targets (as k6's abortOnFail with delayAbortEval). At every measured
 * report the coordinator judges them on the data so far: each host's, group's or the fleet's
 * cumulative merge, as the target's per: says. The first one that fails once its delay into
 * the measured window has passed ends the run early; run->stop says which, where and when. */
#ifndef FB_ABORT_H
#define FB_ABORT_H

#include "coordinator/run.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* After host reported a measured interval of workload w: judges w's abort_on_fail targets
 * (per host: host's own numbers every report; fleet, board and CPU groups at most once per
 * half interval, now_ns on the coordinator's clock). True, with run->stop filled, when the
 * run should stop. */
bool fb_abort_check (fb_run_t *run, int w, const fb_host_t *host, int64_t now_ns);
/* True when the run stopped before workload w was measured: its verdicts are skipped. */
bool fb_abort_skipped (const fb_run_t *run, int w);
/* Target t of workload w: when it stopped the run, its verdict says so, and fails even when
 * the data that came in after the stop brought it back within its limit. */
void fb_abort_note (const fb_run_t *run, int w, int t, fb_verdict_t *v);
/* run.json's "stopped_early", NULL when the run ran to its end. */
json_t *fb_abort_json (const fb_run_t *run);

#endif

/* verdict.h: judging a finished run: every target against the fleet's merged stats, every
 * gate against the baseline's (a gate without a baseline is skipped, never passed). */
#ifndef FB_VERDICT_H
#define FB_VERDICT_H

#include "coordinator/run.h"

/* Fills run->verdicts; returns how many failed. */
int fb_verdict_judge (fb_run_t *run);
/* What the verdicts were, counted, failures first: "3 targets held, 1 gate skipped (no
 * baseline)"; "no targets or gates" when there were none. */
void fb_verdict_count_text (const fb_run_t *run, char *buf, size_t size);

#endif

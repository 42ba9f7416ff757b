/* junit.h: results/<run-id>/junit.xml, so a CI job shows each target, gate and host as a test
 * case (failed, skipped or passed). */
#ifndef FB_JUNIT_H
#define FB_JUNIT_H

#include "coordinator/run.h"

int fb_junit_write (const fb_run_t *run, fb_err_t *err);

#endif

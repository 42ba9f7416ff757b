/* progress.h: what a person watching `coord run` sees on stderr: log lines, and once a second
 * the elapsed time and, with up to FB_PROGRESS_HOSTS hosts, per host its state, ops/s and p99
 * so far; with more, one fleet line: hosts by state, the fleet's ops/s and p99 in the workload
 * most hosts run, and its slowest hosts by p99. On a terminal the progress line redraws in
 * place; otherwise it is a plain line each second. */
#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

#include "coordinator/run.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define FB_PROGRESS_HOSTS 4 /* more hosts than this: the fleet line */

typedef struct fb_progress fb_progress_t;

fb_progress_t *fb_progress_new (bool quiet);
void fb_progress_destroy (fb_progress_t **self_p);
void fb_progress_log (fb_progress_t *self, const char *fmt, va_list ap);
void fb_progress_start (fb_progress_t *self, int64_t start_ns, int64_t total_ns);
void fb_progress_update (fb_progress_t *self, const fb_run_t *run, int64_t now_ns);
void fb_progress_finish (fb_progress_t *self);

#endif

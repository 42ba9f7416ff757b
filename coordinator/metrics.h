/* metrics.h: the run's live numbers for Prometheus (--metrics): rendered in the text exposition
 * format 0.0.4 from the coordinator's run state when reports are merged, and served by httpd.c
 * at /metrics on its own thread. docs/metrics.md lists every metric with its unit. */
#ifndef FB_METRICS_H
#define FB_METRICS_H

#include "common/err.h"
#include "coordinator/run.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct fb_metrics fb_metrics_t;

/* The histograms' bucket boundaries (le), in ns: 1-2-5 in every decade from 1 us to 50 s,
 * then 60 s. */
#define FB_METRICS_N_BOUNDS 25
extern const int64_t fb_metrics_bounds_ns[FB_METRICS_N_BOUNDS];

/* Serves http://<listen>/metrics (see fb_httpd_new for listen and allow_public). */
fb_metrics_t *fb_metrics_new (const char *listen, bool allow_public, fb_err_t *err);
void fb_metrics_destroy (fb_metrics_t **self_p);
int fb_metrics_port (const fb_metrics_t *self);
const char *fb_metrics_url (const fb_metrics_t *self); /* "http://127.0.0.1:40123/metrics" */
/* A report was merged: the next update publishes. Every call below takes NULL (no --metrics). */
void fb_metrics_changed (fb_metrics_t *self);
/* Publishes a new text when something changed (at most every 250 ms, and never taking more
 * than about 5 % of the coordinator's time), when the phase changed, when a second passed, or
 * when forced. phase: "join", "plan", "sync", "run" or "end". */
void fb_metrics_update (fb_metrics_t *self, const fb_run_t *run, const char *phase, int64_t now_ns,
                        bool force);
/* Keeps serving the last text for hold_ns (or until interrupted), so that a scraper gets the
 * final numbers of a run that just ended. */
void fb_metrics_hold (fb_metrics_t *self, int64_t hold_ns);

/* The whole text. */
void fb_metrics_render (const fb_run_t *run, const char *phase, FILE *out);

#endif

/* progress.c: log lines and the once-a-second progress line. */
#include "coordinator/progress.h"

#include "common/escape.h"
#include "common/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fb_progress {
    bool quiet;
    bool tty;
    bool line_open; /* a redrawn line is on screen */
    int64_t start_ns, total_ns;
};

fb_progress_t *fb_progress_new (bool quiet) {
    fb_progress_t *self = calloc (1, sizeof *self);
    if (self) {
        self->quiet = quiet;
        self->tty = isatty (STDERR_FILENO);
    }
    return self;
}

void fb_progress_destroy (fb_progress_t **self_p) {
    if (*self_p)
        fb_progress_finish (*self_p);
    free (*self_p);
    *self_p = NULL;
}

static void s_close_line (fb_progress_t *self) {
    if (self->line_open) {
        fputs ("\r\033[K", stderr);
        self->line_open = false;
    }
}

void fb_progress_log (fb_progress_t *self, const char *fmt, va_list ap) {
    if (!self || self->quiet)
        return;
    s_close_line (self);
    /* Log lines quote what peers sent: one escaping pass over the whole line means no
     * caller can forget it (a newline or an ANSI sequence from a peer stays visible text). */
    char line[1024], safe[2048];
    vsnprintf (line, sizeof line, fmt, ap);
    fb_escape (line, safe, sizeof safe, FB_ESCAPE_TEXT);
    fprintf (stderr, "coord: %s\n", safe);
}

void fb_progress_start (fb_progress_t *self, int64_t start_ns, int64_t total_ns) {
    if (!self)
        return;
    self->start_ns = start_ns;
    self->total_ns = total_ns;
}

void fb_progress_update (fb_progress_t *self, const fb_run_t *run, int64_t now_ns) {
    if (!self || self->quiet)
        return;
    char line[1024];
    double elapsed = now_ns > self->start_ns ? (now_ns - self->start_ns) / 1e9 : 0;
    int len = snprintf (line, sizeof line, "[%4.0fs/%.0fs]", elapsed, self->total_ns / 1e9);
    int shown = run->n_hosts < 6 ? run->n_hosts : 6; /* a line, not a wall of hosts */
    for (int i = 0; i < shown && len < (int)sizeof line - 80; i++) {
        const fb_host_t *h = run->hosts[i];
        const fb_scenario_workload_t *w = &run->sc->workloads[h->workload_now];
        const fb_hist_compact_t *lat = fb_stats_find_metric (&h->stats[h->workload_now], "latency");
        char p99[32] = "-";
        if (lat && fb_hist_compact_count (lat) > 0)
            fb_units_format_ns ((double)fb_hist_compact_value_at_percentile (lat, 99), p99,
                                sizeof p99);
        double rate = h->interval_s > 0 ? h->interval_ops / h->interval_s : 0;
        len += snprintf (
            line + len, sizeof line - (size_t)len, " | %s %s %s %.0f ops/s p99 %s", h->id,
            h->state == FB_HOST_RUNNING && h->warming_up ? "warmup"
                                                         : fb_run_host_state_name (h->state),
            w->name, rate, p99);
    }
    if (shown < run->n_hosts)
        snprintf (line + len, sizeof line - (size_t)len, " | and %d more host(s)",
                  run->n_hosts - shown);
    if (self->tty) {
        fprintf (stderr, "\r\033[K%s", line);
        self->line_open = true;
    } else
        fprintf (stderr, "%s\n", line);
    fflush (stderr);
}

void fb_progress_finish (fb_progress_t *self) {
    if (self)
        s_close_line (self);
}

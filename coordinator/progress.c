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
    fb_hist_t *fleet; /* the fleet line's merge, kept: one allocation for the whole run */
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
    if (*self_p) {
        fb_progress_finish (*self_p);
        fb_hist_destroy (&(*self_p)->fleet);
    }
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

/* A host's latency p99 so far in its current workload, formatted ("-" when none). */
static void s_host_p99 (const fb_host_t *h, char *buf, size_t size) {
    int64_t p99 = fb_run_host_p99 (h, h->workload_now, "latency");
    if (p99 < 0)
        snprintf (buf, size, "-");
    else
        fb_units_format_ns ((double)p99, buf, size);
}

static double s_host_rate (const fb_host_t *h) {
    return h->interval_s > 0 ? h->interval_ops / h->interval_s : 0;
}

/* Few hosts: a segment each. */
static int s_hosts_line (const fb_run_t *run, char *line, size_t size, int len) {
    for (int i = 0; i < run->n_hosts && len < (int)size - 80; i++) {
        const fb_host_t *h = run->hosts[i];
        char p99[32];
        s_host_p99 (h, p99, sizeof p99);
        len += snprintf (line + len, size - (size_t)len, " | %s %s %s %.0f ops/s p99 %s", h->id,
                         h->state == FB_HOST_RUNNING && h->warming_up
                             ? "warmup"
                             : fb_run_host_state_name (h->state),
                         run->sc->workloads[h->workload_now].name, s_host_rate (h), p99);
    }
    return len;
}

#define S_SLOWEST 3

/* A fleet: hosts counted by state, then the workload most hosts are in with the fleet's
 * ops/s and p99 so far (every host's histogram of it merged), then its slowest hosts by p99. */
static int s_fleet_line (fb_progress_t *self, const fb_run_t *run, char *line, size_t size,
                         int len) {
    int states[FB_HOST_FAILED + 2] = {0}; /* the last: running, warming up */
    int in_workload[FB_MAX_WORKLOADS] = {0}, w = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        bool warmup = h->state == FB_HOST_RUNNING && h->warming_up;
        states[warmup ? FB_HOST_FAILED + 1 : (int)h->state]++;
        if (h->state == FB_HOST_RUNNING && ++in_workload[h->workload_now] > in_workload[w])
            w = h->workload_now;
    }
    for (int st = 0; st <= FB_HOST_FAILED + 1; st++)
        if (states[st] > 0)
            len += snprintf (
                line + len, size - (size_t)len, "%s%d %s", len > 12 ? ", " : " ", states[st],
                st > FB_HOST_FAILED ? "warmup" : fb_run_host_state_name ((fb_host_state_t)st));
    len += snprintf (line + len, size - (size_t)len, " of %d hosts", run->n_hosts);
    /* Merged into one full histogram kept from second to second: compacts merged into a
     * new compact each second reallocate at every merge, and the heap keeps the pieces. */
    if (!self->fleet)
        self->fleet = fb_hist_new_default (NULL);
    fb_hist_t *fleet = self->fleet;
    if (fleet)
        fb_hist_reset (fleet);
    double rate = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        if (h->workload_now != w || h->state != FB_HOST_RUNNING)
            continue;
        rate += s_host_rate (h);
        const fb_hist_compact_t *lat = fb_stats_find_metric (&h->stats[w], "latency");
        if (fleet && lat)
            fb_hist_compact_merge_into_hist (fleet, lat, NULL);
    }
    char p99[32] = "-";
    if (fleet && fb_hist_count (fleet) > 0)
        fb_units_format_ns ((double)fb_hist_value_at_percentile (fleet, 99), p99, sizeof p99);
    len += snprintf (line + len, size - (size_t)len, " | %s %.0f ops/s p99 %s",
                     run->sc->workloads[w].name, rate, p99);
    int slowest[S_SLOWEST];
    int64_t slow_p99[S_SLOWEST];
    int n = fb_run_slowest_hosts (run, w, "latency", true, S_SLOWEST, slowest, slow_p99);
    for (int k = 0; k < n && len < (int)size - 80; k++) {
        char v[32];
        fb_units_format_ns ((double)slow_p99[k], v, sizeof v);
        len += snprintf (line + len, size - (size_t)len, "%s%s %s",
                         k == 0 ? " | slowest p99: " : ", ", run->hosts[slowest[k]]->id, v);
    }
    return len;
}

void fb_progress_update (fb_progress_t *self, const fb_run_t *run, int64_t now_ns) {
    if (!self || self->quiet)
        return;
    char line[1024];
    double elapsed = now_ns > self->start_ns ? (now_ns - self->start_ns) / 1e9 : 0;
    int len = snprintf (line, sizeof line, "[%4.0fs/%.0fs]", elapsed, self->total_ns / 1e9);
    /* a line, not a wall of hosts: past FB_PROGRESS_HOSTS, the fleet */
    if (run->n_hosts <= FB_PROGRESS_HOSTS)
        s_hosts_line (run, line, sizeof line, len);
    else
        s_fleet_line (self, run, line, sizeof line, len);
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

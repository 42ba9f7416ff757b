/* report.c: report.md and the terminal summary, from one table builder. */
#include "coordinator/report.h"

#include "common/escape.h"
#include "common/files.h"
#include "common/stats_json.h"
#include "common/units.h"
#include "coordinator/abort.h"
#include "coordinator/offered.h"
#include "coordinator/per.h"
#include "coordinator/target.h"
#include "coordinator/verdict.h"

#include <stdlib.h>
#include <string.h>

#define S_COLS 9
static const char *const s_header[S_COLS] = {"host", "ops", "ops/s", "errors", "p50",
                                             "p95",  "p99", "p99.9", "max"};

/* One row of the latency table: host name, counts, then the latency percentiles. */
/* One row of a metric's table: the host, then for "latency" its operations, rate and errors
 * (for other metrics the samples recorded), then the percentiles. */
static void s_row (const char *name, const fb_stats_t *st, const char *metric,
                   char cells[S_COLS][32]) {
    int ops_i = fb_stats_find_counter (st, "ops");
    int err_i = fb_stats_find_counter (st, "errors");
    int64_t ops = ops_i >= 0 ? st->counters[ops_i] : 0;
    const fb_hist_compact_t *h = fb_stats_find_metric (st, metric);
    snprintf (cells[0], 32, "%s", name);
    if (strcmp (metric, "latency") == 0) {
        snprintf (cells[1], 32, "%lld", (long long)ops);
        snprintf (cells[2], 32, "%.0f", st->measured_ns > 0 ? ops * 1e9 / st->measured_ns : 0.0);
        snprintf (cells[3], 32, "%lld", (long long)(err_i >= 0 ? st->counters[err_i] : 0));
    } else {
        snprintf (cells[1], 32, "%lld", (long long)(h ? fb_hist_compact_count (h) : 0));
        snprintf (cells[2], 32, " ");
        snprintf (cells[3], 32, " ");
    }
    double p[] = {50, 95, 99, 99.9};
    for (int i = 0; i < 4; i++) {
        if (h && fb_hist_compact_count (h) > 0)
            fb_units_format_ns ((double)fb_hist_compact_value_at_percentile (h, p[i]), cells[4 + i],
                                32);
        else
            snprintf (cells[4 + i], 32, "-");
    }
    if (h && fb_hist_compact_count (h) > 0)
        fb_units_format_ns ((double)fb_hist_compact_max (h), cells[8], 32);
    else
        snprintf (cells[8], 32, "-");
}

static void s_print_row (FILE *out, bool md, char cells[S_COLS][32]) {
    for (int c = 0; c < S_COLS; c++) {
        if (md)
            fprintf (out, "| %s ", cells[c]);
        else
            fprintf (out, c == 0 ? "  %-14s" : "%10s", cells[c]);
    }
    fputs (md ? "|\n" : "\n", out);
}

/* How a fleet is grouped in the tables: by board when any host reports one, else by CPU. */
static fb_per_t s_group_by (const fb_run_t *run) {
    for (int i = 0; i < run->n_hosts; i++)
        if (run->hosts[i]->hello.fp.board[0])
            return FB_PER_BOARD;
    return FB_PER_CPU;
}

static void s_host_row (FILE *out, bool md, const fb_run_t *run, int w, int i, const char *metric) {
    const fb_host_t *h = run->hosts[i];
    char name[40], cells[S_COLS][32];
    snprintf (name, sizeof name, "%s%s", h->id, h->state == FB_HOST_DONE ? "" : " (lost)");
    s_row (name, &h->stats[w], metric, cells);
    s_print_row (out, md, cells);
}

/* Past FB_RUN_LISTED_HOSTS hosts: a row per board or CPU group, then the worst hosts by p99. */
static void s_fleet_rows (FILE *out, bool md, const fb_run_t *run, int w, const char *metric) {
    char cells[S_COLS][32];
    fb_per_t by = s_group_by (run);
    fb_per_groups_t *groups = fb_per_groups_new (run, w, by, -1, NULL);
    for (int g = 0; groups && g < groups->n; g++) {
        char name[64];
        snprintf (name, sizeof name, "%.18s (%d)", groups->groups[g].name,
                  groups->groups[g].n_hosts);
        s_row (name, &groups->groups[g].stats, metric, cells);
        s_print_row (out, md, cells);
    }
    fb_per_groups_destroy (&groups);
    int worst[FB_REPORT_WORST];
    int64_t p99[FB_REPORT_WORST];
    int n = fb_run_slowest_hosts (run, w, metric, false, FB_REPORT_WORST, worst, p99);
    for (int k = 0; k < n; k++)
        s_host_row (out, md, run, w, worst[k], metric);
    fprintf (out,
             md ? "\nRows: the fleet, each %s (hosts), the %d hosts of highest p99; every "
                  "host's figures are in run.json.\n"
                : "  (the fleet, each %s, the %d hosts of highest p99; every host in "
                  "run.json)\n",
             fb_per_noun (by, false), n);
}

static void s_table (FILE *out, bool md, const fb_run_t *run, int w, const char *metric) {
    char cells[S_COLS][32];
    bool latency = strcmp (metric, "latency") == 0;
    for (int c = 0; c < S_COLS; c++)
        snprintf (cells[c], 32, "%s",
                  c == 0                 ? metric
                  : (!latency && c == 1) ? "samples"
                  : (!latency && c < 4)  ? " "
                                         : s_header[c]);
    s_print_row (out, md, cells);
    if (md) {
        for (int c = 0; c < S_COLS; c++)
            fputs (c == 0 ? "|---" : "|---:", out);
        fputs ("|\n", out);
    }
    s_row ("fleet", &run->fleet[w], metric, cells);
    s_print_row (out, md, cells);
    if (run->n_hosts > FB_RUN_LISTED_HOSTS) {
        s_fleet_rows (out, md, run, w, metric);
        return;
    }
    for (int i = 0; i < run->n_hosts; i++)
        s_host_row (out, md, run, w, i, metric);
}

static void s_verdicts (FILE *out, bool md, const fb_run_t *run, int w) {
    static const char *const marks[] = {"held", "FAILED", "skipped", "inconclusive",
                                        "incomparable"};
    for (int i = 0; i < run->n_verdicts[w]; i++) {
        const fb_verdict_t *v = &run->verdicts[w][i];
        fprintf (out, md ? "- **%s** `%s`: %s\n" : "  [%s] %s: %s\n", marks[v->state], v->text,
                 v->detail);
    }
}

static void s_counters (FILE *out, bool md, const fb_stats_t *st, const fb_workload_t *wl) {
    fputs (md ? "\nCounters (fleet): " : "  counters:", out);
    for (int c = 0; c < st->n_counters; c++) {
        const char *name = st->counter_names[c];
        if (strcmp (name, "ops") == 0 || strcmp (name, "errors") == 0)
            continue;
        /* formatted as a target on it would be: "rss 48.2MB", "steal 0.3%" */
        fb_measure_t measure = {.stat = FB_STAT_COUNTER};
        snprintf (measure.metric, sizeof measure.metric, "%s", name);
        char value[32];
        fb_target_measure_format (&measure, wl, (double)st->counters[c], value, sizeof value);
        fprintf (out, " %s %s%s", name, value,
                 st->counter_kinds[c] == FB_COUNTER_MAX ? " (max)" : "");
    }
    fputs ("\n", out);
}

static void s_workload (FILE *out, bool md, const fb_run_t *run, int w) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    char loop[64];
    if (sw->shape.n_stages > 0)
        snprintf (loop, sizeof loop, "open loop in %d stages up to %.0f/s, %s", sw->shape.n_stages,
                  sw->rate_per_s, fb_shape_arrivals_name (sw->shape.arrivals));
    else if (sw->rate_per_s > 0)
        snprintf (loop, sizeof loop, "open loop at %.0f/s", sw->rate_per_s);
    else
        snprintf (loop, sizeof loop, "closed loop");
    fprintf (out, md ? "\n## %s (%s, %s, %.0f s)\n\n" : "\n%s (%s, %s, %.0f s)\n", sw->name,
             sw->wl->kind, loop, sw->duration_ns / 1e9);
    const fb_stats_t *fleet = &run->fleet[w];
    for (int m = 0; m < fleet->n_metrics; m++) {
        if (fb_hist_compact_count (fleet->metrics[m]) == 0 &&
            strcmp (fleet->metric_names[m], "latency") != 0)
            continue; /* a metric this op never records (process status: no spawn) */
        s_table (out, md, run, w, fleet->metric_names[m]);
        if (md)
            fputs ("\n", out);
    }
    if (fb_abort_skipped (run, w))
        fputs (md ? "Not run: the run stopped early.\n" : "  not run: the run stopped early\n",
               out);
    else if (fleet->n_metrics == 0)
        fputs ("  no measurement\n", out);
    s_counters (out, md, fleet, sw->wl);
    fb_verdict_print_intervals (out, md, run, w);
    if (md)
        fb_offered_md (out, run, w); /* stages: latency against offered load */
    if (md && run->n_verdicts[w] > 0)
        fputs ("\n", out);
    s_verdicts (out, md, run, w);
}

/* Many hosts: one row per kind of host (arch, CPU, cores, board), then the hosts that need a
 * look (not done, suspect), at most FB_REPORT_LOOK of them by name. */
static void s_host_kinds_md (FILE *out, const fb_run_t *run) {
    fputs ("\n## Hosts\n\n| hosts | arch | CPU | cores | board |\n|---:|---|---|---:|---|\n", out);
    bool *counted = calloc ((size_t)run->n_hosts, sizeof *counted);
    for (int i = 0; counted && i < run->n_hosts; i++) {
        if (counted[i])
            continue;
        const fb_fingerprint_t *fp = &run->hosts[i]->hello.fp;
        int n = 0;
        for (int j = i; j < run->n_hosts; j++) {
            const fb_fingerprint_t *o = &run->hosts[j]->hello.fp;
            if (!counted[j] && strcmp (fp->arch, o->arch) == 0 &&
                strcmp (fp->cpu_model, o->cpu_model) == 0 && fp->cores == o->cores &&
                strcmp (fp->board, o->board) == 0) {
                counted[j] = true;
                n++;
            }
        }
        char arch[200], cpu[700], board[400];
        fb_escape (fp->arch, arch, sizeof arch, FB_ESCAPE_MARKDOWN);
        fb_escape (fp->cpu_model, cpu, sizeof cpu, FB_ESCAPE_MARKDOWN);
        fb_escape (fp->board, board, sizeof board, FB_ESCAPE_MARKDOWN);
        fprintf (out, "| %d | %s | %s | %d | %s |\n", n, arch, cpu, fp->cores, board);
    }
    free (counted);
    int look = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        if (h->state == FB_HOST_DONE && !h->suspect[0])
            continue;
        if (look++ == 0)
            fputs ("\nHosts that need a look:\n\n", out);
        if (look > FB_REPORT_LOOK)
            continue;
        char problem[1500];
        fb_escape (h->problem[0] ? h->problem : h->suspect, problem, sizeof problem,
                   FB_ESCAPE_MARKDOWN);
        fprintf (out, "- %s (%s): %s\n", h->id, fb_run_host_state_name (h->state), problem);
    }
    if (look > FB_REPORT_LOOK)
        fprintf (out, "- and %d more\n", look - FB_REPORT_LOOK);
    fprintf (out, "\nEvery host's fingerprint, start skew and health are in run.json (%d hosts).\n",
             run->n_hosts);
}

static void s_hosts_md (FILE *out, const fb_run_t *run) {
    if (run->n_hosts > FB_RUN_LISTED_HOSTS) {
        s_host_kinds_md (out, run);
        return;
    }
    fputs (
        "\n## Hosts\n\n| host | state | arch | CPU | cores | MHz | memory | kernel | start skew |"
        " problem | health |\n|---|---|---|---|---:|---:|---:|---|---:|---|---|\n",
        out);
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        const fb_fingerprint_t *fp = &h->hello.fp;
        char mem[32], skew[32];
        fb_units_format_bytes ((double)fp->memory_bytes, mem, sizeof mem);
        fb_units_format_ns ((double)llabs (h->start_skew_ns), skew, sizeof skew);
        /* What the agent said about itself is text in a cell, never a column or markup. */
        char arch[200], cpu[700], kernel[400], problem[1500];
        fb_escape (fp->arch, arch, sizeof arch, FB_ESCAPE_MARKDOWN);
        fb_escape (fp->cpu_model, cpu, sizeof cpu, FB_ESCAPE_MARKDOWN);
        fb_escape (fp->kernel, kernel, sizeof kernel, FB_ESCAPE_MARKDOWN);
        fb_escape (h->problem, problem, sizeof problem, FB_ESCAPE_MARKDOWN);
        fprintf (out, "| %s | %s | %s | %s | %d | %d | %s | %s | %s%s | %s | %s |\n", h->id,
                 fb_run_host_state_name (h->state), arch, cpu, fp->cores, fp->mhz_max, mem, kernel,
                 h->start_skew_ns < 0 ? "-" : "", skew, problem, h->suspect[0] ? h->suspect : "ok");
    }
}

static void s_render (FILE *out, bool md, const fb_run_t *run) {
    if (md) {
        fprintf (out, "# %s: run %s\n\n**%s** (exit code %d)\n", run->sc->name, run->run_id,
                 run->outcome, run->exit_code);
        if (run->stop.stopped)
            fprintf (out, "\n**Stopped early**: %s.\n", run->stop.reason);
        s_hosts_md (out, run);
    } else
        fprintf (out, "\nrun %s (%s): %s\n", run->run_id, run->sc->name, run->outcome);
    for (int w = 0; w < run->sc->n_workloads && run->n_hosts > 0; w++)
        s_workload (out, md, run, w);
    if (!md) {
        for (int i = 0; i < run->n_hosts; i++)
            if (run->hosts[i]->problem[0])
                fprintf (out, "\nhost %s %s: %s\n", run->hosts[i]->id,
                         fb_run_host_state_name (run->hosts[i]->state), run->hosts[i]->problem);
        for (int i = 0; i < run->n_hosts; i++)
            if (run->hosts[i]->suspect[0])
                fprintf (out,
                         "\nhost %s is suspect (its numbers may reflect its state, not its "
                         "hardware): %s\n",
                         run->hosts[i]->id, run->hosts[i]->suspect);
        if (run->results_error[0])
            fprintf (out, "\nresults NOT saved: %s (in %s/ only what could be written)\n",
                     run->results_error, run->dir);
        else
            fprintf (out,
                     "\nresults: %s/ (run.json, report.html, report.md, .hlog per host and "
                     "workload and for the fleet)\n",
                     run->dir);
    }
}

static void s_render_md (FILE *out, const void *run) { s_render (out, true, run); }

int fb_report_write_md (const fb_run_t *run, fb_err_t *err) {
    return fb_files_write_rendered (run->dir, "report.md", s_render_md, run, err);
}

void fb_report_print (const fb_run_t *run, FILE *out) { s_render (out, false, run); }

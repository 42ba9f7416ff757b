/* compare.c: rows of hosts or host groups, per workload and metric, from saved run.json files. */
#include "coordinator/compare.h"

#include "common/stats_json.h"
#include "common/units.h"
#include "coordinator/baseline.h"
#include "coordinator/inference.h"
#include "coordinator/samples.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_ROWS 256

typedef struct {
    char name[160];
    int hosts;
    double ops_per_s; /* the sum over its hosts of each one's ops over its own measured time */
    fb_stats_t stats;
    fb_samples_t *samples; /* its hosts' intervals from the .hlog files, one run per run */
    int samples_run;       /* the run whose intervals it gets now, -1 none yet */
    int cap_hosts;         /* its hosts with a capacity (a capacity search's highest rate) */
    double cap_sum, cap_min, cap_max; /* of those hosts' capacities, per second */
} s_row_t;

typedef struct {
    s_row_t rows[S_MAX_ROWS];
    int n_rows;
} s_table_t;

static const char *s_host_key (const json_t *host, fb_compare_by_t by, int n_runs,
                               const char *run_id, char *buf, size_t size) {
    const json_t *fp = json_object_get (host, "fingerprint");
    const char *id = json_string_value (json_object_get (host, "id"));
    const char *cpu = json_string_value (json_object_get (fp, "cpu_model"));
    const char *board = json_string_value (json_object_get (fp, "board"));
    if (by == FB_COMPARE_BY_BOARD && board && board[0])
        snprintf (buf, size, "%s", board);
    else if (by != FB_COMPARE_BY_HOST)
        snprintf (buf, size, "%s", cpu && cpu[0] ? cpu : "unknown CPU");
    else if (n_runs > 1) /* the same host in two runs is two rows */
        snprintf (buf, size, "%s@%s", id ? id : "?", run_id ? run_id : "?");
    else
        snprintf (buf, size, "%s", id ? id : "?");
    return buf;
}

static s_row_t *s_row (s_table_t *t, const char *name) {
    for (int i = 0; i < t->n_rows; i++)
        if (strcmp (t->rows[i].name, name) == 0)
            return &t->rows[i];
    if (t->n_rows == S_MAX_ROWS)
        return NULL;
    s_row_t *row = &t->rows[t->n_rows++];
    snprintf (row->name, sizeof row->name, "%s", name);
    fb_stats_init (&row->stats);
    row->samples_run = -1;
    return row;
}

/* Adds host's intervals of workload wname (DIR/<host>.<workload>.hlog, one row per interval
 * and metric) to row's samples, run r as one run. Without the file the row has no intervals
 * and its figures no confidence interval. */
static void s_add_hlog (s_row_t *row, const char *dir, const char *host, const char *wname, int r) {
    char path[800];
    snprintf (path, sizeof path, "%s/%s.%s.hlog", dir, host, wname);
    if (access (path, R_OK) != 0 || (!row->samples && !(row->samples = fb_samples_new (NULL))))
        return;
    if (row->samples_run != r && fb_samples_begin_run (row->samples, NULL) == 0)
        row->samples_run = r;
    fb_samples_add_hlog (row->samples, path, 0, NULL);
}

/* A host's capacity (its counter "capacity": the highest step rate that met the objective)
 * into its row: rows compare the mean per host, with the lowest and the highest. */
static void s_add_capacity (s_row_t *row, const json_t *host_stats) {
    const json_t *c = json_object_get (json_object_get (host_stats, "counters"), "capacity");
    const json_t *value = json_object_get (c, "value");
    if (!json_is_number (value))
        return;
    double v = json_number_value (value);
    row->cap_min = row->cap_hosts == 0 || v < row->cap_min ? v : row->cap_min;
    row->cap_max = row->cap_hosts == 0 || v > row->cap_max ? v : row->cap_max;
    row->cap_sum += v;
    row->cap_hosts++;
}

/* Every finished host of workload wname in every run, merged into its row. */
static int s_fill (s_table_t *t, json_t *const *runs, const char *const *dirs, int n_runs,
                   const char *wname, const fb_compare_opts_t *opts, fb_err_t *err) {
    for (int r = 0; r < n_runs; r++) {
        const char *run_id = json_string_value (json_object_get (runs[r], "run_id"));
        size_t i, h;
        json_t *w, *host;
        json_array_foreach (json_object_get (runs[r], "workloads"), i, w) {
            const char *name = json_string_value (json_object_get (w, "name"));
            if (!name || strcmp (name, wname) != 0)
                continue;
            json_array_foreach (json_object_get (runs[r], "hosts"), h, host) {
                const char *id = json_string_value (json_object_get (host, "id"));
                const char *state = json_string_value (json_object_get (host, "state"));
                const json_t *st = json_object_get (json_object_get (w, "hosts"), id ? id : "");
                if (!st || !state || strcmp (state, "done") != 0)
                    continue; /* lost hosts' partial numbers would mislead a comparison */
                char key[160];
                s_row_t *row =
                    s_row (t, s_host_key (host, opts->by, n_runs, run_id, key, sizeof key));
                if (!row)
                    return fb_err_set (err, FB_EINPUT, "more than %d rows to compare", S_MAX_ROWS);
                int64_t measured = row->stats.measured_ns;
                if (fb_stats_json_decode (st, &row->stats, err) != 0)
                    return -1;
                /* Runs of different lengths: each host's rate over its own measured time. */
                int64_t host_ns = row->stats.measured_ns;
                if (host_ns > 0)
                    row->ops_per_s +=
                        (double)json_integer_value (json_object_get (st, "ops")) * 1e9 / host_ns;
                if (measured > row->stats.measured_ns)
                    row->stats.measured_ns = measured;
                row->hosts++;
                s_add_capacity (row, st);
                if (dirs[r])
                    s_add_hlog (row, dirs[r], id, wname, r);
            }
        }
    }
    return 0;
}

/* ops per second per host of a row: the mean of its hosts' own rates. */
static double s_throughput (const s_row_t *row) {
    return row->hosts > 0 ? row->ops_per_s / row->hosts : 0;
}

typedef struct {
    double p[3]; /* p50 p95 p99, ns */
    double throughput;
    bool have;
} s_cells_t;

static s_cells_t s_cells (const s_row_t *row, const char *metric) {
    s_cells_t c = {.throughput = s_throughput (row)};
    const fb_hist_compact_t *h = fb_stats_find_metric (&row->stats, metric);
    if (h && fb_hist_compact_count (h) > 0) {
        const double pct[3] = {50, 95, 99};
        for (int i = 0; i < 3; i++)
            c.p[i] = (double)fb_hist_compact_value_at_percentile (h, pct[i]);
        c.have = true;
    }
    return c;
}

/* The 95 % intervals of a row's ratios to the reference (p50 of metric, ops/s per host). */
typedef struct {
    bool have_lat, have_thr;
    double lat_lo, lat_hi, thr_lo, thr_hi;
    bool between_runs; /* false: one run on each side, the interval is within runs only */
} s_ratio_ci_t;

static s_ratio_ci_t s_ratio_ci (const s_row_t *row, const s_row_t *ref, const char *metric) {
    s_ratio_ci_t r = {0};
    if (row == ref || !row->samples || !ref->samples)
        return r;
    fb_inference_opts_t o;
    fb_inference_opts_default (&o);
    fb_measure_t m = {.stat = FB_STAT_PERCENTILE, .percentile = 50};
    snprintf (m.metric, sizeof m.metric, "%s", metric);
    snprintf (m.text, sizeof m.text, "%s.p50", metric);
    fb_inference_decision_t d;
    if (fb_inference_compare (row->samples, ref->samples, &m, 0, &o, &d, NULL) == 0) {
        r.have_lat = true;
        r.between_runs = d.ratio.between_runs;
        r.lat_lo = d.ratio.lo;
        r.lat_hi = d.ratio.hi;
    }
    fb_measure_t thr = {.stat = FB_STAT_THROUGHPUT};
    snprintf (thr.text, sizeof thr.text, "throughput");
    if (row->hosts > 0 &&
        fb_inference_compare (row->samples, ref->samples, &thr, 0, &o, &d, NULL) == 0) {
        double per_host = (double)ref->hosts / row->hosts; /* the ratio is of ops/s per host */
        r.have_thr = true;
        r.thr_lo = d.ratio.lo * per_host;
        r.thr_hi = d.ratio.hi * per_host;
    }
    return r;
}

/* "0.91x..1.12x, no difference shown" (the interval contains 1), or "-"; one run on each side
 * cannot show run-to-run variance, and the text says so. */
static const char *s_ratio_text (bool have, double lo, double hi, bool between, char *buf,
                                 size_t size) {
    if (!have)
        snprintf (buf, size, "-");
    else
        snprintf (buf, size, "%.2fx..%.2fx%s%s", lo, hi,
                  lo <= 1 && 1 <= hi ? ", no difference shown" : "",
                  between ? "" : " (within runs only)");
    return buf;
}

static void s_text_row (FILE *out, bool md, const s_row_t *row, s_cells_t c, s_cells_t ref,
                        s_ratio_ci_t ci) {
    char p[3][32];
    for (int i = 0; i < 3; i++)
        if (c.have)
            fb_units_format_ns (c.p[i], p[i], sizeof p[i]);
        else
            snprintf (p[i], sizeof p[i], "-");
    double lat_ratio = c.have && ref.have && ref.p[0] > 0 ? c.p[0] / ref.p[0] : 0;
    double thr_ratio = ref.throughput > 0 ? c.throughput / ref.throughput : 0;
    char lat_ci[64], thr_ci[64];
    s_ratio_text (ci.have_lat, ci.lat_lo, ci.lat_hi, ci.between_runs, lat_ci, sizeof lat_ci);
    s_ratio_text (ci.have_thr, ci.thr_lo, ci.thr_hi, ci.between_runs, thr_ci, sizeof thr_ci);
    if (md)
        fprintf (out, "| %s | %d | %s | %s | %s | %.0f | %.2fx | %s | %.2fx | %s |\n", row->name,
                 row->hosts, p[0], p[1], p[2], c.throughput, lat_ratio, lat_ci, thr_ratio, thr_ci);
    else {
        fprintf (out, "  %-28.28s %5d %9s %9s %9s %12.0f %11.2fx %13.2fx\n", row->name, row->hosts,
                 p[0], p[1], p[2], c.throughput, lat_ratio, thr_ratio);
        if (ci.have_lat || ci.have_thr)
            fprintf (out, "  %-28s 95%%: p50 vs ref %s; ops/s vs ref %s\n", "", lat_ci, thr_ci);
    }
}

static json_t *s_json_rows (const s_table_t *t, const char *metric, int ref) {
    json_t *rows = json_array ();
    s_cells_t r = s_cells (&t->rows[ref], metric);
    for (int i = 0; i < t->n_rows; i++) {
        s_cells_t c = s_cells (&t->rows[i], metric);
        json_t *row = json_pack (
            "{s:s,s:i,s:f,s:f,s:f,s:f,s:f,s:f}", "name", t->rows[i].name, "hosts", t->rows[i].hosts,
            "p50_ns", c.p[0], "p95_ns", c.p[1], "p99_ns", c.p[2], "ops_per_s_per_host",
            c.throughput, "p50_vs_ref", c.have && r.have && r.p[0] > 0 ? c.p[0] / r.p[0] : 0.0,
            "throughput_vs_ref", r.throughput > 0 ? c.throughput / r.throughput : 0.0);
        s_ratio_ci_t ci = s_ratio_ci (&t->rows[i], &t->rows[ref], metric);
        if (row && ci.have_lat)
            json_object_set_new (row, "p50_vs_ref_ci",
                                 json_pack ("{s:f,s:f,s:b,s:b}", "lo", ci.lat_lo, "hi", ci.lat_hi,
                                            "between_runs", ci.between_runs, "difference_shown",
                                            !(ci.lat_lo <= 1 && 1 <= ci.lat_hi)));
        if (row && ci.have_thr)
            json_object_set_new (row, "throughput_vs_ref_ci",
                                 json_pack ("{s:f,s:f,s:b,s:b}", "lo", ci.thr_lo, "hi", ci.thr_hi,
                                            "between_runs", ci.between_runs, "difference_shown",
                                            !(ci.thr_lo <= 1 && 1 <= ci.thr_hi)));
        json_array_append_new (rows, row);
    }
    return rows;
}

static void s_render_text (FILE *out, bool md, const char *wname, const s_table_t *t,
                           const char *metric, int ref) {
    s_cells_t r = s_cells (&t->rows[ref], metric);
    fprintf (out, md ? "\n### %s: %s (reference: %s)\n\n" : "\n%s: %s (reference: %s)\n", wname,
             metric, t->rows[ref].name);
    if (md)
        fputs ("| host | hosts | p50 | p95 | p99 | ops/s per host | p50 vs ref | 95 % interval | "
               "ops/s vs ref | 95 % interval |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
               out);
    else
        fprintf (out, "  %-28s %5s %9s %9s %9s %12s %12s %14s\n", "host", "hosts", "p50", "p95",
                 "p99", "ops/s/host", "p50 vs ref", "ops/s vs ref");
    for (int i = 0; i < t->n_rows; i++)
        s_text_row (out, md, &t->rows[i], s_cells (&t->rows[i], metric), r,
                    s_ratio_ci (&t->rows[i], &t->rows[ref], metric));
}

/* ---- capacity ----------------------------------------------------------------------------- */

static double s_capacity (const s_row_t *row) {
    return row->cap_hosts > 0 ? row->cap_sum / row->cap_hosts : 0;
}

static bool s_has_capacity (const s_table_t *t) {
    for (int i = 0; i < t->n_rows; i++)
        if (t->rows[i].cap_hosts > 0)
            return true;
    return false;
}

/* The row's capacity over the reference's; NAN when the reference has none to divide by. */
static double s_capacity_ratio (const s_row_t *row, const s_row_t *ref) {
    return row->cap_hosts > 0 && s_capacity (ref) > 0 ? s_capacity (row) / s_capacity (ref) : NAN;
}

static json_t *s_json_capacity (const s_table_t *t, int ref) {
    json_t *rows = json_array ();
    for (int i = 0; i < t->n_rows; i++) {
        const s_row_t *row = &t->rows[i];
        double ratio = s_capacity_ratio (row, &t->rows[ref]);
        if (row->cap_hosts > 0) /* vs_ref null: the reference has no capacity */
            json_array_append_new (
                rows, json_pack ("{s:s,s:i,s:f,s:f,s:f,s:o}", "name", row->name, "hosts",
                                 row->cap_hosts, "per_host_per_s", s_capacity (row), "lowest_per_s",
                                 row->cap_min, "highest_per_s", row->cap_max, "vs_ref",
                                 isnan (ratio) ? json_null () : json_real (ratio)));
    }
    return rows;
}

static void s_render_capacity (FILE *out, bool md, const char *wname, const s_table_t *t, int ref) {
    if (md)
        fprintf (out,
                 "\n### %s: capacity (reference: %s)\n\n"
                 "| host | hosts | capacity per host | lowest | highest | vs ref |\n"
                 "|---|---:|---:|---:|---:|---:|\n",
                 wname, t->rows[ref].name);
    else
        fprintf (out, "\n%s: capacity (reference: %s)\n  %-28s %5s %14s %10s %10s %8s\n", wname,
                 t->rows[ref].name, "host", "hosts", "per host", "lowest", "highest", "vs ref");
    for (int i = 0; i < t->n_rows; i++) {
        const s_row_t *row = &t->rows[i];
        if (row->cap_hosts == 0)
            continue;
        double ratio = s_capacity_ratio (row, &t->rows[ref]);
        char vs[32];
        if (isnan (ratio))
            snprintf (vs, sizeof vs, "-");
        else
            snprintf (vs, sizeof vs, "%.2fx", ratio);
        fprintf (out,
                 md ? "| %s | %d | %.0f/s | %.0f/s | %.0f/s | %s |\n"
                    : "  %-28.28s %5d %12.0f/s %8.0f/s %8.0f/s %8s\n",
                 row->name, row->cap_hosts, s_capacity (row), row->cap_min, row->cap_max, vs);
    }
}

/* The metrics of a table: every row's, first seen first. */
static int s_metrics (const s_table_t *t, const char *names[], int max) {
    int n = 0;
    for (int i = 0; i < t->n_rows; i++)
        for (int m = 0; m < t->rows[i].stats.n_metrics; m++) {
            const char *name = t->rows[i].stats.metric_names[m];
            bool seen = false;
            for (int k = 0; k < n; k++)
                seen = seen || strcmp (names[k], name) == 0;
            if (!seen && n < max)
                names[n++] = name;
        }
    return n;
}

static int s_workload (json_t *const *runs, const char *const *dirs, int n_runs, const char *wname,
                       const fb_compare_opts_t *opts, FILE *out, json_t *jout, fb_err_t *err) {
    s_table_t *t = calloc (1, sizeof *t);
    if (!t)
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    int rc = s_fill (t, runs, dirs, n_runs, wname, opts, err);
    int ref = 0;
    for (int i = 0; opts->ref && i < t->n_rows; i++)
        if (strcmp (t->rows[i].name, opts->ref) == 0)
            ref = i;
    if (rc == 0 && opts->ref && t->n_rows > 0 && strcmp (t->rows[ref].name, opts->ref) != 0)
        rc = fb_err_set (err, FB_EINPUT, "--ref %s: no such row in %s (rows: %s, ...)", opts->ref,
                         wname, t->rows[0].name);
    if (rc == 0 && t->n_rows > 0) {
        const char *metrics[FB_MAX_METRICS];
        int n = s_metrics (t, metrics, FB_MAX_METRICS);
        json_t *jm = json_array ();
        for (int m = 0; m < n; m++) {
            if (opts->format == FB_COMPARE_JSON || opts->comparison)
                json_array_append_new (jm, json_pack ("{s:s,s:o}", "metric", metrics[m], "rows",
                                                      s_json_rows (t, metrics[m], ref)));
            if (opts->format != FB_COMPARE_JSON)
                s_render_text (out, opts->format == FB_COMPARE_MARKDOWN, wname, t, metrics[m], ref);
        }
        json_t *jw = json_pack ("{s:s,s:s,s:o}", "workload", wname, "reference", t->rows[ref].name,
                                "metrics", jm);
        if (s_has_capacity (t)) { /* a capacity search: each row's highest passing rate */
            if (opts->format != FB_COMPARE_JSON)
                s_render_capacity (out, opts->format == FB_COMPARE_MARKDOWN, wname, t, ref);
            json_object_set_new (jw, "capacity", s_json_capacity (t, ref));
        }
        json_array_append_new (jout, jw);
    }
    for (int i = 0; i < t->n_rows; i++) {
        fb_stats_clear (&t->rows[i].stats);
        fb_samples_destroy (&t->rows[i].samples);
    }
    free (t);
    return rc;
}

int fb_compare (const char *const *run_dirs, int n_runs, const fb_compare_opts_t *opts, FILE *out,
                fb_err_t *err) {
    json_t **runs = calloc ((size_t)n_runs, sizeof *runs);
    const char **dirs = calloc ((size_t)n_runs, sizeof *dirs);
    json_t *jout = json_array ();
    int rc = runs && dirs && jout ? 0 : fb_err_set (err, FB_ENOMEM, "out of memory");
    for (int r = 0; rc == 0 && r < n_runs; r++) {
        char path[600];
        size_t len = strlen (run_dirs[r]);
        bool file = len > 5 && strcmp (run_dirs[r] + len - 5, ".json") == 0;
        snprintf (path, sizeof path, file ? "%s" : "%s/run.json", run_dirs[r]);
        dirs[r] = file ? NULL : run_dirs[r]; /* the .hlog files live next to run.json */
        if (!(runs[r] = fb_baseline_load (path, err)))
            rc = -1;
    }
    /* Workloads in order of first appearance across the runs. */
    for (int r = 0; rc == 0 && r < n_runs; r++) {
        size_t i;
        json_t *w;
        json_array_foreach (json_object_get (runs[r], "workloads"), i, w) {
            const char *name = json_string_value (json_object_get (w, "name"));
            bool done = false;
            for (int q = 0; q < r && name; q++) {
                size_t k;
                json_t *v;
                json_array_foreach (json_object_get (runs[q], "workloads"), k, v) {
                    const char *seen = json_string_value (json_object_get (v, "name"));
                    done = done || (seen && strcmp (seen, name) == 0);
                }
            }
            if (name && !done && s_workload (runs, dirs, n_runs, name, opts, out, jout, err) != 0) {
                rc = -1;
                break;
            }
        }
    }
    if (rc == 0 && (opts->format == FB_COMPARE_JSON || opts->comparison)) {
        json_t *root = json_pack ("{s:s,s:O}", "by",
                                  opts->by == FB_COMPARE_BY_HOST    ? "host"
                                  : opts->by == FB_COMPARE_BY_BOARD ? "board"
                                                                    : "cpu",
                                  "workloads", jout);
        if (opts->format == FB_COMPARE_JSON) {
            json_dumpf (root, out, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
            fputc ('\n', out);
        }
        if (opts->comparison)
            *opts->comparison = json_incref (root);
        json_decref (root);
    }
    json_decref (jout);
    for (int r = 0; runs && r < n_runs; r++)
        json_decref (runs[r]);
    free (runs);
    free (dirs);
    return rc;
}

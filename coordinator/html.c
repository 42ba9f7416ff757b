/* html.c: report.html from a results folder. Per workload: the percentile spectrum per host
 * and of every metric, the time series per interval (from the .hlog files), the verdicts with
 * their intervals, the counters; the hosts with their fingerprints, suspect ones first, and
 * grouped by board and CPU when there are many. */
#include "coordinator/html.h"

#include "common/escape.h"
#include "common/files.h"
#include "common/hist_compact.h"
#include "common/hlog.h"
#include "common/stats.h"
#include "common/stats_json.h"
#include "common/units.h"
#include "coordinator/baseline.h"
#include "coordinator/offered.h"
#include "coordinator/svg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_SPECTRUM_POINTS 51 /* x = 0, 0.1, .. 5: percentiles 0 to 99.999 */
#define S_NAMED_HOSTS 8      /* more hosts: these stand out, the rest are grey */
#define S_HOST_TABLE_MAX 20  /* more hosts: grouped, with the full list folded */

static const char s_css[] =
    "body{font:14px/1.45 sans-serif;margin:24px auto;max-width:1000px;color:#222}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:8px 0}td,th{padding:2px 8px;border-bottom:1px solid "
    "#eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".held{color:#17692e}.failed{color:#b3261e;font-weight:bold}.inconclusive{color:#a15c00}"
    ".skipped,.incomparable{color:#666}tr.suspect td{background:#fff4e5}"
    ".box{border:1px solid #e0b060;background:#fff8ec;padding:6px 12px;margin:10px 0}"
    "svg.chart{width:100%;max-width:760px;display:block;margin:10px 0;font-size:11px}"
    "svg .grid{stroke:#e4e4e4}svg .frame{fill:none;stroke:#999}svg .title{font-weight:bold}"
    "svg .series{fill:none;stroke-width:1.6}svg line{stroke-width:2}"
    "svg .fleet{stroke:#000;stroke-width:2.6}svg .muted{stroke:#c8c8c8;stroke-width:1}"
    "svg .dashed{stroke-dasharray:5 3}svg .shade{fill:#f0f0f0}svg .note{fill:#777}"
    "svg .one{stroke:#000}svg .whisker{stroke:#555}svg g.series circle{fill:#777}"
    "svg g.shown circle{fill:#b3261e}"
    ".c0{stroke:#1f77b4}.c1{stroke:#d62728}.c2{stroke:#2ca02c}.c3{stroke:#9467bd}"
    ".c4{stroke:#ff7f0e}.c5{stroke:#8c564b}.c6{stroke:#e377c2}.c7{stroke:#17becf}"
    ".c8{stroke:#bcbd22}.c9{stroke:#7f7f7f}";

void fb_html_begin (FILE *out, const char *title) {
    fputs ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; img-src data:\">\n<title>",
           out);
    fb_escape_xml (out, title);
    fprintf (out, "</title>\n<style>%s</style></head><body>\n", s_css);
}

void fb_html_end (FILE *out) { fputs ("</body></html>\n", out); }

static const char *s_str (const json_t *obj, const char *key) {
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? s : "";
}

static double s_num (const json_t *obj, const char *key) {
    return json_number_value (json_object_get (obj, key));
}

static void s_cell (FILE *out, const char *cls, const char *text) {
    fprintf (out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    fb_escape_xml (out, text);
    fputs ("</td>", out);
}

static void s_cell_ns (FILE *out, double ns) {
    char buf[32];
    s_cell (out, "n", fb_units_format_ns (ns, buf, sizeof buf));
}

/* ---- the run and its hosts ------------------------------------------------------------- */

static void s_summary (FILE *out, const json_t *run) {
    const json_t *sc = json_object_get (run, "scenario");
    fputs ("<h1>", out);
    fb_escape_xml (out, s_str (sc, "name"));
    fputs (": run ", out);
    fb_escape_xml (out, s_str (run, "run_id"));
    fprintf (out, "</h1>\n<p class=\"%s\"><b>",
             strncmp (s_str (run, "outcome"), "passed", 6) == 0 ? "held" : "failed");
    fb_escape_xml (out, s_str (run, "summary"));
    fprintf (out, "</b> (exit code %d)</p>\n<p>",
             (int)json_integer_value (json_object_get (run, "exit_code")));
    fb_escape_xml (out, s_str (run, "started"));
    fputs (" to ", out);
    fb_escape_xml (out, s_str (run, "finished"));
    fputs (", fleetbench ", out);
    fb_escape_xml (out, s_str (run, "fleetbench"));
    fputs ("</p>\n", out);
}

static bool s_host_is_outlier (const json_t *host) {
    return s_str (host, "suspect")[0] || strcmp (s_str (host, "state"), "done") != 0;
}

static void s_host_row (FILE *out, const json_t *host) {
    const json_t *fp = json_object_get (host, "fingerprint");
    char buf[32];
    fprintf (out, "<tr%s>", s_host_is_outlier (host) ? " class=\"suspect\"" : "");
    s_cell (out, NULL, s_str (host, "id"));
    s_cell (out, NULL, s_str (host, "state"));
    s_cell (out, NULL, s_str (fp, "arch"));
    s_cell (out, NULL, s_str (fp, "board"));
    s_cell (out, NULL, s_str (fp, "cpu_model"));
    snprintf (buf, sizeof buf, "%d", (int)s_num (fp, "cores"));
    s_cell (out, "n", buf);
    s_cell (out, "n", fb_units_format_bytes (s_num (fp, "memory_bytes"), buf, sizeof buf));
    s_cell (out, NULL, s_str (fp, "kernel"));
    s_cell_ns (out, s_num (json_object_get (host, "clock"), "start_skew_ns"));
    s_cell (out, NULL,
            s_str (host, "suspect")[0] ? s_str (host, "suspect") : s_str (host, "problem"));
    fputs ("</tr>\n", out);
}

static void s_host_table (FILE *out, const json_t *hosts, bool outliers_only) {
    fputs ("<table><tr><th>host</th><th>state</th><th>arch</th><th>board</th><th>CPU</th>"
           "<th>cores</th><th>memory</th><th>kernel</th><th>start skew</th><th>why suspect"
           "</th></tr>\n",
           out);
    for (int pass = 0; pass < 2; pass++) /* outliers first */
        for (size_t i = 0; i < json_array_size (hosts); i++) {
            const json_t *h = json_array_get (hosts, i);
            if (s_host_is_outlier (h) == (pass == 0) && (!outliers_only || pass == 0))
                s_host_row (out, h);
        }
    fputs ("</table>\n", out);
}

/* Many hosts: one row per (board, CPU, cores) with its count, then the outliers, then every
 * host folded away. */
static void s_host_groups (FILE *out, const json_t *hosts) {
    size_t n = json_array_size (hosts);
    char (*keys)[160] = calloc (n ? n : 1, sizeof *keys);
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++) {
        const json_t *fp = json_object_get (json_array_get (hosts, i), "fingerprint");
        snprintf (keys[i], sizeof keys[i], "%s|%s|%d cores", s_str (fp, "board"),
                  s_str (fp, "cpu_model"), (int)s_num (fp, "cores"));
    }
    fputs ("<table><tr><th>board</th><th>CPU</th><th>cores</th><th>hosts</th><th>suspect or "
           "not done</th></tr>\n",
           out);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp (keys[i], keys[j]) == 0;
        if (seen)
            continue;
        int count = 0, odd = 0;
        for (size_t j = i; j < n; j++)
            if (strcmp (keys[i], keys[j]) == 0) {
                count++;
                odd += s_host_is_outlier (json_array_get (hosts, j));
            }
        const json_t *fp = json_object_get (json_array_get (hosts, i), "fingerprint");
        char buf[16];
        fprintf (out, "<tr%s>", odd ? " class=\"suspect\"" : "");
        s_cell (out, NULL, s_str (fp, "board"));
        s_cell (out, NULL, s_str (fp, "cpu_model"));
        snprintf (buf, sizeof buf, "%d", (int)s_num (fp, "cores"));
        s_cell (out, "n", buf);
        snprintf (buf, sizeof buf, "%d", count);
        s_cell (out, "n", buf);
        snprintf (buf, sizeof buf, "%d", odd);
        s_cell (out, "n", buf);
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n<h3>Suspect or not done</h3>\n", out);
    s_host_table (out, hosts, true);
    fprintf (out, "<details><summary>All %zu hosts</summary>\n", n);
    s_host_table (out, hosts, false);
    fputs ("</details>\n", out);
    free (keys);
}

static void s_hosts (FILE *out, const json_t *hosts) {
    fputs ("<h2>Hosts</h2>\n", out);
    bool any = false;
    for (size_t i = 0; i < json_array_size (hosts); i++) {
        const json_t *h = json_array_get (hosts, i);
        if (!s_str (h, "suspect")[0])
            continue;
        fputs (any ? "<br>"
                   : "<div class=\"box\"><b>Suspect hosts</b> (their figures may say "
                     "more about the host than the hardware)<br>",
               out);
        any = true;
        fb_escape_xml (out, s_str (h, "id"));
        fputs (": ", out);
        fb_escape_xml (out, s_str (h, "suspect"));
    }
    if (any)
        fputs ("</div>\n", out);
    if (json_array_size (hosts) > S_HOST_TABLE_MAX)
        s_host_groups (out, hosts);
    else
        s_host_table (out, hosts, false);
}

/* ---- one workload ---------------------------------------------------------------------- */

/* A host's (or the fleet's) stats of one workload, decoded from run.json. */
typedef struct {
    char name[80];
    fb_stats_t stats;
    bool outlier; /* suspect, not done, or at an extreme of p99 */
    bool named;   /* drawn in colour: every host when there are few, else some outliers */
    double p99;
} s_side_t;

static int s_decode (s_side_t *side, const char *name, const json_t *json, fb_err_t *err) {
    snprintf (side->name, sizeof side->name, "%s", name);
    fb_stats_init (&side->stats);
    if (fb_stats_json_decode (json, &side->stats, err) != 0) {
        fb_stats_clear (&side->stats);
        fb_err_prefix (err, "%s", name);
        return -1;
    }
    const json_t *lat = json_object_get (json_object_get (json, "metrics"), "latency");
    side->p99 = s_num (lat, "p99");
    return 0;
}

static void s_spectrum (const fb_hist_compact_t *h, double *x, double *y) {
    for (int i = 0; i < S_SPECTRUM_POINTS; i++) {
        x[i] = 0.1 * i;
        double p = 100 * (1 - pow (10, -x[i]));
        y[i] = h && fb_hist_compact_count (h) > 0
                   ? (double)fb_hist_compact_value_at_percentile (h, p)
                   : NAN;
    }
}

/* A percentile spectrum chart: series[i] (name, colour, muted as given) drawn from hists[i]. */
static void s_spectra (FILE *out, const char *title, const char *ylabel,
                       const fb_hist_compact_t *const *hists, fb_svg_series_t *series, int n) {
    double (*xy)[2][S_SPECTRUM_POINTS] = calloc ((size_t)n, sizeof *xy);
    if (!xy)
        return;
    for (int i = 0; i < n; i++) {
        s_spectrum (hists[i], xy[i][0], xy[i][1]);
        series[i].n = S_SPECTRUM_POINTS;
        series[i].x = xy[i][0];
        series[i].y = xy[i][1];
    }
    fb_svg_chart_t chart = {title,
                            {"percentile", FB_SVG_PERCENTILE, false, 0, 5},
                            {ylabel, FB_SVG_NS, true, 0, 0},
                            0,
                            0,
                            NULL};
    fb_svg_lines (out, &chart, series, n);
    free (xy);
}

/* The latency spectrum: the fleet and every host, the outliers named when there are many. */
static void s_host_spectra (FILE *out, const s_side_t *sides, int n, const char *metric) {
    const fb_hist_compact_t **hists = calloc ((size_t)n, sizeof *hists);
    fb_svg_series_t *series = calloc ((size_t)n, sizeof *series);
    int color = 0;
    for (int i = 0; hists && series && i < n; i++) {
        bool fleet = i == 0, named = sides[i].named;
        hists[i] = fb_stats_find_metric (&sides[i].stats, metric);
        series[i] = (fb_svg_series_t){
            .name = sides[i].name, .color = fleet ? -1 : color, .muted = !fleet && !named};
        color += !fleet && named;
    }
    char title[160];
    snprintf (title, sizeof title, "%s by percentile, fleet and each host", metric);
    if (hists && series)
        s_spectra (out, title, metric, hists, series, n);
    free (hists);
    free (series);
}

/* Every metric of the fleet on one spectrum: open loop's service time and schedule lag next
 * to latency, the event bus' dispatch and completion. */
static void s_metric_spectra (FILE *out, const fb_stats_t *fleet) {
    int n = fleet->n_metrics;
    fb_svg_series_t series[FB_MAX_METRICS];
    for (int m = 0; m < n; m++)
        series[m] = (fb_svg_series_t){.name = fleet->metric_names[m], .color = m};
    if (n >= 2)
        s_spectra (out, "fleet: every metric by percentile", "time",
                   (const fb_hist_compact_t *const *)fleet->metrics, series, n);
}

/* One host's latency per interval, from its .hlog. */
typedef struct {
    int n, cap;
    double *t, *p50, *p99, *rate;
} s_series_t;

static void s_series_free (s_series_t *s) {
    free (s->t);
    free (s->p50);
    free (s->p99);
    free (s->rate);
}

static int s_series_add (s_series_t *s, double t, const fb_hist_compact_t *h, double length_s) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        double *v[4] = {realloc (s->t, (size_t)cap * sizeof (double)),
                        realloc (s->p50, (size_t)cap * sizeof (double)),
                        realloc (s->p99, (size_t)cap * sizeof (double)),
                        realloc (s->rate, (size_t)cap * sizeof (double))};
        s->t = v[0] ? v[0] : s->t, s->p50 = v[1] ? v[1] : s->p50;
        s->p99 = v[2] ? v[2] : s->p99, s->rate = v[3] ? v[3] : s->rate;
        if (!v[0] || !v[1] || !v[2] || !v[3])
            return -1;
        s->cap = cap;
    }
    int64_t count = fb_hist_compact_count (h);
    s->t[s->n] = t;
    s->p50[s->n] = count > 0 ? (double)fb_hist_compact_value_at_percentile (h, 50) : NAN;
    s->p99[s->n] = count > 0 ? (double)fb_hist_compact_value_at_percentile (h, 99) : NAN;
    s->rate[s->n] = length_s > 0 ? (double)count / length_s : NAN;
    s->n++;
    return 0;
}

/* Reads dir/host.workload.hlog's latency rows; a host without the file has no series. */
static int s_read_hlog (const char *dir, const char *host, const char *workload, s_series_t *s,
                        fb_err_t *err) {
    char path[700], *line = NULL;
    size_t cap = 0;
    snprintf (path, sizeof path, "%s/%s.%s.hlog", dir, host, workload);
    FILE *f = fopen (path, "r");
    if (!f)
        return errno == ENOENT ? 0 : fb_err_set (err, FB_ESYS, "%s: %s", path, strerror (errno));
    int rc = 0, lineno = 0;
    while (rc == 0 && getline (&line, &cap, f) >= 0) {
        lineno++;
        fb_hlog_row_t row = {0};
        fb_hist_compact_t *hist = NULL; /* decoded into the buckets it uses only */
        int got = fb_hlog_parse_line_compact (line, &row, &hist, err);
        if (got < 0) {
            fb_err_prefix (err, "%s:%d", path, lineno);
            rc = -1;
        } else if (got == 1) {
            if ((!row.tag[0] || strcmp (row.tag, "latency") == 0) &&
                s_series_add (s, row.start_s, hist, row.length_s) != 0)
                rc = fb_err_set (err, FB_ENOMEM, "%s: out of memory", path);
        }
        fb_hist_compact_destroy (&hist);
    }
    free (line);
    fclose (f);
    return rc;
}

static void s_time_charts (FILE *out, const s_side_t *sides, const s_series_t *ts, int n,
                           double warmup_s) {
    fb_svg_series_t *series = calloc ((size_t)n * 2, sizeof *series);
    char (*labels)[96] = calloc ((size_t)n, sizeof *labels);
    double first = INFINITY;
    int k = 0, color = 0;
    for (int i = 1; series && labels && i < n; i++) { /* hosts: the fleet has no .hlog */
        if (ts[i].n > 0)
            first = fmin (first, ts[i].t[0]);
        series[k++] = (fb_svg_series_t){sides[i].name, ts[i].n, ts[i].t,        ts[i].p99,
                                        color,         false,   !sides[i].named};
        if (sides[i].named) { /* p50 dashed beside p99 */
            snprintf (labels[i], sizeof labels[i], "%s p50", sides[i].name);
            series[k++] =
                (fb_svg_series_t){labels[i], ts[i].n, ts[i].t, ts[i].p50, color, true, false};
        }
        color += sides[i].named;
    }
    if (k > 0 && isfinite (first)) {
        fb_svg_chart_t chart = {"p99 (solid) and p50 (dashed) per interval",
                                {"seconds since the run started", FB_SVG_SECONDS, false, 0, 0},
                                {"latency", FB_SVG_NS, true, 0, 0},
                                first - warmup_s,
                                first,
                                "warm-up (not measured)"};
        fb_svg_lines (out, &chart, series, k);
        k = 0;
        color = 0;
        for (int i = 1; i < n; i++) {
            series[k++] = (fb_svg_series_t){sides[i].name, ts[i].n, ts[i].t,        ts[i].rate,
                                            color,         false,   !sides[i].named};
            color += sides[i].named;
        }
        chart.title = "operations per second per interval";
        chart.y = (fb_svg_axis_t){"ops/s", FB_SVG_RATE, false, 0, 0};
        fb_svg_lines (out, &chart, series, k);
    }
    free (series);
    free (labels);
}

static void s_figures (FILE *out, const s_side_t *sides, int n, const json_t *w) {
    const json_t *fleet_ci = json_object_get (w, "fleet_ci");
    fputs ("<table><tr><th></th><th>ops</th><th>ops/s</th><th>errors</th><th>p50</th>"
           "<th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n",
           out);
    for (int i = 0; i < n; i++) {
        if (i > 0 && !sides[i].named && !sides[i].outlier)
            continue; /* many hosts: the outliers here, every host in run.json and report.md */
        const fb_hist_compact_t *h = fb_stats_find_metric (&sides[i].stats, "latency");
        char buf[48];
        int oi = fb_stats_find_counter (&sides[i].stats, "ops");
        int ei = fb_stats_find_counter (&sides[i].stats, "errors");
        double ops = oi >= 0 ? (double)sides[i].stats.counters[oi] : 0;
        fputs ("<tr>", out);
        s_cell (out, NULL, sides[i].name);
        snprintf (buf, sizeof buf, "%.0f", ops);
        s_cell (out, "n", buf);
        snprintf (buf, sizeof buf, "%.0f",
                  sides[i].stats.measured_ns > 0 ? ops * 1e9 / sides[i].stats.measured_ns : 0);
        s_cell (out, "n", buf);
        snprintf (buf, sizeof buf, "%lld", ei >= 0 ? (long long)sides[i].stats.counters[ei] : 0LL);
        s_cell (out, "n", buf);
        static const double ps[] = {50, 95, 99, 99.9, 100};
        for (int p = 0; p < 5; p++)
            s_cell_ns (out, h ? (double)fb_hist_compact_value_at_percentile (h, ps[p]) : NAN);
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n", out);
    if (json_object_size (fleet_ci) > 0) {
        char lo[32], hi[32], pt[32];
        fprintf (out, "<p>Fleet, %.0f %% intervals: ", 100 * s_num (fleet_ci, "confidence"));
        static const char *const names[] = {"p50", "p95", "p99", "mean"};
        for (int i = 0; i < 4; i++) {
            const json_t *ci = json_object_get (fleet_ci, names[i]);
            if (ci)
                fprintf (out, "%s %s (%s..%s)%s", names[i],
                         fb_units_format_ns (s_num (ci, "point"), pt, sizeof pt),
                         fb_units_format_ns (s_num (ci, "lo"), lo, sizeof lo),
                         fb_units_format_ns (s_num (ci, "hi"), hi, sizeof hi), i < 3 ? ", " : "");
        }
        fputs ("</p>\n", out);
    }
}

static void s_verdicts (FILE *out, const json_t *verdicts) {
    if (json_array_size (verdicts) == 0)
        return;
    fputs ("<table><tr><th>type</th><th>what</th><th>verdict</th><th>ratio (interval)</th>"
           "<th>detail</th></tr>\n",
           out);
    for (size_t i = 0; i < json_array_size (verdicts); i++) {
        const json_t *v = json_array_get (verdicts, i), *r = json_object_get (v, "ratio");
        char ratio[96] = "";
        if (r)
            snprintf (ratio, sizeof ratio, "%.2fx (%.2fx..%.2fx)", s_num (r, "point"),
                      s_num (r, "lo"), s_num (r, "hi"));
        fputs ("<tr>", out);
        s_cell (out, NULL, s_str (v, "type"));
        s_cell (out, NULL, s_str (v, "text"));
        s_cell (out, s_str (v, "verdict"), s_str (v, "verdict"));
        s_cell (out, "n", ratio);
        s_cell (out, NULL, s_str (v, "detail"));
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n", out);
}

static void s_counters (FILE *out, const fb_stats_t *fleet) {
    fputs ("<p>Counters (fleet): ", out);
    for (int c = 0; c < fleet->n_counters; c++) {
        const char *name = fleet->counter_names[c];
        char buf[48];
        double v = (double)fleet->counters[c];
        if (strcmp (name, "rss") == 0)
            fb_units_format_bytes (v, buf, sizeof buf);
        else if (strcmp (name, "cpu") == 0)
            fb_units_format_ns (v, buf, sizeof buf);
        else
            snprintf (buf, sizeof buf, "%lld", (long long)fleet->counters[c]);
        fprintf (out, "%s<b>", c ? ", " : "");
        fb_escape_xml (out, name);
        fputs ("</b> ", out);
        fb_escape_xml (out, buf);
        if (fleet->counter_kinds[c] == FB_COUNTER_MAX)
            fputs (" (max)", out);
    }
    fputs ("</p>\n", out);
}

/* Outliers: the suspect hosts, those not done, and the two highest and the lowest p99. In
 * colour (named): every host when there are few, else up to S_NAMED_HOSTS outliers, suspect
 * ones first. */
static void s_mark_outliers (s_side_t *sides, int n, const json_t *hosts) {
    for (int i = 1; i < n; i++)
        for (size_t h = 0; h < json_array_size (hosts); h++) {
            const json_t *host = json_array_get (hosts, h);
            if (strcmp (s_str (host, "id"), sides[i].name) == 0)
                sides[i].outlier = s_host_is_outlier (host);
        }
    int named = 0;
    for (int i = 1; i < n; i++)
        if (sides[i].outlier && named < S_NAMED_HOSTS)
            sides[i].named = true, named++;
    for (int pick = 0; pick < 3; pick++) {
        int at = -1;
        for (int i = 1; i < n; i++)
            if (!sides[i].outlier && (at < 0 || (pick < 2 ? sides[i].p99 > sides[at].p99
                                                          : sides[i].p99 < sides[at].p99)))
                at = i;
        if (at >= 0) {
            sides[at].outlier = true;
            sides[at].named = named < S_NAMED_HOSTS;
            named += sides[at].named;
        }
    }
    for (int i = 1; i < n; i++)
        sides[i].named = sides[i].named || n - 1 <= S_NAMED_HOSTS;
}

static int s_workload (FILE *out, const char *dir, const json_t *run, const json_t *w,
                       fb_err_t *err) {
    const char *name = s_str (w, "name");
    const json_t *hosts = json_object_get (w, "hosts");
    int n = 1 + (int)json_object_size (hosts);
    s_side_t *sides = calloc ((size_t)n, sizeof *sides);
    s_series_t *ts = calloc ((size_t)n, sizeof *ts);
    int rc = sides && ts ? 0 : fb_err_set (err, FB_ENOMEM, "out of memory");
    int decoded = 0;
    bool in_json = false; /* a failure in run.json itself, not in an hlog (which names itself) */
    if (rc == 0) {
        rc = s_decode (&sides[decoded++], "fleet", json_object_get (w, "fleet"), err);
        in_json = rc != 0;
    }
    const char *id;
    const json_t *hj;
    json_object_foreach ((json_t *)hosts, id, hj) {
        if (rc != 0)
            break;
        rc = s_decode (&sides[decoded], id, hj, err);
        if (rc == 0) /* a host's other metrics are drawn for the fleet only */
            fb_stats_keep_metric (&sides[decoded].stats, "latency");
        in_json = rc != 0;
        decoded += rc == 0;
        if (rc == 0)
            rc = s_read_hlog (dir, id, name, &ts[decoded - 1], err);
    }
    if (rc == 0) {
        s_mark_outliers (sides, n, json_object_get (run, "hosts"));
        double rate = s_num (w, "rate_per_s");
        char mode[64];
        if (json_is_array (json_object_get (w, "stages")))
            snprintf (mode, sizeof mode, "open loop in stages up to %.0f/s per host", rate);
        else if (rate > 0)
            snprintf (mode, sizeof mode, "open loop, %.0f/s per host", rate);
        else
            snprintf (mode, sizeof mode, "closed loop");
        fputs ("<h2>", out);
        fb_escape_xml (out, name);
        fputs (" (", out);
        fb_escape_xml (out, s_str (w, "kind"));
        fprintf (out, ", %s, %g s measured after %g s warm-up)</h2>\n", mode,
                 s_num (w, "duration_s"), s_num (w, "warmup_s"));
        s_verdicts (out, json_object_get (w, "verdicts"));
        s_figures (out, sides, n, w);
        s_host_spectra (out, sides, n, "latency");
        s_metric_spectra (out, &sides[0].stats);
        s_time_charts (out, sides, ts, n, s_num (w, "warmup_s"));
        fb_offered_html (out, w); /* stages: latency against offered load */
        s_counters (out, &sides[0].stats);
    } else if (in_json) {
        fb_err_prefix (err, "%s/run.json: workload %s", dir, name);
    } else {
        fb_err_prefix (err, "workload %s", name);
    }
    for (int i = 0; i < decoded; i++)
        fb_stats_clear (&sides[i].stats);
    for (int i = 0; ts && i < n; i++)
        s_series_free (&ts[i]);
    free (sides);
    free (ts);
    return rc;
}

/* ---- the page -------------------------------------------------------------------------- */

/* run.json as every reader of results takes it, plus what the page needs: hosts, and each
 * workload's name and fleet figures. */
static json_t *s_load (const char *dir, fb_err_t *err) {
    char path[700];
    snprintf (path, sizeof path, "%s/run.json", dir);
    json_t *run = fb_baseline_load (path, err);
    if (!run)
        return NULL;
    const char *what = NULL;
    if (!json_is_array (json_object_get (run, "hosts")))
        what = "no \"hosts\" list";
    for (size_t i = 0; !what && i < json_array_size (json_object_get (run, "workloads")); i++) {
        const json_t *w = json_array_get (json_object_get (run, "workloads"), i);
        if (!json_is_string (json_object_get (w, "name")) ||
            !json_is_object (json_object_get (w, "fleet")))
            what = "a workload without a name or fleet figures";
    }
    if (what) {
        fb_err_set (err, FB_EINPUT, "%s: not a fleetbench run.json: %s", path, what);
        json_decref (run);
        return NULL;
    }
    return run;
}

int fb_html_write (const char *dir, const json_t *head, int n_workloads,
                   fb_html_workload_fn *workload, const void *arg, fb_err_t *err) {
    fb_file_t file = {0}; /* straight to report.html.tmp: no copy of the page in memory */
    char path[700], title[200];
    snprintf (path, sizeof path, "%s/report.html", dir);
    if (fb_files_open (&file, path, err) != 0)
        return -1;
    snprintf (title, sizeof title, "%s: %s", s_str (json_object_get (head, "scenario"), "name"),
              s_str (head, "run_id"));
    fb_html_begin (file.f, title);
    s_summary (file.f, head);
    s_hosts (file.f, json_object_get (head, "hosts"));
    int rc = 0;
    for (int i = 0; rc == 0 && i < n_workloads; i++) {
        json_t *w = workload (arg, i, err);
        rc = w ? s_workload (file.f, dir, head, w, err) : -1;
        json_decref (w);
    }
    fb_html_end (file.f);
    if (rc != 0) {
        fb_files_discard (&file);
        return -1;
    }
    return fb_files_commit (&file, true, err);
}

static json_t *s_loaded_workload (const void *run, int i, fb_err_t *err) {
    (void)err; /* s_load checked every workload */
    return json_incref (json_array_get (json_object_get (run, "workloads"), (size_t)i));
}

int fb_html_write_dir (const char *dir, fb_err_t *err) {
    json_t *run = s_load (dir, err);
    if (!run)
        return -1;
    int rc = fb_html_write (dir, run, (int)json_array_size (json_object_get (run, "workloads")),
                            s_loaded_workload, run, err);
    json_decref (run);
    return rc;
}

/* compare_html.c: the comparison's JSON as a page of ratio charts and tables. */
#include "coordinator/compare_html.h"

#include "common/escape.h"
#include "common/files.h"
#include "common/units.h"
#include "coordinator/html.h"
#include "coordinator/svg.h"

#include <stdio.h>
#include <stdlib.h>

static const char *s_str (const json_t *obj, const char *key) {
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? s : "?";
}

static double s_num (const json_t *obj, const char *key) {
    return json_number_value (json_object_get (obj, key));
}

/* The rows' ratios of one statistic ("p50" or "throughput") to the reference. */
static void s_chart (FILE *out, const char *title, const json_t *rows, const char *stat) {
    size_t n = json_array_size (rows);
    fb_svg_ratio_t *r = calloc (n ? n : 1, sizeof *r);
    if (!r)
        return;
    char key[48], ci_key[48];
    snprintf (key, sizeof key, "%s_vs_ref", stat);
    snprintf (ci_key, sizeof ci_key, "%s_vs_ref_ci", stat);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get (rows, i), *ci = json_object_get (row, ci_key);
        double point = s_num (row, key);
        r[i] = (fb_svg_ratio_t){s_str (row, "name"), point, ci ? s_num (ci, "lo") : point,
                                ci ? s_num (ci, "hi") : point,
                                ci && json_is_true (json_object_get (ci, "difference_shown"))};
    }
    fb_svg_ratios (out, title, r, (int)n);
    free (r);
}

static void s_ratio_cell (FILE *out, const json_t *row, const char *key, const char *ci_key) {
    const json_t *ci = json_object_get (row, ci_key);
    fprintf (out, "<td class=\"n\">%.3fx", s_num (row, key));
    if (ci)
        fprintf (out, " (%.3fx..%.3fx)%s", s_num (ci, "lo"), s_num (ci, "hi"),
                 json_is_true (json_object_get (ci, "difference_shown")) ? ""
                                                                         : " no difference shown");
    fputs ("</td>", out);
}

static void s_table (FILE *out, const json_t *rows) {
    fputs ("<table><tr><th>row</th><th>hosts</th><th>p50</th><th>p95</th><th>p99</th>"
           "<th>ops/s per host</th><th>p50 vs ref (95 % interval)</th>"
           "<th>throughput vs ref (95 % interval)</th></tr>\n",
           out);
    for (size_t i = 0; i < json_array_size (rows); i++) {
        const json_t *row = json_array_get (rows, i);
        char a[32], b[32], c[32];
        fputs ("<tr><td>", out);
        fb_escape_xml (out, s_str (row, "name"));
        fprintf (out,
                 "</td><td class=\"n\">%lld</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                 "<td class=\"n\">%s</td><td class=\"n\">%.0f</td>",
                 (long long)json_integer_value (json_object_get (row, "hosts")),
                 fb_units_format_ns (s_num (row, "p50_ns"), a, sizeof a),
                 fb_units_format_ns (s_num (row, "p95_ns"), b, sizeof b),
                 fb_units_format_ns (s_num (row, "p99_ns"), c, sizeof c),
                 s_num (row, "ops_per_s_per_host"));
        s_ratio_cell (out, row, "p50_vs_ref", "p50_vs_ref_ci");
        s_ratio_cell (out, row, "throughput_vs_ref", "throughput_vs_ref_ci");
        fputs ("</tr>\n", out);
    }
    fputs ("</table>\n", out);
}

/* A capacity search's rows: each one's capacity per host, its range and its ratio. */
static void s_capacity (FILE *out, const json_t *rows) {
    if (json_array_size (rows) == 0)
        return;
    fputs ("<h3>capacity (the highest step rate that met the objective)</h3>\n<table><tr>"
           "<th>row</th><th>hosts</th><th>per host</th><th>lowest</th><th>highest</th>"
           "<th>vs ref</th></tr>\n",
           out);
    for (size_t i = 0; i < json_array_size (rows); i++) {
        const json_t *row = json_array_get (rows, i);
        fputs ("<tr><td>", out);
        fb_escape_xml (out, s_str (row, "name"));
        char vs[32] = "-"; /* null: the reference has no capacity */
        if (json_is_number (json_object_get (row, "vs_ref")))
            snprintf (vs, sizeof vs, "%.2fx", s_num (row, "vs_ref"));
        fprintf (out,
                 "</td><td class=\"n\">%lld</td><td class=\"n\">%.0f/s</td>"
                 "<td class=\"n\">%.0f/s</td><td class=\"n\">%.0f/s</td>"
                 "<td class=\"n\">%s</td></tr>\n",
                 (long long)json_integer_value (json_object_get (row, "hosts")),
                 s_num (row, "per_host_per_s"), s_num (row, "lowest_per_s"),
                 s_num (row, "highest_per_s"), vs);
    }
    fputs ("</table>\n", out);
}

static void s_render (FILE *out, const json_t *cmp) {
    fb_html_begin (out, "fleetbench: hardware comparison");
    fputs ("<h1>Hardware comparison</h1>\n<p>Each row as a ratio to the reference row, with "
           "its 95 % interval where the runs give one. A red point: the interval excludes "
           "1.0x; grey: no difference shown.</p>\n",
           out);
    const json_t *ws = json_object_get (cmp, "workloads");
    for (size_t w = 0; w < json_array_size (ws); w++) {
        const json_t *wj = json_array_get (ws, w), *ms = json_object_get (wj, "metrics");
        fputs ("<h2>", out);
        fb_escape_xml (out, s_str (wj, "workload"));
        fputs (" (reference: ", out);
        fb_escape_xml (out, s_str (wj, "reference"));
        fputs (")</h2>\n", out);
        for (size_t m = 0; m < json_array_size (ms); m++) {
            const json_t *mj = json_array_get (ms, m), *rows = json_object_get (mj, "rows");
            char title[160];
            snprintf (title, sizeof title, "%s p50 vs the reference", s_str (mj, "metric"));
            s_chart (out, title, rows, "p50");
            if (m == 0) /* throughput counts operations: the same for every metric */
                s_chart (out, "throughput per host vs the reference", rows, "throughput");
            s_table (out, rows);
        }
        s_capacity (out, json_object_get (wj, "capacity"));
    }
    fb_html_end (out);
}

int fb_compare_html_write (const json_t *comparison, const char *path, fb_err_t *err) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out)
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    s_render (out, comparison);
    int rc = fclose (out) == 0 ? fb_files_write (path, text, len, err)
                               : fb_err_set (err, FB_ENOMEM, "out of memory rendering %s", path);
    free (text);
    return rc;
}

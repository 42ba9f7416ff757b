/* svg.c: line charts and ratio whiskers as inline SVG for report.html. Coordinates are
 * computed here; the page's CSS only colours (classes c0..c9, fleet, muted, shade). */
#include "coordinator/svg.h"

#include "common/escape.h"
#include "common/units.h"

#include <math.h>
#include <stdio.h>

#define S_W 760.0
#define S_H 300.0
#define S_LEFT 72.0
#define S_RIGHT 170.0 /* the legend */
#define S_TOP 28.0
#define S_BOTTOM 44.0
#define S_PALETTE 10
#define S_LEGEND_MAX 12 /* more named series: the rest are counted, not listed */

typedef struct {
    double lo, hi; /* in axis space (log10 of the value on a log axis) */
    bool log;
    double px0, px1; /* the pixels lo and hi land on */
} s_scale_t;

static double s_to_axis (const s_scale_t *s, double v) { return s->log ? log10 (v) : v; }

static double s_pixel (const s_scale_t *s, double v) {
    double a = s_to_axis (s, v);
    return s->px0 + (a - s->lo) / (s->hi - s->lo) * (s->px1 - s->px0);
}

static bool s_usable (const fb_svg_axis_t *axis, double v) {
    return isfinite (v) && (!axis->log || v > 0);
}

static void s_format (fb_svg_unit_t unit, double v, char *buf, size_t size) {
    switch (unit) {
    case FB_SVG_NS:
        fb_units_format_ns (v, buf, size);
        break;
    case FB_SVG_RATE:
        if (v >= 1e6)
            snprintf (buf, size, "%gM/s", v / 1e6);
        else if (v >= 1e3)
            snprintf (buf, size, "%gk/s", v / 1e3);
        else
            snprintf (buf, size, "%g/s", v);
        break;
    case FB_SVG_PERCENTILE: {
        double p = 100 * (1 - pow (10, -v));
        snprintf (buf, size, "%.*f%%", v < 2.5 ? 0 : (int)lround (v) - 2, p);
        break;
    }
    case FB_SVG_SECONDS:
        snprintf (buf, size, "%gs", v);
        break;
    case FB_SVG_RATIO:
        snprintf (buf, size, "%.2fx", v);
        break;
    }
}

/* The axis' range from the data (or as given), widened to whole decades on a log axis and a
 * little on a linear one, so nothing sits on the frame. */
static void s_range (const fb_svg_axis_t *axis, const fb_svg_series_t *series, int n, bool is_x,
                     s_scale_t *s) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < series[i].n; j++) {
            double v = is_x ? series[i].x[j] : series[i].y[j];
            if (s_usable (axis, v)) {
                lo = fmin (lo, v);
                hi = fmax (hi, v);
            }
        }
    if (axis->min != 0 || axis->max != 0)
        lo = axis->min, hi = axis->max;
    if (!isfinite (lo))
        lo = axis->log ? 1 : 0, hi = axis->log ? 10 : 1;
    s->log = axis->log;
    if (axis->log) {
        s->lo = floor (log10 (lo));
        s->hi = ceil (log10 (hi));
    } else {
        s->lo = is_x || lo < 0 ? lo : 0;
        s->hi = hi + (is_x ? 0 : 0.05 * (hi - s->lo));
    }
    if (s->hi <= s->lo)
        s->hi = s->lo + 1;
}

/* Ticks at whole decades on a log axis, at 1-2-5 steps on a linear one. */
static int s_ticks (const s_scale_t *s, fb_svg_unit_t unit, double *ticks, int max) {
    int n = 0;
    if (s->log || unit == FB_SVG_PERCENTILE) {
        for (double a = ceil (s->lo); a <= s->hi + 1e-9 && n < max; a++)
            ticks[n++] = s->log ? pow (10, a) : a;
        return n;
    }
    double span = s->hi - s->lo, step = pow (10, floor (log10 (span / 5)));
    if (span / step > 10)
        step *= span / step > 25 ? 5 : 2;
    for (double v = ceil (s->lo / step) * step; v <= s->hi + 1e-9 && n < max; v += step)
        ticks[n++] = v;
    return n;
}

/* Grid lines and labels of one axis: vertical lines for x, horizontal for y. */
static void s_grid (FILE *out, const s_scale_t *s, fb_svg_unit_t unit, bool is_x) {
    double ticks[16];
    char label[32];
    int n = s_ticks (s, unit, ticks, 16);
    for (int i = 0; i < n; i++) {
        double p = s_pixel (s, ticks[i]);
        s_format (unit, ticks[i], label, sizeof label);
        double x1 = is_x ? p : S_LEFT, x2 = is_x ? p : S_W - S_RIGHT;
        double y1 = is_x ? S_TOP : p, y2 = is_x ? S_H - S_BOTTOM : p;
        fprintf (out,
                 "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
                 x1, y1, x2, y2, is_x ? p : S_LEFT - 5, is_x ? S_H - S_BOTTOM + 14 : p + 4,
                 is_x ? "middle" : "end", label);
    }
}

static void s_axes (FILE *out, const fb_svg_chart_t *c, const s_scale_t *sx, const s_scale_t *sy) {
    s_grid (out, sx, c->x.unit, true);
    s_grid (out, sy, c->y.unit, false);
    fprintf (out,
             "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n"
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
             S_LEFT, S_TOP, S_W - S_RIGHT - S_LEFT, S_H - S_BOTTOM - S_TOP,
             (S_LEFT + S_W - S_RIGHT) / 2, S_H - 8);
    fb_escape_xml (out, c->x.label);
    fprintf (out,
             "</text>\n<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" "
             "transform=\"rotate(-90 14 %.1f)\">",
             (S_TOP + S_H - S_BOTTOM) / 2, (S_TOP + S_H - S_BOTTOM) / 2);
    fb_escape_xml (out, c->y.label);
    fputs ("</text>\n", out);
}

static void s_class (FILE *out, const fb_svg_series_t *s) {
    if (s->color < 0)
        fputs ("fleet", out);
    else if (s->muted)
        fputs ("muted", out);
    else
        fprintf (out, "c%d", s->color % S_PALETTE);
    if (s->dashed)
        fputs (" dashed", out);
}

static void s_path (FILE *out, const fb_svg_chart_t *c, const s_scale_t *sx, const s_scale_t *sy,
                    const fb_svg_series_t *s) {
    fputs ("<path class=\"series ", out);
    s_class (out, s);
    fputs ("\" d=\"", out);
    bool pen_down = false;
    for (int j = 0; j < s->n; j++) {
        if (!s_usable (&c->x, s->x[j]) || !s_usable (&c->y, s->y[j])) {
            pen_down = false; /* a gap, not a line to zero */
            continue;
        }
        double px = s_pixel (sx, s->x[j]), py = s_pixel (sy, s->y[j]);
        py = fmin (fmax (py, S_TOP), S_H - S_BOTTOM);
        fprintf (out, "%s%.1f %.1f", pen_down ? " L" : " M", px, py);
        pen_down = true;
    }
    fputs ("\"><title>", out);
    fb_escape_xml (out, s->name);
    fputs ("</title></path>\n", out);
}

/* Up to S_LEGEND_MAX named series; the muted ones and any past that are counted. */
static void s_legend (FILE *out, const fb_svg_series_t *series, int n) {
    int shown = 0, more = 0;
    for (int i = 0; i < n; i++) {
        const fb_svg_series_t *s = &series[i];
        if (s->muted || shown == S_LEGEND_MAX) {
            more++;
            continue;
        }
        double y = S_TOP + 8 + 16 * shown++;
        fputs ("<line class=\"", out);
        s_class (out, s);
        fprintf (out,
                 "\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\">",
                 S_W - S_RIGHT + 10, y, S_W - S_RIGHT + 30, y, S_W - S_RIGHT + 35, y + 4);
        fb_escape_xml (out, s->name);
        fputs ("</text>\n", out);
    }
    if (more > 0)
        fprintf (out, "<text x=\"%.1f\" y=\"%.1f\">(%d more in grey)</text>\n", S_W - S_RIGHT + 10,
                 S_TOP + 12 + 16 * shown, more);
}

void fb_svg_lines (FILE *out, const fb_svg_chart_t *c, const fb_svg_series_t *series, int n) {
    s_scale_t sx, sy;
    s_range (&c->x, series, n, true, &sx);
    s_range (&c->y, series, n, false, &sy);
    if (c->shade_to > c->shade_from && !c->x.log && c->x.min == 0 && c->x.max == 0)
        sx.lo = fmin (sx.lo, c->shade_from); /* the warm-up is part of the picture */
    sx.px0 = S_LEFT, sx.px1 = S_W - S_RIGHT;
    sy.px0 = S_H - S_BOTTOM, sy.px1 = S_TOP;
    fprintf (out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>", S_W, S_H);
    fb_escape_xml (out, c->title);
    fprintf (out, "</title>\n<text class=\"title\" x=\"%.1f\" y=\"16\">", S_LEFT);
    fb_escape_xml (out, c->title);
    fputs ("</text>\n", out);
    if (c->shade_to > c->shade_from) {
        double x0 = fmax (s_pixel (&sx, c->shade_from), S_LEFT);
        double x1 = fmin (s_pixel (&sx, c->shade_to), S_W - S_RIGHT);
        if (x1 > x0) {
            fprintf (out,
                     "<rect class=\"shade\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.1f\"/><text class=\"note\" x=\"%.1f\" y=\"%.1f\">",
                     x0, S_TOP, x1 - x0, S_H - S_BOTTOM - S_TOP, x0 + 3, S_TOP + 12);
            fb_escape_xml (out, c->shade_label ? c->shade_label : "");
            fputs ("</text>\n", out);
        }
    }
    s_axes (out, c, &sx, &sy);
    for (int i = 0; i < n; i++) /* muted first, so named series are drawn over them */
        if (series[i].muted)
            s_path (out, c, &sx, &sy, &series[i]);
    for (int i = 0; i < n; i++)
        if (!series[i].muted)
            s_path (out, c, &sx, &sy, &series[i]);
    s_legend (out, series, n);
    fputs ("</svg>\n", out);
}

void fb_svg_ratios (FILE *out, const char *title, const fb_svg_ratio_t *rows, int n) {
    const double row_h = 22, label_w = 260, top = 30;
    double h = top + row_h * n + 40;
    fb_svg_axis_t axis = {"ratio to the reference", FB_SVG_RATIO, true, 0, 0};
    double lo = 1, hi = 1;
    for (int i = 0; i < n; i++)
        if (rows[i].lo > 0 && rows[i].hi > 0) {
            lo = fmin (lo, rows[i].lo);
            hi = fmax (hi, rows[i].hi);
        }
    /* a log axis symmetric around 1.0x, so 0.5x and 2x are as far from it */
    double half = fmax (fmax (log10 (hi), -log10 (lo)), log10 (1.1)) * 1.1;
    s_scale_t sx = {-half, half, true, label_w, S_W - 30};
    fprintf (out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>", S_W, h);
    fb_escape_xml (out, title);
    fprintf (out, "</title>\n<text class=\"title\" x=\"10\" y=\"16\">");
    fb_escape_xml (out, title);
    fputs ("</text>\n", out);
    static const double marks[] = {0.25, 0.5, 0.8, 1, 1.25, 2, 4};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        if (fabs (log10 (marks[m])) > half)
            continue;
        char label[32];
        s_format (axis.unit, marks[m], label, sizeof label);
        double px = s_pixel (&sx, marks[m]);
        fprintf (out,
                 "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                 marks[m] == 1 ? "one" : "grid", px, top - 4, px, top + row_h * n, px,
                 top + row_h * n + 16, label);
    }
    for (int i = 0; i < n; i++) {
        const fb_svg_ratio_t *r = &rows[i];
        double y = top + row_h * i + row_h / 2;
        fprintf (out, "<g class=\"series%s\"><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                 r->difference_shown ? " shown" : "", label_w - 8, y + 4);
        fb_escape_xml (out, r->label);
        fputs ("</text>", out);
        if (r->lo > 0 && r->hi > 0 && r->hi > r->lo)
            fprintf (out,
                     "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                     s_pixel (&sx, r->lo), y, s_pixel (&sx, r->hi), y);
        if (r->point > 0)
            fprintf (out,
                     "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/><title>%.3fx (%.3fx..%.3fx)</title>",
                     s_pixel (&sx, r->point), y, r->point, r->lo, r->hi);
        fputs ("</g>\n", out);
    }
    fprintf (out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (label_w + S_W - 30) / 2,
             h - 6);
    fb_escape_xml (out, axis.label);
    fputs ("</text></svg>\n", out);
}

/* svg.h: the few charts report.html draws, as inline SVG: line charts on linear or log axes
 * (percentile spectra, time series) and ratio whiskers (hardware comparison). No script, no
 * font or style from outside the page. */
#ifndef FB_SVG_H
#define FB_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* How an axis labels a value: a duration in ns, a rate, a percentile spectrum position, or
 * seconds since the start. */
typedef enum {
    FB_SVG_NS,         /* 1.2ms */
    FB_SVG_RATE,       /* 5000/s */
    FB_SVG_PERCENTILE, /* x = log10 (1 / (1 - p)): ticks 0 %, 90 %, 99 %, ... */
    FB_SVG_SECONDS,    /* 12s */
    FB_SVG_RATIO,      /* 1.25x */
} fb_svg_unit_t;

typedef struct {
    const char *label;
    fb_svg_unit_t unit;
    bool log;        /* log10 scale; values <= 0 are left out */
    double min, max; /* both 0: from the data */
} fb_svg_axis_t;

typedef struct {
    const char *name; /* in the legend and the series' <title> */
    int n;
    const double *x, *y;
    int color;   /* index into the palette; -1: the fleet's (black, thicker) */
    bool dashed; /* a second statistic of the same host (p50 beside p99) */
    bool muted;  /* drawn light and left out of the legend (one of many hosts) */
} fb_svg_series_t;

typedef struct {
    const char *title;
    fb_svg_axis_t x, y;
    double shade_from, shade_to; /* an x range drawn grey (warm-up); equal: none */
    const char *shade_label;
} fb_svg_chart_t;

/* A line chart; every series is one <path class="series">. */
void fb_svg_lines (FILE *out, const fb_svg_chart_t *chart, const fb_svg_series_t *series, int n);

/* One row of a ratio chart: a point with its interval (lo == hi == point: none). */
typedef struct {
    const char *label;
    double point, lo, hi;
    bool difference_shown; /* the interval excludes 1.0 */
} fb_svg_ratio_t;

/* Horizontal ratio whiskers around a line at 1.0x; every row is one <g class="series">. */
void fb_svg_ratios (FILE *out, const char *title, const fb_svg_ratio_t *rows, int n);

#endif

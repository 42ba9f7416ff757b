/* test_svg.c: the charts of report.html: gaps instead of lines to zero on a log axis,
 * percentile ticks, names escaped, muted series counted rather than listed. */
#include "coordinator/svg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *s_render (const fb_svg_chart_t *chart, const fb_svg_series_t *series, int n) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    fb_svg_lines (out, chart, series, n);
    assert_int_equal (fclose (out), 0);
    return text;
}

static int s_count (const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr (text, what); p; p = strstr (p + 1, what))
        n++;
    return n;
}

/* A zero on a log axis cannot be drawn: the line stops and starts again, never dives to the
 * frame. */
static void test_a_zero_on_a_log_axis_is_a_gap (void **state) {
    (void)state;
    double x[] = {1, 2, 3, 4}, y[] = {100, 1000, 0, 500};
    fb_svg_series_t s = {"host <a>", 4, x, y, 0, false, false};
    fb_svg_chart_t chart = {
        "t", {"s", FB_SVG_SECONDS, false, 0, 0}, {"ns", FB_SVG_NS, true, 0, 0}, 0, 0, NULL};
    char *svg = s_render (&chart, &s, 1);
    const char *d = strstr (svg, " d=\"");
    assert_non_null (d);
    char path[256];
    snprintf (path, sizeof path, "%.*s", (int)(strchr (d + 4, '"') - d - 4), d + 4);
    assert_int_equal (s_count (path, "M"), 2);
    assert_int_equal (s_count (path, "L"), 1);
    assert_non_null (strstr (svg, "host &lt;a&gt;"));
    assert_null (strstr (svg, "host <a>"));
    free (svg);
}

static void test_percentile_ticks_run_to_five_nines (void **state) {
    (void)state;
    double x[] = {0, 5}, y[] = {1000, 2000000};
    fb_svg_series_t s = {"fleet", 2, x, y, -1, false, false};
    fb_svg_chart_t chart = {"spectrum",
                            {"percentile", FB_SVG_PERCENTILE, false, 0, 5},
                            {"latency", FB_SVG_NS, true, 0, 0},
                            0,
                            0,
                            NULL};
    char *svg = s_render (&chart, &s, 1);
    static const char *const ticks[] = {">0%<",    ">90%<",    ">99%<",
                                        ">99.9%<", ">99.99%<", ">99.999%<"};
    for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
        if (!strstr (svg, ticks[i]))
            print_error ("no tick %s\n", ticks[i]);
        assert_non_null (strstr (svg, ticks[i]));
    }
    assert_non_null (strstr (svg, "class=\"series fleet\""));
    free (svg);
}

/* Many hosts: the muted ones are drawn, first (under the named ones), and counted in the
 * legend instead of listed. */
static void test_muted_series_are_drawn_and_counted (void **state) {
    (void)state;
    double x[] = {0, 1}, y[] = {1, 2};
    fb_svg_series_t s[5];
    for (int i = 0; i < 5; i++)
        s[i] = (fb_svg_series_t){i == 4 ? "named" : "grey", 2, x, y, 0, false, i < 4};
    fb_svg_chart_t chart = {
        "t", {"s", FB_SVG_SECONDS, false, 0, 0}, {"ops/s", FB_SVG_RATE, false, 0, 0}, 0, 0, NULL};
    char *svg = s_render (&chart, s, 5);
    assert_int_equal (s_count (svg, "<path class=\"series muted\""), 4);
    assert_int_equal (s_count (svg, "<path class=\"series"), 5);
    assert_true (strstr (svg, "series muted") < strstr (svg, "series c0"));
    assert_non_null (strstr (svg, "(4 more in grey)"));
    free (svg);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_zero_on_a_log_axis_is_a_gap),
        cmocka_unit_test (test_percentile_ticks_run_to_five_nines),
        cmocka_unit_test (test_muted_series_are_drawn_and_counted),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

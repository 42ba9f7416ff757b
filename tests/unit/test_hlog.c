/* test_hlog.c: interval logs as HdrHistogram's HistogramLogWriter writes them, and a log that
 * jHiccup wrote, read back with HdrHistogram's published results. */
#include "common/hlog.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FB_JHICCUP_LOG FB_TEST_DATA "/hdr/jHiccup-2.0.7S.logV2.hlog"

static fb_hist_t *s_sample (void) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    for (int64_t v = 1; v <= 100000; v++)
        fb_hist_record (h, v * 997);
    return h;
}

/* The lines of text, split in place; returns how many. */
static int s_lines (char *text, char **lines, int max) {
    int n = 0;
    for (char *save = NULL, *line = strtok_r (text, "\n", &save); line && n < max;
         line = strtok_r (NULL, "\n", &save))
        lines[n++] = line;
    return n;
}

static void test_header_matches_java_histogram_log_writer (void **state) {
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    fb_err_t err = {0};
    assert_int_equal (fb_hlog_write_header (out, 1441812279.474, &err), 0);
    fclose (out);
    char *lines[8];
    assert_int_equal (s_lines (text, lines, 8), 3);
    assert_string_equal (lines[0], "#[Histogram log format version 1.3]");
    const char *start = "#[StartTime: 1441812279.474 (seconds since epoch), ";
    assert_memory_equal (lines[1], start, strlen (start));
    assert_non_null (strstr (lines[1], " 2015]")); /* the date, Java's Date.toString () form */
    assert_string_equal (lines[2], "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                                   "\"Interval_Compressed_Histogram\"");
    free (text);
    assert_int_equal (fb_hlog_write_header (stdout, NAN, &err), -1);
    assert_non_null (strstr (err.msg, "seconds since the epoch"));
}

static void test_rows_round_trip_with_and_without_tag (void **state) {
    (void)state;
    fb_hist_t *h = s_sample (), *empty = fb_hist_new_default (NULL);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    fb_err_t err = {0};
    assert_int_equal (fb_hlog_write_header (out, 1700000000.25, &err), 0);
    assert_int_equal (fb_hlog_write_interval (out, "host-a/bus/latency", 0.0, 1.0, h, &err), 0);
    assert_int_equal (fb_hlog_write_interval (out, NULL, 1.0, 1.0, empty, &err), 0);
    assert_int_equal (fb_hlog_write_interval (out, "", 2.0, 1.0, h, &err), 0);
    fclose (out);
    char *lines[8];
    assert_int_equal (s_lines (text, lines, 8), 6);
    /* Interval_Max is max / 1e6 with three decimals: 99700000 ns -> 99.7xx ms. */
    char expected[64];
    snprintf (expected, sizeof expected, "Tag=host-a/bus/latency,0.000,1.000,%.3f,HISTFAAA",
              (double)fb_hist_max (h) / 1e6);
    assert_memory_equal (lines[3], expected, strlen (expected));
    assert_memory_equal (lines[4], "1.000,1.000,0.000,HISTFAAA", 26);
    assert_memory_equal (lines[5], "2.000,1.000,", 12);

    double start_time = 0;
    fb_hlog_row_t row;
    int rows = 0;
    for (int i = 0; i < 6; i++) {
        int rc = fb_hlog_parse_line (lines[i], &row, &start_time, &err);
        assert_int_equal (rc, i < 3 ? 0 : 1);
        if (rc == 0) {
            assert_null (row.hist);
            continue;
        }
        const fb_hist_t *want = i == 4 ? empty : h;
        assert_string_equal (row.tag, i == 3 ? "host-a/bus/latency" : "");
        assert_true (row.start_s == (double)(i - 3));
        assert_true (fabs (row.max - round ((double)fb_hist_max (want) / 1e3) / 1e3) < 1e-9);
        assert_int_equal (fb_hist_count (row.hist), fb_hist_count (want));
        assert_int_equal (fb_hist_max (row.hist), fb_hist_max (want));
        assert_int_equal (fb_hist_value_at_percentile (row.hist, 99.0),
                          fb_hist_value_at_percentile (want, 99.0));
        fb_hist_destroy (&row.hist);
        rows++;
    }
    assert_int_equal (rows, 3);
    assert_true (start_time == 1700000000.25);
    free (text);
    fb_hist_destroy (&h);
    fb_hist_destroy (&empty);
}

static void test_tags_that_would_split_the_row_are_refused (void **state) {
    (void)state;
    fb_hist_t *h = s_sample ();
    fb_err_t err = {0};
    const char *bad[] = {
        "a,b", "a b", "line\nbreak",
        ("a-tag-that-is-far-too-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (fb_hlog_write_interval (stdout, bad[i], 0, 1, h, &err), -1);
        assert_non_null (strstr (err.msg, "tag"));
    }
    fb_hist_destroy (&h);
}

/* HdrHistogram_c test/hdr_histogram_log_test.c decode_v2_log and hdrhistogram-go
 * log_writer_test.go assertGoldenInterval0, on the log jHiccup 2.0.7 wrote (tests/data/hdr/). */
static void test_published_jhiccup_log_gives_published_values (void **state) {
    (void)state;
    FILE *in = fopen (FB_JHICCUP_LOG, "r");
    assert_non_null (in);
    fb_hist_t *accum = fb_hist_new (1, INT64_C (3600000000000), 3, NULL);
    fb_hist_t *same_layout = fb_hist_new (20000, INT64_C (3600000000000), 2, NULL);
    char *line = NULL;
    size_t cap = 0;
    double start_time = 0;
    int rows = 0;
    int64_t total = 0;
    fb_err_t err = {0};
    while (getline (&line, &cap, in) > 0) {
        fb_hlog_row_t row;
        int rc = fb_hlog_parse_line (line, &row, &start_time, &err);
        if (rc < 0)
            fail_msg ("%s", err.msg);
        if (rc == 0)
            continue;
        if (rows == 0) {
            assert_int_equal (fb_hist_count (row.hist), 741);
            assert_int_equal (fb_hist_max (row.hist), 2768895);
            assert_int_equal (fb_hist_value_at_percentile (row.hist, 50.0), 344063);
            assert_int_equal (fb_hist_value_at_percentile (row.hist, 99.0), 409599);
            assert_int_equal (llround ((start_time + row.start_s) * 1000), 1441812279601LL);
            assert_int_equal (llround ((start_time + row.start_s + row.length_s) * 1000),
                              1441812280608LL);
            assert_true (row.max == 2.769);
            assert_string_equal (row.tag, "");
        }
        rows++;
        total += fb_hist_count (row.hist);
        /* As hdr_add: every bucket re-recorded at its lowest value. */
        fb_hist_iter_t it;
        fb_hist_iter_init (&it, row.hist);
        while (fb_hist_iter_next (&it))
            fb_hist_record_n (accum, it.value_lowest, it.count);
        assert_int_equal (fb_hist_merge (same_layout, row.hist, &err), 0);
        fb_hist_destroy (&row.hist);
    }
    free (line);
    fclose (in);
    assert_int_equal (rows, 62);
    assert_int_equal (total, 48761);
    assert_true (fabs (start_time - 1441812279.474) < 1e-6);
    assert_int_equal (fb_hist_count (accum), 48761);
    assert_int_equal (fb_hist_value_at_percentile (accum, 99.9), 1745879039);
    assert_int_equal (fb_hist_max (accum), 1796210687);
    assert_int_equal (fb_hist_count (same_layout), 48761);
    assert_int_equal (fb_hist_lowest_equivalent (same_layout, fb_hist_max (same_layout)),
                      fb_hist_lowest_equivalent (same_layout, 1796210687));
    fb_hist_destroy (&accum);
    fb_hist_destroy (&same_layout);
}

static void test_comments_legend_and_blank_lines_are_not_rows (void **state) {
    (void)state;
    const char *lines[] = {"", "\r\n", "#[Logged with jHiccup version 2.0.7-SNAPSHOT]",
                           "#[Histogram log format version 1.2]",
                           ("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                            "\"Interval_Compressed_Histogram\"\n")};
    fb_hlog_row_t row;
    fb_err_t err = {0};
    double start_time = -1;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_int_equal (fb_hlog_parse_line (lines[i], &row, &start_time, &err), 0);
        assert_null (row.hist);
    }
    assert_true (start_time == -1);
    assert_int_equal (
        fb_hlog_parse_line ("#[BaseTime: 12.500 (seconds since epoch)]\n", &row, &start_time, &err),
        0);
    assert_true (start_time == 12.5);
    assert_int_equal (
        fb_hlog_parse_line ("#[StartTime: 7 (seconds since epoch)]", &row, NULL, &err), 0);
}

static void s_assert_malformed (const char *line, const char *words) {
    fb_hlog_row_t row;
    fb_err_t err = {0};
    double start_time = 0;
    int rc = fb_hlog_parse_line (line, &row, &start_time, &err);
    if (rc != -1)
        fail_msg ("\"%s\" gave %d, not an error", line, rc);
    assert_null (row.hist);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, words))
        fail_msg ("error \"%s\" does not say \"%s\"", err.msg, words);
}

static void test_malformed_rows_are_errors (void **state) {
    (void)state;
    const char *hist =
        "HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuATEZMQ4uASkhIR4nrxg9v2lM"
        "axhvMekILGZkKmcCAEf2CsI=";
    char line[512];
    snprintf (line, sizeof line, "0.127,1.007,2.769,%s", hist);
    fb_hlog_row_t row;
    assert_int_equal (fb_hlog_parse_line (line, &row, NULL, NULL), 1); /* the good one */
    fb_hist_destroy (&row.hist);

    s_assert_malformed ("#[StartTime: soon (seconds since epoch)]", "StartTime");
    s_assert_malformed ("Tag=no-comma", "Tag=");
    s_assert_malformed ("1.0,2.0", "Interval_Length");
    s_assert_malformed ("x,1,2,HISTFAAA", "StartTimestamp");
    s_assert_malformed ("1,2,nan,HISTFAAA", "Interval_Max");
    s_assert_malformed ("1,2,3", "Interval_Max");
    s_assert_malformed ("1,2,3,", "base64");
    s_assert_malformed ("1,2,3,HISTF", "base64");
    s_assert_malformed ("1,2,3,!!!!", "base64");
    s_assert_malformed ("1,2,3,AAAAAAAAAAAA", "not an HdrHistogram encoding");
    snprintf (line, sizeof line, "Tag=%0200d,1,2,3,%s", 7, hist);
    s_assert_malformed (line, "Tag=");
    snprintf (line, sizeof line, "0.127,1.007,2.769,%.60s", hist); /* cut short */
    s_assert_malformed (line, "Interval_Compressed_Histogram");
    /* Crafted inputs published in HdrHistogram_c test/hdr_histogram_log_test.c
     * (test_v1_decode_rejects_oversized_counts, test_decode_rejects_crafted_bounds_attacks). */
    s_assert_malformed ("0,1,0,HISTAgAAABp4nJNpmdzIwFDLAAWMaDST/QcGFAAAdaEDZQ==",
                        "unsupported HdrHistogram encoding version");
    s_assert_malformed ("0,1,0,HISTAgAAABl42pNpmdz4////HwwQwIhGMzGgAQD3VgWu",
                        "unsupported HdrHistogram encoding version");
    s_assert_malformed ("0,1,0,HISTCQAAACd4nJNpmSzBwMDAzAABjFCaiQHGGAWjYBSMglEwCkbBSAMNAMTQEdA=",
                        "unsupported HdrHistogram encoding version");
    s_assert_malformed ("0,1,0,HISTBAAAABl4nJNpmcz8HwgYIIARjWay/8CAAgD0TwZm", "payload length");
}

/* Every character of a real row replaced by a few troublemakers: an error or a row, no crash. */
static void test_parse_survives_every_single_character_change (void **state) {
    (void)state;
    fb_hist_t *h = s_sample ();
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_int_equal (fb_hlog_write_interval (out, "t", 1.5, 1.0, h, NULL), 0);
    fclose (out);
    const char swaps[] = {',', '=', 'A', '/', '-', '.', '#', '\n', 'z'};
    for (size_t i = 0; i < size; i++) {
        for (size_t s = 0; s < sizeof swaps; s++) {
            char *copy = strdup (text);
            assert_non_null (copy);
            copy[i] = swaps[s];
            fb_hlog_row_t row;
            fb_err_t err;
            int rc = fb_hlog_parse_line (copy, &row, NULL, &err);
            assert_true (rc >= -1 && rc <= 1);
            fb_hist_destroy (&row.hist);
            free (copy);
        }
    }
    free (text);
    fb_hist_destroy (&h);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_header_matches_java_histogram_log_writer),
        cmocka_unit_test (test_rows_round_trip_with_and_without_tag),
        cmocka_unit_test (test_tags_that_would_split_the_row_are_refused),
        cmocka_unit_test (test_published_jhiccup_log_gives_published_values),
        cmocka_unit_test (test_comments_legend_and_blank_lines_are_not_rows),
        cmocka_unit_test (test_malformed_rows_are_errors),
        cmocka_unit_test (test_parse_survives_every_single_character_change),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

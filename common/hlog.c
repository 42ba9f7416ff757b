/* hlog.c: HdrHistogram interval logs (.hlog): written as Java's HistogramLogWriter writes them,
 * read back one line at a time. Histograms travel as base64 of the V2 compressed encoding. */
#include "common/hlog.h"

#include "common/b64.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FB_HLOG_VERSION "1.3"
#define FB_HLOG_LEGEND                                                                             \
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
/* Wall times beyond this (year 5138) are not a start time but a unit mistake. */
#define FB_HLOG_MAX_START_S 1e11

static int s_write_failed (fb_err_t *err) {
    return fb_err_set (err, FB_ESYS, "could not write the hlog: %s", strerror (errno));
}

int fb_hlog_write_header (FILE *out, double start_time_s, fb_err_t *err) {
    if (!(start_time_s >= 0.0 && start_time_s < FB_HLOG_MAX_START_S))
        return fb_err_set (err, FB_EINPUT,
                           "hlog start time must be seconds since the epoch (got %g)",
                           start_time_s);
    /* The date as Java's Date.toString, for people; readers use the number. */
    char date[64] = "";
    time_t seconds = (time_t)start_time_s;
    struct tm tm;
    if (localtime_r (&seconds, &tm))
        strftime (date, sizeof date, "%a %b %d %H:%M:%S %Z %Y", &tm);
    errno = 0;
    if (fprintf (out,
                 "#[Histogram log format version " FB_HLOG_VERSION "]\n"
                 "#[StartTime: %.3f (seconds since epoch), %s]\n" FB_HLOG_LEGEND "\n",
                 start_time_s, date) < 0)
        return s_write_failed (err);
    return 0;
}

/* Java's HistogramLogWriter refuses the same characters: they would split the row. */
static bool s_tag_is_valid (const char *tag) {
    size_t len = strlen (tag);
    return len < sizeof ((fb_hlog_row_t *)0)->tag && strcspn (tag, ", \t\r\n") == len;
}

int fb_hlog_write_encoded (FILE *out, const char *tag, double start_s, double length_s,
                           int64_t max_value, const uint8_t *bytes, size_t len, fb_err_t *err) {
    bool tagged = tag && *tag;
    if (tagged && !s_tag_is_valid (tag))
        return fb_err_set (err, FB_EINPUT,
                           "hlog tag \"%.64s\" must be under 128 characters with no commas, "
                           "spaces or line breaks",
                           tag);
    char *text = len < INT_MAX / 2 ? fb_b64_encode (bytes, len) : NULL;
    if (!text)
        return fb_err_set (err, FB_ENOMEM, "out of memory writing an hlog row");
    double max = (double)max_value / FB_HLOG_MAX_DIVISOR;
    errno = 0;
    int rc = fprintf (out, "%s%s%s%.3f,%.3f,%.3f,%s\n", tagged ? "Tag=" : "", tagged ? tag : "",
                      tagged ? "," : "", start_s, length_s, max, text);
    free (text);
    return rc < 0 ? s_write_failed (err) : 0;
}

int fb_hlog_write_interval (FILE *out, const char *tag, double start_s, double length_s,
                            const fb_hist_t *hist, fb_err_t *err) {
    uint8_t *bin;
    size_t bin_len;
    if (fb_hist_encode (hist, &bin, &bin_len, err) != 0)
        return -1;
    int rc =
        fb_hlog_write_encoded (out, tag, start_s, length_s, fb_hist_max (hist), bin, bin_len, err);
    free (bin);
    return rc;
}

/* "#[StartTime: X ..." and "#[BaseTime: X ..." set *start_time_s; other comments are skipped. */
static int s_parse_comment (const char *line, double *start_time_s, fb_err_t *err) {
    static const char *const prefixes[] = {"#[StartTime: ", "#[BaseTime: "};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen (prefixes[i]);
        if (strncmp (line, prefixes[i], n) != 0)
            continue;
        char *end;
        double seconds = strtod (line + n, &end);
        if (end == line + n || !isfinite (seconds) || (*end != ' ' && *end != ']'))
            return fb_err_set (err, FB_EINPUT,
                               "hlog %.*s is not followed by seconds since the epoch", (int)n - 4,
                               prefixes[i] + 2);
        if (start_time_s)
            *start_time_s = seconds;
        return 0;
    }
    return 0;
}

/* Reads a number that ends at a comma; *p moves past the comma. */
static int s_parse_number (const char **p, const char *name, double *value, fb_err_t *err) {
    char *end;
    errno = 0;
    *value = strtod (*p, &end);
    if (end == *p || *end != ',' || !isfinite (*value) || errno == ERANGE)
        return fb_err_set (err, FB_EINPUT, "hlog row: %s is not a number followed by a comma",
                           name);
    *p = end + 1;
    return 0;
}

static fb_hist_t *s_parse_histogram (const char *text, size_t len, fb_err_t *err) {
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    if (len == 0 || fb_b64_decode (text, len, &bin, &bin_len, err) != 0) {
        fb_err_set (err, FB_EINPUT, "hlog row: Interval_Compressed_Histogram is not valid base64");
        return NULL;
    }
    fb_hist_t *hist = fb_hist_decode (bin, bin_len, err);
    if (!hist)
        fb_err_prefix (err, "hlog row: Interval_Compressed_Histogram");
    free (bin);
    return hist;
}

static fb_hist_compact_t *s_parse_compact (const char *text, size_t len, fb_err_t *err) {
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    if (len == 0 || fb_b64_decode (text, len, &bin, &bin_len, err) != 0) {
        fb_err_set (err, FB_EINPUT, "hlog row: Interval_Compressed_Histogram is not valid base64");
        return NULL;
    }
    fb_hist_compact_t *hist = fb_hist_compact_decode (bin, bin_len, err);
    if (!hist)
        fb_err_prefix (err, "hlog row: Interval_Compressed_Histogram");
    free (bin);
    return hist;
}

static int s_parse_row (const char *line, size_t len, fb_hlog_row_t *row,
                        fb_hist_compact_t **compact, fb_err_t *err) {
    const char *p = line;
    if (strncmp (p, "Tag=", 4) == 0) {
        const char *comma = memchr (p + 4, ',', len - 4);
        size_t tag_len = comma ? (size_t)(comma - (p + 4)) : len;
        if (!comma || tag_len >= sizeof row->tag)
            return fb_err_set (err, FB_EINPUT,
                               "hlog row: Tag= must be under %zu characters and end with a comma",
                               sizeof row->tag);
        memcpy (row->tag, p + 4, tag_len);
        row->tag[tag_len] = '\0';
        p = comma + 1;
    }
    if (s_parse_number (&p, "StartTimestamp", &row->start_s, err) != 0 ||
        s_parse_number (&p, "Interval_Length", &row->length_s, err) != 0 ||
        s_parse_number (&p, "Interval_Max", &row->max, err) != 0)
        return -1;
    if (compact) {
        *compact = s_parse_compact (p, len - (size_t)(p - line), err);
        return *compact ? 1 : -1;
    }
    row->hist = s_parse_histogram (p, len - (size_t)(p - line), err);
    return row->hist ? 1 : -1;
}

static int s_parse_line (const char *line, fb_hlog_row_t *row, double *start_time_s,
                         fb_hist_compact_t **compact, fb_err_t *err) {
    memset (row, 0, sizeof *row);
    if (compact)
        *compact = NULL;
    if (!line)
        return fb_err_set (err, FB_EINPUT, "hlog line is missing");
    size_t len = strlen (line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    if (line[0] == '#')
        return s_parse_comment (line, start_time_s, err);
    if (line[0] == '"') /* the column names */
        return 0;
    return s_parse_row (line, len, row, compact, err) == 1 ? 1 : -1;
}

int fb_hlog_parse_line (const char *line, fb_hlog_row_t *row, double *start_time_s, fb_err_t *err) {
    return s_parse_line (line, row, start_time_s, NULL, err);
}

int fb_hlog_parse_line_compact (const char *line, fb_hlog_row_t *row, fb_hist_compact_t **hist,
                                fb_err_t *err) {
    return s_parse_line (line, row, NULL, hist, err);
}

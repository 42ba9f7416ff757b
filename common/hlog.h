/* hlog.h: HdrHistogram interval logs (the .hlog text format of HistogramLogWriter/Reader):
 *   #[Histogram log format version 1.3]
 *   #[StartTime: 1700000000.000 (seconds since epoch), <human date>]
 *   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
 *   Tag=host/workload/metric,0.000,1.000,2.345,HISTFAAAA...
 * Timestamps are seconds relative to StartTime; Interval_Max is the interval's max value
 * divided by max_value_divisor (1e6: ns recorded, ms shown, as HdrHistogram's tools expect). */
#ifndef FB_HLOG_H
#define FB_HLOG_H

#include "common/err.h"
#include "common/hist.h"
#include "common/hist_compact.h"

#include <stdio.h>

#define FB_HLOG_MAX_DIVISOR 1e6

/* Writes the three header lines. start_time_s: seconds since the epoch. */
int fb_hlog_write_header (FILE *out, double start_time_s, fb_err_t *err);
/* Writes one interval row; tag may be NULL (no Tag= prefix). start_s relative to StartTime. */
int fb_hlog_write_interval (FILE *out, const char *tag, double start_s, double length_s,
                            const fb_hist_t *hist, fb_err_t *err);

/* The same row from an already encoded histogram (V2 compressed bytes, as a Report carries
 * them), so a coordinator writes what it received without encoding it again. */
int fb_hlog_write_encoded (FILE *out, const char *tag, double start_s, double length_s,
                           int64_t max_value, const uint8_t *bytes, size_t len, fb_err_t *err);

typedef struct {
    char tag[128]; /* "" when the row has no tag */
    double start_s;
    double length_s;
    double max;      /* as written (divided) */
    fb_hist_t *hist; /* owned by the caller after a successful parse: fb_hist_destroy it */
} fb_hlog_row_t;

/* Parses one line. Returns 1 and fills row for an interval row, 0 for a header, comment,
 * column-names or blank line (row->hist NULL), -1 and err for a malformed line. When the line
 * is "#[StartTime: X ...]" or "#[BaseTime: X ...]", *start_time_s (if not NULL) is set to X. */
int fb_hlog_parse_line (const char *line, fb_hlog_row_t *row, double *start_time_s, fb_err_t *err);
/* The same with the histogram decoded straight into the compact form (*hist, the caller's to
 * destroy; row->hist stays NULL): what a reader of many rows uses, its cost the buckets used. */
int fb_hlog_parse_line_compact (const char *line, fb_hlog_row_t *row, fb_hist_compact_t **hist,
                                fb_err_t *err);

#endif

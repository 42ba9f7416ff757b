/* fuzz_hlog.c: fb_hlog_parse_line and fb_hlog_parse_line_compact (what the coordinator reads
 * .hlog files back with) on arbitrary lines (`coord compare` and `coord report` read .hlog files
 * other tools may have written). Both must take or refuse a line alike, with the same tag and
 * counts; a row that parses and that our writer accepts must read back with the same tag and
 * counts. */
#include "common/hist_compact.h"
#include "common/hlog.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

static void s_write_back (const fb_hlog_row_t *row) {
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream (&text, &text_len);
    FB_FUZZ_CHECK (out != NULL, "open_memstream failed");
    fb_err_t err = {0};
    /* The reader takes tags the writer refuses (spaces): only what was written is re-read. */
    int rc = fb_hlog_write_interval (out, row->tag[0] ? row->tag : NULL, row->start_s,
                                     row->length_s, row->hist, &err);
    fclose (out);
    if (rc == 0) {
        fb_hlog_row_t again;
        int parsed = fb_hlog_parse_line (text, &again, NULL, &err);
        FB_FUZZ_CHECK (parsed == 1, "a row we wrote does not read back (%d): %s [%s]", parsed,
                       err.msg, text);
        FB_FUZZ_CHECK (strcmp (again.tag, row->tag) == 0, "tag \"%s\" came back as \"%s\"",
                       row->tag, again.tag);
        FB_FUZZ_CHECK (fb_hist_count (again.hist) == fb_hist_count (row->hist) &&
                           fb_hist_max (again.hist) == fb_hist_max (row->hist),
                       "the histogram changed on a round trip");
        fb_hist_destroy (&again.hist);
    }
    free (text);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    char *line = malloc (size + 1); /* lines come from fgets: NUL-terminated */
    if (!line)
        return 0;
    memcpy (line, data, size);
    line[size] = '\0';
    fb_hlog_row_t row;
    double start_time_s = -1;
    fb_err_t err = {0};
    int rc = fb_hlog_parse_line (line, &row, &start_time_s, &err);
    FB_FUZZ_CHECK (rc >= -1 && rc <= 1, "returned %d", rc);
    fb_hlog_row_t compact_row;
    fb_hist_compact_t *compact = NULL;
    int compact_rc = fb_hlog_parse_line_compact (line, &compact_row, &compact, &err);
    FB_FUZZ_CHECK (compact_rc == rc, "the compact reader returned %d, the full one %d", compact_rc,
                   rc);
    FB_FUZZ_CHECK ((compact_rc == 1) == (compact != NULL), "compact: returned %d with hist %p",
                   compact_rc, (void *)compact);
    if (rc == 1 && compact_rc == 1) {
        FB_FUZZ_CHECK (strcmp (compact_row.tag, row.tag) == 0, "the readers' tags differ");
        FB_FUZZ_CHECK (fb_hist_compact_count (compact) == fb_hist_count (row.hist),
                       "the readers' counts differ");
    }
    fb_hist_compact_destroy (&compact);
    FB_FUZZ_CHECK ((rc == 1) == (row.hist != NULL), "returned %d with hist %p", rc,
                   (void *)row.hist);
    if (rc == -1)
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
    if (rc == 1) {
        FB_FUZZ_CHECK (memchr (row.tag, '\0', sizeof row.tag) != NULL, "tag is not terminated");
        s_write_back (&row);
        fb_hist_destroy (&row.hist);
    }
    free (line);
    return 0;
}

/* fuzz_hlog.c: fb_hlog_parse_line on arbitrary lines (`coord compare` and the tests read .hlog
 * files other tools wrote). A row that parses and that our writer accepts must read back with
 * the same tag and counts. */
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

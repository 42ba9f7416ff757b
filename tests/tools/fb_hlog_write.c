/* fb_hlog_write.c: a test tool that writes a one-interval .hlog from values given on the command
 * line and prints the percentiles fleetbench reads from it, so a test can hand the same file to
 * HdrHistogram's own HistogramLogProcessor and compare the two.
 *
 *   fb_hlog_write FILE TAG VALUE:COUNT...
 *
 * Prints "count,p50,p90,p99,p99.9,p99.99,max" (values in ns), the columns of the processor's
 * Total_ figures. Exit 0 on success, 1 when the file cannot be written, 2 for a wrong command
 * line. */
#include "common/hist.h"
#include "common/hlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main (int argc, char **argv) {
    if (argc < 4) {
        fprintf (stderr, "usage: fb_hlog_write FILE TAG VALUE:COUNT...\n");
        return 2;
    }
    fb_err_t err = {0};
    fb_hist_t *hist = fb_hist_new_default (&err);
    if (!hist) {
        fprintf (stderr, "fb_hlog_write: %s\n", err.msg);
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        long long value, count;
        char tail;
        if (sscanf (argv[i], "%lld:%lld%c", &value, &count, &tail) != 2 || value < 1 || count < 1) {
            fprintf (stderr, "fb_hlog_write: expected VALUE:COUNT, got \"%s\"\n", argv[i]);
            fb_hist_destroy (&hist);
            return 2;
        }
        fb_hist_record_n (hist, value, count);
    }
    FILE *out = fopen (argv[1], "w");
    int rc = out && fb_hlog_write_header (out, 1700000000.0, &err) == 0 &&
                     fb_hlog_write_interval (out, argv[2], 0.0, 1.0, hist, &err) == 0
                 ? 0
                 : 1;
    if (out && fclose (out) != 0)
        rc = 1;
    if (rc != 0)
        fprintf (stderr, "fb_hlog_write: cannot write %s: %s\n", argv[1],
                 err.msg[0] ? err.msg : "open or close failed");
    else
        printf ("%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
                "\n",
                fb_hist_count (hist), fb_hist_value_at_percentile (hist, 50),
                fb_hist_value_at_percentile (hist, 90), fb_hist_value_at_percentile (hist, 99),
                fb_hist_value_at_percentile (hist, 99.9), fb_hist_value_at_percentile (hist, 99.99),
                fb_hist_max (hist));
    fb_hist_destroy (&hist);
    return rc;
}

/* fuzz_report.c: a results folder's run.json -> report.html, as `coord report RUN_DIR` reads
 * a folder someone copied, cut short or edited. Whatever the file holds, the page is written
 * or the error says why; nothing crashes, leaks or reads past a value. */
#include "coordinator/html.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    if (!s_dir[0]) {
        snprintf (s_dir, sizeof s_dir, "/tmp/fleetbench-fuzz-report.XXXXXX");
        FB_FUZZ_CHECK (mkdtemp (s_dir) != NULL, "no temp folder");
    }
    char path[128];
    snprintf (path, sizeof path, "%s/run.json", s_dir);
    FILE *f = fopen (path, "w");
    FB_FUZZ_CHECK (f != NULL, "cannot write %s", path);
    FB_FUZZ_CHECK (fwrite (data, 1, size, f) == size && fclose (f) == 0, "cannot write %s", path);
    fb_err_t err = {0};
    snprintf (path, sizeof path, "%s/report.html", s_dir);
    unlink (path);
    if (fb_html_write_dir (s_dir, &err) == 0)
        FB_FUZZ_CHECK (access (path, R_OK) == 0, "written, but there is no %s", path);
    else
        FB_FUZZ_CHECK (err.msg[0] != '\0' && strstr (err.msg, s_dir),
                       "refused without naming "
                       "the file: %s",
                       err.msg);
    return 0;
}

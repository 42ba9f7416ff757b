/* test_files.c: results files through a temp name: whole or absent, never half, never a .tmp
 * left, and every failure names the file. Failures come from a file size limit (RLIMIT_FSIZE),
 * which makes write() fail with EFBIG the way a full disk fails with ENOSPC. */
#include "common/files.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char s_dir[64];

static int s_setup (void **state) {
    (void)state;
    signal (SIGXFSZ, SIG_IGN); /* EFBIG instead of a kill */
    snprintf (s_dir, sizeof s_dir, "/tmp/fb-test-files.XXXXXX");
    return mkdtemp (s_dir) ? 0 : -1;
}

static int s_teardown (void **state) {
    (void)state;
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system (cmd) == 0 ? 0 : -1;
}

static void s_limit_size (rlim_t bytes) {
    struct rlimit lim;
    assert_int_equal (getrlimit (RLIMIT_FSIZE, &lim), 0);
    lim.rlim_cur = bytes;
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);
}

static bool s_exists (const char *path) {
    struct stat st;
    return stat (path, &st) == 0;
}

static void test_a_file_too_big_for_the_disk_is_an_error_and_leaves_nothing (void **state) {
    (void)state;
    char path[128], tmp[140];
    snprintf (path, sizeof path, "%s/run.json", s_dir);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    size_t len = 256 * 1024;
    char *text = malloc (len);
    assert_non_null (text);
    memset (text, 'x', len);
    s_limit_size (4096);
    fb_err_t err = {0};
    int rc = fb_files_write (path, text, len, &err);
    s_limit_size (RLIM_INFINITY);
    free (text);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err.msg, path));
    assert_non_null (strstr (err.msg, strerror (EFBIG)));
    assert_false (s_exists (path));
    assert_false (s_exists (tmp));
}

static void test_a_small_file_is_written_whole (void **state) {
    (void)state;
    char path[128], tmp[140], back[16] = "";
    snprintf (path, sizeof path, "%s/junit.xml", s_dir);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    fb_err_t err = {0};
    assert_int_equal (fb_files_write (path, "<ok/>\n", 6, &err), 0);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    assert_non_null (fgets (back, sizeof back, f));
    fclose (f);
    assert_string_equal (back, "<ok/>\n");
    assert_false (s_exists (tmp));
}

/* An interval log holds no descriptor between writes, and a write the disk refuses shows at
 * the pause that follows it (stdio buffers the write itself). */
static void test_a_paused_file_holds_no_descriptor_and_reports_a_lost_write (void **state) {
    (void)state;
    char path[128], tmp[140];
    snprintf (path, sizeof path, "%s/a.hlog", s_dir);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    fb_file_t file = {0};
    fb_err_t err = {0};
    assert_int_equal (fb_files_open (&file, path, &err), 0);
    fputs ("one\n", file.f);
    assert_int_equal (fb_files_pause (&file, &err), 0);
    assert_null (file.f);
    assert_int_equal (fb_files_resume (&file, &err), 0);
    fputs ("two\n", file.f);
    assert_int_equal (fb_files_pause (&file, &err), 0);
    assert_int_equal (fb_files_resume (&file, &err), 0);
    s_limit_size (64);
    for (int i = 0; i < 100; i++)
        fputs ("a row longer than the limit allows\n", file.f);
    int rc = fb_files_pause (&file, &err);
    s_limit_size (RLIM_INFINITY);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err.msg, path));
    fb_files_discard (&file);
    assert_false (s_exists (tmp));

    assert_int_equal (fb_files_open (&file, path, &err), 0);
    fputs ("one\n", file.f);
    assert_int_equal (fb_files_pause (&file, &err), 0);
    assert_int_equal (fb_files_sync (s_dir, &err), 0); /* one flush, then renames */
    assert_int_equal (fb_files_commit (&file, false, &err), 0);
    assert_true (s_exists (path));
    assert_false (s_exists (tmp));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_file_too_big_for_the_disk_is_an_error_and_leaves_nothing),
        cmocka_unit_test (test_a_small_file_is_written_whole),
        cmocka_unit_test (test_a_paused_file_holds_no_descriptor_and_reports_a_lost_write),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

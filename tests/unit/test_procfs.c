/* test_procfs.c: kB fields of /proc-style files read in bytes. */
#include "common/procfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

static void test_field_is_read_in_bytes_and_a_prefix_is_not_a_match (void **state) {
    (void)state;
    char path[] = "/tmp/fb-procfs-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    fputs ("Name:\tx\nVmRSSx:\t7 kB\nVmHWM:\t   2048 kB\nVmRSS:\t    1234 kB\n", f);
    fclose (f);
    assert_int_equal (fb_procfs_kb_field (path, "VmRSS"), 1234 * 1024);
    assert_int_equal (fb_procfs_kb_field (path, "VmHWM"), 2048 * 1024);
    assert_int_equal (fb_procfs_kb_field (path, "MemTotal"), 0);
    unlink (path);
    assert_int_equal (fb_procfs_kb_field (path, "VmRSS"), 0);
}

static void test_this_process_has_a_resident_size (void **state) {
    (void)state;
    assert_true (fb_procfs_status_bytes (0, "VmRSS") > 0);
    assert_int_equal (fb_procfs_status_bytes (getpid (), "NoSuchField"), 0);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_field_is_read_in_bytes_and_a_prefix_is_not_a_match),
        cmocka_unit_test (test_this_process_has_a_resident_size),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

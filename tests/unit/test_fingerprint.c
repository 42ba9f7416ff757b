/* test_fingerprint.c: the fingerprint of the machine running the tests agrees with what
 * uname, sysconf and the build say. */
#include "common/fingerprint.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

static void s_assert_terminated (const char *field, size_t cap) {
    assert_non_null (memchr (field, '\0', cap));
}

static void test_fingerprint_matches_this_machine (void **state) {
    (void)state;
    fb_fingerprint_t fp;
    memset (&fp, 0x55, sizeof fp); /* every field must be written, not left as it was */
    fb_fingerprint_read (&fp);
    struct utsname uts;
    assert_int_equal (uname (&uts), 0);
    assert_string_equal (fp.arch, uts.machine);
    assert_true (fp.kernel[0] != '\0');
    assert_int_equal (strncmp (fp.kernel, uts.release, sizeof fp.kernel - 1), 0);
    assert_true (fp.cores >= 1);
    assert_true (fp.memory_bytes > 0);
    assert_int_equal (strncmp (fp.openssl, "OpenSSL", 7), 0);
    assert_string_equal (fp.build, FB_BUILD);
    assert_int_equal (strncmp (fp.libc, "glibc 2.", 8), 0);
    assert_true (fp.mhz_max >= 0 && fp.mhz_min >= 0);
    s_assert_terminated (fp.hostname, sizeof fp.hostname);
    s_assert_terminated (fp.cpu_model, sizeof fp.cpu_model);
    s_assert_terminated (fp.clocksource, sizeof fp.clocksource);
    s_assert_terminated (fp.board, sizeof fp.board);
    s_assert_terminated (fp.cpu_flags, sizeof fp.cpu_flags);
    s_assert_terminated (fp.throttling, sizeof fp.throttling);
    print_message ("%s %s \"%s\" %d cores %d-%d MHz %lld bytes, %s, %s, clock %s, board \"%s\", "
                   "flags \"%s\"\n",
                   fp.hostname, fp.arch, fp.cpu_model, fp.cores, fp.mhz_min, fp.mhz_max,
                   (long long)fp.memory_bytes, fp.libc, fp.openssl, fp.clocksource, fp.board,
                   fp.cpu_flags);
}

static void test_cores_are_the_online_cpus (void **state) {
    (void)state;
    fb_fingerprint_t fp;
    fb_fingerprint_read (&fp);
    assert_int_equal (fp.cores, (int)sysconf (_SC_NPROCESSORS_ONLN));
}

static void test_cpu_flags_are_only_the_known_ones (void **state) {
    (void)state;
    static const char *known[] = {"aes", "sha1", "sha2", "pmull", "neon", "asimd", "avx2"};
    fb_fingerprint_t fp;
    fb_fingerprint_read (&fp);
    char flags[sizeof fp.cpu_flags];
    memcpy (flags, fp.cpu_flags, sizeof flags);
    char *save = NULL;
    for (char *w = strtok_r (flags, " ", &save); w; w = strtok_r (NULL, " ", &save)) {
        int found = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            found |= strcmp (w, known[i]) == 0;
        if (!found)
            fail_msg ("unexpected cpu flag \"%s\" in \"%s\"", w, fp.cpu_flags);
    }
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fingerprint_matches_this_machine),
        cmocka_unit_test (test_cores_are_the_online_cpus),
        cmocka_unit_test (test_cpu_flags_are_only_the_known_ones),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_compat.c: when a baseline is comparable with a run, and what the message says. */
#include "coordinator/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* A format-2 baseline of one run on one host, workload "bus" at 1000/s, handler_work 10us. */
static json_t *s_baseline (void) {
    json_t *b = json_loads (
        "{\"fleetbench_baseline\":2,\"scenario\":{\"name\":\"s\"},"
        "\"runs\":[{\"run_id\":\"r1\",\"fleetbench\":\"0.9.0\",\"hosts\":[{\"id\":\"a\","
        "\"fingerprint\":{\"cpu_model\":\"Cortex-A72\",\"cores\":4,\"board\":\"Pi 4\","
        "\"kernel\":\"6.1.0-rpi7\"}}]}],"
        "\"workloads\":[{\"name\":\"bus\",\"params\":{\"handler_work\":\"10us\"},"
        "\"rate_per_s\":1000}]}",
        0, NULL);
    assert_non_null (b);
    return b;
}

typedef struct {
    char why[400], note[400];
    unsigned differs;
} s_result_t;

static s_result_t s_check (const char *cpu, int cores, const char *kernel, const char *work,
                           double rate, const char *version, const char *allow_text) {
    json_t *b = s_baseline ();
    char key[200];
    const char *keys[1] = {fb_compat_host_key (cpu, cores, "Pi 4", kernel, key, sizeof key)};
    json_t *params = json_pack ("{s:s}", "handler_work", work);
    fb_compat_run_t run = {keys, 1, params, rate, version, false};
    unsigned allow = 0;
    assert_int_equal (fb_compat_allow_parse (allow_text, &allow, NULL), 0);
    s_result_t r;
    r.differs = fb_compat_check (b, "bus", &run, allow, r.why, sizeof r.why, r.note, sizeof r.note);
    json_decref (params);
    json_decref (b);
    return r;
}

static void test_same_hosts_params_and_version_are_comparable (void **state) {
    (void)state;
    /* the kernel's patch level does not matter, its major version does */
    s_result_t r = s_check ("Cortex-A72", 4, "6.6.31-v8", "10us", 1000, "0.9.0", "");
    assert_int_equal (r.differs, 0);
    assert_string_equal (r.why, "");
    assert_string_equal (r.note, "");
}

static void test_other_cpu_cores_or_kernel_major_is_incomparable (void **state) {
    (void)state;
    s_result_t r = s_check ("Cortex-A76", 4, "6.1.0", "10us", 1000, "0.9.0", "");
    assert_int_equal (r.differs, FB_COMPAT_HOST);
    assert_non_null (strstr (r.why, "baseline ran on Cortex-A72 on Pi 4, 4 cores, kernel 6, this "
                                    "run on Cortex-A76 on Pi 4, 4 cores, kernel 6"));
    assert_int_equal (s_check ("Cortex-A72", 2, "6.1.0", "10us", 1000, "0.9.0", "").differs,
                      FB_COMPAT_HOST);
    assert_int_equal (s_check ("Cortex-A72", 4, "5.15.0", "10us", 1000, "0.9.0", "").differs,
                      FB_COMPAT_HOST);
}

static void test_other_params_rate_or_version_is_incomparable (void **state) {
    (void)state;
    s_result_t r = s_check ("Cortex-A72", 4, "6.1.0", "50us", 1000, "0.9.0", "");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS);
    assert_string_equal (r.why, "baseline ran with handler_work=10us, this run with "
                                "handler_work=50us");
    r = s_check ("Cortex-A72", 4, "6.1.0", "10us", 500, "0.9.0", "");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS);
    assert_non_null (strstr (r.why, "baseline ran at 1000/s, this run at 500/s"));
    r = s_check ("Cortex-A72", 4, "6.1.0", "10us", 1000, "0.10.0", "");
    assert_int_equal (r.differs, FB_COMPAT_BUILD);
    assert_non_null (strstr (r.why, "fleetbench 0.9.0, this run by 0.10.0"));
}

static void test_an_allowed_difference_is_recorded_not_judged (void **state) {
    (void)state;
    s_result_t r = s_check ("Cortex-A76", 4, "6.1.0", "50us", 1000, "0.9.0", "host");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS); /* host allowed, params not */
    assert_non_null (strstr (r.why, "handler_work"));
    assert_non_null (strstr (r.note, "allowed: baseline ran on Cortex-A72"));
    r = s_check ("Cortex-A76", 4, "6.1.0", "50us", 1000, "0.9.0", "host,params");
    assert_int_equal (r.differs, 0);
    assert_non_null (strstr (r.note, "allowed: baseline ran with handler_work=10us"));
    unsigned allow = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_compat_allow_parse ("hosts", &allow, &err), -1);
    assert_non_null (strstr (err.msg, "expected host, params or build"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_hosts_params_and_version_are_comparable),
        cmocka_unit_test (test_other_cpu_cores_or_kernel_major_is_incomparable),
        cmocka_unit_test (test_other_params_rate_or_version_is_incomparable),
        cmocka_unit_test (test_an_allowed_difference_is_recorded_not_judged),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

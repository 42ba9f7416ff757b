/* test_compat.c: when a baseline is comparable with a run, and what the message says. */
#include "coordinator/compat.h"
#include "coordinator/paramjson.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* eventbus's params with handler_work set to work. */
static fb_params_t s_params (const char *work) {
    fb_params_t params;
    const fb_workload_t *wl = fb_workload_find ("eventbus");
    assert_non_null (wl);
    assert_int_equal (fb_params_init (&params, wl, NULL), 0);
    assert_int_equal (fb_params_set (&params, "handler_work", work, NULL), 0);
    return params;
}

/* A format-2 baseline of one run on one host, workload "bus" at 1000/s with params (typed, as
 * run.json of schema_version 2 has them, or text under schema_version 1 and before). */
static json_t *s_baseline_with (int schema_version, json_t *params) {
    json_t *b = json_loads (
        "{\"fleetbench_baseline\":2,\"scenario\":{\"name\":\"s\"},"
        "\"runs\":[{\"run_id\":\"r1\",\"fleetbench\":\"0.9.0\",\"hosts\":[{\"id\":\"a\","
        "\"fingerprint\":{\"cpu_model\":\"Cortex-A72\",\"cores\":4,\"board\":\"Pi 4\","
        "\"kernel\":\"6.1.0-rpi7\"}}]}],"
        "\"workloads\":[{\"name\":\"bus\",\"rate_per_s\":1000}]}",
        0, NULL);
    assert_non_null (b);
    assert_non_null (params);
    if (schema_version > 0)
        json_object_set_new (b, "schema_version", json_integer (schema_version));
    /* through text, as a baseline is read from its file */
    char *text = json_dumps (params, 0);
    json_decref (params);
    assert_non_null (text);
    json_object_set_new (json_array_get (json_object_get (b, "workloads"), 0), "params",
                         json_loads (text, 0, NULL));
    free (text);
    return b;
}

/* schema_version 1's params: every param of the kind as its text. */
static json_t *s_text_params (const fb_params_t *params) {
    json_t *out = json_object ();
    for (int p = 0; p < params->n; p++)
        json_object_set_new (out, params->v[p].spec->name, json_string (params->v[p].text));
    return out;
}

static json_t *s_baseline (void) {
    fb_params_t params = s_params ("10us");
    return s_baseline_with (2, fb_paramjson_encode (&params));
}

typedef struct {
    char why[400], note[400];
    unsigned differs;
} s_result_t;

static s_result_t s_check_against (json_t *b, const char *cpu, int cores, const char *kernel,
                                   const char *work, double rate, const char *version,
                                   const char *allow_text) {
    char key[200];
    const char *keys[1] = {fb_compat_host_key (cpu, cores, "Pi 4", kernel, key, sizeof key)};
    fb_params_t resolved = s_params (work);
    json_t *params = fb_paramjson_encode (&resolved);
    fb_compat_run_t run = {keys, 1, params, rate, version, &resolved, false, NULL};
    unsigned allow = 0;
    assert_int_equal (fb_compat_allow_parse (allow_text, &allow, NULL), 0);
    s_result_t r;
    r.differs = fb_compat_check (b, "bus", &run, allow, r.why, sizeof r.why, r.note, sizeof r.note);
    json_decref (params);
    json_decref (b);
    return r;
}

static s_result_t s_check (const char *cpu, int cores, const char *kernel, const char *work,
                           double rate, const char *version, const char *allow_text) {
    return s_check_against (s_baseline (), cpu, cores, kernel, work, rate, version, allow_text);
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
    assert_string_equal (r.why, "baseline ran with handler_work_ns=10000, this run with "
                                "handler_work_ns=50000");
    r = s_check ("Cortex-A72", 4, "6.1.0", "10us", 500, "0.9.0", "");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS);
    assert_non_null (strstr (r.why, "baseline ran at 1000/s, this run at 500/s"));
    r = s_check ("Cortex-A72", 4, "6.1.0", "10us", 1000, "0.10.0", "");
    assert_int_equal (r.differs, FB_COMPAT_BUILD);
    assert_non_null (strstr (r.why, "fleetbench 0.9.0, this run by 0.10.0"));
}

/* The load shape (stages, ramp, arrivals, capacity) is part of a workload's setting: two
 * staged runs with the same peak rate but other stages are incomparable. */
static void test_other_load_shape_is_incomparable (void **state) {
    (void)state;
    const char *shape_a = "{\"stages\":[{\"duration_s\":1,\"rate_per_s\":500},{\"duration_s\":1,"
                          "\"rate_per_s\":1000}],\"ramp\":\"step\",\"arrivals\":\"uniform\"}";
    const char *shape_b = "{\"stages\":[{\"duration_s\":1,\"rate_per_s\":1000},{\"duration_s\":1,"
                          "\"rate_per_s\":1000}],\"ramp\":\"step\",\"arrivals\":\"uniform\"}";
    for (int same = 0; same < 2; same++) {
        json_t *b = s_baseline ();
        json_t *bw = json_array_get (json_object_get (b, "workloads"), 0);
        json_t *shape_json = json_loads (shape_a, 0, NULL);
        json_object_update (bw, shape_json);
        json_decref (shape_json);
        json_t *shape = json_loads (same ? shape_a : shape_b, 0, NULL);
        char key[200], why[400] = "", note[400] = "";
        const char *keys[1] = {
            fb_compat_host_key ("Cortex-A72", 4, "Pi 4", "6.1.0", key, sizeof key)};
        fb_params_t resolved = s_params ("10us");
        json_t *params = fb_paramjson_encode (&resolved);
        fb_compat_run_t run = {keys, 1, params, 1000, "0.9.0", &resolved, false, shape};
        unsigned differs = fb_compat_check (b, "bus", &run, 0, why, sizeof why, note, sizeof note);
        if (same) {
            assert_int_equal (differs, 0);
        } else {
            assert_int_equal (differs, FB_COMPAT_PARAMS);
            assert_non_null (strstr (why, "baseline ran with stages"));
        }
        json_decref (params);
        json_decref (shape);
        json_decref (b);
    }
}

static void test_an_allowed_difference_is_recorded_not_judged (void **state) {
    (void)state;
    s_result_t r = s_check ("Cortex-A76", 4, "6.1.0", "50us", 1000, "0.9.0", "host");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS); /* host allowed, params not */
    assert_non_null (strstr (r.why, "handler_work"));
    assert_non_null (strstr (r.note, "allowed: baseline ran on Cortex-A72"));
    r = s_check ("Cortex-A76", 4, "6.1.0", "50us", 1000, "0.9.0", "host,params");
    assert_int_equal (r.differs, 0);
    assert_non_null (strstr (r.note, "allowed: baseline ran with handler_work_ns=10000"));
    unsigned allow = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_compat_allow_parse ("hosts", &allow, &err), -1);
    assert_non_null (strstr (err.msg, "expected host, params or build"));
}

/* Typed values compare by value: 10us and 10000ns are the same param. */
static void test_params_compare_by_value_not_text (void **state) {
    (void)state;
    s_result_t r = s_check ("Cortex-A72", 4, "6.1.0", "10000ns", 1000, "0.9.0", "");
    assert_int_equal (r.differs, 0);
    assert_string_equal (r.why, "");
}

/* A baseline saved before params were typed (schema_version 1, or none before that) holds
 * every param as text: it is read by the run's specs, so identical params compare equal and
 * a real difference is named with its unit. */
static void test_baseline_of_text_params_compares_by_value (void **state) {
    (void)state;
    for (int version = 0; version <= 1; version++) {
        fb_params_t old = s_params ("10us");
        json_t *b = s_baseline_with (version, s_text_params (&old));
        s_result_t r = s_check_against (b, "Cortex-A72", 4, "6.1.0", "10us", 1000, "0.9.0", "");
        assert_int_equal (r.differs, 0);
        assert_string_equal (r.why, "");
        b = s_baseline_with (version, s_text_params (&old));
        r = s_check_against (b, "Cortex-A72", 4, "6.1.0", "10000ns", 1000, "0.9.0", "");
        assert_int_equal (r.differs, 0);
        b = s_baseline_with (version, s_text_params (&old));
        r = s_check_against (b, "Cortex-A72", 4, "6.1.0", "50us", 1000, "0.9.0", "");
        assert_int_equal (r.differs, FB_COMPAT_PARAMS);
        assert_string_equal (r.why, "baseline ran with handler_work_ns=10000, this run with "
                                    "handler_work_ns=50000");
    }
}

/* An old baseline whose text no longer reads (a param since removed, a bad value, a number
 * where text was written) is incomparable, with the reason, and nothing crashes. */
static void test_baseline_of_unreadable_text_params_is_incomparable (void **state) {
    (void)state;
    const char *bad[][2] = {{"handler_work", "soon"}, {"retired_param", "3"}};
    for (int i = 0; i < 2; i++) {
        fb_params_t old = s_params ("10us");
        json_t *params = s_text_params (&old);
        json_object_set_new (params, bad[i][0], json_string (bad[i][1]));
        json_t *b = s_baseline_with (1, params);
        s_result_t r = s_check_against (b, "Cortex-A72", 4, "6.1.0", "10us", 1000, "0.9.0", "");
        assert_int_equal (r.differs, FB_COMPAT_PARAMS);
        assert_non_null (strstr (r.why, "the baseline's params."));
        assert_non_null (strstr (r.why, bad[i][0]));
    }
    fb_params_t old = s_params ("10us");
    json_t *params = s_text_params (&old);
    json_object_set_new (params, "publishers", json_integer (2));
    s_result_t r = s_check_against (s_baseline_with (1, params), "Cortex-A72", 4, "6.1.0", "10us",
                                    1000, "0.9.0", "");
    assert_int_equal (r.differs, FB_COMPAT_PARAMS);
    assert_non_null (strstr (r.why, "params.publishers is not text"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_hosts_params_and_version_are_comparable),
        cmocka_unit_test (test_other_cpu_cores_or_kernel_major_is_incomparable),
        cmocka_unit_test (test_other_params_rate_or_version_is_incomparable),
        cmocka_unit_test (test_other_load_shape_is_incomparable),
        cmocka_unit_test (test_an_allowed_difference_is_recorded_not_judged),
        cmocka_unit_test (test_params_compare_by_value_not_text),
        cmocka_unit_test (test_baseline_of_text_params_compares_by_value),
        cmocka_unit_test (test_baseline_of_unreadable_text_params_is_incomparable),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

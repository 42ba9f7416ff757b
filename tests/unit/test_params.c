/* test_params.c: params from defaults and from scenario text, checked against a spec. */
#include "workloads/workload.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* A test-only kind with one param of every type. */
static const fb_param_spec_t s_spec[] = {
    {"workers", FB_PARAM_INT, "8", 1, 4096, NULL, "threads"},
    {"handler_work", FB_PARAM_DURATION, "10us", 0, 1e9, NULL, "busy time per handler"},
    {"queue", FB_PARAM_SIZE, "64KB", 1024, 1024.0 * 1024 * 1024, NULL, "queue bytes"},
    {"publish_rate", FB_PARAM_RATE, "200/s", 0, 0, NULL, "no range"},
    {"mix", FB_PARAM_PERCENT, "20%", 0, 1, NULL, "share"},
    {"dispatch", FB_PARAM_ENUM, "pool", 0, 0, "pool|thread-per-handler|inline", "how"},
    {"verbose", FB_PARAM_BOOL, "false", 0, 0, NULL, "talk"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};
static const fb_workload_t s_fake = {.kind = "fakebus", .params = s_spec};

/* And one of the text types. */
static const fb_param_spec_t s_text_spec[] = {
    {"tag", FB_PARAM_STRING, "bus", 0, 0, NULL, "a short name"},
    {"headers", FB_PARAM_TEXT, "", 0, 0, NULL, "free text"},
    {"url", FB_PARAM_URL, NULL, 0, 0, NULL, "where to send, required"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};
static const fb_workload_t s_fake_text = {.kind = "fakehttp", .params = s_text_spec};

static const fb_param_spec_t s_bad_default_spec[] = {
    {"timeout", FB_PARAM_DURATION, "10", 0, 0, NULL, "no unit: our bug"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};
static const fb_workload_t s_bad_default = {.kind = "broken", .params = s_bad_default_spec};

static void s_assert_set_fails (const char *name, const char *text, const char *message) {
    fb_params_t params;
    fb_err_t err = {0};
    const fb_workload_t *kind =
        strcmp (name, "tag") == 0 || strcmp (name, "headers") == 0 || strcmp (name, "url") == 0
            ? &s_fake_text
            : &s_fake;
    assert_int_equal (fb_params_init (&params, kind, &err), 0);
    assert_int_equal (fb_params_set (&params, name, text, &err), -1);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, message))
        print_error ("got \"%s\", expected \"%s\"\n", err.msg, message);
    assert_non_null (strstr (err.msg, message));
}

static void test_init_fills_every_default_in_base_units (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_fake, &err), 0);
    assert_int_equal (params.n, 7);
    assert_string_equal (params.kind, "fakebus");
    assert_true (fb_params_num (&params, "workers") == 8);
    assert_true (fb_params_num (&params, "handler_work") == 10000);
    assert_true (fb_params_num (&params, "queue") == 65536);
    assert_true (fb_params_num (&params, "publish_rate") == 200);
    assert_true (fb_params_num (&params, "mix") > 0.1999 &&
                 fb_params_num (&params, "mix") < 0.2001);
    assert_true (fb_params_num (&params, "dispatch") == 0);
    assert_true (fb_params_num (&params, "verbose") == 0);
    assert_string_equal (fb_params_text (&params, "handler_work"), "10us");
    assert_false (fb_params_given (&params, "workers"));
}

static void test_set_parses_and_marks_given (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_fake, &err), 0);
    assert_int_equal (fb_params_set (&params, "workers", "16", &err), 0);
    assert_int_equal (fb_params_set (&params, "handler_work", "1.5ms", &err), 0);
    assert_int_equal (fb_params_set (&params, "dispatch", "thread-per-handler", &err), 0);
    assert_int_equal (fb_params_set (&params, "verbose", "true", &err), 0);
    assert_true (fb_params_num (&params, "workers") == 16);
    assert_true (fb_params_num (&params, "handler_work") == 1500000);
    assert_true (fb_params_num (&params, "dispatch") == 1);
    assert_string_equal (fb_params_text (&params, "dispatch"), "thread-per-handler");
    assert_true (fb_params_num (&params, "verbose") == 1);
    assert_true (fb_params_given (&params, "workers"));
    assert_false (fb_params_given (&params, "queue"));
}

static void test_wrong_type_names_param_and_expected_form (void **state) {
    (void)state;
    s_assert_set_fails ("handler_work", "fast",
                        "handler_work must be a duration such as 10us (got \"fast\")");
    s_assert_set_fails ("handler_work", "10", "handler_work must be a duration such as 10us");
    s_assert_set_fails ("workers", "eight", "workers must be an integer such as 8 (got \"eight\")");
    s_assert_set_fails ("workers", "1.5", "workers must be an integer");
    s_assert_set_fails ("queue", "64kb", "queue must be a size such as 64KB (got \"64kb\")");
    s_assert_set_fails ("publish_rate", "200", "publish_rate must be a rate such as 200/s");
    s_assert_set_fails ("mix", "0.2", "mix must be a percentage such as 20%");
    s_assert_set_fails ("verbose", "yes", "verbose must be true or false (got \"yes\")");
}

static void test_enum_lists_its_choices (void **state) {
    (void)state;
    s_assert_set_fails (
        "dispatch", "threads",
        "dispatch must be one of pool, thread-per-handler, inline (got \"threads\")");
    s_assert_set_fails ("dispatch", "", "dispatch must be one of");
    s_assert_set_fails ("dispatch", "poo", "dispatch must be one of");
}

static void test_out_of_range_says_the_range (void **state) {
    (void)state;
    s_assert_set_fails ("workers", "0", "workers must be between 1 and 4096 (got 0)");
    s_assert_set_fails ("workers", "5000", "workers must be between 1 and 4096 (got 5000)");
    s_assert_set_fails ("workers", "-1", "workers must be between 1 and 4096 (got -1)");
    s_assert_set_fails ("handler_work", "2s", "handler_work must be between 0ns and 1s (got 2s)");
    s_assert_set_fails ("queue", "512B", "queue must be between 1KB and 1GB (got 512B)");
    s_assert_set_fails ("mix", "150%", "mix must be between 0% and 100% (got 150%)");
}

static void test_range_bounds_are_inclusive (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_fake, &err), 0);
    assert_int_equal (fb_params_set (&params, "workers", "1", &err), 0);
    assert_int_equal (fb_params_set (&params, "workers", "4096", &err), 0);
    assert_int_equal (fb_params_set (&params, "handler_work", "1s", &err), 0);
    assert_int_equal (fb_params_set (&params, "publish_rate", "1000000/s", &err), 0);
}

static void test_unknown_param_lists_known_ones (void **state) {
    (void)state;
    s_assert_set_fails ("foo", "1",
                        "unknown param \"foo\" for fakebus (known: workers, handler_work, queue, "
                        "publish_rate, mix, dispatch, verbose)");
}

static void test_failed_set_keeps_previous_value (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_fake, &err), 0);
    assert_int_equal (fb_params_set (&params, "workers", "0", &err), -1);
    assert_true (fb_params_num (&params, "workers") == 8);
    assert_false (fb_params_given (&params, "workers"));
}

static void test_too_long_text_is_refused (void **state) {
    (void)state;
    char text[300];
    memset (text, '1', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    s_assert_set_fails ("workers", text,
                        "workers must be an integer such as 8 (got a value of 299");
    s_assert_set_fails ("headers", text, "headers must be text of at most 255 characters");
    text[64] = '\0'; /* a name stays short */
    s_assert_set_fails ("tag", text, "tag must be a name of 1 to 63 characters");
}

/* Text keeps what it was given, up to 255 bytes; a URL is checked as one when it is set, and a
 * param without a default must be given. */
static void test_text_url_and_required_params (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_fake_text, &err), 0);
    assert_string_equal (fb_params_text (&params, "headers"), "");
    assert_string_equal (fb_params_text (&params, "url"), "");
    assert_int_equal (fb_params_check_required (&params, &err), -1);
    assert_string_equal (err.msg, "param url is required (where to send, required)");
    assert_int_equal (fb_params_set (&params, "headers", "X-A: 1\nX-B: 2", &err), 0);
    assert_string_equal (fb_params_text (&params, "headers"), "X-A: 1\nX-B: 2");
    assert_int_equal (fb_params_set (&params, "url", "https://[::1]:8443/a?b=1", &err), 0);
    assert_int_equal (fb_params_check_required (&params, &err), 0);
    s_assert_set_fails ("url", "ftp://127.0.0.1/", "url: ");
    s_assert_set_fails ("url", "ftp://127.0.0.1/", "(at character 1 of \"ftp://127.0.0.1/\")");
    s_assert_set_fails ("url", "http://127.0.0.1:99999/", "(at character 18 of");
    assert_string_equal (fb_params_text (&params, "url"), "https://[::1]:8443/a?b=1");
}

static void test_bad_default_is_reported_at_init (void **state) {
    (void)state;
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, &s_bad_default, &err), -1);
    assert_non_null (strstr (err.msg, "broken: default of param: timeout must be a duration"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_init_fills_every_default_in_base_units),
        cmocka_unit_test (test_set_parses_and_marks_given),
        cmocka_unit_test (test_wrong_type_names_param_and_expected_form),
        cmocka_unit_test (test_enum_lists_its_choices),
        cmocka_unit_test (test_out_of_range_says_the_range),
        cmocka_unit_test (test_range_bounds_are_inclusive),
        cmocka_unit_test (test_unknown_param_lists_known_ones),
        cmocka_unit_test (test_failed_set_keeps_previous_value),
        cmocka_unit_test (test_too_long_text_is_refused),
        cmocka_unit_test (test_text_url_and_required_params),
        cmocka_unit_test (test_bad_default_is_reported_at_init),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_units.c: the strict unit parser and the human formatters. */
#include "common/units.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void s_assert_ns (const char *text, int64_t expected) {
    fb_err_t err = {0};
    int64_t ns = -1;
    int rc = fb_units_duration_ns (text, &ns, &err);
    if (rc != 0)
        print_error ("%s: %s\n", text, err.msg);
    assert_int_equal (rc, 0);
    assert_int_equal (ns, expected);
}

static void s_assert_bad_duration (const char *text, const char *fragment) {
    fb_err_t err = {0};
    int64_t ns = 0;
    assert_int_equal (fb_units_duration_ns (text, &ns, &err), -1);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, fragment))
        print_error ("%s: message \"%s\" lacks \"%s\"\n", text, err.msg, fragment);
    assert_non_null (strstr (err.msg, fragment));
}

static void test_duration_accepts_every_unit (void **state) {
    (void)state;
    s_assert_ns ("250ns", 250);
    s_assert_ns ("10us", 10000);
    s_assert_ns ("1.5ms", 1500000);
    s_assert_ns ("5s", 5000000000LL);
    s_assert_ns ("2m", 120000000000LL);
    s_assert_ns ("0.1s", 100000000);
    s_assert_ns ("0s", 0);
}

static void test_duration_without_unit_is_an_error_naming_the_units (void **state) {
    (void)state;
    s_assert_bad_duration ("10", "expected a duration with a unit (ns, us, ms, s, m), got \"10\"");
}

static void test_duration_rejects_unknown_unit_negative_empty_and_junk (void **state) {
    (void)state;
    s_assert_bad_duration ("10h", "unknown unit \"h\"");
    s_assert_bad_duration ("10 ms", "got \"10 ms\"");
    s_assert_bad_duration ("-5ms", "not negative");
    s_assert_bad_duration ("", "got nothing");
    s_assert_bad_duration ("10msx", "unknown unit \"msx\"");
    s_assert_bad_duration ("1.ms", "got \"1.ms\"");
    s_assert_bad_duration (".5ms", "got \".5ms\"");
    s_assert_bad_duration ("1.5.2ms", "got \"1.5.2ms\"");
    s_assert_bad_duration ("+5ms", "got \"+5ms\"");
    s_assert_bad_duration ("nans", "got \"nans\"");
    s_assert_bad_duration ("infs", "got \"infs\"");
    s_assert_bad_duration ("1e3ms", "got \"1e3ms\"");
    s_assert_bad_duration ("10MS", "unknown unit \"MS\"");
}

static void test_duration_too_large_is_an_error_not_a_wrap (void **state) {
    (void)state;
    s_assert_bad_duration ("99999999999999999999s", "too large");
    s_assert_bad_duration ("9300000000000000000ns", "too large");
    s_assert_bad_duration ("100000000000000000000000000000000000000000000000000000000000000000000s",
                           "too large");
    s_assert_ns ("1000000000000000000ns", 1000000000000000000LL);
}

static void test_error_message_escapes_control_bytes (void **state) {
    (void)state;
    s_assert_bad_duration ("5\x01s", "\\x01");
}

static void test_rate_converts_to_per_second (void **state) {
    (void)state;
    fb_err_t err = {0};
    double r = 0;
    assert_int_equal (fb_units_rate_per_s ("20000/s", &r, &err), 0);
    assert_true (r == 20000.0);
    assert_int_equal (fb_units_rate_per_s ("50/ms", &r, &err), 0);
    assert_true (r == 50000.0);
    assert_int_equal (fb_units_rate_per_s ("120/m", &r, &err), 0);
    assert_true (r == 2.0);
    assert_int_equal (fb_units_rate_per_s ("0.5/s", &r, &err), 0);
    assert_true (r == 0.5);
}

static void test_rate_rejects_zero_missing_unit_and_other_units (void **state) {
    (void)state;
    fb_err_t err = {0};
    double r = 0;
    assert_int_equal (fb_units_rate_per_s ("0/s", &r, &err), -1);
    assert_non_null (strstr (err.msg, "above zero"));
    assert_int_equal (fb_units_rate_per_s ("200", &r, &err), -1);
    assert_non_null (strstr (err.msg, "expected a rate with a unit (/s, /ms, /m), got \"200\""));
    assert_int_equal (fb_units_rate_per_s ("200/h", &r, &err), -1);
    assert_int_equal (fb_units_rate_per_s ("fast", &r, &err), -1);
    assert_int_equal (fb_units_rate_per_s ("-3/s", &r, &err), -1);
}

static void test_size_is_binary (void **state) {
    (void)state;
    fb_err_t err = {0};
    int64_t b = 0;
    assert_int_equal (fb_units_size_bytes ("512B", &b, &err), 0);
    assert_int_equal (b, 512);
    assert_int_equal (fb_units_size_bytes ("64KB", &b, &err), 0);
    assert_int_equal (b, 65536);
    assert_int_equal (fb_units_size_bytes ("1.5KB", &b, &err), 0);
    assert_int_equal (b, 1536);
    assert_int_equal (fb_units_size_bytes ("50MB", &b, &err), 0);
    assert_int_equal (b, 50LL * 1024 * 1024);
    assert_int_equal (fb_units_size_bytes ("1GB", &b, &err), 0);
    assert_int_equal (b, 1024LL * 1024 * 1024);
    assert_int_equal (fb_units_size_bytes ("64kb", &b, &err), -1);
    assert_non_null (strstr (err.msg, "(B, KB, MB, GB)"));
    assert_int_equal (fb_units_size_bytes ("64", &b, &err), -1);
    assert_int_equal (fb_units_size_bytes ("99999999999GB", &b, &err), -1);
    assert_non_null (strstr (err.msg, "too large"));
}

static void test_percent_is_a_fraction (void **state) {
    (void)state;
    fb_err_t err = {0};
    double f = 0;
    assert_int_equal (fb_units_percent ("20%", &f, &err), 0);
    assert_true (f > 0.19999999 && f < 0.20000001);
    assert_int_equal (fb_units_percent ("0.1%", &f, &err), 0);
    assert_true (f > 0.00099999 && f < 0.00100001);
    assert_int_equal (fb_units_percent ("0.2", &f, &err), -1);
    assert_non_null (strstr (err.msg, "expected a percentage with a unit (%)"));
    assert_int_equal (fb_units_percent ("-1%", &f, &err), -1);
    assert_int_equal (fb_units_percent ("20 %", &f, &err), -1);
}

static void test_integer_is_whole_string (void **state) {
    (void)state;
    fb_err_t err = {0};
    int64_t v = 0;
    assert_int_equal (fb_units_integer ("500", &v, &err), 0);
    assert_int_equal (v, 500);
    assert_int_equal (fb_units_integer ("-3", &v, &err), 0);
    assert_int_equal (v, -3);
    assert_int_equal (fb_units_integer ("5x", &v, &err), -1);
    assert_int_equal (fb_units_integer (" 5", &v, &err), -1);
    assert_int_equal (fb_units_integer ("1.5", &v, &err), -1);
    assert_int_equal (fb_units_integer ("-", &v, &err), -1);
    assert_int_equal (fb_units_integer ("", &v, &err), -1);
    assert_int_equal (fb_units_integer ("99999999999999999999", &v, &err), -1);
    assert_non_null (strstr (err.msg, "too large"));
}

static void test_number_rejects_nan_inf_hex_and_blanks (void **state) {
    (void)state;
    fb_err_t err = {0};
    double v = 0;
    assert_int_equal (fb_units_number ("0.5", &v, &err), 0);
    assert_true (v == 0.5);
    assert_int_equal (fb_units_number ("1e3", &v, &err), 0);
    assert_true (v == 1000.0);
    assert_int_equal (fb_units_number ("-2", &v, &err), 0);
    assert_true (v == -2.0);
    assert_int_equal (fb_units_number ("nan", &v, &err), -1);
    assert_int_equal (fb_units_number ("inf", &v, &err), -1);
    assert_int_equal (fb_units_number ("0x10", &v, &err), -1);
    assert_int_equal (fb_units_number (" 1", &v, &err), -1);
    assert_int_equal (fb_units_number ("1e999", &v, &err), -1);
    assert_non_null (strstr (err.msg, "out of range"));
    assert_int_equal (fb_units_number ("1-2", &v, &err), -1);
}

static void test_format_ns_keeps_three_digits (void **state) {
    (void)state;
    char buf[32];
    assert_string_equal (fb_units_format_ns (812, buf, sizeof buf), "812ns");
    assert_string_equal (fb_units_format_ns (12345, buf, sizeof buf), "12.3us");
    assert_string_equal (fb_units_format_ns (4561000, buf, sizeof buf), "4.56ms");
    assert_string_equal (fb_units_format_ns (1234000000, buf, sizeof buf), "1.23s");
    assert_string_equal (fb_units_format_ns (1500000, buf, sizeof buf), "1.5ms");
    assert_string_equal (fb_units_format_ns (999.7, buf, sizeof buf), "1us");
    assert_string_equal (fb_units_format_ns (0, buf, sizeof buf), "0ns");
    assert_string_equal (fb_units_format_ns (90e9, buf, sizeof buf), "90s");
}

static void test_format_bytes_is_binary (void **state) {
    (void)state;
    char buf[32];
    assert_string_equal (fb_units_format_bytes (512, buf, sizeof buf), "512B");
    assert_string_equal (fb_units_format_bytes (1536, buf, sizeof buf), "1.5KB");
    assert_string_equal (fb_units_format_bytes (48.2 * 1024 * 1024, buf, sizeof buf), "48.2MB");
    assert_string_equal (fb_units_format_bytes (2.0 * 1024 * 1024 * 1024, buf, sizeof buf), "2GB");
}

static void test_format_roundtrips_through_the_parser (void **state) {
    (void)state;
    char buf[32];
    int64_t ns = 0;
    fb_err_t err = {0};
    fb_units_format_ns (4560000, buf, sizeof buf);
    assert_int_equal (fb_units_duration_ns (buf, &ns, &err), 0);
    assert_int_equal (ns, 4560000);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_duration_accepts_every_unit),
        cmocka_unit_test (test_duration_without_unit_is_an_error_naming_the_units),
        cmocka_unit_test (test_duration_rejects_unknown_unit_negative_empty_and_junk),
        cmocka_unit_test (test_duration_too_large_is_an_error_not_a_wrap),
        cmocka_unit_test (test_error_message_escapes_control_bytes),
        cmocka_unit_test (test_rate_converts_to_per_second),
        cmocka_unit_test (test_rate_rejects_zero_missing_unit_and_other_units),
        cmocka_unit_test (test_size_is_binary),
        cmocka_unit_test (test_percent_is_a_fraction),
        cmocka_unit_test (test_integer_is_whole_string),
        cmocka_unit_test (test_number_rejects_nan_inf_hex_and_blanks),
        cmocka_unit_test (test_format_ns_keeps_three_digits),
        cmocka_unit_test (test_format_bytes_is_binary),
        cmocka_unit_test (test_format_roundtrips_through_the_parser),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_escape.c: what network text looks like once it is safe for a terminal or a report. */
#include "common/escape.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_control_bytes_become_visible_text (void **state) {
    (void)state;
    char out[128];
    assert_true (fb_escape ("x\n\033[31mFAKE\033[0m\r\x7f", out, sizeof out, FB_ESCAPE_TEXT));
    assert_string_equal (out, "x\\x0a\\x1b[31mFAKE\\x1b[0m\\x0d\\x7f");
}

static void test_utf8_stays_and_broken_or_c1_bytes_are_escaped (void **state) {
    (void)state;
    char out[128];
    fb_escape ("Cortex\xe2\x84\xa2 \xc3\xa9", out, sizeof out, FB_ESCAPE_TEXT);
    assert_string_equal (out, "Cortex\xe2\x84\xa2 \xc3\xa9");
    fb_escape ("a\xc2\x9b"
               "31m\xff\xc3",
               out, sizeof out, FB_ESCAPE_TEXT);
    assert_string_equal (out, "a\\xc2\\x9b31m\\xff\\xc3");
    fb_escape ("\xc0\xaf", out, sizeof out, FB_ESCAPE_TEXT); /* overlong "/" */
    assert_string_equal (out, "\\xc0\\xaf");
}

static void test_markdown_cells_cannot_add_columns_or_markup (void **state) {
    (void)state;
    char out[128];
    fb_escape ("a | b <script> *x* `y` [l](u)", out, sizeof out, FB_ESCAPE_MARKDOWN);
    assert_string_equal (out, "a \\| b &lt;script&gt; \\*x\\* \\`y\\` \\[l\\](u)");
    fb_escape ("a | b", out, sizeof out, FB_ESCAPE_TEXT);
    assert_string_equal (out, "a | b");
}

static void test_a_cut_never_splits_an_escape (void **state) {
    (void)state;
    char out[6];
    assert_false (fb_escape ("ab\033cd", out, sizeof out, FB_ESCAPE_TEXT));
    assert_string_equal (out, "ab");
    char buf[8] = "\033\033\033";
    fb_escape_in_place (buf, sizeof buf);
    assert_string_equal (buf, "\\x1b");
    assert_false (fb_escape_needed ("plain \xc3\xa9"));
    assert_true (fb_escape_needed ("\t"));
}

static void test_safe_names (void **state) {
    (void)state;
    assert_true (fb_escape_name_is_safe ("pi4-rack2.lab_1"));
    assert_true (fb_escape_name_is_safe ("..."));
    assert_false (fb_escape_name_is_safe (""));
    assert_false (fb_escape_name_is_safe ("."));
    assert_false (fb_escape_name_is_safe (".."));
    assert_false (fb_escape_name_is_safe ("../../evil"));
    assert_false (fb_escape_name_is_safe ("a b"));
    assert_false (fb_escape_name_is_safe ("x\n"));
    char longest[FB_NAME_MAX + 2];
    memset (longest, 'a', FB_NAME_MAX);
    longest[FB_NAME_MAX] = '\0';
    assert_true (fb_escape_name_is_safe (longest));
    longest[FB_NAME_MAX] = 'a';
    longest[FB_NAME_MAX + 1] = '\0';
    assert_false (fb_escape_name_is_safe (longest));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_control_bytes_become_visible_text),
        cmocka_unit_test (test_utf8_stays_and_broken_or_c1_bytes_are_escaped),
        cmocka_unit_test (test_markdown_cells_cannot_add_columns_or_markup),
        cmocka_unit_test (test_a_cut_never_splits_an_escape),
        cmocka_unit_test (test_safe_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

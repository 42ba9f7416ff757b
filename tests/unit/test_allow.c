/* test_allow.c: the agent's allow-list: a good file, fb-child always there, and every kind of
 * bad file refused with path:line:col and what was expected. */
#include "agent/allow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static fb_allow_t *s_parse (const char *text, fb_err_t *err) {
    memset (err, 0, sizeof *err);
    return fb_allow_parse (text, strlen (text), "allow.yaml", err);
}

/* text must be refused with a message that contains want. */
static void s_expect_error (const char *text, const char *want) {
    fb_err_t err;
    fb_allow_t *allow = s_parse (text, &err);
    if (allow) {
        fb_allow_destroy (&allow);
        fail_msg ("accepted: %s", text);
    }
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, want))
        fail_msg ("expected \"%s\" in \"%s\"", want, err.msg);
}

static void test_good_file_gives_each_argv (void **state) {
    (void)state;
    char path[] = "/tmp/fb-allow-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *text = "# commands for the lab\n"
                       "sleep-1: [/bin/sleep, \"1\"]\n"
                       "make_app:\n"
                       "  - make\n"
                       "  - -C\n"
                       "  - /srv/app\n"
                       "echo.v2: [echo, \"a b\", '']\n";
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    fb_err_t err = {0};
    fb_allow_t *allow = fb_allow_load (path, &err);
    unlink (path);
    if (!allow)
        fail_msg ("%s", err.msg);
    const char *const *argv = fb_allow_argv (allow, "sleep-1", "/opt/fb");
    assert_non_null (argv);
    assert_string_equal (argv[0], "/bin/sleep");
    assert_string_equal (argv[1], "1");
    assert_null (argv[2]);
    argv = fb_allow_argv (allow, "make_app", NULL);
    assert_string_equal (argv[0], "make");
    assert_string_equal (argv[2], "/srv/app");
    assert_null (argv[3]);
    argv = fb_allow_argv (allow, "echo.v2", NULL);
    assert_string_equal (argv[1], "a b");
    assert_string_equal (argv[2], "");
    assert_true (fb_allow_has (allow, "make_app"));
    assert_false (fb_allow_has (allow, "rm"));
    assert_null (fb_allow_argv (allow, "rm", "/opt/fb"));
    char names[128];
    assert_string_equal (fb_allow_names (allow, names, sizeof names),
                         "fb-child, sleep-1, make_app, echo.v2");
    fb_allow_destroy (&allow);
    assert_null (allow);
}

static void test_fb_child_is_built_in_and_resolves_to_the_helper_folder (void **state) {
    (void)state;
    fb_allow_t *allow = fb_allow_new_default ();
    assert_non_null (allow);
    assert_true (fb_allow_has (allow, "fb-child"));
    assert_false (fb_allow_has (allow, "sleep"));
    const char *const *argv = fb_allow_argv (allow, "fb-child", "/opt/fleetbench/bin");
    assert_non_null (argv);
    assert_string_equal (argv[0], "/opt/fleetbench/bin/fb-child");
    assert_null (argv[1]);
    /* The same folder again: the same storage; another folder: its own. */
    assert_ptr_equal (fb_allow_argv (allow, "fb-child", "/opt/fleetbench/bin"), argv);
    assert_string_equal (fb_allow_argv (allow, "fb-child", "/usr/lib/fb")[0],
                         "/usr/lib/fb/fb-child");
    assert_string_equal (argv[0], "/opt/fleetbench/bin/fb-child");
    char names[64];
    assert_string_equal (fb_allow_names (allow, names, sizeof names), "fb-child");
    fb_allow_destroy (&allow);

    fb_err_t err;
    allow = s_parse ("{}", &err);
    assert_non_null (allow);
    assert_true (fb_allow_has (allow, "fb-child"));
    fb_allow_destroy (&allow);
}

static void test_bad_yaml_says_line_and_column (void **state) {
    (void)state;
    s_expect_error ("sleep: [/bin/sleep, 1]\nmake: [make\nother: [x]\n", "allow.yaml:");
    fb_err_t err;
    fb_allow_t *allow = s_parse ("a: [x]\nb: [y\n", &err);
    assert_null (allow);
    assert_non_null (strstr (err.msg, "invalid YAML"));
    /* A tab where indentation is expected, at line 2. */
    allow = s_parse ("a:\n\t- x\n", &err);
    assert_null (allow);
    assert_non_null (strstr (err.msg, "allow.yaml:2:"));
}

static void test_argv_must_be_a_list_of_strings (void **state) {
    (void)state;
    s_expect_error ("sleep: /bin/sleep 1\n",
                    "allow.yaml:1:8: expected the argv of sleep as a list of strings");
    s_expect_error ("sleep: {program: /bin/sleep}\n", "allow.yaml:1:8");
    s_expect_error ("sleep: [/bin/sleep, [1]]\n",
                    "allow.yaml:1:21: expected a string in the argv of sleep (got a list)");
    s_expect_error ("sleep: []\n", "allow.yaml:1:1: expected at least the program");
    s_expect_error ("sleep: ['', x]\n", "expected the program of sleep first");
    s_expect_error ("sleep:\n", "(got nothing)");
}

static void test_empty_and_other_shapes_are_refused (void **state) {
    (void)state;
    s_expect_error ("", "allow.yaml:1:1: expected a mapping");
    s_expect_error ("# only a comment\n", "(got an empty file)");
    s_expect_error ("- [a]\n", "allow.yaml:1:1: expected a mapping");
    s_expect_error ("just text\n", "(got \"just text\")");
    s_expect_error ("a: [x]\n---\nb: [y]\n", "second document");
}

static void test_names_are_checked (void **state) {
    (void)state;
    s_expect_error ("\"rm -rf\": [rm]\n", "expected a command name of 1 to 63 characters");
    s_expect_error ("[a]: [x]\n", "expected a command name (got a list)");
    s_expect_error ("fb-child: [/bin/true]\n", "fb-child is built in");
    s_expect_error ("a: [x]\nb: [y]\na: [z]\n",
                    "allow.yaml:3:1: command \"a\" is given twice (first at line 1)");
    s_expect_error ("a: &x [x]\n", "anchors are not supported");
    s_expect_error ("a: &x [x]\nb: *x\n", "anchors are not supported");
    s_expect_error ("\"a\\0b\": [x]\n", "expected a command name");
    s_expect_error ("a: [\"x\\0y\"]\n", "without NUL bytes");
    char big[200];
    snprintf (big, sizeof big, "%064d: [x]\n", 0);
    s_expect_error (big, "1 to 63 characters");
}

static void test_limits_hold (void **state) {
    (void)state;
    /* 65 arguments */
    char text[1024] = "a: [";
    for (int i = 0; i < FB_ALLOW_MAX_ARGS + 1; i++)
        strcat (text, i ? ", x" : "x");
    strcat (text, "]\n");
    s_expect_error (text, "at most 64 arguments");
    /* 257 entries */
    size_t size = (FB_ALLOW_MAX_ENTRIES + 1) * 16 + 1;
    char *many = calloc (1, size);
    assert_non_null (many);
    for (int i = 0; i <= FB_ALLOW_MAX_ENTRIES; i++)
        snprintf (many + strlen (many), size - strlen (many), "c%d: [x]\n", i);
    s_expect_error (many, "at most 256 commands");
    free (many);
}

static void test_missing_file_and_bad_bytes (void **state) {
    (void)state;
    fb_err_t err = {0};
    assert_null (fb_allow_load ("/nonexistent/allow.yaml", &err));
    assert_non_null (strstr (err.msg, "/nonexistent/allow.yaml"));
    const char bytes[] = "a: [\xff\xfe]\n";
    assert_null (fb_allow_parse (bytes, sizeof bytes - 1, "allow.yaml", &err));
    assert_non_null (strstr (err.msg, "allow.yaml:1:"));
    /* Not NUL-terminated: only len bytes are read. */
    const char cut[] = "a: [x]\nb: [y]";
    fb_allow_t *allow = fb_allow_parse (cut, 6, "allow.yaml", &err);
    assert_non_null (allow);
    assert_true (fb_allow_has (allow, "a"));
    assert_false (fb_allow_has (allow, "b"));
    fb_allow_destroy (&allow);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good_file_gives_each_argv),
        cmocka_unit_test (test_fb_child_is_built_in_and_resolves_to_the_helper_folder),
        cmocka_unit_test (test_bad_yaml_says_line_and_column),
        cmocka_unit_test (test_argv_must_be_a_list_of_strings),
        cmocka_unit_test (test_empty_and_other_shapes_are_refused),
        cmocka_unit_test (test_names_are_checked),
        cmocka_unit_test (test_limits_hold),
        cmocka_unit_test (test_missing_file_and_bad_bytes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

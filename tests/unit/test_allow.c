/* test_allow.c: the agent's allow-list: a good file, fb-child always there, and every kind of
 * bad file refused with path:line:col and what was expected. */
#include "agent/allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
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

/* The names the http: tests use, resolved without DNS: lab.test is one IPv4 and one IPv6
 * address, anything else does not resolve. */
static int s_resolve (const char *name, struct sockaddr_storage *addrs, int max, char *why,
                      size_t why_size) {
    if (strcmp (name, "lab.test") != 0 || max < 2) {
        snprintf (why, why_size, "Name or service not known");
        return -1;
    }
    memset (addrs, 0, 2 * sizeof *addrs);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addrs[0];
    v4->sin_family = AF_INET;
    inet_pton (AF_INET, "192.0.2.10", &v4->sin_addr);
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addrs[1];
    v6->sin6_family = AF_INET6;
    inet_pton (AF_INET6, "2001:db9::10", &v6->sin6_addr);
    return 2;
}

static fb_allow_t *s_parse_http (const char *text, fb_err_t *err) {
    memset (err, 0, sizeof *err);
    return fb_allow_parse_with_resolver (text, strlen (text), "allow.yaml", s_resolve, err);
}

/* Is the address (IPv4 or IPv6 text) with port allowed by allow's http: entries? */
static bool s_http (const fb_allow_t *allow, const char *addr, int port) {
    struct sockaddr_storage ss = {0};
    if (strchr (addr, ':')) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons (1); /* ignored: the port is the argument */
        assert_int_equal (inet_pton (AF_INET6, addr, &v6->sin6_addr), 1);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
        v4->sin_family = AF_INET;
        v4->sin_port = htons (1);
        assert_int_equal (inet_pton (AF_INET, addr, &v4->sin_addr), 1);
    }
    return fb_allow_http (allow, (const struct sockaddr *)&ss, port);
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

/* The same with the http: test resolver. */
static void s_expect_http_error (const char *text, const char *want) {
    fb_err_t err;
    fb_allow_t *allow = s_parse_http (text, &err);
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

static void test_http_entries_allow_each_form_to_its_edges (void **state) {
    (void)state;
    fb_err_t err;
    fb_allow_t *allow = s_parse_http ("sleep-1: [/bin/sleep, \"1\"]\n"
                                      "http:\n"
                                      "  - 127.0.0.1\n"
                                      "  - 10.0.0.0/8:8000-8999\n"
                                      "  - ::1\n"
                                      "  - fd00::/8\n"
                                      "  - \"[2001:db8::/32]:80-90\"\n"
                                      "  - '[::2]:443'\n"
                                      "  - lab.test:8080\n"
                                      "  - 192.168.1.128/25:53\n",
                                      &err);
    if (!allow)
        fail_msg ("%s", err.msg);
    /* An address without a port: every port, that address only. */
    assert_true (s_http (allow, "127.0.0.1", 1));
    assert_true (s_http (allow, "127.0.0.1", 65535));
    assert_false (s_http (allow, "127.0.0.2", 80));
    assert_false (s_http (allow, "127.0.0.1", 0));
    assert_false (s_http (allow, "127.0.0.1", 65536));
    /* A block with a range: both ends of each, and one past. */
    assert_true (s_http (allow, "10.0.0.0", 8000));
    assert_true (s_http (allow, "10.255.255.255", 8999));
    assert_false (s_http (allow, "10.0.0.1", 7999));
    assert_false (s_http (allow, "10.0.0.1", 9000));
    assert_false (s_http (allow, "9.255.255.255", 8000));
    assert_false (s_http (allow, "11.0.0.0", 8000));
    assert_true (s_http (allow, "192.168.1.128", 53));
    assert_true (s_http (allow, "192.168.1.255", 53));
    assert_false (s_http (allow, "192.168.1.127", 53));
    assert_false (s_http (allow, "192.168.1.200", 54));
    /* IPv6: an address, a block, a block with a range, an address with a port. */
    assert_true (s_http (allow, "::1", 8080));
    assert_false (s_http (allow, "::3", 8080));
    assert_true (s_http (allow, "fd00::", 1));
    assert_true (s_http (allow, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535));
    assert_false (s_http (allow, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 80));
    assert_false (s_http (allow, "fe00::", 80));
    assert_true (s_http (allow, "2001:db8::", 80));
    assert_true (s_http (allow, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 90));
    assert_false (s_http (allow, "2001:db8::1", 79));
    assert_false (s_http (allow, "2001:db8::1", 91));
    assert_false (s_http (allow, "2001:db9::", 80));
    assert_true (s_http (allow, "::2", 443));
    assert_false (s_http (allow, "::2", 442));
    assert_false (s_http (allow, "::2", 444));
    /* A host name: each of its addresses, on its port only. */
    assert_true (s_http (allow, "192.0.2.10", 8080));
    assert_true (s_http (allow, "2001:db9::10", 8080));
    assert_false (s_http (allow, "192.0.2.10", 8081));
    assert_false (s_http (allow, "192.0.2.11", 8080));
    /* http is not a command, and the commands are still there. */
    assert_false (fb_allow_has (allow, "http"));
    assert_null (fb_allow_argv (allow, "http", NULL));
    assert_true (fb_allow_has (allow, "sleep-1"));
    char names[256];
    assert_string_equal (fb_allow_names (allow, names, sizeof names), "fb-child, sleep-1");
    assert_string_equal (fb_allow_http_names (allow, names, sizeof names),
                         "127.0.0.1, 10.0.0.0/8:8000-8999, ::1, fd00::/8, [2001:db8::/32]:80-90, "
                         "[::2]:443, lab.test:8080, 192.168.1.128/25:53");
    /* Cut to fit, never past the buffer. */
    char small[32];
    assert_string_equal (fb_allow_http_names (allow, small, sizeof small), "127.0.0.1, ...");
    /* Through the workloads' view. */
    fb_wl_allow_t wl = fb_allow_for_workloads (allow);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001)};
    assert_true (wl.http (wl.list, (const struct sockaddr *)&lo, 80));
    lo.sin_addr.s_addr = htonl (0x7f000002);
    assert_false (wl.http (wl.list, (const struct sockaddr *)&lo, 80));
    assert_string_equal (wl.http_names (wl.list, small, sizeof small), "127.0.0.1, ...");
    fb_allow_destroy (&allow);
}

static void test_ipv4_mapped_addresses_match_ipv4_entries (void **state) {
    (void)state;
    fb_err_t err;
    fb_allow_t *allow = s_parse_http (
        "http: [127.0.0.1, \"10.0.0.0/8:8000-8999\", \"::ffff:192.168.0.0/112\"]\n", &err);
    if (!allow)
        fail_msg ("%s", err.msg);
    assert_true (s_http (allow, "::ffff:127.0.0.1", 80));
    assert_false (s_http (allow, "::ffff:127.0.0.2", 80));
    assert_true (s_http (allow, "::ffff:10.1.2.3", 8999));
    assert_false (s_http (allow, "::ffff:10.1.2.3", 9000));
    /* Not mapped: an IPv6 address whose last 32 bits look like 127.0.0.1 is not it. */
    assert_false (s_http (allow, "::127.0.0.1", 80));
    assert_false (s_http (allow, "64:ff9b::7f00:1", 80));
    /* An IPv6 entry in the mapped range holds the IPv4 addresses it maps. */
    assert_true (s_http (allow, "192.168.5.5", 1));
    assert_true (s_http (allow, "::ffff:192.168.255.255", 1));
    assert_false (s_http (allow, "192.169.0.0", 1));
    fb_allow_destroy (&allow);
}

static void test_without_http_nothing_is_allowed (void **state) {
    (void)state;
    char names[64];
    fb_allow_t *allow = fb_allow_new_default ();
    assert_false (s_http (allow, "127.0.0.1", 80));
    assert_false (s_http (allow, "::1", 80));
    assert_string_equal (fb_allow_http_names (allow, names, sizeof names), "none");
    fb_wl_allow_t wl = fb_allow_for_workloads (allow);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001)};
    assert_false (wl.http (wl.list, (const struct sockaddr *)&lo, 80));
    assert_string_equal (wl.http_names (wl.list, names, sizeof names), "none");
    fb_allow_destroy (&allow);

    assert_false (fb_allow_http (NULL, (const struct sockaddr *)&lo, 80));
    assert_string_equal (fb_allow_http_names (NULL, names, sizeof names), "none");
    assert_null (fb_allow_for_workloads (NULL).http); /* no list at all: the caller denies */

    fb_err_t err;
    allow = s_parse_http ("sleep-1: [/bin/sleep, \"1\"]\n", &err);
    assert_non_null (allow);
    assert_false (s_http (allow, "127.0.0.1", 80));
    assert_string_equal (fb_allow_http_names (allow, names, sizeof names), "none");
    fb_allow_destroy (&allow);
    allow = s_parse_http ("http: []\n", &err);
    assert_non_null (allow);
    assert_false (s_http (allow, "127.0.0.1", 80));
    assert_string_equal (fb_allow_http_names (allow, names, sizeof names), "none");
    fb_allow_destroy (&allow);
}

static void test_http_is_reserved_and_never_a_command (void **state) {
    (void)state;
    s_expect_http_error ("http: [/usr/bin/curl, -s]\n",
                         "allow.yaml:1:8: http: expected an address, a CIDR block or a host name");
    s_expect_http_error ("http: [/usr/bin/curl, -s]\n", "http is reserved");
    s_expect_http_error ("http: /usr/bin/curl\n",
                         "allow.yaml:1:7: expected the HTTP targets workloads may connect to");
    s_expect_http_error ("http: [127.0.0.1]\nsleep: [x]\nhttp: [\"::1\"]\n",
                         "allow.yaml:3:1: http is given twice (first at line 1)");
    s_expect_http_error ("http: [[a]]\n", "allow.yaml:1:8: expected an address");
    /* Only "http" in lower case is reserved: names are case-sensitive. */
    fb_err_t err;
    fb_allow_t *allow = s_parse_http ("HTTP: [/usr/bin/curl]\n", &err);
    assert_non_null (allow);
    assert_true (fb_allow_has (allow, "HTTP"));
    fb_allow_destroy (&allow);
}

static void test_bad_http_entries_say_line_and_column (void **state) {
    (void)state;
    /* The column is that of the fault inside the entry. */
    s_expect_http_error ("http: [10.0.0.0/33]\n",
                         "allow.yaml:1:17: http: expected a prefix length of 0 to 32 after /");
    s_expect_http_error ("http: [fd00::/129]\n",
                         "allow.yaml:1:15: http: expected a prefix length of 0 to 128");
    s_expect_http_error ("http: [10.0.0.0/]\n", "allow.yaml:1:17: http: expected a prefix");
    s_expect_http_error ("http: [10.0.0.1/8]\n",
                         "allow.yaml:1:8: http: expected no address bits set past the prefix "
                         "length (write 10.0.0.0/8)");
    s_expect_http_error ("http: [\"fd00::1/8\"]\n",
                         "allow.yaml:1:9: http: expected no address "
                         "bits set past the prefix length (write fd00::/8)");
    s_expect_http_error ("http: [127.0.0.1:0]\n",
                         "allow.yaml:1:18: http: expected a port from 1 to 65535 (got \"0\")");
    s_expect_http_error ("http: [127.0.0.1:65536]\n", "allow.yaml:1:18: http: expected a port");
    s_expect_http_error ("http: [127.0.0.1:80-65536]\n",
                         "allow.yaml:1:21: http: expected a port from 1 to 65535 after -");
    s_expect_http_error ("http: [127.0.0.1:9000-8000]\n",
                         "allow.yaml:1:18: http: expected a port range from low to high (got "
                         "9000-8000)");
    s_expect_http_error ("http: ['127.0.0.1:']\n",
                         "allow.yaml:1:19: http: expected a port or a range");
    s_expect_http_error ("http: [127.0.0.1:http]\n", "allow.yaml:1:18: http: expected a port");
    s_expect_http_error ("http: [\"[::1]:0\"]\n", "allow.yaml:1:15: http: expected a port");
    s_expect_http_error ("http: [\"[::1\"]\n", "allow.yaml:1:9: http: expected ] after");
    s_expect_http_error ("http: [\"[::1]443\"]\n", "allow.yaml:1:14: http: expected :port");
    s_expect_http_error ("http: [\"[10.0.0.1]:80\"]\n",
                         "allow.yaml:1:10: http: expected an IPv6 address");
    s_expect_http_error ("http: [1.2.3]\n", "allow.yaml:1:8: http: expected an IPv4 address");
    s_expect_http_error ("http: [256.0.0.1:80]\n", "allow.yaml:1:8: http: expected an IPv4");
    s_expect_http_error ("http: [nowhere.test:80]\n",
                         "allow.yaml:1:8: http: the host name nowhere.test does not resolve: "
                         "Name or service not known");
    s_expect_http_error ("http: [\"[]:80\"]\n", "allow.yaml:1:10: http: expected an address");
    /* A bad port is found before the name is resolved. */
    s_expect_http_error ("http: [nowhere.test:0]\n", "allow.yaml:1:21: http: expected a port");
    s_expect_http_error ("http: [lab.test/24]\n",
                         "allow.yaml:1:16: http: expected a prefix length only after an address");
    s_expect_http_error ("http: [a..test]\n", "allow.yaml:1:10: http: expected a host name "
                                              "without an empty label");
    s_expect_http_error ("http: [a_b]\n", "allow.yaml:1:9: http: expected an address");
    s_expect_http_error ("http: [':80']\n", "allow.yaml:1:9: http: expected an address");
    s_expect_http_error ("http: ['']\n", "allow.yaml:1:9: http: expected an address, a CIDR block "
                                         "or a host name (got nothing)");
    s_expect_http_error ("http: [\"a\\0b\"]\n", "allow.yaml:1:10: http: expected an entry "
                                                "without NUL bytes");
    /* In a block list, on its own line. */
    s_expect_http_error ("sleep: [x]\nhttp:\n  - 127.0.0.1\n  - 10.0.0.0/8:0\n",
                         "allow.yaml:4:16: http: expected a port");
    /* Unquoted, [::1]:443 is YAML's list, not a string. */
    s_expect_http_error ("http:\n  - [fd00::1]\n", "allow.yaml:2:5: expected an address");
    s_expect_http_error ("http:\n  - [fd00::1]\n", "quote the [IPv6]:port form");
    s_expect_http_error ("http:\n  - [fd00::1]:443\n", "allow.yaml:2:");
    char many[FB_NETALLOW_MAX_ENTRIES * 12 + 32] = "http: [";
    for (int i = 0; i <= FB_NETALLOW_MAX_ENTRIES; i++)
        snprintf (many + strlen (many), sizeof many - strlen (many), "10.0.%d.%d, ", i / 256,
                  i % 256);
    strcat (many, "]\n");
    s_expect_http_error (many, "expected at most 256 entries");
}

/* localhost is resolved by the system (from /etc/hosts, without DNS) when the file is loaded. */
static void test_host_name_is_resolved_when_the_file_is_loaded (void **state) {
    (void)state;
    char path[] = "/tmp/fb-allow-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *text = "http: [localhost:8080]\n";
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    fb_err_t err = {0};
    fb_allow_t *allow = fb_allow_load (path, &err);
    unlink (path);
    if (!allow)
        fail_msg ("%s", err.msg);
    assert_true (s_http (allow, "127.0.0.1", 8080));
    assert_false (s_http (allow, "127.0.0.1", 8081));
    assert_false (s_http (allow, "10.0.0.1", 8080));
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
        cmocka_unit_test (test_http_entries_allow_each_form_to_its_edges),
        cmocka_unit_test (test_ipv4_mapped_addresses_match_ipv4_entries),
        cmocka_unit_test (test_without_http_nothing_is_allowed),
        cmocka_unit_test (test_http_is_reserved_and_never_a_command),
        cmocka_unit_test (test_bad_http_entries_say_line_and_column),
        cmocka_unit_test (test_host_name_is_resolved_when_the_file_is_loaded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

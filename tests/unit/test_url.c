/* test_url.c: the http and https URLs a scenario names: what a client needs from good ones, and
 * every bad one refused at the byte where it goes wrong. */
#include "common/url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static fb_url_t s_good (const char *text) {
    fb_url_t url;
    fb_err_t err = {0};
    int col = -7;
    if (fb_url_parse (text, &url, &col, &err) != 0)
        fail_msg ("refused %s: col %d: %s", text, col, err.msg);
    assert_int_equal (col, -7); /* only set on an error */
    return url;
}

/* text must be refused at col with a message that contains want. */
static void s_bad (const char *text, int want_col, const char *want) {
    fb_url_t url;
    fb_err_t err = {0};
    int col = -1;
    if (fb_url_parse (text, &url, &col, &err) == 0)
        fail_msg ("accepted: %s", text);
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, want))
        fail_msg ("%s: expected \"%s\" in \"%s\"", text, want, err.msg);
    if (col != want_col)
        fail_msg ("%s: expected column %d, got %d (%s)", text, want_col, col, err.msg);
}

static void test_defaults_fill_port_and_target (void **state) {
    (void)state;
    fb_url_t url = s_good ("http://example.com");
    assert_false (url.tls);
    assert_string_equal (url.host, "example.com");
    assert_int_equal (url.port, 80);
    assert_string_equal (url.target, "/");
    assert_string_equal (url.authority, "example.com");

    url = s_good ("https://127.0.0.1/");
    assert_true (url.tls);
    assert_string_equal (url.host, "127.0.0.1");
    assert_int_equal (url.port, 443);
    assert_string_equal (url.target, "/");
    assert_string_equal (url.authority, "127.0.0.1");
}

static void test_explicit_port_stays_in_the_authority (void **state) {
    (void)state;
    fb_url_t url = s_good ("http://localhost:8080/index.html");
    assert_string_equal (url.host, "localhost");
    assert_int_equal (url.port, 8080);
    assert_string_equal (url.target, "/index.html");
    assert_string_equal (url.authority, "localhost:8080");
    /* Written as the default: kept as written; the extremes of the range. */
    url = s_good ("https://a.b-c.example:443");
    assert_int_equal (url.port, 443);
    assert_string_equal (url.authority, "a.b-c.example:443");
    assert_int_equal (s_good ("http://h:1/").port, 1);
    assert_int_equal (s_good ("http://h:65535/").port, 65535);
    assert_int_equal (s_good ("http://h:00080/").port, 80);
}

static void test_ipv6_literal_loses_its_brackets_but_not_in_the_authority (void **state) {
    (void)state;
    fb_url_t url = s_good ("http://[::1]:8443/x");
    assert_string_equal (url.host, "::1");
    assert_int_equal (url.port, 8443);
    assert_string_equal (url.authority, "[::1]:8443");
    assert_string_equal (url.target, "/x");
    url = s_good ("https://[fd00::1:2]");
    assert_string_equal (url.host, "fd00::1:2");
    assert_int_equal (url.port, 443);
    assert_string_equal (url.authority, "[fd00::1:2]");
    assert_string_equal (s_good ("http://[::ffff:127.0.0.1]/").host, "::ffff:127.0.0.1");
}

static void test_query_is_kept_and_fragment_dropped (void **state) {
    (void)state;
    fb_url_t url = s_good ("http://h/search?q=a%20b&n=1#top");
    assert_string_equal (url.target, "/search?q=a%20b&n=1");
    assert_string_equal (s_good ("http://h?x=1").target, "/?x=1");
    assert_string_equal (s_good ("http://h:81?x=1#f").target, "/?x=1");
    assert_string_equal (s_good ("http://h#frag").target, "/");
    assert_string_equal (s_good ("http://h/#").target, "/");
    assert_string_equal (s_good ("http://h/a/b;c=d/~e!$'()*,+@:").target, "/a/b;c=d/~e!$'()*,+@:");
    assert_string_equal (s_good ("http://h:81#f").authority, "h:81");
}

static void test_scheme_is_case_insensitive (void **state) {
    (void)state;
    assert_false (s_good ("HTTP://H/").tls);
    assert_true (s_good ("HtTpS://h/").tls);
    assert_string_equal (s_good ("HTTP://Example.COM/").host, "Example.COM");
}

static void test_other_schemes_are_refused (void **state) {
    (void)state;
    s_bad ("ftp://example.com/", 0, "the scheme \"ftp\" is not supported: only http and https");
    s_bad ("ws://h/", 0, "\"ws\" is not supported");
    s_bad ("httpss://h/", 0, "\"httpss\" is not supported");
    s_bad ("example.com/", 0, "expected a URL that starts with http:// or https://");
    s_bad ("", 0, "expected a URL that starts with http://");
    s_bad (" http://h/", 0, "starts with http://");
    s_bad ("http:/h/", 5, "expected // after http:");
    s_bad ("https:h", 6, "expected // after https:");
    fb_url_t url;
    fb_err_t err;
    assert_int_equal (fb_url_parse (NULL, &url, NULL, &err), -1); /* col_p may be NULL */
}

static void test_user_names_are_refused (void **state) {
    (void)state;
    s_bad ("http://user@h/", 11, "user@host is not supported");
    s_bad ("http://user:pw@h:80/", 14, "no user name");
    /* An @ in the path is only a byte of the path. */
    assert_string_equal (s_good ("http://h/@x").target, "/@x");
}

static void test_bad_hosts_say_where (void **state) {
    (void)state;
    s_bad ("http:///x", 7, "expected a host name or address after //");
    s_bad ("http://", 7, "expected a host");
    s_bad ("http://:80/", 7, "expected a host before the port");
    s_bad ("http://a..b/", 9, "empty label");
    s_bad ("http://.a/", 7, "empty label");
    s_bad ("http://a./", 8, "empty label");
    s_bad ("http://a_b/", 8, "expected a host name of A-Z a-z 0-9 . - (got '_')");
    s_bad ("http://h\xc3\xa9/", 8, "(got byte 0xc3)");
    s_bad ("http://a b/", 8, "(got a space)");
    s_bad ("http://256.1.1.1/", 7, "expected an IPv4 address of four numbers 0 to 255");
    s_bad ("http://1.2.3/", 7, "IPv4 address");
    char long_name[300] = "http://";
    memset (long_name + 7, 'a', 254);
    s_bad (long_name, 7, "at most 253 characters (got 254)");
    long_name[7 + 253] = '\0';
    assert_int_equal (strlen (s_good (long_name).host), 253);
}

static void test_bad_ipv6_literals_say_where (void **state) {
    (void)state;
    s_bad ("http://[::1/", 7, "expected ] to close the IPv6 address");
    s_bad ("http://[::g]/", 8, "expected an IPv6 address between [ and ] (got \"::g\")");
    s_bad ("http://[]/", 8, "expected an IPv6 address");
    s_bad ("http://[127.0.0.1]/", 8, "IPv6 address");
    s_bad ("http://[fe80::1%25eth0]/", 8, "IPv6 address");
    s_bad ("http://[::1]x/", 12, "expected : and a port, or the path, after ]");
    s_bad ("http://::1/", 7, "an IPv6 address goes between [ and ]");
    s_bad ("http://fe80::1/", 12, "an IPv6 address goes between [ and ]");
}

static void test_bad_ports_say_where (void **state) {
    (void)state;
    s_bad ("http://h:0/", 9, "expected a port from 1 to 65535 (got 0)");
    s_bad ("http://h:65536/", 9, "(got 65536)");
    s_bad ("http://h:000080/", 9, "1 to 65535");
    s_bad ("http://h:99999999999999999999/", 9, "1 to 65535");
    s_bad ("http://h:/", 9, "expected a port after :");
    s_bad ("http://h:8x/", 10, "expected a port of digits only (got 'x')");
    s_bad ("http://h:-1/", 9, "digits only");
    s_bad ("http://[::1]:/", 13, "expected a port after :");
}

static void test_bad_paths_and_lengths (void **state) {
    (void)state;
    s_bad ("http://h/a b", 10, "expected visible ASCII in the path (got a space)");
    s_bad ("http://h/a\tb", 10, "(got byte 0x09)");
    s_bad ("http://h/\xe2\x82\xac", 9, "percent-encoded");
    s_bad ("http://h/a\x7f", 10, "byte 0x7f");
    s_bad ("http://h/a#b c", 12, "a space"); /* the fragment too: it is dropped, not ignored */
    /* The longest target that fits, and one byte more. */
    char text[FB_URL_TARGET_SIZE + 32] = "http://h/";
    memset (text + 9, 'a', FB_URL_TARGET_SIZE - 2);
    assert_int_equal (strlen (s_good (text).target), FB_URL_TARGET_SIZE - 1);
    strcat (text, "a");
    s_bad (text, 8, "at most 2047 bytes (got 2048)");
    /* "?..." gains the leading "/": counted. */
    snprintf (text, sizeof text, "http://h?");
    memset (text + 9, 'q', FB_URL_TARGET_SIZE - 2);
    text[9 + FB_URL_TARGET_SIZE - 2] = '\0';
    s_bad (text, 8, "(got 2048)");
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_fill_port_and_target),
        cmocka_unit_test (test_explicit_port_stays_in_the_authority),
        cmocka_unit_test (test_ipv6_literal_loses_its_brackets_but_not_in_the_authority),
        cmocka_unit_test (test_query_is_kept_and_fragment_dropped),
        cmocka_unit_test (test_scheme_is_case_insensitive),
        cmocka_unit_test (test_other_schemes_are_refused),
        cmocka_unit_test (test_user_names_are_refused),
        cmocka_unit_test (test_bad_hosts_say_where),
        cmocka_unit_test (test_bad_ipv6_literals_say_where),
        cmocka_unit_test (test_bad_ports_say_where),
        cmocka_unit_test (test_bad_paths_and_lengths),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

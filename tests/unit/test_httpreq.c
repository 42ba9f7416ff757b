/* test_httpreq.c: request heads as scrapers send them, and the ways they go wrong, with the
 * status each must get. */
#include "coordinator/httpreq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static fb_httpreq_status_t s_parse (const char *text, fb_httpreq_t *req) {
    return fb_httpreq_parse (text, strlen (text), req);
}

static void test_prometheus_scrape_is_a_whole_head (void **state) {
    (void)state;
    const char *head = "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n"
                       "User-Agent: Prometheus/2.42.0\r\nAccept: application/openmetrics-text;"
                       "version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
                       "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\nrest";
    fb_httpreq_t req;
    assert_int_equal (s_parse (head, &req), FB_HTTPREQ_OK);
    assert_string_equal (req.method, "GET");
    assert_string_equal (req.target, "/metrics?x=1");
    assert_string_equal (req.path, "/metrics");
    assert_int_equal (req.minor, 1);
    assert_int_equal (req.n_fields, 4);
    assert_int_equal (req.head_len, strlen (head) - strlen ("rest"));
}

static void test_bare_lf_and_http10_are_accepted (void **state) {
    (void)state;
    fb_httpreq_t req;
    assert_int_equal (s_parse ("\r\nHEAD / HTTP/1.0\n\n", &req), FB_HTTPREQ_OK);
    assert_string_equal (req.method, "HEAD");
    assert_int_equal (req.minor, 0);
}

static void test_every_prefix_of_a_head_is_partial (void **state) {
    (void)state;
    const char *head = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    fb_httpreq_t req;
    for (size_t n = 0; n < strlen (head); n++)
        assert_int_equal (fb_httpreq_parse (head, n, &req), FB_HTTPREQ_PARTIAL);
}

static void test_garbage_is_refused_at_its_first_bytes (void **state) {
    (void)state;
    fb_httpreq_t req;
    /* A TLS hello, a NUL, a space first, a method that is no token: no blank line needed. */
    assert_int_equal (fb_httpreq_parse ("\x16\x03\x01\x02\x00", 5, &req), FB_HTTPREQ_BAD);
    assert_int_equal (fb_httpreq_parse ("GET\0/", 5, &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse (" GET", &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("G(T /", &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("GET metrics HTTP/1.1\r\n", &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("GET /metrics HTTP/1.1 \r\n", &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("GET /metrics HTTP/1.1\r\nHost : x\r\n", &req), FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n", &req),
                      FB_HTTPREQ_BAD);
    assert_int_equal (s_parse ("GET /m\rx HTTP/1.1\r\n", &req), FB_HTTPREQ_BAD);
}

static void test_other_versions_get_505 (void **state) {
    (void)state;
    fb_httpreq_t req;
    assert_int_equal (s_parse ("GET / HTTP/2.0\r\n\r\n", &req), FB_HTTPREQ_VERSION);
    assert_int_equal (s_parse ("GET / HTTP/1.2\r\n\r\n", &req), FB_HTTPREQ_VERSION);
    assert_int_equal (s_parse ("GET / HTTP/3\r\n\r\n", &req), FB_HTTPREQ_VERSION);
    assert_int_equal (s_parse ("GET / HTTQ/1.1\r\n\r\n", &req), FB_HTTPREQ_BAD);
    assert_int_equal (fb_httpreq_status_code (FB_HTTPREQ_VERSION), 505);
}

static void test_limits_give_431_and_414 (void **state) {
    (void)state;
    fb_httpreq_t req;
    size_t n = FB_HTTPREQ_MAX_BYTES + 10;
    char *big = malloc (n + 1);
    assert_non_null (big);
    memset (big, 'a', n);
    memcpy (big, "GET / HTTP/1.1\r\nX: ", 19);
    big[n] = '\0';
    assert_int_equal (fb_httpreq_parse (big, n, &req), FB_HTTPREQ_TOO_LARGE);
    assert_int_equal (fb_httpreq_parse (big, FB_HTTPREQ_MAX_BYTES - 1, &req), FB_HTTPREQ_PARTIAL);
    /* Too many fields, each small. */
    char *p = big + sprintf (big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= FB_HTTPREQ_MAX_FIELDS; i++)
        p += sprintf (p, "X-%d: 1\r\n", i);
    strcpy (p, "\r\n");
    assert_int_equal (s_parse (big, &req), FB_HTTPREQ_TOO_LARGE);
    assert_int_equal (fb_httpreq_status_code (FB_HTTPREQ_TOO_LARGE), 431);
    /* A target longer than the struct holds. */
    p = big + sprintf (big, "GET /");
    memset (p, 'x', 300);
    strcpy (p + 300, " HTTP/1.1\r\n\r\n");
    assert_int_equal (s_parse (big, &req), FB_HTTPREQ_URI_LONG);
    free (big);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_prometheus_scrape_is_a_whole_head),
        cmocka_unit_test (test_bare_lf_and_http10_are_accepted),
        cmocka_unit_test (test_every_prefix_of_a_head_is_partial),
        cmocka_unit_test (test_garbage_is_refused_at_its_first_bytes),
        cmocka_unit_test (test_other_versions_get_505),
        cmocka_unit_test (test_limits_give_431_and_414),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

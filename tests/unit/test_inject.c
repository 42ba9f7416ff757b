/* test_inject.c: Brummer's HTML rewrite, byte for byte: where the script goes, gzip in and
 * out, the new head (Content-Length, no CSP), and when a response is left alone. */
#include "workloads/proxy/inject.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "tests/unit/testlib.h"

static const char *const T_SCRIPT = "<script>x()</script>";

typedef struct {
    fb_inject_t *inject;
} t_ctx_t;

static int s_setup (void **state) {
    static t_ctx_t ctx;
    ctx.inject = fb_inject_new (-1, NULL);
    *state = &ctx;
    return ctx.inject ? 0 : -1;
}

static int s_teardown (void **state) {
    t_ctx_t *ctx = *state;
    fb_inject_destroy (&ctx->inject);
    assert_null (ctx->inject);
    return 0;
}

/* Injects T_SCRIPT into a plain page and checks the exact result. */
static void s_expect_plain (fb_inject_t *inject, const char *page, const char *want) {
    const uint8_t *out;
    size_t len;
    int rc = fb_inject_body (inject, (const uint8_t *)page, strlen (page), false,
                             (const uint8_t *)T_SCRIPT, strlen (T_SCRIPT), &out, &len);
    assert_int_equal (rc, 1);
    assert_int_equal (len, strlen (want));
    assert_memory_equal (out, want, len);
}

static void test_script_goes_before_an_upper_case_body_close (void **state) {
    t_ctx_t *ctx = *state;
    s_expect_plain (ctx->inject, "<HTML><BODY>hi</BODY></HTML>",
                    "<HTML><BODY>hi<script>x()</script></BODY></HTML>");
    s_expect_plain (ctx->inject, "<html><body>a</BoDy></html>",
                    "<html><body>a<script>x()</script></BoDy></html>");
}

static void test_the_last_body_close_wins (void **state) {
    t_ctx_t *ctx = *state;
    s_expect_plain (ctx->inject, "<body><pre>&lt;/body&gt; </body></pre></body>\n",
                    "<body><pre>&lt;/body&gt; </body></pre><script>x()</script></body>\n");
}

static void test_without_body_the_script_goes_before_html_close (void **state) {
    t_ctx_t *ctx = *state;
    s_expect_plain (ctx->inject, "<html><p>no body tag</p></HTML>\n",
                    "<html><p>no body tag</p><script>x()</script></HTML>\n");
}

static void test_without_either_tag_the_script_is_appended (void **state) {
    t_ctx_t *ctx = *state;
    s_expect_plain (ctx->inject, "<p>fragment", "<p>fragment<script>x()</script>");
    s_expect_plain (ctx->inject, "", "<script>x()</script>");
    s_expect_plain (ctx->inject, "</bod", "</bod<script>x()</script>");
}

static void test_position_is_found_without_a_copy (void **state) {
    (void)state;
    const char *page = "a</body>b</BODY>c</html>";
    assert_int_equal (fb_inject_position ((const uint8_t *)page, strlen (page)), 9);
    assert_int_equal (fb_inject_position ((const uint8_t *)"x</HtMl>", 8), 1);
    assert_int_equal (fb_inject_position ((const uint8_t *)"none", 4), 4);
}

static size_t s_gzip (const char *text, uint8_t *out, size_t cap) {
    z_stream z = {0};
    assert_int_equal (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen (text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal (deflate (&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd (&z);
    return len;
}

static void test_gzip_page_comes_back_valid_gzip_with_its_length (void **state) {
    t_ctx_t *ctx = *state;
    const char *page = "<html><body><h1>big</h1></BODY></html>";
    uint8_t packed[512];
    size_t packed_len = s_gzip (page, packed, sizeof packed);
    const uint8_t *out;
    size_t len;
    assert_int_equal (fb_inject_body (ctx->inject, packed, packed_len, true,
                                      (const uint8_t *)T_SCRIPT, strlen (T_SCRIPT), &out, &len),
                      1);
    char plain[512];
    size_t plain_len = t_gunzip (out, len, plain, sizeof plain);
    const char *want = "<html><body><h1>big</h1><script>x()</script></BODY></html>";
    assert_int_equal (plain_len, strlen (want));
    assert_memory_equal (plain, want, plain_len);

    /* The head that goes with it: Content-Length is the compressed length. */
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
                       "Content-Length: 999\r\n\r\n";
    fb_bytes_t new_head = {0};
    assert_int_equal (fb_inject_head ((const uint8_t *)head, strlen (head), len, true, &new_head),
                      0);
    char want_head[256];
    snprintf (want_head, sizeof want_head,
              "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
              "Content-Length: %zu\r\n\r\n",
              len);
    assert_int_equal (new_head.len, strlen (want_head));
    assert_memory_equal (new_head.data, want_head, new_head.len);
    fb_bytes_free (&new_head);
}

static void test_head_loses_csp_and_framing_and_keeps_the_rest (void **state) {
    (void)state;
    const char *head = "HTTP/1.1 200 OK\r\n"
                       "content-security-policy: default-src 'self'\r\n"
                       "Content-Type: text/html\r\n"
                       "Transfer-Encoding: chunked\r\n"
                       "X-Content-Security-Policy: default-src 'none'\r\n"
                       "Set-Cookie: a=b\r\n"
                       "Content-Security-Policy-Report-Only: default-src 'self'\r\n"
                       "\r\n";
    fb_bytes_t out = {0};
    assert_int_equal (fb_inject_head ((const uint8_t *)head, strlen (head), 42, true, &out), 0);
    const char *want = "HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/html\r\n"
                       "Set-Cookie: a=b\r\n"
                       "Content-Security-Policy-Report-Only: default-src 'self'\r\n"
                       "Content-Length: 42\r\n"
                       "\r\n";
    assert_int_equal (out.len, strlen (want));
    assert_memory_equal (out.data, want, out.len);
    /* Without injection (bad gzip, already injected) Brummer keeps the CSP. */
    out.len = 0;
    assert_int_equal (fb_inject_head ((const uint8_t *)head, strlen (head), 7, false, &out), 0);
    assert_non_null (memmem (out.data, out.len, "content-security-policy: default", 32));
    assert_null (memmem (out.data, out.len, "chunked", 7));
    /* A head cut before its blank line is refused. */
    out.len = 0;
    assert_int_equal (
        fb_inject_head ((const uint8_t *)"HTTP/1.1 200 OK\r\nA: b\r\n", 23, 1, true, &out), -1);
    fb_bytes_free (&out);
}

static void test_bad_gzip_and_injected_pages_are_left_alone (void **state) {
    t_ctx_t *ctx = *state;
    const uint8_t junk[] = {0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7};
    const uint8_t *out;
    size_t len;
    assert_int_equal (fb_inject_body (ctx->inject, junk, sizeof junk, true,
                                      (const uint8_t *)T_SCRIPT, strlen (T_SCRIPT), &out, &len),
                      0);
    assert_ptr_equal (out, junk);
    assert_int_equal (len, sizeof junk);
    const char *done = "<body>" FB_INJECT_MARKER "</body>";
    assert_int_equal (fb_inject_body (ctx->inject, (const uint8_t *)done, strlen (done), false,
                                      (const uint8_t *)T_SCRIPT, strlen (T_SCRIPT), &out, &len),
                      0);
    assert_int_equal (len, strlen (done));
    assert_memory_equal (out, done, len);
}

static void test_only_html_navigations_are_wanted (void **state) {
    (void)state;
    fb_inject_info_t nav = {.status = 200,
                            .content_type = "text/html; charset=utf-8",
                            .accept = "text/html,application/xhtml+xml",
                            .sec_fetch_mode = "navigate",
                            .sec_fetch_dest = "document"};
    assert_true (fb_inject_wanted (&nav));
    fb_inject_info_t v = nav;
    v.status = 404;
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.content_type = "application/json";
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.content_type = NULL;
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.x_requested_with = "XMLHttpRequest";
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.sec_fetch_mode = "cors";
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.sec_fetch_dest = "empty";
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.accept = "application/json";
    assert_false (fb_inject_wanted (&v));
    v = nav;
    v.accept = "*/*";
    assert_true (fb_inject_wanted (&v));
    v = (fb_inject_info_t){.status = 200, .content_type = "TEXT/HTML"};
    assert_true (fb_inject_wanted (&v));
    assert_true (fb_inject_is_gzip (" gzip "));
    assert_true (fb_inject_is_gzip ("GZIP"));
    assert_false (fb_inject_is_gzip ("br"));
    assert_false (fb_inject_is_gzip (NULL));
}

static void test_script_block_has_markers_and_its_size (void **state) {
    (void)state;
    fb_bytes_t script = {0};
    assert_int_equal (fb_inject_script ("web", 18081, 96 * 1024, &script), 0);
    assert_true (script.len > 96 * 1024 && script.len < 96 * 1024 + 512);
    assert_non_null (memmem (script.data, script.len, FB_INJECT_MARKER, strlen (FB_INJECT_MARKER)));
    assert_non_null (memmem (script.data, script.len, "'localhost:18081'", 17));
    assert_non_null (
        memmem (script.data, script.len, "<!-- End Brummer Monitoring Script -->", 38));
    fb_bytes_free (&script);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_script_goes_before_an_upper_case_body_close),
        cmocka_unit_test (test_the_last_body_close_wins),
        cmocka_unit_test (test_without_body_the_script_goes_before_html_close),
        cmocka_unit_test (test_without_either_tag_the_script_is_appended),
        cmocka_unit_test (test_position_is_found_without_a_copy),
        cmocka_unit_test (test_gzip_page_comes_back_valid_gzip_with_its_length),
        cmocka_unit_test (test_head_loses_csp_and_framing_and_keeps_the_rest),
        cmocka_unit_test (test_bad_gzip_and_injected_pages_are_left_alone),
        cmocka_unit_test (test_only_html_navigations_are_wanted),
        cmocka_unit_test (test_script_block_has_markers_and_its_size),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

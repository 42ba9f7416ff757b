/* test_proxy.c: origin, proxy and client end to end on 127.0.0.1: every request answered,
 * the history ring keeps the last ones, HTML gets the script without its CSP, everything else
 * comes through byte for byte, and an origin that stops mid-answer costs a counted error
 * within the timeout, never a hang. Then the workload through its descriptor. No timing
 * assertions. */
#include "common/clock.h"
#include "workloads/proxy/http_client.h"
#include "workloads/proxy/http_loop.h"
#include "workloads/proxy/http_origin.h"
#include "workloads/proxy/http_proxy.h"
#include "workloads/workload.h"

#include <http_parser.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "tests/unit/testlib.h"

#define T_PORT_BASE 28080
#define T_TIMEOUT_NS (300 * FB_NS_PER_MS)

typedef struct {
    fb_http_origin_t *origin;
    fb_http_proxy_t *proxy;
    int origin_port, proxy_port;
} t_env_t;

static void s_env_up (t_env_t *env, bool inject, int history) {
    fb_err_t err = {0};
    fb_http_origin_cfg_t ocfg = {
        .port_base = T_PORT_BASE, .threads = 1, .page_bytes = 8192, .gzip = true};
    env->origin = fb_http_origin_new (&ocfg, &err);
    assert_non_null (env->origin);
    env->origin_port = fb_http_origin_port (env->origin);
    fb_http_proxy_cfg_t pcfg = {.port_base = env->origin_port + 1,
                                .threads = 2,
                                .history = history,
                                .inject = inject,
                                .script_bytes = 4096,
                                .timeout_ns = T_TIMEOUT_NS};
    env->proxy = fb_http_proxy_new (&pcfg, &err);
    assert_non_null (env->proxy);
    assert_int_equal (
        fb_http_proxy_register (env->proxy, env->origin_port, "web", &env->proxy_port, &err), 0);
    assert_int_not_equal (env->proxy_port, env->origin_port);
}

static void s_env_down (t_env_t *env) {
    fb_http_proxy_destroy (&env->proxy);
    fb_http_origin_destroy (&env->origin);
    assert_null (env->proxy);
    assert_null (env->origin);
}

static void s_request (char *out, size_t cap, const char *path, int port, bool navigate) {
    snprintf (out, cap,
              "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: %s\r\n"
              "Accept-Encoding: gzip\r\nSec-Fetch-Mode: %s\r\n\r\n",
              path, port, navigate ? "text/html,*/*;q=0.8" : "application/json",
              navigate ? "navigate" : "cors");
}

/* One response read whole over a plain blocking socket: every byte as it came. */
typedef struct {
    bool done;
} t_parse_t;

static int s_done (http_parser *p) {
    ((t_parse_t *)p->data)->done = true;
    return 0;
}

static size_t s_fetch (int port, const char *request, uint8_t *out, size_t cap) {
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons ((uint16_t)port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    assert_int_equal (connect (fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal (write (fd, request, strlen (request)), (ssize_t)strlen (request));
    http_parser parser;
    http_parser_init (&parser, HTTP_RESPONSE);
    t_parse_t state = {0};
    parser.data = &state;
    http_parser_settings settings = {.on_message_complete = s_done};
    size_t len = 0;
    while (!state.done) {
        ssize_t n = read (fd, out + len, cap - len);
        assert_true (n > 0);
        http_parser_execute (&parser, &settings, (const char *)out + len, (size_t)n);
        len += (size_t)n;
    }
    close (fd);
    return len;
}

static const uint8_t *s_body (const uint8_t *resp, size_t len, size_t *body_len) {
    const uint8_t *end = memmem (resp, len, "\r\n\r\n", 4);
    assert_non_null (end);
    *body_len = len - (size_t)(end + 4 - resp);
    return end + 4;
}

static void test_every_request_is_answered_and_history_keeps_the_last (void **state) {
    (void)state;
    t_env_t env;
    s_env_up (&env, true, 1000);
    fb_err_t err = {0};
    fb_http_client_cfg_t cfg = {
        .port = env.proxy_port, .connections = 8, .timeout_ns = 5 * FB_NS_PER_S};
    fb_http_client_t *client = fb_http_client_new (&cfg, &err);
    assert_non_null (client);
    char req[512];
    s_request (req, sizeof req, "/page", env.proxy_port, true);
    const int total = 1500;
    int sent = 0, ok = 0;
    fb_http_result_t results[8];
    while (ok < total) {
        while (sent < total && fb_http_client_send (client, req, strlen (req), (uint64_t)sent,
                                                    fb_clock_now_ns ()) >= 0)
            sent++;
        int n = fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, results, 8);
        assert_true (n > 0);
        for (int i = 0; i < n; i++) {
            assert_int_equal (results[i].outcome, FB_HTTP_OK);
            assert_int_equal (results[i].status, 200);
            ok++;
        }
    }
    assert_int_equal (fb_http_client_in_flight (client), 0);
    fb_http_client_destroy (&client);

    fb_http_proxy_stats_t stats;
    fb_http_proxy_stats (env.proxy, &stats);
    assert_int_equal (stats.requests, total);
    assert_int_equal (stats.injected, total);
    assert_int_equal (stats.bad_gateway + stats.timeouts, 0);
    static fb_http_proxy_record_t history[2000];
    assert_int_equal (fb_http_proxy_history (env.proxy, history, 2000), 1000);
    for (int i = 0; i < 1000; i++) {
        assert_string_equal (history[i].path, "/page");
        assert_string_equal (history[i].method, "GET");
        assert_int_equal (history[i].status, 200);
        assert_true (history[i].injected);
        assert_int_equal (history[i].port, env.proxy_port);
        assert_true (history[i].bytes > 1000); /* gzip of the page and the script */
    }
    s_env_down (&env);
}

static void test_html_gets_the_script_and_loses_its_csp (void **state) {
    (void)state;
    t_env_t env;
    s_env_up (&env, true, 10);
    static uint8_t direct[1 << 20], proxied[1 << 20], plain[1 << 20];
    char req[512];
    s_request (req, sizeof req, "/page", env.origin_port, true);
    size_t dlen = s_fetch (env.origin_port, req, direct, sizeof direct);
    assert_non_null (memmem (direct, dlen, "Content-Security-Policy:", 24));
    size_t plen = s_fetch (env.proxy_port, req, proxied, sizeof proxied);
    assert_null (memmem (proxied, plen, "Content-Security-Policy", 23));
    assert_non_null (memmem (proxied, plen, "Content-Encoding: gzip\r\n", 24));
    size_t body_len;
    const uint8_t *body = s_body (proxied, plen, &body_len);
    char cl[64];
    snprintf (cl, sizeof cl, "Content-Length: %zu\r\n", body_len);
    assert_non_null (memmem (proxied, plen, cl, strlen (cl)));
    size_t n = t_gunzip (body, body_len, plain, sizeof plain);
    const uint8_t *page;
    size_t page_len;
    assert_int_equal (fb_http_origin_body (env.origin, "/page", &page, &page_len), 0);
    assert_true (n > page_len);
    const uint8_t *marker = memmem (plain, n, "<!-- Brummer Monitoring Script -->", 34);
    assert_non_null (marker);
    /* the page around the script is the origin's, and the script sits before </body> */
    const uint8_t *at = memmem (page, page_len, "</body>", 7);
    size_t before = (size_t)(at - page);
    assert_memory_equal (plain, page, before);
    assert_memory_equal (plain + n - (page_len - before), page + before, page_len - before);
    s_env_down (&env);
}

static void test_other_answers_come_through_byte_for_byte (void **state) {
    (void)state;
    t_env_t env;
    s_env_up (&env, true, 10);
    static uint8_t direct[1 << 20], proxied[1 << 20];
    const char *paths[] = {"/static/logo.png", "/static/app.js", "/api/items.json", "/nothing"};
    for (int i = 0; i < 4; i++) {
        char req[512];
        s_request (req, sizeof req, paths[i], env.origin_port, i < 2);
        size_t dlen = s_fetch (env.origin_port, req, direct, sizeof direct);
        size_t plen = s_fetch (env.proxy_port, req, proxied, sizeof proxied);
        assert_int_equal (plen, dlen);
        assert_memory_equal (proxied, direct, dlen);
    }
    /* a page asked for by fetch() is not a navigation: streamed untouched, CSP and all */
    char req[512];
    s_request (req, sizeof req, "/page", env.origin_port, false);
    size_t dlen = s_fetch (env.origin_port, req, direct, sizeof direct);
    size_t plen = s_fetch (env.proxy_port, req, proxied, sizeof proxied);
    assert_int_equal (plen, dlen);
    assert_memory_equal (proxied, direct, dlen);
    s_env_down (&env);
}

/* Sends one request and returns how it ended; the wait is bounded by the client's timeout. */
static fb_http_result_t s_one (int port, const char *path, bool navigate) {
    fb_err_t err = {0};
    fb_http_client_cfg_t cfg = {.port = port, .connections = 1, .timeout_ns = 2 * FB_NS_PER_S};
    fb_http_client_t *client = fb_http_client_new (&cfg, &err);
    assert_non_null (client);
    char req[512];
    s_request (req, sizeof req, path, port, navigate);
    fb_http_result_t res;
    fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &res);
    fb_http_client_destroy (&client);
    return res;
}

static void test_truncated_origin_answer_is_a_counted_error (void **state) {
    (void)state;
    t_env_t env;
    s_env_up (&env, true, 10);
    /* buffered for injection: the proxy answers 504 at its timeout */
    fb_http_result_t res = s_one (env.proxy_port, "/fault/truncate", true);
    assert_int_equal (res.outcome, FB_HTTP_OK);
    assert_int_equal (res.status, 504);
    /* cut by the origin closing: 502 */
    res = s_one (env.proxy_port, "/fault/close", true);
    assert_int_equal (res.outcome, FB_HTTP_OK);
    assert_int_equal (res.status, 502);
    /* streamed (not a navigation): the head went out, so the client's connection is cut */
    res = s_one (env.proxy_port, "/fault/truncate", false);
    assert_int_equal (res.outcome, FB_HTTP_ECLOSED);
    /* straight to the origin, the client's own timeout ends it */
    fb_err_t err = {0};
    fb_http_client_cfg_t cfg = {
        .port = env.origin_port, .connections = 1, .timeout_ns = T_TIMEOUT_NS};
    fb_http_client_t *client = fb_http_client_new (&cfg, &err);
    char req[512];
    s_request (req, sizeof req, "/fault/truncate", env.origin_port, true);
    assert_int_equal (fb_http_client_request (client, req, strlen (req), 0, &res), -1);
    assert_int_equal (res.outcome, FB_HTTP_ETIMEOUT);
    fb_http_client_destroy (&client);
    fb_http_proxy_stats_t stats;
    fb_http_proxy_stats (env.proxy, &stats);
    assert_int_equal (stats.timeouts, 2);
    assert_int_equal (stats.bad_gateway, 1);
    /* and the proxy still serves */
    res = s_one (env.proxy_port, "/page", true);
    assert_int_equal (res.status, 200);
    s_env_down (&env);
}

static void test_refused_connection_is_a_connect_error (void **state) {
    (void)state;
    fb_err_t err = {0};
    int port = 0;
    int fd = fb_http_loop_listen (T_PORT_BASE + 500, &port, &err);
    assert_true (fd >= 0);
    close (fd); /* nobody listens there now */
    fb_http_result_t res = s_one (port, "/page", true);
    assert_int_equal (res.outcome, FB_HTTP_ECONNECT);
}

/* ---- the workload through its descriptor ------------------------------------------------ */

typedef struct {
    const fb_workload_t *wl;
    void *state;
    int worker, ops, failed;
    fb_hist_t *none[1];
} t_worker_t;

static void *s_worker_main (void *arg) {
    t_worker_t *w = arg;
    fb_wl_op_t op = {.worker = w->worker, .metrics = w->none, .rng = 7 + (uint64_t)w->worker};
    for (int i = 0; i < w->ops; i++) { /* one at a time: start, then poll to its end */
        op.seq = (uint64_t)i;
        op.intended_start_ns = fb_clock_now_ns ();
        fb_wl_done_t done = {.tag = (uint64_t)i, .rc = -1};
        if (w->wl->start (w->state, &op, (uint64_t)i) == 0)
            while (w->wl->poll (w->state, w->worker, INT64_MAX, &done, 1) == 0)
                ;
        if (done.rc != 0 || done.tag != (uint64_t)i)
            w->failed++;
    }
    return NULL;
}

/* Runs the workload with params (name, value, ..., NULL) on 2 threads, 100 ops each; fills
 * the interval's counters and the inject metric's count. */
static int s_run_workload (const char *const *pairs, int64_t *counters, int64_t *inject_count) {
    const fb_workload_t *wl = fb_workload_find ("proxy");
    assert_non_null (wl);
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    assert_int_equal (fb_params_set (&params, "port_base", "28300", &err), 0);
    for (int i = 0; pairs[i]; i += 2)
        assert_int_equal (fb_params_set (&params, pairs[i], pairs[i + 1], &err), 0);
    fb_wl_env_t env = {.workers = 2, .duration_ns = FB_NS_PER_S};
    void *state = NULL;
    assert_int_equal (fb_workload_setup (wl, &params, &env, &state, &err), 0);
    t_worker_t workers[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        workers[i] = (t_worker_t){.wl = wl, .state = state, .worker = i, .ops = 100};
        assert_int_equal (pthread_create (&threads[i], NULL, s_worker_main, &workers[i]), 0);
    }
    int failed = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join (threads[i], NULL);
        failed += workers[i].failed;
    }
    fb_hist_t *inject = fb_hist_new_default (&err);
    fb_hist_t *metrics[1] = {inject};
    wl->interval (state, metrics, counters);
    *inject_count = fb_hist_count (inject);
    fb_hist_destroy (&inject);
    fb_workload_teardown (wl, &state);
    assert_null (state);
    return failed;
}

static void test_workload_through_the_proxy_injects_every_page (void **state) {
    (void)state;
    int64_t counters[FB_MAX_COUNTERS] = {0}, inject_count = 0;
    const char *pairs[] = {"connections", "4", "script_size", "8KB", NULL};
    assert_int_equal (s_run_workload (pairs, counters, &inject_count), 0);
    assert_true (counters[0] > 200 * 8192 / 4); /* bytes: gzip pages of 8 KB + script */
    for (int c = 1; c <= 4; c++)
        assert_int_equal (counters[c], 0); /* no error of any kind */
    assert_int_equal (counters[5], 200);   /* injected */
    assert_int_equal (counters[6], 200);   /* history */
    assert_true (counters[7] > 0);         /* registration time */
    assert_int_equal (inject_count, 200);
}

static void test_workload_straight_to_the_origin_injects_nothing (void **state) {
    (void)state;
    int64_t counters[FB_MAX_COUNTERS] = {0}, inject_count = 0;
    const char *pairs[] = {"target", "origin", "paths", "browse", "gzip", "false", NULL};
    assert_int_equal (s_run_workload (pairs, counters, &inject_count), 0);
    assert_true (counters[0] > 0);
    assert_int_equal (counters[5], 0);
    assert_int_equal (inject_count, 0);
}

static void test_fewer_connections_than_threads_is_refused (void **state) {
    (void)state;
    const fb_workload_t *wl = fb_workload_find ("proxy");
    fb_params_t params;
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (&params, wl, &err), 0);
    assert_int_equal (fb_params_set (&params, "connections", "1", &err), 0);
    fb_wl_env_t env = {.workers = 2};
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "connections (1) must be at least threads (2)"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_request_is_answered_and_history_keeps_the_last),
        cmocka_unit_test (test_html_gets_the_script_and_loses_its_csp),
        cmocka_unit_test (test_other_answers_come_through_byte_for_byte),
        cmocka_unit_test (test_truncated_origin_answer_is_a_counted_error),
        cmocka_unit_test (test_refused_connection_is_a_connect_error),
        cmocka_unit_test (test_workload_through_the_proxy_injects_every_page),
        cmocka_unit_test (test_workload_straight_to_the_origin_injects_nothing),
        cmocka_unit_test (test_fewer_connections_than_threads_is_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

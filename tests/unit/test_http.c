/* test_http.c: the http workload. Its request as it goes on the wire (method, target, Host,
 * headers, body, keep-alive), its params' checks, and runs through the runner against the
 * project's loopback origin: every request answered and counted, statuses judged, a target
 * outside the allow-list refused before anything is sent. No timing assertions. */
#include "agent/allow.h"
#include "agent/runner.h"
#include "common/clock.h"
#include "workloads/http/http_target.h"
#include "workloads/proxy/http_origin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtally.h"

static fb_allow_t *s_allow (const char *text) {
    fb_err_t err = {0};
    fb_allow_t *allow = fb_allow_parse (text, strlen (text), "allow.yaml", &err);
    if (!allow)
        print_error ("%s\n", err.msg);
    assert_non_null (allow);
    return allow;
}

/* The http kind's params from name, value pairs (NULL-ended). */
static void s_params_of (fb_params_t *params, const char *const *pairs) {
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (params, fb_workload_find ("http"), &err), 0);
    for (; pairs[0]; pairs += 2)
        if (fb_params_set (params, pairs[0], pairs[1], &err) != 0)
            fail_msg ("%s", err.msg);
}

static void test_the_request_is_built_once_as_it_goes_on_the_wire (void **state) {
    (void)state;
    fb_allow_t *allow = s_allow ("http: [127.0.0.1]\n");
    fb_wl_allow_t wl_allow = fb_allow_for_workloads (allow);
    fb_params_t params;
    fb_http_target_t target = {0};
    fb_err_t err = {0};
    s_params_of (&params,
                 (const char *const[]){"url", "http://127.0.0.1:8080/a?b=1#frag", "headers",
                                       "X-One: 1\nAccept: text/html;q=0.9\n", NULL});
    assert_int_equal (fb_http_target_init (&target, &params, &wl_allow, &err), 0);
    const char *want =
        "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: fleetbench/" FB_VERSION
        "\r\nX-One: 1\r\nAccept: text/html;q=0.9\r\n\r\n";
    assert_int_equal (target.request.len, strlen (want));
    assert_memory_equal (target.request.data, want, strlen (want));
    assert_string_equal (target.addr_text, "127.0.0.1:8080");
    fb_http_target_free (&target);

    s_params_of (&params, (const char *const[]){"url", "http://127.0.0.1/", "method", "POST",
                                                "body", "{\"k\":1}", "keepalive", "false", NULL});
    memset (&target, 0, sizeof target);
    assert_int_equal (fb_http_target_init (&target, &params, &wl_allow, &err), 0);
    want = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fleetbench/" FB_VERSION
           "\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"k\":1}";
    assert_int_equal (target.request.len, strlen (want));
    assert_memory_equal (target.request.data, want, strlen (want));
    fb_http_target_free (&target);
    fb_allow_destroy (&allow);
}

static void s_check_fails (const char *const *pairs, const char *message) {
    fb_params_t params;
    fb_err_t err = {0};
    s_params_of (&params, pairs);
    assert_int_equal (fb_http_target_check_params (&params, &err), -1);
    if (!strstr (err.msg, message))
        fail_msg ("got \"%s\", expected \"%s\"", err.msg, message);
}

static void test_headers_and_statuses_are_checked (void **state) {
    (void)state;
    s_check_fails ((const char *const[]){"url", "http://a/", "headers", "no colon", NULL},
                   "headers: \"no colon\" is not a \"Name: value\" line");
    s_check_fails ((const char *const[]){"url", "http://a/", "headers", "Bad Name: 1", NULL},
                   "is not a \"Name: value\" line");
    s_check_fails ((const char *const[]){"url", "http://a/", "headers", "host: evil", NULL},
                   "headers: host is not yours to set");
    s_check_fails (
        (const char *const[]){"url", "http://a/", "headers", "Expect: 100-continue", NULL},
        "headers: Expect is not yours to set");
    s_check_fails ((const char *const[]){"url", "http://a/", "status", "2xx,", NULL},
                   "status must be");
    s_check_fails ((const char *const[]){"url", "http://a/", "status", "2xx,abc", NULL},
                   "status must be up to 16 of 200, 2xx or 200-299");
    s_check_fails ((const char *const[]){"url", "http://a/", "status", "299-200", NULL},
                   "status must be");
    s_check_fails ((const char *const[]){"url", "http://a/", "status", "600", NULL},
                   "status must be");
    fb_params_t params;
    fb_err_t err = {0};
    s_params_of (&params, (const char *const[]){"url", "http://a/", "status", "200, 3xx,401-404",
                                                "headers", "A: 1\nB-c: two words", NULL});
    assert_int_equal (fb_http_target_check_params (&params, &err), 0);
}

/* A run of the http kind against the project's origin; returns the "bytes" total. */
static int64_t s_run (int port, const char *status, const fb_allow_t *allow, t_tally_t *t,
                      fb_err_t *err) {
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/page", port);
    fb_plan_workload_t plan = {.name = "web",
                               .kind = "http",
                               .duration_ns = 200 * FB_NS_PER_MS,
                               .warmup_ns = 100 * FB_NS_PER_MS,
                               .interval_ns = 100 * FB_NS_PER_MS};
    t_params (&plan, (const char *const[]){"url", url, "threads", "2", "connections", "6", "status",
                                           status, NULL});
    t->watch = "bytes";
    fb_runner_args_t args = {
        .run_id = "h1", .plan = &plan, .sink = t_sink, .sink_arg = t, .allow = allow};
    return fb_runner_run (&args, NULL, err);
}

static void test_runs_count_every_answer_and_judge_its_status (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_http_origin_cfg_t cfg = {.port_base = 28600, .threads = 1, .page_bytes = 2048};
    fb_http_origin_t *origin = fb_http_origin_new (&cfg, &err);
    assert_non_null (origin);
    fb_allow_t *allow = s_allow ("http: [\"127.0.0.0/8\"]\n");
    t_tally_t ok = {.ordered = true}, bad = {.ordered = true};
    assert_int_equal (s_run (fb_http_origin_port (origin), "2xx", allow, &ok, &err), 0);
    int64_t ops = ok.ops[FB_PHASE_WARMUP] + ok.ops[FB_PHASE_MEASURE];
    assert_true (ops > 0);
    assert_int_equal (ok.errors[FB_PHASE_WARMUP] + ok.errors[FB_PHASE_MEASURE], 0);
    assert_true (ok.watched >= ops * 2048); /* each answer carries the page, and a head */
    assert_int_equal (ok.samples[FB_PHASE_MEASURE], ok.ops[FB_PHASE_MEASURE]);
    /* The same answers judged by a status list without 200: every one an error. */
    assert_int_equal (s_run (fb_http_origin_port (origin), "404", allow, &bad, &err), 0);
    ops = bad.ops[FB_PHASE_WARMUP] + bad.ops[FB_PHASE_MEASURE];
    assert_true (ops > 0);
    assert_int_equal (bad.errors[FB_PHASE_WARMUP] + bad.errors[FB_PHASE_MEASURE], ops);
    fb_allow_destroy (&allow);
    fb_http_origin_destroy (&origin);
}

static void test_a_target_outside_the_allow_list_is_refused_at_check (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_allow_t *allow = s_allow ("http: [\"127.0.0.1:1-1023\"]\n");
    t_tally_t t = {.ordered = true};
    assert_int_equal (s_run (8080, "2xx", allow, &t, &err), -1);
    assert_string_equal (err.msg, "web: http target 127.0.0.1 (127.0.0.1:8080) is not on this "
                                  "agent's allow-list (http: 127.0.0.1:1-1023)");
    assert_int_equal (t.reports[FB_PHASE_WARMUP] + t.reports[FB_PHASE_MEASURE], 0);
    fb_allow_destroy (&allow);
    /* and without any http: entry, nothing is allowed */
    allow = s_allow ("make: [make]\n");
    assert_int_equal (s_run (8080, "2xx", allow, &t, &err), -1);
    assert_non_null (strstr (err.msg, "(http: none)"));
    fb_allow_destroy (&allow);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_request_is_built_once_as_it_goes_on_the_wire),
        cmocka_unit_test (test_headers_and_statuses_are_checked),
        cmocka_unit_test (test_runs_count_every_answer_and_judge_its_status),
        cmocka_unit_test (test_a_target_outside_the_allow_list_is_refused_at_check),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

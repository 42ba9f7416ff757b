/* test_wire.c: every message survives pack/unpack field for field, and hostile frames
 * (garbage, random bytes, wrong version, strings too long, too many entries) are errors that
 * say which, never a crash. Hand-made frames are written with a tiny protobuf encoder below,
 * so that these tests do not depend on protobuf-c to produce what our own packer cannot. */
#include "common/wire.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- helpers ---- */

static fb_msg_t *s_round_trip (const fb_msg_t *msg) {
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    int rc = fb_wire_pack (msg, &buf, &len, &err);
    if (rc != 0)
        fail_msg ("pack failed: %s", err.msg);
    assert_non_null (buf);
    fb_msg_t *out = fb_wire_unpack (buf, len, &err);
    free (buf);
    if (!out)
        fail_msg ("unpack failed: %s", err.msg);
    assert_int_equal (out->type, msg->type);
    assert_int_equal (out->version, FB_PROTOCOL_VERSION);
    return out;
}

/* A string of exactly len characters (len < cap), distinct per seed. */
static void s_fill (char *dst, size_t cap, size_t len, char seed) {
    assert_true (len < cap);
    for (size_t i = 0; i < len; i++)
        dst[i] = (char)('a' + (seed + i) % 26);
    dst[len] = '\0';
}

/* Minimal protobuf writer for hand-made frames. */
typedef struct {
    uint8_t data[4096];
    size_t len;
} s_buf_t;

static void s_varint (s_buf_t *b, uint64_t v) {
    do {
        assert_true (b->len < sizeof b->data);
        b->data[b->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void s_field_bytes (s_buf_t *b, int field, const void *data, size_t len) {
    s_varint (b, (uint64_t)field << 3 | 2);
    s_varint (b, len);
    assert_true (b->len + len <= sizeof b->data);
    memcpy (b->data + b->len, data, len);
    b->len += len;
}

static void s_field_varint (s_buf_t *b, int field, uint64_t v) {
    s_varint (b, (uint64_t)field << 3);
    s_varint (b, v);
}

/* An envelope of the given version around one already encoded sub-message. */
static void s_envelope (s_buf_t *out, uint32_t version, int field, const s_buf_t *inner) {
    out->len = 0;
    s_field_varint (out, 1, version);
    s_field_bytes (out, field, inner->data, inner->len);
}

static void s_expect_error (const uint8_t *buf, size_t len, const char *needle) {
    fb_err_t err = {0};
    fb_msg_t *msg = fb_wire_unpack (buf, len, &err);
    if (msg)
        fail_msg ("expected an error containing \"%s\", got a %s", needle,
                  fb_wire_msg_type_name (msg->type));
    assert_int_equal (err.code, FB_EINPUT);
    if (!strstr (err.msg, needle))
        fail_msg ("error \"%s\" does not contain \"%s\"", err.msg, needle);
}

/* xorshift64*: the same "random" frames on every run and every machine. */
static uint64_t s_rand (uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

/* Whatever unpack accepts must be safe to use: counts in range, strings terminated. */
static void s_check_sane (const fb_msg_t *msg) {
    if (msg->type == FB_MSG_HELLO) {
        assert_in_range (msg->u.hello.n_labels, 0, FB_MAX_LABELS);
        assert_true (memchr (msg->u.hello.agent_id, 0, sizeof msg->u.hello.agent_id));
    } else if (msg->type == FB_MSG_PLAN) {
        assert_in_range (msg->u.plan.n_workloads, 0, FB_MAX_WORKLOADS);
        for (int i = 0; i < msg->u.plan.n_workloads; i++)
            assert_in_range (msg->u.plan.workloads[i].n_params, 0, FB_MAX_PLAN_PARAMS);
    } else if (msg->type == FB_MSG_REPORT) {
        assert_in_range (msg->u.report.n_metrics, 0, FB_MAX_REPORT_METRICS);
        assert_in_range (msg->u.report.n_counters, 0, FB_MAX_REPORT_COUNTERS);
        for (int i = 0; i < msg->u.report.n_metrics; i++)
            assert_true (msg->u.report.metrics[i].hist_len == 0 ||
                         msg->u.report.metrics[i].hist != NULL);
    }
}

/* ---- round trips ---- */

static void s_fill_fingerprint (fb_fingerprint_t *fp) {
    s_fill (fp->hostname, sizeof fp->hostname, 63, 1);
    snprintf (fp->arch, sizeof fp->arch, "aarch64");
    s_fill (fp->cpu_model, sizeof fp->cpu_model, 127, 2);
    fp->cores = 4;
    fp->mhz_max = 1800;
    fp->mhz_min = 600;
    fp->memory_bytes = 8LL * 1024 * 1024 * 1024 - 4096;
    snprintf (fp->kernel, sizeof fp->kernel, "6.1.0-rpi7-rpi-v8");
    snprintf (fp->libc, sizeof fp->libc, "glibc 2.36");
    snprintf (fp->openssl, sizeof fp->openssl, "OpenSSL 3.0.11 19 Sep 2023");
    snprintf (fp->build, sizeof fp->build, "0.1.0-g1234567-dirty");
    snprintf (fp->clocksource, sizeof fp->clocksource, "arch_sys_counter");
    snprintf (fp->board, sizeof fp->board, "Raspberry Pi 4 Model B Rev 1.4");
    snprintf (fp->cpu_flags, sizeof fp->cpu_flags, "aes sha1 sha2 pmull asimd");
    snprintf (fp->throttling, sizeof fp->throttling, "0x50005: under-voltage now");
}

static void test_hello_round_trips_every_field (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    assert_non_null (msg);
    fb_hello_t *in = &msg->u.hello;
    s_fill (in->agent_id, sizeof in->agent_id, 63, 0);
    in->n_labels = FB_MAX_LABELS;
    for (int i = 0; i < FB_MAX_LABELS; i++) {
        s_fill (in->labels[i].key, sizeof in->labels[i].key, 31, (char)i);
        s_fill (in->labels[i].value, sizeof in->labels[i].value, (size_t)i * 5, (char)i);
    }
    s_fill_fingerprint (&in->fp);
    fb_msg_t *out = s_round_trip (msg);
    const fb_hello_t *got = &out->u.hello;
    assert_string_equal (got->agent_id, in->agent_id);
    assert_int_equal (got->n_labels, FB_MAX_LABELS);
    for (int i = 0; i < FB_MAX_LABELS; i++) {
        assert_string_equal (got->labels[i].key, in->labels[i].key);
        assert_string_equal (got->labels[i].value, in->labels[i].value);
    }
    assert_string_equal (got->fp.hostname, in->fp.hostname);
    assert_string_equal (got->fp.arch, "aarch64");
    assert_string_equal (got->fp.cpu_model, in->fp.cpu_model);
    assert_int_equal (got->fp.cores, 4);
    assert_int_equal (got->fp.mhz_max, 1800);
    assert_int_equal (got->fp.mhz_min, 600);
    assert_int_equal (got->fp.memory_bytes, 8LL * 1024 * 1024 * 1024 - 4096);
    assert_string_equal (got->fp.kernel, "6.1.0-rpi7-rpi-v8");
    assert_string_equal (got->fp.libc, "glibc 2.36");
    assert_string_equal (got->fp.openssl, "OpenSSL 3.0.11 19 Sep 2023");
    assert_string_equal (got->fp.build, "0.1.0-g1234567-dirty");
    assert_string_equal (got->fp.clocksource, "arch_sys_counter");
    assert_string_equal (got->fp.board, "Raspberry Pi 4 Model B Rev 1.4");
    assert_string_equal (got->fp.cpu_flags, "aes sha1 sha2 pmull asimd");
    assert_string_equal (got->fp.throttling, "0x50005: under-voltage now");
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
    assert_null (msg);
}

static void s_fill_workload (fb_plan_workload_t *w, int i, int n_params) {
    snprintf (w->name, sizeof w->name, "workload-%d", i);
    snprintf (w->kind, sizeof w->kind, i % 2 ? "tor.circuit" : "eventbus");
    w->n_params = n_params;
    for (int p = 0; p < n_params; p++) {
        snprintf (w->params[p].name, sizeof w->params[p].name, "param%d", p);
        snprintf (w->params[p].value, sizeof w->params[p].value, "%dus", i * 100 + p);
    }
    w->rate_per_s = i == 0 ? 0.0 : 20000.5 + i;
    w->concurrency = i + 1;
    w->duration_ns = 30000000000LL + i;
    w->warmup_ns = 5000000000LL + i;
    w->interval_ns = 1000000000LL + i;
    w->n_stages = i % 2 ? FB_MAX_STAGES : 0; /* every other workload in stages, all of them */
    for (int k = 0; k < w->n_stages; k++)
        w->stages[k] = (fb_plan_stage_t){1000000000LL + k, 100.25 * (k + 1)};
    w->ramp = i % 2 ? FB_RAMP_LINEAR : FB_RAMP_STEP;
    w->arrivals = i % 3 == 2 ? FB_ARRIVALS_POISSON : FB_ARRIVALS_UNIFORM;
    w->seed = UINT64_MAX - (uint64_t)i;
    if (i % 2) { /* a capacity search on the staged ones */
        snprintf (w->capacity_metric, sizeof w->capacity_metric, "dispatch%d", i);
        w->capacity_percentile = 99.9;
        w->capacity_limit_ns = 2000000 + i;
        w->capacity_inclusive = i % 4 == 1;
    }
}

static void s_assert_workload (const fb_plan_workload_t *got, const fb_plan_workload_t *want) {
    assert_string_equal (got->name, want->name);
    assert_string_equal (got->kind, want->kind);
    assert_int_equal (got->n_params, want->n_params);
    for (int p = 0; p < want->n_params; p++) {
        assert_string_equal (got->params[p].name, want->params[p].name);
        assert_string_equal (got->params[p].value, want->params[p].value);
    }
    assert_true (got->rate_per_s == want->rate_per_s);
    assert_int_equal (got->concurrency, want->concurrency);
    assert_int_equal (got->duration_ns, want->duration_ns);
    assert_int_equal (got->warmup_ns, want->warmup_ns);
    assert_int_equal (got->interval_ns, want->interval_ns);
    assert_int_equal (got->n_stages, want->n_stages);
    for (int k = 0; k < want->n_stages; k++) {
        assert_int_equal (got->stages[k].duration_ns, want->stages[k].duration_ns);
        assert_true (got->stages[k].rate_per_s == want->stages[k].rate_per_s);
    }
    assert_int_equal (got->ramp, want->ramp);
    assert_int_equal (got->arrivals, want->arrivals);
    assert_true (got->seed == want->seed);
    assert_string_equal (got->capacity_metric, want->capacity_metric);
    assert_true (got->capacity_percentile == want->capacity_percentile);
    assert_int_equal (got->capacity_limit_ns, want->capacity_limit_ns);
    assert_int_equal (got->capacity_inclusive, want->capacity_inclusive);
}

static void test_plan_round_trips_every_field (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_PLAN);
    fb_plan_t *in = &msg->u.plan;
    snprintf (in->run_id, sizeof in->run_id, "20240501-120000-nightly");
    snprintf (in->scenario, sizeof in->scenario, "nightly-fleet");
    in->heartbeat_timeout_ns = 5000000000LL;
    in->n_workloads = 3;
    for (int i = 0; i < 3; i++)
        s_fill_workload (&in->workloads[i], i, i * 2 + 1);
    fb_msg_t *out = s_round_trip (msg);
    assert_string_equal (out->u.plan.run_id, "20240501-120000-nightly");
    assert_string_equal (out->u.plan.scenario, "nightly-fleet");
    assert_int_equal (out->u.plan.heartbeat_timeout_ns, 5000000000LL);
    assert_int_equal (out->u.plan.n_workloads, 3);
    for (int i = 0; i < 3; i++)
        s_assert_workload (&out->u.plan.workloads[i], &in->workloads[i]);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
}

static void test_largest_plan_round_trips (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_PLAN);
    fb_plan_t *in = &msg->u.plan;
    s_fill (in->run_id, sizeof in->run_id, 63, 3);
    in->n_workloads = FB_MAX_WORKLOADS;
    for (int i = 0; i < FB_MAX_WORKLOADS; i++)
        s_fill_workload (&in->workloads[i], i, FB_MAX_PLAN_PARAMS);
    fb_msg_t *out = s_round_trip (msg);
    assert_string_equal (out->u.plan.run_id, in->run_id);
    assert_int_equal (out->u.plan.n_workloads, FB_MAX_WORKLOADS);
    for (int i = 0; i < FB_MAX_WORKLOADS; i++)
        s_assert_workload (&out->u.plan.workloads[i], &in->workloads[i]);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
}

static void test_report_with_three_metrics_round_trips (void **state) {
    (void)state;
    static const size_t lengths[3] = {1, 1000, 100000};
    static const char *names[3] = {"latency", "service_time", "circuit_build"};
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_REPORT);
    fb_report_t *in = &msg->u.report;
    snprintf (in->run_id, sizeof in->run_id, "run-7");
    in->seq = UINT64_MAX - 1;
    in->workload = 5;
    in->phase = FB_PHASE_MEASURE;
    in->start_ns = -1000;
    in->end_ns = 999000000LL;
    in->wall_start_ns = 1714564800123456789LL;
    in->target_rate_per_s = 1234.5;
    in->n_metrics = 3;
    uint64_t rng = 7;
    for (int m = 0; m < 3; m++) {
        snprintf (in->metrics[m].name, sizeof in->metrics[m].name, "%s", names[m]);
        in->metrics[m].hist = malloc (lengths[m]);
        assert_non_null (in->metrics[m].hist);
        in->metrics[m].hist_len = lengths[m];
        for (size_t i = 0; i < lengths[m]; i++) /* every byte value, NULs included */
            in->metrics[m].hist[i] = (uint8_t)(i % 3 == 0 ? 0 : s_rand (&rng));
    }
    static const char *counters[3] = {"errors", "bytes_out", "timeouts"};
    static const int64_t values[3] = {0, INT64_MAX, -42};
    in->n_counters = 3;
    for (int c = 0; c < 3; c++) {
        snprintf (in->counters[c].name, sizeof in->counters[c].name, "%s", counters[c]);
        in->counters[c].value = values[c];
    }
    fb_msg_t *out = s_round_trip (msg);
    const fb_report_t *got = &out->u.report;
    assert_string_equal (got->run_id, "run-7");
    assert_true (got->seq == UINT64_MAX - 1);
    assert_int_equal (got->workload, 5);
    assert_int_equal (got->phase, FB_PHASE_MEASURE);
    assert_int_equal (got->start_ns, -1000);
    assert_int_equal (got->end_ns, 999000000LL);
    assert_int_equal (got->wall_start_ns, 1714564800123456789LL);
    assert_true (got->target_rate_per_s == 1234.5);
    assert_int_equal (got->n_metrics, 3);
    for (int m = 0; m < 3; m++) {
        assert_string_equal (got->metrics[m].name, names[m]);
        assert_int_equal (got->metrics[m].hist_len, lengths[m]);
        assert_ptr_not_equal (got->metrics[m].hist, in->metrics[m].hist);
        assert_memory_equal (got->metrics[m].hist, in->metrics[m].hist, lengths[m]);
    }
    assert_int_equal (got->n_counters, 3);
    for (int c = 0; c < 3; c++) {
        assert_string_equal (got->counters[c].name, counters[c]);
        assert_int_equal (got->counters[c].value, values[c]);
    }
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
}

static void test_small_messages_round_trip_every_field (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_READY);
    snprintf (msg->u.ready.run_id, sizeof msg->u.ready.run_id, "run-ready");
    fb_msg_t *out = s_round_trip (msg);
    assert_string_equal (out->u.ready.run_id, "run-ready");
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_START);
    snprintf (msg->u.start.run_id, sizeof msg->u.start.run_id, "run-start");
    msg->u.start.start_ns = 123456789012345LL;
    msg->u.start.coord_start_ns = 123456000000000LL;
    msg->u.start.offset_ns = -789012345LL;
    msg->u.start.rtt_ns = 250000;
    out = s_round_trip (msg);
    assert_string_equal (out->u.start.run_id, "run-start");
    assert_int_equal (out->u.start.start_ns, 123456789012345LL);
    assert_int_equal (out->u.start.coord_start_ns, 123456000000000LL);
    assert_int_equal (out->u.start.offset_ns, -789012345LL);
    assert_int_equal (out->u.start.rtt_ns, 250000);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_ACK);
    snprintf (msg->u.ack.run_id, sizeof msg->u.ack.run_id, "run-ack");
    msg->u.ack.seq = 1ULL << 40;
    out = s_round_trip (msg);
    assert_string_equal (out->u.ack.run_id, "run-ack");
    assert_true (out->u.ack.seq == 1ULL << 40);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_HEARTBEAT);
    msg->u.heartbeat.sent_ns = 3000000003LL;
    msg->u.heartbeat.echo_ns = 1000000001LL;
    msg->u.heartbeat.echo_recv_ns = 2000000002LL;
    msg->u.heartbeat.state = 4;
    out = s_round_trip (msg);
    assert_int_equal (out->u.heartbeat.sent_ns, 3000000003LL);
    assert_int_equal (out->u.heartbeat.echo_ns, 1000000001LL);
    assert_int_equal (out->u.heartbeat.echo_recv_ns, 2000000002LL);
    assert_int_equal (out->u.heartbeat.state, 4);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
}

static void test_ending_messages_round_trip_every_field (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_DONE);
    snprintf (msg->u.done.run_id, sizeof msg->u.done.run_id, "run-done");
    msg->u.done.last_seq = 99;
    msg->u.done.started_ns = 5555555555LL;
    msg->u.done.aborted = 1;
    s_fill (msg->u.done.reason, sizeof msg->u.done.reason, 127, 9);
    fb_msg_t *out = s_round_trip (msg);
    assert_string_equal (out->u.done.run_id, "run-done");
    assert_int_equal (out->u.done.last_seq, 99);
    assert_int_equal (out->u.done.started_ns, 5555555555LL);
    assert_int_equal (out->u.done.aborted, 1);
    assert_string_equal (out->u.done.reason, msg->u.done.reason);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_ABORT);
    snprintf (msg->u.abort.run_id, sizeof msg->u.abort.run_id, "run-abort");
    s_fill (msg->u.abort.reason, sizeof msg->u.abort.reason, 255, 4);
    out = s_round_trip (msg);
    assert_string_equal (out->u.abort.run_id, "run-abort");
    assert_string_equal (out->u.abort.reason, msg->u.abort.reason);
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_ERROR);
    snprintf (msg->u.error.run_id, sizeof msg->u.error.run_id, "run-error");
    msg->u.error.code = FB_ESTATE;
    snprintf (msg->u.error.message, sizeof msg->u.error.message, "agent is busy with run-1");
    out = s_round_trip (msg);
    assert_string_equal (out->u.error.run_id, "run-error");
    assert_int_equal (out->u.error.code, FB_ESTATE);
    assert_string_equal (out->u.error.message, "agent is busy with run-1");
    fb_wire_msg_destroy (&out);
    fb_wire_msg_destroy (&msg);
}

static void test_message_names_and_bad_types (void **state) {
    (void)state;
    assert_string_equal (fb_wire_msg_type_name (FB_MSG_HELLO), "HELLO");
    assert_string_equal (fb_wire_msg_type_name (FB_MSG_HEARTBEAT), "HEARTBEAT");
    assert_string_equal (fb_wire_msg_type_name (FB_MSG_ERROR), "ERROR");
    assert_string_equal (fb_wire_msg_type_name ((fb_msg_type_t)77), "UNKNOWN");
    assert_null (fb_wire_msg_new ((fb_msg_type_t)0));
    assert_null (fb_wire_msg_new ((fb_msg_type_t)(FB_MSG_ERROR + 1)));
    fb_wire_msg_destroy (NULL);
    fb_msg_t *none = NULL;
    fb_wire_msg_destroy (&none);
}

/* ---- hostile frames ---- */

static void test_empty_frame_is_rejected (void **state) {
    (void)state;
    uint8_t byte = 0;
    s_expect_error (&byte, 0, "empty frame");
    s_expect_error (NULL, 0, "empty frame");
    s_expect_error (NULL, 10, "empty frame");
}

static void test_garbage_is_an_error_not_a_crash (void **state) {
    (void)state;
    static const char *garbage[] = {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "hello world",
                                    "\x0f", "\x12\x7f\x01"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        s_expect_error ((const uint8_t *)garbage[i], strlen (garbage[i]), "undecodable");
    /* A valid frame cut short. */
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_ABORT);
    snprintf (msg->u.abort.reason, sizeof msg->u.abort.reason, "operator pressed ctrl-c");
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len - 3, "undecodable");
    free (buf);
    fb_wire_msg_destroy (&msg);
}

static void test_random_bytes_never_crash (void **state) {
    (void)state;
    uint64_t rng = 0x5eed5eed5eedULL;
    uint8_t buf[512];
    int accepted = 0;
    for (int round = 0; round < 10000; round++) {
        size_t len = 1 + s_rand (&rng) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)s_rand (&rng);
        if (round % 2) { /* half of them: an envelope of our version around random bytes */
            len = 4 + s_rand (&rng) % 124;
            buf[0] = 0x08;
            buf[1] = 0x01;
            buf[2] = (uint8_t)((2 + s_rand (&rng) % 10) << 3 | 2);
            buf[3] = (uint8_t)(len - 4);
        }
        fb_err_t err = {0};
        fb_msg_t *msg = fb_wire_unpack (buf, len, &err);
        if (msg) {
            s_check_sane (msg);
            accepted++;
            fb_wire_msg_destroy (&msg);
        } else
            assert_true (err.msg[0] != '\0');
    }
    print_message ("random frames accepted: %d of 10000\n", accepted);
}

/* Flips a few bytes of valid frames and cuts some short: decodable but wrong frames reach the
 * copy and range checks, where plain random bytes rarely get. */
static void s_mutate (const fb_msg_t *msg, uint64_t seed) {
    uint8_t *good = NULL;
    size_t len = 0;
    assert_int_equal (fb_wire_pack (msg, &good, &len, NULL), 0);
    uint8_t *buf = malloc (len);
    assert_non_null (buf);
    int accepted = 0;
    for (int round = 0; round < 10000; round++) {
        memcpy (buf, good, len);
        int flips = 1 + (int)(s_rand (&seed) % 4);
        for (int f = 0; f < flips; f++)
            buf[s_rand (&seed) % len] = (uint8_t)s_rand (&seed);
        size_t cut = round % 3 ? len : 1 + s_rand (&seed) % len;
        fb_msg_t *out = fb_wire_unpack (buf, cut, NULL);
        if (out) {
            s_check_sane (out);
            accepted++;
        }
        fb_wire_msg_destroy (&out);
    }
    print_message ("mutated %s frames accepted: %d of 10000\n", fb_wire_msg_type_name (msg->type),
                   accepted);
    free (buf);
    free (good);
}

static void test_mutated_valid_frames_never_crash (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_PLAN);
    snprintf (msg->u.plan.run_id, sizeof msg->u.plan.run_id, "run-mutate");
    msg->u.plan.n_workloads = 4;
    for (int i = 0; i < 4; i++)
        s_fill_workload (&msg->u.plan.workloads[i], i, 3);
    s_mutate (msg, 12345);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_REPORT);
    msg->u.report.n_metrics = 2;
    msg->u.report.n_counters = 2;
    for (int m = 0; m < 2; m++) {
        snprintf (msg->u.report.metrics[m].name, sizeof msg->u.report.metrics[m].name, "m%d", m);
        msg->u.report.metrics[m].hist = calloc (1, 40);
        assert_non_null (msg->u.report.metrics[m].hist);
        msg->u.report.metrics[m].hist_len = 40;
        snprintf (msg->u.report.counters[m].name, sizeof msg->u.report.counters[m].name, "c%d", m);
    }
    s_mutate (msg, 777);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_HELLO);
    snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "pi5");
    msg->u.hello.n_labels = 2;
    s_fill_fingerprint (&msg->u.hello.fp);
    s_mutate (msg, 4242);
    fb_wire_msg_destroy (&msg);
}

static void test_wrong_version_is_rejected_with_its_number (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "pi4-a");
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    /* Field 1 (version) comes first as the varint 0x08 0x01. */
    assert_int_equal (buf[0], 0x08);
    assert_int_equal (buf[1], FB_PROTOCOL_VERSION);
    buf[1] = 99;
    fb_err_t err = {0};
    assert_null (fb_wire_unpack (buf, len, &err));
    assert_int_equal (err.code, FB_EINPUT);
    char want[64];
    snprintf (want, sizeof want, "protocol version 99, this build speaks %d", FB_PROTOCOL_VERSION);
    assert_string_equal (err.msg, want);
    free (buf);
    fb_wire_msg_destroy (&msg);

    /* No version at all is version 0. */
    s_buf_t ready = {.len = 0}, env = {.len = 0};
    s_field_bytes (&ready, 1, "r", 1);
    env.len = 0;
    s_field_bytes (&env, 4, ready.data, ready.len);
    s_expect_error (env.data, env.len, "protocol version 0, this build speaks");
}

static void test_envelope_without_message_is_rejected (void **state) {
    (void)state;
    const uint8_t version_only[] = {0x08, FB_PROTOCOL_VERSION};
    s_expect_error (version_only, sizeof version_only, "envelope carries no message");
    /* A field number this build does not know is skipped, leaving no message. */
    s_buf_t env = {.len = 0};
    s_field_varint (&env, 1, FB_PROTOCOL_VERSION);
    s_field_bytes (&env, 40, "x", 1);
    s_expect_error (env.data, env.len, "envelope carries no message");
}

static void test_string_one_byte_too_long_is_rejected (void **state) {
    (void)state;
    char run_id[65];
    memset (run_id, 'x', sizeof run_id);
    s_buf_t ready = {.len = 0}, env = {.len = 0};
    s_field_bytes (&ready, 1, run_id, 63); /* fills fb_ready_t.run_id[64] exactly */
    s_envelope (&env, FB_PROTOCOL_VERSION, 4, &ready);
    fb_msg_t *msg = fb_wire_unpack (env.data, env.len, NULL);
    assert_non_null (msg);
    assert_int_equal (strlen (msg->u.ready.run_id), 63);
    fb_wire_msg_destroy (&msg);

    ready.len = 0;
    s_field_bytes (&ready, 1, run_id, 64);
    s_envelope (&env, FB_PROTOCOL_VERSION, 4, &ready);
    s_expect_error (env.data, env.len, "ready.run_id is 64 bytes long, at most 63 fit");

    /* Nested: the key of the third label of a Hello. */
    char key[32];
    memset (key, 'k', sizeof key);
    s_buf_t label = {.len = 0}, hello = {.len = 0};
    s_field_bytes (&label, 1, key, 32);
    s_field_bytes (&hello, 1, "agent", 5);
    s_field_bytes (&hello, 2, "", 0);
    s_field_bytes (&hello, 2, "", 0);
    s_field_bytes (&hello, 2, label.data, label.len);
    s_envelope (&env, FB_PROTOCOL_VERSION, 2, &hello);
    s_expect_error (env.data, env.len, "hello.labels[2].key is 32 bytes long, at most 31 fit");
}

static void test_too_many_entries_are_rejected (void **state) {
    (void)state;
    s_buf_t hello = {.len = 0}, env = {.len = 0};
    for (int i = 0; i < FB_MAX_LABELS + 1; i++)
        s_field_bytes (&hello, 2, "", 0);
    s_envelope (&env, FB_PROTOCOL_VERSION, 2, &hello);
    s_expect_error (env.data, env.len, "hello.labels has 17 entries, at most 16");

    s_buf_t report = {.len = 0};
    s_field_bytes (&report, 1, "run", 3);
    for (int i = 0; i < FB_MAX_REPORT_METRICS + 1; i++)
        s_field_bytes (&report, 8, "\x0a\x01m\x12\x02\x00\xff", 7);
    s_envelope (&env, FB_PROTOCOL_VERSION, 6, &report);
    char want[64];
    snprintf (want, sizeof want, "report.metrics has %d entries, at most %d",
              FB_MAX_REPORT_METRICS + 1, FB_MAX_REPORT_METRICS);
    s_expect_error (env.data, env.len, want);
}

static void test_out_of_range_numbers_are_rejected (void **state) {
    (void)state;
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_REPORT);
    msg->u.report.phase = 7;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "report.phase is 7");
    free (buf);
    msg->u.report.phase = FB_PHASE_WARMUP;
    msg->u.report.workload = -1;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "report.workload is -1");
    free (buf);
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_PLAN);
    msg->u.plan.n_workloads = 2;
    msg->u.plan.workloads[1].rate_per_s = NAN;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "plan.workloads[1].rate_per_s is nan");
    free (buf);
    msg->u.plan.workloads[1].rate_per_s = 10;
    msg->u.plan.workloads[1].duration_ns = -5;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "plan.workloads[1].duration_ns is -5, it cannot be negative");
    free (buf);
    msg->u.plan.workloads[1].duration_ns = 5;
    msg->u.plan.workloads[1].n_stages = 1;
    msg->u.plan.workloads[1].stages[0] = (fb_plan_stage_t){5, 0};
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "plan.workloads[1].stages[0] must have a positive duration");
    free (buf);
    msg->u.plan.workloads[1].stages[0] = (fb_plan_stage_t){5, 10};
    msg->u.plan.workloads[1].ramp = 2;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "plan.workloads[1]: ramp 2 or arrivals 0 is not 0 or 1");
    free (buf);
    msg->u.plan.workloads[1].ramp = 0;
    snprintf (msg->u.plan.workloads[1].capacity_metric, 32, "latency");
    msg->u.plan.workloads[1].capacity_percentile = 101;
    msg->u.plan.workloads[1].capacity_limit_ns = 1;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "plan.workloads[1]: a capacity search needs steps, a percentile");
    free (buf);
    fb_wire_msg_destroy (&msg);
    msg = fb_wire_msg_new (FB_MSG_REPORT);
    msg->u.report.target_rate_per_s = -1;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, NULL), 0);
    s_expect_error (buf, len, "report.target_rate_per_s is -1");
    free (buf);
    fb_wire_msg_destroy (&msg);
}

static void test_pack_refuses_what_it_cannot_send (void **state) {
    (void)state;
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    msg->u.hello.n_labels = FB_MAX_LABELS + 1;
    assert_int_equal (fb_wire_pack (msg, &buf, &len, &err), -1);
    assert_null (buf);
    assert_non_null (strstr (err.msg, "n_labels = 17"));
    msg->u.hello.n_labels = 0;
    memset (msg->u.hello.agent_id, 'a', sizeof msg->u.hello.agent_id);
    assert_int_equal (fb_wire_pack (msg, &buf, &len, &err), -1);
    assert_non_null (strstr (err.msg, "agent_id"));
    fb_wire_msg_destroy (&msg);

    msg = fb_wire_msg_new (FB_MSG_REPORT); /* one histogram over the frame limit */
    msg->u.report.n_metrics = 1;
    msg->u.report.metrics[0].hist_len = FB_MAX_FRAME_BYTES + 1;
    msg->u.report.metrics[0].hist = calloc (1, FB_MAX_FRAME_BYTES + 1);
    assert_non_null (msg->u.report.metrics[0].hist);
    assert_int_equal (fb_wire_pack (msg, &buf, &len, &err), -1);
    assert_non_null (strstr (err.msg, "frame limit"));
    fb_wire_msg_destroy (&msg);

    fb_msg_t bad = {.type = (fb_msg_type_t)42};
    assert_int_equal (fb_wire_pack (&bad, &buf, &len, &err), -1);
    assert_non_null (strstr (err.msg, "unknown type 42"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hello_round_trips_every_field),
        cmocka_unit_test (test_plan_round_trips_every_field),
        cmocka_unit_test (test_largest_plan_round_trips),
        cmocka_unit_test (test_report_with_three_metrics_round_trips),
        cmocka_unit_test (test_small_messages_round_trip_every_field),
        cmocka_unit_test (test_ending_messages_round_trip_every_field),
        cmocka_unit_test (test_message_names_and_bad_types),
        cmocka_unit_test (test_empty_frame_is_rejected),
        cmocka_unit_test (test_garbage_is_an_error_not_a_crash),
        cmocka_unit_test (test_random_bytes_never_crash),
        cmocka_unit_test (test_mutated_valid_frames_never_crash),
        cmocka_unit_test (test_wrong_version_is_rejected_with_its_number),
        cmocka_unit_test (test_envelope_without_message_is_rejected),
        cmocka_unit_test (test_string_one_byte_too_long_is_rejected),
        cmocka_unit_test (test_too_many_entries_are_rejected),
        cmocka_unit_test (test_out_of_range_numbers_are_rejected),
        cmocka_unit_test (test_pack_refuses_what_it_cannot_send),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

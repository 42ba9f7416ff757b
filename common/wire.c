/* wire.c: our message structs to and from protobuf-c Envelopes (proto/fleetbench.proto). The
 * only place that knows the protobuf encoding. Unpacking treats every frame as hostile: a
 * string too long for its field, too many entries or a number out of range is an error that
 * names the field, never a truncation and never a crash (tests/fuzz drives this file). */
#include "common/wire.h"

#include "fleetbench.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch for packing: protobuf-c wants pointers to sub-messages and arrays of pointers for
 * repeated fields, so the whole tree for one message lives here until it is packed. Only the
 * member of the union for the message's type is used. */
typedef struct {
    Fleetbench__Hello hello;
    Fleetbench__Fingerprint fp;
    Fleetbench__Label labels[FB_MAX_LABELS];
    Fleetbench__Label *label_ptrs[FB_MAX_LABELS];
} s_hello_pb_t;

typedef struct {
    Fleetbench__Plan plan;
    Fleetbench__PlanWorkload workloads[FB_MAX_WORKLOADS];
    Fleetbench__PlanWorkload *workload_ptrs[FB_MAX_WORKLOADS];
    Fleetbench__PlanParam params[FB_MAX_WORKLOADS][FB_MAX_PLAN_PARAMS];
    Fleetbench__PlanParam *param_ptrs[FB_MAX_WORKLOADS][FB_MAX_PLAN_PARAMS];
    Fleetbench__PlanStage stages[FB_MAX_WORKLOADS][FB_MAX_STAGES];
    Fleetbench__PlanStage *stage_ptrs[FB_MAX_WORKLOADS][FB_MAX_STAGES];
} s_plan_pb_t;

typedef struct {
    Fleetbench__Report report;
    Fleetbench__ReportMetric metrics[FB_MAX_REPORT_METRICS];
    Fleetbench__ReportMetric *metric_ptrs[FB_MAX_REPORT_METRICS];
    Fleetbench__ReportCounter counters[FB_MAX_REPORT_COUNTERS];
    Fleetbench__ReportCounter *counter_ptrs[FB_MAX_REPORT_COUNTERS];
} s_report_pb_t;

typedef struct {
    Fleetbench__Envelope env;
    fb_err_t *err;
    int failed; /* the first bad field has been reported in err */
    union {
        s_hello_pb_t hello;
        s_plan_pb_t plan;
        Fleetbench__Ready ready;
        Fleetbench__Start start;
        s_report_pb_t report;
        Fleetbench__Ack ack;
        Fleetbench__Heartbeat heartbeat;
        Fleetbench__Done done;
        Fleetbench__Abort abort;
        Fleetbench__Error error;
    } u;
} s_pack_t;

/* Our strings are fixed arrays: one without its NUL would make protobuf-c read past the end,
 * so it is refused here (a bug in the caller, but not one worth a crash). */
static char *s_str (s_pack_t *self, const char *value, size_t cap, const char *field) {
    if (memchr (value, '\0', cap) == NULL) {
        if (!self->failed)
            fb_err_set (self->err, FB_EINPUT, "cannot pack %s: it has no terminating NUL", field);
        self->failed = 1;
        return (char *)protobuf_c_empty_string;
    }
    return (char *)value;
}
#define S_STR(self, member) s_str ((self), (member), sizeof (member), #member)

static int s_count (s_pack_t *self, int n, int max, const char *field) {
    if (n < 0 || n > max) {
        if (!self->failed)
            fb_err_set (self->err, FB_EINPUT, "cannot pack %s = %d: it must be 0..%d", field, n,
                        max);
        self->failed = 1;
        return 0;
    }
    return n;
}

static void s_pack_fingerprint (s_pack_t *self, const fb_fingerprint_t *in,
                                Fleetbench__Fingerprint *out) {
    fleetbench__fingerprint__init (out);
    out->hostname = S_STR (self, in->hostname);
    out->arch = S_STR (self, in->arch);
    out->cpu_model = S_STR (self, in->cpu_model);
    out->cores = in->cores;
    out->mhz_max = in->mhz_max;
    out->mhz_min = in->mhz_min;
    out->memory_bytes = in->memory_bytes;
    out->kernel = S_STR (self, in->kernel);
    out->libc = S_STR (self, in->libc);
    out->openssl = S_STR (self, in->openssl);
    out->build = S_STR (self, in->build);
    out->clocksource = S_STR (self, in->clocksource);
    out->board = S_STR (self, in->board);
    out->cpu_flags = S_STR (self, in->cpu_flags);
    out->throttling = S_STR (self, in->throttling);
}

static void s_pack_hello (s_pack_t *self, const fb_hello_t *in) {
    s_hello_pb_t *pb = &self->u.hello;
    fleetbench__hello__init (&pb->hello);
    pb->hello.agent_id = S_STR (self, in->agent_id);
    int n = s_count (self, in->n_labels, FB_MAX_LABELS, "hello.n_labels");
    for (int i = 0; i < n; i++) {
        fleetbench__label__init (&pb->labels[i]);
        pb->labels[i].key = S_STR (self, in->labels[i].key);
        pb->labels[i].value = S_STR (self, in->labels[i].value);
        pb->label_ptrs[i] = &pb->labels[i];
    }
    pb->hello.n_labels = (size_t)n;
    pb->hello.labels = pb->label_ptrs;
    s_pack_fingerprint (self, &in->fp, &pb->fp);
    pb->hello.fp = &pb->fp;
    pb->hello.instance = in->instance;
    self->env.msg_case = FLEETBENCH__ENVELOPE__MSG_HELLO;
    self->env.hello = &pb->hello;
}

static void s_pack_workload (s_pack_t *self, const fb_plan_workload_t *in, int index) {
    s_plan_pb_t *pb = &self->u.plan;
    Fleetbench__PlanWorkload *out = &pb->workloads[index];
    fleetbench__plan_workload__init (out);
    out->name = S_STR (self, in->name);
    out->kind = S_STR (self, in->kind);
    int n = s_count (self, in->n_params, FB_MAX_PLAN_PARAMS, "plan.workloads[].n_params");
    for (int i = 0; i < n; i++) {
        Fleetbench__PlanParam *param = &pb->params[index][i];
        fleetbench__plan_param__init (param);
        param->name = S_STR (self, in->params[i].name);
        param->value = S_STR (self, in->params[i].value);
        pb->param_ptrs[index][i] = param;
    }
    out->n_params = (size_t)n;
    out->params = pb->param_ptrs[index];
    out->rate_per_s = in->rate_per_s;
    out->concurrency = in->concurrency;
    out->duration_ns = in->duration_ns;
    out->warmup_ns = in->warmup_ns;
    out->interval_ns = in->interval_ns;
    n = s_count (self, in->n_stages, FB_MAX_STAGES, "plan.workloads[].n_stages");
    for (int i = 0; i < n; i++) {
        Fleetbench__PlanStage *stage = &pb->stages[index][i];
        fleetbench__plan_stage__init (stage);
        stage->duration_ns = in->stages[i].duration_ns;
        stage->rate_per_s = in->stages[i].rate_per_s;
        pb->stage_ptrs[index][i] = stage;
    }
    out->n_stages = (size_t)n;
    out->stages = pb->stage_ptrs[index];
    out->ramp = in->ramp;
    out->arrivals = in->arrivals;
    out->seed = in->seed;
    out->capacity_metric = S_STR (self, in->capacity_metric);
    out->capacity_percentile = in->capacity_percentile;
    out->capacity_limit_ns = in->capacity_limit_ns;
    out->capacity_inclusive = in->capacity_inclusive != 0;
    pb->workload_ptrs[index] = out;
}

static void s_pack_plan (s_pack_t *self, const fb_plan_t *in) {
    s_plan_pb_t *pb = &self->u.plan;
    fleetbench__plan__init (&pb->plan);
    pb->plan.run_id = S_STR (self, in->run_id);
    pb->plan.scenario = S_STR (self, in->scenario);
    pb->plan.heartbeat_timeout_ns = in->heartbeat_timeout_ns;
    int n = s_count (self, in->n_workloads, FB_MAX_WORKLOADS, "plan.n_workloads");
    for (int i = 0; i < n; i++)
        s_pack_workload (self, &in->workloads[i], i);
    pb->plan.n_workloads = (size_t)n;
    pb->plan.workloads = pb->workload_ptrs;
    self->env.msg_case = FLEETBENCH__ENVELOPE__MSG_PLAN;
    self->env.plan = &pb->plan;
}

static void s_pack_report (s_pack_t *self, const fb_report_t *in) {
    s_report_pb_t *pb = &self->u.report;
    fleetbench__report__init (&pb->report);
    pb->report.run_id = S_STR (self, in->run_id);
    pb->report.seq = in->seq;
    pb->report.workload = in->workload;
    pb->report.phase = in->phase;
    pb->report.start_ns = in->start_ns;
    pb->report.end_ns = in->end_ns;
    pb->report.wall_start_ns = in->wall_start_ns;
    pb->report.target_rate_per_s = in->target_rate_per_s;
    int n = s_count (self, in->n_metrics, FB_MAX_REPORT_METRICS, "report.n_metrics");
    for (int i = 0; i < n; i++) {
        const fb_report_metric_t *metric = &in->metrics[i];
        fleetbench__report_metric__init (&pb->metrics[i]);
        pb->metrics[i].name = S_STR (self, metric->name);
        if (metric->hist_len > 0 && !metric->hist && !self->failed) {
            fb_err_set (self->err, FB_EINPUT, "cannot pack report.metrics[%d]: no histogram", i);
            self->failed = 1;
        }
        pb->metrics[i].hist.len = metric->hist ? metric->hist_len : 0;
        pb->metrics[i].hist.data = metric->hist;
        pb->metric_ptrs[i] = &pb->metrics[i];
    }
    pb->report.n_metrics = (size_t)n;
    pb->report.metrics = pb->metric_ptrs;
    n = s_count (self, in->n_counters, FB_MAX_REPORT_COUNTERS, "report.n_counters");
    for (int i = 0; i < n; i++) {
        fleetbench__report_counter__init (&pb->counters[i]);
        pb->counters[i].name = S_STR (self, in->counters[i].name);
        pb->counters[i].value = in->counters[i].value;
        pb->counter_ptrs[i] = &pb->counters[i];
    }
    pb->report.n_counters = (size_t)n;
    pb->report.counters = pb->counter_ptrs;
    self->env.msg_case = FLEETBENCH__ENVELOPE__MSG_REPORT;
    self->env.report = &pb->report;
}

static void s_pack_small (s_pack_t *self, const fb_msg_t *msg) {
    Fleetbench__Envelope *env = &self->env;
    switch (msg->type) {
    case FB_MSG_READY:
        fleetbench__ready__init (&self->u.ready);
        self->u.ready.run_id = S_STR (self, msg->u.ready.run_id);
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_READY;
        env->ready = &self->u.ready;
        break;
    case FB_MSG_START: {
        const fb_start_t *in = &msg->u.start;
        Fleetbench__Start *out = &self->u.start;
        fleetbench__start__init (out);
        out->run_id = S_STR (self, in->run_id);
        out->start_ns = in->start_ns;
        out->coord_start_ns = in->coord_start_ns;
        out->offset_ns = in->offset_ns;
        out->rtt_ns = in->rtt_ns;
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_START;
        env->start = out;
        break;
    }
    case FB_MSG_ACK:
        fleetbench__ack__init (&self->u.ack);
        self->u.ack.run_id = S_STR (self, msg->u.ack.run_id);
        self->u.ack.seq = msg->u.ack.seq;
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_ACK;
        env->ack = &self->u.ack;
        break;
    case FB_MSG_HEARTBEAT: {
        const fb_heartbeat_t *in = &msg->u.heartbeat;
        Fleetbench__Heartbeat *out = &self->u.heartbeat;
        fleetbench__heartbeat__init (out);
        out->sent_ns = in->sent_ns;
        out->echo_ns = in->echo_ns;
        out->echo_recv_ns = in->echo_recv_ns;
        out->state = in->state;
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_HEARTBEAT;
        env->heartbeat = out;
        break;
    }
    default:
        break;
    }
}

static void s_pack_ending (s_pack_t *self, const fb_msg_t *msg) {
    Fleetbench__Envelope *env = &self->env;
    switch (msg->type) {
    case FB_MSG_DONE: {
        const fb_done_t *in = &msg->u.done;
        Fleetbench__Done *out = &self->u.done;
        fleetbench__done__init (out);
        out->run_id = S_STR (self, in->run_id);
        out->last_seq = in->last_seq;
        out->started_ns = in->started_ns;
        out->aborted = in->aborted != 0;
        out->reason = S_STR (self, in->reason);
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_DONE;
        env->done = out;
        break;
    }
    case FB_MSG_ABORT:
        fleetbench__abort__init (&self->u.abort);
        self->u.abort.run_id = S_STR (self, msg->u.abort.run_id);
        self->u.abort.reason = S_STR (self, msg->u.abort.reason);
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_ABORT;
        env->abort = &self->u.abort;
        break;
    case FB_MSG_ERROR:
        fleetbench__error__init (&self->u.error);
        self->u.error.run_id = S_STR (self, msg->u.error.run_id);
        self->u.error.code = msg->u.error.code;
        self->u.error.message = S_STR (self, msg->u.error.message);
        self->u.error.instance = msg->u.error.instance;
        env->msg_case = FLEETBENCH__ENVELOPE__MSG_ERROR;
        env->error = &self->u.error;
        break;
    default:
        break;
    }
}

/* ---- unpacking: every value below comes from the network ---- */

/* Copies a string into a fixed field; too long is an error naming the field (field_fmt and
 * its arguments), because a cut run id or workload name would silently mean another one. */
__attribute__ ((format (printf, 5, 6))) static int
s_copy (char *dst, size_t cap, const char *src, fb_err_t *err, const char *field_fmt, ...) {
    if (!src)
        src = "";
    size_t len = strlen (src);
    if (len >= cap) {
        char field[96];
        va_list ap;
        va_start (ap, field_fmt);
        vsnprintf (field, sizeof field, field_fmt, ap);
        va_end (ap);
        return fb_err_set (err, FB_EINPUT, "%s is %zu bytes long, at most %zu fit", field, len,
                           cap - 1);
    }
    memcpy (dst, src, len + 1);
    return 0;
}

static int s_check_count (size_t n, int max, const char *what, fb_err_t *err) {
    if (n > (size_t)max)
        return fb_err_set (err, FB_EINPUT, "%s has %zu entries, at most %d are allowed", what, n,
                           max);
    return 0;
}

static int s_unpack_fingerprint (const Fleetbench__Fingerprint *in, fb_fingerprint_t *out,
                                 fb_err_t *err) {
    if (!in)
        return 0; /* absent: an agent that could read nothing about its host */
    if (s_copy (out->hostname, sizeof out->hostname, in->hostname, err, "hello.fp.hostname") ||
        s_copy (out->arch, sizeof out->arch, in->arch, err, "hello.fp.arch") ||
        s_copy (out->cpu_model, sizeof out->cpu_model, in->cpu_model, err, "hello.fp.cpu_model") ||
        s_copy (out->kernel, sizeof out->kernel, in->kernel, err, "hello.fp.kernel") ||
        s_copy (out->libc, sizeof out->libc, in->libc, err, "hello.fp.libc") ||
        s_copy (out->openssl, sizeof out->openssl, in->openssl, err, "hello.fp.openssl") ||
        s_copy (out->build, sizeof out->build, in->build, err, "hello.fp.build") ||
        s_copy (out->clocksource, sizeof out->clocksource, in->clocksource, err,
                "hello.fp.clocksource") ||
        s_copy (out->board, sizeof out->board, in->board, err, "hello.fp.board") ||
        s_copy (out->cpu_flags, sizeof out->cpu_flags, in->cpu_flags, err, "hello.fp.cpu_flags") ||
        s_copy (out->throttling, sizeof out->throttling, in->throttling, err,
                "hello.fp.throttling"))
        return -1;
    out->cores = in->cores;
    out->mhz_max = in->mhz_max;
    out->mhz_min = in->mhz_min;
    out->memory_bytes = in->memory_bytes;
    return 0;
}

static int s_unpack_hello (const Fleetbench__Hello *in, fb_hello_t *out, fb_err_t *err) {
    if (s_copy (out->agent_id, sizeof out->agent_id, in->agent_id, err, "hello.agent_id") ||
        s_check_count (in->n_labels, FB_MAX_LABELS, "hello.labels", err))
        return -1;
    for (size_t i = 0; i < in->n_labels; i++) {
        const Fleetbench__Label *label = in->labels[i];
        if (!label)
            continue;
        if (s_copy (out->labels[i].key, sizeof out->labels[i].key, label->key, err,
                    "hello.labels[%zu].key", i) ||
            s_copy (out->labels[i].value, sizeof out->labels[i].value, label->value, err,
                    "hello.labels[%zu].value", i))
            return -1;
    }
    out->n_labels = (int)in->n_labels;
    out->instance = in->instance;
    return s_unpack_fingerprint (in->fp, &out->fp, err);
}

static int s_unpack_workload_numbers (const Fleetbench__PlanWorkload *in, fb_plan_workload_t *out,
                                      size_t index, fb_err_t *err) {
    if (!isfinite (in->rate_per_s) || in->rate_per_s < 0)
        return fb_err_set (err, FB_EINPUT,
                           "plan.workloads[%zu].rate_per_s is %g, it must be 0 (closed loop) or a "
                           "positive number",
                           index, in->rate_per_s);
    const struct {
        const char *name;
        int64_t value;
    } numbers[] = {
        {"concurrency", in->concurrency},
        {"duration_ns", in->duration_ns},
        {"warmup_ns", in->warmup_ns},
        {"interval_ns", in->interval_ns},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (numbers[i].value < 0)
            return fb_err_set (err, FB_EINPUT,
                               "plan.workloads[%zu].%s is %lld, it cannot be negative", index,
                               numbers[i].name, (long long)numbers[i].value);
    out->rate_per_s = in->rate_per_s;
    out->concurrency = in->concurrency;
    out->duration_ns = in->duration_ns;
    out->warmup_ns = in->warmup_ns;
    out->interval_ns = in->interval_ns;
    return 0;
}

/* Stages, ramp, arrivals and seed: whether the stages add up to the duration is the runner's
 * check (it names the workload); here each value must be one the runner can take at all. */
static int s_unpack_shape (const Fleetbench__PlanWorkload *in, fb_plan_workload_t *out,
                           size_t index, fb_err_t *err) {
    if (s_check_count (in->n_stages, FB_MAX_STAGES, "plan.workloads[].stages", err))
        return -1;
    for (size_t i = 0; i < in->n_stages; i++) {
        const Fleetbench__PlanStage *stage = in->stages[i];
        if (!stage || stage->duration_ns <= 0 || !isfinite (stage->rate_per_s) ||
            stage->rate_per_s <= 0)
            return fb_err_set (err, FB_EINPUT,
                               "plan.workloads[%zu].stages[%zu] must have a positive duration "
                               "and rate",
                               index, i);
        out->stages[i] = (fb_plan_stage_t){stage->duration_ns, stage->rate_per_s};
    }
    if ((in->ramp != FB_RAMP_STEP && in->ramp != FB_RAMP_LINEAR) ||
        (in->arrivals != FB_ARRIVALS_UNIFORM && in->arrivals != FB_ARRIVALS_POISSON))
        return fb_err_set (err, FB_EINPUT,
                           "plan.workloads[%zu]: ramp %d or arrivals %d is not 0 or 1", index,
                           (int)in->ramp, (int)in->arrivals);
    int search = in->capacity_metric && in->capacity_metric[0];
    if (search && (!(in->capacity_percentile > 0 && in->capacity_percentile <= 100) ||
                   in->capacity_limit_ns <= 0 || in->n_stages == 0))
        return fb_err_set (err, FB_EINPUT,
                           "plan.workloads[%zu]: a capacity search needs steps, a percentile in "
                           "(0, 100] and a positive limit",
                           index);
    if (s_copy (out->capacity_metric, sizeof out->capacity_metric, in->capacity_metric, err,
                "plan.workloads[%zu].capacity_metric", index))
        return -1;
    out->capacity_percentile = in->capacity_percentile;
    out->capacity_limit_ns = in->capacity_limit_ns;
    out->capacity_inclusive = in->capacity_inclusive;
    out->n_stages = (int)in->n_stages;
    out->ramp = in->ramp;
    out->arrivals = in->arrivals;
    out->seed = in->seed;
    return 0;
}

static int s_unpack_workload (const Fleetbench__PlanWorkload *in, fb_plan_workload_t *out,
                              size_t index, fb_err_t *err) {
    if (s_copy (out->name, sizeof out->name, in->name, err, "plan.workloads[%zu].name", index) ||
        s_copy (out->kind, sizeof out->kind, in->kind, err, "plan.workloads[%zu].kind", index))
        return -1;
    if (in->n_params > FB_MAX_PLAN_PARAMS)
        return fb_err_set (err, FB_EINPUT,
                           "plan.workloads[%zu].params has %zu entries, at most %d are allowed",
                           index, in->n_params, FB_MAX_PLAN_PARAMS);
    for (size_t i = 0; i < in->n_params; i++) {
        const Fleetbench__PlanParam *param = in->params[i];
        if (!param)
            continue;
        if (s_copy (out->params[i].name, sizeof out->params[i].name, param->name, err,
                    "plan.workloads[%zu].params[%zu].name", index, i) ||
            s_copy (out->params[i].value, sizeof out->params[i].value, param->value, err,
                    "plan.workloads[%zu].params[%zu].value", index, i))
            return -1;
    }
    out->n_params = (int)in->n_params;
    return s_unpack_workload_numbers (in, out, index, err) || s_unpack_shape (in, out, index, err)
               ? -1
               : 0;
}

static int s_unpack_plan (const Fleetbench__Plan *in, fb_plan_t *out, fb_err_t *err) {
    if (s_copy (out->run_id, sizeof out->run_id, in->run_id, err, "plan.run_id") ||
        s_copy (out->scenario, sizeof out->scenario, in->scenario, err, "plan.scenario") ||
        s_check_count (in->n_workloads, FB_MAX_WORKLOADS, "plan.workloads", err))
        return -1;
    if (in->heartbeat_timeout_ns < 0)
        return fb_err_set (err, FB_EINPUT,
                           "plan.heartbeat_timeout_ns is %lld, it cannot be negative",
                           (long long)in->heartbeat_timeout_ns);
    out->heartbeat_timeout_ns = in->heartbeat_timeout_ns;
    for (size_t i = 0; i < in->n_workloads; i++)
        if (in->workloads[i] && s_unpack_workload (in->workloads[i], &out->workloads[i], i, err))
            return -1;
    out->n_workloads = (int)in->n_workloads;
    return 0;
}

static int s_unpack_report_numbers (const Fleetbench__Report *in, fb_report_t *out, fb_err_t *err) {
    if (in->workload < 0 || in->workload >= FB_MAX_WORKLOADS)
        return fb_err_set (err, FB_EINPUT, "report.workload is %d, it must be 0..%d",
                           (int)in->workload, FB_MAX_WORKLOADS - 1);
    if (in->phase != FB_PHASE_WARMUP && in->phase != FB_PHASE_MEASURE)
        return fb_err_set (err, FB_EINPUT,
                           "report.phase is %d, it must be 0 (warmup) or 1 (measure)",
                           (int)in->phase);
    if (in->end_ns < in->start_ns)
        return fb_err_set (err, FB_EINPUT,
                           "report interval ends (%lld ns) before it starts (%lld ns)",
                           (long long)in->end_ns, (long long)in->start_ns);
    if (!isfinite (in->target_rate_per_s) || in->target_rate_per_s < 0)
        return fb_err_set (err, FB_EINPUT, "report.target_rate_per_s is %g, it must be 0 or more",
                           in->target_rate_per_s);
    out->target_rate_per_s = in->target_rate_per_s;
    out->seq = in->seq;
    out->workload = in->workload;
    out->phase = in->phase;
    out->start_ns = in->start_ns;
    out->end_ns = in->end_ns;
    out->wall_start_ns = in->wall_start_ns;
    return 0;
}

/* On failure the histograms copied so far stay in out, for fb_wire_msg_destroy to free. */
static int s_unpack_report (const Fleetbench__Report *in, fb_report_t *out, fb_err_t *err) {
    if (s_copy (out->run_id, sizeof out->run_id, in->run_id, err, "report.run_id") ||
        s_unpack_report_numbers (in, out, err) ||
        s_check_count (in->n_metrics, FB_MAX_REPORT_METRICS, "report.metrics", err) ||
        s_check_count (in->n_counters, FB_MAX_REPORT_COUNTERS, "report.counters", err))
        return -1;
    for (size_t i = 0; i < in->n_metrics; i++) {
        const Fleetbench__ReportMetric *metric = in->metrics[i];
        fb_report_metric_t *m = &out->metrics[i];
        if (!metric)
            continue;
        if (s_copy (m->name, sizeof m->name, metric->name, err, "report.metrics[%zu].name", i))
            return -1;
        if (metric->hist.len > 0) {
            m->hist = malloc (metric->hist.len);
            if (!m->hist)
                return fb_err_set (err, FB_ENOMEM, "out of memory for a %zu-byte histogram",
                                   metric->hist.len);
            memcpy (m->hist, metric->hist.data, metric->hist.len);
            m->hist_len = metric->hist.len;
        }
    }
    out->n_metrics = (int)in->n_metrics;
    for (size_t i = 0; i < in->n_counters; i++) {
        const Fleetbench__ReportCounter *counter = in->counters[i];
        if (!counter)
            continue;
        if (s_copy (out->counters[i].name, sizeof out->counters[i].name, counter->name, err,
                    "report.counters[%zu].name", i))
            return -1;
        out->counters[i].value = counter->value;
    }
    out->n_counters = (int)in->n_counters;
    return 0;
}

static int s_unpack_small (const Fleetbench__Envelope *env, fb_msg_t *msg, fb_err_t *err) {
    switch (env->msg_case) {
    case FLEETBENCH__ENVELOPE__MSG_READY:
        return s_copy (msg->u.ready.run_id, sizeof msg->u.ready.run_id, env->ready->run_id, err,
                       "ready.run_id");
    case FLEETBENCH__ENVELOPE__MSG_START: {
        fb_start_t *out = &msg->u.start;
        out->start_ns = env->start->start_ns;
        out->coord_start_ns = env->start->coord_start_ns;
        out->offset_ns = env->start->offset_ns;
        out->rtt_ns = env->start->rtt_ns;
        return s_copy (out->run_id, sizeof out->run_id, env->start->run_id, err, "start.run_id");
    }
    case FLEETBENCH__ENVELOPE__MSG_ACK:
        msg->u.ack.seq = env->ack->seq;
        return s_copy (msg->u.ack.run_id, sizeof msg->u.ack.run_id, env->ack->run_id, err,
                       "ack.run_id");
    case FLEETBENCH__ENVELOPE__MSG_HEARTBEAT:
        msg->u.heartbeat.sent_ns = env->heartbeat->sent_ns;
        msg->u.heartbeat.echo_ns = env->heartbeat->echo_ns;
        msg->u.heartbeat.echo_recv_ns = env->heartbeat->echo_recv_ns;
        msg->u.heartbeat.state = env->heartbeat->state;
        return 0;
    default:
        return fb_err_set (err, FB_EINPUT, "envelope carries an unknown message (field %d)",
                           (int)env->msg_case);
    }
}

static int s_unpack_ending (const Fleetbench__Envelope *env, fb_msg_t *msg, fb_err_t *err) {
    switch (env->msg_case) {
    case FLEETBENCH__ENVELOPE__MSG_DONE: {
        fb_done_t *out = &msg->u.done;
        out->last_seq = env->done->last_seq;
        out->started_ns = env->done->started_ns;
        out->aborted = env->done->aborted ? 1 : 0;
        if (s_copy (out->run_id, sizeof out->run_id, env->done->run_id, err, "done.run_id") ||
            s_copy (out->reason, sizeof out->reason, env->done->reason, err, "done.reason"))
            return -1;
        return 0;
    }
    case FLEETBENCH__ENVELOPE__MSG_ABORT: {
        fb_abort_t *out = &msg->u.abort;
        if (s_copy (out->run_id, sizeof out->run_id, env->abort->run_id, err, "abort.run_id") ||
            s_copy (out->reason, sizeof out->reason, env->abort->reason, err, "abort.reason"))
            return -1;
        return 0;
    }
    case FLEETBENCH__ENVELOPE__MSG_ERROR: {
        fb_error_msg_t *out = &msg->u.error;
        out->code = env->error->code;
        out->instance = env->error->instance;
        if (s_copy (out->run_id, sizeof out->run_id, env->error->run_id, err, "error.run_id") ||
            s_copy (out->message, sizeof out->message, env->error->message, err, "error.message"))
            return -1;
        return 0;
    }
    default:
        return s_unpack_small (env, msg, err);
    }
}

static fb_msg_type_t s_type_of_case (Fleetbench__Envelope__MsgCase msg_case) {
    switch (msg_case) {
    case FLEETBENCH__ENVELOPE__MSG_HELLO:
        return FB_MSG_HELLO;
    case FLEETBENCH__ENVELOPE__MSG_PLAN:
        return FB_MSG_PLAN;
    case FLEETBENCH__ENVELOPE__MSG_READY:
        return FB_MSG_READY;
    case FLEETBENCH__ENVELOPE__MSG_START:
        return FB_MSG_START;
    case FLEETBENCH__ENVELOPE__MSG_REPORT:
        return FB_MSG_REPORT;
    case FLEETBENCH__ENVELOPE__MSG_ACK:
        return FB_MSG_ACK;
    case FLEETBENCH__ENVELOPE__MSG_HEARTBEAT:
        return FB_MSG_HEARTBEAT;
    case FLEETBENCH__ENVELOPE__MSG_DONE:
        return FB_MSG_DONE;
    case FLEETBENCH__ENVELOPE__MSG_ABORT:
        return FB_MSG_ABORT;
    case FLEETBENCH__ENVELOPE__MSG_ERROR:
        return FB_MSG_ERROR;
    default:
        return 0;
    }
}

/* The envelope's sub-message pointer for its case; protobuf-c always sets it, but a NULL
 * here must not become a crash in the copy functions. */
static const void *s_payload (const Fleetbench__Envelope *env) {
    switch (env->msg_case) {
    case FLEETBENCH__ENVELOPE__MSG_HELLO:
        return env->hello;
    case FLEETBENCH__ENVELOPE__MSG_PLAN:
        return env->plan;
    case FLEETBENCH__ENVELOPE__MSG_READY:
        return env->ready;
    case FLEETBENCH__ENVELOPE__MSG_START:
        return env->start;
    case FLEETBENCH__ENVELOPE__MSG_REPORT:
        return env->report;
    case FLEETBENCH__ENVELOPE__MSG_ACK:
        return env->ack;
    case FLEETBENCH__ENVELOPE__MSG_HEARTBEAT:
        return env->heartbeat;
    case FLEETBENCH__ENVELOPE__MSG_DONE:
        return env->done;
    case FLEETBENCH__ENVELOPE__MSG_ABORT:
        return env->abort;
    case FLEETBENCH__ENVELOPE__MSG_ERROR:
        return env->error;
    default:
        return NULL;
    }
}

static fb_msg_t *s_unpack_envelope (const Fleetbench__Envelope *env, fb_err_t *err) {
    if (env->version != FB_PROTOCOL_VERSION) {
        fb_err_set (err, FB_EINPUT, "protocol version %u, this build speaks %d",
                    (unsigned)env->version, FB_PROTOCOL_VERSION);
        return NULL;
    }
    fb_msg_type_t type = s_type_of_case (env->msg_case);
    if (!type || !s_payload (env)) {
        fb_err_set (err, FB_EINPUT, "envelope carries no message");
        return NULL;
    }
    fb_msg_t *msg = fb_wire_msg_new (type);
    if (!msg) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a %s message", fb_wire_msg_type_name (type));
        return NULL;
    }
    msg->version = env->version;
    int rc;
    if (type == FB_MSG_HELLO)
        rc = s_unpack_hello (env->hello, &msg->u.hello, err);
    else if (type == FB_MSG_PLAN)
        rc = s_unpack_plan (env->plan, &msg->u.plan, err);
    else if (type == FB_MSG_REPORT)
        rc = s_unpack_report (env->report, &msg->u.report, err);
    else
        rc = s_unpack_ending (env, msg, err);
    if (rc)
        fb_wire_msg_destroy (&msg);
    return msg;
}

/* ---- public ---- */

/* The bytes a message of type needs: the union's member of that type, not its largest (a Plan
 * is 78 KB; zeroing that for every Report and Ack was most of a small message's cost). */
static size_t s_msg_size (fb_msg_type_t type) {
    size_t at = offsetof (fb_msg_t, u);
    switch (type) {
    case FB_MSG_HELLO:
        return at + sizeof (fb_hello_t);
    case FB_MSG_READY:
        return at + sizeof (fb_ready_t);
    case FB_MSG_START:
        return at + sizeof (fb_start_t);
    case FB_MSG_REPORT:
        return at + sizeof (fb_report_t);
    case FB_MSG_ACK:
        return at + sizeof (fb_ack_t);
    case FB_MSG_HEARTBEAT:
        return at + sizeof (fb_heartbeat_t);
    case FB_MSG_DONE:
        return at + sizeof (fb_done_t);
    case FB_MSG_ABORT:
        return at + sizeof (fb_abort_t);
    case FB_MSG_ERROR:
        return at + sizeof (fb_error_msg_t);
    default:
        return sizeof (fb_msg_t);
    }
}

fb_msg_t *fb_wire_msg_new (fb_msg_type_t type) {
    if (type < FB_MSG_HELLO || type > FB_MSG_ERROR)
        return NULL;
    fb_msg_t *self = calloc (1, s_msg_size (type));
    if (!self)
        return NULL;
    self->type = type;
    self->version = FB_PROTOCOL_VERSION;
    return self;
}

void fb_wire_msg_destroy (fb_msg_t **self_p) {
    if (!self_p || !*self_p)
        return;
    fb_msg_t *self = *self_p;
    /* Every slot, not only n_metrics: fb_wire_msg_new zeroes them, and an owner that lowered
     * n_metrics after filling a slot would otherwise leak it. */
    if (self->type == FB_MSG_REPORT)
        for (int i = 0; i < FB_MAX_REPORT_METRICS; i++)
            free (self->u.report.metrics[i].hist);
    free (self);
    *self_p = NULL;
}

const char *fb_wire_msg_type_name (fb_msg_type_t type) {
    switch (type) {
    case FB_MSG_HELLO:
        return "HELLO";
    case FB_MSG_PLAN:
        return "PLAN";
    case FB_MSG_READY:
        return "READY";
    case FB_MSG_START:
        return "START";
    case FB_MSG_REPORT:
        return "REPORT";
    case FB_MSG_ACK:
        return "ACK";
    case FB_MSG_HEARTBEAT:
        return "HEARTBEAT";
    case FB_MSG_DONE:
        return "DONE";
    case FB_MSG_ABORT:
        return "ABORT";
    case FB_MSG_ERROR:
        return "ERROR";
    default:
        return "UNKNOWN";
    }
}

#define S_MAX(a, b) ((a) > (b) ? (a) : (b))

/* As fb_wire_msg_new: room for the union's member of the type only. */
static size_t s_pack_size (fb_msg_type_t type) {
    size_t small = S_MAX (S_MAX (S_MAX (sizeof (Fleetbench__Ready), sizeof (Fleetbench__Start)),
                                 S_MAX (sizeof (Fleetbench__Ack), sizeof (Fleetbench__Heartbeat))),
                          S_MAX (S_MAX (sizeof (Fleetbench__Done), sizeof (Fleetbench__Abort)),
                                 sizeof (Fleetbench__Error)));
    size_t member = type == FB_MSG_PLAN     ? sizeof (s_plan_pb_t)
                    : type == FB_MSG_HELLO  ? sizeof (s_hello_pb_t)
                    : type == FB_MSG_REPORT ? sizeof (s_report_pb_t)
                                            : small;
    return offsetof (s_pack_t, u) + member;
}

int fb_wire_pack (const fb_msg_t *msg, uint8_t **buf, size_t *len, fb_err_t *err) {
    if (!msg || !buf || !len)
        return fb_err_set (err, FB_EINPUT, "cannot pack: no message or no output buffer");
    *buf = NULL;
    *len = 0;
    s_pack_t *self = calloc (1, s_pack_size (msg->type));
    if (!self)
        return fb_err_set (err, FB_ENOMEM, "out of memory packing a %s message",
                           fb_wire_msg_type_name (msg->type));
    self->err = err;
    fleetbench__envelope__init (&self->env);
    self->env.version = FB_PROTOCOL_VERSION;
    if (msg->type == FB_MSG_HELLO)
        s_pack_hello (self, &msg->u.hello);
    else if (msg->type == FB_MSG_PLAN)
        s_pack_plan (self, &msg->u.plan);
    else if (msg->type == FB_MSG_REPORT)
        s_pack_report (self, &msg->u.report);
    else {
        s_pack_small (self, msg);
        s_pack_ending (self, msg);
    }
    int rc = -1;
    if (!self->failed && self->env.msg_case == FLEETBENCH__ENVELOPE__MSG__NOT_SET)
        fb_err_set (err, FB_EINPUT, "cannot pack a message of unknown type %d", (int)msg->type);
    else if (!self->failed) {
        size_t size = fleetbench__envelope__get_packed_size (&self->env);
        if (size > FB_MAX_FRAME_BYTES)
            fb_err_set (err, FB_EINPUT, "%s message is %zu bytes, over the %d-byte frame limit",
                        fb_wire_msg_type_name (msg->type), size, FB_MAX_FRAME_BYTES);
        else if (!(*buf = malloc (size ? size : 1)))
            fb_err_set (err, FB_ENOMEM, "out of memory for a %zu-byte frame", size);
        else {
            *len = fleetbench__envelope__pack (&self->env, *buf);
            rc = 0;
        }
    }
    free (self);
    return rc;
}

fb_msg_t *fb_wire_unpack (const uint8_t *buf, size_t len, fb_err_t *err) {
    if (!buf || len == 0) {
        fb_err_set (err, FB_EINPUT, "empty frame: not a fleetbench message");
        return NULL;
    }
    if (len > FB_MAX_FRAME_BYTES) {
        fb_err_set (err, FB_EINPUT, "frame of %zu bytes is over the %d-byte limit", len,
                    FB_MAX_FRAME_BYTES);
        return NULL;
    }
    Fleetbench__Envelope *env = fleetbench__envelope__unpack (NULL, len, buf);
    if (!env) {
        fb_err_set (err, FB_EINPUT, "undecodable frame of %zu bytes: not a fleetbench envelope",
                    len);
        return NULL;
    }
    fb_msg_t *msg = s_unpack_envelope (env, err);
    fleetbench__envelope__free_unpacked (env, NULL);
    return msg;
}

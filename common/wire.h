/* wire.h: the messages coordinator and agents exchange, as our own structs. Packing to and
 * from protobuf-c (proto/fleetbench.proto) happens only in wire.c. One message is one
 * ZeroMQ frame holding one Envelope. */
#ifndef FB_WIRE_H
#define FB_WIRE_H

#include "common/err.h"
#include "common/fingerprint.h"

#include <stddef.h>
#include <stdint.h>

/* 2: plans carry stages and arrivals, reports the target rate. A version 1 agent would run a
 * staged workload at its peak rate all along: refused at Hello instead. */
#define FB_PROTOCOL_VERSION 2
#define FB_MAX_FRAME_BYTES (16 * 1024 * 1024) /* larger frames are refused by ZMQ_MAXMSGSIZE */
#define FB_MAX_LABELS 16
#define FB_MAX_WORKLOADS 32
#define FB_MAX_PLAN_PARAMS 24
#define FB_MAX_PARAM_TEXT 256 /* a param's value as written, its NUL included (a URL) */
#define FB_MAX_REPORT_METRICS 12
#define FB_MAX_REPORT_COUNTERS 32
#define FB_MAX_STAGES 64

typedef enum {
    FB_MSG_HELLO = 1,
    FB_MSG_PLAN,
    FB_MSG_READY,
    FB_MSG_START,
    FB_MSG_REPORT,
    FB_MSG_ACK,
    FB_MSG_HEARTBEAT,
    FB_MSG_DONE,
    FB_MSG_ABORT,
    FB_MSG_ERROR,
} fb_msg_type_t;

typedef struct {
    char key[32];
    char value[96];
} fb_label_t;

typedef struct {
    char agent_id[64];
    int n_labels;
    fb_label_t labels[FB_MAX_LABELS];
    fb_fingerprint_t fp;
    uint64_t instance; /* random per agent process: tells a duplicate id from a repeat */
} fb_hello_t;

typedef struct {
    char name[32];
    char value[FB_MAX_PARAM_TEXT]; /* as written in the scenario; the agent parses it with its
                                      own schema */
} fb_plan_param_t;

/* Between two stages of an open-loop workload: the rate jumps to the next stage's at its start
 * (step), or moves linearly from the previous stage's to the next's over the next's duration. */
typedef enum { FB_RAMP_STEP = 0, FB_RAMP_LINEAR = 1 } fb_ramp_t;
/* How an open loop spaces its operations: evenly, or with exponential gaps (a Poisson process
 * of the planned rate, from a seed). */
typedef enum { FB_ARRIVALS_UNIFORM = 0, FB_ARRIVALS_POISSON = 1 } fb_arrivals_t;

typedef struct {
    int64_t duration_ns; /* > 0 */
    double rate_per_s;   /* > 0 */
} fb_plan_stage_t;

typedef struct {
    char name[64];
    char kind[32];
    int n_params;
    fb_plan_param_t params[FB_MAX_PLAN_PARAMS];
    double rate_per_s; /* 0: closed loop */
    int concurrency;   /* 0: the workload's default */
    int64_t duration_ns;
    int64_t warmup_ns;
    int64_t interval_ns;
    /* Open loop in stages: the measured part runs them in order (duration_ns is their sum, the
     * warm-up runs at the first one's rate, rate_per_s is the highest); 0: rate_per_s all along. */
    int n_stages;
    fb_plan_stage_t stages[FB_MAX_STAGES];
    int ramp;      /* fb_ramp_t */
    int arrivals;  /* fb_arrivals_t, open loop only */
    uint64_t seed; /* poisson: this host's seed for this workload */
    /* Capacity search ("" metric: none): the stages are the steps; after each, the step's
     * percentile of metric is judged against limit_ns (below it, or at it when inclusive), and
     * the workload ends after two failing steps in a row. */
    char capacity_metric[32];
    double capacity_percentile; /* 0 < p <= 100 */
    int64_t capacity_limit_ns;
    int capacity_inclusive; /* 1: <= */
} fb_plan_workload_t;

typedef struct {
    char run_id[64];
    char scenario[64];
    int64_t heartbeat_timeout_ns;
    int n_workloads;
    fb_plan_workload_t workloads[FB_MAX_WORKLOADS];
} fb_plan_t;

typedef struct {
    char run_id[64];
} fb_ready_t;

typedef struct {
    char run_id[64];
    int64_t start_ns;       /* the shared start instant in the agent's own monotonic clock */
    int64_t coord_start_ns; /* the same instant in the coordinator's clock */
    int64_t offset_ns;      /* agent clock - coordinator clock, as estimated */
    int64_t rtt_ns;         /* round trip of the sample the offset came from */
} fb_start_t;

typedef enum { FB_PHASE_WARMUP = 0, FB_PHASE_MEASURE = 1 } fb_phase_t;

typedef struct {
    char name[32];
    uint8_t *hist; /* V2 compressed histogram, malloc'd, owned by the message */
    size_t hist_len;
} fb_report_metric_t;

typedef struct {
    char name[32];
    int64_t value;
} fb_report_counter_t;

typedef struct {
    char run_id[64];
    uint64_t seq;     /* 1, 2, 3... per agent and run */
    int workload;     /* index in the plan */
    int phase;        /* fb_phase_t */
    int64_t start_ns; /* interval, agent clock */
    int64_t end_ns;
    int64_t wall_start_ns; /* interval start, wall clock: for hlog time stamps */
    /* Open loop: the planned (offered) rate over the interval, operations per second: the
     * schedule's operations in it over its planned length. 0: closed loop. */
    double target_rate_per_s;
    int n_metrics;
    fb_report_metric_t metrics[FB_MAX_REPORT_METRICS];
    int n_counters;
    fb_report_counter_t counters[FB_MAX_REPORT_COUNTERS];
} fb_report_t;

typedef struct {
    char run_id[64];
    uint64_t seq;
} fb_ack_t;

/* Both directions, once a second. For clock sync the coordinator sends sent_ns = t0; the agent
 * answers with echo_ns = t0, echo_recv_ns = t1 (its receive time), sent_ns = t2. */
typedef struct {
    int64_t sent_ns;
    int64_t echo_ns;      /* 0 when not an answer */
    int64_t echo_recv_ns; /* 0 when not an answer */
    int state;            /* the sender's state, for progress lines (agent: fb_agent_state) */
} fb_heartbeat_t;

typedef struct {
    char run_id[64];
    uint64_t last_seq;  /* the highest report seq of this run */
    int64_t started_ns; /* agent clock: when its first workload actually began */
    int aborted;        /* 1: stopped early */
    char reason[128];
} fb_done_t;

typedef struct {
    char run_id[64];
    char reason[256];
} fb_abort_t;

typedef struct {
    char run_id[64]; /* "" when not about a run */
    int code;        /* fb_err_t codes */
    char message[256];
    uint64_t instance; /* a refused Hello's instance; 0 otherwise */
} fb_error_msg_t;

typedef struct {
    fb_msg_type_t type;
    uint32_t version; /* set by fb_wire_unpack from the envelope */
    union {
        fb_hello_t hello;
        fb_plan_t plan;
        fb_ready_t ready;
        fb_start_t start;
        fb_report_t report;
        fb_ack_t ack;
        fb_heartbeat_t heartbeat;
        fb_done_t done;
        fb_abort_t abort;
        fb_error_msg_t error;
    } u;
} fb_msg_t;

/* A zeroed message of that type (calloc'd). */
fb_msg_t *fb_wire_msg_new (fb_msg_type_t type);
/* Frees the message and what it owns (report histograms); sets *self_p = NULL. */
void fb_wire_msg_destroy (fb_msg_t **self_p);
const char *fb_wire_msg_type_name (fb_msg_type_t type);

/* Packs into a malloc'd buffer (envelope with FB_PROTOCOL_VERSION). */
int fb_wire_pack (const fb_msg_t *msg, uint8_t **buf, size_t *len, fb_err_t *err);
/* Unpacks one frame. Undecodable bytes, a wrong protocol version, an empty oneof, strings
 * too long for our fields or too many entries: NULL and an error that says which. */
fb_msg_t *fb_wire_unpack (const uint8_t *buf, size_t len, fb_err_t *err);

#endif

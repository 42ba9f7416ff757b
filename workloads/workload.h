/* workload.h: the interface between the runner (agent/runner.c) and a workload kind.
 * A workload is a descriptor: its params with defaults and limits, setup, one operation,
 * an interval hook and teardown. The runner owns timing, rate, warm-up, duration,
 * histograms and reporting; a workload never touches the network protocol. */
#ifndef FB_WORKLOAD_H
#define FB_WORKLOAD_H

#include "common/err.h"
#include "common/hist.h"
#include "common/rng.h"
#include "common/stats.h"
#include "common/wire.h" /* FB_MAX_PARAM_TEXT */

#include <stdbool.h>
#include <stdint.h>

#define FB_MAX_PARAMS 24
#define FB_MAX_RATE_PER_S 1e6 /* no kind's open loop goes faster (per agent) */

typedef enum {
    FB_PARAM_INT,      /* plain integer */
    FB_PARAM_DURATION, /* "10us" -> ns */
    FB_PARAM_SIZE,     /* "64KB" -> bytes */
    FB_PARAM_RATE,     /* "200/s" -> per second */
    FB_PARAM_PERCENT,  /* "20%" -> fraction */
    FB_PARAM_ENUM,     /* one of choices */
    FB_PARAM_BOOL,     /* true/false */
    FB_PARAM_STRING,   /* a short name, 1 to 63 bytes, kept in .text (no range, no number) */
    FB_PARAM_TEXT,     /* free text (headers, a body), 0 to 255 bytes, kept in .text */
    FB_PARAM_URL,      /* an http:// or https:// URL (common/url.h), kept in .text */
} fb_param_type_t;

typedef struct {
    const char *name;
    fb_param_type_t type;
    const char *default_text; /* written as a user would; parsed by the same rules; NULL: the
                                 param has no default, a scenario must give it */
    double min, max;          /* in the base unit: count, ns, bytes, /s, fraction */
    const char *choices;      /* FB_PARAM_ENUM: "pool|thread-per-handler" */
    const char *help;
} fb_param_spec_t;

typedef struct {
    const fb_param_spec_t *spec;
    double number; /* numeric value in the base unit; ENUM: index in choices; BOOL: 0/1 */
    char text[FB_MAX_PARAM_TEXT]; /* the text as given (or the default) */
    bool given;                   /* set by the scenario rather than defaulted */
} fb_param_value_t;

/* Every param of one workload kind, in spec order, defaults filled. */
typedef struct {
    const char *kind; /* the workload kind these belong to, for messages */
    int n;
    fb_param_value_t v[FB_MAX_PARAMS];
} fb_params_t;

typedef struct {
    const char *name;
    fb_counter_kind_t kind;
    const char *unit; /* "", "B", "ns": how reports print it */
} fb_counter_spec_t;

/* The helper every agent may run, shipped next to it (workloads/process/fb-child.c). */
#define FB_WL_HELPER_CHILD "fb-child"

struct sockaddr;

/* The agent's allow-list (never from the plan) as the runner hands it to a workload: the
 * agent's own lookup behind four functions (agent/allow.c fills them in). */
typedef struct {
    const void *list;
    /* The argv (NULL-terminated, owned by the list) the command may run as; NULL when the
     * command is not allowed. FB_WL_HELPER_CHILD resolves to helper_dir/fb-child. */
    const char *const *(*argv) (const void *list, const char *command, const char *helper_dir);
    /* "fb-child, make, sleep-1" into buf (cut with "..."), for messages; returns buf. */
    const char *(*names) (const void *list, char *buf, size_t size);
    /* Whether the workload may connect to addr (AF_INET or AF_INET6; its port field is ignored)
     * on port: true only inside an http: entry of the list; an IPv4 address matches in either
     * form (a.b.c.d or ::ffff:a.b.c.d). Check every address actually connected to (after
     * resolving the URL's host), never the name. NULL (no list): nothing is allowed. */
    bool (*http) (const void *list, const struct sockaddr *addr, int port);
    /* The http: entries as written, "127.0.0.0/8:8000-8999, ::1" (cut with "..."), or "none",
     * for messages; returns buf. */
    const char *(*http_names) (const void *list, char *buf, size_t size);
} fb_wl_allow_t;

/* What the runner hands a workload at check and setup. */
typedef struct {
    int workers;            /* runner threads that will call op (worker 0..workers-1) */
    double rate_per_s;      /* 0: closed loop */
    int64_t duration_ns;    /* measured part */
    fb_wl_allow_t allow;    /* this agent's allow-list (never from the plan); .argv NULL: none */
    const char *helper_dir; /* the folder of fb-child and other helpers we ship */
} fb_wl_env_t;

/* One operation's context. Extra metrics recorded inside op go into metrics[i] (i indexing
 * the descriptor's metrics) with fb_hist_record_atomic: they are the worker's own. */
typedef struct {
    int worker;
    uint64_t seq;              /* this worker's operation number */
    int64_t intended_start_ns; /* open loop: the schedule's instant; closed: actual start */
    fb_hist_t *const *metrics; /* the workload's extra metrics for this worker */
    uint64_t rng; /* per-worker xorshift state, free for the workload to use: fb_rng_next */
} fb_wl_op_t;

/* An asynchronous operation that ended, as a workload's poll hands it to the runner. */
typedef struct {
    uint64_t tag;    /* the runner's, from start */
    int rc;          /* 0 ok, -1 the operation failed (counted as an error) */
    int64_t done_ns; /* when it ended (monotonic) */
} fb_wl_done_t;

typedef struct fb_workload {
    const char *kind;
    const char *summary;
    const fb_param_spec_t *params; /* terminated by an entry with name NULL */
    /* When not NULL, this param sets the number of runner threads (eventbus: publishers). */
    const char *concurrency_param;
    /* Extra latency metrics (ns) besides the runner's "latency", "service" and "sched_lag";
     * NULL-terminated. */
    const char *const *metrics;
    const fb_counter_spec_t *counters; /* terminated by name NULL */
    /* The highest open-loop rate (per agent) a scenario may ask of this kind: above it one
     * host cannot keep the schedule, and `coord check` refuses it. At most FB_MAX_RATE_PER_S. */
    double max_rate_per_s;

    /* Optional: checks the params against this host (an allow-listed command, a binary that
     * must be installed) when the plan arrives, so that a plan error is reported before
     * Start. May be NULL. */
    int (*check) (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err);
    /* Bytes of the workload's state: fb_workload_setup allocates it zeroed before setup and
     * frees it after teardown. */
    size_t state_size;
    /* Fills the zeroed state (the check has passed). On failure (-1) teardown runs on what was
     * filled, so teardown must take a state that setup left half done. */
    int (*setup) (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err);
    /* One operation. 0 ok, -1 the operation failed (counted as an error, the run goes on).
     * NULL when the kind runs asynchronous operations (below). */
    int (*op) (void *state, fb_wl_op_t *op);
    /* Asynchronous operations, as wrk drives connections: instead of op, each runner thread
     * (worker) keeps up to slots operations in flight on the workload's own event loop. The
     * runner keeps the schedule and the timing: it starts an operation when one is due and a
     * slot is free (latency still counts from the intended start), and it collects endings
     * with poll. All four are called on the worker's own thread only. */
    /* How many operations worker may have in flight (>= 1); asked once, after setup. */
    int (*slots) (void *state, int worker);
    /* Starts one operation of op->worker, tagged tag. 0: started, its end comes from poll;
     * -1: it failed at once, and nothing is in flight for it. */
    int (*start) (void *state, fb_wl_op_t *op, uint64_t tag);
    /* Runs worker's event loop until at least one operation ended or until_ns (monotonic)
     * passed; fills up to max endings and returns how many. Every operation in flight must
     * end by itself within a bound of the workload's (its timeout). */
    int (*poll) (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max);
    /* An abort: ends every operation of worker in flight now, as failed; the next polls
     * return them (each exactly once). */
    void (*cancel) (void *state, int worker);
    /* At each interval end, on the runner's thread: drain metrics the workload recorded on
     * its own threads into metrics[i] (fb_hist_drain) and fill counters[i] (the interval's
     * amount for SUM counters, the current value for MAX). May be NULL. */
    void (*interval) (void *state, fb_hist_t *const *metrics, int64_t *counters);
    /* Optional: after the last operation returned and before the last interval, lets work
     * the operations handed off (queued handler calls) finish until deadline_ns (monotonic),
     * then counts what is left in a counter of its own ("abandoned"), so the last report's
     * metric counts add up. May be NULL. */
    void (*drain) (void *state, int64_t deadline_ns);
    /* Stops the workload's own threads and frees what setup made (not the state itself);
     * after it no more recording. */
    void (*teardown) (void *state);
} fb_workload_t;

/* What the runner measures for every workload, before the kind's own (agent/runner.c):
 * metrics latency, service, sched_lag; counters ops, errors, rss (B, max), cpu (ns), steal
 * (ppm of CPU time stolen by the hypervisor, max), throttled (thermal throttling seen, max),
 * missed (open loop: planned operations not started by the planned end). */
extern const char *const fb_runner_metrics[];        /* NULL-terminated */
extern const fb_counter_spec_t fb_runner_counters[]; /* terminated by name NULL */
/* The spec of counter name for kind wl (the runner's first); NULL when unknown. */
const fb_counter_spec_t *fb_workload_counter_spec (const fb_workload_t *wl, const char *name);
/* The kind of counter name for the workload wl (a const fb_workload_t *): the runner's, then
 * the workload's, SUM when unknown. An fb_counter_kind_fn for the merge (common/merge.h). */
fb_counter_kind_t fb_workload_counter_kind (const char *name, const void *wl);

/* The runner's own metrics and counters, before the workload's. */
#define FB_METRIC_LATENCY "latency"
#define FB_METRIC_SERVICE "service"
#define FB_METRIC_SCHED_LAG "sched_lag"
#define FB_COUNTER_RSS "rss"
#define FB_COUNTER_CPU "cpu"
/* Open loop: planned operations that could not start by the planned end plus the runner's
 * grace (the generator fell behind its schedule). Not run late: the workload stops there. */
#define FB_COUNTER_MISSED "missed"
/* A capacity search's result (ops/s, the highest passing step's rate), and how many of its
 * steps were judged unsure (their percentile's 95 % interval straddled the objective's limit):
 * only workloads with capacity: report them. */
#define FB_COUNTER_CAPACITY "capacity"
#define FB_COUNTER_CAPACITY_UNSURE "capacity_unsure"
/* Whether counter name is one of the two above. */
bool fb_counter_is_capacity (const char *name);

/* Between two workloads of a plan: time for teardown and the next setup, so that every host
 * can begin the next workload at the same planned instant too. */
#define FB_WORKLOAD_GAP_NS (1000 * 1000 * 1000LL)

/* The registry of kinds (workloads/registry.c). NULL when unknown. */
const fb_workload_t *fb_workload_find (const char *kind);
/* NULL-terminated list of every kind. */
const fb_workload_t *const *fb_workload_all (void);

/* The setup every kind shares: its check, a zeroed state of wl->state_size bytes, its setup;
 * on failure its teardown, the state freed and *state_p NULL. */
int fb_workload_setup (const fb_workload_t *wl, const fb_params_t *params, const fb_wl_env_t *env,
                       void **state_p, fb_err_t *err);
/* Its teardown, then the state freed; *state_p NULL (already NULL: nothing). */
void fb_workload_teardown (const fb_workload_t *wl, void **state_p);

/* Params: fills every param with its default. */
int fb_params_init (fb_params_t *params, const fb_workload_t *wl, fb_err_t *err);
/* Sets one param from text as written in a scenario. Unknown name, wrong type, bad unit or
 * out of range: error naming the param and the expected form, e.g.
 * "handler_work must be a duration such as 10us (got \"fast\")". */
int fb_params_set (fb_params_t *params, const char *name, const char *text, fb_err_t *err);
/* A param without a default that was not given: an error naming it and what it is for. */
int fb_params_check_required (const fb_params_t *params, fb_err_t *err);
/* Lookups by name; the name must be in the spec (an assert, it is our own code). */
double fb_params_num (const fb_params_t *params, const char *name);
const char *fb_params_text (const fb_params_t *params, const char *name);
bool fb_params_given (const fb_params_t *params, const char *name);

#endif

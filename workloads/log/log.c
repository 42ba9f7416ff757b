/* log.c: the `log` workload: Brummer's log store (logstore.c) fed with generated dev-server
 * output (loggen.c). One op is one append (op=append, mixed), one search over the full store
 * (op=search) or the detection of one line without a store (op=detect); op=mixed also runs a
 * searcher thread at search_rate while the runner's workers append. With source=child an
 * fb-child process also writes lines at child_rate, which a reader thread appends to the store
 * as they arrive, as Brummer's process manager does with a dev server's output. */
#include "common/clock.h"
#include "workloads/log/logdetect.h"
#include "workloads/log/loggen.h"
#include "workloads/log/logstore.h"
#include "workloads/workload.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { S_OP_APPEND, S_OP_SEARCH, S_OP_DETECT, S_OP_MIXED };
enum { S_M_INGEST, S_M_SEARCH, S_M_DETECT };
enum {
    S_C_LINES,
    S_C_DROPS,
    S_C_SYNC,
    S_C_TRUNCATED,
    S_C_EVICTED,
    S_C_STORED,
    S_C_ERRORS,
    S_C_URLS,
    S_C_SEARCHES,
    S_C_MATCHES,
    S_C_DETECT_NS,
    S_C_POSITIONS,
};

#define S_POOL_LINES 4096    /* generated once at setup; ops cycle through them */
#define S_POOL_LINE_MAX 4096 /* longest generated line (the long ones are ~750..2250 B) */
#define S_FLUSH_NS (10 * FB_NS_PER_S)
#define S_SEARCHER_STEP_NS (10 * FB_NS_PER_MS) /* the searcher checks for stop this often */
#define S_CHILD_PROCESS_ID 1000                /* the process id of fb-child's lines */
#define S_CHILD_BUF (FB_LOGSTORE_LINE_BYTES_MAX + 1)
#define S_CHILD_POLL_MS 100
#define S_CHILD_REAP_NS (2 * FB_NS_PER_S) /* after SIGTERM, then SIGKILL */

static const fb_param_spec_t s_params[] = {
    {"op", FB_PARAM_ENUM, "append", 0, 0, "append|search|detect|mixed",
     "append: one line per op; search: one search of the full store; detect: detection of one "
     "line; mixed: appends while a searcher thread searches at search_rate"},
    {"capacity", FB_PARAM_INT, "10000", 1, FB_LOGSTORE_CAPACITY_MAX, NULL,
     "entries the store keeps (Brummer: 10000)"},
    {"queue", FB_PARAM_INT, "1000", 1, FB_LOGSTORE_QUEUE_MAX, NULL,
     "async ingest queue slots (Brummer's channel: 1000)"},
    {"eviction", FB_PARAM_ENUM, "ring", 0, 0, "ring|shift",
     "ring: overwrite the oldest slot; shift: Go's slice shift plus byProcess reindex"},
    {"evicted_index", FB_PARAM_ENUM, "keep", 0, 0, "keep|forget",
     "shift: keep evicted lines' positions in the per-process index, as Brummer does (the cost "
     "of an eviction grows with every line stored since start), or forget them (a fixed store)"},
    {"line_bytes", FB_PARAM_INT, "512", 16, FB_LOGSTORE_LINE_BYTES_MAX, NULL,
     "longest line kept; longer lines are cut and counted (seed: 512 B per entry)"},
    {"detect", FB_PARAM_ENUM, "fast", 0, 0, "fast|regex|off",
     "per-line detection engine: hand-written, POSIX regex (Brummer's patterns), or none"},
    {"overflow", FB_PARAM_ENUM, "sync", 0, 0, "sync|drop",
     "queue full: store the line synchronously (Brummer) or drop it"},
    {"search", FB_PARAM_ENUM, "substr", 0, 0, "substr|regex",
     "search mode: case-insensitive substring or POSIX extended regex"},
    {"query", FB_PARAM_ENUM, "common", 0, 0, "common|rare|absent",
     "what is searched: a word on many lines, on few lines, or on none (see docs)"},
    {"search_rate", FB_PARAM_RATE, "10/s", 0.1, 100000, NULL, "op=mixed: searches per second"},
    {"processes", FB_PARAM_INT, "4", 1, 64, NULL, "process ids the lines are attributed to"},
    {"prefill", FB_PARAM_BOOL, "true", 0, 0, NULL,
     "fill the store to capacity before the run, so eviction works from the first append"},
    {"seed", FB_PARAM_INT, "1", 0, 1e15, NULL, "generator seed: the same lines on every host"},
    {"source", FB_PARAM_ENUM, "generator", 0, 0, "generator|child",
     "child: an fb-child process also writes lines into the store while the ops run"},
    {"child_rate", FB_PARAM_RATE, "1000/s", 1, 1e6, NULL, "source=child: fb-child's lines/s"},
    {"child_line_bytes", FB_PARAM_INT, "120", 2, FB_LOGSTORE_LINE_BYTES_MAX, NULL,
     "source=child: bytes per fb-child line, newline included"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const char *const s_metrics[] = {"ingest", "search", "detect", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"lines", FB_COUNTER_SUM, ""},
    {"drops", FB_COUNTER_SUM, ""},
    {"sync_fallbacks", FB_COUNTER_SUM, ""},
    {"truncated", FB_COUNTER_SUM, ""},
    {"evicted", FB_COUNTER_SUM, ""},
    {"stored", FB_COUNTER_MAX, ""},
    {"error_lines", FB_COUNTER_SUM, ""},
    {"url_lines", FB_COUNTER_SUM, ""},
    {"searches", FB_COUNTER_SUM, ""},
    {"matches", FB_COUNTER_SUM, ""},
    {"detect_ns_per_line", FB_COUNTER_MAX, "ns"},
    {"index_positions", FB_COUNTER_MAX, ""},
    {NULL, 0, NULL},
};

/* The queries of `query:`; regex ones find the same lines as the substrings and more. */
static const char *const s_queries[2][3] = {
    {"error", "econnrefused", "zq-not-present"},
    {"err(or)?:|warn", "econn(refused|reset)", "zq[0-9]+-not-present"},
};

typedef struct {
    int op, workers, processes, search_mode;
    const char *query;
    fb_logstore_t *store;
    char *pool; /* S_POOL_LINES lines of S_POOL_LINE_MAX + 1 bytes */
    uint32_t pool_len[S_POOL_LINES];
    fb_logdetect_t **detectors; /* op=detect: one per worker */
    /* op=mixed: the searcher thread */
    pthread_t searcher;
    bool searcher_started;
    atomic_bool stop;
    int64_t search_period_ns;
    fb_hist_t *search_hist;
    /* source=child */
    pid_t child;
    int child_fd;
    char *child_buf;
    pthread_t reader;
    bool reader_started;
    /* since the last interval */
    atomic_int_fast64_t searches, matches, detected, detect_ns;
    fb_logstore_stats_t seen;
} s_log_t;

static const char *s_line (const s_log_t *self, uint64_t i, uint32_t *len) {
    *len = self->pool_len[i % S_POOL_LINES];
    return self->pool + (i % S_POOL_LINES) * (S_POOL_LINE_MAX + 1);
}

static int s_search_once (s_log_t *self, fb_hist_t *hist) {
    int64_t t0 = fb_clock_now_ns ();
    int n = fb_logstore_search (self->store, self->query, self->search_mode, -1, NULL, 0, NULL);
    fb_hist_record_atomic (hist, fb_clock_now_ns () - t0);
    atomic_fetch_add (&self->searches, 1);
    if (n > 0)
        atomic_fetch_add (&self->matches, n);
    return n < 0 ? -1 : 0;
}

static void *s_searcher_main (void *arg) {
    s_log_t *self = arg;
    int64_t next = fb_clock_now_ns ();
    while (!atomic_load (&self->stop)) {
        int64_t now = fb_clock_now_ns ();
        if (now < next) { /* sleep in short steps so teardown never waits long */
            fb_clock_sleep_until_ns (next - now > S_SEARCHER_STEP_NS ? now + S_SEARCHER_STEP_NS
                                                                     : next);
            continue;
        }
        s_search_once (self, self->search_hist);
        /* Late searches are not made up in a burst: the schedule restarts from now. */
        next = next + self->search_period_ns > now ? next + self->search_period_ns
                                                   : now + self->search_period_ns;
    }
    return NULL;
}

static int s_op (void *state, fb_wl_op_t *op) {
    s_log_t *self = state;
    uint32_t len;
    const char *line =
        s_line (self, op->seq * (uint64_t)self->workers + (uint64_t)op->worker, &len);
    switch (self->op) {
    case S_OP_SEARCH:
        return s_search_once (self, op->metrics[S_M_SEARCH]);
    case S_OP_DETECT: {
        int64_t t0 = fb_clock_now_ns ();
        fb_logdetect_line (self->detectors[op->worker], line, len, NULL, 0, NULL);
        int64_t ns = fb_clock_now_ns () - t0;
        fb_hist_record_atomic (op->metrics[S_M_DETECT], ns);
        atomic_fetch_add_explicit (&self->detected, 1, memory_order_relaxed);
        atomic_fetch_add_explicit (&self->detect_ns, ns, memory_order_relaxed);
        return 0;
    }
    default: {
        int process_id = (int)((op->seq + (uint64_t)op->worker) % (uint64_t)self->processes);
        fb_logstore_append (self->store, process_id, line, len, fb_clock_now_ns ());
        return 0; /* a drop is counted, not an error: the store said no, as designed */
    }
    }
}

/* ---- setup and teardown ----------------------------------------------------------------- */

static int s_make_pool (s_log_t *self, uint64_t seed, fb_err_t *err) {
    self->pool = malloc ((size_t)S_POOL_LINES * (S_POOL_LINE_MAX + 1));
    if (!self->pool)
        return fb_err_set (err, FB_ENOMEM, "log: out of memory for the line pool");
    fb_loggen_t *gen = fb_loggen_new (seed, err);
    if (!gen)
        return -1;
    for (int i = 0; i < S_POOL_LINES; i++)
        self->pool_len[i] = (uint32_t)fb_loggen_next (
            gen, self->pool + (size_t)i * (S_POOL_LINE_MAX + 1), S_POOL_LINE_MAX + 1);
    fb_loggen_destroy (&gen);
    return 0;
}

static int s_make_store (s_log_t *self, const fb_params_t *params, fb_err_t *err) {
    int detect = (int)fb_params_num (params, "detect"); /* fast, regex, off */
    fb_logstore_config_t cfg = {
        .capacity = (int)fb_params_num (params, "capacity"),
        .queue = (int)fb_params_num (params, "queue"),
        .eviction = (int)fb_params_num (params, "eviction"),
        .detect = detect != 2,
        .detect_engine = detect == 1 ? FB_LOGDETECT_REGEX : FB_LOGDETECT_FAST,
        .line_bytes = (int)fb_params_num (params, "line_bytes"),
        .drop_when_full = fb_params_num (params, "overflow") == 1,
        .forget_evicted = fb_params_num (params, "evicted_index") == 1,
    };
    if (!(self->store = fb_logstore_new (&cfg, err)))
        return -1;
    if (fb_params_num (params, "prefill") != 0 || self->op == S_OP_SEARCH) {
        for (int i = 0; i < cfg.capacity; i++) {
            uint32_t len;
            const char *line = s_line (self, (uint64_t)i, &len);
            /* overflow=drop: wait for room rather than start with a store not full */
            if (fb_logstore_append (self->store, i % self->processes, line, len,
                                    fb_clock_now_ns ()) < 0 &&
                fb_logstore_flush (self->store, S_FLUSH_NS) == 0)
                fb_logstore_append (self->store, i % self->processes, line, len,
                                    fb_clock_now_ns ());
        }
        if (fb_logstore_flush (self->store, S_FLUSH_NS) != 0)
            return fb_err_set (err, FB_ESTATE, "log: the store did not take %d lines in %llds",
                               cfg.capacity, (long long)(S_FLUSH_NS / FB_NS_PER_S));
        fb_hist_t *discard = fb_hist_new_default (err);
        if (!discard)
            return -1;
        fb_logstore_drain_ingest (self->store, discard, NULL);
        fb_hist_destroy (&discard);
    }
    fb_logstore_stats (self->store, &self->seen);
    return 0;
}

static int s_make_detectors (s_log_t *self, const fb_params_t *params, fb_err_t *err) {
    int engine = fb_params_num (params, "detect") == 1 ? FB_LOGDETECT_REGEX : FB_LOGDETECT_FAST;
    self->detectors = calloc ((size_t)self->workers, sizeof *self->detectors);
    if (!self->detectors)
        return fb_err_set (err, FB_ENOMEM, "log: out of memory for %d detectors", self->workers);
    for (int i = 0; i < self->workers; i++)
        if (!(self->detectors[i] =
                  fb_logdetect_new (engine, (size_t)fb_params_num (params, "line_bytes"), err)))
            return -1;
    return 0;
}

/* ---- source=child: fb-child's output into the store -------------------------------------- */

/* fb-child from the agent's allow-list (always there, built in), or next to this program. */
static const char *s_child_path (const fb_wl_env_t *env, char *buf, size_t len) {
    const char *const *argv =
        env->allow.argv ? env->allow.argv (env->allow.list, FB_WL_HELPER_CHILD, env->helper_dir)
                        : NULL;
    if (argv && argv[0])
        return argv[0];
    snprintf (buf, len, "%s/fb-child", env->helper_dir ? env->helper_dir : ".");
    return buf;
}

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    if (fb_params_num (params, "source") != 1)
        return 0;
    if (fb_params_num (params, "op") == S_OP_DETECT)
        return fb_err_set (err, FB_EINPUT,
                           "log: source: child feeds the store, and op: detect has none; use "
                           "op: append, search or mixed");
    char buf[1024];
    const char *path = s_child_path (env, buf, sizeof buf);
    if (access (path, X_OK) != 0)
        return fb_err_set (err, FB_EINPUT, "log: source: child needs %s, which is not there (%s)",
                           path, strerror (errno));
    return 0;
}

/* Splits what has been read into lines and appends them; keeps a partial line. */
static size_t s_child_lines (s_log_t *self, size_t have, int64_t now_ns) {
    char *buf = self->child_buf;
    size_t start = 0;
    for (char *nl; (nl = memchr (buf + start, '\n', have - start)); start = (size_t)(nl - buf) + 1)
        fb_logstore_append (self->store, S_CHILD_PROCESS_ID, buf + start,
                            (size_t)(nl - buf) - start, now_ns);
    if (start == 0 && have == S_CHILD_BUF) { /* no newline in a full buffer: one long line */
        fb_logstore_append (self->store, S_CHILD_PROCESS_ID, buf, have, now_ns);
        return 0;
    }
    memmove (buf, buf + start, have - start);
    return have - start;
}

static void *s_reader_main (void *arg) {
    s_log_t *self = arg;
    size_t have = 0;
    while (!atomic_load (&self->stop)) {
        struct pollfd p = {.fd = self->child_fd, .events = POLLIN};
        int rc = poll (&p, 1, S_CHILD_POLL_MS);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0)
            continue;
        ssize_t n = read (self->child_fd, self->child_buf + have, S_CHILD_BUF - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* fb-child has gone */
        have = s_child_lines (self, have + (size_t)n, fb_clock_now_ns ());
    }
    return NULL;
}

static int s_spawn_child (s_log_t *self, const char *path, char *const *argv, fb_err_t *err) {
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC) != 0)
        return fb_err_set (err, FB_ESYS, "log: pipe for fb-child: %s", strerror (errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2 (&actions, fds[1], STDOUT_FILENO);
    int rc = posix_spawn (&self->child, path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    close (fds[1]);
    self->child_fd = fds[0];
    if (rc != 0) {
        self->child = 0;
        return fb_err_set (err, FB_ESYS, "log: cannot start %s: %s", path, strerror (rc));
    }
    return 0;
}

static int s_start_child (s_log_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                          fb_err_t *err) {
    if (s_check (params, env, err) != 0)
        return -1;
    char path_buf[1024], rate[32], bytes[32];
    const char *path = s_child_path (env, path_buf, sizeof path_buf);
    snprintf (rate, sizeof rate, "%.0f/s", fb_params_num (params, "child_rate"));
    snprintf (bytes, sizeof bytes, "%d", (int)fb_params_num (params, "child_line_bytes"));
    char *argv[] = {(char *)path, "--lines", "-1", "--rate", rate, "--line-bytes", bytes, NULL};
    if (!(self->child_buf = malloc (S_CHILD_BUF)))
        return fb_err_set (err, FB_ENOMEM, "log: out of memory for fb-child's output");
    if (s_spawn_child (self, path, argv, err) != 0)
        return -1;
    int rc = pthread_create (&self->reader, NULL, s_reader_main, self);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "log: cannot start the reader thread: %s", strerror (rc));
    self->reader_started = true;
    return 0;
}

/* SIGTERM, then SIGKILL if it has not gone within S_CHILD_REAP_NS. */
static void s_stop_child (s_log_t *self) {
    if (self->child > 0) {
        kill (self->child, SIGTERM);
        int64_t deadline = fb_clock_now_ns () + S_CHILD_REAP_NS;
        struct timespec pause = {0, 10000000};
        while (waitpid (self->child, NULL, WNOHANG) == 0) {
            if (fb_clock_now_ns () >= deadline) {
                kill (self->child, SIGKILL);
                waitpid (self->child, NULL, 0);
                break;
            }
            nanosleep (&pause, NULL);
        }
        self->child = 0;
    }
    if (self->reader_started)
        pthread_join (self->reader, NULL);
    self->reader_started = false;
    if (self->child_fd > 0)
        close (self->child_fd);
    self->child_fd = -1;
}

static int s_start (s_log_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                    fb_err_t *err) {
    if (self->op == S_OP_DETECT)
        return s_make_detectors (self, params, err);
    if (s_make_store (self, params, err) != 0)
        return -1;
    if (fb_params_num (params, "source") == 1 && s_start_child (self, params, env, err) != 0)
        return -1;
    if (self->op != S_OP_MIXED)
        return 0;
    self->search_period_ns = (int64_t)(1e9 / fb_params_num (params, "search_rate"));
    if (!(self->search_hist = fb_hist_new_default (err)))
        return -1;
    int rc = pthread_create (&self->searcher, NULL, s_searcher_main, self);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "log: cannot start the searcher thread: %s",
                           strerror (rc));
    self->searcher_started = true;
    return 0;
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    s_log_t *self = state;
    self->child_fd = -1;
    self->op = (int)fb_params_num (params, "op");
    self->workers = env->workers > 0 ? env->workers : 1;
    self->processes = (int)fb_params_num (params, "processes");
    self->search_mode =
        fb_params_num (params, "search") == 1 ? FB_LOGSTORE_REGEX : FB_LOGSTORE_SUBSTR;
    self->query = s_queries[self->search_mode][(int)fb_params_num (params, "query")];
    if (s_make_pool (self, (uint64_t)fb_params_num (params, "seed"), err) != 0 ||
        s_start (self, params, env, err) != 0)
        return -1;
    return 0;
}

#define S_DELTA(field) ((int64_t)(now.field - self->seen.field))

static void s_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    s_log_t *self = state;
    counters[S_C_SEARCHES] = atomic_exchange (&self->searches, 0);
    counters[S_C_MATCHES] = atomic_exchange (&self->matches, 0);
    if (self->op == S_OP_DETECT) {
        int64_t lines = atomic_exchange (&self->detected, 0);
        int64_t ns = atomic_exchange (&self->detect_ns, 0);
        counters[S_C_LINES] = lines;
        counters[S_C_DETECT_NS] = lines ? ns / lines : 0;
        return;
    }
    fb_logstore_stats_t now;
    fb_logstore_stats (self->store, &now);
    counters[S_C_LINES] = S_DELTA (appended);
    counters[S_C_DROPS] = S_DELTA (dropped);
    counters[S_C_SYNC] = S_DELTA (sync_stored);
    counters[S_C_TRUNCATED] = S_DELTA (truncated);
    counters[S_C_EVICTED] = S_DELTA (evicted);
    counters[S_C_STORED] = fb_logstore_count (self->store);
    counters[S_C_ERRORS] = S_DELTA (errors);
    counters[S_C_URLS] = S_DELTA (urls);
    counters[S_C_DETECT_NS] = S_DELTA (stored) ? S_DELTA (detect_ns) / S_DELTA (stored) : 0;
    counters[S_C_POSITIONS] = (int64_t)now.positions;
    self->seen = now;
    /* Same layout on every side (the default range), so a drain cannot fail. */
    int rc = fb_logstore_drain_ingest (self->store, metrics[S_M_INGEST], NULL);
    if (self->search_hist) {
        /* The searcher's searches are counted by what is drained, so that the counter and
         * the histogram always agree. */
        int64_t before = fb_hist_count (metrics[S_M_SEARCH]);
        rc |= fb_hist_drain (metrics[S_M_SEARCH], self->search_hist, NULL);
        counters[S_C_SEARCHES] = fb_hist_count (metrics[S_M_SEARCH]) - before;
    }
    assert (rc == 0);
}

static void s_teardown (void *state) {
    s_log_t *self = state;
    atomic_store (&self->stop, true);
    if (self->searcher_started)
        pthread_join (self->searcher, NULL);
    s_stop_child (self);
    free (self->child_buf);
    fb_logstore_destroy (&self->store);
    for (int i = 0; self->detectors && i < self->workers; i++)
        fb_logdetect_destroy (&self->detectors[i]);
    free (self->detectors);
    fb_hist_destroy (&self->search_hist);
    free (self->pool);
}

const fb_workload_t fb_workload_log = {
    .kind = "log",
    .summary = "Brummer's log store: async ingest with sync fallback, detection, search",
    .params = s_params,
    .metrics = s_metrics,
    .counters = s_counters,
    .max_rate_per_s = 1e6,
    .check = s_check,
    .state_size = sizeof (s_log_t),
    .setup = s_setup,
    .op = s_op,
    .interval = s_interval,
    .teardown = s_teardown,
};

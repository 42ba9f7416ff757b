/* process.c: the `process` workload: Brummer's process manager (procman.c) running real child
 * processes. The command comes only from the agent's allow-list; the plan names an entry
 * (`command:`), by default our own helper fb-child, whose behaviour the params set. One op is
 * one start, stop, lifecycle (start, first output, stop), status read or list snapshot; the
 * contention op is the seed's scenario: a few children logging every 10 ms while the runner
 * reads their status at its rate. */
#include "common/clock.h"
#include "workloads/log/logstore.h"
#include "workloads/process/procman.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { S_OP_START, S_OP_STOP, S_OP_LIFECYCLE, S_OP_STATUS, S_OP_LIST, S_OP_CONTENTION };
enum { S_M_SPAWN, S_M_FIRST_OUTPUT, S_M_STOP, S_M_STATUS, S_M_LIST };
enum {
    S_C_STARTED,
    S_C_KILLED,
    S_C_LINES,
    S_C_BYTES,
    S_C_LIVE,
    S_C_LOCK_WAIT,
    S_C_LOCK_HOLD,
    S_C_LOCK_WAIT_SHARE,
    S_C_CONTENDED,
    S_C_ZOMBIES,
    S_C_LEAKED_FDS,
};
enum { S_LOG_NONE, S_LOG_STORE };

#define S_MAX_ARGS 24
#define S_ARG_BYTES 32
#define S_ZOMBIES_KEPT 64
#define S_PATH_BYTES 1024 /* zombie pids remembered from one interval to the next */

typedef struct {
    int op;
    fb_procman_t *man;
    fb_logstore_t *store;
    const char *const *argv; /* the allow-list's, or fb_child below */
    char path[S_PATH_BYTES]; /* the program */
    const char *fb_child[S_MAX_ARGS + 1];
    char arg_text[S_MAX_ARGS][S_ARG_BYTES];
    int64_t timeout_ns;
    int n_keep; /* status, list, contention: the processes kept running */
    int *keep_ids;
    int workers;
    int *worker_ids;             /* stop: each worker's next process to stop */
    fb_proc_status_t *list_bufs; /* list: n_keep entries per worker */
    int baseline_fds;
    pid_t zombies_seen[S_ZOMBIES_KEPT];
    int n_zombies_seen;
} s_state_t;

static const fb_param_spec_t s_params[] = {
    {"op", FB_PARAM_ENUM, "lifecycle", 0, 0, "start|stop|lifecycle|status|list|contention",
     "what one operation is (see docs/workloads/process.md)"},
    {"command", FB_PARAM_STRING, "fb-child", 0, 0, NULL,
     "a name on the agent's allow-list (agent --allow FILE); fb-child is always there"},
    {"lock", FB_PARAM_ENUM, "rwlock", 0, 0, "rwlock|mutex|atomic",
     "the manager lock: Brummer's RWMutex, a plain mutex, or lock-free reads"},
    {"grace", FB_PARAM_DURATION, "50ms", 0, 60e9, NULL, "stop: SIGTERM, this long, then SIGKILL"},
    {"processes", FB_PARAM_INT, "0", 0, FB_PROCMAN_MAX_PROCESSES, NULL,
     "status, list, contention: processes kept running; 0: the seed's (10, 10, 5)"},
    {"max_processes", FB_PARAM_INT, "64", 1, FB_PROCMAN_MAX_PROCESSES, NULL,
     "entries in the manager's table (running and exited processes)"},
    {"timeout", FB_PARAM_DURATION, "5s", 1e6, 60e9, NULL,
     "longest wait for a first output line; past it the op fails"},
    {"lines", FB_PARAM_INT, "0", -1, 1e9, NULL,
     "fb-child: lines to print, -1 until stopped; 0: 1 (contention: until stopped)"},
    {"line_rate", FB_PARAM_RATE, "100/s", 0.01, 1e6, NULL,
     "fb-child: lines per second (the seed's log callback every 10 ms)"},
    {"line_bytes", FB_PARAM_SIZE, "64B", 1, 65536, NULL, "fb-child: bytes per line"},
    {"stderr_every", FB_PARAM_INT, "10", 0, 1e9, NULL,
     "fb-child: every n-th line goes to stderr; 0 none"},
    {"first_output_delay", FB_PARAM_DURATION, "0ms", 0, 60e9, NULL,
     "fb-child: wait before the first line"},
    {"ignore_term", FB_PARAM_BOOL, "false", 0, 0, NULL,
     "fb-child: ignore SIGTERM, so every stop ends with SIGKILL after the grace"},
    {"log", FB_PARAM_ENUM, "none", 0, 0, "none|store",
     "where output lines go: counted only, or also appended to a log store (logstore.h)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const char *const s_metrics[] = {"spawn", "first_output", "stop", "status", "list", NULL};

static const fb_counter_spec_t s_counters[] = {
    {"started", FB_COUNTER_SUM, ""},        {"killed", FB_COUNTER_SUM, ""},
    {"lines", FB_COUNTER_SUM, ""},          {"bytes", FB_COUNTER_SUM, "B"},
    {"live", FB_COUNTER_MAX, ""},           {"lock_wait", FB_COUNTER_SUM, "ns"},
    {"lock_hold", FB_COUNTER_SUM, "ns"},    {"lock_wait_share", FB_COUNTER_MAX, "ppm"},
    {"lock_contended", FB_COUNTER_SUM, ""}, {"zombies", FB_COUNTER_MAX, ""},
    {"leaked_fds", FB_COUNTER_MAX, ""},     {NULL, 0, NULL},
};

/* ---- the command ----------------------------------------------------------------------- */

static bool s_executable (const char *program) {
    if (strchr (program, '/'))
        return access (program, X_OK) == 0;
    const char *path = getenv ("PATH");
    char full[1024];
    for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
        const char *colon = strchr (p, ':');
        int n = colon ? (int)(colon - p) : (int)strlen (p);
        snprintf (full, sizeof full, "%.*s/%s", n, n ? p : ".", program);
        if (access (full, X_OK) == 0)
            return true;
        p = colon ? colon + 1 : NULL;
    }
    return false;
}

/* What the plan's command runs on this agent: argv[0] into path (fb-child: the helper folder's
 * copy), and the allow-list's argv into *argv (NULL for fb-child, whose options are ours). A
 * name that is not on the list is an error here, before anything runs. */
static int s_resolve (const fb_params_t *params, const fb_wl_env_t *env, char *path, size_t size,
                      const char *const **argv, fb_err_t *err) {
    const char *name = fb_params_text (params, "command");
    *argv = NULL;
    if (strcmp (name, FB_WL_HELPER_CHILD) == 0)
        snprintf (path, size, "%s/%s",
                  env->helper_dir && env->helper_dir[0] ? env->helper_dir : ".",
                  FB_WL_HELPER_CHILD);
    else {
        *argv = env->allow.argv ? env->allow.argv (env->allow.list, name, env->helper_dir) : NULL;
        char names[160];
        if (!*argv)
            return fb_err_set (
                err, FB_EINPUT, "command \"%s\" is not on this agent's allow-list (allowed: %s)",
                name,
                env->allow.names ? env->allow.names (env->allow.list, names, sizeof names)
                                 : FB_WL_HELPER_CHILD);
        snprintf (path, size, "%s", (*argv)[0]);
    }
    if (!s_executable (path))
        return fb_err_set (err, FB_EINPUT, "command \"%s\": no executable %s on this agent", name,
                           path);
    return 0;
}

static int s_default_processes (int op) { return op == S_OP_CONTENTION ? 5 : 10; }

static int s_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    char path[S_PATH_BYTES];
    const char *const *argv;
    if (s_resolve (params, env, path, sizeof path, &argv, err) != 0)
        return -1;
    int op = (int)fb_params_num (params, "op");
    int keep = (int)fb_params_num (params, "processes");
    int max = (int)fb_params_num (params, "max_processes");
    keep = keep ? keep : s_default_processes (op);
    if ((op == S_OP_STATUS || op == S_OP_LIST || op == S_OP_CONTENTION) && keep > max)
        return fb_err_set (err, FB_EINPUT, "processes (%d) must not exceed max_processes (%d)",
                           keep, max);
    if (op == S_OP_STOP && env->workers > max)
        return fb_err_set (err, FB_EINPUT,
                           "op stop keeps one process per worker: %d workers need "
                           "max_processes of at least %d (got %d)",
                           env->workers, env->workers, max);
    return 0;
}

/* fb-child's options from the params; its path is argv[0] of the allow-list's entry. */
static void s_build_fb_child (s_state_t *self, const fb_params_t *params, const char *path) {
    int n = 0;
    self->fb_child[n++] = path;
    long long lines = (long long)fb_params_num (params, "lines");
    if (lines == 0)
        lines = self->op == S_OP_CONTENTION ? -1 : 1;
    struct {
        const char *option;
        double value;
    } opts[] = {
        {"--lines", (double)lines},
        {"--rate", fb_params_num (params, "line_rate")},
        {"--line-bytes", fb_params_num (params, "line_bytes")},
        {"--stderr-every", fb_params_num (params, "stderr_every")},
        {"--first-output-delay", /* whole ms, as fb-child takes it */
         (double)((int64_t)fb_params_num (params, "first_output_delay") / FB_NS_PER_MS)},
        {"--sleep", self->op == S_OP_START ? 0 : -1}, /* start: it exits by itself */
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        self->fb_child[n++] = opts[i].option;
        snprintf (self->arg_text[i], S_ARG_BYTES, "%.15g", opts[i].value);
        self->fb_child[n++] = self->arg_text[i];
    }
    if (fb_params_num (params, "ignore_term"))
        self->fb_child[n++] = "--ignore-term";
    self->fb_child[n] = NULL;
    self->argv = self->fb_child;
}

/* ---- the log path ---------------------------------------------------------------------- */

static void s_to_store (void *arg, int id, const char *line, size_t len, bool is_stderr,
                        int64_t now_ns) {
    (void)is_stderr;
    fb_logstore_append (arg, id, line, len, now_ns);
}

/* ---- ops ------------------------------------------------------------------------------- */

static int s_start (s_state_t *self, fb_wl_op_t *op, int *id) {
    int64_t t0 = fb_clock_now_ns ();
    if (fb_procman_start (self->man, self->argv, id, NULL) != 0)
        return -1;
    fb_hist_record_atomic (op->metrics[S_M_SPAWN], fb_clock_now_ns () - t0);
    return 0;
}

static int s_stop (s_state_t *self, fb_wl_op_t *op, int id) {
    int64_t t0 = fb_clock_now_ns ();
    if (fb_procman_stop (self->man, id, NULL, NULL) != 0)
        return -1;
    fb_hist_record_atomic (op->metrics[S_M_STOP], fb_clock_now_ns () - t0);
    return 0;
}

/* start -> first byte of output -> stop; first_output is measured from the start call. */
static int s_op_lifecycle (s_state_t *self, fb_wl_op_t *op) {
    int id = 0;
    int64_t t0 = fb_clock_now_ns ();
    if (s_start (self, op, &id) != 0)
        return -1;
    int64_t first_ns = 0;
    int rc = fb_procman_wait_output (self->man, id, t0 + self->timeout_ns, &first_ns);
    if (rc == 0)
        fb_hist_record_atomic (op->metrics[S_M_FIRST_OUTPUT], first_ns - t0);
    return s_stop (self, op, id) != 0 ? -1 : rc;
}

/* Stops this worker's process (up and printing: it has set up its signals), starts the next. */
static int s_op_stop (s_state_t *self, fb_wl_op_t *op) {
    int *id = &self->worker_ids[op->worker];
    int rc = 0;
    if (*id > 0) {
        fb_procman_wait_output (self->man, *id, fb_clock_now_ns () + self->timeout_ns, NULL);
        rc = s_stop (self, op, *id);
        *id = 0;
    }
    if (s_start (self, op, id) != 0)
        rc = -1;
    return rc;
}

static int s_op (void *state, fb_wl_op_t *op) {
    s_state_t *self = state;
    int id = 0;
    switch (self->op) {
    case S_OP_START:
        return s_start (self, op, &id);
    case S_OP_STOP:
        return s_op_stop (self, op);
    case S_OP_LIFECYCLE:
        return s_op_lifecycle (self, op);
    case S_OP_LIST: {
        fb_proc_status_t *buf = &self->list_bufs[(size_t)op->worker * (size_t)self->n_keep];
        int64_t t0 = fb_clock_now_ns ();
        int n = fb_procman_list (self->man, buf, self->n_keep);
        fb_hist_record_atomic (op->metrics[S_M_LIST], fb_clock_now_ns () - t0);
        return n == self->n_keep ? 0 : -1;
    }
    default: { /* status, contention */
        fb_proc_status_t status;
        id = self->keep_ids[op->seq % (uint64_t)self->n_keep];
        int64_t t0 = fb_clock_now_ns ();
        int rc = fb_procman_status (self->man, id, &status);
        fb_hist_record_atomic (op->metrics[S_M_STATUS], fb_clock_now_ns () - t0);
        return rc;
    }
    }
}

/* ---- leak checks ----------------------------------------------------------------------- */

/* The state and parent of pid from /proc/pid/stat; false when it cannot be read. */
static bool s_proc_stat (const char *pid, char *state, long *ppid) {
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%s/stat", pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *paren = strrchr (buf, ')'); /* the command name may hold anything */
    return paren && sscanf (paren + 1, " %c %ld", state, ppid) == 2;
}

/* Children of this process that are zombies, from /proc; up to max of their pids into pids.
 * -1 when /proc cannot be read. */
static int s_count_zombies (pid_t *pids, int max) {
    DIR *dir = opendir ("/proc");
    if (!dir)
        return -1;
    long self = (long)getpid ();
    int n = 0;
    for (struct dirent *e; (e = readdir (dir));) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char state = 0;
        long ppid = 0;
        if (!s_proc_stat (e->d_name, &state, &ppid) || ppid != self || state != 'Z')
            continue;
        if (pids && n < max)
            pids[n] = (pid_t)atol (e->d_name);
        n++;
    }
    closedir (dir);
    return n;
}

/* ---- setup, interval, teardown --------------------------------------------------------- */

static int s_alloc (s_state_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                    fb_err_t *err) {
    self->workers = env->workers > 0 ? env->workers : 1;
    if (self->op == S_OP_STATUS || self->op == S_OP_LIST || self->op == S_OP_CONTENTION) {
        int keep = (int)fb_params_num (params, "processes");
        self->n_keep = keep ? keep : s_default_processes (self->op);
        self->keep_ids = calloc ((size_t)self->n_keep, sizeof *self->keep_ids);
        if (!self->keep_ids)
            return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    if (self->op == S_OP_STOP &&
        !(self->worker_ids = calloc ((size_t)self->workers, sizeof *self->worker_ids)))
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    if (self->op == S_OP_LIST &&
        !(self->list_bufs =
              calloc ((size_t)self->workers * (size_t)self->n_keep, sizeof *self->list_bufs)))
        return fb_err_set (err, FB_ENOMEM, "out of memory for %d list buffers", self->workers);
    return 0;
}

static int s_make_manager (s_state_t *self, const fb_params_t *params, fb_err_t *err) {
    if ((int)fb_params_num (params, "log") == S_LOG_STORE) {
        fb_logstore_config_t cfg = {.detect = true};
        if (!(self->store = fb_logstore_new (&cfg, err)))
            return -1;
    }
    fb_procman_config_t cfg = {
        .max_processes = (int)fb_params_num (params, "max_processes"),
        .lock = (fb_procman_lock_t)fb_params_num (params, "lock"),
        .grace_ns = (int64_t)fb_params_num (params, "grace"),
        /* Hold times cost two clock reads per lock: not where status and list are measured. */
        .timed = self->op != S_OP_STATUS && self->op != S_OP_LIST,
        .on_line = self->store ? s_to_store : NULL,
        .on_line_arg = self->store,
    };
    self->man = fb_procman_new (&cfg, err);
    return self->man ? 0 : -1;
}

/* The processes status, list and contention read, and stop's first ones; each is up (it has
 * printed) before the run begins. */
static int s_start_kept (s_state_t *self, fb_err_t *err) {
    int n = self->op == S_OP_STOP ? self->workers : self->n_keep;
    int *ids = self->op == S_OP_STOP ? self->worker_ids : self->keep_ids;
    for (int i = 0; i < n; i++)
        if (fb_procman_start (self->man, self->argv, &ids[i], err) != 0)
            return -1;
    int64_t deadline = fb_clock_now_ns () + self->timeout_ns;
    for (int i = 0; i < n && self->argv == self->fb_child; i++)
        if (fb_procman_wait_output (self->man, ids[i], deadline, NULL) != 0)
            return fb_err_set (err, FB_ESTATE, "fb-child printed nothing within the timeout");
    return 0;
}

static int s_setup (void *state, const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    s_state_t *self = state;
    self->op = (int)fb_params_num (params, "op");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    if (s_alloc (self, params, env, err) != 0 || s_make_manager (self, params, err) != 0)
        return -1;
    int open_fds, held_fds;
    self->baseline_fds =
        fb_procman_count_fds (self->man, &open_fds, &held_fds) == 0 ? open_fds - held_fds : -1;
    const char *const *argv = NULL;
    if (s_resolve (params, env, self->path, sizeof self->path, &argv, err) != 0)
        return -1;
    if (argv)
        self->argv = argv; /* the allow-list's, as written there */
    else
        s_build_fb_child (self, params, self->path);
    if (s_start_kept (self, err) != 0)
        return -1;
    return 0;
}

/* Zombies that were zombies at the last interval too: a child the waiter reaps is a zombie
 * for microseconds, one that stays one a whole interval is a leak. */
static int64_t s_lasting_zombies (s_state_t *self) {
    pid_t now[S_ZOMBIES_KEPT];
    int n = s_count_zombies (now, S_ZOMBIES_KEPT);
    if (n < 0)
        return 0;
    int kept = n < S_ZOMBIES_KEPT ? n : S_ZOMBIES_KEPT;
    int64_t lasting = 0;
    for (int i = 0; i < kept; i++)
        for (int k = 0; k < self->n_zombies_seen; k++)
            if (now[i] == self->zombies_seen[k]) {
                lasting++;
                break;
            }
    memcpy (self->zombies_seen, now, (size_t)kept * sizeof *now);
    self->n_zombies_seen = kept;
    return lasting;
}

static void s_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* every metric is recorded by the ops themselves */
    s_state_t *self = state;
    fb_procman_stats_t st;
    fb_procman_take_stats (self->man, &st);
    counters[S_C_STARTED] = st.started;
    counters[S_C_KILLED] = st.killed;
    counters[S_C_LINES] = st.lines;
    counters[S_C_BYTES] = st.bytes;
    counters[S_C_LIVE] = st.live;
    counters[S_C_LOCK_WAIT] = st.lock_wait_ns;
    counters[S_C_LOCK_HOLD] = st.lock_hold_ns;
    int64_t spent = st.lock_wait_ns + st.lock_hold_ns;
    counters[S_C_LOCK_WAIT_SHARE] =
        spent > 0 ? (int64_t)((double)st.lock_wait_ns * 1e6 / (double)spent) : 0;
    counters[S_C_CONTENDED] = st.contended;
    counters[S_C_ZOMBIES] = s_lasting_zombies (self);
    /* Pipes and pidfds open beyond those at setup and those the manager holds now, counted
     * while no start or close is half done (a count taken mid-spawn saw its new pipes before
     * the manager's total did, and reported a leak that was none). */
    int open_fds, held_fds;
    int rc = fb_procman_count_fds (self->man, &open_fds, &held_fds);
    int leaked = open_fds - self->baseline_fds - held_fds;
    counters[S_C_LEAKED_FDS] = rc == 0 && self->baseline_fds >= 0 && leaked > 0 ? leaked : 0;
}

/* Stops and reaps every process (the manager's destroy), then frees. */
static void s_teardown (void *state) {
    s_state_t *self = state;
    fb_procman_destroy (&self->man);
    if (self->store)
        fb_logstore_destroy (&self->store);
    free (self->keep_ids);
    free (self->worker_ids);
    free (self->list_bufs);
}

const fb_workload_t fb_workload_process = {
    .kind = "process",
    .summary = "Brummer's process manager: real child processes started, read, listed, stopped",
    .params = s_params,
    .metrics = s_metrics,
    .counters = s_counters,
    .max_rate_per_s = 1e4,
    .check = s_check,
    .state_size = sizeof (s_state_t),
    .setup = s_setup,
    .op = s_op,
    .interval = s_interval,
    .teardown = s_teardown,
};

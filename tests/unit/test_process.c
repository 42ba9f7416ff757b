/* test_process.c: the process workload and its manager with real children (fb-child from the
 * build folder, next to this program). Every test ends with no zombie and no descriptor more
 * than it began with. Counts and states, never timings. */
#include "agent/allow.h"
#include "common/clock.h"
#include "common/hist.h"
#include "workloads/process/procman.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testlib.h"

/* Descriptors open now; the listing's own is not counted. */
static int s_count_fds (void) { return t_count_entries ("/proc/self/fd") - 1; }

enum { M_SPAWN, M_FIRST_OUTPUT, M_STOP, M_STATUS, M_LIST, M_N };
enum {
    C_STARTED,
    C_KILLED,
    C_LINES,
    C_BYTES,
    C_LIVE,
    C_LOCK_WAIT,
    C_LOCK_HOLD,
    C_LOCK_WAIT_SHARE,
    C_CONTENDED,
    C_ZOMBIES,
    C_LEAKED_FDS,
    C_N
};

static char s_helper_dir[512];

typedef struct {
    const fb_workload_t *wl;
    void *state;
    fb_hist_t *metrics[M_N]; /* what the ops record into, as the runner's shards */
    fb_hist_t *seen[M_N];    /* drained from metrics */
    int64_t totals[C_N];     /* SUM counters added up, MAX counters the highest */
    int fds_before;
} t_wl_t;

static const char *s_helper (void) {
    if (!s_helper_dir[0]) {
        ssize_t len = readlink ("/proc/self/exe", s_helper_dir, sizeof s_helper_dir - 1);
        assert_true (len > 0);
        s_helper_dir[len] = '\0';
        char *slash = strrchr (s_helper_dir, '/');
        assert_non_null (slash);
        *slash = '\0';
    }
    return s_helper_dir;
}

/* No child of ours is left (none alive, none a zombie: waitpid has no child at all) and no
 * descriptor is open beyond fds_before. */
static void s_assert_clean (int fds_before) {
    errno = 0;
    assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
    assert_int_equal (errno, ECHILD);
    assert_int_equal (s_count_fds (), fds_before);
}

static int s_params (fb_params_t *params, const char *const *pairs) {
    fb_err_t err = {0};
    assert_int_equal (fb_params_init (params, fb_workload_find ("process"), &err), 0);
    for (int i = 0; pairs && pairs[i]; i += 2)
        if (fb_params_set (params, pairs[i], pairs[i + 1], &err) != 0)
            fail_msg ("%s=%s: %s", pairs[i], pairs[i + 1], err.msg);
    return 0;
}

static void s_wl_setup (t_wl_t *t, const char *const *pairs, const fb_allow_t *allow, int workers) {
    memset (t, 0, sizeof *t);
    t->fds_before = s_count_fds ();
    t->wl = fb_workload_find ("process");
    assert_non_null (t->wl);
    fb_params_t params;
    s_params (&params, pairs);
    fb_wl_env_t env = {
        .workers = workers, .allow = fb_allow_for_workloads (allow), .helper_dir = s_helper ()};
    fb_err_t err = {0};
    if (t->wl->check (&params, &env, &err) != 0 ||
        fb_workload_setup (t->wl, &params, &env, &t->state, &err) != 0)
        fail_msg ("setup: %s", err.msg);
    for (int i = 0; i < M_N; i++) {
        assert_non_null (t->metrics[i] = fb_hist_new_default (&err));
        assert_non_null (t->seen[i] = fb_hist_new_default (&err));
    }
}

/* Samples of metric m recorded so far. */
static int64_t s_count (t_wl_t *t, int m) {
    assert_int_equal (fb_hist_drain (t->seen[m], t->metrics[m], NULL), 0);
    return fb_hist_count (t->seen[m]);
}

static void s_wl_interval (t_wl_t *t) {
    int64_t counters[FB_MAX_COUNTERS] = {0};
    t->wl->interval (t->state, t->metrics, counters);
    for (int c = 0; c < C_N; c++) {
        if (t->wl->counters[c].kind == FB_COUNTER_SUM)
            t->totals[c] += counters[c];
        else if (counters[c] > t->totals[c])
            t->totals[c] = counters[c];
    }
}

/* n ops on this thread as worker 0; returns the failed ones. */
static int s_wl_ops (t_wl_t *t, int n) {
    fb_wl_op_t op = {.metrics = t->metrics};
    int failed = 0;
    for (int i = 0; i < n; i++) {
        op.seq = (uint64_t)i;
        op.intended_start_ns = fb_clock_now_ns ();
        if (t->wl->op (t->state, &op) != 0)
            failed++;
    }
    return failed;
}

static void s_wl_teardown (t_wl_t *t) {
    s_wl_interval (t);
    assert_int_equal (t->totals[C_ZOMBIES], 0);
    assert_int_equal (t->totals[C_LEAKED_FDS], 0);
    fb_workload_teardown (t->wl, &t->state);
    assert_null (t->state);
    for (int i = 0; i < M_N; i++) {
        fb_hist_destroy (&t->metrics[i]);
        fb_hist_destroy (&t->seen[i]);
    }
    s_assert_clean (t->fds_before);
}

/* ---- the workload ---------------------------------------------------------------------- */

static void test_descriptor (void **state) {
    (void)state;
    const fb_workload_t *wl = fb_workload_find ("process");
    assert_non_null (wl);
    const char *metrics[] = {"spawn", "first_output", "stop", "status", "list"};
    for (int i = 0; i < M_N; i++)
        assert_string_equal (wl->metrics[i], metrics[i]);
    assert_null (wl->metrics[M_N]);
    assert_string_equal (wl->counters[C_ZOMBIES].name, "zombies");
    assert_string_equal (wl->counters[C_LEAKED_FDS].name, "leaked_fds");
    assert_string_equal (wl->counters[C_LOCK_WAIT_SHARE].unit, "ppm");
    assert_int_equal (wl->counters[C_ZOMBIES].kind, FB_COUNTER_MAX);
    assert_null (wl->counters[C_N].name);
    assert_non_null (wl->check);
}

static void test_lifecycle_of_fb_child_reports_first_output (void **state) {
    (void)state;
    t_wl_t t;
    const char *pairs[] = {"op", "lifecycle", "stderr_every", "2", NULL};
    s_wl_setup (&t, pairs, NULL, 1);
    assert_int_equal (s_wl_ops (&t, 4), 0);
    for (int m = M_SPAWN; m <= M_STOP; m++)
        assert_int_equal (s_count (&t, m), 4);
    assert_int_equal (s_count (&t, M_STATUS), 0);
    s_wl_interval (&t);
    assert_int_equal (t.totals[C_STARTED], 4);
    assert_int_equal (t.totals[C_KILLED], 0); /* fb-child leaves on SIGTERM */
    s_wl_teardown (&t);
}

static void test_lines_can_feed_the_log_store (void **state) {
    (void)state;
    t_wl_t t;
    const char *pairs[] = {"op", "lifecycle", "log",    "store", "lines",
                           "5",  "line_rate", "1000/s", NULL};
    s_wl_setup (&t, pairs, NULL, 1);
    assert_int_equal (s_wl_ops (&t, 2), 0);
    assert_int_equal (s_count (&t, M_FIRST_OUTPUT), 2);
    s_wl_teardown (&t);
    assert_true (t.totals[C_LINES] >= 2);
}

static void test_stop_of_a_child_ignoring_sigterm_ends_with_sigkill (void **state) {
    (void)state;
    t_wl_t t;
    const char *pairs[] = {"op", "stop", "ignore_term", "true", "grace", "20ms", NULL};
    s_wl_setup (&t, pairs, NULL, 1);
    assert_int_equal (s_wl_ops (&t, 3), 0);
    assert_int_equal (s_count (&t, M_STOP), 3);
    assert_int_equal (s_count (&t, M_SPAWN), 3);
    s_wl_interval (&t);
    assert_int_equal (t.totals[C_KILLED], 3);
    assert_int_equal (t.totals[C_STARTED], 4); /* with the one setup started */
    s_wl_teardown (&t); /* the last one, ignoring SIGTERM too, is killed by teardown */
}

/* Until no child is alive (the live counter of one interval), at most 30 s. */
static void s_wait_none_live (t_wl_t *t) {
    int64_t give_up = fb_clock_now_ns () + 30 * FB_NS_PER_S;
    for (;;) {
        int64_t counters[FB_MAX_COUNTERS] = {0};
        t->wl->interval (t->state, t->metrics, counters);
        t->totals[C_STARTED] += counters[C_STARTED];
        if (counters[C_LIVE] == 0 || fb_clock_now_ns () > give_up)
            break;
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 10 * FB_NS_PER_MS);
    }
}

static void test_start_op_children_exit_and_are_reaped (void **state) {
    (void)state;
    t_wl_t t;
    const char *pairs[] = {"op", "start", "lines", "3", "max_processes", "4", NULL};
    s_wl_setup (&t, pairs, NULL, 1);
    assert_int_equal (s_wl_ops (&t, 4), 0);
    /* Every entry holds a running child: the next start fails, nothing is killed for it. */
    s_wait_none_live (&t);
    /* They exited by themselves: their entries are taken again. */
    assert_int_equal (s_wl_ops (&t, 4), 0);
    assert_int_equal (s_count (&t, M_SPAWN), 8);
    s_wait_none_live (&t);
    assert_int_equal (t.totals[C_STARTED], 8);
    s_wl_teardown (&t);
}

/* Two workers spawning as fast as they can while interval ends come every few ms: the leak
 * check must say 0 at every one of them (a spawn half done is not a leak). 3000 children;
 * under AddressSanitizer, where one spawn costs about 100 ms, 400. */
#ifdef __SANITIZE_ADDRESS__
#define T_SPAWNS 400
#else
#define T_SPAWNS 3000
#endif
typedef struct {
    t_wl_t *t;
    int worker;
    int spawns;
    int failed;
} t_spawner_t;

static void *s_spawner (void *arg) {
    t_spawner_t *sp = arg;
    fb_wl_op_t op = {.metrics = sp->t->metrics, .worker = sp->worker};
    for (int i = 0; i < sp->spawns; i++) {
        op.seq = (uint64_t)i;
        op.intended_start_ns = fb_clock_now_ns ();
        if (sp->t->wl->op (sp->t->state, &op) != 0)
            sp->failed++;
    }
    return NULL;
}

static void test_leaked_fds_is_zero_at_every_interval_end_of_thousands_of_spawns (void **state) {
    (void)state;
    t_wl_t t;
    const char *pairs[] = {"op", "start", "lines", "1", "max_processes", "1024", NULL};
    s_wl_setup (&t, pairs, NULL, 2);
    t_spawner_t sp[2] = {{&t, 0, T_SPAWNS / 2, 0}, {&t, 1, T_SPAWNS / 2, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal (pthread_create (&threads[i], NULL, s_spawner, &sp[i]), 0);
    int intervals = 0, leaky = 0;
    int64_t worst = 0, started = 0;
    while (started < T_SPAWNS) {
        int64_t counters[FB_MAX_COUNTERS] = {0};
        t.wl->interval (t.state, t.metrics, counters);
        intervals++;
        started += counters[C_STARTED];
        if (counters[C_LEAKED_FDS] != 0) {
            leaky++;
            worst = counters[C_LEAKED_FDS] > worst ? counters[C_LEAKED_FDS] : worst;
        }
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 2 * FB_NS_PER_MS);
        if (intervals > 100000)
            break; /* bounded: 3000 spawns take seconds */
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal (pthread_join (threads[i], NULL), 0);
    print_message ("%d intervals over %lld spawns: %d with leaked_fds > 0 (worst %lld)\n",
                   intervals, (long long)started, leaky, (long long)worst);
    assert_int_equal (sp[0].failed + sp[1].failed, 0);
    assert_int_equal (started, T_SPAWNS);
    assert_true (intervals >= 20);
    assert_int_equal (leaky, 0);
    s_wait_none_live (&t);
    s_wl_teardown (&t);
}

static void test_status_list_and_contention_ops_run (void **state) {
    (void)state;
    const char *locks[] = {"rwlock", "mutex", "atomic"};
    for (int l = 0; l < 3; l++) {
        t_wl_t t;
        const char *status[] = {"op", "status", "processes", "2", "lock", locks[l], NULL};
        s_wl_setup (&t, status, NULL, 1);
        assert_int_equal (s_wl_ops (&t, 300), 0);
        assert_int_equal (s_count (&t, M_STATUS), 300);
        s_wl_teardown (&t);
        assert_int_equal (t.totals[C_LIVE], 2);

        const char *list[] = {"op", "list", "processes", "2", "lock", locks[l], NULL};
        s_wl_setup (&t, list, NULL, 1);
        assert_int_equal (s_wl_ops (&t, 100), 0);
        assert_int_equal (s_count (&t, M_LIST), 100);
        s_wl_teardown (&t);
    }
    t_wl_t t;
    const char *pairs[] = {"op", "contention", "line_rate", "200/s", NULL};
    s_wl_setup (&t, pairs, NULL, 1);
    for (int i = 0; i < 10; i++) { /* status every 10 ms, the children log every 5 ms */
        assert_int_equal (s_wl_ops (&t, 5), 0);
        fb_clock_sleep_until_ns (fb_clock_now_ns () + 10 * FB_NS_PER_MS);
    }
    s_wl_interval (&t);
    assert_int_equal (s_count (&t, M_STATUS), 50);
    assert_true (t.totals[C_LINES] >= 5); /* every child printed at least its first line */
    assert_true (t.totals[C_BYTES] >= 5 * 64);
    assert_true (t.totals[C_LOCK_WAIT_SHARE] >= 0 && t.totals[C_LOCK_WAIT_SHARE] <= 1000000);
    s_wl_teardown (&t);
}

/* A name on PATH that would leave a marker if it ever ran. */
static void s_marker_command (char *dir, size_t size, char *marker, size_t msize) {
    snprintf (dir, size, "/tmp/fb-test-process-XXXXXX");
    assert_non_null (mkdtemp (dir));
    snprintf (marker, msize, "%s/ran", dir);
    char script[600];
    snprintf (script, sizeof script, "%s/fb-make-marker", dir);
    FILE *f = fopen (script, "w");
    assert_non_null (f);
    fprintf (f, "#!/bin/sh\ntouch %s\n", marker);
    fclose (f);
    chmod (script, 0755);
}

static void test_command_not_on_the_allow_list_is_refused_and_never_runs (void **state) {
    (void)state;
    char dir[64], marker[128], path[1024];
    s_marker_command (dir, sizeof dir, marker, sizeof marker);
    const char *old = getenv ("PATH");
    snprintf (path, sizeof path, "%s:%s", dir, old ? old : "/usr/bin:/bin");
    setenv ("PATH", path, 1);
    fb_err_t err = {0};
    const char *text = "sleepy: [/bin/sleep, \"5\"]\n";
    fb_allow_t *allow = fb_allow_parse (text, strlen (text), "allow.yaml", &err);
    assert_non_null (allow);
    fb_params_t params;
    const char *pairs[] = {"command", "fb-make-marker", "op", "start", NULL};
    s_params (&params, pairs);
    const fb_workload_t *wl = fb_workload_find ("process");
    fb_wl_env_t env = {
        .workers = 1, .allow = fb_allow_for_workloads (allow), .helper_dir = s_helper ()};
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_string_equal (err.msg, "command \"fb-make-marker\" is not on this agent's allow-list "
                                  "(allowed: fb-child, sleepy)");
    void *wl_state = NULL;
    assert_int_equal (fb_workload_setup (wl, &params, &env, &wl_state, &err),
                      -1); /* setup checks too */
    assert_null (wl_state);
    env.allow = fb_allow_for_workloads (NULL); /* no list at all: only fb-child */
    assert_int_equal (wl->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "(allowed: fb-child)"));
    assert_int_equal (access (marker, F_OK), -1);
    /* An allowed name runs its argv from the list, not anything from the plan. */
    const char *sleepy[] = {"command", "sleepy", "op", "start", NULL};
    s_params (&params, sleepy);
    env.allow = fb_allow_for_workloads (allow);
    assert_int_equal (wl->check (&params, &env, &err), 0);
    setenv ("PATH", old ? old : "/usr/bin:/bin", 1);
    unlink (marker);
    char script[600];
    snprintf (script, sizeof script, "%s/fb-make-marker", dir);
    unlink (script);
    rmdir (dir);
    fb_allow_destroy (&allow);
}

static void test_check_refuses_more_kept_processes_than_entries (void **state) {
    (void)state;
    fb_params_t params;
    const char *pairs[] = {"op", "list", "processes", "20", "max_processes", "10", NULL};
    s_params (&params, pairs);
    fb_err_t err = {0};
    fb_wl_env_t env = {.workers = 1, .helper_dir = s_helper ()};
    assert_int_equal (fb_workload_find ("process")->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "processes (20) must not exceed max_processes (10)"));
    env.helper_dir = "/nonexistent";
    const char *plain[] = {"op", "lifecycle", NULL};
    s_params (&params, plain);
    assert_int_equal (fb_workload_find ("process")->check (&params, &env, &err), -1);
    assert_non_null (strstr (err.msg, "no executable /nonexistent/fb-child"));
    assert_int_equal (fb_params_set (&params, "command", "", &err), -1);
    char long_name[80];
    memset (long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal (fb_params_set (&params, "command", long_name, &err), -1);
}

/* ---- the manager directly -------------------------------------------------------------- */

static fb_procman_t *s_manager (fb_procman_lock_t lock, int64_t grace_ns) {
    fb_procman_config_t cfg = {.max_processes = 8, .lock = lock, .grace_ns = grace_ns};
    fb_err_t err = {0};
    fb_procman_t *man = fb_procman_new (&cfg, &err);
    assert_non_null (man);
    return man;
}

static void test_sigterm_ignored_means_sigkill_after_the_grace (void **state) {
    (void)state;
    int fds = s_count_fds ();
    fb_procman_t *man = s_manager (FB_PROCMAN_MUTEX, 30 * FB_NS_PER_MS);
    char path[600];
    snprintf (path, sizeof path, "%s/fb-child", s_helper ());
    const char *stubborn[] = {path, "--ignore-term", "--lines", "1", "--sleep", "-1", NULL};
    const char *polite[] = {path, "--lines", "1", "--sleep", "-1", NULL};
    int a = 0, b = 0;
    fb_err_t err = {0};
    if (fb_procman_start (man, stubborn, &a, &err) != 0)
        fail_msg ("%s", err.msg);
    assert_int_equal (fb_procman_start (man, polite, &b, &err), 0);
    int64_t deadline = fb_clock_now_ns () + 30 * FB_NS_PER_S;
    assert_int_equal (fb_procman_wait_output (man, a, deadline, NULL), 0);
    assert_int_equal (fb_procman_wait_output (man, b, deadline, NULL), 0);
    bool killed = false;
    assert_int_equal (fb_procman_stop (man, a, &killed, &err), 0);
    assert_true (killed);
    fb_proc_status_t st;
    assert_int_equal (fb_procman_status (man, a, &st), 0);
    assert_int_equal (st.state, FB_PROC_EXITED);
    assert_int_equal (st.exit_code, -SIGKILL);
    assert_true (st.lines >= 1);
    assert_int_equal (fb_procman_stop (man, b, &killed, &err), 0);
    assert_false (killed);
    assert_int_equal (fb_procman_status (man, b, &st), 0);
    assert_int_equal (st.exit_code, -SIGTERM);
    fb_procman_destroy (&man);
    assert_null (man);
    s_assert_clean (fds);
}

static void test_stop_reaches_the_whole_process_group (void **state) {
    (void)state;
    int fds = s_count_fds ();
    fb_procman_t *man = s_manager (FB_PROCMAN_RWLOCK, 50 * FB_NS_PER_MS);
    const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo started; wait", NULL};
    int id = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_procman_start (man, argv, &id, &err), 0);
    assert_int_equal (fb_procman_wait_output (man, id, fb_clock_now_ns () + 30 * FB_NS_PER_S, NULL),
                      0);
    fb_proc_status_t st;
    assert_int_equal (fb_procman_status (man, id, &st), 0);
    pid_t group = st.pid;
    assert_int_equal (fb_procman_stop (man, id, NULL, &err), 0);
    /* The grandchild (sleep) got SIGTERM too; it is init's to reap, give it a moment. */
    int64_t give_up = fb_clock_now_ns () + 10 * FB_NS_PER_S;
    while (kill (-group, 0) == 0 && fb_clock_now_ns () < give_up)
        fb_clock_sleep_until_ns (fb_clock_now_ns () + FB_NS_PER_MS);
    assert_int_equal (kill (-group, 0), -1);
    fb_procman_destroy (&man);
    s_assert_clean (fds);
}

static void test_list_snapshot_and_unknown_ids (void **state) {
    (void)state;
    int fds = s_count_fds ();
    fb_procman_t *man = s_manager (FB_PROCMAN_ATOMIC, 50 * FB_NS_PER_MS);
    char path[600];
    snprintf (path, sizeof path, "%s/fb-child", s_helper ());
    const char *quick[] = {path, "--lines", "2", "--exit", "3", NULL};
    const char *stays[] = {path, "--sleep", "-1", NULL};
    int ids[3];
    fb_err_t err = {0};
    assert_int_equal (fb_procman_start (man, quick, &ids[0], &err), 0);
    assert_int_equal (fb_procman_start (man, stays, &ids[1], &err), 0);
    assert_int_equal (fb_procman_start (man, stays, &ids[2], &err), 0);
    assert_int_equal (fb_procman_wait_exit (man, ids[0], fb_clock_now_ns () + 30 * FB_NS_PER_S), 0);
    fb_proc_status_t list[8];
    assert_int_equal (fb_procman_list (man, list, 8), 3); /* exited ones stay listed */
    assert_int_equal (fb_procman_list (man, list, 2), 2);
    fb_proc_status_t st;
    assert_int_equal (fb_procman_status (man, ids[0], &st), 0);
    assert_int_equal (st.exit_code, 3);
    assert_int_equal (fb_procman_status (man, 0, &st), -1);
    assert_int_equal (fb_procman_status (man, ids[1] + 8, &st), -1); /* another generation */
    assert_int_equal (fb_procman_stop (man, 12345, NULL, &err), -1);
    const char *missing[] = {"/nonexistent/program", NULL};
    int id = 0;
    assert_int_equal (fb_procman_start (man, missing, &id, &err), -1);
    assert_non_null (strstr (err.msg, "cannot start /nonexistent/program"));
    fb_procman_destroy (&man);
    s_assert_clean (fds);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_descriptor),
        cmocka_unit_test (test_lifecycle_of_fb_child_reports_first_output),
        cmocka_unit_test (test_lines_can_feed_the_log_store),
        cmocka_unit_test (test_stop_of_a_child_ignoring_sigterm_ends_with_sigkill),
        cmocka_unit_test (test_start_op_children_exit_and_are_reaped),
        cmocka_unit_test (test_leaked_fds_is_zero_at_every_interval_end_of_thousands_of_spawns),
        cmocka_unit_test (test_status_list_and_contention_ops_run),
        cmocka_unit_test (test_command_not_on_the_allow_list_is_refused_and_never_runs),
        cmocka_unit_test (test_check_refuses_more_kept_processes_than_entries),
        cmocka_unit_test (test_sigterm_ignored_means_sigkill_after_the_grace),
        cmocka_unit_test (test_stop_reaches_the_whole_process_group),
        cmocka_unit_test (test_list_snapshot_and_unknown_ids),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* bench_process.c: the process manager (workloads/procman.c) next to the bare system calls and
 * the seed's Go figures for Brummer's (BenchmarkProcessManager: StartProcess 2.3 ms, GetStatus
 * 387 ns, GetAllProcesses 12.4 us for 10; the contention scenario 45% of time in the mutex).
 *
 * - spawn: one start call until it returns (fork+exec of fb-child, pipes, three threads) vs a
 *   bare posix_spawn of the same program; "+ exit" also waits until the child (fb-child
 *   --exit 0) has exited and is reaped, vs posix_spawn + waitpid. Medians, bare and ours in
 *   turn (the machine's load moves both alike).
 * - status / list: ns per call in a tight loop over 10 running children, each lock kind, vs a
 *   plain copy of the same entries without a lock (the floor).
 * - contention: the seed's scenario (5 children printing a line every 10 ms, a status read of
 *   each every 100 ms) for a few seconds: the share of lock time spent waiting; and the same
 *   stressed (children printing flat out, reads back to back) to show where waiting begins.
 *
 * Ratios come from the same run; absolute times vary with the machine.
 *   bench_process [spawns] [contention-seconds] */
#include "common/clock.h"
#include "workloads/process/procman.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define S_KEPT 10
#define S_STATUS_CALLS 1000000
#define S_LIST_CALLS 100000

static char s_child[600];

static void s_find_child (void) {
    ssize_t len = readlink ("/proc/self/exe", s_child, sizeof s_child - 16);
    char *slash = len > 0 ? (s_child[len] = '\0', strrchr (s_child, '/')) : NULL;
    if (!slash) {
        fprintf (stderr, "bench_process: cannot find this program's folder\n");
        exit (2);
    }
    strcpy (slash, "/fb-child");
    if (access (s_child, X_OK) != 0) {
        fprintf (stderr, "bench_process: no %s (build the tree first)\n", s_child);
        exit (2);
    }
}

static fb_procman_t *s_manager (fb_procman_lock_t lock, bool timed) {
    fb_procman_config_t cfg = {
        .max_processes = 64, .lock = lock, .grace_ns = 50 * FB_NS_PER_MS, .timed = timed};
    fb_err_t err = {0};
    fb_procman_t *man = fb_procman_new (&cfg, &err);
    if (!man) {
        fprintf (stderr, "bench_process: %s\n", err.msg);
        exit (1);
    }
    return man;
}

static int s_cmp (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double s_median (int64_t *v, int n) {
    qsort (v, (size_t)n, sizeof *v, s_cmp);
    return (double)v[n / 2];
}

/* Median ns of the spawn call and of spawn until reaped, bare posix_spawn (+ waitpid) and ours
 * (+ wait_exit), one of each in turn so that both see the same load. out: bare call, bare
 * total, our call, our total. */
static void s_spawns (int n, double out[4]) {
    const char *argv[] = {s_child, "--exit", "0", NULL};
    fb_procman_t *man = s_manager (FB_PROCMAN_RWLOCK, false);
    int64_t *v[4];
    for (int k = 0; k < 4; k++)
        if (!(v[k] = calloc ((size_t)n, sizeof *v[k])))
            exit (1);
    for (int i = 0; i < n; i++) {
        pid_t pid;
        int64_t t0 = fb_clock_now_ns ();
        if (posix_spawn (&pid, s_child, NULL, NULL, (char *const *)argv, environ) != 0)
            exit (1);
        v[0][i] = fb_clock_now_ns () - t0;
        waitpid (pid, NULL, 0);
        v[1][i] = fb_clock_now_ns () - t0;
        int id = 0;
        t0 = fb_clock_now_ns ();
        if (fb_procman_start (man, argv, &id, NULL) != 0)
            exit (1);
        v[2][i] = fb_clock_now_ns () - t0;
        fb_procman_wait_exit (man, id, fb_clock_now_ns () + 10 * FB_NS_PER_S);
        v[3][i] = fb_clock_now_ns () - t0;
    }
    fb_procman_destroy (&man);
    for (int k = 0; k < 4; k++) {
        out[k] = s_median (v[k], n);
        free (v[k]);
    }
}

static void s_start_kept (fb_procman_t *man, int n, const char *const *argv, int *ids) {
    for (int i = 0; i < n; i++)
        if (fb_procman_start (man, argv, &ids[i], NULL) != 0)
            exit (1);
    for (int i = 0; i < n; i++)
        fb_procman_wait_output (man, ids[i], fb_clock_now_ns () + 10 * FB_NS_PER_S, NULL);
}

/* ns per status call and per list call over S_KEPT running children. */
static void s_reads (fb_procman_lock_t lock, double *status_ns, double *list_ns) {
    const char *argv[] = {s_child, "--lines", "1", "--sleep", "-1", NULL};
    fb_procman_t *man = s_manager (lock, false);
    int ids[S_KEPT];
    s_start_kept (man, S_KEPT, argv, ids);
    fb_proc_status_t st, list[S_KEPT];
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < S_STATUS_CALLS; i++)
        if (fb_procman_status (man, ids[i % S_KEPT], &st) != 0)
            exit (1);
    *status_ns = (double)(fb_clock_now_ns () - t0) / S_STATUS_CALLS;
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < S_LIST_CALLS; i++)
        if (fb_procman_list (man, list, S_KEPT) != S_KEPT)
            exit (1);
    *list_ns = (double)(fb_clock_now_ns () - t0) / S_LIST_CALLS;
    fb_procman_destroy (&man);
}

/* The floor of a read: copying the same entries with no lock at all. */
static void s_copy_floor (double *status_ns, double *list_ns) {
    static fb_proc_status_t table[S_KEPT], out[S_KEPT];
    int64_t t0 = fb_clock_now_ns ();
    for (int i = 0; i < S_STATUS_CALLS; i++) {
        memcpy (out, &table[i % S_KEPT], sizeof out[0]);
        __asm__ volatile("" : : "r"(out) : "memory"); /* the copy is not optimised away */
    }
    *status_ns = (double)(fb_clock_now_ns () - t0) / S_STATUS_CALLS;
    t0 = fb_clock_now_ns ();
    for (int i = 0; i < S_LIST_CALLS; i++) {
        memcpy (out, table, sizeof out);
        __asm__ volatile("" : : "r"(out) : "memory");
    }
    *list_ns = (double)(fb_clock_now_ns () - t0) / S_LIST_CALLS;
}

/* The seed's scenario (rate 100 lines/s per child, a status read every 20 ms), or with
 * stress the children print as fast as they can and the reads run back to back. Returns the
 * share of lock time spent waiting (0..1). */
static double s_contention (fb_procman_lock_t lock, double seconds, bool stress) {
    const char *argv[] = {s_child,          "--lines", "-1",      "--rate", stress ? "0" : "100",
                          "--stderr-every", "10",      "--sleep", "-1",     NULL};
    fb_procman_t *man = s_manager (lock, true);
    int ids[5];
    s_start_kept (man, 5, argv, ids);
    fb_procman_stats_t st;
    fb_procman_take_stats (man, &st);
    int64_t t0 = fb_clock_now_ns ();
    int64_t end = t0 + (int64_t)(seconds * 1e9);
    int64_t step = stress ? 0 : 20 * FB_NS_PER_MS; /* 5 children, each every 100 ms */
    fb_proc_status_t status;
    for (int64_t k = 0, at = t0; at < end; k++) {
        if (stress)
            at = fb_clock_now_ns ();
        else
            fb_clock_sleep_until_ns (at += step);
        fb_procman_status (man, ids[k % 5], &status);
    }
    fb_procman_take_stats (man, &st);
    fb_procman_destroy (&man);
    double spent = (double)(st.lock_wait_ns + st.lock_hold_ns);
    return spent > 0 ? (double)st.lock_wait_ns / spent : 0;
}

static void s_row (const char *what, double floor_ns, double ours_ns, const char *seed,
                   double seed_ns) {
    char ratio[32] = "-", vs_seed[32] = "-";
    if (floor_ns > 0)
        snprintf (ratio, sizeof ratio, "%.2fx", ours_ns / floor_ns);
    if (seed_ns > 0)
        snprintf (vs_seed, sizeof vs_seed, "%.3fx", ours_ns / seed_ns);
    printf ("%-28s %12.0f %12.0f %8s %12s %10s\n", what, floor_ns, ours_ns, ratio, seed, vs_seed);
}

int main (int argc, char **argv) {
    int spawns = argc > 1 ? atoi (argv[1]) : 200;
    double seconds = argc > 2 ? atof (argv[2]) : 3;
    if (spawns < 1 || seconds <= 0) {
        fprintf (stderr, "usage: bench_process [spawns] [contention-seconds]\n");
        return 2;
    }
    s_find_child ();
    printf ("process manager: ns per call (floor: the bare system call or a copy without a "
            "lock); seed: Brummer in Go\n");
    printf ("%-28s %12s %12s %8s %12s %10s\n", "what", "floor ns", "ours ns", "ratio", "seed",
            "ours/seed");
    double spawn[4];
    s_spawns (spawns, spawn);
    s_row ("spawn (call returns)", spawn[0], spawn[2], "2.3 ms", 2.3e6);
    s_row ("spawn + exit reaped", spawn[1], spawn[3], "-", 0);
    double floor_status, floor_list;
    s_copy_floor (&floor_status, &floor_list);
    const char *names[] = {"rwlock", "mutex", "atomic"};
    for (int lock = 0; lock < 3; lock++) {
        double status_ns, list_ns;
        char what[64];
        s_reads ((fb_procman_lock_t)lock, &status_ns, &list_ns);
        snprintf (what, sizeof what, "status, %s", names[lock]);
        s_row (what, floor_status, status_ns, "387 ns", 387);
        snprintf (what, sizeof what, "list of 10, %s", names[lock]);
        s_row (what, floor_list, list_ns, "12.4 us", 12400);
    }
    printf ("\nshare of lock time spent waiting (%.0f s each)    seed's scenario   stressed   "
            "seed\n",
            seconds);
    for (int lock = 0; lock < 3; lock++) {
        double seed = s_contention ((fb_procman_lock_t)lock, seconds, false);
        double stress = s_contention ((fb_procman_lock_t)lock, seconds, true);
        printf ("  %-45s %13.3f%% %9.3f%%   45%%\n", names[lock], 100 * seed, 100 * stress);
    }
    return 0;
}

/* bench_eventbus.c: the seed's BenchmarkEventBusPublish cases (1, 10, 100, 1000 publishers)
 * run on the eventbus workload, next to the seed's Go figures.
 *
 * Each case: mix logline, 3 handlers (the seed's benchmark subscribes 3 handlers to LogLine),
 * Brummer's defaults otherwise (pool of ncpu * 2.5, queue 1000, overflow spawn). N publisher
 * threads start together and publish until a time budget (1 s per case) runs out.
 *
 * ns/op is wall time over publishes, as the seed's benchmark reports it (duration / events,
 * all goroutines together), so with more publishers than cores it is throughput, not the
 * latency of one publish. Go's B/op is bytes allocated per op, garbage included; C frees at
 * once, so we report what stayed: heap in use (mallinfo2) and resident memory (RSS) grown
 * from before the publishers start to the moment they stop, per publish.
 *
 * With no overflow argument it prints two tables, overflow spawn (the seed's): handler_work 0
 * (the publish path alone, closest to the seed's sleeping handlers, which cost no CPU) and
 * 10us (the handlers' CPU competes with the publishers).
 *
 *   bench_eventbus [seconds-per-case] [overflow] [handler_work]
 *   bench_eventbus 1 drop 10us */
#include "common/clock.h"
#include "common/hist.h"
#include "common/procfs.h"
#include "workloads/workload.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int publishers;
    double go_ns_per_op; /* the seed: BenchmarkEventBusPublish */
    double go_bytes_per_op;
} s_case_t;

static const s_case_t s_cases[] = {
    {1, 1127, 456},
    {10, 2847, 2891},
    {100, 28934, 28456},
    {1000, 287463, 284567},
};

typedef struct {
    const fb_workload_t *wl;
    void *state;
    pthread_barrier_t *start;
    atomic_bool *stop;
    int worker;
    int64_t ops, failed;
} s_publisher_t;

typedef struct {
    int64_t ops, failed;
    double wall_ns, heap_bytes, rss_bytes;
    int64_t counters[FB_MAX_COUNTERS];
} s_result_t;

static double s_heap_in_use (void) {
    struct mallinfo2 mi = mallinfo2 ();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static double s_rss_bytes (void) { return (double)fb_procfs_status_bytes (0, "VmRSS"); }

static void *s_publisher_main (void *arg) {
    s_publisher_t *pub = arg;
    fb_hist_t *none[2] = {NULL, NULL};
    fb_wl_op_t op = {.worker = pub->worker, .metrics = none, .rng = 2463534242ULL + pub->worker};
    pthread_barrier_wait (pub->start);
    while (!atomic_load_explicit (pub->stop, memory_order_relaxed)) {
        op.intended_start_ns = fb_clock_now_ns ();
        if (pub->wl->op (pub->state, &op) != 0)
            pub->failed++;
        op.seq++;
        pub->ops++;
    }
    return NULL;
}

static int s_setup (const fb_workload_t *wl, int publishers, const char *overflow, const char *work,
                    void **state) {
    fb_params_t params;
    fb_err_t err = {0};
    char pubs[16];
    snprintf (pubs, sizeof pubs, "%d", publishers);
    if (fb_params_init (&params, wl, &err) != 0 ||
        fb_params_set (&params, "publishers", pubs, &err) != 0 ||
        fb_params_set (&params, "mix", "logline", &err) != 0 ||
        fb_params_set (&params, "handlers", "3", &err) != 0 ||
        fb_params_set (&params, "overflow", overflow, &err) != 0 ||
        fb_params_set (&params, "handler_work", work, &err) != 0) {
        fprintf (stderr, "bench_eventbus: %s\n", err.msg);
        return -1;
    }
    fb_wl_env_t env = {.workers = publishers};
    if (fb_workload_setup (wl, &params, &env, state, &err) != 0) {
        fprintf (stderr, "bench_eventbus: setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Starts the publishers together, lets them run for budget_ns, then measures. */
static int s_run_publishers (const fb_workload_t *wl, void *state, int n, int64_t budget_ns,
                             s_result_t *res) {
    s_publisher_t *pubs = calloc ((size_t)n, sizeof *pubs);
    pthread_t *threads = calloc ((size_t)n, sizeof *threads);
    pthread_barrier_t start;
    atomic_bool stop = false;
    if (!pubs || !threads || pthread_barrier_init (&start, NULL, (unsigned)n + 1) != 0) {
        free (pubs);
        free (threads);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        pubs[i] = (s_publisher_t){.wl = wl, .state = state, .start = &start, .stop = &stop};
        pubs[i].worker = i;
        if (pthread_create (&threads[i], NULL, s_publisher_main, &pubs[i]) != 0) {
            fprintf (stderr, "bench_eventbus: cannot start publisher %d\n", i);
            abort (); /* the barrier would wait forever */
        }
    }
    double heap0 = s_heap_in_use (), rss0 = s_rss_bytes ();
    pthread_barrier_wait (&start);
    int64_t t0 = fb_clock_now_ns ();
    fb_clock_sleep_until_ns (t0 + budget_ns);
    atomic_store (&stop, true);
    for (int i = 0; i < n; i++) {
        pthread_join (threads[i], NULL);
        res->ops += pubs[i].ops;
        res->failed += pubs[i].failed;
    }
    res->wall_ns = (double)(fb_clock_now_ns () - t0);
    res->heap_bytes = s_heap_in_use () - heap0;
    res->rss_bytes = s_rss_bytes () - rss0;
    pthread_barrier_destroy (&start);
    free (pubs);
    free (threads);
    return 0;
}

static int s_run_case (int publishers, int64_t budget_ns, const char *overflow, const char *work,
                       s_result_t *res) {
    const fb_workload_t *wl = fb_workload_find ("eventbus");
    fb_err_t err = {0};
    fb_hist_t *metrics[2] = {fb_hist_new_default (&err), fb_hist_new_default (&err)};
    void *state = NULL;
    int rc = -1;
    if (wl && metrics[0] && metrics[1] && s_setup (wl, publishers, overflow, work, &state) == 0) {
        rc = s_run_publishers (wl, state, publishers, budget_ns, res);
        wl->interval (state, metrics, res->counters);
        fb_workload_teardown (wl, &state);
    }
    fb_hist_destroy (&metrics[0]);
    fb_hist_destroy (&metrics[1]);
    return rc;
}

static int64_t s_counter (const s_result_t *res, const char *name) {
    const fb_counter_spec_t *specs = fb_workload_find ("eventbus")->counters;
    for (int i = 0; specs[i].name; i++)
        if (strcmp (specs[i].name, name) == 0)
            return res->counters[i];
    return -1;
}

static int s_table (double seconds, const char *overflow, const char *work) {
    printf ("\neventbus publish: mix logline, 3 handlers, handler_work %s, overflow %s, "
            "%.1fs per case, %ld cpus\n",
            work, overflow, seconds, sysconf (_SC_NPROCESSORS_ONLN));
    printf ("%10s %10s %10s %10s %9s %10s %10s %10s %8s %10s %8s\n", "publishers", "publishes",
            "ns/op", "go ns/op", "ours/go", "heap B/op", "rss B/op", "go B/op", "threads",
            "overflows", "failed");
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        s_result_t res = {0};
        if (s_run_case (c->publishers, (int64_t)(seconds * 1e9), overflow, work, &res) != 0 ||
            res.ops == 0) {
            fprintf (stderr, "bench_eventbus: case %d publishers failed\n", c->publishers);
            return -1;
        }
        double ns_per_op = res.wall_ns / (double)res.ops;
        printf ("%10d %10lld %10.0f %10.0f %9.3f %10.1f %10.1f %10.0f %8lld %10lld %8lld\n",
                c->publishers, (long long)res.ops, ns_per_op, c->go_ns_per_op,
                ns_per_op / c->go_ns_per_op, res.heap_bytes / (double)res.ops,
                res.rss_bytes / (double)res.ops, c->go_bytes_per_op,
                (long long)s_counter (&res, "peak_threads"),
                (long long)s_counter (&res, "overflows"), (long long)res.failed);
        fflush (stdout);
    }
    return 0;
}

int main (int argc, char **argv) {
    double seconds = argc > 1 ? atof (argv[1]) : 1.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf (stderr, "usage: bench_eventbus [seconds-per-case] [overflow] [handler_work]\n");
        return 2;
    }
    printf ("ns/op = wall time / publishes, all publishers together (as the seed's Go "
            "benchmark);\nB/op = heap (mallinfo2) and RSS growth per publish while publishing; "
            "threads = peak_threads\n");
    if (argc > 2)
        return s_table (seconds, argv[2], argc > 3 ? argv[3] : "10us") == 0 ? 0 : 1;
    /* The publish path alone (Go's handlers sleep, costing no CPU), then the handlers' CPU. */
    if (s_table (seconds, "spawn", "0us") != 0 || s_table (seconds, "spawn", "10us") != 0)
        return 1;
    return 0;
}

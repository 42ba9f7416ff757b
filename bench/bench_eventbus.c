/* bench_eventbus.c: the seed's BenchmarkEventBusPublish cases (1, 10, 100, 1000 publishers)
 * run on the eventbus workload, next to a floor measured in the same run.
 *
 * Each case: mix logline, 3 handlers (the seed's benchmark subscribes 3 handlers to LogLine),
 * Brummer's defaults otherwise (pool of ncpu * 2.5, queue 1000, overflow spawn as goroutine-like
 * tasks). N publisher threads start together and publish until a time budget (1 s per case)
 * runs out.
 *
 * ns/op is wall time over publishes, as the seed's benchmark reports it (duration / events,
 * all goroutines together), so with more publishers than cores it is throughput, not the
 * latency of one publish. The floor is what one publish cannot do without on this machine:
 * for each handler, one uncontended lock, copy into a ring and unlock, on one thread, nothing
 * waiting; ours/floor is what contention, wake-ups, overflow and the handlers' own CPU add.
 * B/op: C frees at once, so we report what stayed: heap in use (mallinfo2) and resident
 * memory (RSS) grown from before the publishers start to the moment they stop, per publish.
 * The seed's Go figures are another machine's; docs/workloads/eventbus.md keeps them as
 * history, and bench/fidelity.sh sets the model beside Brummer's own code on this machine.
 *
 * With no overflow argument it prints three tables, overflow spawn (Brummer's): handlers that
 * return at once (the publish path alone), handlers that sleep 10us (the seed's), handlers
 * that spin 10us of CPU (it competes with the publishers).
 *
 *   bench_eventbus [seconds-per-case] [overflow] [handler_work] [handler_sleep]
 *   bench_eventbus 1 drop 10us
 *
 * One scenario of bench/fidelity.sh (a fixed number of events, as Brummer's own
 * benchmarkEventBusScenario publishes, each publisher EVENTS/PUBLISHERS of them; extra
 * name=value params go to the workload):
 *
 *   bench_eventbus scenario NAME PUBLISHERS EVENTS HANDLERS HANDLER_SLEEP [name=value ...]
 *   -> fidelity NAME ns_per_event=N events=E calls=C threads=T overflows=O gcs=G heap_mb=H
 *   (T: the most pool workers and spawned calls alive at once; O: calls that found the queue
 *   full; G: the collector's cycles; H: the most its heap held without the g's, MB) */
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

static const int s_cases[] = {1, 10, 100, 1000};

typedef struct {
    const fb_workload_t *wl;
    void *state;
    pthread_barrier_t *start;
    atomic_bool *stop;
    int worker;
    int64_t limit; /* publishes to make; 0: until stop */
    int64_t ops, failed;
} s_publisher_t;

typedef struct {
    int64_t ops, failed;
    double wall_ns, heap_bytes, rss_bytes;
    int64_t counters[FB_MAX_COUNTERS];
} s_result_t;

/* name=value pairs for the workload, NULL-terminated. */
#define S_MAX_PAIRS 32

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
    while (pub->limit > 0 ? pub->ops < pub->limit
                          : !atomic_load_explicit (pub->stop, memory_order_relaxed)) {
        op.intended_start_ns = fb_clock_now_ns ();
        if (pub->wl->op (pub->state, &op) != 0)
            pub->failed++;
        op.seq++;
        pub->ops++;
    }
    return NULL;
}

static int s_setup (const fb_workload_t *wl, int publishers, const char *const *pairs,
                    void **state) {
    fb_params_t params;
    fb_err_t err = {0};
    char pubs[16];
    snprintf (pubs, sizeof pubs, "%d", publishers);
    if (fb_params_init (&params, wl, &err) != 0 ||
        fb_params_set (&params, "publishers", pubs, &err) != 0 ||
        fb_params_set (&params, "mix", "logline", &err) != 0 ||
        fb_params_set (&params, "handlers", "3", &err) != 0) {
        fprintf (stderr, "bench_eventbus: %s\n", err.msg);
        return -1;
    }
    for (int i = 0; pairs[i]; i += 2)
        if (fb_params_set (&params, pairs[i], pairs[i + 1], &err) != 0) {
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

/* Starts the publishers, releases them together, and measures until they stop: after
 * budget_ns, or when each has made `each` publishes (each > 0). */
static int s_run_publishers (const fb_workload_t *wl, void *state, int n, int64_t budget_ns,
                             int64_t each, s_result_t *res) {
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
        pubs[i].limit = each;
        if (pthread_create (&threads[i], NULL, s_publisher_main, &pubs[i]) != 0) {
            fprintf (stderr, "bench_eventbus: cannot start publisher %d\n", i);
            abort (); /* the barrier would wait forever */
        }
    }
    double heap0 = s_heap_in_use (), rss0 = s_rss_bytes ();
    pthread_barrier_wait (&start);
    int64_t t0 = fb_clock_now_ns ();
    if (each == 0) {
        fb_clock_sleep_until_ns (t0 + budget_ns);
        atomic_store (&stop, true);
    }
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

static int s_run_case (int publishers, int64_t budget_ns, int64_t each, const char *const *pairs,
                       s_result_t *res) {
    const fb_workload_t *wl = fb_workload_find ("eventbus");
    fb_err_t err = {0};
    fb_hist_t *metrics[2] = {fb_hist_new_default (&err), fb_hist_new_default (&err)};
    void *state = NULL;
    int rc = -1;
    if (wl && metrics[0] && metrics[1] && s_setup (wl, publishers, pairs, &state) == 0) {
        rc = s_run_publishers (wl, state, publishers, budget_ns, each, res);
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

/* The floor of one publish with 3 handlers: 3 x (uncontended lock, a 64-byte copy into a
 * 1000-slot ring, unlock), one thread, best of 5 passes of 1e6 publishes. */
static double s_floor_ns (void) {
    static char ring[1000][64];
    char call[64] = {1};
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        int64_t t0 = fb_clock_now_ns ();
        for (int i = 0; i < 1000000; i++)
            for (int h = 0; h < 3; h++) {
                pthread_mutex_lock (&lock);
                memcpy (ring[(i * 3 + h) % 1000], call, sizeof call);
                call[0]++;
                pthread_mutex_unlock (&lock);
            }
        double ns = (double)(fb_clock_now_ns () - t0) / 1e6;
        best = pass == 0 || ns < best ? ns : best;
    }
    volatile char sink = ring[7][0];
    (void)sink;
    return best;
}

static int s_table (double seconds, const char *overflow, const char *work, const char *sleep,
                    double floor_ns) {
    printf ("\neventbus publish: mix logline, 3 handlers, handler_work %s, handler_sleep %s, "
            "overflow %s, %.1fs per case, %ld cpus\n",
            work, sleep, overflow, seconds, sysconf (_SC_NPROCESSORS_ONLN));
    printf ("%10s %10s %10s %10s %10s %10s %10s %8s %10s %8s\n", "publishers", "publishes", "ns/op",
            "floor ns", "ours/floor", "heap B/op", "rss B/op", "threads", "overflows", "failed");
    const char *pairs[] = {"overflow", overflow, "handler_work", work, "handler_sleep",
                           sleep,      NULL};
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        s_result_t res = {0};
        if (s_run_case (s_cases[i], (int64_t)(seconds * 1e9), 0, pairs, &res) != 0 ||
            res.ops == 0) {
            fprintf (stderr, "bench_eventbus: case %d publishers failed\n", s_cases[i]);
            return -1;
        }
        double ns_per_op = res.wall_ns / (double)res.ops;
        printf ("%10d %10lld %10.0f %10.1f %10.1f %10.1f %10.1f %8lld %10lld %8lld\n", s_cases[i],
                (long long)res.ops, ns_per_op, floor_ns, ns_per_op / floor_ns,
                res.heap_bytes / (double)res.ops, res.rss_bytes / (double)res.ops,
                (long long)s_counter (&res, "peak_threads"),
                (long long)s_counter (&res, "overflows"), (long long)res.failed);
        fflush (stdout);
    }
    return 0;
}

/* bench_eventbus scenario NAME PUBLISHERS EVENTS HANDLERS HANDLER_SLEEP [name=value ...] */
static int s_scenario (int argc, char **argv) {
    if (argc < 7 || argc - 7 > S_MAX_PAIRS / 2 - 3) {
        fprintf (stderr, "usage: bench_eventbus scenario NAME PUBLISHERS EVENTS HANDLERS "
                         "HANDLER_SLEEP [name=value ...]\n");
        return 2;
    }
    int publishers = atoi (argv[3]);
    long long events = atoll (argv[4]);
    if (publishers < 1 || events < publishers) {
        fprintf (stderr, "bench_eventbus: need 1 <= PUBLISHERS <= EVENTS\n");
        return 2;
    }
    const char *pairs[S_MAX_PAIRS + 1];
    int n = 0;
    pairs[n++] = "handlers";
    pairs[n++] = argv[5];
    pairs[n++] = "handler_sleep";
    pairs[n++] = argv[6];
    pairs[n++] = "handler_work";
    pairs[n++] = "0us";
    for (int i = 7; i < argc; i++) {
        char *eq = strchr (argv[i], '=');
        if (!eq) {
            fprintf (stderr, "bench_eventbus: expected name=value, got \"%s\"\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        pairs[n++] = argv[i];
        pairs[n++] = eq + 1;
    }
    pairs[n] = NULL;
    s_result_t res = {0};
    int64_t each = events / publishers;
    if (s_run_case (publishers, 0, each, pairs, &res) != 0 || res.ops == 0)
        return 1;
    printf ("fidelity %s ns_per_event=%.1f events=%lld calls=%lld threads=%lld overflows=%lld "
            "gcs=%lld heap_mb=%.1f\n",
            argv[2], res.wall_ns / (double)res.ops, (long long)res.ops,
            (long long)(res.ops * atoi (argv[5])), (long long)s_counter (&res, "peak_threads"),
            (long long)s_counter (&res, "overflows"), (long long)s_counter (&res, "gc_cycles"),
            (double)s_counter (&res, "heap_peak") / (1 << 20));
    return res.failed == 0 ? 0 : 1;
}

int main (int argc, char **argv) {
    if (argc > 1 && strcmp (argv[1], "scenario") == 0)
        return s_scenario (argc, argv);
    double seconds = argc > 1 ? atof (argv[1]) : 1.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf (stderr, "usage: bench_eventbus [seconds-per-case] [overflow] [handler_work] "
                         "[handler_sleep]\n"
                         "       bench_eventbus scenario NAME PUBLISHERS EVENTS HANDLERS "
                         "HANDLER_SLEEP [name=value ...]\n");
        return 2;
    }
    double floor_ns = s_floor_ns ();
    printf ("ns/op = wall time / publishes, all publishers together (as the seed's Go "
            "benchmark);\nfloor = 3 x (uncontended lock, 64-byte copy into a ring, unlock) on "
            "one thread, this run;\nB/op = heap (mallinfo2) and RSS growth per publish while "
            "publishing; threads = peak_threads\n");
    if (argc > 2)
        return s_table (seconds, argv[2], argc > 3 ? argv[3] : "10us", argc > 4 ? argv[4] : "0us",
                        floor_ns) == 0
                   ? 0
                   : 1;
    if (s_table (seconds, "spawn", "0us", "0us", floor_ns) != 0 ||
        s_table (seconds, "spawn", "0us", "10us", floor_ns) != 0 ||
        s_table (seconds, "spawn", "10us", "0us", floor_ns) != 0)
        return 1;
    return 0;
}

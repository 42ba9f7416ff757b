/* runner.c: worker threads, the open/closed loop, warm-up, intervals and their reports.
 *
 * Workers record into histograms shared by a few of them (fb_hist_record_atomic: relaxed
 * adds, no lock) and the runner's thread drains them at each interval end (fb_hist_drain), so
 * no sample is lost or counted twice and the hot loop never waits for the reporter. Warm-up and
 * measurement have separate histograms: an operation belongs to the phase of its intended
 * start. Workers are plain pthreads, not zactors: they never exchange messages, and a pipe
 * poll per operation would cost more than what we measure. */
#include "agent/runner.h"

#include "agent/capacity.h"
#include "agent/schedule.h"
#include "common/clock.h"
#include "common/health.h"
#include "common/hist.h"
#include "common/procfs.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

enum { S_LATENCY, S_SERVICE, S_SCHED_LAG, S_OWN }; /* runner metrics; workload's follow */
enum {
    S_OPS,
    S_ERRORS,
    S_RSS,
    S_CPU,
    S_STEAL,
    S_THROTTLED,
    S_MISSED,
    S_OWN_COUNTERS
}; /* as fb_runner_counters */

/* Workers share histograms by shard (worker w records into shard w % shards): a histogram of
 * the full 1 ns .. 1 h range is ~190 KB, so one per worker and metric would cost gigabytes at
 * a thousand workers and make the interval drain too slow; atomic records make sharing safe. */
#define S_MAX_SHARDS 8

typedef struct s_run s_run_t;

/* An asynchronous operation in flight: what its ending needs to be recorded. */
typedef struct {
    int64_t intended_ns, started_ns;
    int phase;
} s_flight_t;
typedef fb_hist_t *s_shard_t[2][FB_MAX_METRICS]; /* [phase][metric] */

typedef struct {
    s_run_t *run;
    int index;
    pthread_t thread;
    s_shard_t *hists; /* its shard */
    int64_t ops[2];   /* atomic: written by the worker, read by the runner */
    int64_t errors[2];
    int64_t missed[2];   /* atomic: open loop, planned operations not started by the end */
    int64_t ops_seen[2]; /* runner side: what was already reported */
    int64_t errors_seen[2];
    int64_t missed_seen[2];
    int64_t last_end_ns; /* when its last operation ended; read after the join */
    /* Asynchronous workloads: operations in flight at most, each slot's operation, the free
     * slots (a stack). */
    int slots;
    s_flight_t *flight;
    int *free_slots;
} s_worker_t;

struct s_run {
    const fb_runner_args_t *args;
    const fb_workload_t *wl;
    fb_params_t params;
    void *state;
    int n_workers;
    s_worker_t *workers;
    int n_shards;
    s_shard_t shards[S_MAX_SHARDS];
    int n_metrics; /* runner's + workload's */
    const char *metric_names[FB_MAX_METRICS];
    fb_hist_t *interval[FB_MAX_METRICS]; /* the runner's merge target for one interval */
    int n_counters;
    const char *counter_names[FB_MAX_COUNTERS];
    int64_t t0_ns, measure_ns, end_ns; /* start, start of measurement, end */
    bool open_loop;
    fb_schedule_t schedule; /* open loop: when each operation is due, from t0_ns */
    bool stop;              /* atomic: workers leave their loop */
    int64_t worker_cpu_ns;  /* atomic: the CPU time of workers that left */
    /* Workers wait at this gate until all are created: a started worker would otherwise
     * compete with the runner still creating the rest (malloc and mmap locks), and at a
     * thousand workers the last ones would start seconds late. */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    bool gate_open;
    int64_t cpu_seen_ns;
    fb_health_t health; /* CPU steal and throttling since the last report */
    /* Capacity search: the objective's metric (-1: no search), the counter it reports in, the
     * current step's samples, the search so far; judge_last: the final report ends a step. */
    int capacity_metric, capacity_counter; /* capacity_counter + 1: its unsure steps */
    fb_hist_t *step_hist;
    fb_capacity_t capacity;
    bool judge_last;
};

static uint64_t s_splitmix (uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static bool s_aborted (const s_run_t *run) {
    return run->args->abort && __atomic_load_n (run->args->abort, __ATOMIC_RELAXED);
}

/* A worker that reached the planned end (and its grace) behind its schedule stops there: its
 * operation due at intended_ns and the later ones planned before the end are missed (k6's
 * dropped iterations), each booked to the phase of its intended start. Stopping keeps the next
 * workload's planned start and the coordinator's deadline, and nothing is silently stretched
 * past the planned end. The walk costs a few ns per missed operation. */
static void s_count_missed (s_worker_t *w, fb_schedule_cursor_t *cursor, int64_t intended_ns) {
    const s_run_t *run = w->run;
    int64_t missed[2] = {0, 0};
    for (int64_t at = intended_ns; at < run->end_ns;
         at = run->t0_ns + fb_schedule_next_ns (&run->schedule, cursor))
        missed[at >= run->measure_ns ? FB_PHASE_MEASURE : FB_PHASE_WARMUP]++;
    __atomic_store_n (&w->missed[FB_PHASE_WARMUP], missed[FB_PHASE_WARMUP], __ATOMIC_RELEASE);
    __atomic_store_n (&w->missed[FB_PHASE_MEASURE], missed[FB_PHASE_MEASURE], __ATOMIC_RELEASE);
}

/* One operation that ended: its samples, then its count (see the note in s_sync_main). */
static void s_record (s_worker_t *w, int phase, int64_t intended, int64_t started, int64_t ended,
                      int rc) {
    fb_hist_t **h = (*w->hists)[phase];
    fb_hist_record_atomic (h[S_LATENCY], ended - intended);
    if (w->run->open_loop) {
        fb_hist_record_atomic (h[S_SERVICE], ended - started);
        fb_hist_record_atomic (h[S_SCHED_LAG], started - intended);
    }
    if (rc != 0)
        __atomic_fetch_add (&w->errors[phase], 1, __ATOMIC_RELEASE);
    __atomic_fetch_add (&w->ops[phase], 1, __ATOMIC_RELEASE);
    if (ended > w->last_end_ns)
        w->last_end_ns = ended;
}

/* Before the first operation: the timer slack, the gate, the start. */
static void s_worker_begin (s_worker_t *w) {
    s_run_t *run = w->run;
    /* The default 50 us timer slack lets a sleep end up to 50 us late: that lateness would be
     * the generator's own, yet counted as latency from the intended start. */
    if (run->open_loop)
        prctl (PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    pthread_mutex_lock (&run->gate_lock);
    while (!run->gate_open)
        pthread_cond_wait (&run->gate_cond, &run->gate_lock);
    pthread_mutex_unlock (&run->gate_lock);
    fb_clock_sleep_until_ns (run->t0_ns);
}

/* After the last operation: the worker's CPU time into the run's. */
static void s_worker_end (s_worker_t *w) {
    __atomic_fetch_add (&w->run->worker_cpu_ns, fb_clock_thread_cpu_ns (), __ATOMIC_RELAXED);
}

/* The phase an operation belongs to: that of its intended start. */
static int s_phase (const s_run_t *run, int64_t intended_ns) {
    return intended_ns >= run->measure_ns ? FB_PHASE_MEASURE : FB_PHASE_WARMUP;
}

/* One operation in flight per worker: the workload's op, timed around the call. */
static void *s_sync_main (void *arg) {
    s_worker_t *w = arg;
    s_run_t *run = w->run;
    fb_wl_op_t op = {.worker = w->index, .rng = s_splitmix ((uint64_t)w->index + 1)};
    bool open_loop = run->open_loop;
    fb_schedule_cursor_t cursor;
    fb_schedule_cursor_init (&cursor, &run->schedule, w->index, run->n_workers);
    s_worker_begin (w);
    for (uint64_t k = 0;; k++) {
        if (__atomic_load_n (&run->stop, __ATOMIC_RELAXED))
            break;
        int64_t intended = fb_clock_now_ns ();
        int64_t started = intended;
        if (open_loop) {
            intended = run->t0_ns + fb_schedule_next_ns (&run->schedule, &cursor);
            if (intended >= run->end_ns)
                break;
            fb_clock_sleep_until_ns (intended);
            started = fb_clock_now_ns ();
            if (started >= run->end_ns + FB_RUNNER_START_GRACE_NS) { /* fell behind */
                s_count_missed (w, &cursor, intended);
                break;
            }
        } else if (intended >= run->end_ns)
            break;
        int phase = s_phase (run, intended);
        op.seq = k;
        op.intended_start_ns = intended;
        op.metrics = &(*w->hists)[phase][S_OWN];
        int rc = run->wl->op (run->state, &op);
        /* Counted after its samples are recorded (release): the runner reads the counts
         * first (acquire) and drains after, so a counted operation's samples are always in
         * the same report or an earlier one, and the last report evens everything out. */
        s_record (w, phase, intended, started, fb_clock_now_ns (), rc);
    }
    s_worker_end (w);
    return NULL;
}

#define S_DONE_BATCH 64                      /* endings collected per poll */
#define S_ABORT_CHECK_NS (50 * FB_NS_PER_MS) /* longest poll: how soon an abort is seen */

enum { S_DUE, S_NOT_YET, S_ENDED };

/* Whether an asynchronous worker has an operation due now, and its intended start: in closed
 * loop now, in open loop the schedule's next instant (*next_ns, then moved on). S_ENDED: the
 * end was reached, or the generator fell behind past the grace (the rest counted missed). */
static int s_async_due (s_worker_t *w, fb_schedule_cursor_t *cursor, int64_t *next_ns, int64_t now,
                        int64_t *due_ns) {
    const s_run_t *run = w->run;
    if (!run->open_loop) {
        *due_ns = now;
        return now < run->end_ns ? S_DUE : S_ENDED;
    }
    if (*next_ns >= run->end_ns)
        return S_ENDED;
    if (*next_ns > now)
        return S_NOT_YET;
    if (now >= run->end_ns + FB_RUNNER_START_GRACE_NS) {
        s_count_missed (w, cursor, *next_ns);
        return S_ENDED;
    }
    *due_ns = *next_ns;
    *next_ns = run->t0_ns + fb_schedule_next_ns (&run->schedule, cursor);
    return S_DUE;
}

/* Many operations in flight per worker (workload start/poll): the runner starts each one
 * when it is due and a slot is free, so an operation that waited for a slot has that wait in
 * its latency (from the intended start) and in sched_lag, never hidden. Every operation
 * started is recorded exactly once, when its ending comes back; an abort, even one that comes
 * while the last operations finish past the end, cancels those in flight and collects their
 * endings before the worker leaves. */
static void *s_async_main (void *arg) {
    s_worker_t *w = arg;
    s_run_t *run = w->run;
    const fb_workload_t *wl = run->wl;
    int slots = w->slots;
    s_flight_t *flight = w->flight;
    int *free_slots = w->free_slots, n_free = slots;
    for (int i = 0; i < slots; i++)
        free_slots[i] = slots - 1 - i;
    fb_wl_done_t done[S_DONE_BATCH];
    fb_wl_op_t op = {.worker = w->index, .rng = s_splitmix ((uint64_t)w->index + 1)};
    fb_schedule_cursor_t cursor;
    fb_schedule_cursor_init (&cursor, &run->schedule, w->index, run->n_workers);
    s_worker_begin (w);
    int64_t next_ns =
        run->open_loop ? run->t0_ns + fb_schedule_next_ns (&run->schedule, &cursor) : 0;
    bool starting = true, canceled = false;
    for (uint64_t k = 0;;) {
        /* stop: an abort, the end of a capacity search, a worker that could not start; what
         * is in flight then ends by itself, bounded by the workload's timeouts. Only an abort
         * (read here too: the runner may be waiting for the workers past the end) cancels it. */
        if (starting && __atomic_load_n (&run->stop, __ATOMIC_RELAXED))
            starting = false;
        if (!canceled && s_aborted (run)) {
            starting = false;
            canceled = true;
            if (n_free < slots)
                wl->cancel (run->state, w->index);
        }
        int64_t now = fb_clock_now_ns ();
        bool failed = false; /* a start that failed at once: poll before the next one */
        while (starting && n_free > 0 && !failed) {
            int64_t intended;
            int due = s_async_due (w, &cursor, &next_ns, now, &intended);
            if (due != S_DUE) {
                starting = due == S_NOT_YET;
                break;
            }
            int slot = free_slots[--n_free];
            int phase = s_phase (run, intended);
            flight[slot] = (s_flight_t){intended, now, phase};
            op.seq = k++;
            op.intended_start_ns = intended;
            op.metrics = &(*w->hists)[phase][S_OWN];
            if (wl->start (run->state, &op, (uint64_t)slot) != 0) {
                s_record (w, phase, intended, now, fb_clock_now_ns (), -1);
                free_slots[n_free++] = slot;
                failed = true;
            }
            now = fb_clock_now_ns ();
        }
        if (!starting && n_free == slots)
            break;
        int64_t until = failed ? now : now + S_ABORT_CHECK_NS;
        if (starting && n_free > 0 && next_ns < until)
            until = next_ns; /* open loop: wake for the next one due */
        int n = wl->poll (run->state, w->index, until, done, S_DONE_BATCH);
        for (int i = 0; i < n; i++) {
            int slot = (int)done[i].tag;
            assert (slot >= 0 && slot < slots);
            const s_flight_t *f = &flight[slot];
            s_record (w, f->phase, f->intended_ns, f->started_ns, done[i].done_ns, done[i].rc);
            free_slots[n_free++] = slot;
        }
    }
    s_worker_end (w);
    return NULL;
}

const char *fb_runner_default_helper_dir (void) {
    static char dir[512];
    if (!dir[0]) {
        ssize_t len = readlink ("/proc/self/exe", dir, sizeof dir - 1);
        char *slash = len > 0 ? strrchr (dir, '/') : NULL;
        if (len > 0)
            dir[len] = '\0';
        if (slash)
            *slash = '\0';
        else
            snprintf (dir, sizeof dir, ".");
        /* Installed (PREFIX/bin/fleetbench-agent): helpers are no commands of their own and
         * stay off PATH, in PREFIX/libexec/fleetbench. Anywhere else (a build tree, a folder
         * from fleet-ssh) they sit next to the program. */
        size_t n = strlen (dir);
        if (n >= 4 && strcmp (dir + n - 4, "/bin") == 0 &&
            n - 3 + strlen (FB_RUNNER_INSTALLED_HELPER_DIR) < sizeof dir)
            snprintf (dir + n - 3, sizeof dir - (n - 3), "%s", FB_RUNNER_INSTALLED_HELPER_DIR);
    }
    return dir;
}

static fb_wl_env_t s_env (const fb_plan_workload_t *plan, const fb_params_t *params,
                          const fb_workload_t *wl, const fb_allow_t *allow,
                          const char *helper_dir) {
    int workers = plan->concurrency > 0 ? plan->concurrency : 1;
    if (wl->concurrency_param)
        workers = (int)fb_params_num (params, wl->concurrency_param);
    return (fb_wl_env_t){.workers = workers,
                         .rate_per_s = plan->rate_per_s,
                         .duration_ns = plan->duration_ns,
                         .allow = fb_allow_for_workloads (allow),
                         .helper_dir = helper_dir ? helper_dir : fb_runner_default_helper_dir ()};
}

/* A capacity search: steps of one length each, an objective on a metric the workload has. */
static int s_check_capacity (const fb_plan_workload_t *plan, const fb_workload_t *wl,
                             fb_err_t *err) {
    for (int i = 1; i < plan->n_stages; i++)
        if (plan->stages[i].duration_ns != plan->stages[0].duration_ns)
            return fb_err_set (err, FB_EINPUT, "capacity steps must all last as long");
    if (plan->n_stages == 0 || plan->interval_ns <= 0 ||
        plan->stages[0].duration_ns % plan->interval_ns != 0)
        return fb_err_set (err, FB_EINPUT, "capacity steps must be whole intervals");
    for (int i = 0; fb_runner_metrics[i]; i++)
        if (strcmp (fb_runner_metrics[i], plan->capacity_metric) == 0)
            return 0;
    for (int i = 0; wl->metrics && wl->metrics[i]; i++)
        if (strcmp (wl->metrics[i], plan->capacity_metric) == 0)
            return 0;
    return fb_err_set (err, FB_EINPUT, "the capacity objective's metric %s is not one of %s's",
                       plan->capacity_metric, wl->kind);
}

/* fb_runner_check of the kind wl (NULL: unknown). */
static int s_check (const fb_plan_workload_t *plan, const fb_workload_t *wl,
                    const fb_allow_t *allow, const char *helper_dir, fb_params_t *params,
                    fb_err_t *err) {
    if (!wl)
        return fb_err_set (err, FB_EINPUT, "%s: unknown workload kind \"%s\" in this agent",
                           plan->name, plan->kind);
    if (fb_params_init (params, wl, err) != 0)
        goto fail;
    for (int i = 0; i < plan->n_params; i++)
        if (fb_params_set (params, plan->params[i].name, plan->params[i].value, err) != 0)
            goto fail;
    if (fb_params_check_required (params, err) != 0)
        goto fail;
    if (plan->duration_ns <= 0 || plan->interval_ns <= 0 || plan->warmup_ns < 0)
        return fb_err_set (err, FB_EINPUT, "%s: duration and interval must be positive",
                           plan->name);
    double max_rate = wl->max_rate_per_s > 0 ? wl->max_rate_per_s : FB_MAX_RATE_PER_S;
    if (!(plan->rate_per_s >= 0 && plan->rate_per_s <= max_rate)) /* NaN too */
        return fb_err_set (err, FB_EINPUT, "%s: rate %g/s is outside 0..%.0f/s for %s", plan->name,
                           plan->rate_per_s, max_rate, plan->kind);
    fb_schedule_t schedule;
    if ((plan->rate_per_s > 0 || plan->n_stages > 0) &&
        fb_schedule_init (&schedule, plan, max_rate, err) != 0)
        goto fail;
    if (plan->capacity_metric[0] && s_check_capacity (plan, wl, err) != 0)
        goto fail;
    fb_wl_env_t env = s_env (plan, params, wl, allow, helper_dir);
    if (wl->check && wl->check (params, &env, err) != 0)
        goto fail;
    return 0;
fail:
    fb_err_prefix (err, "%s", plan->name);
    return -1;
}

int fb_runner_check (const fb_plan_workload_t *plan, const fb_allow_t *allow,
                     const char *helper_dir, fb_params_t *params, fb_err_t *err) {
    return s_check (plan, fb_workload_find (plan->kind), allow, helper_dir, params, err);
}

/* A capacity search reports its result in a counter of its own, after the workload's. */
static int s_setup_capacity (s_run_t *run, fb_err_t *err) {
    const fb_plan_workload_t *plan = run->args->plan;
    run->capacity_metric = -1;
    if (!plan->capacity_metric[0])
        return 0;
    for (int m = 0; m < run->n_metrics; m++)
        if (strcmp (run->metric_names[m], plan->capacity_metric) == 0)
            run->capacity_metric = m;
    if (run->capacity_metric < 0 || run->n_counters + 2 > FB_MAX_COUNTERS)
        return fb_err_set (err, FB_EINPUT, "%s: no metric %s for the capacity search", plan->name,
                           plan->capacity_metric);
    run->capacity_counter = run->n_counters;
    run->counter_names[run->n_counters++] = FB_COUNTER_CAPACITY;
    run->counter_names[run->n_counters++] = FB_COUNTER_CAPACITY_UNSURE;
    return (run->step_hist = fb_hist_new_default (err)) ? 0 : -1;
}

/* Asynchronous workloads: each worker's slots for operations in flight. */
static int s_setup_slots (s_run_t *run, fb_err_t *err) {
    for (int w = 0; w < run->n_workers; w++) {
        s_worker_t *wk = &run->workers[w];
        wk->slots = run->wl->slots (run->state, w);
        assert (wk->slots >= 1);
        wk->flight = calloc ((size_t)wk->slots, sizeof *wk->flight);
        wk->free_slots = calloc ((size_t)wk->slots, sizeof *wk->free_slots);
        if (!wk->flight || !wk->free_slots)
            return fb_err_set (err, FB_ENOMEM, "%s: out of memory for %d operations in flight",
                               run->args->plan->name, wk->slots);
    }
    return 0;
}

static int s_setup (s_run_t *run, fb_err_t *err) {
    const fb_plan_workload_t *plan = run->args->plan;
    const fb_runner_args_t *args = run->args;
    run->wl = args->workload ? args->workload : fb_workload_find (plan->kind);
    if (s_check (plan, run->wl, args->allow, args->helper_dir, &run->params, err) != 0)
        return -1;
    fb_wl_env_t env = s_env (plan, &run->params, run->wl, args->allow, args->helper_dir);
    run->n_workers = env.workers;
    run->open_loop = plan->rate_per_s > 0 || plan->n_stages > 0;
    double max_rate = run->wl->max_rate_per_s > 0 ? run->wl->max_rate_per_s : FB_MAX_RATE_PER_S;
    if (run->open_loop && fb_schedule_init (&run->schedule, plan, max_rate, err) != 0)
        return -1; /* checked above: never */

    const char *names[] = {FB_METRIC_LATENCY, FB_METRIC_SERVICE, FB_METRIC_SCHED_LAG};
    run->n_metrics = S_OWN;
    memcpy (run->metric_names, names, sizeof names);
    for (int i = 0; run->wl->metrics && run->wl->metrics[i]; i++) {
        if (run->n_metrics == FB_MAX_METRICS)
            return fb_err_set (err, FB_EINPUT, "%s: too many metrics", plan->name);
        run->metric_names[run->n_metrics++] = run->wl->metrics[i];
    }
    run->n_counters = 0;
    for (int i = 0; fb_runner_counters[i].name; i++)
        if (!fb_counter_is_capacity (fb_runner_counters[i].name)) /* below */
            run->counter_names[run->n_counters++] = fb_runner_counters[i].name;
    assert (run->n_counters == S_OWN_COUNTERS);
    for (int i = 0; run->wl->counters && run->wl->counters[i].name; i++) {
        if (run->n_counters == FB_MAX_COUNTERS)
            return fb_err_set (err, FB_EINPUT, "%s: too many counters", plan->name);
        run->counter_names[run->n_counters++] = run->wl->counters[i].name;
    }
    if (s_setup_capacity (run, err) != 0)
        return -1;

    run->workers = calloc ((size_t)run->n_workers, sizeof *run->workers);
    if (!run->workers)
        return fb_err_set (err, FB_ENOMEM, "out of memory for %d workers", run->n_workers);
    for (int m = 0; m < run->n_metrics; m++)
        if (!(run->interval[m] = fb_hist_new_default (err)))
            return -1;
    run->n_shards = run->n_workers < S_MAX_SHARDS ? run->n_workers : S_MAX_SHARDS;
    for (int sh = 0; sh < run->n_shards; sh++)
        for (int p = 0; p < 2; p++)
            for (int m = 0; m < run->n_metrics; m++)
                if (!(run->shards[sh][p][m] = fb_hist_new_default (err)))
                    return -1;
    for (int w = 0; w < run->n_workers; w++) {
        run->workers[w].run = run;
        run->workers[w].index = w;
        run->workers[w].hists = &run->shards[w % run->n_shards];
    }
    if (fb_workload_setup (run->wl, &run->params, &env, &run->state, err) != 0) {
        fb_err_prefix (err, "%s", plan->name);
        return -1;
    }
    return run->wl->start ? s_setup_slots (run, err) : 0;
}

static void s_cleanup (s_run_t *run) {
    if (run->state)
        fb_workload_teardown (run->wl, &run->state);
    for (int m = 0; m < FB_MAX_METRICS; m++)
        fb_hist_destroy (&run->interval[m]);
    fb_hist_destroy (&run->step_hist);
    for (int sh = 0; sh < S_MAX_SHARDS; sh++)
        for (int p = 0; p < 2; p++)
            for (int m = 0; m < FB_MAX_METRICS; m++)
                fb_hist_destroy (&run->shards[sh][p][m]);
    for (int w = 0; run->workers && w < run->n_workers; w++) {
        free (run->workers[w].flight);
        free (run->workers[w].free_slots);
    }
    free (run->workers);
}

/* The runner's counters of one interval (ops, errors and missed since the last report of
 * phase). CPU, steal and throttling are the host's over the current interval: a late report
 * (operations of the other phase that were still running) leaves them to the report of the
 * interval they were measured in. */
static void s_runner_counters (s_run_t *run, int phase, bool late, int64_t *values) {
    for (int w = 0; w < run->n_workers; w++) {
        s_worker_t *wk = &run->workers[w];
        int64_t ops = __atomic_load_n (&wk->ops[phase], __ATOMIC_ACQUIRE);
        int64_t errors = __atomic_load_n (&wk->errors[phase], __ATOMIC_ACQUIRE);
        int64_t missed = __atomic_load_n (&wk->missed[phase], __ATOMIC_ACQUIRE);
        values[S_OPS] += ops - wk->ops_seen[phase];
        values[S_ERRORS] += errors - wk->errors_seen[phase];
        values[S_MISSED] += missed - wk->missed_seen[phase];
        wk->ops_seen[phase] = ops;
        wk->errors_seen[phase] = errors;
        wk->missed_seen[phase] = missed;
    }
    values[S_RSS] = fb_procfs_status_bytes (0, "VmRSS");
    if (late)
        return;
    int64_t cpu = fb_clock_process_cpu_ns ();
    values[S_CPU] = cpu - run->cpu_seen_ns;
    run->cpu_seen_ns = cpu;
    fb_health_sample (&run->health, &values[S_STEAL], &values[S_THROTTLED]);
}

/* A measured interval's samples of the objective's metric go to its step; an interval that
 * ends the step (or the final one) has the step judged. */
static void s_capacity_interval (s_run_t *run, int64_t start_ns, int64_t end_ns) {
    const fb_plan_workload_t *plan = run->args->plan;
    if (run->capacity.done)
        return;
    fb_hist_merge (run->step_hist, run->interval[run->capacity_metric], NULL);
    int64_t hold = plan->stages[0].duration_ns;
    int step = (int)((start_ns - run->measure_ns) / hold);
    if (step >= plan->n_stages)
        step = plan->n_stages - 1;
    if (!run->judge_last && end_ns - run->measure_ns < (int64_t)(step + 1) * hold)
        return; /* the step goes on */
    fb_capacity_step (&run->capacity, plan->stages[step].rate_per_s,
                      fb_capacity_judge (plan, run->step_hist));
    fb_hist_reset (run->step_hist);
}

/* Drains every worker's histograms of phase into one report for [start_ns, end_ns). */
static fb_msg_t *s_report (s_run_t *run, int phase, int64_t start_ns, int64_t end_ns, bool late,
                           fb_err_t *err) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_REPORT);
    if (!msg) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a report");
        return NULL;
    }
    fb_report_t *r = &msg->u.report;
    snprintf (r->run_id, sizeof r->run_id, "%s", run->args->run_id);
    r->workload = run->args->index;
    r->phase = phase;
    r->start_ns = start_ns;
    r->end_ns = end_ns;
    r->wall_start_ns = fb_clock_wall_ns () - (fb_clock_now_ns () - start_ns);
    if (run->open_loop)
        r->target_rate_per_s =
            fb_schedule_rate_between (&run->schedule, start_ns - run->t0_ns, end_ns - run->t0_ns);
    int64_t values[FB_MAX_COUNTERS] = {0};
    s_runner_counters (run, phase, late, values); /* first: see the note in s_worker_main */
    for (int m = 0; m < run->n_metrics; m++) {
        fb_hist_reset (run->interval[m]);
        for (int sh = 0; sh < run->n_shards; sh++)
            fb_hist_drain (run->interval[m], run->shards[sh][phase][m], NULL);
    }
    /* The workload's own metrics and counters belong to the current interval: a late
     * warm-up report leaves them to the measured report that follows it. */
    if (run->wl->interval && !late)
        run->wl->interval (run->state, &run->interval[S_OWN], &values[S_OWN_COUNTERS]);
    if (run->capacity_metric >= 0) {
        if (phase == FB_PHASE_MEASURE && !late)
            s_capacity_interval (run, start_ns, end_ns);
        values[run->capacity_counter] = llround (run->capacity.best_per_s);
        values[run->capacity_counter + 1] = run->capacity.unsure;
    }
    r->n_counters = run->n_counters;
    for (int c = 0; c < run->n_counters; c++) {
        snprintf (r->counters[c].name, sizeof r->counters[c].name, "%s", run->counter_names[c]);
        r->counters[c].value = values[c];
    }
    bool open_loop = run->open_loop;
    for (int m = 0; m < run->n_metrics; m++) {
        if (!open_loop && (m == S_SERVICE || m == S_SCHED_LAG))
            continue; /* closed loop: latency is the service time, there is no schedule */
        fb_report_metric_t *rm = &r->metrics[r->n_metrics++];
        snprintf (rm->name, sizeof rm->name, "%s", run->metric_names[m]);
        if (fb_hist_encode (run->interval[m], &rm->hist, &rm->hist_len, err) != 0) {
            fb_wire_msg_destroy (&msg);
            return NULL;
        }
    }
    return msg;
}

/* Operations of phase run or missed and not reported yet. */
static int64_t s_unreported_ops (const s_run_t *run, int phase) {
    int64_t n = 0;
    for (int w = 0; w < run->n_workers; w++)
        n += __atomic_load_n (&run->workers[w].ops[phase], __ATOMIC_RELAXED) -
             run->workers[w].ops_seen[phase] +
             __atomic_load_n (&run->workers[w].missed[phase], __ATOMIC_RELAXED) -
             run->workers[w].missed_seen[phase];
    return n;
}

/* Sleeps until at_ns in short steps; false when aborted first. */
static bool s_wait_until (const s_run_t *run, int64_t at_ns) {
    for (;;) {
        if (s_aborted (run))
            return false;
        int64_t now = fb_clock_now_ns ();
        if (now >= at_ns)
            return true;
        int64_t step = at_ns - now < 50 * FB_NS_PER_MS ? at_ns - now : 50 * FB_NS_PER_MS;
        fb_clock_sleep_until_ns (now + step);
    }
}

static int s_emit (s_run_t *run, int phase, int64_t start_ns, int64_t end_ns, bool late,
                   fb_err_t *err) {
    fb_msg_t *msg = s_report (run, phase, start_ns, end_ns, late, err);
    if (!msg)
        return -1;
    run->args->sink (&msg, run->args->sink_arg);
    fb_wire_msg_destroy (&msg);
    return 0;
}

/* Reports the intervals of [from_ns, to_ns) for phase; the last interval of the measured
 * phase is left to the caller (it is reported after the workers stopped). Returns the start
 * of the interval not yet reported, or -1 when aborted. */
static int64_t s_intervals (s_run_t *run, int phase, int64_t from_ns, int64_t to_ns, bool keep_last,
                            fb_err_t *err) {
    int64_t interval = run->args->plan->interval_ns;
    int64_t at = from_ns;
    while (at < to_ns) {
        int64_t next = at + interval < to_ns ? at + interval : to_ns;
        if (keep_last && next == to_ns)
            return at;
        if (!s_wait_until (run, next))
            return -1 - at; /* aborted; -1 - at keeps where we were */
        if (s_emit (run, phase, at, next, false, err) != 0)
            return -1 - at;
        at = next;
        if (run->capacity.done) /* the search is over: the workload ends here */
            return -1 - at;
    }
    return at;
}

int fb_runner_run (const fb_runner_args_t *args, fb_runner_result_t *result, fb_err_t *err) {
    s_run_t run = {.args = args};
    int rc = -1;
    int started = 0;
    if (s_setup (&run, err) != 0)
        goto done;
    const fb_plan_workload_t *plan = args->plan;
    pthread_mutex_init (&run.gate_lock, NULL);
    pthread_cond_init (&run.gate_cond, NULL);
    for (; started < run.n_workers; started++)
        if (pthread_create (&run.workers[started].thread, NULL,
                            run.wl->start ? s_async_main : s_sync_main,
                            &run.workers[started]) != 0) {
            fb_err_set (err, FB_ESYS, "%s: cannot start worker thread %d of %d", plan->name,
                        started + 1, run.n_workers);
            break;
        }
    int64_t gate_ns = fb_clock_now_ns ();
    /* A setup that overran the planned instant (a tor network bootstrapping) starts now: the
     * schedule up to here is gone, and started_ns reports the lateness. */
    run.t0_ns = args->start_ns > gate_ns ? args->start_ns : gate_ns;
    run.measure_ns = run.t0_ns + plan->warmup_ns;
    run.end_ns = run.measure_ns + plan->duration_ns;
    run.cpu_seen_ns = fb_clock_process_cpu_ns ();
    fb_health_init (&run.health);
    pthread_mutex_lock (&run.gate_lock);
    run.gate_open = true;
    pthread_cond_broadcast (&run.gate_cond);
    pthread_mutex_unlock (&run.gate_lock);
    int64_t at = -1 - run.t0_ns;
    int phase = FB_PHASE_WARMUP;
    if (started == run.n_workers) {
        at = s_intervals (&run, FB_PHASE_WARMUP, run.t0_ns, run.measure_ns, false, err);
        if (at >= 0) {
            phase = FB_PHASE_MEASURE;
            at = s_intervals (&run, FB_PHASE_MEASURE, run.measure_ns, run.end_ns, true, err);
        }
        if (at >= 0 && !s_wait_until (&run, run.end_ns))
            at = -1 - at;
    }
    /* At the end, workers leave by themselves once their next operation would start past
     * it; only an abort (or a failed start) stops them early. */
    if (at < 0 || started < run.n_workers)
        __atomic_store_n (&run.stop, true, __ATOMIC_RELAXED);
    for (int w = 0; w < started; w++)
        pthread_join (run.workers[w].thread, NULL);
    pthread_cond_destroy (&run.gate_cond);
    pthread_mutex_destroy (&run.gate_lock);
    if (started < run.n_workers)
        goto done;
    /* Workers have stopped: the last interval holds every sample still unreported. An
     * operation of the other phase that was still running (a warm-up one past its phase's
     * report, or a measured one when an abort came before the runner left the warm-up) goes
     * in a late report of its own, so that no operation is ever lost. */
    int64_t from = at >= 0 ? at : -1 - at;
    /* Work the operations handed off (queued handler calls) finishes, or is counted as
     * abandoned by the workload, before the last report; an abort leaves no time for it. */
    bool ended = at >= 0 || run.capacity.done; /* not aborted */
    if (run.wl->drain)
        run.wl->drain (run.state, fb_clock_now_ns () + (ended ? FB_RUNNER_DRAIN_NS : 0));
    /* The measured window ends at the planned end, or when the last operation ended if that
     * was later, so throughput is operations over the time they took; an abort ends it now. */
    int64_t now = fb_clock_now_ns ();
    if (at >= 0) {
        now = run.end_ns;
        for (int w = 0; w < run.n_workers; w++)
            if (run.workers[w].last_end_ns > now)
                now = run.workers[w].last_end_ns;
    }
    int other = phase == FB_PHASE_MEASURE ? FB_PHASE_WARMUP : FB_PHASE_MEASURE;
    if (phase == FB_PHASE_MEASURE && s_unreported_ops (&run, other) > 0 &&
        s_emit (&run, other, run.t0_ns, run.measure_ns, true, err) != 0)
        goto done;
    run.judge_last = at >= 0; /* the planned end: the last step is whole */
    if (s_emit (&run, phase, from, now, false, err) != 0)
        goto done;
    if (phase == FB_PHASE_WARMUP && s_unreported_ops (&run, other) > 0 &&
        s_emit (&run, other, run.measure_ns, now > run.measure_ns ? now : run.measure_ns, true,
                err) != 0)
        goto done;
    if (result) {
        result->ops = 0;
        for (int w = 0; w < run.n_workers; w++)
            result->ops += run.workers[w].ops[FB_PHASE_MEASURE];
        result->started_ns = gate_ns > run.t0_ns ? gate_ns : run.t0_ns;
        result->worker_cpu_ns = run.worker_cpu_ns;
    }
    rc = 0;
done:
    s_cleanup (&run);
    return rc;
}

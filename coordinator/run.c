/* run.c: small helpers over the coordinator's run state. */
#include "coordinator/run.h"

#include "common/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void s_host_free (fb_host_t *host) {
    for (int w = 0; w < host->n_workloads; w++) {
        fb_stats_clear (&host->stats[w]);
        fb_samples_destroy (&host->samples[w]);
        fb_files_discard (&host->hlog[w]); /* committed by fb_results_write, or lost */
    }
    free (host->stats);
    free (host->hlog);
    free (host->ci);
    free (host->seen);
    free (host);
}

fb_host_t *fb_run_add_host (fb_run_t *run, const char *id, fb_err_t *err) {
    if (run->n_hosts == run->cap_hosts) {
        int cap = run->cap_hosts ? run->cap_hosts * 2 : 16;
        fb_host_t **hosts = realloc (run->hosts, (size_t)cap * sizeof *hosts);
        if (!hosts) {
            fb_err_set (err, FB_ENOMEM, "out of memory for %d hosts", cap);
            return NULL;
        }
        run->hosts = hosts;
        run->cap_hosts = cap;
    }
    int n = run->sc->n_workloads > 0 ? run->sc->n_workloads : 1;
    fb_host_t *host = calloc (1, sizeof *host);
    if (host) {
        host->stats = calloc ((size_t)n, sizeof *host->stats);
        host->hlog = calloc ((size_t)n, sizeof *host->hlog);
        host->ci = calloc ((size_t)n, sizeof *host->ci);
        host->n_workloads = host->stats && host->hlog && host->ci ? n : 0;
    }
    if (!host || host->n_workloads == 0) {
        if (host)
            s_host_free (host);
        fb_err_set (err, FB_ENOMEM, "out of memory for host %s", id);
        return NULL;
    }
    snprintf (host->id, sizeof host->id, "%s", id);
    host->state = FB_HOST_JOINED;
    host->rtt_ns = INT64_MAX;
    for (int w = 0; w < n; w++)
        fb_stats_init (&host->stats[w]);
    run->hosts[run->n_hosts++] = host;
    return host;
}

fb_host_t *fb_run_find_host (fb_run_t *run, const char *id) {
    for (int i = 0; i < run->n_hosts; i++)
        if (strcmp (run->hosts[i]->id, id) == 0)
            return run->hosts[i];
    return NULL;
}

int fb_run_count_hosts (const fb_run_t *run, fb_host_state_t state) {
    int n = 0;
    for (int i = 0; i < run->n_hosts; i++)
        n += run->hosts[i]->state == state;
    return n;
}

const char *fb_run_host_state_name (fb_host_state_t state) {
    static const char *const names[] = {"joined", "planned", "ready", "running",
                                        "done",   "lost",    "failed"};
    return state <= FB_HOST_FAILED ? names[state] : "?";
}

/* The interval's index from the run's start: hosts' reports of one interval share it. */
static int s_slot (const fb_run_t *run, int w, int64_t wall_start_ns) {
    int64_t interval =
        run->sc->workloads[w].interval_ns > 0 ? run->sc->workloads[w].interval_ns : 1000000000;
    int64_t since = wall_start_ns - run->start_wall_ns;
    return since < 0 ? 0 : (int)((since + interval / 2) / interval);
}

static fb_samples_t *s_samples (fb_samples_t **samples) {
    if (!*samples)
        *samples = fb_samples_new (NULL);
    return *samples;
}

int64_t fb_run_host_p99 (const fb_host_t *host, int w, const char *metric) {
    const fb_hist_compact_t *hist = fb_stats_find_metric (&host->stats[w], metric);
    return hist && fb_hist_compact_count (hist) > 0 ? fb_hist_compact_value_at_percentile (hist, 99)
                                                    : -1;
}

int fb_run_slowest_hosts (const fb_run_t *run, int w, const char *metric, bool running, int k,
                          int *out, int64_t *p99) {
    int64_t *values = p99;
    int n = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        if (running && (h->state != FB_HOST_RUNNING || h->workload_now != w))
            continue;
        int64_t v = fb_run_host_p99 (h, w, metric);
        int at = n; /* insertion into the descending list */
        while (at > 0 && v > values[at - 1])
            at--;
        if (v < 0 || at >= k)
            continue;
        int moved = (n < k ? n : k - 1) - at;
        memmove (&out[at + 1], &out[at], (size_t)moved * sizeof *out);
        memmove (&values[at + 1], &values[at], (size_t)moved * sizeof *values);
        out[at] = i;
        values[at] = v;
        n += n < k;
    }
    return n;
}

bool fb_run_host_keeps (const fb_run_t *run, int w, const char *metric) {
    if (strcmp (metric, "latency") == 0)
        return true; /* the hosts' intervals in run.json and report.md */
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    for (int t = 0; t < sw->n_targets; t++)
        if (strcmp (sw->targets[t].measure.metric, metric) == 0)
            return true; /* a target per host gives each host's value an interval */
    for (int g = 0; g < sw->n_gates; g++)
        if (sw->gates[g].per != FB_PER_FLEET && strcmp (sw->gates[g].measure.metric, metric) == 0)
            return true; /* a gate per host, board or CPU resamples them */
    return false;
}

void fb_run_sample_metric (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           const char *metric, const fb_hist_compact_t *hist) {
    /* Out of memory: the gates say so (no intervals), the run goes on. A host keeps only the
     * metrics its own intervals are asked of: a fleet's hosts would otherwise hold every
     * metric of every interval to the end (its .hlog has them all). */
    fb_samples_t *sets[2] = {s_samples (&run->samples[w]), fb_run_host_keeps (run, w, metric)
                                                               ? s_samples (&host->samples[w])
                                                               : NULL};
    int slot = s_slot (run, w, wall_start_ns);
    if (host->spilled[w])
        sets[1] = NULL; /* a late report of an ended workload: its .hlog has the row */
    for (int i = 0; i < 2; i++)
        if (sets[i])
            fb_samples_add_compact (sets[i], slot, metric, hist, NULL);
    /* A host's interval is one report: complete now, packed until the verdicts read it. */
    if (sets[1])
        fb_samples_pack_slot (sets[1], slot, NULL);
}

void fb_run_host_spill (fb_run_t *run, fb_host_t *host, int w) {
    (void)run;
    if (!host->samples[w] || host->spilled[w] || host->hlog_lost[w] || !host->hlog[w].started)
        return;
    fb_samples_drop_hists (host->samples[w]);
    host->spilled[w] = true;
}

typedef struct {
    const fb_run_t *run;
    int w;
} s_keep_t;

static bool s_keeps (const char *metric, const void *arg) {
    const s_keep_t *k = arg;
    return fb_run_host_keeps (k->run, k->w, metric);
}

const fb_samples_t *fb_run_host_samples (const fb_run_t *run, const fb_host_t *host, int w,
                                         fb_samples_t **own) {
    *own = NULL;
    if (!host->spilled[w])
        return host->samples[w];
    /* Still under its temp name until the results are committed (fb_results_write). */
    char path[600];
    snprintf (path, sizeof path, "%s%s", host->hlog[w].path, host->hlog[w].started ? ".tmp" : "");
    s_keep_t keep = {run, w};
    fb_samples_t *s = fb_samples_new (NULL);
    /* this run's intervals are the first run; earlier repetitions' follow (verdict.c) */
    if (!s || fb_samples_begin_run (s, NULL) != 0 ||
        fb_samples_add_hlog_hists (s, path, run->sc->workloads[w].interval_ns, s_keeps, &keep,
                                   NULL) != 0 ||
        fb_samples_merge (s, host->samples[w], NULL) != 0) {
        fb_samples_destroy (&s);
        return NULL;
    }
    *own = s;
    return s;
}

void fb_run_sample_counts (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           int64_t ops, int64_t errors, int64_t length_ns) {
    /* An interval ends when the agent gets to report it, a little after its nominal end; the
     * ops were scheduled within the nominal length, as the fleet's throughput counts them. */
    int64_t nominal = run->sc->workloads[w].interval_ns;
    if (nominal > 0 && length_ns > nominal)
        length_ns = nominal;
    fb_samples_t *sets[2] = {s_samples (&run->samples[w]), s_samples (&host->samples[w])};
    for (int i = 0; i < 2; i++)
        if (sets[i])
            fb_samples_add_counts (sets[i], s_slot (run, w, wall_start_ns), ops, errors, length_ns,
                                   NULL);
}

void fb_run_sample_target (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           double rate_per_s) {
    fb_samples_t *sets[2] = {s_samples (&run->samples[w]), s_samples (&host->samples[w])};
    for (int i = 0; i < 2; i++)
        if (sets[i])
            fb_samples_add_target (sets[i], s_slot (run, w, wall_start_ns), rate_per_s, NULL);
}

void fb_run_clear_verdict (fb_verdict_t *v) {
    for (int g = 0; g < v->n_groups; g++)
        free (v->groups[g].hosts);
    free (v->groups);
    v->groups = NULL;
    v->n_groups = 0;
}

void fb_run_clear (fb_run_t *run) {
    for (int i = 0; i < run->n_hosts; i++)
        s_host_free (run->hosts[i]);
    free (run->hosts);
    run->hosts = NULL;
    run->n_hosts = run->cap_hosts = 0;
    for (int w = 0; w < FB_MAX_WORKLOADS; w++) {
        fb_stats_clear (&run->fleet[w]);
        fb_samples_destroy (&run->samples[w]);
        for (int v = 0; v < run->n_verdicts[w]; v++)
            fb_run_clear_verdict (&run->verdicts[w][v]);
    }
}

static void s_make_run_id (const fb_scenario_t *sc, char *id, size_t size) {
    time_t now = time (NULL);
    struct tm tm;
    localtime_r (&now, &tm);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* Not randof (): it repeats across processes started in the same second. */
    uint16_t suffix = 0;
    if (getrandom (&suffix, sizeof suffix, GRND_NONBLOCK) != sizeof suffix)
        suffix = (uint16_t)(getpid () ^ fb_clock_now_ns ());
    snprintf (id, size, "%s-%s-%04x", stamp, sc->name, (unsigned)suffix);
}

int fb_run_make_dir (fb_run_t *run, const char *out_dir, fb_err_t *err) {
    if (fb_files_mkdirs (out_dir, err) != 0)
        return -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        s_make_run_id (run->sc, run->run_id, sizeof run->run_id);
        if (snprintf (run->dir, sizeof run->dir, "%s/%s", out_dir, run->run_id) >=
            (int)sizeof run->dir)
            return fb_err_set (err, FB_EINPUT, "--out %s is too long a path", out_dir);
        if (mkdir (run->dir, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return fb_err_set (err, FB_ESYS, "cannot create folder %s: %s", run->dir,
                               strerror (errno));
    }
    return fb_err_set (err, FB_ESYS, "cannot find a free run id in %s", out_dir);
}

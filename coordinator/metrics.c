/* metrics.c: renders the run's live numbers in Prometheus' text format 0.0.4 and publishes them
 * to the metrics endpoint (httpd.c). Per host and per workload, with a fleet_ family summing
 * the hosts. Histograms come from the hosts' HDR histograms at fixed boundaries: a sample is
 * counted at le=B when the top of its HDR bucket (the value percentiles report) is <= B. */
#include "coordinator/metrics.h"

#include "common/hist_compact.h"

#include "common/clock.h"
#include "coordinator/httpd.h"
#include "workloads/workload.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define S_MIN_PERIOD_NS (250 * FB_NS_PER_MS)
#define S_MAX_PERIOD_NS (1 * FB_NS_PER_S)
#define S_COST_FACTOR 20 /* wait 20 renders' time between two: at most ~5 % of the loop */
#define S_MAX_FAMILIES (FB_MAX_METRICS * 4)

const int64_t fb_metrics_bounds_ns[FB_METRICS_N_BOUNDS] = {
    1000LL,       2000LL,        5000LL,        10000LL,       20000LL,
    50000LL,      100000LL,      200000LL,      500000LL,      1000000LL,
    2000000LL,    5000000LL,     10000000LL,    20000000LL,    50000000LL,
    100000000LL,  200000000LL,   500000000LL,   1000000000LL,  2000000000LL,
    5000000000LL, 10000000000LL, 20000000000LL, 50000000000LL, 60000000000LL};

/* The same boundaries as Prometheus reads them (seconds). */
static const char *const s_le[FB_METRICS_N_BOUNDS] = {
    "1e-06", "2e-06", "5e-06", "1e-05", "2e-05", "5e-05", "0.0001", "0.0002", "0.0005",
    "0.001", "0.002", "0.005", "0.01",  "0.02",  "0.05",  "0.1",    "0.2",    "0.5",
    "1",     "2",     "5",     "10",    "20",    "50",    "60"};

struct fb_metrics {
    fb_httpd_t *httpd;
    bool changed;
    char phase[16]; /* of the last text published */
    int64_t published_ns, render_ns;
};

static const char *const s_wl_states[] = {"pending", "warmup", "measure", "done", "stopped"};
#define S_N_WL_STATES 5

/* A label value: backslash, quote and newline escaped, as the format asks. */
static void s_value (FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc ('\\', out);
        if (*s == '\n')
            fputs ("\\n", out);
        else
            fputc (*s, out);
    }
}

static void s_family (FILE *out, const char *name, const char *type, const char *help) {
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{host="..",workload=".."  (the caller adds more labels and the closing brace). */
static void s_start (FILE *out, const char *name, const char *suffix, const fb_host_t *host,
                     const char *workload) {
    fprintf (out, "%s%s{", name, suffix);
    const char *sep = "";
    if (host) {
        fputs ("host=\"", out);
        s_value (out, host->id);
        fputc ('"', out);
        sep = ",";
    }
    if (workload) {
        fprintf (out, "%sworkload=\"", sep);
        s_value (out, workload);
        fputc ('"', out);
    }
}

static void s_int (FILE *out, const char *name, const fb_host_t *host, const char *workload,
                   int64_t value) {
    s_start (out, name, "", host, workload);
    fprintf (out, "} %lld\n", (long long)value);
}

/* The state of workload w on host: where its reports have got to. */
static int s_wl_state (const fb_host_t *host, int w) {
    if (host->state == FB_HOST_DONE)
        return 3;
    bool ended = host->state == FB_HOST_LOST || host->state == FB_HOST_FAILED;
    if (host->reports > 0 && w < host->workload_now)
        return 3;
    if (ended)
        return 4;
    if (host->state == FB_HOST_RUNNING && host->reports > 0 && w == host->workload_now)
        return host->warming_up ? 1 : 2;
    return 0;
}

static int64_t s_counter (const fb_stats_t *st, const char *name) {
    int i = fb_stats_find_counter (st, name);
    return i >= 0 ? st->counters[i] : 0;
}

static void s_run (FILE *out, const fb_run_t *run, const char *phase) {
    s_family (out, "fleetbench_run_info", "gauge", "The run (value 1): its id and scenario.");
    fputs ("fleetbench_run_info{run_id=\"", out);
    s_value (out, run->run_id);
    fputs ("\",scenario=\"", out);
    s_value (out, run->sc->name);
    fprintf (out, "\",version=\"%s\"} 1\n", FB_BUILD);
    s_family (out, "fleetbench_run_phase", "gauge",
              "1 for the phase the coordinator is in (join, plan, sync, run, end), else 0.");
    static const char *const phases[] = {"join", "plan", "sync", "run", "end"};
    for (int i = 0; i < 5; i++)
        fprintf (out, "fleetbench_run_phase{phase=\"%s\"} %d\n", phases[i],
                 strcmp (phase, phases[i]) == 0);
    s_family (out, "fleetbench_run_expected_hosts", "gauge", "Hosts the scenario expects.");
    fprintf (out, "fleetbench_run_expected_hosts %d\n", run->expected_hosts);
    s_family (out, "fleetbench_run_hosts", "gauge", "Hosts in each state.");
    for (int s = FB_HOST_JOINED; s <= FB_HOST_FAILED; s++)
        fprintf (out, "fleetbench_run_hosts{state=\"%s\"} %d\n", fb_run_host_state_name (s),
                 fb_run_count_hosts (run, s));
}

static void s_hosts (FILE *out, const fb_run_t *run) {
    s_family (out, "fleetbench_host_state", "gauge", "1 for the state the host is in, else 0.");
    for (int i = 0; i < run->n_hosts; i++)
        for (int s = FB_HOST_JOINED; s <= FB_HOST_FAILED; s++) {
            s_start (out, "fleetbench_host_state", "", run->hosts[i], NULL);
            fprintf (out, ",state=\"%s\"} %d\n", fb_run_host_state_name (s),
                     run->hosts[i]->state == (fb_host_state_t)s);
        }
    s_family (out, "fleetbench_host_reports_total", "counter", "Reports received (new ones).");
    for (int i = 0; i < run->n_hosts; i++)
        s_int (out, "fleetbench_host_reports_total", run->hosts[i], NULL,
               (int64_t)run->hosts[i]->reports);
    s_family (out, "fleetbench_host_duplicate_reports_total", "counter",
              "Reports received again (resent after a lost Ack) and dropped.");
    for (int i = 0; i < run->n_hosts; i++)
        s_int (out, "fleetbench_host_duplicate_reports_total", run->hosts[i], NULL,
               (int64_t)run->hosts[i]->duplicates);
    s_family (out, "fleetbench_host_clock_offset_seconds", "gauge",
              "The host's clock minus the coordinator's, as the sync rounds measured it.");
    for (int i = 0; i < run->n_hosts; i++) {
        s_start (out, "fleetbench_host_clock_offset_seconds", "", run->hosts[i], NULL);
        fprintf (out, "} %.9f\n", run->hosts[i]->offset_ns / 1e9);
    }
    s_family (out, "fleetbench_host_rtt_seconds", "gauge",
              "Round trip to the host, the smallest of the sync rounds.");
    for (int i = 0; i < run->n_hosts; i++) {
        s_start (out, "fleetbench_host_rtt_seconds", "", run->hosts[i], NULL);
        fprintf (out, "} %.9f\n", run->hosts[i]->rtt_ns / 1e9);
    }
}

/* A counter every host and workload has (0 until its first measured report), and its sum. */
static void s_sum_family (FILE *out, const fb_run_t *run, const char *name, const char *counter,
                          const char *help) {
    s_family (out, name, "counter", help);
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++)
            s_int (out, name, run->hosts[i], run->sc->workloads[w].name,
                   s_counter (&run->hosts[i]->stats[w], counter));
    char fleet[128], fleet_help[300];
    snprintf (fleet, sizeof fleet, "fleetbench_fleet_%s", name + strlen ("fleetbench_"));
    snprintf (fleet_help, sizeof fleet_help, "%s Summed over the hosts.", help);
    s_family (out, fleet, "counter", fleet_help);
    for (int w = 0; w < run->sc->n_workloads; w++) {
        int64_t sum = 0;
        for (int i = 0; i < run->n_hosts; i++)
            sum += s_counter (&run->hosts[i]->stats[w], counter);
        s_int (out, fleet, NULL, run->sc->workloads[w].name, sum);
    }
}

static void s_states (FILE *out, const fb_run_t *run) {
    s_family (out, "fleetbench_workload_state", "gauge",
              "1 for the state the workload is in on the host (pending, warmup, measure, done, "
              "stopped: the host was lost or failed before it), else 0.");
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++)
            for (int s = 0; s < S_N_WL_STATES; s++) {
                s_start (out, "fleetbench_workload_state", "", run->hosts[i],
                         run->sc->workloads[w].name);
                fprintf (out, ",state=\"%s\"} %d\n", s_wl_states[s],
                         s_wl_state (run->hosts[i], w) == s);
            }
    s_family (out, "fleetbench_fleet_workload_hosts", "gauge",
              "Hosts on which the workload is in each state.");
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int s = 0; s < S_N_WL_STATES; s++) {
            int n = 0;
            for (int i = 0; i < run->n_hosts; i++)
                n += s_wl_state (run->hosts[i], w) == s;
            s_start (out, "fleetbench_fleet_workload_hosts", "", NULL, run->sc->workloads[w].name);
            fprintf (out, ",state=\"%s\"} %d\n", s_wl_states[s], n);
        }
}

static void s_health (FILE *out, const fb_run_t *run) {
    s_family (out, "fleetbench_host_cpu_steal_ratio", "gauge",
              "Share of CPU time the hypervisor stole on the host during the workload (highest "
              "interval).");
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++) {
            const fb_stats_t *st = &run->hosts[i]->stats[w];
            if (fb_stats_find_counter (st, "steal") < 0)
                continue;
            s_start (out, "fleetbench_host_cpu_steal_ratio", "", run->hosts[i],
                     run->sc->workloads[w].name);
            fprintf (out, "} %.6f\n", s_counter (st, "steal") / 1e6);
        }
    s_family (out, "fleetbench_host_throttled", "gauge",
              "1 when the host's CPU was thermally throttled during the workload, else 0.");
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++) {
            const fb_stats_t *st = &run->hosts[i]->stats[w];
            if (fb_stats_find_counter (st, "throttled") >= 0)
                s_int (out, "fleetbench_host_throttled", run->hosts[i], run->sc->workloads[w].name,
                       s_counter (st, "throttled") > 0);
        }
    s_family (out, "fleetbench_measured_seconds_total", "counter",
              "Time the host's measured reports of the workload cover.");
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++) {
            s_start (out, "fleetbench_measured_seconds_total", "", run->hosts[i],
                     run->sc->workloads[w].name);
            fprintf (out, "} %.9f\n", run->hosts[i]->stats[w].measured_ns / 1e9);
        }
    s_family (out, "fleetbench_warmup_ops_total", "counter",
              "Operations of the warm-up (not in ops_total).");
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->sc->n_workloads; w++)
            s_int (out, "fleetbench_warmup_ops_total", run->hosts[i], run->sc->workloads[w].name,
                   run->hosts[i]->warmup_ops[w]);
}

static bool s_generic (const char *name) {
    return strcmp (name, "ops") != 0 && strcmp (name, "errors") != 0 &&
           strcmp (name, "steal") != 0 && strcmp (name, "throttled") != 0;
}

static void s_counter_line (FILE *out, const char *family, const fb_host_t *host, const char *wl,
                            const fb_scenario_workload_t *sw, const char *name, int64_t value) {
    const fb_counter_spec_t *spec = fb_workload_counter_spec (sw->wl, name);
    s_start (out, family, "", host, wl);
    fputs (",name=\"", out);
    s_value (out, name);
    fputs ("\",unit=\"", out);
    s_value (out, spec && spec->unit ? spec->unit : "");
    fprintf (out, "\"} %lld\n", (long long)value);
}

/* The workloads' other counters: amounts (SUM) as counters, gauges (MAX) as gauges. */
static void s_counters (FILE *out, const fb_run_t *run, fb_counter_kind_t kind) {
    bool sum = kind == FB_COUNTER_SUM;
    const char *family = sum ? "fleetbench_workload_amount_total" : "fleetbench_workload_peak";
    const char *fleet_family =
        sum ? "fleetbench_fleet_workload_amount_total" : "fleetbench_fleet_workload_peak";
    s_family (out, family, sum ? "counter" : "gauge",
              sum ? "An amount the workload counts (unit label: \"\" a count, B bytes, ns)."
                  : "A level the workload reads, its highest (unit label: \"\", B, ns, ppm).");
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_hosts; i++) {
            const fb_stats_t *st = &run->hosts[i]->stats[w];
            for (int c = 0; c < st->n_counters; c++)
                if (st->counter_kinds[c] == kind && s_generic (st->counter_names[c]))
                    s_counter_line (out, family, run->hosts[i], run->sc->workloads[w].name,
                                    &run->sc->workloads[w], st->counter_names[c], st->counters[c]);
        }
    s_family (out, fleet_family, sum ? "counter" : "gauge",
              sum ? "An amount the workload counts, summed over the hosts."
                  : "A level the workload reads, the highest of the hosts'.");
    for (int w = 0; w < run->sc->n_workloads; w++) {
        fb_stats_t fleet;
        fb_stats_init (&fleet);
        for (int i = 0; i < run->n_hosts; i++) {
            const fb_stats_t *st = &run->hosts[i]->stats[w];
            for (int c = 0; c < st->n_counters; c++)
                if (st->counter_kinds[c] == kind && s_generic (st->counter_names[c]))
                    fb_stats_add_counter (&fleet, st->counter_names[c], kind, st->counters[c],
                                          NULL);
        }
        for (int c = 0; c < fleet.n_counters; c++)
            s_counter_line (out, fleet_family, NULL, run->sc->workloads[w].name,
                            &run->sc->workloads[w], fleet.counter_names[c], fleet.counters[c]);
        fb_stats_clear (&fleet);
    }
}

typedef struct {
    int64_t counts[FB_METRICS_N_BOUNDS + 1]; /* per boundary, not cumulative; last: above all */
    int64_t total;
    double sum_ns;
} s_buckets_t;

/* One pass over the occupied buckets (a compact histogram holds only those). _sum takes each
 * bucket's median equivalent value, as HdrHistogram's mean does. */
static void s_add_buckets (s_buckets_t *b, const fb_hist_compact_t *hist) {
    int j = 0;
    fb_hist_compact_iter_t walk;
    fb_hist_compact_bucket_t it;
    fb_hist_compact_iter_init (hist, &walk);
    while (fb_hist_compact_iter_next (&walk, &it)) {
        while (j < FB_METRICS_N_BOUNDS && it.value > fb_metrics_bounds_ns[j])
            j++;
        b->counts[j] += it.count;
        b->sum_ns +=
            (double)(it.value_lowest + (it.value - it.value_lowest + 1) / 2) * (double)it.count;
    }
    b->total += fb_hist_compact_count (hist);
}

static void s_sum_buckets (s_buckets_t *into, const s_buckets_t *from) {
    for (int j = 0; j <= FB_METRICS_N_BOUNDS; j++)
        into->counts[j] += from->counts[j];
    into->total += from->total;
    into->sum_ns += from->sum_ns;
}

/* The labels of a series, escaped once: host="..",workload=".." (either may be absent). */
static void s_labels (char *buf, size_t size, const fb_host_t *host, const char *workload) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out) {
        buf[0] = '\0';
        return;
    }
    s_start (out, "", "", host, workload);
    fclose (out);
    snprintf (buf, size, "%s", text + 1); /* without s_start's "{" */
    free (text);
}

static void s_emit_buckets (FILE *out, const char *family, const fb_host_t *host, const char *wl,
                            const s_buckets_t *b) {
    char labels[400];
    s_labels (labels, sizeof labels, host, wl);
    int64_t cum = 0;
    for (int j = 0; j < FB_METRICS_N_BOUNDS; j++) {
        cum += b->counts[j];
        fprintf (out, "%s_bucket{%s,le=\"%s\"} %lld\n", family, labels, s_le[j], (long long)cum);
    }
    fprintf (out, "%s_bucket{%s,le=\"+Inf\"} %lld\n", family, labels, (long long)b->total);
    fprintf (out, "%s_sum{%s} %.9f\n", family, labels, b->sum_ns / 1e9);
    fprintf (out, "%s_count{%s} %lld\n", family, labels, (long long)b->total);
}

/* One histogram family per metric (latency, service, sched_lag, the workloads' own), per host
 * and summed for the fleet: bucket counts add exactly. */
static void s_histograms (FILE *out, const fb_run_t *run) {
    char names[S_MAX_FAMILIES][32];
    int n = 0;
    for (int w = 0; w < run->sc->n_workloads; w++)
        for (int i = 0; i < run->n_hosts; i++)
            for (int m = 0; m < run->hosts[i]->stats[w].n_metrics; m++) {
                const char *name = run->hosts[i]->stats[w].metric_names[m];
                int k = 0;
                while (k < n && strcmp (names[k], name) != 0)
                    k++;
                if (k == n && n < S_MAX_FAMILIES)
                    snprintf (names[n++], sizeof names[0], "%s", name);
            }
    for (int k = 0; k < n; k++) {
        char clean[32], family[96], fleet[96], help[160];
        snprintf (clean, sizeof clean, "%s", names[k]);
        for (char *p = clean; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                *p = '_';
        snprintf (family, sizeof family, "fleetbench_%s_seconds", clean);
        snprintf (fleet, sizeof fleet, "fleetbench_fleet_%s_seconds", clean);
        snprintf (help, sizeof help, "The %s of the measured operations.", names[k]);
        s_family (out, family, "histogram", help);
        s_buckets_t *fleet_b = calloc ((size_t)run->sc->n_workloads, sizeof *fleet_b);
        bool *any = calloc ((size_t)run->sc->n_workloads, sizeof *any);
        for (int w = 0; fleet_b && any && w < run->sc->n_workloads; w++)
            for (int i = 0; i < run->n_hosts; i++) {
                const fb_hist_compact_t *hist =
                    fb_stats_find_metric (&run->hosts[i]->stats[w], names[k]);
                s_buckets_t b = {0};
                if (!hist)
                    continue;
                s_add_buckets (&b, hist);
                s_emit_buckets (out, family, run->hosts[i], run->sc->workloads[w].name, &b);
                s_sum_buckets (&fleet_b[w], &b); /* bucket counts add exactly */
                any[w] = true;
            }
        snprintf (help, sizeof help, "The %s of the measured operations of every host.", names[k]);
        s_family (out, fleet, "histogram", help);
        for (int w = 0; fleet_b && any && w < run->sc->n_workloads; w++)
            if (any[w])
                s_emit_buckets (out, fleet, NULL, run->sc->workloads[w].name, &fleet_b[w]);
        free (fleet_b);
        free (any);
    }
}

void fb_metrics_render (const fb_run_t *run, const char *phase, FILE *out) {
    s_run (out, run, phase);
    s_hosts (out, run);
    s_states (out, run);
    s_sum_family (out, run, "fleetbench_ops_total", "ops",
                  "Operations measured (after the warm-up), as run.json's ops.");
    s_sum_family (out, run, "fleetbench_errors_total", "errors", "Operations that failed.");
    s_health (out, run);
    s_counters (out, run, FB_COUNTER_SUM);
    s_counters (out, run, FB_COUNTER_MAX);
    s_histograms (out, run);
}

fb_metrics_t *fb_metrics_new (const char *listen, bool allow_public, fb_err_t *err) {
    fb_metrics_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return NULL;
    }
    self->httpd = fb_httpd_new (listen, allow_public, "/metrics",
                                "text/plain; version=0.0.4; charset=utf-8", err);
    if (!self->httpd)
        fb_metrics_destroy (&self);
    return self;
}

void fb_metrics_destroy (fb_metrics_t **self_p) {
    fb_metrics_t *self = *self_p;
    if (!self)
        return;
    fb_httpd_destroy (&self->httpd);
    free (self);
    *self_p = NULL;
}

int fb_metrics_port (const fb_metrics_t *self) { return fb_httpd_port (self->httpd); }

const char *fb_metrics_url (const fb_metrics_t *self) { return fb_httpd_url (self->httpd); }

void fb_metrics_changed (fb_metrics_t *self) {
    if (self)
        self->changed = true;
}

void fb_metrics_update (fb_metrics_t *self, const fb_run_t *run, const char *phase, int64_t now_ns,
                        bool force) {
    if (!self)
        return;
    int64_t since = now_ns - self->published_ns;
    int64_t period = self->render_ns * S_COST_FACTOR;
    if (period < S_MIN_PERIOD_NS)
        period = S_MIN_PERIOD_NS;
    /* New reports at most every period; the rest (states, offsets) at least every second, or
     * every period when rendering takes longer than that allows. */
    int64_t refresh = period > S_MAX_PERIOD_NS ? period : S_MAX_PERIOD_NS;
    bool due =
        strcmp (self->phase, phase) != 0 || since >= refresh || (self->changed && since >= period);
    if (!force && self->published_ns && !due)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out)
        return; /* out of memory: the endpoint keeps the last text */
    int64_t t0 = fb_clock_now_ns ();
    fb_metrics_render (run, phase, out);
    fclose (out);
    self->render_ns = fb_clock_now_ns () - t0;
    fb_httpd_publish (self->httpd, text, len, NULL);
    free (text);
    self->changed = false;
    snprintf (self->phase, sizeof self->phase, "%s", phase);
    self->published_ns = now_ns;
}

void fb_metrics_hold (fb_metrics_t *self, int64_t hold_ns) {
    if (!self)
        return;
    int64_t until = fb_clock_now_ns () + hold_ns;
    while (!zsys_interrupted && fb_clock_now_ns () < until)
        zclock_sleep (50);
}

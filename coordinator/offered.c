/* offered.c: latency against offered load (offered.h). Every measured interval of an open-loop
 * workload carries the rate its schedule offered (target_rate_per_s, the hosts' summed); with
 * stages those rates sweep a range, and the latency at each is the curve a capacity question
 * asks for: where the knee is. */
#include "coordinator/offered.h"

#include "common/units.h"
#include "coordinator/samples.h"
#include "coordinator/svg.h"

#include <stdlib.h>
#include <string.h>

/* The latency percentile p of interval i of the first run; 0 without samples. */
static double s_latency (const fb_samples_t *s, int i, double p) {
    int m = fb_samples_metric_index (s, "latency");
    fb_samples_hist_t h = {0};
    if (m >= 0)
        fb_samples_hist (s, 0, i, m, &h);
    return h.hist && h.total > 0 ? (double)fb_hist_compact_value_at_percentile (h.hist, p) : 0;
}

/* The interval of s (first run) at slot, -1 when it has none. */
static int s_at_slot (const fb_samples_t *s, int slot) {
    for (int i = 0; s && fb_samples_runs (s) > 0 && i < fb_samples_intervals (s, 0); i++)
        if (fb_samples_slot (s, 0, i) == slot)
            return i;
    return -1;
}

void fb_offered_md (FILE *out, const fb_run_t *run, int w) {
    const fb_samples_t *fleet = run->samples[w];
    if (run->sc->workloads[w].shape.n_stages == 0 || !fleet || fb_samples_runs (fleet) == 0)
        return;
    bool per_host = run->n_hosts <= FB_RUN_LISTED_HOSTS;
    fputs ("\nLatency against offered load (each measured interval; offered: what the schedule "
           "planned, summed over hosts):\n\n| interval | offered /s | achieved /s | p50 | p99 |",
           out);
    for (int h = 0; per_host && h < run->n_hosts; h++)
        fprintf (out, " p99 %s |", run->hosts[h]->id);
    fputs ("\n|---:|---:|---:|---:|---:|", out);
    for (int h = 0; per_host && h < run->n_hosts; h++)
        fputs ("---:|", out);
    fputs ("\n", out);
    for (int i = 0; i < fb_samples_intervals (fleet, 0); i++) {
        fb_samples_counts_t c;
        fb_samples_counts (fleet, 0, i, &c);
        char p50[32], p99[32], hp99[32];
        fprintf (out, "| %d | %.0f | %.0f | %s | %s |", i + 1, c.target_rate_per_s,
                 c.length_ns > 0 ? (double)c.ops * 1e9 / (double)c.length_ns : 0,
                 fb_units_format_ns (s_latency (fleet, i, 50), p50, sizeof p50),
                 fb_units_format_ns (s_latency (fleet, i, 99), p99, sizeof p99));
        for (int h = 0; per_host && h < run->n_hosts; h++) {
            const fb_samples_t *hs = run->hosts[h]->samples[w];
            int k = s_at_slot (hs, fb_samples_slot (fleet, 0, i));
            fprintf (out, " %s |",
                     k >= 0 ? fb_units_format_ns (s_latency (hs, k, 99), hp99, sizeof hp99) : "-");
        }
        fputs ("\n", out);
    }
    const fb_shape_t *shape = &run->sc->workloads[w].shape;
    if (!shape->capacity)
        return;
    fprintf (out, "\nCapacity (the highest step that met `%s`; the knee is past it):",
             shape->objective.text);
    for (int h = 0; h < run->n_hosts; h++) {
        const fb_stats_t *st = &run->hosts[h]->stats[w];
        int c = fb_stats_find_counter (st, FB_COUNTER_CAPACITY);
        int u = fb_stats_find_counter (st, FB_COUNTER_CAPACITY_UNSURE);
        if (c >= 0 && (per_host || h < FB_RUN_LISTED_HOSTS))
            fprintf (out, "%s %s %lld/s", h ? "," : "", run->hosts[h]->id,
                     (long long)st->counters[c]);
        if (c >= 0 && u >= 0 && st->counters[u] > 0 && (per_host || h < FB_RUN_LISTED_HOSTS))
            fprintf (out, " (%lld step%s unsure)", (long long)st->counters[u],
                     st->counters[u] == 1 ? "" : "s");
    }
    fputs (run->n_hosts > FB_RUN_LISTED_HOSTS ? ", ... (every host in run.json)\n" : "\n", out);
}

void fb_offered_html (FILE *out, const json_t *workload) {
    if (!json_is_array (json_object_get (workload, "stages")))
        return;
    fb_samples_t *s = fb_samples_new (NULL);
    if (!s || fb_samples_json_decode (s, json_object_get (workload, "samples"), NULL) != 0) {
        fb_samples_destroy (&s);
        return;
    }
    int n = fb_samples_intervals (s, 0);
    double *x = calloc ((size_t)n + 1, sizeof *x), *p99 = calloc ((size_t)n + 1, sizeof *p99),
           *p50 = calloc ((size_t)n + 1, sizeof *p50);
    int k = 0;
    for (int i = 0; x && p99 && p50 && i < n; i++) {
        fb_samples_counts_t c;
        fb_samples_counts (s, 0, i, &c);
        if (c.target_rate_per_s <= 0)
            continue;
        x[k] = c.target_rate_per_s;
        p99[k] = s_latency (s, i, 99);
        p50[k++] = s_latency (s, i, 50);
    }
    if (k > 0) {
        fb_svg_series_t series[2] = {{"fleet p99", k, x, p99, -1, false, false},
                                     {"fleet p50", k, x, p50, -1, true, false}};
        /* A capacity search: past the highest host's capacity is past every knee. */
        const json_t *counters = json_object_get (json_object_get (workload, "fleet"), "counters");
        double knee = (double)json_integer_value (
            json_object_get (json_object_get (counters, "capacity"), "value"));
        double last = x[0];
        for (int i = 1; i < k; i++)
            last = x[i] > last ? x[i] : last;
        bool shade = knee > 0 && knee < last;
        fb_svg_chart_t chart = {
            "latency against offered load (one point per interval)",
            {"offered operations per second (all hosts)", FB_SVG_RATE, false, 0, 0},
            {"latency", FB_SVG_NS, true, 0, 0},
            shade ? knee : 0,
            shade ? last : 0,
            "past the capacity found (the knee)"};
        fb_svg_lines (out, &chart, series, 2);
    }
    free (x);
    free (p99);
    free (p50);
    fb_samples_destroy (&s);
}

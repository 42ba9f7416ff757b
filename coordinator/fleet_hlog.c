/* fleet_hlog.c: fleet.<workload>.hlog, the fleet's interval log. Hosts' reports of one interval
 * share a slot (its index from the run's start); the slots of the hosts that make the fleet's
 * numbers (none lost or failed) are merged bucket by bucket, so the file's total equals
 * run.json's fleet histogram. */
#include "coordinator/fleet_hlog.h"

#include "common/hist_compact.h"
#include "common/hlog.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const fb_run_t *run;
    int w;
    int n_slots;
    fb_hist_compact_t **hists; /* n_slots x FB_MAX_METRICS, in the fleet's metric order */
    int64_t *length_ns;        /* of each slot: the longest a host reported */
} s_fleet_t;

/* A host's intervals read back from its committed .hlog (the run keeps only the metrics its
 * targets and gates need per host): NULL for a host whose numbers are not the fleet's, or
 * whose file was lost. The caller destroys it. */
static fb_samples_t *s_host_samples (const fb_run_t *run, const fb_host_t *host, int w,
                                     fb_err_t *err) {
    if (host->state == FB_HOST_LOST || host->state == FB_HOST_FAILED || host->hlog_lost[w])
        return NULL; /* its partial numbers stay out of the fleet's, as in run.json */
    char path[700];
    snprintf (path, sizeof path, "%s/%s.%s.hlog", run->dir, host->id, run->sc->workloads[w].name);
    if (access (path, F_OK) != 0)
        return NULL; /* it reported nothing measured of this workload */
    fb_samples_t *s = fb_samples_new (err);
    if (s && fb_samples_add_hlog (s, path, run->sc->workloads[w].interval_ns, err) != 0)
        fb_samples_destroy (&s);
    return s;
}

/* Adds one host interval's metrics to the slot's merged histograms. */
static int s_add (s_fleet_t *f, const fb_samples_t *s, int i, fb_err_t *err) {
    const fb_stats_t *fleet = &f->run->fleet[f->w];
    int slot = fb_samples_slot (s, 0, i);
    fb_samples_counts_t counts;
    fb_samples_counts (s, 0, i, &counts);
    if (counts.length_ns > f->length_ns[slot])
        f->length_ns[slot] = counts.length_ns;
    for (int m = 0; m < fleet->n_metrics; m++) {
        int hm = fb_samples_metric_index (s, fleet->metric_names[m]);
        fb_samples_hist_t h = {0};
        if (hm >= 0)
            fb_samples_hist (s, 0, i, hm, &h);
        if (h.n == 0)
            continue;
        fb_hist_compact_t **hist = &f->hists[slot * FB_MAX_METRICS + m];
        if ((!*hist && !(*hist = fb_hist_compact_new_default (err))) ||
            fb_hist_compact_merge (*hist, h.hist, err) != 0)
            return -1;
    }
    return 0;
}

/* Every slot a host reported is in the fleet's own intervals (this run's: run 0), which
 * also hold hosts later lost; the merge is of the hosts that make the fleet's numbers. */
static int s_gather (s_fleet_t *f, fb_err_t *err) {
    const fb_run_t *run = f->run;
    const fb_samples_t *all = run->samples[f->w];
    int max_slot = -1;
    for (int i = 0; all && fb_samples_runs (all) > 0 && i < fb_samples_intervals (all, 0); i++)
        if (fb_samples_slot (all, 0, i) > max_slot)
            max_slot = fb_samples_slot (all, 0, i);
    if (max_slot < 0)
        return 0;
    f->n_slots = max_slot + 1;
    f->hists = calloc ((size_t)f->n_slots * FB_MAX_METRICS, sizeof *f->hists);
    f->length_ns = calloc ((size_t)f->n_slots, sizeof *f->length_ns);
    if (!f->hists || !f->length_ns)
        return fb_err_set (err, FB_ENOMEM, "out of memory merging the fleet's intervals");
    for (int h = 0; h < run->n_hosts; h++) {
        fb_err_t herr = {0};
        fb_samples_t *s = s_host_samples (run, run->hosts[h], f->w, &herr);
        if (!s && herr.msg[0])
            return fb_err_set (err, herr.code, "%s", herr.msg);
        int rc = 0;
        for (int i = 0; s && rc == 0 && i < fb_samples_intervals (s, 0); i++)
            rc = fb_samples_slot (s, 0, i) < f->n_slots ? s_add (f, s, i, err) : 0;
        fb_samples_destroy (&s);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void s_free (s_fleet_t *f) {
    for (int i = 0; f->hists && i < f->n_slots * FB_MAX_METRICS; i++)
        fb_hist_compact_destroy (&f->hists[i]);
    free (f->hists);
    free (f->length_ns);
}

/* Latency rows carry no tag (what HistogramLogProcessor reads without -tag); the others are
 * tagged with their metric's name. Rows start at their slot's nominal instant. */
static void s_render (FILE *out, const void *arg) {
    const s_fleet_t *f = arg;
    const fb_stats_t *fleet = &f->run->fleet[f->w];
    int64_t interval_ns = f->run->sc->workloads[f->w].interval_ns;
    double interval_s = interval_ns > 0 ? interval_ns / 1e9 : 1.0;
    fb_err_t err = {0}; /* into memory: the write of the whole text is what can fail */
    fb_hlog_write_header (out, f->run->start_wall_ns / 1e9, &err);
    for (int slot = 0; slot < f->n_slots; slot++)
        for (int m = 0; m < fleet->n_metrics; m++) {
            const fb_hist_compact_t *hist = f->hists[slot * FB_MAX_METRICS + m];
            uint8_t *bytes = NULL;
            size_t len = 0;
            if (!hist || fb_hist_compact_encode (hist, &bytes, &len, &err) != 0)
                continue;
            const char *name = fleet->metric_names[m];
            double length_s = f->length_ns[slot] > 0 ? f->length_ns[slot] / 1e9 : interval_s;
            fb_hlog_write_encoded (out, strcmp (name, "latency") == 0 ? NULL : name,
                                   slot * interval_s, length_s, fb_hist_compact_max (hist), bytes,
                                   len, &err);
            free (bytes);
        }
}

int fb_fleet_hlog_write (const fb_run_t *run, fb_err_t *err) {
    for (int h = 0; h < run->n_hosts; h++)
        if (strcmp (run->hosts[h]->id, "fleet") == 0)
            return 0; /* a host took the name: its own files stay, no fleet file over them */
    for (int w = 0; w < run->sc->n_workloads; w++) {
        s_fleet_t f = {.run = run, .w = w};
        int rc = s_gather (&f, err);
        if (rc == 0 && f.n_slots > 0) {
            char name[300];
            snprintf (name, sizeof name, "fleet.%s.hlog", run->sc->workloads[w].name);
            rc = fb_files_write_rendered (run->dir, name, s_render, &f, err);
        }
        s_free (&f);
        if (rc != 0)
            return -1;
    }
    return 0;
}

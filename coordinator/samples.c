/* samples.c: measured intervals kept compactly (occupied buckets only) for the bootstrap. */
#include "coordinator/samples.h"

#include "common/b64.h"
#include "common/hlog.h"
#include "common/stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    fb_hist_compact_t *hist; /* NULL until a host reports the metric in the interval */
} s_pairs_t;

typedef struct {
    int slot;
    fb_samples_counts_t counts;
    s_pairs_t metric[FB_MAX_METRICS];
} s_interval_t;

typedef struct {
    s_interval_t *iv;
    int n, cap;
} s_run_t;

struct fb_samples {
    int n_metrics;
    char names[FB_MAX_METRICS][32];
    s_run_t *runs;
    int n_runs, cap_runs;
};

fb_samples_t *fb_samples_new (fb_err_t *err) {
    fb_samples_t *self = calloc (1, sizeof *self);
    if (!self)
        fb_err_set (err, FB_ENOMEM, "out of memory");
    return self;
}

static void s_pairs_free (s_pairs_t *p) {
    fb_hist_compact_destroy (&p->hist);
    memset (p, 0, sizeof *p);
}

void fb_samples_destroy (fb_samples_t **self_p) {
    fb_samples_t *self = *self_p;
    if (!self)
        return;
    for (int r = 0; r < self->n_runs; r++) {
        for (int i = 0; i < self->runs[r].n; i++)
            for (int m = 0; m < FB_MAX_METRICS; m++)
                s_pairs_free (&self->runs[r].iv[i].metric[m]);
        free (self->runs[r].iv);
    }
    free (self->runs);
    free (self);
    *self_p = NULL;
}

int fb_samples_begin_run (fb_samples_t *self, fb_err_t *err) {
    if (self->n_runs == self->cap_runs) {
        int cap = self->cap_runs ? self->cap_runs * 2 : 4;
        s_run_t *runs = realloc (self->runs, (size_t)cap * sizeof *runs);
        if (!runs)
            return fb_err_set (err, FB_ENOMEM, "out of memory");
        self->runs = runs;
        self->cap_runs = cap;
    }
    memset (&self->runs[self->n_runs++], 0, sizeof (s_run_t));
    return 0;
}

/* The interval of slot in run r, inserted in time order when new. */
static s_interval_t *s_slot_in (fb_samples_t *self, int r, int slot, fb_err_t *err) {
    if (slot < 0) {
        fb_err_set (err, FB_EINPUT, "interval %d is before the measured window", slot);
        return NULL;
    }
    s_run_t *run = &self->runs[r];
    int at = run->n;
    while (at > 0 && run->iv[at - 1].slot >= slot)
        at--;
    if (at < run->n && run->iv[at].slot == slot)
        return &run->iv[at];
    if (run->n == run->cap) {
        int cap = run->cap ? run->cap * 2 : 4; /* a host's run of short workloads: a few */
        s_interval_t *iv = realloc (run->iv, (size_t)cap * sizeof *iv);
        if (!iv) {
            fb_err_set (err, FB_ENOMEM, "out of memory");
            return NULL;
        }
        run->iv = iv;
        run->cap = cap;
    }
    memmove (&run->iv[at + 1], &run->iv[at], (size_t)(run->n - at) * sizeof *run->iv);
    memset (&run->iv[at], 0, sizeof *run->iv);
    run->iv[at].slot = slot;
    run->n++;
    return &run->iv[at];
}

/* The interval of slot in the current run (the first add begins one). */
static s_interval_t *s_slot (fb_samples_t *self, int slot, fb_err_t *err) {
    if (self->n_runs == 0 && fb_samples_begin_run (self, err) != 0)
        return NULL;
    return s_slot_in (self, self->n_runs - 1, slot, err);
}

static int s_metric (fb_samples_t *self, const char *name, fb_err_t *err) {
    int m = fb_samples_metric_index (self, name);
    if (m >= 0)
        return m;
    if (self->n_metrics == FB_MAX_METRICS)
        return fb_err_set (err, FB_EINPUT, "more than %d metrics in one workload", FB_MAX_METRICS);
    snprintf (self->names[self->n_metrics], sizeof self->names[0], "%s", name);
    return self->n_metrics++;
}

static int s_pairs_merge (s_pairs_t *into, const fb_hist_compact_t *from, fb_err_t *err) {
    if (!into->hist) {
        const fb_hist_layout_t *l = fb_hist_compact_layout (from);
        into->hist = fb_hist_compact_new (l->lowest, l->highest, l->sigfigs, err);
        if (!into->hist)
            return -1;
    }
    return fb_hist_compact_merge (into->hist, from, err);
}

int fb_samples_add_compact (fb_samples_t *self, int slot, const char *metric,
                            const fb_hist_compact_t *hist, fb_err_t *err) {
    int m = s_metric (self, metric, err);
    s_interval_t *iv = m >= 0 ? s_slot (self, slot, err) : NULL;
    return iv ? s_pairs_merge (&iv->metric[m], hist, err) : -1;
}

int fb_samples_pack_slot (fb_samples_t *self, int slot, fb_err_t *err) {
    if (self->n_runs == 0)
        return 0;
    s_run_t *run = &self->runs[self->n_runs - 1];
    for (int at = run->n - 1; at >= 0 && run->iv[at].slot >= slot; at--)
        if (run->iv[at].slot == slot)
            for (int m = 0; m < self->n_metrics; m++)
                if (run->iv[at].metric[m].hist &&
                    fb_hist_compact_pack (run->iv[at].metric[m].hist, err) != 0)
                    return -1;
    return 0;
}

int fb_samples_add_hist (fb_samples_t *self, int slot, const char *metric, const fb_hist_t *hist,
                         fb_err_t *err) {
    fb_hist_compact_t *compact = fb_hist_compact_from_hist (hist, err);
    int rc = compact ? fb_samples_add_compact (self, slot, metric, compact, err) : -1;
    fb_hist_compact_destroy (&compact);
    return rc;
}

int fb_samples_add_counts (fb_samples_t *self, int slot, int64_t ops, int64_t errors,
                           int64_t length_ns, fb_err_t *err) {
    s_interval_t *iv = s_slot (self, slot, err);
    if (!iv)
        return -1;
    iv->counts.ops += ops;
    iv->counts.errors += errors;
    if (length_ns > iv->counts.length_ns)
        iv->counts.length_ns = length_ns;
    return 0;
}

int fb_samples_add_target (fb_samples_t *self, int slot, double rate_per_s, fb_err_t *err) {
    s_interval_t *iv = s_slot (self, slot, err);
    if (!iv)
        return -1;
    iv->counts.target_rate_per_s += rate_per_s;
    return 0;
}

int fb_samples_runs (const fb_samples_t *self) { return self->n_runs; }

int fb_samples_intervals (const fb_samples_t *self, int run) { return self->runs[run].n; }

int fb_samples_total_intervals (const fb_samples_t *self) {
    int n = 0;
    for (int r = 0; r < self->n_runs; r++)
        n += self->runs[r].n;
    return n;
}

int fb_samples_metric_index (const fb_samples_t *self, const char *metric) {
    for (int m = 0; m < self->n_metrics; m++)
        if (strcmp (self->names[m], metric) == 0)
            return m;
    return -1;
}

void fb_samples_hist (const fb_samples_t *self, int run, int i, int metric,
                      fb_samples_hist_t *out) {
    const s_pairs_t *p = &self->runs[run].iv[i].metric[metric];
    /* The sum is made when read: a report merged into the fleet's interval (a thousand a
     * second at fleet scale) then costs a merge, not a pass over every bucket too. */
    *out = (fb_samples_hist_t){p->hist, p->hist ? fb_hist_compact_buckets (p->hist) : 0,
                               p->hist ? fb_hist_compact_count (p->hist) : 0,
                               p->hist ? fb_hist_compact_sum (p->hist) : 0.0};
}

void fb_samples_counts (const fb_samples_t *self, int run, int i, fb_samples_counts_t *out) {
    *out = self->runs[run].iv[i].counts;
}

int fb_samples_slot (const fb_samples_t *self, int run, int i) {
    return self->runs[run].iv[i].slot;
}

/* One metric of one interval as base64 HdrHistogram V2. */
static json_t *s_hist_json (const s_pairs_t *p) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    if (fb_hist_compact_encode (p->hist, &bytes, &len, &err) != 0)
        return NULL;
    char *b64 = fb_b64_encode (bytes, len);
    free (bytes);
    json_t *j = b64 ? json_string (b64) : NULL;
    free (b64);
    return j;
}

int fb_samples_merge (fb_samples_t *self, const fb_samples_t *from, fb_err_t *err) {
    int rc = 0;
    for (int r = 0; rc == 0 && r < from->n_runs; r++) {
        while (rc == 0 && self->n_runs <= r)
            rc = fb_samples_begin_run (self, err);
        for (int i = 0; rc == 0 && i < from->runs[r].n; i++) {
            const s_interval_t *src = &from->runs[r].iv[i];
            s_interval_t *iv = s_slot_in (self, r, src->slot, err);
            if (!iv) {
                rc = -1;
                break;
            }
            iv->counts.ops += src->counts.ops;
            iv->counts.errors += src->counts.errors;
            iv->counts.target_rate_per_s += src->counts.target_rate_per_s;
            if (src->counts.length_ns > iv->counts.length_ns)
                iv->counts.length_ns = src->counts.length_ns;
            for (int m = 0; rc == 0 && m < from->n_metrics; m++) {
                const s_pairs_t *p = &src->metric[m];
                if (!p->hist || fb_hist_compact_buckets (p->hist) == 0)
                    continue;
                int k = s_metric (self, from->names[m], err);
                rc = k < 0 ? -1 : s_pairs_merge (&iv->metric[k], p->hist, err);
            }
        }
    }
    return rc;
}

static bool s_wanted (const char *name, const char *const *only, int n_only) {
    if (n_only < 0)
        return true;
    for (int k = 0; k < n_only; k++)
        if (strcmp (only[k], name) == 0)
            return true;
    return false;
}

json_t *fb_samples_json_encode (const fb_samples_t *self) {
    return fb_samples_json_encode_only (self, NULL, -1);
}

json_t *fb_samples_json_encode_only (const fb_samples_t *self, const char *const *only,
                                     int n_only) {
    json_t *runs = json_array ();
    bool ok = runs != NULL;
    for (int r = 0; ok && r < self->n_runs; r++) {
        json_t *ivs = json_array ();
        ok = ivs && json_array_append_new (runs, json_pack ("{s:o}", "intervals", ivs)) == 0;
        for (int i = 0; ok && i < self->runs[r].n; i++) {
            const s_interval_t *iv = &self->runs[r].iv[i];
            json_t *metrics = json_object ();
            for (int m = 0; ok && metrics && m < self->n_metrics; m++) {
                bool keep = iv->metric[m].hist &&
                            fb_hist_compact_buckets (iv->metric[m].hist) > 0 &&
                            s_wanted (self->names[m], only, n_only);
                json_t *h = keep ? s_hist_json (&iv->metric[m]) : NULL;
                ok = !keep || (h && json_object_set_new (metrics, self->names[m], h) == 0);
            }
            json_t *ij = ok && metrics
                             ? json_pack ("{s:i,s:I,s:I,s:I,s:o}", "slot", iv->slot, "ops",
                                          (json_int_t)iv->counts.ops, "errors",
                                          (json_int_t)iv->counts.errors, "length_ns",
                                          (json_int_t)iv->counts.length_ns, "metrics", metrics)
                             : NULL;
            if (ij && iv->counts.target_rate_per_s > 0)
                json_object_set_new (ij, "target_rate_per_s",
                                     json_real (iv->counts.target_rate_per_s));
            ok = ok && metrics && json_array_append_new (ivs, ij) == 0;
        }
    }
    if (!ok) {
        json_decref (runs);
        return NULL;
    }
    return json_pack ("{s:o}", "runs", runs);
}

static int s_decode_interval (fb_samples_t *self, const json_t *iv, int r, int i, fb_err_t *err) {
    json_int_t slot = 0, ops = 0, errors = 0, length = 0;
    json_t *metrics = NULL;
    json_error_t jerr;
    if (json_unpack_ex ((json_t *)iv, &jerr, 0, "{s:I,s:I,s:I,s:I,s:o}", "slot", &slot, "ops", &ops,
                        "errors", &errors, "length_ns", &length, "metrics", &metrics) != 0 ||
        !json_is_object (metrics) || slot < 0 || slot > 10000000 || ops < 0 || errors < 0 ||
        length <= 0)
        return fb_err_set (err, FB_EINPUT,
                           "run %d interval %d: expected slot, ops, errors, "
                           "length_ns and metrics (%s)",
                           r + 1, i + 1, jerr.text);
    if (fb_samples_add_counts (self, (int)slot, ops, errors, length, err) != 0)
        return -1;
    double target = json_number_value (json_object_get (iv, "target_rate_per_s"));
    if (target > 0 && fb_samples_add_target (self, (int)slot, target, err) != 0)
        return -1;
    const char *name;
    json_t *h;
    json_object_foreach (metrics, name, h) {
        const char *b64 = json_string_value (h);
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!b64 || fb_b64_decode (b64, strlen (b64), &bytes, &len, err) != 0)
            return fb_err_set (err, FB_EINPUT, "run %d interval %d: metric %s is not base64", r + 1,
                               i + 1, name);
        fb_hist_compact_t *hist = fb_hist_compact_decode (bytes, len, err);
        free (bytes);
        if (!hist) {
            fb_err_prefix (err, "run %d interval %d metric %s", r + 1, i + 1, name);
            return -1;
        }
        int rc = fb_samples_add_compact (self, (int)slot, name, hist, err);
        fb_hist_compact_destroy (&hist);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int fb_samples_json_decode (fb_samples_t *self, const json_t *json, fb_err_t *err) {
    const json_t *runs = json_object_get (json, "runs");
    if (!json_is_array (runs) || json_array_size (runs) == 0)
        return fb_err_set (err, FB_EINPUT, "expected \"runs\": a list of runs with intervals");
    size_t r;
    json_t *run;
    json_array_foreach (runs, r, run) {
        const json_t *ivs = json_object_get (run, "intervals");
        if (!json_is_array (ivs) || json_array_size (ivs) == 0)
            return fb_err_set (err, FB_EINPUT, "run %zu: expected a non-empty \"intervals\" list",
                               r + 1);
        if (fb_samples_begin_run (self, err) != 0)
            return -1;
        size_t i;
        json_t *iv;
        json_array_foreach (ivs, i, iv) {
            if (s_decode_interval (self, iv, (int)r, (int)i, err) != 0)
                return -1;
        }
    }
    return 0;
}

int fb_samples_add_hlog (fb_samples_t *self, const char *path, int64_t interval_ns, fb_err_t *err) {
    FILE *f = fopen (path, "r");
    if (!f)
        return fb_err_set (err, FB_ESYS, "%s: %s", path, strerror (errno));
    static char line[1 << 16]; /* a row of a busy interval: a few kB of base64 */
    int rc = 0, n = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        n++;
        fb_hlog_row_t row = {0};
        fb_hist_compact_t *hist = NULL; /* decoded into the buckets it uses only */
        int got = fb_hlog_parse_line_compact (line, &row, &hist, err);
        if (got < 0) {
            fb_err_prefix (err, "%s:%d", path, n);
            rc = -1;
        }
        if (got != 1)
            continue;
        double nominal_s = interval_ns > 0 ? interval_ns / 1e9 : row.length_s;
        int slot = nominal_s > 0 ? (int)((row.start_s + nominal_s / 2) / nominal_s) : 0;
        double length_s = interval_ns > 0 && row.length_s > nominal_s ? nominal_s : row.length_s;
        const char *metric = row.tag[0] ? row.tag : "latency"; /* older files tag latency */
        rc = fb_samples_add_compact (self, slot, metric, hist, err);
        if (rc == 0 && strcmp (metric, "latency") == 0)
            rc = fb_samples_add_counts (self, slot, fb_hist_compact_count (hist), 0,
                                        (int64_t)(length_s * 1e9), err);
        fb_hist_compact_destroy (&hist);
    }
    fclose (f);
    return rc;
}

void fb_samples_drop_hists (fb_samples_t *self) {
    for (int r = 0; r < self->n_runs; r++) {
        s_run_t *run = &self->runs[r];
        for (int i = 0; i < run->n; i++)
            for (int m = 0; m < FB_MAX_METRICS; m++)
                s_pairs_free (&run->iv[i].metric[m]);
        s_interval_t *fit = run->n > 0 ? realloc (run->iv, (size_t)run->n * sizeof *fit) : NULL;
        if (fit) {
            run->iv = fit;
            run->cap = run->n;
        }
    }
    self->n_metrics = 0; /* the names come back with the histograms */
}

int fb_samples_add_hlog_hists (fb_samples_t *self, const char *path, int64_t interval_ns,
                               fb_samples_keep_fn *keep, const void *arg, fb_err_t *err) {
    FILE *f = fopen (path, "r");
    if (!f)
        return fb_err_set (err, FB_ESYS, "%s: %s", path, strerror (errno));
    static char line[1 << 16]; /* a row of a busy interval: a few kB of base64 */
    int64_t interval = interval_ns > 0 ? interval_ns : 1000000000;
    int rc = 0, n = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        n++;
        if (line[0] == '#' || line[0] == '"')
            continue;
        char name[128] = "latency"; /* latency rows carry no tag */
        if (strncmp (line, "Tag=", 4) == 0) {
            size_t len = strcspn (line + 4, ",");
            snprintf (name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
                      line + 4);
        }
        if (!keep (name, arg))
            continue; /* not decoded at all */
        fb_hlog_row_t row;
        fb_hist_compact_t *hist = NULL;
        int got = fb_hlog_parse_line_compact (line, &row, &hist, err);
        if (got < 0) {
            fb_err_prefix (err, "%s:%d", path, n);
            rc = -1;
        }
        if (got == 1) {
            /* the slot as the coordinator gave the report (run.c): its start over the
             * nominal interval, rounded */
            int64_t since = llround (row.start_s * 1e9);
            int slot = since < 0 ? 0 : (int)((since + interval / 2) / interval);
            rc = fb_samples_add_compact (self, slot, name, hist, err);
        }
        fb_hist_compact_destroy (&hist);
    }
    fclose (f);
    return rc;
}

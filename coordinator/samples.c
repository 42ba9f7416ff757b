/* samples.c: measured intervals kept compactly (occupied buckets only) for the bootstrap. */
#include "coordinator/samples.h"

#include "common/b64.h"
#include "common/stats.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t *value, *value_lowest, *count;
    int n;
    int64_t total;
    double sum;
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
    free (p->value);
    free (p->value_lowest);
    free (p->count);
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

/* The interval of slot in the current run, inserted in time order when new. */
static s_interval_t *s_slot (fb_samples_t *self, int slot, fb_err_t *err) {
    if (slot < 0) {
        fb_err_set (err, FB_EINPUT, "interval %d is before the measured window", slot);
        return NULL;
    }
    if (self->n_runs == 0 && fb_samples_begin_run (self, err) != 0)
        return NULL;
    s_run_t *run = &self->runs[self->n_runs - 1];
    int at = run->n;
    while (at > 0 && run->iv[at - 1].slot >= slot)
        at--;
    if (at < run->n && run->iv[at].slot == slot)
        return &run->iv[at];
    if (run->n == run->cap) {
        int cap = run->cap ? run->cap * 2 : 16;
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

static int s_metric (fb_samples_t *self, const char *name, fb_err_t *err) {
    int m = fb_samples_metric_index (self, name);
    if (m >= 0)
        return m;
    if (self->n_metrics == FB_MAX_METRICS)
        return fb_err_set (err, FB_EINPUT, "more than %d metrics in one workload", FB_MAX_METRICS);
    snprintf (self->names[self->n_metrics], sizeof self->names[0], "%s", name);
    return self->n_metrics++;
}

/* into = into + (value, lowest, count) lists of from, both ascending by value. */
static int s_pairs_merge (s_pairs_t *into, const fb_hist_t *from, fb_err_t *err) {
    int cap = into->n;
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, from);
    while (fb_hist_iter_next (&it))
        cap++;
    s_pairs_t out = {.value = malloc ((size_t)(cap + 1) * sizeof (int64_t)),
                     .value_lowest = malloc ((size_t)(cap + 1) * sizeof (int64_t)),
                     .count = malloc ((size_t)(cap + 1) * sizeof (int64_t))};
    if (!out.value || !out.value_lowest || !out.count) {
        s_pairs_free (&out);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    int i = 0;
    fb_hist_iter_init (&it, from);
    bool more = fb_hist_iter_next (&it);
    while (i < into->n || more) {
        bool take_old = !more || (i < into->n && into->value[i] <= it.value);
        int64_t v = take_old ? into->value[i] : it.value;
        int64_t lo = take_old ? into->value_lowest[i] : it.value_lowest;
        int64_t c = take_old ? into->count[i++] : it.count;
        if (!take_old)
            more = fb_hist_iter_next (&it);
        if (out.n > 0 && out.value[out.n - 1] == v)
            out.count[out.n - 1] += c;
        else {
            out.value[out.n] = v;
            out.value_lowest[out.n] = lo;
            out.count[out.n++] = c;
        }
        out.total += c;
        out.sum += (double)(lo + ((v - lo + 1) >> 1)) * (double)c; /* median equivalent */
    }
    s_pairs_free (into);
    *into = out;
    return 0;
}

int fb_samples_add_hist (fb_samples_t *self, int slot, const char *metric, const fb_hist_t *hist,
                         fb_err_t *err) {
    int m = s_metric (self, metric, err);
    s_interval_t *iv = m >= 0 ? s_slot (self, slot, err) : NULL;
    return iv ? s_pairs_merge (&iv->metric[m], hist, err) : -1;
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
    *out = (fb_samples_hist_t){p->value, p->value_lowest, p->count, p->n, p->total, p->sum};
}

void fb_samples_counts (const fb_samples_t *self, int run, int i, fb_samples_counts_t *out) {
    *out = self->runs[run].iv[i].counts;
}

int fb_samples_slot (const fb_samples_t *self, int run, int i) {
    return self->runs[run].iv[i].slot;
}

/* One metric of one interval as base64 HdrHistogram V2 (re-recorded in hist's layout). */
static json_t *s_hist_json (const s_pairs_t *p, fb_hist_t *hist) {
    fb_hist_reset (hist);
    for (int k = 0; k < p->n; k++)
        fb_hist_record_n (hist, p->value[k], p->count[k]);
    uint8_t *bytes = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    if (fb_hist_encode (hist, &bytes, &len, &err) != 0)
        return NULL;
    char *b64 = fb_b64_encode (bytes, len);
    free (bytes);
    json_t *j = b64 ? json_string (b64) : NULL;
    free (b64);
    return j;
}

json_t *fb_samples_json_encode (const fb_samples_t *self) {
    fb_hist_t *hist = fb_hist_new_default (NULL);
    json_t *runs = json_array ();
    bool ok = hist && runs;
    for (int r = 0; ok && r < self->n_runs; r++) {
        json_t *ivs = json_array ();
        ok = ivs && json_array_append_new (runs, json_pack ("{s:o}", "intervals", ivs)) == 0;
        for (int i = 0; ok && i < self->runs[r].n; i++) {
            const s_interval_t *iv = &self->runs[r].iv[i];
            json_t *metrics = json_object ();
            for (int m = 0; ok && metrics && m < self->n_metrics; m++) {
                json_t *h = iv->metric[m].n > 0 ? s_hist_json (&iv->metric[m], hist) : NULL;
                ok = iv->metric[m].n == 0 ||
                     (h && json_object_set_new (metrics, self->names[m], h) == 0);
            }
            ok = ok && metrics &&
                 json_array_append_new (ivs, json_pack ("{s:i,s:I,s:I,s:I,s:o}", "slot", iv->slot,
                                                        "ops", (json_int_t)iv->counts.ops, "errors",
                                                        (json_int_t)iv->counts.errors, "length_ns",
                                                        (json_int_t)iv->counts.length_ns, "metrics",
                                                        metrics)) == 0;
        }
    }
    fb_hist_destroy (&hist);
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
    const char *name;
    json_t *h;
    json_object_foreach (metrics, name, h) {
        const char *b64 = json_string_value (h);
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!b64 || fb_b64_decode (b64, strlen (b64), &bytes, &len, err) != 0)
            return fb_err_set (err, FB_EINPUT, "run %d interval %d: metric %s is not base64", r + 1,
                               i + 1, name);
        fb_hist_t *hist = fb_hist_decode (bytes, len, err);
        free (bytes);
        if (!hist) {
            fb_err_prefix (err, "run %d interval %d metric %s", r + 1, i + 1, name);
            return -1;
        }
        int rc = fb_samples_add_hist (self, (int)slot, name, hist, err);
        fb_hist_destroy (&hist);
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

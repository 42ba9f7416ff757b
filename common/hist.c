/* hist.c: HDR histogram (log-linear buckets): record, merge and percentiles. The layout is in
 * hist_layout.c, and the V2 encoding that HdrHistogram's libraries and tools read in hist_v2.c,
 * which the compact form (hist_compact.c) shares. */
#include "common/hist.h"

#include "common/hist_v2.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fb_hist {
    fb_hist_layout_t l;
    int64_t total_count; /* samples in counts (0 while filled by fb_hist_record_atomic) */
    int64_t min_value;   /* smallest value recorded, INT64_MAX when empty */
    int64_t max_value;   /* largest value recorded, 0 when empty */
    int64_t counts[];
};

/* The layout's arithmetic (hist_layout.h), under the short names this file reads with. */
#define s_index_of fb_hist_layout_index_raw
#define s_value_at_index fb_hist_layout_lowest_at

static int64_t s_median_equivalent (const fb_hist_t *self, int64_t v) {
    return fb_hist_layout_median_at (&self->l, s_index_of (&self->l, v < 0 ? 0 : v));
}

static bool s_clamp (const fb_hist_t *self, int64_t *value) {
    if (*value < self->l.lowest) {
        *value = self->l.lowest;
        return false;
    }
    if (*value > self->l.highest) {
        *value = self->l.highest;
        return false;
    }
    return true;
}

/* Sets total, min and max from the counts (after decode and drain). */
static void s_recompute (fb_hist_t *self) {
    int32_t first = -1, last = -1;
    int64_t total = 0;
    for (int32_t i = 0; i < self->l.counts_len; i++) {
        if (self->counts[i] == 0)
            continue;
        total += self->counts[i];
        if (first < 0)
            first = i;
        last = i;
    }
    self->total_count = total;
    self->min_value = first < 0 ? INT64_MAX : s_value_at_index (&self->l, first);
    self->max_value =
        last < 0 ? 0 : fb_hist_highest_equivalent (self, s_value_at_index (&self->l, last));
}

static bool s_same_layout (const fb_hist_t *a, const fb_hist_t *b) {
    return fb_hist_layout_same (&a->l, &b->l);
}

const fb_hist_layout_t *fb_hist_layout (const fb_hist_t *self) { return &self->l; }

fb_hist_t *fb_hist_new (int64_t lowest, int64_t highest, int sigfigs, fb_err_t *err) {
    fb_hist_layout_t layout;
    if (fb_hist_layout_init (&layout, lowest, highest, sigfigs, err) != 0)
        return NULL;
    fb_hist_t *self = calloc (1, sizeof *self + (size_t)layout.counts_len * sizeof (int64_t));
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a histogram of %d buckets",
                    layout.counts_len);
        return NULL;
    }
    self->l = layout;
    self->total_count = 0;
    self->min_value = INT64_MAX;
    self->max_value = 0;
    return self;
}

fb_hist_t *fb_hist_new_default (fb_err_t *err) {
    return fb_hist_new (FB_HIST_LOWEST, FB_HIST_HIGHEST, FB_HIST_SIGFIGS, err);
}

void fb_hist_destroy (fb_hist_t **self_p) {
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool fb_hist_record (fb_hist_t *self, int64_t value) { return fb_hist_record_n (self, value, 1); }

/* A count below 1 records nothing. */
bool fb_hist_record_n (fb_hist_t *self, int64_t value, int64_t count) {
    bool in_range = s_clamp (self, &value);
    if (count < 1)
        return in_range;
    self->counts[s_index_of (&self->l, value)] += count;
    self->total_count += count;
    if (value < self->min_value)
        self->min_value = value;
    if (value > self->max_value)
        self->max_value = value;
    return in_range;
}

bool fb_hist_record_corrected (fb_hist_t *self, int64_t value, int64_t expected_interval) {
    bool in_range = fb_hist_record (self, value);
    if (expected_interval <= 0)
        return in_range;
    for (int64_t missing = value - expected_interval; missing >= expected_interval;
         missing -= expected_interval)
        in_range = fb_hist_record (self, missing) && in_range;
    return in_range;
}

bool fb_hist_record_atomic (fb_hist_t *self, int64_t value) {
    bool in_range = s_clamp (self, &value);
    __atomic_fetch_add (&self->counts[s_index_of (&self->l, value)], 1, __ATOMIC_RELAXED);
    return in_range;
}

int fb_hist_drain (fb_hist_t *into, fb_hist_t *from, fb_err_t *err) {
    if (!into || !from || into == from)
        return fb_err_set (err, FB_ESTATE, "histogram drain needs two different histograms");
    if (!s_same_layout (into, from) || into->l.counts_len != from->l.counts_len)
        return fb_err_set (err, FB_ESTATE, "histogram drain needs the same layout on both sides");
    for (int32_t i = 0; i < from->l.counts_len; i++) {
        /* A plain load first: most buckets are empty and an exchange would dirty their lines. */
        if (__atomic_load_n (&from->counts[i], __ATOMIC_RELAXED) == 0)
            continue;
        into->counts[i] += __atomic_exchange_n (&from->counts[i], 0, __ATOMIC_RELAXED);
    }
    from->total_count = 0;
    from->min_value = INT64_MAX;
    from->max_value = 0;
    s_recompute (into);
    return 0;
}

int fb_hist_merge (fb_hist_t *into, const fb_hist_t *from, fb_err_t *err) {
    if (!into || !from)
        return fb_err_set (err, FB_ESTATE, "histogram merge needs two histograms");
    int64_t sum;
    if (__builtin_add_overflow (into->total_count, from->total_count, &sum))
        return fb_err_set (err, FB_EINPUT, "histogram merge would overflow the sample count");
    if (from->total_count == 0)
        return 0;
    if (!s_same_layout (into, from)) {
        fb_hist_iter_t it;
        fb_hist_iter_init (&it, from);
        while (fb_hist_iter_next (&it))
            fb_hist_record_n (into, s_median_equivalent (from, it.value_lowest), it.count);
        return 0;
    }
    /* Only the buckets between from's min and max can hold counts: a one-second interval
     * spans a few hundred of the ~23 000 buckets of the 1 ns .. 1 h range. */
    int64_t from_min = from->min_value, from_max = from->max_value;
    int32_t first, last;
    fb_hist_used_range (from, &first, &last);
    for (int32_t i = first; i <= last; i++) {
        int64_t count = from->counts[i];
        if (count == 0)
            continue;
        if (i < into->l.counts_len) {
            into->counts[i] += count;
            into->total_count += count;
        } else { /* beyond into's highest: counts as highest, as record does */
            fb_hist_record_n (into, into->l.highest, count);
        }
    }
    if (from_min < into->min_value)
        into->min_value = from_min;
    if (from_max > into->l.highest)
        from_max = into->l.highest;
    if (from_max > into->max_value)
        into->max_value = from_max;
    return 0;
}

void fb_hist_reset (fb_hist_t *self) {
    memset (self->counts, 0, (size_t)self->l.counts_len * sizeof (int64_t));
    self->total_count = 0;
    self->min_value = INT64_MAX;
    self->max_value = 0;
}

fb_hist_t *fb_hist_copy (const fb_hist_t *self, fb_err_t *err) {
    size_t size = sizeof *self + (size_t)self->l.counts_len * sizeof (int64_t);
    fb_hist_t *copy = malloc (size);
    if (!copy) {
        fb_err_set (err, FB_ENOMEM, "out of memory copying a histogram");
        return NULL;
    }
    memcpy (copy, self, size);
    return copy;
}

int64_t fb_hist_count (const fb_hist_t *self) { return self->total_count; }

int64_t fb_hist_min (const fb_hist_t *self) {
    if (self->total_count == 0)
        return 0;
    return fb_hist_lowest_equivalent (self, self->min_value);
}

int64_t fb_hist_max (const fb_hist_t *self) {
    if (self->total_count == 0)
        return 0;
    return fb_hist_highest_equivalent (self, self->max_value);
}

/* Mean and deviation weigh each bucket's median equivalent value by its count, as HdrHistogram. */
double fb_hist_mean (const fb_hist_t *self) {
    if (self->total_count == 0)
        return 0.0;
    double sum = 0.0;
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, self);
    while (fb_hist_iter_next (&it))
        sum += (double)s_median_equivalent (self, it.value_lowest) * (double)it.count;
    return sum / (double)self->total_count;
}

double fb_hist_stddev (const fb_hist_t *self) {
    if (self->total_count == 0)
        return 0.0;
    double mean = fb_hist_mean (self);
    double square_sum = 0.0;
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, self);
    while (fb_hist_iter_next (&it)) {
        double deviation = (double)s_median_equivalent (self, it.value_lowest) - mean;
        square_sum += deviation * deviation * (double)it.count;
    }
    return sqrt (square_sum / (double)self->total_count);
}

/* Percentile 0 gives the lowest equivalent value of the first bucket, any other the highest
 * equivalent value of the bucket that reaches fb_hist_layout_rank_at_percentile. */
int64_t fb_hist_value_at_percentile (const fb_hist_t *self, double percentile) {
    if (self->total_count == 0)
        return 0;
    int64_t count_at = fb_hist_layout_rank_at_percentile (percentile, self->total_count);
    int64_t cumulative = 0;
    for (int32_t i = 0; i < self->l.counts_len; i++) {
        cumulative += self->counts[i];
        if (cumulative >= count_at) {
            int64_t value = s_value_at_index (&self->l, i);
            return percentile > 0.0 ? fb_hist_highest_equivalent (self, value) : value;
        }
    }
    return fb_hist_max (self);
}

int64_t fb_hist_lowest (const fb_hist_t *self) { return self->l.lowest; }

int64_t fb_hist_highest (const fb_hist_t *self) { return self->l.highest; }

int fb_hist_sigfigs (const fb_hist_t *self) { return self->l.sigfigs; }

int64_t fb_hist_lowest_equivalent (const fb_hist_t *self, int64_t value) {
    return fb_hist_layout_lowest_equivalent (&self->l, value);
}

int64_t fb_hist_highest_equivalent (const fb_hist_t *self, int64_t value) {
    return fb_hist_layout_highest_equivalent (&self->l, value);
}

void fb_hist_iter_init (fb_hist_iter_t *iter, const fb_hist_t *hist) {
    memset (iter, 0, sizeof *iter);
    iter->hist = hist;
    iter->index = -1;
}

bool fb_hist_iter_next (fb_hist_iter_t *iter) {
    const fb_hist_t *h = iter->hist;
    for (int32_t i = iter->index + 1; i < h->l.counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        iter->index = i;
        iter->count = h->counts[i];
        iter->value_lowest = s_value_at_index (&h->l, i);
        iter->value = fb_hist_highest_equivalent (h, iter->value_lowest);
        iter->cumulative += iter->count;
        return true;
    }
    iter->index = h->l.counts_len;
    iter->count = 0;
    return false;
}

int64_t fb_hist_count_at_index (const fb_hist_t *self, int32_t index) {
    return index >= 0 && index < self->l.counts_len ? self->counts[index] : 0;
}

void fb_hist_used_range (const fb_hist_t *self, int32_t *first, int32_t *last) {
    if (self->total_count == 0) {
        *first = 0;
        *last = -1;
        return;
    }
    *first = s_index_of (&self->l, self->min_value > 0 ? self->min_value : 0);
    *last = s_index_of (&self->l, self->max_value);
    if (*first < 0)
        *first = 0;
    if (*last < 0 || *last >= self->l.counts_len) /* decoded counts can sit above highest */
        *last = self->l.counts_len - 1;
}

void fb_hist_add_at_index (fb_hist_t *self, int32_t index, int64_t count) {
    if (count < 1 || index < 0)
        return;
    if (index >= self->l.counts_len) {
        fb_hist_record_n (self, self->l.highest, count);
        return;
    }
    self->counts[index] += count;
    self->total_count += count;
    int64_t lowest = s_value_at_index (&self->l, index);
    if (lowest < self->min_value)
        self->min_value = lowest;
    if (lowest > self->max_value)
        self->max_value = lowest;
}

/* ---- V2 encoding (hist_v2.c) ------------------------------------------------------------------
 */

int fb_hist_encode (const fb_hist_t *self, uint8_t **buf, size_t *len, fb_err_t *err) {
    int32_t first, last, n = 0;
    fb_hist_used_range (self, &first, &last);
    for (int32_t i = first; i <= last; i++)
        n += self->counts[i] != 0;
    int32_t *index = malloc ((size_t)(n > 0 ? n : 1) * sizeof *index);
    int64_t *count = malloc ((size_t)(n > 0 ? n : 1) * sizeof *count);
    int rc = -1;
    if (index && count) {
        for (int32_t i = first, k = 0; i <= last; i++)
            if (self->counts[i] != 0) {
                index[k] = i;
                count[k++] = self->counts[i];
            }
        rc = fb_hist_v2_encode (&self->l, index, count, n, FB_HIST_ZLIB_LEVEL, buf, len, err);
    } else
        fb_err_set (err, FB_ENOMEM, "out of memory encoding a histogram");
    free (index);
    free (count);
    return rc;
}

fb_hist_t *fb_hist_decode (const uint8_t *buf, size_t len, fb_err_t *err) {
    fb_hist_v2_buckets_t b;
    if (fb_hist_v2_decode (buf, len, &b, err) != 0)
        return NULL;
    fb_hist_t *self = fb_hist_new (b.layout.lowest, b.layout.highest, b.layout.sigfigs, err);
    for (int32_t k = 0; self && k < b.n; k++)
        fb_hist_add_at_index (self, b.index[k], b.count[k]);
    fb_hist_v2_buckets_free (&b);
    return self;
}

/* hist_compact.c: histograms as their used buckets (sorted index / count pairs) and the
 * HdrHistogram V2 codec, walking used buckets only. */
#include "common/hist_compact.h"

#include "common/hist_v2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct fb_hist_compact {
    fb_hist_layout_t l;
    int32_t n, cap; /* used buckets, room */
    int32_t *index; /* ascending, each < l.counts_len */
    int64_t *count; /* each > 0 */
    int64_t total;  /* samples */
    /* Packed (fb_hist_compact_pack): the arrays freed, the n pairs (index minus the previous
     * index, count) in packed, most in one byte (s_put_pair); first and last index kept for
     * min and max. Reading walks the bytes; a change unpacks first. */
    uint8_t *packed;
    uint32_t packed_len;
    int32_t first, last;
};

/* ---- packed form ----------------------------------------------------------------------------- */

static size_t s_put_varint (uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Our own bytes, made by s_put_varint: no bounds to check beyond the walk's own count. */
static uint64_t s_get_varint (const uint8_t *in, size_t *pos) {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = in[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

/* One pair: a gap of 1..16 buckets with a count of 1..8 (most of an interval's, and of a few
 * intervals merged) is one byte below 0x80, (gap - 1) << 3 | (count - 1); any other is 0x80 and
 * both as varints. */
static size_t s_put_pair (uint8_t *out, uint64_t gap, uint64_t count) {
    if (gap >= 1 && gap <= 16 && count >= 1 && count <= 8) {
        out[0] = (uint8_t)((gap - 1) << 3 | (count - 1));
        return 1;
    }
    out[0] = 0x80;
    size_t n = 1 + s_put_varint (out + 1, gap);
    return n + s_put_varint (out + n, count);
}

static void s_get_pair (const uint8_t *in, size_t *pos, int32_t *gap, int64_t *count) {
    uint8_t b = in[(*pos)++];
    if (b < 0x80) {
        *gap = (b >> 3) + 1;
        *count = (b & 7) + 1;
        return;
    }
    *gap = (int32_t)s_get_varint (in, pos);
    *count = (int64_t)s_get_varint (in, pos);
}

void fb_hist_compact_iter_init (const fb_hist_compact_t *self, fb_hist_compact_iter_t *it) {
    *it = (fb_hist_compact_iter_t){.self = self};
}

bool fb_hist_compact_iter_next (fb_hist_compact_iter_t *it, fb_hist_compact_bucket_t *out) {
    const fb_hist_compact_t *self = it->self;
    if (it->i >= self->n)
        return false;
    if (self->packed) {
        int32_t gap;
        s_get_pair (self->packed, &it->pos, &gap, &out->count);
        it->index += gap;
        out->index = it->index;
    } else {
        out->index = self->index[it->i];
        out->count = self->count[it->i];
    }
    it->i++;
    out->value_lowest = fb_hist_layout_lowest_at (&self->l, out->index);
    out->value = fb_hist_layout_highest_at (&self->l, out->index);
    return true;
}

/* Frees the unpacked pairs (their content is packed, or there is none). */
static void s_free_pairs (fb_hist_compact_t *self) {
    free (self->index);
    free (self->count);
    self->index = NULL;
    self->count = NULL;
    self->cap = 0;
}

int fb_hist_compact_pack (fb_hist_compact_t *self, fb_err_t *err) {
    if (self->packed || self->n == 0) {
        if (!self->packed) /* empty: nothing to keep */
            s_free_pairs (self);
        return 0;
    }
    uint8_t *bytes = malloc ((size_t)self->n * 16); /* a mark, a 5-byte gap, a 10-byte count */
    if (!bytes)
        return fb_err_set (err, FB_ENOMEM, "out of memory packing a histogram");
    size_t len = 0;
    int32_t previous = 0;
    for (int32_t k = 0; k < self->n; k++) {
        len += s_put_pair (bytes + len, (uint64_t)(self->index[k] - previous),
                           (uint64_t)self->count[k]);
        previous = self->index[k];
    }
    uint8_t *fit = realloc (bytes, len);
    self->packed = fit ? fit : bytes;
    self->packed_len = (uint32_t)len;
    self->first = self->index[0];
    self->last = self->index[self->n - 1];
    s_free_pairs (self);
    return 0;
}

bool fb_hist_compact_is_packed (const fb_hist_compact_t *self) { return self->packed != NULL; }

size_t fb_hist_compact_bytes (const fb_hist_compact_t *self) {
    return sizeof *self + self->packed_len +
           (size_t)self->cap * (sizeof *self->index + sizeof *self->count);
}

/* Arrays of the pairs: self's own, or (packed) made for the caller, who frees *own_index and
 * *own_count. */
static int s_arrays (const fb_hist_compact_t *self, const int32_t **index, const int64_t **count,
                     int32_t **own_index, int64_t **own_count, fb_err_t *err) {
    *own_index = NULL;
    *own_count = NULL;
    if (!self->packed) {
        *index = self->index;
        *count = self->count;
        return 0;
    }
    *own_index = malloc ((size_t)self->n * sizeof **own_index);
    *own_count = malloc ((size_t)self->n * sizeof **own_count);
    if (!*own_index || !*own_count) {
        free (*own_index);
        free (*own_count);
        *own_index = NULL;
        *own_count = NULL;
        return fb_err_set (err, FB_ENOMEM, "out of memory unpacking a histogram");
    }
    size_t pos = 0;
    int32_t at = 0;
    for (int32_t k = 0; k < self->n; k++) {
        int32_t gap;
        s_get_pair (self->packed, &pos, &gap, &(*own_count)[k]);
        at += gap;
        (*own_index)[k] = at;
    }
    *index = *own_index;
    *count = *own_count;
    return 0;
}

/* Back to arrays before a change. */
static int s_unpack (fb_hist_compact_t *self, fb_err_t *err) {
    if (!self->packed)
        return 0;
    const int32_t *index;
    const int64_t *count;
    int32_t *own_index;
    int64_t *own_count;
    if (s_arrays (self, &index, &count, &own_index, &own_count, err) != 0)
        return -1;
    free (self->packed);
    self->packed = NULL;
    self->packed_len = 0;
    self->index = own_index;
    self->count = own_count;
    self->cap = self->n;
    return 0;
}

static fb_hist_compact_t *s_new (const fb_hist_layout_t *layout, int32_t cap, fb_err_t *err) {
    fb_hist_compact_t *self = calloc (1, sizeof *self);
    if (self && cap > 0) {
        self->index = malloc ((size_t)cap * sizeof *self->index);
        self->count = malloc ((size_t)cap * sizeof *self->count);
        self->cap = cap;
    }
    if (!self || (cap > 0 && (!self->index || !self->count))) {
        fb_hist_compact_destroy (&self);
        fb_err_set (err, FB_ENOMEM, "out of memory for a histogram of %d buckets", cap);
        return NULL;
    }
    self->l = *layout;
    return self;
}

static int s_reserve (fb_hist_compact_t *self, int32_t cap, fb_err_t *err) {
    if (cap <= self->cap)
        return 0;
    int32_t grown = self->cap * 2 > cap ? self->cap * 2 : cap;
    int32_t *index = realloc (self->index, (size_t)grown * sizeof *index);
    if (index)
        self->index = index;
    int64_t *count = index ? realloc (self->count, (size_t)grown * sizeof *count) : NULL;
    if (!count)
        return fb_err_set (err, FB_ENOMEM, "out of memory for a histogram of %d buckets", grown);
    self->count = count;
    self->cap = grown;
    return 0;
}

fb_hist_compact_t *fb_hist_compact_new (int64_t lowest, int64_t highest, int sigfigs,
                                        fb_err_t *err) {
    fb_hist_layout_t layout;
    if (fb_hist_layout_init (&layout, lowest, highest, sigfigs, err) != 0)
        return NULL;
    return s_new (&layout, 0, err);
}

fb_hist_compact_t *fb_hist_compact_new_default (fb_err_t *err) {
    return fb_hist_compact_new (FB_HIST_LOWEST, FB_HIST_HIGHEST, FB_HIST_SIGFIGS, err);
}

fb_hist_compact_t *fb_hist_compact_from_hist (const fb_hist_t *hist, fb_err_t *err) {
    fb_hist_compact_t *self = s_new (fb_hist_layout (hist), 0, err);
    if (self && fb_hist_compact_merge_hist (self, hist, err) != 0)
        fb_hist_compact_destroy (&self);
    return self;
}

void fb_hist_compact_destroy (fb_hist_compact_t **self_p) {
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->index);
    free ((*self_p)->count);
    free ((*self_p)->packed);
    free (*self_p);
    *self_p = NULL;
}

/* ---- merge ----------------------------------------------------------------------------------- */

/* into += the n pairs (index strictly ascending, each count > 0, in into's index space), in
 * place: count the union, make room, then merge from the back. */
static int s_merge_pairs (fb_hist_compact_t *into, const int32_t *index, const int64_t *count,
                          int32_t n, int64_t total, fb_err_t *err) {
    int64_t sum;
    if (s_unpack (into, err) != 0)
        return -1;
    if (__builtin_add_overflow (into->total, total, &sum))
        return fb_err_set (err, FB_EINPUT, "histogram merge would overflow the sample count");
    int32_t i = 0, j = 0, united = 0;
    while (i < into->n || j < n) {
        if (j == n || (i < into->n && into->index[i] < index[j]))
            i++;
        else if (i == into->n || index[j] < into->index[i])
            j++;
        else
            i++, j++;
        united++;
    }
    if (s_reserve (into, united, err) != 0)
        return -1;
    i = into->n - 1;
    j = n - 1;
    for (int32_t k = united - 1; j >= 0; k--) {
        if (i >= 0 && into->index[i] > index[j]) {
            into->index[k] = into->index[i];
            into->count[k] = into->count[i--];
        } else if (i >= 0 && into->index[i] == index[j]) {
            into->index[k] = index[j];
            into->count[k] = into->count[i--] + count[j--];
        } else {
            into->index[k] = index[j];
            into->count[k] = count[j--];
        }
    }
    into->n = united;
    into->total = sum;
    return 0;
}

/* Maps pairs of layout from into into's index space: the same index when the boundaries are
 * the same (clamped to into's last bucket, as record clamps to highest), else the bucket of
 * each median. Equal neighbours are added up, so the result is strictly ascending. */
static int s_merge_mapped (fb_hist_compact_t *into, const fb_hist_layout_t *from,
                           const int32_t *index, const int64_t *count, int32_t n, int64_t total,
                           fb_err_t *err) {
    bool same = fb_hist_layout_same (&into->l, from);
    int32_t top = fb_hist_layout_index_of (&into->l, into->l.highest);
    if (same && (n == 0 || index[n - 1] <= top))
        return s_merge_pairs (into, index, count, n, total, err);
    int32_t *mapped = malloc ((size_t)(n > 0 ? n : 1) * sizeof *mapped);
    int64_t *added = malloc ((size_t)(n > 0 ? n : 1) * sizeof *added);
    int32_t m = 0;
    for (int32_t k = 0; mapped && added && k < n; k++) {
        int32_t at =
            same && index[k] <= top
                ? index[k]
                : fb_hist_layout_index_of (&into->l, fb_hist_layout_median_at (from, index[k]));
        if (m > 0 && mapped[m - 1] == at)
            added[m - 1] += count[k];
        else {
            mapped[m] = at;
            added[m++] = count[k];
        }
    }
    int rc = mapped && added ? s_merge_pairs (into, mapped, added, m, total, err)
                             : fb_err_set (err, FB_ENOMEM, "out of memory merging a histogram");
    free (mapped);
    free (added);
    return rc;
}

int fb_hist_compact_merge (fb_hist_compact_t *into, const fb_hist_compact_t *from, fb_err_t *err) {
    if (!into || !from || into == from)
        return fb_err_set (err, FB_ESTATE, "histogram merge needs two different histograms");
    const int32_t *index;
    const int64_t *count;
    int32_t *own_index;
    int64_t *own_count;
    if (s_arrays (from, &index, &count, &own_index, &own_count, err) != 0)
        return -1;
    int rc = s_merge_mapped (into, &from->l, index, count, from->n, from->total, err);
    free (own_index);
    free (own_count);
    return rc;
}

int fb_hist_compact_merge_hist (fb_hist_compact_t *into, const fb_hist_t *from, fb_err_t *err) {
    if (!into || !from)
        return fb_err_set (err, FB_ESTATE, "histogram merge needs two histograms");
    if (fb_hist_count (from) == 0)
        return 0;
    /* Only the buckets between from's min and max hold counts. */
    const fb_hist_layout_t *l = fb_hist_layout (from);
    int32_t first, last, n = 0;
    fb_hist_used_range (from, &first, &last);
    for (int32_t i = first; i <= last; i++)
        n += fb_hist_count_at_index (from, i) != 0;
    fb_hist_compact_t *pairs = s_new (l, n, err);
    if (!pairs)
        return -1;
    for (int32_t i = first; i <= last; i++) {
        int64_t count = fb_hist_count_at_index (from, i);
        if (count != 0) {
            pairs->index[pairs->n] = i;
            pairs->count[pairs->n++] = count;
            pairs->total += count;
        }
    }
    int rc = fb_hist_compact_merge (into, pairs, err);
    fb_hist_compact_destroy (&pairs);
    return rc;
}

int fb_hist_compact_merge_into_hist (fb_hist_t *into, const fb_hist_compact_t *from,
                                     fb_err_t *err) {
    if (!into || !from)
        return fb_err_set (err, FB_ESTATE, "histogram merge needs two histograms");
    int64_t sum;
    if (__builtin_add_overflow (fb_hist_count (into), from->total, &sum))
        return fb_err_set (err, FB_EINPUT, "histogram merge would overflow the sample count");
    bool same = fb_hist_layout_same (fb_hist_layout (into), &from->l);
    fb_hist_compact_iter_t it;
    fb_hist_compact_bucket_t b;
    fb_hist_compact_iter_init (from, &it);
    while (fb_hist_compact_iter_next (&it, &b))
        if (same)
            fb_hist_add_at_index (into, b.index, b.count);
        else
            fb_hist_record_n (into, fb_hist_layout_median_at (&from->l, b.index), b.count);
    return 0;
}

/* ---- queries --------------------------------------------------------------------------------- */

const fb_hist_layout_t *fb_hist_compact_layout (const fb_hist_compact_t *self) { return &self->l; }

int32_t fb_hist_compact_buckets (const fb_hist_compact_t *self) { return self->n; }

void fb_hist_compact_bucket (const fb_hist_compact_t *self, int32_t i,
                             fb_hist_compact_bucket_t *out) {
    if (self->packed) { /* a walk: fb_hist_compact_iter_next reads them all in one */
        fb_hist_compact_iter_t it;
        fb_hist_compact_iter_init (self, &it);
        for (int32_t k = 0; k <= i; k++)
            fb_hist_compact_iter_next (&it, out);
        return;
    }
    out->index = self->index[i];
    out->count = self->count[i];
    out->value_lowest = fb_hist_layout_lowest_at (&self->l, self->index[i]);
    out->value = fb_hist_layout_highest_at (&self->l, self->index[i]);
}

int64_t fb_hist_compact_count (const fb_hist_compact_t *self) { return self->total; }

int64_t fb_hist_compact_min (const fb_hist_compact_t *self) {
    if (!self->n)
        return 0;
    return fb_hist_layout_lowest_at (&self->l, self->packed ? self->first : self->index[0]);
}

int64_t fb_hist_compact_max (const fb_hist_compact_t *self) {
    if (!self->n)
        return 0;
    return fb_hist_layout_highest_at (&self->l,
                                      self->packed ? self->last : self->index[self->n - 1]);
}

double fb_hist_compact_sum (const fb_hist_compact_t *self) {
    double sum = 0.0;
    fb_hist_compact_iter_t it;
    fb_hist_compact_bucket_t b;
    fb_hist_compact_iter_init (self, &it);
    while (fb_hist_compact_iter_next (&it, &b))
        sum += (double)fb_hist_layout_median_at (&self->l, b.index) * (double)b.count;
    return sum;
}

double fb_hist_compact_mean (const fb_hist_compact_t *self) {
    return self->total ? fb_hist_compact_sum (self) / (double)self->total : 0.0;
}

double fb_hist_compact_stddev (const fb_hist_compact_t *self) {
    if (self->total == 0)
        return 0.0;
    double mean = fb_hist_compact_mean (self), square_sum = 0.0;
    fb_hist_compact_iter_t it;
    fb_hist_compact_bucket_t b;
    fb_hist_compact_iter_init (self, &it);
    while (fb_hist_compact_iter_next (&it, &b)) {
        double deviation = (double)fb_hist_layout_median_at (&self->l, b.index) - mean;
        square_sum += deviation * deviation * (double)b.count;
    }
    return sqrt (square_sum / (double)self->total);
}

/* As fb_hist_value_at_percentile: percentile 0 gives the lowest equivalent value of the first
 * bucket, any other the highest equivalent value of the bucket that reaches the rank. */
int64_t fb_hist_compact_value_at_percentile (const fb_hist_compact_t *self, double percentile) {
    if (self->total == 0)
        return 0;
    int64_t rank = fb_hist_layout_rank_at_percentile (percentile, self->total), cumulative = 0;
    fb_hist_compact_iter_t it;
    fb_hist_compact_bucket_t b;
    fb_hist_compact_iter_init (self, &it);
    while (fb_hist_compact_iter_next (&it, &b)) {
        cumulative += b.count;
        if (cumulative >= rank)
            return percentile > 0.0 ? b.value : b.value_lowest;
    }
    return fb_hist_compact_max (self);
}

/* ---- V2 ----------------------------------------------------------------------------------------
 */

int fb_hist_compact_encode_level (const fb_hist_compact_t *self, int level, uint8_t **buf,
                                  size_t *len, fb_err_t *err) {
    const int32_t *index;
    const int64_t *count;
    int32_t *own_index;
    int64_t *own_count;
    if (s_arrays (self, &index, &count, &own_index, &own_count, err) != 0)
        return -1;
    int rc = fb_hist_v2_encode (&self->l, index, count, self->n, level, buf, len, err);
    free (own_index);
    free (own_count);
    return rc;
}

int fb_hist_compact_encode (const fb_hist_compact_t *self, uint8_t **buf, size_t *len,
                            fb_err_t *err) {
    return fb_hist_compact_encode_level (self, FB_HIST_ZLIB_LEVEL, buf, len, err);
}

fb_hist_compact_t *fb_hist_compact_decode (const uint8_t *buf, size_t len, fb_err_t *err) {
    fb_hist_v2_buckets_t b;
    if (fb_hist_v2_decode (buf, len, &b, err) != 0)
        return NULL;
    fb_hist_compact_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_hist_v2_buckets_free (&b);
        fb_err_set (err, FB_ENOMEM, "out of memory decoding a histogram");
        return NULL;
    }
    self->l = b.layout;
    self->index = b.index; /* the decoder's arrays become ours */
    self->count = b.count;
    self->n = self->cap = b.n;
    self->total = b.total;
    return self;
}

/* hist.c: HDR histogram (log-linear buckets): record, merge, percentiles and HdrHistogram's V2
 * encoding, so that HdrHistogram's own libraries and tools read what we write. */
#include "common/hist.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The bucket layout, as HdrHistogram's:
 *   u = unit_magnitude = floor (log2 (lowest))
 *   S = sub_bucket_count = 2^ceil (log2 (2 * 10^sigfigs)) = 2^(h + 1), so S/2 = 2^h >= 10^sigfigs
 * Bucket 0 holds [0, S * 2^u) in S slots of width 2^u; bucket b >= 1 holds
 * [S * 2^(u+b-1), S * 2^(u+b)) in S/2 slots of width 2^(u+b). Every slot is at most 1/(S/2)
 * of its values wide, which keeps sigfigs decimal digits. For a value v:
 *   b     = floor (log2 (v | (S-1) * 2^u)) - (u + h)   = (63 - u - h) - clz (v | mask)
 *   sub   = v >> (u + b)                               in [0, S) for b = 0, [S/2, S) after
 *   index = b * S/2 + sub                              (bucket b starts at (b+1) * S/2)
 * and back: b = max (0, (index >> h) - 1), sub = index - b * S/2, lowest = sub << (u + b).
 * counts_len = (bucket_count + 1) * S/2, bucket_count being the buckets needed to reach highest. */
struct fb_hist {
    int64_t lowest;                /* lowest discernible value, >= 1 */
    int64_t highest;               /* highest trackable value, >= 2 * lowest */
    int sigfigs;                   /* significant decimal digits, 1..5 */
    int unit_magnitude;            /* u */
    int sub_bucket_half_magnitude; /* h */
    int64_t sub_bucket_count;      /* S */
    int64_t sub_bucket_half_count; /* S/2 */
    uint64_t sub_bucket_mask;      /* (S - 1) << u */
    int leading_zero_count_base;   /* 63 - u - h */
    int32_t bucket_count;
    int32_t counts_len;
    int64_t total_count; /* samples in counts (0 while filled by fb_hist_record_atomic) */
    int64_t min_value;   /* smallest value recorded, INT64_MAX when empty */
    int64_t max_value;   /* largest value recorded, 0 when empty */
    int64_t counts[];
};

/* V2 encoding cookies. The writers OR the word size 0x10 into them (the bytes read "HIST...");
 * readers compare the base with bits 0xf0 masked off, as HdrHistogram's do. */
#define FB_V2_COOKIE 0x1c849303u
#define FB_V2_COMPRESSED_COOKIE 0x1c849304u
#define FB_V2_WORD_SIZE_BITS 0x10u
#define FB_V2_HEADER_LEN 40 /* cookie, payload length, offset, sigfigs, lowest, highest, ratio */
#define FB_V2_MAX_WORD 9    /* ZigZag LEB128 of an int64, 9-byte variant */
/* zlib level 1: a quarter of the CPU of level 9 for ~3% more bytes (bench_hist); agents
 * encode every metric every interval, Raspberry Pis included. Any level decodes the same. */
#define S_ZLIB_LEVEL 1

static int s_layout (fb_hist_t *l, int64_t lowest, int64_t highest, int sigfigs, fb_err_t *err) {
    int64_t single_unit_range = 2;
    for (int i = 0; i < sigfigs; i++)
        single_unit_range *= 10;
    int count_magnitude = 0; /* ceil (log2 (2 * 10^sigfigs)) */
    while ((INT64_C (1) << count_magnitude) < single_unit_range)
        count_magnitude++;
    l->lowest = lowest;
    l->highest = highest;
    l->sigfigs = sigfigs;
    l->unit_magnitude = 63 - __builtin_clzll ((uint64_t)lowest);
    l->sub_bucket_half_magnitude = count_magnitude - 1;
    if (l->unit_magnitude + l->sub_bucket_half_magnitude > 61)
        return fb_err_set (err, FB_EINPUT,
                           "histogram lowest value %lld is too large for %d significant digits",
                           (long long)lowest, sigfigs);
    l->sub_bucket_count = INT64_C (1) << count_magnitude;
    l->sub_bucket_half_count = l->sub_bucket_count / 2;
    l->sub_bucket_mask = (uint64_t)(l->sub_bucket_count - 1) << l->unit_magnitude;
    l->leading_zero_count_base = 63 - l->unit_magnitude - l->sub_bucket_half_magnitude;

    int64_t smallest_untrackable = l->sub_bucket_count << l->unit_magnitude;
    int32_t buckets = 1;
    while (smallest_untrackable <= highest) {
        if (smallest_untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        smallest_untrackable <<= 1;
        buckets++;
    }
    l->bucket_count = buckets;
    l->counts_len = (int32_t)((buckets + 1) * l->sub_bucket_half_count);
    return 0;
}

/* Bucket b of a value v >= 0 (see the layout comment). */
static inline int s_bucket_of (const fb_hist_t *self, int64_t v) {
    return self->leading_zero_count_base - __builtin_clzll ((uint64_t)v | self->sub_bucket_mask);
}

/* Counts index of a value in [0, highest]. */
static inline int32_t s_index_of (const fb_hist_t *self, int64_t v) {
    int bucket = s_bucket_of (self, v);
    int64_t sub = v >> (bucket + self->unit_magnitude);
    return (int32_t)(((int64_t)bucket << self->sub_bucket_half_magnitude) + sub);
}

/* Lowest value of the bucket at index. */
static int64_t s_value_at_index (const fb_hist_t *self, int32_t index) {
    int64_t bucket = (index >> self->sub_bucket_half_magnitude) - 1;
    if (bucket < 0)
        bucket = 0;
    uint64_t sub = (uint64_t)index - (uint64_t)(bucket * self->sub_bucket_half_count);
    return (int64_t)(sub << (bucket + self->unit_magnitude));
}

/* Width of the bucket that holds v >= 0. */
static uint64_t s_width_of (const fb_hist_t *self, int64_t v) {
    return UINT64_C (1) << (s_bucket_of (self, v) + self->unit_magnitude);
}

static int64_t s_median_equivalent (const fb_hist_t *self, int64_t v) {
    return fb_hist_lowest_equivalent (self, v) + (int64_t)(s_width_of (self, v) / 2);
}

static bool s_clamp (const fb_hist_t *self, int64_t *value) {
    if (*value < self->lowest) {
        *value = self->lowest;
        return false;
    }
    if (*value > self->highest) {
        *value = self->highest;
        return false;
    }
    return true;
}

/* Sets total, min and max from the counts (after decode and drain). */
static void s_recompute (fb_hist_t *self) {
    int32_t first = -1, last = -1;
    int64_t total = 0;
    for (int32_t i = 0; i < self->counts_len; i++) {
        if (self->counts[i] == 0)
            continue;
        total += self->counts[i];
        if (first < 0)
            first = i;
        last = i;
    }
    self->total_count = total;
    self->min_value = first < 0 ? INT64_MAX : s_value_at_index (self, first);
    self->max_value =
        last < 0 ? 0 : fb_hist_highest_equivalent (self, s_value_at_index (self, last));
}

static bool s_same_layout (const fb_hist_t *a, const fb_hist_t *b) {
    return a->unit_magnitude == b->unit_magnitude &&
           a->sub_bucket_half_magnitude == b->sub_bucket_half_magnitude;
}

fb_hist_t *fb_hist_new (int64_t lowest, int64_t highest, int sigfigs, fb_err_t *err) {
    if (lowest < 1) {
        fb_err_set (err, FB_EINPUT, "histogram lowest value must be at least 1 (got %lld)",
                    (long long)lowest);
        return NULL;
    }
    if (sigfigs < 1 || sigfigs > 5) {
        fb_err_set (err, FB_EINPUT, "histogram significant digits must be 1 to 5 (got %d)",
                    sigfigs);
        return NULL;
    }
    if (highest / 2 < lowest) {
        fb_err_set (err, FB_EINPUT,
                    "histogram highest value %lld must be at least twice the lowest (%lld)",
                    (long long)highest, (long long)lowest);
        return NULL;
    }
    fb_hist_t layout = {.lowest = lowest};
    if (s_layout (&layout, lowest, highest, sigfigs, err) != 0)
        return NULL;
    fb_hist_t *self = calloc (1, sizeof *self + (size_t)layout.counts_len * sizeof (int64_t));
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a histogram of %d buckets",
                    layout.counts_len);
        return NULL;
    }
    *self = layout;
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
    self->counts[s_index_of (self, value)] += count;
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
    __atomic_fetch_add (&self->counts[s_index_of (self, value)], 1, __ATOMIC_RELAXED);
    return in_range;
}

int fb_hist_drain (fb_hist_t *into, fb_hist_t *from, fb_err_t *err) {
    if (!into || !from || into == from)
        return fb_err_set (err, FB_ESTATE, "histogram drain needs two different histograms");
    if (!s_same_layout (into, from) || into->counts_len != from->counts_len)
        return fb_err_set (err, FB_ESTATE, "histogram drain needs the same layout on both sides");
    for (int32_t i = 0; i < from->counts_len; i++) {
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
    int64_t from_min = from->min_value, from_max = from->max_value;
    /* Only the buckets between from's min and max can hold counts: a one-second interval
     * spans a few hundred of the ~23 000 buckets of the 1 ns .. 1 h range. */
    int32_t first = s_index_of (from, from_min > 0 ? from_min : 0);
    int32_t last = s_index_of (from, from_max);
    if (first < 0)
        first = 0;
    if (last < 0 || last >= from->counts_len) /* decoded counts can sit above highest */
        last = from->counts_len - 1;
    for (int32_t i = first; i <= last; i++) {
        int64_t count = from->counts[i];
        if (count == 0)
            continue;
        if (i < into->counts_len) {
            into->counts[i] += count;
            into->total_count += count;
        } else { /* beyond into's highest: counts as highest, as record does */
            fb_hist_record_n (into, into->highest, count);
        }
    }
    if (from_min < into->min_value)
        into->min_value = from_min;
    if (from_max > into->highest)
        from_max = into->highest;
    if (from_max > into->max_value)
        into->max_value = from_max;
    return 0;
}

void fb_hist_reset (fb_hist_t *self) {
    memset (self->counts, 0, (size_t)self->counts_len * sizeof (int64_t));
    self->total_count = 0;
    self->min_value = INT64_MAX;
    self->max_value = 0;
}

fb_hist_t *fb_hist_copy (const fb_hist_t *self, fb_err_t *err) {
    size_t size = sizeof *self + (size_t)self->counts_len * sizeof (int64_t);
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

/* The nearest rank, as HdrHistogram's Java getValueAtPercentile: the count to reach is
 * ceil (percentile / 100 * total), at least 1, taken one ulp below the percentile so that a
 * product that should be a whole number but comes out a hair above it is not rounded up a
 * rank. Percentile 0 gives the lowest equivalent value of the first bucket, any other the
 * highest equivalent value of the bucket that reaches the count. (HdrHistogram_c rounds to the
 * nearest rank instead, which reads one rank low: p99 of 1059 fast and 11 slow samples fast.) */
int64_t fb_hist_value_at_percentile (const fb_hist_t *self, double percentile) {
    if (self->total_count == 0)
        return 0;
    double p = percentile > 0.0 ? percentile : 0.0; /* NaN too */
    double below = nextafter (p, -INFINITY);
    below = below > 0.0 ? (below < 100.0 ? below : 100.0) : 0.0;
    double wanted = ceil (below / 100.0 * (double)self->total_count);
    int64_t count_at = wanted >= (double)self->total_count ? self->total_count : (int64_t)wanted;
    if (count_at < 1)
        count_at = 1;
    int64_t cumulative = 0;
    for (int32_t i = 0; i < self->counts_len; i++) {
        cumulative += self->counts[i];
        if (cumulative >= count_at) {
            int64_t value = s_value_at_index (self, i);
            return p == 0.0 ? value : fb_hist_highest_equivalent (self, value);
        }
    }
    return fb_hist_max (self);
}

int64_t fb_hist_lowest (const fb_hist_t *self) { return self->lowest; }

int64_t fb_hist_highest (const fb_hist_t *self) { return self->highest; }

int fb_hist_sigfigs (const fb_hist_t *self) { return self->sigfigs; }

int64_t fb_hist_lowest_equivalent (const fb_hist_t *self, int64_t value) {
    if (value < 0)
        value = 0;
    return (int64_t)((uint64_t)value & ~(s_width_of (self, value) - 1));
}

int64_t fb_hist_highest_equivalent (const fb_hist_t *self, int64_t value) {
    if (value < 0)
        value = 0;
    /* The top bucket ends at 2^63 at most, so this fits in int64. */
    uint64_t end = (uint64_t)fb_hist_lowest_equivalent (self, value) + s_width_of (self, value);
    return (int64_t)(end - 1);
}

void fb_hist_iter_init (fb_hist_iter_t *iter, const fb_hist_t *hist) {
    memset (iter, 0, sizeof *iter);
    iter->hist = hist;
    iter->index = -1;
}

bool fb_hist_iter_next (fb_hist_iter_t *iter) {
    const fb_hist_t *h = iter->hist;
    for (int32_t i = iter->index + 1; i < h->counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        iter->index = i;
        iter->count = h->counts[i];
        iter->value_lowest = s_value_at_index (h, i);
        iter->value = fb_hist_highest_equivalent (h, iter->value_lowest);
        iter->cumulative += iter->count;
        return true;
    }
    iter->index = h->counts_len;
    iter->count = 0;
    return false;
}

/* ---- V2 encoding ---------------------------------------------------------------------------- */

static void s_put_be32 (uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void s_put_be64 (uint8_t *p, uint64_t v) {
    s_put_be32 (p, (uint32_t)(v >> 32));
    s_put_be32 (p + 4, (uint32_t)v);
}

static uint32_t s_get_be32 (const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t s_get_be64 (const uint8_t *p) {
    return (uint64_t)s_get_be32 (p) << 32 | s_get_be32 (p + 4);
}

/* ZigZag, then LEB128 as HdrHistogram's ZigZagEncoding: 7 bits a byte for 8 bytes, and a
 * ninth byte that carries the last 8 bits whole. Returns the bytes written (1..9). */
static size_t s_put_zigzag (uint8_t *p, int64_t value) {
    uint64_t sign = value < 0 ? UINT64_MAX : 0;
    uint64_t v = ((uint64_t)value << 1) ^ sign;
    size_t n = 0;
    while (n < 8 && v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads one number at *pos; -1 when the bytes end inside it. */
static int s_get_zigzag (const uint8_t *p, size_t len, size_t *pos, int64_t *value) {
    uint64_t v = 0;
    for (int i = 0; i < FB_V2_MAX_WORD; i++) {
        if (*pos >= len)
            return -1;
        uint8_t byte = p[(*pos)++];
        if (i == FB_V2_MAX_WORD - 1) {
            v |= (uint64_t)byte << 56;
            break;
        }
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80))
            break;
    }
    *value = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

/* The uncompressed V2 bytes: header, then counts up to the last non-empty bucket, with a run
 * of two or more empty buckets written as minus its length. */
static uint8_t *s_encode_payload (const fb_hist_t *self, size_t *len) {
    int32_t limit = 1; /* an empty histogram still writes one zero count, as HdrHistogram */
    for (int32_t i = self->counts_len - 1; i >= 0; i--)
        if (self->counts[i] != 0) {
            limit = i + 1;
            break;
        }
    uint8_t *buf = malloc (FB_V2_HEADER_LEN + (size_t)limit * FB_V2_MAX_WORD);
    if (!buf)
        return NULL;
    size_t n = FB_V2_HEADER_LEN;
    for (int32_t i = 0; i < limit;) {
        int64_t count = self->counts[i++];
        int64_t zeros = 0;
        if (count == 0)
            for (zeros = 1; i < limit && self->counts[i] == 0; i++)
                zeros++;
        n += s_put_zigzag (buf + n, zeros > 1 ? -zeros : count);
    }
    double ratio = 1.0;
    uint64_t ratio_bits;
    memcpy (&ratio_bits, &ratio, sizeof ratio_bits);
    s_put_be32 (buf, FB_V2_COOKIE | FB_V2_WORD_SIZE_BITS);
    s_put_be32 (buf + 4, (uint32_t)(n - FB_V2_HEADER_LEN));
    s_put_be32 (buf + 8, 0); /* normalizing index offset */
    s_put_be32 (buf + 12, (uint32_t)self->sigfigs);
    s_put_be64 (buf + 16, (uint64_t)self->lowest);
    s_put_be64 (buf + 24, (uint64_t)self->highest);
    s_put_be64 (buf + 32, ratio_bits);
    *len = n;
    return buf;
}

int fb_hist_encode (const fb_hist_t *self, uint8_t **buf, size_t *len, fb_err_t *err) {
    size_t raw_len;
    uint8_t *raw = s_encode_payload (self, &raw_len);
    if (!raw)
        return fb_err_set (err, FB_ENOMEM, "out of memory encoding a histogram");
    uLongf zipped_len = compressBound ((uLong)raw_len);
    uint8_t *out = malloc (8 + zipped_len);
    if (!out) {
        free (raw);
        return fb_err_set (err, FB_ENOMEM, "out of memory encoding a histogram");
    }
    int rc = compress2 (out + 8, &zipped_len, raw, (uLong)raw_len, S_ZLIB_LEVEL);
    free (raw);
    if (rc != Z_OK || zipped_len > INT32_MAX) {
        free (out);
        return fb_err_set (err, FB_ESYS, "zlib could not compress a histogram (%s)", zError (rc));
    }
    s_put_be32 (out, FB_V2_COMPRESSED_COOKIE | FB_V2_WORD_SIZE_BITS);
    s_put_be32 (out + 4, (uint32_t)zipped_len);
    *buf = out;
    *len = 8 + zipped_len;
    return 0;
}

/* Checks the 40-byte V2 header and makes the histogram it describes. */
static fb_hist_t *s_decode_header (const uint8_t *h, size_t *payload_len, fb_err_t *err) {
    uint32_t cookie = s_get_be32 (h) & ~0xf0u;
    int32_t length = (int32_t)s_get_be32 (h + 4);
    int32_t offset = (int32_t)s_get_be32 (h + 8);
    int32_t sigfigs = (int32_t)s_get_be32 (h + 12);
    int64_t lowest = (int64_t)s_get_be64 (h + 16);
    int64_t highest = (int64_t)s_get_be64 (h + 24);
    if (cookie != FB_V2_COOKIE) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram V2 payload has cookie 0x%08x, not 0x%08x",
                    s_get_be32 (h), FB_V2_COOKIE | FB_V2_WORD_SIZE_BITS);
        return NULL;
    }
    if (offset != 0) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram normalizing index offset %d is not supported",
                    offset);
        return NULL;
    }
    fb_hist_t *self = fb_hist_new (lowest, highest, sigfigs, err);
    if (!self) {
        fb_err_prefix (err, "HdrHistogram V2 header");
        return NULL;
    }
    if (length < 0 || (int64_t)length > (int64_t)self->counts_len * FB_V2_MAX_WORD) {
        fb_err_set (err, FB_EINPUT,
                    "HdrHistogram payload length %d does not fit %d buckets of 1 to %d bytes",
                    length, self->counts_len, FB_V2_MAX_WORD);
        fb_hist_destroy (&self);
        return NULL;
    }
    *payload_len = (size_t)length;
    return self;
}

static int s_decode_counts (fb_hist_t *self, const uint8_t *p, size_t len, fb_err_t *err) {
    size_t pos = 0;
    int64_t index = 0, total = 0, first = -1, last = -1;
    while (pos < len) {
        int64_t value;
        if (s_get_zigzag (p, len, &pos, &value) != 0)
            return fb_err_set (err, FB_EINPUT,
                               "HdrHistogram counts end inside a number (truncated LEB128)");
        if (value < 0) {
            uint64_t zeros = (uint64_t)0 - (uint64_t)value;
            if (zeros > (uint64_t)(self->counts_len - index))
                return fb_err_set (err, FB_EINPUT,
                                   "HdrHistogram run of %llu empty buckets passes the last of %d",
                                   (unsigned long long)zeros, self->counts_len);
            index += (int64_t)zeros;
            continue;
        }
        if (index >= self->counts_len)
            return fb_err_set (err, FB_EINPUT, "HdrHistogram has more counts than its %d buckets",
                               self->counts_len);
        if (__builtin_add_overflow (total, value, &total))
            return fb_err_set (err, FB_EINPUT, "HdrHistogram counts overflow a 64-bit total");
        if (value > 0) {
            first = first < 0 ? index : first;
            last = index;
        }
        self->counts[index++] = value;
    }
    /* total, min and max as s_recompute would find them, without a second pass */
    self->total_count = total;
    self->min_value = first < 0 ? INT64_MAX : s_value_at_index (self, (int32_t)first);
    self->max_value =
        last < 0 ? 0 : fb_hist_highest_equivalent (self, s_value_at_index (self, (int32_t)last));
    return 0;
}

/* Inflates into out[0..cap) until it is full or the stream ends; -1 and err on bad zlib data. */
static int s_inflate (z_stream *zs, uint8_t *out, size_t cap, bool *ended, fb_err_t *err) {
    zs->next_out = out;
    zs->avail_out = (uInt)cap;
    *ended = false;
    while (zs->avail_out > 0) {
        int rc = inflate (zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            *ended = true;
            return 0;
        }
        if (rc == Z_BUF_ERROR)
            return fb_err_set (err, FB_EINPUT, "HdrHistogram zlib stream is truncated");
        if (rc != Z_OK)
            return fb_err_set (err, FB_EINPUT, "HdrHistogram zlib stream is corrupt (%s)",
                               zs->msg ? zs->msg : zError (rc));
    }
    return 0;
}

static fb_hist_t *s_decode_inflated (z_stream *zs, fb_err_t *err) {
    uint8_t header[FB_V2_HEADER_LEN];
    bool ended;
    if (s_inflate (zs, header, sizeof header, &ended, err) != 0)
        return NULL;
    if (zs->avail_out > 0) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram compressed payload is shorter than its header");
        return NULL;
    }
    size_t payload_len;
    fb_hist_t *self = s_decode_header (header, &payload_len, err);
    if (!self)
        return NULL;
    /* One spare byte tells a payload longer than announced from one that ends on time. */
    uint8_t *payload = malloc (payload_len + 1);
    if (!payload) {
        fb_err_set (err, FB_ENOMEM, "out of memory decoding a histogram");
        fb_hist_destroy (&self);
        return NULL;
    }
    size_t produced = 0;
    int rc = 0;
    if (!ended) {
        rc = s_inflate (zs, payload, payload_len + 1, &ended, err);
        produced = payload_len + 1 - zs->avail_out;
    }
    if (rc == 0 && (!ended || produced != payload_len || zs->avail_in != 0))
        rc = fb_err_set (err, FB_EINPUT,
                         "HdrHistogram compressed payload does not match its length of %zu bytes",
                         payload_len);
    if (rc == 0)
        rc = s_decode_counts (self, payload, payload_len, err);
    free (payload);
    if (rc != 0)
        fb_hist_destroy (&self);
    return self;
}

static fb_hist_t *s_decode_compressed (const uint8_t *buf, size_t len, fb_err_t *err) {
    int32_t zipped_len = (int32_t)s_get_be32 (buf + 4);
    if (zipped_len < 0 || (size_t)zipped_len != len - 8) {
        fb_err_set (err, FB_EINPUT,
                    "HdrHistogram compressed length %d does not match the %zu bytes that follow",
                    zipped_len, len - 8);
        return NULL;
    }
    z_stream zs;
    memset (&zs, 0, sizeof zs);
    if (inflateInit (&zs) != Z_OK) {
        fb_err_set (err, FB_ENOMEM, "zlib could not start inflating a histogram");
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)(buf + 8);
    zs.avail_in = (uInt)zipped_len;
    fb_hist_t *self = s_decode_inflated (&zs, err);
    inflateEnd (&zs);
    return self;
}

fb_hist_t *fb_hist_decode (const uint8_t *buf, size_t len, fb_err_t *err) {
    if (!buf || len < 8) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram encoding is too short (%zu bytes)", len);
        return NULL;
    }
    uint32_t cookie = s_get_be32 (buf) & ~0xf0u;
    if (cookie == FB_V2_COMPRESSED_COOKIE)
        return s_decode_compressed (buf, len, err);
    if (cookie == 0x1c849301u || cookie == 0x1c849302u || cookie == 0x1c849308u ||
        cookie == 0x1c849309u) {
        fb_err_set (err, FB_EINPUT,
                    "unsupported HdrHistogram encoding version (V0/V1 cookie 0x%08x); only V2 "
                    "is read",
                    s_get_be32 (buf));
        return NULL;
    }
    if (cookie != FB_V2_COOKIE) {
        fb_err_set (err, FB_EINPUT, "not an HdrHistogram encoding (cookie 0x%08x)",
                    s_get_be32 (buf));
        return NULL;
    }
    if (len < FB_V2_HEADER_LEN) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram V2 encoding is shorter than its header");
        return NULL;
    }
    size_t payload_len;
    fb_hist_t *self = s_decode_header (buf, &payload_len, err);
    if (self && payload_len != len - FB_V2_HEADER_LEN) {
        fb_err_set (err, FB_EINPUT, "HdrHistogram payload length %zu does not match the %zu bytes",
                    payload_len, len - FB_V2_HEADER_LEN);
        fb_hist_destroy (&self);
    }
    if (self && s_decode_counts (self, buf + FB_V2_HEADER_LEN, payload_len, err) != 0)
        fb_hist_destroy (&self);
    return self;
}

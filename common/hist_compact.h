/* hist_compact.h: a histogram at rest and on the way, as the buckets that hold samples only
 * (sorted bucket index / count pairs in an fb_hist layout), and the HdrHistogram V2 codec that
 * the full form (hist.h) uses too. A one-second interval touches a few hundred of the ~23 000
 * buckets of the 1 ns .. 1 h range: merge, percentiles, encode and decode here cost in
 * proportion to the buckets used, never to the range. Merges are exact: the result is the
 * bucket-by-bucket sum of the full histograms. */
#ifndef FB_HIST_COMPACT_H
#define FB_HIST_COMPACT_H

#include "common/err.h"
#include "common/hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_hist_compact fb_hist_compact_t; /* opaque */

/* Arguments as fb_hist_new; empty. */
fb_hist_compact_t *fb_hist_compact_new (int64_t lowest, int64_t highest, int sigfigs,
                                        fb_err_t *err);
fb_hist_compact_t *fb_hist_compact_new_default (fb_err_t *err);
/* The buckets of hist that hold samples, in hist's layout. */
fb_hist_compact_t *fb_hist_compact_from_hist (const fb_hist_t *hist, fb_err_t *err);
void fb_hist_compact_destroy (fb_hist_compact_t **self_p);

/* into += from. Exact when both share the bucket boundaries (lowest, sigfigs; a bucket past
 * into's highest counts as highest); otherwise each bucket is re-recorded at its median, as
 * fb_hist_merge does. Cost: the buckets of both. */
int fb_hist_compact_merge (fb_hist_compact_t *into, const fb_hist_compact_t *from, fb_err_t *err);
/* into += a full histogram (its used buckets). */
int fb_hist_compact_merge_hist (fb_hist_compact_t *into, const fb_hist_t *from, fb_err_t *err);
/* A full histogram += from. */
int fb_hist_compact_merge_into_hist (fb_hist_t *into, const fb_hist_compact_t *from, fb_err_t *err);
const fb_hist_layout_t *fb_hist_compact_layout (const fb_hist_compact_t *self);
/* Buckets that hold samples. */
int32_t fb_hist_compact_buckets (const fb_hist_compact_t *self);
typedef struct {
    int32_t index;        /* bucket index in the layout */
    int64_t count;        /* samples in the bucket, > 0 */
    int64_t value_lowest; /* lowest equivalent value of the bucket */
    int64_t value;        /* highest equivalent value of the bucket */
} fb_hist_compact_bucket_t;
/* Bucket i (0 .. buckets - 1), lowest first. */
void fb_hist_compact_bucket (const fb_hist_compact_t *self, int32_t i,
                             fb_hist_compact_bucket_t *out);

/* The buckets in order, lowest first, in one pass (packed or not):
 *   fb_hist_compact_iter_t it; fb_hist_compact_bucket_t b;
 *   fb_hist_compact_iter_init (h, &it); while (fb_hist_compact_iter_next (&it, &b)) ... */
typedef struct {
    const fb_hist_compact_t *self;
    int32_t i, index;
    size_t pos;
} fb_hist_compact_iter_t;
void fb_hist_compact_iter_init (const fb_hist_compact_t *self, fb_hist_compact_iter_t *it);
bool fb_hist_compact_iter_next (fb_hist_compact_iter_t *it, fb_hist_compact_bucket_t *out);

/* A histogram at rest: its pairs packed (about a byte a bucket instead of 12 and the room to
 * grow), for what a run keeps to its end. Every query answers the same (a walk of the
 * bytes; fb_hist_compact_bucket walks up to i, so loops use the iterator); a merge into it
 * unpacks it first. Empty: only frees the room. */
int fb_hist_compact_pack (fb_hist_compact_t *self, fb_err_t *err);
bool fb_hist_compact_is_packed (const fb_hist_compact_t *self);
/* Heap bytes it holds (struct, arrays and their room, or the packed bytes). */
size_t fb_hist_compact_bytes (const fb_hist_compact_t *self);

/* The same answers as the full histogram with the same buckets (fb_hist_count, _min, _max,
 * _mean, _stddev, _value_at_percentile: nearest rank). */
int64_t fb_hist_compact_count (const fb_hist_compact_t *self);
int64_t fb_hist_compact_min (const fb_hist_compact_t *self); /* 0 when empty */
int64_t fb_hist_compact_max (const fb_hist_compact_t *self); /* 0 when empty */
/* Sum of each bucket's median equivalent value times its count (mean = sum / count). */
double fb_hist_compact_sum (const fb_hist_compact_t *self);
double fb_hist_compact_mean (const fb_hist_compact_t *self);
double fb_hist_compact_stddev (const fb_hist_compact_t *self);
int64_t fb_hist_compact_value_at_percentile (const fb_hist_compact_t *self, double percentile);

/* HdrHistogram V2 compressed, as fb_hist_encode: the same bytes for the same buckets. Runs
 * of empty buckets are one negative count each, so the cost follows the used buckets. *buf is
 * malloc'd; the caller frees it. */
int fb_hist_compact_encode (const fb_hist_compact_t *self, uint8_t **buf, size_t *len,
                            fb_err_t *err);
/* The same at another zlib level (0..9), for measuring the trade. */
int fb_hist_compact_encode_level (const fb_hist_compact_t *self, int level, uint8_t **buf,
                                  size_t *len, fb_err_t *err);
/* Decodes V2 compressed (and uncompressed V2) bytes straight into the compact form. Bad or
 * hostile input is an error, never a crash; memory follows the bytes given and the buckets they
 * fill, never the range a header claims. */
fb_hist_compact_t *fb_hist_compact_decode (const uint8_t *buf, size_t len, fb_err_t *err);

#endif

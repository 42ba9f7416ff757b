/* hist_layout.h: the bucket layout of an HDR histogram (log-linear buckets, as HdrHistogram's):
 * value -> bucket index -> value range, written once for every form that keeps buckets. */
#ifndef FB_HIST_LAYOUT_H
#define FB_HIST_LAYOUT_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

/* The bucket layout, shared by the full form (hist.h), the compact form (hist_compact.h) and
 * the V2 codec (hist_v2.h), which keep bucket indices. */
typedef struct {
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
    int32_t counts_len; /* bucket indices are 0 .. counts_len - 1 */
} fb_hist_layout_t;

/* Checks the arguments as fb_hist_new does, allocating nothing. */
int fb_hist_layout_init (fb_hist_layout_t *layout, int64_t lowest, int64_t highest, int sigfigs,
                         fb_err_t *err);
/* Same bucket boundaries (highest may differ: indices past the shorter one's end clamp). */
bool fb_hist_layout_same (const fb_hist_layout_t *a, const fb_hist_layout_t *b);
/* Index of the bucket of value, clamped to [lowest, highest] first. */
int32_t fb_hist_layout_index_of (const fb_hist_layout_t *layout, int64_t value);
/* The range of values that share value's bucket (value >= 0). */
int64_t fb_hist_layout_lowest_equivalent (const fb_hist_layout_t *layout, int64_t value);
int64_t fb_hist_layout_highest_equivalent (const fb_hist_layout_t *layout, int64_t value);
/* Lowest, highest and median equivalent value of the bucket at index. */
int64_t fb_hist_layout_lowest_at (const fb_hist_layout_t *layout, int32_t index);
int64_t fb_hist_layout_highest_at (const fb_hist_layout_t *layout, int32_t index);
int64_t fb_hist_layout_median_at (const fb_hist_layout_t *layout, int32_t index);
/* The nearest rank that value_at_percentile looks for in total samples (>= 1 when total > 0):
 * one definition for the full and the compact form. */
int64_t fb_hist_layout_rank_at_percentile (double percentile, int64_t total);

/* Bucket b of a value v >= 0 (see the layout comment in hist_layout.c). */
static inline int fb_hist_layout_bucket_raw (const fb_hist_layout_t *l, int64_t v) {
    return l->leading_zero_count_base - __builtin_clzll ((uint64_t)v | l->sub_bucket_mask);
}

/* Index of a value in [0, highest], without clamping: the record path's. */
static inline int32_t fb_hist_layout_index_raw (const fb_hist_layout_t *l, int64_t v) {
    int bucket = fb_hist_layout_bucket_raw (l, v);
    int64_t sub = v >> (bucket + l->unit_magnitude);
    return (int32_t)(((int64_t)bucket << l->sub_bucket_half_magnitude) + sub);
}

#endif

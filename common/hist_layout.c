/* hist_layout.c: the bucket layout's arithmetic, as HdrHistogram's. */
#include "common/hist_layout.h"

#include <math.h>
#include <string.h>

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
static int s_layout (fb_hist_layout_t *l, int64_t lowest, int64_t highest, int sigfigs,
                     fb_err_t *err) {
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

/* Lowest value of the bucket at index. */
int64_t fb_hist_layout_lowest_at (const fb_hist_layout_t *l, int32_t index) {
    int64_t bucket = (index >> l->sub_bucket_half_magnitude) - 1;
    if (bucket < 0)
        bucket = 0;
    uint64_t sub = (uint64_t)index - (uint64_t)(bucket * l->sub_bucket_half_count);
    return (int64_t)(sub << (bucket + l->unit_magnitude));
}

/* Width of the bucket that holds v >= 0. */
static uint64_t s_width_of (const fb_hist_layout_t *l, int64_t v) {
    return UINT64_C (1) << (fb_hist_layout_bucket_raw (l, v) + l->unit_magnitude);
}

int64_t fb_hist_layout_lowest_equivalent (const fb_hist_layout_t *l, int64_t v) {
    if (v < 0)
        v = 0;
    return (int64_t)((uint64_t)v & ~(s_width_of (l, v) - 1));
}

int64_t fb_hist_layout_highest_equivalent (const fb_hist_layout_t *l, int64_t v) {
    if (v < 0)
        v = 0;
    /* The top bucket ends at 2^63 at most, so this fits in int64. */
    return (int64_t)((uint64_t)fb_hist_layout_lowest_equivalent (l, v) + s_width_of (l, v) - 1);
}

int fb_hist_layout_init (fb_hist_layout_t *layout, int64_t lowest, int64_t highest, int sigfigs,
                         fb_err_t *err) {
    if (lowest < 1)
        return fb_err_set (err, FB_EINPUT, "histogram lowest value must be at least 1 (got %lld)",
                           (long long)lowest);
    if (sigfigs < 1 || sigfigs > 5)
        return fb_err_set (err, FB_EINPUT, "histogram significant digits must be 1 to 5 (got %d)",
                           sigfigs);
    if (highest / 2 < lowest)
        return fb_err_set (err, FB_EINPUT,
                           "histogram highest value %lld must be at least twice the lowest (%lld)",
                           (long long)highest, (long long)lowest);
    memset (layout, 0, sizeof *layout);
    return s_layout (layout, lowest, highest, sigfigs, err);
}

bool fb_hist_layout_same (const fb_hist_layout_t *a, const fb_hist_layout_t *b) {
    return a->unit_magnitude == b->unit_magnitude &&
           a->sub_bucket_half_magnitude == b->sub_bucket_half_magnitude;
}

int32_t fb_hist_layout_index_of (const fb_hist_layout_t *layout, int64_t value) {
    value = value < layout->lowest ? layout->lowest : value;
    value = value > layout->highest ? layout->highest : value;
    return fb_hist_layout_index_raw (layout, value);
}

int64_t fb_hist_layout_highest_at (const fb_hist_layout_t *layout, int32_t index) {
    return fb_hist_layout_highest_equivalent (layout, fb_hist_layout_lowest_at (layout, index));
}

int64_t fb_hist_layout_median_at (const fb_hist_layout_t *layout, int32_t index) {
    int64_t lowest = fb_hist_layout_lowest_at (layout, index);
    return lowest + (int64_t)(s_width_of (layout, lowest) / 2);
}

/* The nearest rank, as HdrHistogram's Java getValueAtPercentile: the count to reach is
 * ceil (percentile / 100 * total), at least 1, taken one ulp below the percentile so that a
 * product that should be a whole number but comes out a hair above it is not rounded up a
 * rank. (HdrHistogram_c rounds to the nearest rank instead, which reads one rank low: p99 of
 * 1059 fast and 11 slow samples fast.) */
int64_t fb_hist_layout_rank_at_percentile (double percentile, int64_t total) {
    double p = percentile > 0.0 ? percentile : 0.0; /* NaN too */
    double below = nextafter (p, -INFINITY);
    below = below > 0.0 ? (below < 100.0 ? below : 100.0) : 0.0;
    double wanted = ceil (below / 100.0 * (double)total);
    int64_t count_at = wanted >= (double)total ? total : (int64_t)wanted;
    return count_at < 1 ? 1 : count_at;
}

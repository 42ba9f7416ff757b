/* hist.h: HDR histogram (log-linear buckets) with HdrHistogram's V2 compressed encoding.
 * Written here because no Debian package provides an HDR histogram for C. */
#ifndef FB_HIST_H
#define FB_HIST_H

#include "common/err.h"
#include "common/hist_layout.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_hist fb_hist_t; /* opaque */

/* The range every fleetbench histogram uses: 1 ns .. 1 h, 3 significant digits. */
#define FB_HIST_LOWEST 1LL
#define FB_HIST_HIGHEST 3600000000000LL
#define FB_HIST_SIGFIGS 3

/* lowest >= 1, highest >= 2 * lowest, sigfigs 1..5. NULL and err filled on bad arguments. */
fb_hist_t *fb_hist_new (int64_t lowest, int64_t highest, int sigfigs, fb_err_t *err);
/* fb_hist_new (FB_HIST_LOWEST, FB_HIST_HIGHEST, FB_HIST_SIGFIGS). */
fb_hist_t *fb_hist_new_default (fb_err_t *err);
void fb_hist_destroy (fb_hist_t **self_p);

/* O(1), no allocation. Values below lowest count as lowest, above highest as highest;
 * returns false when the value had to be clamped. Not thread-safe. */
bool fb_hist_record (fb_hist_t *self, int64_t value);
bool fb_hist_record_n (fb_hist_t *self, int64_t value, int64_t count);
/* Open loop correction (HdrHistogram's recordValueWithExpectedInterval): also records
 * value - k * expected_interval for k = 1.. while that stays >= expected_interval. */
bool fb_hist_record_corrected (fb_hist_t *self, int64_t value, int64_t expected_interval);

/* Thread-safe record: any number of threads may call it on one histogram while one other
 * thread drains it with fb_hist_drain. Counts only (min, max and total are derived when
 * drained); O(1), no allocation, no lock (a relaxed atomic add). */
bool fb_hist_record_atomic (fb_hist_t *self, int64_t value);
/* Moves every count of from (filled by fb_hist_record_atomic) into into, leaving from empty;
 * no sample is lost or counted twice while recorders run. Same layout required. */
int fb_hist_drain (fb_hist_t *into, fb_hist_t *from, fb_err_t *err);

/* Adds from's counts to into. Exact when both have the same layout (lowest, sigfigs);
 * otherwise every value is re-recorded at its bucket's median. */
int fb_hist_merge (fb_hist_t *into, const fb_hist_t *from, fb_err_t *err);
void fb_hist_reset (fb_hist_t *self);
fb_hist_t *fb_hist_copy (const fb_hist_t *self, fb_err_t *err);

int64_t fb_hist_count (const fb_hist_t *self);
int64_t fb_hist_min (const fb_hist_t *self); /* 0 when empty */
int64_t fb_hist_max (const fb_hist_t *self); /* highest equivalent value of the top bucket */
double fb_hist_mean (const fb_hist_t *self);
double fb_hist_stddev (const fb_hist_t *self);
/* percentile in [0, 100]; 0 when empty. The nearest rank, as HdrHistogram's Java
 * getValueAtPercentile: the highest equivalent value of the bucket where the cumulative count
 * reaches ceil(percentile / 100 * count) (at least 1), that is the bucket of the smallest
 * recorded value with at least percentile % of the samples at or below it; percentile 0 gives
 * the lowest value. */
int64_t fb_hist_value_at_percentile (const fb_hist_t *self, double percentile);

int64_t fb_hist_lowest (const fb_hist_t *self);
int64_t fb_hist_highest (const fb_hist_t *self);
int fb_hist_sigfigs (const fb_hist_t *self);
/* The range of values that share value's bucket. */
int64_t fb_hist_lowest_equivalent (const fb_hist_t *self, int64_t value);
int64_t fb_hist_highest_equivalent (const fb_hist_t *self, int64_t value);

/* Iteration over the buckets that hold samples, lowest first. */
typedef struct {
    const fb_hist_t *hist;
    int32_t index;        /* bucket index, -1 before the first */
    int64_t count;        /* samples in this bucket */
    int64_t value;        /* highest equivalent value of the bucket */
    int64_t value_lowest; /* lowest equivalent value of the bucket */
    int64_t cumulative;   /* samples up to and including this bucket */
} fb_hist_iter_t;
void fb_hist_iter_init (fb_hist_iter_t *iter, const fb_hist_t *hist);
bool fb_hist_iter_next (fb_hist_iter_t *iter);

const fb_hist_layout_t *fb_hist_layout (const fb_hist_t *self);

/* Count of the bucket at index (0 outside the histogram). */
int64_t fb_hist_count_at_index (const fb_hist_t *self, int32_t index);
/* The bucket indices between which every count of self lies (first > last when empty). */
void fb_hist_used_range (const fb_hist_t *self, int32_t *first, int32_t *last);
/* Adds count samples to the bucket at index, an index of this histogram's layout; an index
 * past its last bucket counts as highest, as record does. count < 1 adds nothing. */
void fb_hist_add_at_index (fb_hist_t *self, int32_t index, int64_t count);

/* zlib level of the V2 encodings, chosen with bench_hist (its zlib rows: level 1 costs a
 * quarter of level 6's CPU for ~4% more bytes). Any level decodes the same. */
#define FB_HIST_ZLIB_LEVEL 1

/* HdrHistogram V2 compressed encoding: cookie 0x1c849314 (0x1c849304 with HdrHistogram's
 * word-size bits, so the bytes read "HIST") around zlib of the V2 payload (cookie 0x1c849313,
 * ZigZag LEB128 counts). *buf is malloc'd; the caller frees it. */
int fb_hist_encode (const fb_hist_t *self, uint8_t **buf, size_t *len, fb_err_t *err);
/* Decodes V2 compressed (and uncompressed V2) bytes. Bad input is an error, never a crash.
 * Both go through hist_v2.h, the codec the compact form (hist_compact.h) uses too. */
fb_hist_t *fb_hist_decode (const uint8_t *buf, size_t len, fb_err_t *err);

#endif

/* hist_v2.h: HdrHistogram's V2 encoding (header, ZigZag LEB128 counts with runs of empty
 * buckets as one negative number) in its compressed envelope (cookie 0x1c849314, zlib), from
 * and to the used buckets of a layout: the cost follows the buckets used, not the range. The
 * full (hist.h) and the compact (hist_compact.h) forms both encode and decode through it. */
#ifndef FB_HIST_V2_H
#define FB_HIST_V2_H

#include "common/err.h"
#include "common/hist_layout.h"

#include <stddef.h>
#include <stdint.h>

/* n used buckets, index strictly ascending (each < layout.counts_len), count > 0. */
typedef struct {
    fb_hist_layout_t layout;
    int32_t n;
    int32_t *index; /* malloc'd by the decoder (NULL when n is 0) */
    int64_t *count;
    int64_t total; /* samples */
} fb_hist_v2_buckets_t;

/* V2 compressed bytes of the n buckets, zlib at level (0..9). *buf is malloc'd; the caller
 * frees it. */
int fb_hist_v2_encode (const fb_hist_layout_t *layout, const int32_t *index, const int64_t *count,
                       int32_t n, int level, uint8_t **buf, size_t *len, fb_err_t *err);
/* Decodes V2 compressed (and uncompressed V2) bytes into out. Bad or hostile input is an error,
 * never a crash; memory follows the bytes given and the buckets they fill, never the range a
 * header claims. */
int fb_hist_v2_decode (const uint8_t *buf, size_t len, fb_hist_v2_buckets_t *out, fb_err_t *err);
void fb_hist_v2_buckets_free (fb_hist_v2_buckets_t *buckets);

#endif

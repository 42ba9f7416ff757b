/* hist_v2.c: HdrHistogram's V2 encoding, compressed and not, walking used buckets only. */
#include "common/hist_v2.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* V2 encoding cookies. The writers OR the word size 0x10 into them (the bytes read "HIST...");
 * readers compare the base with bits 0xf0 masked off, as HdrHistogram's do. */
#define S_V2_COOKIE 0x1c849303u
#define S_V2_COMPRESSED_COOKIE 0x1c849304u
#define S_V2_WORD_SIZE_BITS 0x10u
#define S_V2_HEADER_LEN 40 /* cookie, payload length, offset, sigfigs, lowest, highest, ratio */
#define S_V2_MAX_WORD 9    /* ZigZag LEB128 of an int64, 9-byte variant */
/* Bytes kept on the stack: the V2 payload of an interval's few thousand used buckets at most. */
#define S_STACK_BYTES 16384

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
    for (int i = 0; i < S_V2_MAX_WORD; i++) {
        if (*pos >= len)
            return -1;
        uint8_t byte = p[(*pos)++];
        if (i == S_V2_MAX_WORD - 1) {
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

/* The uncompressed V2 bytes into buf (room for the header and two words a bucket): the header,
 * then the counts up to the last used bucket, a gap of one empty bucket written as a zero and a
 * longer one as minus its length, as HdrHistogram writes them. Returns the length. */
static size_t s_encode_payload (const fb_hist_layout_t *l, const int32_t *index,
                                const int64_t *count, int32_t used, uint8_t *buf) {
    size_t n = S_V2_HEADER_LEN;
    int32_t next = 0; /* the index the decoder is at */
    for (int32_t k = 0; k < used; k++) {
        int32_t gap = index[k] - next;
        if (gap > 0)
            n += s_put_zigzag (buf + n, gap == 1 ? 0 : -(int64_t)gap);
        n += s_put_zigzag (buf + n, count[k]);
        next = index[k] + 1;
    }
    if (used == 0) /* an empty histogram still writes one zero count, as HdrHistogram */
        n += s_put_zigzag (buf + n, 0);
    double ratio = 1.0;
    uint64_t ratio_bits;
    memcpy (&ratio_bits, &ratio, sizeof ratio_bits);
    s_put_be32 (buf, S_V2_COOKIE | S_V2_WORD_SIZE_BITS);
    s_put_be32 (buf + 4, (uint32_t)(n - S_V2_HEADER_LEN));
    s_put_be32 (buf + 8, 0); /* normalizing index offset */
    s_put_be32 (buf + 12, (uint32_t)l->sigfigs);
    s_put_be64 (buf + 16, (uint64_t)l->lowest);
    s_put_be64 (buf + 24, (uint64_t)l->highest);
    s_put_be64 (buf + 32, ratio_bits);
    return n;
}

/* zlib of raw into out + 8. The window and hash sized to the input (a few hundred bytes for an
 * interval): the default 32 KB window and 64 K-entry hash cost more to set up and clear than
 * compressing takes, and give the same bytes for input that fits the window. */
static int s_deflate (const uint8_t *raw, size_t raw_len, int level, uint8_t **out, size_t *out_len,
                      fb_err_t *err) {
    int bits = 9;                                            /* zlib's smallest window */
    while (bits < 15 && ((size_t)1 << bits) < raw_len + 262) /* 262: zlib's lookahead */
        bits++;
    int mem_level = bits - 6 < 1 ? 1 : (bits - 6 > 8 ? 8 : bits - 6);
    z_stream zs;
    memset (&zs, 0, sizeof zs);
    if (deflateInit2 (&zs, level, Z_DEFLATED, bits, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        return fb_err_set (err, FB_ENOMEM, "zlib could not start compressing a histogram");
    size_t bound = deflateBound (&zs, (uLong)raw_len);
    uint8_t *buf = malloc (8 + bound);
    int rc = Z_MEM_ERROR;
    if (buf) {
        zs.next_in = (Bytef *)(uintptr_t)raw;
        zs.avail_in = (uInt)raw_len;
        zs.next_out = buf + 8;
        zs.avail_out = (uInt)bound;
        rc = deflate (&zs, Z_FINISH);
    }
    size_t zipped_len = zs.total_out;
    deflateEnd (&zs);
    if (rc != Z_STREAM_END || zipped_len > INT32_MAX) {
        free (buf);
        return fb_err_set (err, FB_ESYS, "zlib could not compress a histogram (%s)",
                           zError (rc == Z_STREAM_END ? Z_BUF_ERROR : rc));
    }
    s_put_be32 (buf, S_V2_COMPRESSED_COOKIE | S_V2_WORD_SIZE_BITS);
    s_put_be32 (buf + 4, (uint32_t)zipped_len);
    *out = buf;
    *out_len = 8 + zipped_len;
    return 0;
}

int fb_hist_v2_encode (const fb_hist_layout_t *layout, const int32_t *index, const int64_t *count,
                       int32_t n, int level, uint8_t **buf, size_t *len, fb_err_t *err) {
    uint8_t stack[S_STACK_BYTES];
    size_t room = S_V2_HEADER_LEN + (2 * (size_t)n + 1) * S_V2_MAX_WORD;
    uint8_t *raw = room <= sizeof stack ? stack : malloc (room);
    if (!raw)
        return fb_err_set (err, FB_ENOMEM, "out of memory encoding a histogram");
    size_t raw_len = s_encode_payload (layout, index, count, n, raw);
    int rc = s_deflate (raw, raw_len, level, buf, len, err);
    if (raw != stack)
        free (raw);
    return rc;
}

/* Checks the 40-byte V2 header; fills the layout and the payload length it announces. */
static int s_decode_header (const uint8_t *h, fb_hist_layout_t *layout, size_t *payload_len,
                            fb_err_t *err) {
    uint32_t cookie = s_get_be32 (h) & ~0xf0u;
    int32_t length = (int32_t)s_get_be32 (h + 4);
    int32_t offset = (int32_t)s_get_be32 (h + 8);
    int32_t sigfigs = (int32_t)s_get_be32 (h + 12);
    int64_t lowest = (int64_t)s_get_be64 (h + 16);
    int64_t highest = (int64_t)s_get_be64 (h + 24);
    if (cookie != S_V2_COOKIE)
        return fb_err_set (err, FB_EINPUT, "HdrHistogram V2 payload has cookie 0x%08x, not 0x%08x",
                           s_get_be32 (h), S_V2_COOKIE | S_V2_WORD_SIZE_BITS);
    if (offset != 0)
        return fb_err_set (err, FB_EINPUT,
                           "HdrHistogram normalizing index offset %d is not supported", offset);
    if (fb_hist_layout_init (layout, lowest, highest, sigfigs, err) != 0) {
        fb_err_prefix (err, "HdrHistogram V2 header");
        return -1;
    }
    if (length < 0 || (int64_t)length > (int64_t)layout->counts_len * S_V2_MAX_WORD)
        return fb_err_set (
            err, FB_EINPUT,
            "HdrHistogram payload length %d does not fit %d buckets of 1 to %d bytes", length,
            layout->counts_len, S_V2_MAX_WORD);
    *payload_len = (size_t)length;
    return 0;
}

/* Reads the counts of a payload; with self NULL only checks them and counts the used buckets
 * into *used, else fills self (room for *used made). */
static int s_decode_counts (const fb_hist_layout_t *l, const uint8_t *p, size_t len,
                            fb_hist_v2_buckets_t *self, int32_t *used, fb_err_t *err) {
    size_t pos = 0;
    int64_t index = 0, total = 0;
    int32_t n = 0;
    while (pos < len) {
        int64_t value;
        if (s_get_zigzag (p, len, &pos, &value) != 0)
            return fb_err_set (err, FB_EINPUT,
                               "HdrHistogram counts end inside a number (truncated LEB128)");
        if (value < 0) {
            uint64_t zeros = (uint64_t)0 - (uint64_t)value;
            if (zeros > (uint64_t)(l->counts_len - index))
                return fb_err_set (err, FB_EINPUT,
                                   "HdrHistogram run of %llu empty buckets passes the last of %d",
                                   (unsigned long long)zeros, l->counts_len);
            index += (int64_t)zeros;
            continue;
        }
        if (index >= l->counts_len)
            return fb_err_set (err, FB_EINPUT, "HdrHistogram has more counts than its %d buckets",
                               l->counts_len);
        if (__builtin_add_overflow (total, value, &total))
            return fb_err_set (err, FB_EINPUT, "HdrHistogram counts overflow a 64-bit total");
        if (value > 0 && self) {
            self->index[n] = (int32_t)index;
            self->count[n] = value;
        }
        n += value > 0;
        index++;
    }
    *used = n;
    if (self) {
        self->n = n;
        self->total = total;
    }
    return 0;
}

/* The buckets of an uncompressed V2 payload (header included): checked in a first pass, which
 * counts them, so that the arrays hold exactly the buckets used. */
static int s_decode_v2 (const uint8_t *buf, size_t len, fb_hist_v2_buckets_t *out, fb_err_t *err) {
    size_t payload_len;
    if (s_decode_header (buf, &out->layout, &payload_len, err) != 0)
        return -1;
    if (payload_len != len - S_V2_HEADER_LEN)
        return fb_err_set (err, FB_EINPUT,
                           "HdrHistogram payload length %zu does not match the %zu bytes",
                           payload_len, len - S_V2_HEADER_LEN);
    int32_t used;
    const uint8_t *counts = buf + S_V2_HEADER_LEN;
    if (s_decode_counts (&out->layout, counts, payload_len, NULL, &used, err) != 0)
        return -1;
    if (used > 0) {
        out->index = malloc ((size_t)used * sizeof *out->index);
        out->count = malloc ((size_t)used * sizeof *out->count);
        if (!out->index || !out->count)
            return fb_err_set (err, FB_ENOMEM, "out of memory for a histogram of %d buckets", used);
    }
    return s_decode_counts (&out->layout, counts, payload_len, out, &used, err);
}

/* Inflates all of zs into *out: the stack buffer first (an interval's payload fits it, and an
 * inflate that ends in one call needs no window), then a heap buffer that doubles as bytes come,
 * up to one byte more than the header announces (more is the caller's error to report): memory
 * follows what the stream really holds, never a length a header claims. */
static int s_inflate_all (z_stream *zs, uint8_t *stack, size_t stack_len, uint8_t **out,
                          size_t *out_len, fb_err_t *err) {
    uint8_t *buf = stack;
    size_t cap = stack_len, limit = 0;
    zs->next_out = buf;
    zs->avail_out = (uInt)cap;
    for (;;) {
        int rc = inflate (zs, Z_FINISH);
        size_t produced = cap - zs->avail_out;
        fb_hist_layout_t layout;
        size_t payload_len = 0;
        bool full = (rc == Z_BUF_ERROR || rc == Z_OK) && zs->avail_out == 0;
        if (full && !limit && s_decode_header (buf, &layout, &payload_len, err) == 0)
            limit = S_V2_HEADER_LEN + payload_len; /* the stack holds more than a header */
        if (rc == Z_STREAM_END || (full && limit && produced > limit)) {
            *out = buf;
            *out_len = produced;
            return 0;
        }
        if ((rc == Z_BUF_ERROR || rc == Z_OK) && zs->avail_out > 0)
            rc = fb_err_set (err, FB_EINPUT, "HdrHistogram zlib stream is truncated");
        else if (rc != Z_BUF_ERROR && rc != Z_OK)
            rc = fb_err_set (err, FB_EINPUT, "HdrHistogram zlib stream is corrupt (%s)",
                             zs->msg ? zs->msg : zError (rc));
        else if (!limit)
            rc = -1; /* the header is wrong: err says how */
        else {
            size_t grown = cap * 2 < limit + 1 ? cap * 2 : limit + 1;
            uint8_t *bigger = buf == stack ? malloc (grown) : realloc (buf, grown);
            if (bigger && buf == stack)
                memcpy (bigger, stack, produced);
            if (bigger) {
                buf = bigger;
                cap = grown;
                zs->next_out = buf + produced;
                zs->avail_out = (uInt)(cap - produced);
                continue;
            }
            rc = fb_err_set (err, FB_ENOMEM, "out of memory decoding a histogram");
        }
        if (buf != stack)
            free (buf);
        return rc;
    }
}

static int s_decode_compressed (const uint8_t *buf, size_t len, fb_hist_v2_buckets_t *out,
                                fb_err_t *err) {
    int32_t zipped_len = (int32_t)s_get_be32 (buf + 4);
    if (zipped_len < 0 || (size_t)zipped_len != len - 8)
        return fb_err_set (err, FB_EINPUT,
                           "HdrHistogram compressed length %d does not match the %zu bytes that "
                           "follow",
                           zipped_len, len - 8);
    /* One inflater a thread, reset between histograms: its ~7 KB state is not made and freed
     * again for every metric of every report (a tenth of a report's cost at fleet scale). */
    static _Thread_local z_stream zs;
    static _Thread_local bool ready;
    if (ready && inflateReset (&zs) != Z_OK) {
        inflateEnd (&zs);
        ready = false;
    }
    if (!ready) {
        memset (&zs, 0, sizeof zs);
        if (inflateInit (&zs) != Z_OK)
            return fb_err_set (err, FB_ENOMEM, "zlib could not start inflating a histogram");
        ready = true;
    }
    zs.next_in = (Bytef *)(uintptr_t)(buf + 8);
    zs.avail_in = (uInt)zipped_len;
    uint8_t stack[S_STACK_BYTES];
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = s_inflate_all (&zs, stack, sizeof stack, &raw, &raw_len, err);
    bool trailing = zs.avail_in != 0;
    if (rc != 0)
        return -1;
    size_t payload_len;
    if (raw_len < S_V2_HEADER_LEN)
        rc = fb_err_set (err, FB_EINPUT,
                         "HdrHistogram compressed payload is shorter than its header");
    else if (s_decode_header (raw, &out->layout, &payload_len, err) != 0)
        rc = -1;
    else if (trailing || payload_len != raw_len - S_V2_HEADER_LEN)
        rc = fb_err_set (err, FB_EINPUT,
                         "HdrHistogram compressed payload does not match its length of %zu bytes",
                         payload_len);
    else
        rc = s_decode_v2 (raw, raw_len, out, err);
    if (raw != stack)
        free (raw);
    return rc;
}

static int s_decode (const uint8_t *buf, size_t len, fb_hist_v2_buckets_t *out, fb_err_t *err) {
    if (!buf || len < 8)
        return fb_err_set (err, FB_EINPUT, "HdrHistogram encoding is too short (%zu bytes)", len);
    uint32_t cookie = s_get_be32 (buf) & ~0xf0u;
    if (cookie == S_V2_COMPRESSED_COOKIE)
        return s_decode_compressed (buf, len, out, err);
    if (cookie == 0x1c849301u || cookie == 0x1c849302u || cookie == 0x1c849308u ||
        cookie == 0x1c849309u)
        return fb_err_set (err, FB_EINPUT,
                           "unsupported HdrHistogram encoding version (V0/V1 cookie 0x%08x); only "
                           "V2 is read",
                           s_get_be32 (buf));
    if (cookie != S_V2_COOKIE)
        return fb_err_set (err, FB_EINPUT, "not an HdrHistogram encoding (cookie 0x%08x)",
                           s_get_be32 (buf));
    if (len < S_V2_HEADER_LEN)
        return fb_err_set (err, FB_EINPUT, "HdrHistogram V2 encoding is shorter than its header");
    return s_decode_v2 (buf, len, out, err);
}

int fb_hist_v2_decode (const uint8_t *buf, size_t len, fb_hist_v2_buckets_t *out, fb_err_t *err) {
    memset (out, 0, sizeof *out);
    if (s_decode (buf, len, out, err) == 0)
        return 0;
    fb_hist_v2_buckets_free (out);
    return -1;
}

void fb_hist_v2_buckets_free (fb_hist_v2_buckets_t *buckets) {
    free (buckets->index);
    free (buckets->count);
    buckets->index = NULL;
    buckets->count = NULL;
    buckets->n = 0;
    buckets->total = 0;
}

/* fuzz_hist.c: fb_hist_decode and fb_hist_compact_decode on arbitrary bytes (report frames and
 * run.json carry V2 histograms from other hosts). A decoded histogram must answer every query,
 * agree with itself (the iteration adds up to the count), encode, and decode again to the same
 * counts; merging it into a default histogram, as the coordinator does, must not break either.
 * The compact decoder (the coordinator's) must accept and refuse exactly what the full one
 * does, hold the same buckets and answer the same figures. */
#include "common/hist.h"
#include "common/hist_compact.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

static void s_check_same_counts (const fb_hist_t *a, const fb_hist_t *b) {
    FB_FUZZ_CHECK (fb_hist_lowest (a) == fb_hist_lowest (b) &&
                       fb_hist_highest (a) == fb_hist_highest (b) &&
                       fb_hist_sigfigs (a) == fb_hist_sigfigs (b),
                   "the layout changed on a round trip");
    FB_FUZZ_CHECK (fb_hist_count (a) == fb_hist_count (b) && fb_hist_min (a) == fb_hist_min (b) &&
                       fb_hist_max (a) == fb_hist_max (b),
                   "count/min/max changed on a round trip: %lld/%lld/%lld, then %lld/%lld/%lld",
                   (long long)fb_hist_count (a), (long long)fb_hist_min (a),
                   (long long)fb_hist_max (a), (long long)fb_hist_count (b),
                   (long long)fb_hist_min (b), (long long)fb_hist_max (b));
    fb_hist_iter_t ia, ib;
    fb_hist_iter_init (&ia, a);
    fb_hist_iter_init (&ib, b);
    for (;;) {
        bool more_a = fb_hist_iter_next (&ia), more_b = fb_hist_iter_next (&ib);
        FB_FUZZ_CHECK (more_a == more_b, "one side of a round trip has more buckets");
        if (!more_a)
            break;
        FB_FUZZ_CHECK (ia.index == ib.index && ia.count == ib.count,
                       "bucket %d (count %lld) came back as bucket %d (count %lld)", ia.index,
                       (long long)ia.count, ib.index, (long long)ib.count);
    }
}

static void s_query (const fb_hist_t *h) {
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, h);
    int64_t last = -1;
    while (fb_hist_iter_next (&it)) {
        FB_FUZZ_CHECK (it.count > 0, "bucket %d has count %lld", it.index, (long long)it.count);
        FB_FUZZ_CHECK (it.value_lowest <= it.value && it.value_lowest > last,
                       "bucket %d spans %lld..%lld after %lld", it.index,
                       (long long)it.value_lowest, (long long)it.value, (long long)last);
        last = it.value;
    }
    FB_FUZZ_CHECK (it.cumulative == fb_hist_count (h), "buckets add up to %lld, count is %lld",
                   (long long)it.cumulative, (long long)fb_hist_count (h));
    static const double percentiles[] = {0, 50, 90, 99, 99.9, 100};
    int64_t previous = 0;
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++) {
        int64_t v = fb_hist_value_at_percentile (h, percentiles[i]);
        FB_FUZZ_CHECK (v >= previous, "p%g = %lld is below the previous percentile %lld",
                       percentiles[i], (long long)v, (long long)previous);
        previous = v;
    }
    double mean = fb_hist_mean (h), stddev = fb_hist_stddev (h);
    FB_FUZZ_CHECK (!isnan (mean) && !isnan (stddev), "mean %g, stddev %g", mean, stddev);
}

/* Mutations of zlib bytes rarely inflate, so the counts are mostly reached through the
 * uncompressed form: when the input is one, its compressed twin must decode the same. */
static void s_check_twin (const uint8_t *data, size_t size, const fb_hist_t *plain) {
    if (size < 4 || ((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 |
                     data[3]) != 0x1c849313u)
        return;
    uLongf zipped_len = compressBound ((uLong)size);
    uint8_t *buf = malloc (8 + zipped_len);
    FB_FUZZ_CHECK (buf != NULL, "out of memory");
    FB_FUZZ_CHECK (compress2 (buf + 8, &zipped_len, data, (uLong)size, 1) == Z_OK, "zlib");
    memcpy (buf, "\x1c\x84\x93\x14", 4); /* V2 compressed cookie, then the zlib length */
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(zipped_len >> (24 - 8 * i));
    fb_err_t err = {0};
    fb_hist_t *twin = fb_hist_decode (buf, 8 + zipped_len, &err);
    FB_FUZZ_CHECK ((twin != NULL) == (plain != NULL),
                   "the uncompressed form %s, the compressed one %s (%s)",
                   plain ? "decodes" : "does not", twin ? "does" : "does not", err.msg);
    if (twin)
        s_check_same_counts (plain, twin);
    fb_hist_destroy (&twin);
    free (buf);
}

/* The compact form of the same bytes: the same buckets and figures, its own encoding decoding
 * back to it, and merged into a default compact as the coordinator merges reports. */
static void s_check_compact (const uint8_t *data, size_t size, const fb_hist_t *full) {
    fb_err_t err = {0};
    fb_hist_compact_t *c = fb_hist_compact_decode (data, size, &err);
    FB_FUZZ_CHECK ((c != NULL) == (full != NULL), "the full decoder %s, the compact one %s (%s)",
                   full ? "decodes" : "refuses", c ? "decodes" : "refuses", err.msg);
    if (!c)
        return;
    FB_FUZZ_CHECK (fb_hist_compact_count (c) == fb_hist_count (full) &&
                       fb_hist_compact_min (c) == fb_hist_min (full) &&
                       fb_hist_compact_max (c) == fb_hist_max (full),
                   "compact count/min/max differ from the full form");
    static const double percentiles[] = {0, 50, 99, 100};
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
        FB_FUZZ_CHECK (fb_hist_compact_value_at_percentile (c, percentiles[i]) ==
                           fb_hist_value_at_percentile (full, percentiles[i]),
                       "compact p%g differs from the full form", percentiles[i]);
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, full);
    int32_t k = 0;
    while (fb_hist_iter_next (&it)) {
        fb_hist_compact_bucket_t b;
        FB_FUZZ_CHECK (k < fb_hist_compact_buckets (c), "the compact form has fewer buckets");
        fb_hist_compact_bucket (c, k++, &b);
        FB_FUZZ_CHECK (b.index == it.index && b.count == it.count,
                       "compact bucket %d (count %lld) is bucket %d (count %lld) in full", b.index,
                       (long long)b.count, it.index, (long long)it.count);
    }
    FB_FUZZ_CHECK (k == fb_hist_compact_buckets (c), "the compact form has more buckets");
    uint8_t *buf = NULL;
    size_t len = 0;
    FB_FUZZ_CHECK (fb_hist_compact_encode (c, &buf, &len, &err) == 0,
                   "a decoded compact histogram does not encode: %s", err.msg);
    /* Back through the compact decoder: a cost in the buckets used, not the range. */
    fb_hist_compact_t *again = fb_hist_compact_decode (buf, len, &err);
    FB_FUZZ_CHECK (again != NULL, "a re-encoded compact histogram does not decode: %s", err.msg);
    FB_FUZZ_CHECK (fb_hist_compact_buckets (again) == fb_hist_compact_buckets (c) &&
                       fb_hist_compact_count (again) == fb_hist_compact_count (c),
                   "a compact round trip changed the buckets");
    for (int32_t i = 0; i < fb_hist_compact_buckets (c); i++) {
        fb_hist_compact_bucket_t a, b;
        fb_hist_compact_bucket (c, i, &a);
        fb_hist_compact_bucket (again, i, &b);
        FB_FUZZ_CHECK (a.index == b.index && a.count == b.count,
                       "compact bucket %d changed on a round trip", a.index);
    }
    fb_hist_compact_t *fleet = fb_hist_compact_new_default (&err);
    FB_FUZZ_CHECK (fleet != NULL, "%s", err.msg);
    if (fb_hist_compact_merge (fleet, c, &err) == 0)
        FB_FUZZ_CHECK (fb_hist_compact_count (fleet) == fb_hist_compact_count (c),
                       "merging a compact histogram into an empty one changed its count");
    fb_hist_compact_destroy (&fleet);
    fb_hist_compact_destroy (&again);
    free (buf);
    fb_hist_compact_destroy (&c);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    fb_err_t err = {0};
    fb_hist_t *h = fb_hist_decode (data, size, &err);
    s_check_twin (data, size, h);
    s_check_compact (data, size, h);
    if (!h) {
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
        return 0;
    }
    s_query (h);
    uint8_t *buf = NULL;
    size_t len = 0;
    FB_FUZZ_CHECK (fb_hist_encode (h, &buf, &len, &err) == 0,
                   "a decoded histogram does not encode: %s", err.msg);
    fb_hist_t *again = fb_hist_decode (buf, len, &err);
    FB_FUZZ_CHECK (again != NULL, "a re-encoded histogram does not decode: %s", err.msg);
    s_check_same_counts (h, again);

    fb_hist_t *fleet = fb_hist_new_default (&err);
    FB_FUZZ_CHECK (fleet != NULL, "%s", err.msg);
    if (fb_hist_merge (fleet, h, &err) == 0) {
        FB_FUZZ_CHECK (fb_hist_count (fleet) == fb_hist_count (h),
                       "merging %lld samples into an empty histogram gave %lld",
                       (long long)fb_hist_count (h), (long long)fb_hist_count (fleet));
        s_query (fleet);
    }
    fb_hist_destroy (&fleet);
    fb_hist_destroy (&again);
    fb_hist_destroy (&h);
    free (buf);
    return 0;
}

/* test_hist_compact.c: the compact histogram (used buckets only) against the full one, over
 * random histograms with fixed seeds: merges are the bucket-by-bucket sums, every figure is the
 * same, and the V2 bytes of either form decode into the other. */
#include "common/hist_compact.h"
#include "common/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

static const double s_percentiles[] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

/* A random host interval: 0..3000 samples from one of a few shapes (log-normal at several
 * scales, uniform, a spike with outliers, values at the range's ends). */
static fb_hist_t *s_random_hist (uint64_t *rng) {
    fb_hist_t *h = fb_hist_new_default (NULL);
    assert_non_null (h);
    int samples = (int)fb_rng_below (rng, 3001);
    int shape = (int)fb_rng_below (rng, 4);
    double scale = 1000.0 * pow (10.0, (double)fb_rng_below (rng, 6)); /* 1 us .. 100 ms */
    for (int i = 0; i < samples; i++) {
        double u1 = fb_rng_unit (rng), u2 = fb_rng_unit (rng);
        int64_t v;
        if (shape == 0)
            v = (int64_t)(scale * exp (0.7 * sqrt (-2 * log (u1)) * cos (2 * M_PI * u2)));
        else if (shape == 1)
            v = (int64_t)(scale * 4 * u1);
        else if (shape == 2)
            v = u1 < 0.99 ? (int64_t)scale : (int64_t)(scale * 1000 * u2);
        else
            v = u1 < 0.5 ? (int64_t)(u2 * 3) : FB_HIST_HIGHEST - (int64_t)(u2 * 1e9);
        fb_hist_record_n (h, v, 1 + (int64_t)fb_rng_below (rng, 3));
    }
    return h;
}

/* The compact form holds exactly the buckets of full, and answers every query the same. */
static void s_assert_same (const fb_hist_compact_t *c, const fb_hist_t *full) {
    assert_int_equal (fb_hist_compact_count (c), fb_hist_count (full));
    assert_int_equal (fb_hist_compact_min (c), fb_hist_min (full));
    assert_int_equal (fb_hist_compact_max (c), fb_hist_max (full));
    assert_true (fb_hist_compact_mean (c) == fb_hist_mean (full));
    assert_true (fb_hist_compact_stddev (c) == fb_hist_stddev (full));
    for (size_t i = 0; i < sizeof s_percentiles / sizeof s_percentiles[0]; i++)
        assert_int_equal (fb_hist_compact_value_at_percentile (c, s_percentiles[i]),
                          fb_hist_value_at_percentile (full, s_percentiles[i]));
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, full);
    int32_t k = 0;
    while (fb_hist_iter_next (&it)) {
        assert_true (k < fb_hist_compact_buckets (c));
        fb_hist_compact_bucket_t b;
        fb_hist_compact_bucket (c, k++, &b);
        assert_int_equal (b.index, it.index);
        assert_int_equal (b.count, it.count);
        assert_int_equal (b.value, it.value);
        assert_int_equal (b.value_lowest, it.value_lowest);
    }
    assert_int_equal (k, fb_hist_compact_buckets (c));
}

static void test_merged_compacts_equal_the_bucket_sum_of_full_histograms (void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        uint64_t rng = seed * 0x9e3779b97f4a7c15ULL;
        fb_hist_t *fleet = fb_hist_new_default (NULL);
        fb_hist_compact_t *compact = fb_hist_compact_new_default (NULL);
        assert_non_null (fleet);
        assert_non_null (compact);
        int hosts = 1 + (int)fb_rng_below (&rng, 6);
        for (int i = 0; i < hosts; i++) {
            fb_hist_t *host = s_random_hist (&rng);
            fb_hist_compact_t *one = fb_hist_compact_from_hist (host, NULL);
            assert_non_null (one);
            s_assert_same (one, host);
            assert_int_equal (fb_hist_merge (fleet, host, NULL), 0);
            assert_int_equal (fb_hist_compact_merge (compact, one, NULL), 0);
            s_assert_same (compact, fleet);
            fb_hist_compact_destroy (&one);
            fb_hist_destroy (&host);
        }
        fb_hist_t *back = fb_hist_new_default (NULL);
        assert_int_equal (fb_hist_compact_merge_into_hist (back, compact, NULL), 0);
        s_assert_same (compact, back);
        fb_hist_destroy (&back);
        fb_hist_compact_destroy (&compact);
        fb_hist_destroy (&fleet);
    }
}

/* HdrHistogram's V2 payload, written the long way: every bucket from 0 to the last used one,
 * runs of two or more empty buckets as minus their length. */
static size_t s_reference_payload (const fb_hist_t *h, uint8_t *out) {
    int32_t last = -1;
    fb_hist_iter_t it;
    fb_hist_iter_init (&it, h);
    while (fb_hist_iter_next (&it))
        last = it.index;
    size_t n = 0;
    for (int32_t i = 0; i <= (last < 0 ? 0 : last);) {
        int64_t value = fb_hist_count_at_index (h, i++), zeros = 0;
        if (value == 0)
            for (zeros = 1; i <= last && fb_hist_count_at_index (h, i) == 0; i++)
                zeros++;
        uint64_t v = zeros > 1 ? ((uint64_t)zeros << 1) - 1 : (uint64_t)value << 1;
        for (int b = 0; b < 8 && v >= 0x80; b++, v >>= 7)
            out[n++] = (uint8_t)(v | 0x80);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void test_encode_walks_used_buckets_to_hdrhistogram_bytes (void **state) {
    (void)state;
    static uint8_t raw[1 << 20], ref[1 << 20];
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t rng = seed * 0x2545f4914f6cdd1dULL;
        fb_hist_t *h = s_random_hist (&rng);
        fb_hist_compact_t *c = fb_hist_compact_from_hist (h, NULL);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal (fb_hist_compact_encode (c, &buf, &len, NULL), 0);
        assert_memory_equal (buf, "\x1c\x84\x93\x14", 4);
        uLongf raw_len = sizeof raw;
        assert_int_equal (uncompress (raw, &raw_len, buf + 8, len - 8), Z_OK);
        size_t ref_len = s_reference_payload (h, ref);
        assert_int_equal (raw_len, 40 + ref_len);
        assert_memory_equal (raw + 40, ref, ref_len);
        /* Either form's bytes decode into the other. */
        fb_hist_t *full = fb_hist_decode (buf, len, NULL);
        assert_non_null (full);
        s_assert_same (c, full);
        uint8_t *full_buf = NULL;
        size_t full_len = 0;
        assert_int_equal (fb_hist_encode (h, &full_buf, &full_len, NULL), 0);
        fb_hist_compact_t *back = fb_hist_compact_decode (full_buf, full_len, NULL);
        assert_non_null (back);
        s_assert_same (back, h);
        fb_hist_compact_t *plain = fb_hist_compact_decode (raw, raw_len, NULL);
        assert_non_null (plain);
        s_assert_same (plain, h);
        fb_hist_compact_destroy (&plain);
        fb_hist_compact_destroy (&back);
        free (full_buf);
        fb_hist_destroy (&full);
        free (buf);
        fb_hist_compact_destroy (&c);
        fb_hist_destroy (&h);
    }
}

/* Other boundaries merge as the full form merges them: each bucket at its median. */
static void test_merge_of_other_layouts_matches_the_full_merge (void **state) {
    (void)state;
    uint64_t rng = 77;
    for (int sigfigs = 1; sigfigs <= 5; sigfigs++) {
        fb_hist_t *other = fb_hist_new (1000, 100000000000LL, sigfigs, NULL);
        assert_non_null (other);
        for (int i = 0; i < 2000; i++)
            fb_hist_record (other, (int64_t)(1e6 * exp (3 * fb_rng_unit (&rng))));
        fb_hist_record (other, 100000000000LL); /* past the default's highest after re-bucketing */
        fb_hist_t *full = fb_hist_new (1, 3600000000LL, 3, NULL);
        fb_hist_compact_t *compact = fb_hist_compact_new (1, 3600000000LL, 3, NULL);
        fb_hist_compact_t *from = fb_hist_compact_from_hist (other, NULL);
        assert_int_equal (fb_hist_merge (full, other, NULL), 0);
        assert_int_equal (fb_hist_compact_merge (compact, from, NULL), 0);
        s_assert_same (compact, full);
        fb_hist_compact_destroy (&from);
        fb_hist_compact_destroy (&compact);
        fb_hist_destroy (&full);
        fb_hist_destroy (&other);
    }
}

static void test_empty_compact_answers_zeros_and_encodes_as_hdrhistogram (void **state) {
    (void)state;
    fb_hist_compact_t *c = fb_hist_compact_new_default (NULL);
    fb_hist_t *h = fb_hist_new_default (NULL);
    s_assert_same (c, h);
    uint8_t *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    assert_int_equal (fb_hist_compact_encode (c, &a, &a_len, NULL), 0);
    assert_int_equal (fb_hist_encode (h, &b, &b_len, NULL), 0);
    assert_int_equal (a_len, b_len);
    assert_memory_equal (a, b, a_len);
    fb_hist_compact_t *back = fb_hist_compact_decode (a, a_len, NULL);
    assert_non_null (back);
    assert_int_equal (fb_hist_compact_count (back), 0);
    assert_int_equal (fb_hist_compact_buckets (back), 0);
    fb_hist_compact_destroy (&back);
    free (a);
    free (b);
    fb_hist_destroy (&h);
    fb_hist_compact_destroy (&c);
}

/* An uncompressed V2 header claiming the widest layout (5 digits, 1 .. 2^62: ~6 million
 * buckets) with one count far up: the compact form holds one bucket, whatever the range. */
static void test_decode_of_a_wide_header_holds_only_the_used_bucket (void **state) {
    (void)state;
    uint8_t v2[64] = {0x1c, 0x84, 0x93, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
    v2[23] = 1;                   /* lowest 1 */
    v2[24] = 0x40;                /* highest 2^62 */
    v2[32] = 0x3f, v2[33] = 0xf0; /* ratio 1.0 */
    size_t n = 40;
    uint64_t zigzag = (uint64_t)5000000 * 2 - 1; /* a run of 5 000 000 empty buckets */
    for (; zigzag >= 0x80; zigzag >>= 7)
        v2[n++] = (uint8_t)(zigzag | 0x80);
    v2[n++] = (uint8_t)zigzag;
    v2[n++] = 2 * 7; /* count 7 */
    v2[7] = (uint8_t)(n - 40);
    fb_err_t err = {0};
    fb_hist_compact_t *c = fb_hist_compact_decode (v2, n, &err);
    if (!c)
        fail_msg ("%s", err.msg);
    assert_int_equal (fb_hist_compact_buckets (c), 1);
    assert_int_equal (fb_hist_compact_count (c), 7);
    fb_hist_compact_bucket_t b;
    fb_hist_compact_bucket (c, 0, &b);
    assert_int_equal (b.index, 5000000);
    fb_hist_compact_destroy (&c);
}

/* Packed (a histogram at rest): every answer, the V2 bytes, a merge from it and a merge into
 * it are those of the full histogram; it holds fewer bytes than the arrays did. */
static void test_packed_answers_and_merges_as_the_full_histogram (void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t rng = seed * 0x2545f4914f6cdd1dULL;
        fb_hist_t *a = s_random_hist (&rng), *b = s_random_hist (&rng);
        fb_hist_compact_t *packed = fb_hist_compact_from_hist (a, NULL);
        fb_hist_compact_t *plain = fb_hist_compact_from_hist (a, NULL);
        assert_non_null (packed);
        assert_non_null (plain);
        size_t before = fb_hist_compact_bytes (packed);
        assert_int_equal (fb_hist_compact_pack (packed, NULL), 0);
        assert_true (fb_hist_compact_buckets (packed) == 0 || fb_hist_compact_is_packed (packed));
        assert_true (fb_hist_compact_bytes (packed) <= before);
        s_assert_same (packed, a);
        uint8_t *x = NULL, *y = NULL;
        size_t xl = 0, yl = 0;
        assert_int_equal (fb_hist_compact_encode (packed, &x, &xl, NULL), 0);
        assert_int_equal (fb_hist_compact_encode (plain, &y, &yl, NULL), 0);
        assert_int_equal (xl, yl);
        assert_memory_equal (x, y, xl);
        free (x);
        free (y);
        /* from a packed one */
        fb_hist_compact_t *into = fb_hist_compact_from_hist (b, NULL);
        assert_int_equal (fb_hist_compact_merge (into, packed, NULL), 0);
        fb_hist_t *sum = fb_hist_new_default (NULL);
        assert_int_equal (fb_hist_merge (sum, a, NULL), 0);
        assert_int_equal (fb_hist_merge (sum, b, NULL), 0);
        s_assert_same (into, sum);
        /* into a packed one: unpacked, then the same sum */
        fb_hist_compact_t *other = fb_hist_compact_from_hist (b, NULL);
        assert_int_equal (fb_hist_compact_merge (packed, other, NULL), 0);
        assert_false (fb_hist_compact_is_packed (packed));
        s_assert_same (packed, sum);
        fb_hist_compact_destroy (&other);
        fb_hist_compact_destroy (&into);
        fb_hist_compact_destroy (&plain);
        fb_hist_compact_destroy (&packed);
        fb_hist_destroy (&sum);
        fb_hist_destroy (&a);
        fb_hist_destroy (&b);
    }
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_merged_compacts_equal_the_bucket_sum_of_full_histograms),
        cmocka_unit_test (test_packed_answers_and_merges_as_the_full_histogram),
        cmocka_unit_test (test_encode_walks_used_buckets_to_hdrhistogram_bytes),
        cmocka_unit_test (test_merge_of_other_layouts_matches_the_full_merge),
        cmocka_unit_test (test_empty_compact_answers_zeros_and_encodes_as_hdrhistogram),
        cmocka_unit_test (test_decode_of_a_wide_header_holds_only_the_used_bucket),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* rng.h: the one pseudo-random step everything here uses: xorshift64 (Marsaglia 2003), fast,
 * allocation-free and good enough to pick paths, message types and ids. Not for secrets
 * (the tor model's keys come from OpenSSL). fb_wl_op_t.rng is such a state, one per worker. */
#ifndef FB_RNG_H
#define FB_RNG_H

#include <stdint.h>

/* Advances *state and returns it; a state of 0 (xorshift's one fixed point) is seeded first. */
static inline uint64_t fb_rng_next (uint64_t *state) {
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* A number in 0..n-1 (n > 0). */
static inline uint64_t fb_rng_below (uint64_t *state, uint64_t n) {
    return fb_rng_next (state) % n;
}

/* A double in (0, 1]: the top 53 bits. */
static inline double fb_rng_unit (uint64_t *state) {
    return ((fb_rng_next (state) >> 11) + 1.0) / 9007199254740993.0;
}

#endif

/* tor_exchange.h: what a stream carries in both modes, the model's exits and the real-tor sink
 * alike: one request, one response, and how long each took. */
#ifndef FB_TOR_EXCHANGE_H
#define FB_TOR_EXCHANGE_H

#include "common/err.h"
#include "common/hist.h"

#include <stdint.h>

/* The only destination exits allow (BEGIN "127.0.0.1:80"); anything else ends with
 * EXITPOLICY. A request to the sink is a header of two big-endian 32-bit numbers, the request's
 * total length (header included) and the response's length, then filler up to the request
 * length; the sink answers with that many bytes, byte i of a response being i mod 251. */
#define FB_TOR_SINK_ADDRESS "127.0.0.1"
#define FB_TOR_SINK_PORT 80
#define FB_TOR_SINK_HEADER_LEN 8

/* Byte i of every response. */
#define FB_TOR_SINK_BYTE(i) ((uint8_t)((i) % 251))

/* How one request/response exchange went. */
typedef struct {
    int64_t ttfb_ns;  /* first request cell queued -> first response byte */
    int64_t total_ns; /* first request cell queued -> last response byte */
    uint64_t bytes;   /* request + response bytes moved */
} fb_tor_xfer_t;

/* How one step of a stream ended, an open or an exchange, in either mode. */
typedef struct {
    int rc; /* 0, or -1 with err */
    fb_err_t err;
    int64_t ended_ns;   /* monotonic */
    int64_t open_ns;    /* an open: BEGIN or SOCKS CONNECT -> the stream is connected */
    fb_tor_xfer_t xfer; /* an exchange */
} fb_tor_step_t;

/* OnionPerf's transfers, as the Tor Project's public measurements make them: a download of
 * 50 KiB, 1 MiB or 5 MiB on a fresh stream, timed from the stream's start (the open
 * included) to the first byte (ttfb) and to the last (ttlb). tor.stream with `onionperf: true`
 * makes each op one of them in turn and records metrics FB_TOR_ONIONPERF_METRIC (size's
 * ttfb) and the one after it (its ttlb); the two workloads' metric lists put them there. */
#define FB_TOR_ONIONPERF_SIZES 3
#define FB_TOR_ONIONPERF_METRIC(size) (2 + 2 * (size)) /* after open and ttfb */
static inline uint32_t fb_tor_onionperf_bytes (int size) {
    return size == 0 ? 50u << 10 : size == 1 ? 1u << 20 : 5u << 20;
}

/* Records one OnionPerf transfer of size (0..2) that started (the stream's open) at start_ns
 * and ended with its last byte at end_ns: ttlb is the whole, ttfb the whole less the part
 * after the first response byte. */
static inline void fb_tor_onionperf_record (fb_hist_t *const *metrics, int size, int64_t start_ns,
                                            int64_t end_ns, const fb_tor_xfer_t *xfer) {
    int64_t ttlb = end_ns - start_ns, after_first = xfer->total_ns - xfer->ttfb_ns;
    fb_hist_record_atomic (metrics[FB_TOR_ONIONPERF_METRIC (size)],
                           ttlb > after_first ? ttlb - after_first : 0);
    fb_hist_record_atomic (metrics[FB_TOR_ONIONPERF_METRIC (size) + 1], ttlb);
}

#endif

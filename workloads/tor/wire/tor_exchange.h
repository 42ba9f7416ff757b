/* tor_exchange.h: what a stream carries in both modes, the model's exits and the real-tor sink
 * alike: one request, one response, and how long each took. */
#ifndef FB_TOR_EXCHANGE_H
#define FB_TOR_EXCHANGE_H

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

#endif

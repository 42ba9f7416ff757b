/* tor_socks.h: streams through a tor client's SOCKS port (RFC 1928 CONNECT with RFC 1929
 * username/password), the loopback sink they reach, and the tor.stream workload in mode tor.
 * The sink speaks the model's protocol (tor_relay.h): a request is two big-endian 32-bit
 * numbers, the request's total length and the response's length, then filler; the answer is
 * that many bytes, byte i being i mod 251. A stream carries any number of exchanges. */
#ifndef FB_TOR_SOCKS_H
#define FB_TOR_SOCKS_H

#include "err.h"
#include "tor_client.h"
#include "workload.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fb_tor_sink fb_tor_sink_t;

/* A thread serving the sink on 127.0.0.1 (a port the kernel picks). */
fb_tor_sink_t *fb_tor_sink_new (fb_err_t *err);
/* Stops the thread, closes every connection. */
void fb_tor_sink_destroy (fb_tor_sink_t **self_p);
uint16_t fb_tor_sink_port (const fb_tor_sink_t *self);

/* Opens a stream to 127.0.0.1:dest_port through the SOCKS port. tor puts streams of different
 * usernames on different circuits (IsolateSOCKSAuth). open_ns (may be NULL): the CONNECT
 * request sent -> tor's success reply, which is the BEGIN/CONNECTED round trip through the
 * circuit (and the circuit's build when tor had none ready). *fd_p: a non-blocking socket. */
int fb_tor_socks_connect (uint16_t socks_port, const char *username, uint16_t dest_port,
                          int64_t timeout_ns, int *fd_p, int64_t *open_ns, fb_err_t *err);
/* One exchange on a stream to the sink: request bytes out (at least FB_TOR_SINK_HEADER_LEN),
 * response bytes back, checked. buf: scratch space for reading (any size > 0). */
int fb_tor_socks_exchange (int fd, uint32_t request, uint32_t response, uint8_t *buf,
                           size_t buf_len, int64_t timeout_ns, fb_tor_xfer_t *xfer, fb_err_t *err);

/* tor.stream in mode tor: tor_stream.c dispatches to it. Its counters are written in
 * tor.stream's order (streams, bytes, sendme_stalls, bad_cells, failures, circuits, tor_rss,
 * tor_hwm, tor_net_rss) and its metrics are tor.stream's (open, ttfb). */
extern const fb_workload_t fb_tor_socks_stream_mode;

#endif

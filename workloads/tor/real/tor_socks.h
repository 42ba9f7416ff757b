/* tor_socks.h: streams through a tor client's SOCKS port (RFC 1928 CONNECT with RFC 1929
 * username/password) to the loopback sink (tor_sink.h), which speaks the model's request
 * format (workloads/tor/wire/tor_exchange.h). A stream carries any number of exchanges. */
#ifndef FB_TOR_SOCKS_H
#define FB_TOR_SOCKS_H

#include "common/err.h"
#include "workloads/tor/wire/tor_exchange.h"

#include <stddef.h>
#include <stdint.h>

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

#endif

/* sockio.h: blocking-with-a-deadline I/O on non-blocking stream sockets, for the clients that
 * talk to a local server one request at a time (tor's control and SOCKS ports, the sink). */
#ifndef FB_SOCKIO_H
#define FB_SOCKIO_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1 when fd is ready for events (POLLIN, POLLOUT), 0 at the deadline (monotonic ns), -1 on
 * error. */
int fb_sockio_wait (int fd, short events, int64_t deadline_ns);
/* Connects a non-blocking TCP socket to 127.0.0.1:port by the deadline; *fd_p is then ours. */
int fb_sockio_connect_loopback (uint16_t port, int64_t deadline_ns, int *fd_p, fb_err_t *err);
/* Sends all len bytes by the deadline ("send: ..." or "send timed out" otherwise). */
int fb_sockio_send_all (int fd, const void *data, size_t len, int64_t deadline_ns, fb_err_t *err);
/* Reads up to len bytes, at least one, by the deadline; the peer closing is an error. */
ssize_t fb_sockio_recv_some (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err);
/* Reads exactly len bytes by the deadline. */
int fb_sockio_recv_all (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err);

#endif

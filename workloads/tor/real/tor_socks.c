/* tor_socks.c: the SOCKS5 client (RFC 1928 CONNECT, RFC 1929 username) that opens streams
 * through a tor client, and one request/response exchange with the sink on such a stream. */
#include "workloads/tor/real/tor_socks.h"

#include "common/clock.h"
#include "common/sockio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the SOCKS5 client ------------------------------------------------------------------ */

/* The CONNECT reply: VER REP RSV ATYP, then an address of ATYP's length and a port. */
static int s_read_connect_reply (int fd, int64_t deadline_ns, fb_err_t *err) {
    uint8_t head[4], rest[258];
    if (fb_sockio_recv_all (fd, head, sizeof head, deadline_ns, err) != 0)
        return -1;
    if (head[0] != 5 || head[1] != 0)
        return fb_err_set (err, FB_EINPUT, "tor's SOCKS port refused the stream (reply %u)",
                           (unsigned)head[1]);
    size_t len = head[3] == 1 ? 4 + 2 : head[3] == 4 ? 16 + 2 : 0;
    if (head[3] == 3) {
        if (fb_sockio_recv_all (fd, rest, 1, deadline_ns, err) != 0)
            return -1;
        len = (size_t)rest[0] + 2;
    }
    if (len == 0)
        return fb_err_set (err, FB_EINPUT, "tor's SOCKS reply has address type %u",
                           (unsigned)head[3]);
    return fb_sockio_recv_all (fd, rest, len, deadline_ns, err);
}

int fb_tor_socks_connect (uint16_t socks_port, const char *username, uint16_t dest_port,
                          int64_t timeout_ns, int *fd_p, int64_t *open_ns, fb_err_t *err) {
    int64_t deadline = fb_clock_now_ns () + timeout_ns;
    size_t ulen = strlen (username);
    if (ulen == 0 || ulen > 255)
        return fb_err_set (err, FB_EINPUT, "a SOCKS username has 1 to 255 bytes");
    int fd = -1;
    if (fb_sockio_connect_loopback (socks_port, deadline, &fd, err) != 0)
        return -1;
    uint8_t hello[] = {5, 1, 2}, auth[2 + 255 + 2], answer[2];
    uint8_t connect[] = {5, 1, 0, 1, 127, 0, 0, 1, (uint8_t)(dest_port >> 8), (uint8_t)dest_port};
    auth[0] = 1;
    auth[1] = (uint8_t)ulen;
    memcpy (auth + 2, username, ulen);
    auth[2 + ulen] = 1; /* a password of one byte: tor looks at neither */
    auth[3 + ulen] = 'x';
    if (fb_sockio_send_all (fd, hello, sizeof hello, deadline, err) != 0 ||
        fb_sockio_recv_all (fd, answer, 2, deadline, err) != 0)
        goto fail;
    if (answer[0] != 5 || answer[1] != 2) {
        fb_err_set (err, FB_EINPUT, "the SOCKS port does not take username/password");
        goto fail;
    }
    if (fb_sockio_send_all (fd, auth, 4 + ulen, deadline, err) != 0 ||
        fb_sockio_recv_all (fd, answer, 2, deadline, err) != 0)
        goto fail;
    if (answer[1] != 0) {
        fb_err_set (err, FB_EINPUT, "the SOCKS port refused our username");
        goto fail;
    }
    int64_t t0 = fb_clock_now_ns ();
    if (fb_sockio_send_all (fd, connect, sizeof connect, deadline, err) != 0 ||
        s_read_connect_reply (fd, deadline, err) != 0)
        goto fail;
    if (open_ns)
        *open_ns = fb_clock_now_ns () - t0;
    *fd_p = fd;
    return 0;
fail:
    close (fd);
    return -1;
}

int fb_tor_socks_exchange (int fd, uint32_t request, uint32_t response, uint8_t *buf,
                           size_t buf_len, int64_t timeout_ns, fb_tor_xfer_t *xfer, fb_err_t *err) {
    static const uint8_t filler[4096];
    int64_t t0 = fb_clock_now_ns (), deadline = t0 + timeout_ns;
    uint8_t header[FB_TOR_SINK_HEADER_LEN] = {(uint8_t)(request >> 24),  (uint8_t)(request >> 16),
                                              (uint8_t)(request >> 8),   (uint8_t)request,
                                              (uint8_t)(response >> 24), (uint8_t)(response >> 16),
                                              (uint8_t)(response >> 8),  (uint8_t)response};
    if (request < FB_TOR_SINK_HEADER_LEN)
        return fb_err_set (err, FB_EINPUT, "a request has at least %d bytes",
                           FB_TOR_SINK_HEADER_LEN);
    if (fb_sockio_send_all (fd, header, sizeof header, deadline, err) != 0)
        return -1;
    for (uint32_t left = request - FB_TOR_SINK_HEADER_LEN; left > 0;) {
        uint32_t n = left < sizeof filler ? left : (uint32_t)sizeof filler;
        if (fb_sockio_send_all (fd, filler, n, deadline, err) != 0)
            return -1;
        left -= n;
    }
    int64_t first = 0;
    for (uint32_t got = 0; got < response;) {
        size_t want = response - got < buf_len ? response - got : buf_len;
        ssize_t n = fb_sockio_recv_some (fd, buf, want, deadline, err);
        if (n < 0)
            return -1;
        if (got == 0)
            first = fb_clock_now_ns ();
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (uint8_t)((got + (uint32_t)i) % 251))
                return fb_err_set (err, FB_EINPUT, "response byte %u is wrong", got + (unsigned)i);
        got += (uint32_t)n;
    }
    int64_t end = fb_clock_now_ns ();
    if (xfer)
        *xfer = (fb_tor_xfer_t){.ttfb_ns = (response ? first : end) - t0,
                                .total_ns = end - t0,
                                .bytes = (uint64_t)request + response};
    return 0;
}

/* sockio.c: poll() until the deadline between non-blocking calls; EINTR and EAGAIN retried. */
#include "common/sockio.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fb_sockio_wait (int fd, short events, int64_t deadline_ns) {
    for (;;) {
        int64_t left = deadline_ns - fb_clock_now_ns ();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll (&p, 1, (int)((left + FB_NS_PER_MS - 1) / FB_NS_PER_MS));
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int fb_sockio_connect_loopback (uint16_t port, int64_t deadline_ns, int *fd_p, fb_err_t *err) {
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), soerr = 0;
    socklen_t len = sizeof soerr;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons (port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
                   (errno != EINPROGRESS || fb_sockio_wait (fd, POLLOUT, deadline_ns) != 1 ||
                    getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0))) {
        int saved = soerr ? soerr : errno ? errno : ETIMEDOUT;
        if (fd >= 0)
            close (fd);
        return fb_err_set (err, FB_ESYS, "cannot connect to 127.0.0.1:%u: %s", (unsigned)port,
                           strerror (saved));
    }
    *fd_p = fd;
    return 0;
}

int fb_sockio_send_all (int fd, const void *data, size_t len, int64_t deadline_ns, fb_err_t *err) {
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
            return fb_err_set (err, FB_ESYS, "send: %s", strerror (errno));
        else if (fb_sockio_wait (fd, POLLOUT, deadline_ns) != 1)
            return fb_err_set (err, FB_ESYS, "send timed out");
    }
    return 0;
}

ssize_t fb_sockio_recv_some (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err) {
    for (;;) {
        ssize_t n = recv (fd, buf, len, 0);
        if (n > 0)
            return n;
        if (n == 0)
            return fb_err_set (err, FB_ESYS, "the peer closed the connection");
        if (errno != EAGAIN && errno != EINTR)
            return fb_err_set (err, FB_ESYS, "recv: %s", strerror (errno));
        if (fb_sockio_wait (fd, POLLIN, deadline_ns) != 1)
            return fb_err_set (err, FB_ESYS, "recv timed out");
    }
}

int fb_sockio_recv_all (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err) {
    for (size_t got = 0; got < len;) {
        ssize_t n = fb_sockio_recv_some (fd, (uint8_t *)buf + got, len - got, deadline_ns, err);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* http_loop.c: an epoll set, an eventfd to stop its thread, the thread. */
#include "workloads/proxy/http_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

void fb_http_loop_init (fb_http_loop_t *self) {
    *self = (fb_http_loop_t){.epfd = -1, .wakefd = -1};
}

int fb_http_loop_open (fb_http_loop_t *self, epoll_data_t wake, const char *prefix, fb_err_t *err) {
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    self->wakefd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->epfd < 0 || self->wakefd < 0)
        return fb_err_set (err, FB_ESYS, "%scannot create an epoll loop: %s", prefix,
                           strerror (errno));
    struct epoll_event ev = {.events = EPOLLIN, .data = wake};
    if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->wakefd, &ev) != 0)
        return fb_err_set (err, FB_ESYS, "%sepoll_ctl: %s", prefix, strerror (errno));
    return 0;
}

int fb_http_loop_start (fb_http_loop_t *self, void *(*run) (void *), void *arg, const char *prefix,
                        fb_err_t *err) {
    int rc = pthread_create (&self->thread, NULL, run, arg);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "%scannot start a thread: %s", prefix, strerror (rc));
    self->started = true;
    return 0;
}

void fb_http_loop_stop (fb_http_loop_t *self) {
    if (!self->started)
        return;
    eventfd_write (self->wakefd, 1);
    pthread_join (self->thread, NULL);
    self->started = false;
}

void fb_http_loop_close (fb_http_loop_t *self) {
    if (self->epfd >= 0)
        close (self->epfd);
    if (self->wakefd >= 0)
        close (self->wakefd);
    self->epfd = self->wakefd = -1;
}

/* ---- listening -------------------------------------------------------------------------- */

int fb_http_loop_listen (int port_base, int *port, fb_err_t *err) {
    int last_errno = 0;
    for (int p = port_base; p < port_base + FB_HTTP_PORT_TRIES && p <= 65535; p++) {
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return fb_err_set (err, FB_ESYS, "cannot create a socket: %s", strerror (errno));
        int one = 1;
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* not REUSEPORT */
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons ((uint16_t)p),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        if (bind (fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen (fd, 1024) == 0) {
            *port = p;
            return fd;
        }
        last_errno = errno;
        close (fd);
        if (last_errno != EADDRINUSE && last_errno != EACCES)
            break;
    }
    return fb_err_set (err, FB_ESYS,
                       "no free port on 127.0.0.1 from %d to %d (%s): choose another port_base",
                       port_base, port_base + FB_HTTP_PORT_TRIES - 1, strerror (last_errno));
}

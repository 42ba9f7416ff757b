/* tor_sink.c: the loopback sink that streams through real tor reach. One thread with one poll
 * loop over non-blocking connections: each reads a request's header and filler, then writes
 * the response from a repeating pattern, then waits for the next request. Clients never send a
 * request before the previous response is read, so a connection is either reading or writing.
 * The request format is the model exit's (workloads/tor/wire/tor_exchange.h). */
#include "workloads/tor/real/tor_sink.h"

#include "common/clock.h"
#include "workloads/tor/wire/tor_exchange.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_SINK_MAX_CONNS 8192

#define S_PATTERN_LEN (251 * 64) /* byte i is i mod 251: any offset starts a run of the pattern */
#define S_SINK_MAX_CONNS 8192

static uint8_t s_pattern[S_PATTERN_LEN];
static pthread_once_t s_pattern_once = PTHREAD_ONCE_INIT;

static void s_pattern_init (void) {
    for (int i = 0; i < S_PATTERN_LEN; i++)
        s_pattern[i] = FB_TOR_SINK_BYTE (i);
}

/* ---- the sink --------------------------------------------------------------------------- */

typedef struct {
    int fd;
    int header_got; /* 0..8; 8: a request is being served */
    uint8_t header[FB_TOR_SINK_HEADER_LEN];
    uint64_t filler_left; /* request bytes still to read */
    uint64_t to_send, sent;
} s_conn_t;

struct fb_tor_sink {
    int listener;
    int wake[2]; /* a byte on wake[1] stops the thread */
    uint16_t port;
    pthread_t thread;
    bool started;
    s_conn_t *conns;
    struct pollfd *fds;
    int nconns, cap;
    uint8_t buf[65536];
};

static void s_conn_reset (s_conn_t *c) {
    c->header_got = 0;
    c->filler_left = c->to_send = c->sent = 0;
}

/* Takes bytes read on c; -1 ends the connection (bytes it should not have sent). */
static int s_conn_take (s_conn_t *c, const uint8_t *data, size_t len) {
    while (len > 0) {
        if (c->header_got == FB_TOR_SINK_HEADER_LEN && c->filler_left == 0)
            return -1; /* the next request came before the response was read */
        if (c->header_got < FB_TOR_SINK_HEADER_LEN) {
            size_t n = (size_t)(FB_TOR_SINK_HEADER_LEN - c->header_got);
            n = n < len ? n : len;
            memcpy (c->header + c->header_got, data, n);
            c->header_got += (int)n;
            data += n;
            len -= n;
            if (c->header_got < FB_TOR_SINK_HEADER_LEN)
                return 0;
            uint32_t request = (uint32_t)c->header[0] << 24 | (uint32_t)c->header[1] << 16 |
                               (uint32_t)c->header[2] << 8 | c->header[3];
            if (request < FB_TOR_SINK_HEADER_LEN)
                return -1;
            c->filler_left = request - FB_TOR_SINK_HEADER_LEN;
            c->to_send = (uint32_t)c->header[4] << 24 | (uint32_t)c->header[5] << 16 |
                         (uint32_t)c->header[6] << 8 | c->header[7];
        } else {
            size_t n = c->filler_left < len ? (size_t)c->filler_left : len;
            c->filler_left -= n;
            data += n;
            len -= n;
        }
        if (c->filler_left == 0 && c->to_send == 0)
            s_conn_reset (c); /* an empty response: done */
    }
    return 0;
}

/* Serves one ready connection; -1 when it is to be closed. */
static int s_conn_serve (fb_tor_sink_t *self, s_conn_t *c) {
    bool sending =
        c->header_got == FB_TOR_SINK_HEADER_LEN && c->filler_left == 0 && c->to_send > c->sent;
    if (sending) {
        size_t at = (size_t)(c->sent % 251), n = S_PATTERN_LEN - at;
        n = c->to_send - c->sent < n ? (size_t)(c->to_send - c->sent) : n;
        ssize_t w = send (c->fd, s_pattern + at, n, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->sent += (uint64_t)w;
        if (c->sent == c->to_send)
            s_conn_reset (c);
        return 0;
    }
    ssize_t r = recv (c->fd, self->buf, sizeof self->buf, 0);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return r == 0 ? -1 : s_conn_take (c, self->buf, (size_t)r);
}

static void s_accept (fb_tor_sink_t *self) {
    for (;;) {
        int fd = accept4 (self->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (self->nconns == self->cap) {
            int cap = self->cap ? self->cap * 2 : 64;
            s_conn_t *conns =
                cap <= S_SINK_MAX_CONNS ? realloc (self->conns, (size_t)cap * sizeof *conns) : NULL;
            if (conns)
                self->conns = conns;
            struct pollfd *fds =
                conns ? realloc (self->fds, (size_t)(cap + 2) * sizeof *fds) : NULL;
            if (fds)
                self->fds = fds;
            if (!conns || !fds) {
                close (fd);
                continue;
            }
            self->cap = cap;
        }
        s_conn_t *c = &self->conns[self->nconns++];
        c->fd = fd;
        s_conn_reset (c);
    }
}

static void *s_sink_main (void *arg) {
    fb_tor_sink_t *self = arg;
    struct pollfd fixed[2];
    for (;;) {
        struct pollfd *fds = self->fds ? self->fds : fixed;
        fds[0] = (struct pollfd){.fd = self->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = self->listener, .events = POLLIN};
        for (int i = 0; i < self->nconns; i++) {
            s_conn_t *c = &self->conns[i];
            bool sending = c->header_got == FB_TOR_SINK_HEADER_LEN && c->filler_left == 0 &&
                           c->to_send > c->sent;
            fds[2 + i] = (struct pollfd){.fd = c->fd, .events = sending ? POLLOUT : POLLIN};
        }
        if (poll (fds, (nfds_t)(2 + self->nconns), -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (int i = self->nconns - 1; i >= 0; i--) {
            if (!fds[2 + i].revents || s_conn_serve (self, &self->conns[i]) == 0)
                continue;
            close (self->conns[i].fd);
            self->conns[i] = self->conns[--self->nconns]; /* fds is rebuilt before the poll */
        }
        if (fds[1].revents)
            s_accept (self); /* may move self->fds: last */
    }
    return NULL;
}

fb_tor_sink_t *fb_tor_sink_new (fb_err_t *err) {
    pthread_once (&s_pattern_once, s_pattern_init);
    fb_tor_sink_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory for the sink");
        return NULL;
    }
    self->wake[0] = self->wake[1] = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    self->listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->listener < 0 || bind (self->listener, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen (self->listener, 1024) != 0 ||
        getsockname (self->listener, (struct sockaddr *)&a, &len) != 0 ||
        pipe2 (self->wake, O_CLOEXEC) != 0) {
        fb_err_set (err, FB_ESYS, "cannot start the loopback sink: %s", strerror (errno));
        fb_tor_sink_destroy (&self);
        return NULL;
    }
    self->port = ntohs (a.sin_port);
    if (pthread_create (&self->thread, NULL, s_sink_main, self) != 0) {
        fb_err_set (err, FB_ESYS, "cannot start the sink's thread");
        fb_tor_sink_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void fb_tor_sink_destroy (fb_tor_sink_t **self_p) {
    fb_tor_sink_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        ssize_t n = write (self->wake[1], "x", 1);
        (void)n;
        pthread_join (self->thread, NULL);
    }
    for (int i = 0; i < self->nconns; i++)
        close (self->conns[i].fd);
    for (int i = 0; i < 2; i++)
        if (self->wake[i] >= 0)
            close (self->wake[i]);
    if (self->listener >= 0)
        close (self->listener);
    free (self->conns);
    free (self->fds);
    free (self);
    *self_p = NULL;
}

uint16_t fb_tor_sink_port (const fb_tor_sink_t *self) { return self->port; }

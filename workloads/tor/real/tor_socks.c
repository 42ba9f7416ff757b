/* tor_socks.c: the SOCKS5 client (RFC 1928 CONNECT, RFC 1929 username) that opens streams
 * through a tor client, and request/response exchanges with the sink on them, as one state
 * machine per stream under edge-triggered epoll: each step sends what it can and reads what
 * has come, and an edge wakes it when either can go on. */
#include "workloads/tor/real/tor_socks.h"

#include "common/clock.h"
#include "common/epollwait.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define S_MAX_EVENTS 64
#define S_READ_BYTES 16384
#define S_GREETING_LEN 3
#define S_CONNECT_LEN 10

/* Below S_CONNECTING no step is in flight. */
enum {
    S_CLOSED,
    S_IDLE,
    S_FAILED, /* open, but its last step failed: only closing is left */
    S_CONNECTING,
    S_GREETING,
    S_AUTH,
    S_REPLY_HEAD,
    S_REPLY_NAME,
    S_REPLY_REST,
    S_EXCHANGE,
};

struct fb_tor_socks_loop {
    int epfd, capacity;
    fb_tor_socks_conn_t **busy; /* streams with a step in flight: their deadlines */
    int nbusy;
    fb_tor_socks_conn_t **ready; /* streams whose step ended, not yet handed back */
    int nready;
    uint8_t buf[S_READ_BYTES];
};

static const uint8_t s_filler[4096];

fb_tor_socks_loop_t *fb_tor_socks_loop_new (int capacity, fb_err_t *err) {
    fb_tor_socks_loop_t *self = calloc (1, sizeof *self);
    if (self) {
        self->capacity = capacity;
        self->epfd = epoll_create1 (EPOLL_CLOEXEC);
        self->busy = calloc ((size_t)capacity, sizeof *self->busy);
        self->ready = calloc ((size_t)capacity, sizeof *self->ready);
    }
    if (!self || self->epfd < 0 || !self->busy || !self->ready) {
        fb_err_set (err, self && self->epfd < 0 ? FB_ESYS : FB_ENOMEM,
                    "a SOCKS loop for %d streams: %s", capacity,
                    self && self->epfd < 0 ? strerror (errno) : "out of memory");
        fb_tor_socks_loop_destroy (&self);
    }
    return self;
}

void fb_tor_socks_loop_destroy (fb_tor_socks_loop_t **self_p) {
    fb_tor_socks_loop_t *self = *self_p;
    if (!self)
        return;
    if (self->epfd > 0)
        close (self->epfd);
    free (self->busy);
    free (self->ready);
    free (self);
    *self_p = NULL;
}

static void s_begin (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, int state,
                     int64_t timeout_ns) {
    assert (self->nbusy < self->capacity);
    c->state = state;
    c->step.rc = 0;
    c->deadline_ns = fb_clock_now_ns () + timeout_ns;
    c->busy_at = self->nbusy;
    self->busy[self->nbusy++] = c;
}

/* The step ended: state is S_IDLE or S_FAILED. */
static int s_end (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, int state) {
    assert (c->state >= S_CONNECTING);
    c->state = state;
    c->step.ended_ns = fb_clock_now_ns ();
    fb_tor_socks_conn_t *last = self->busy[--self->nbusy];
    self->busy[c->busy_at] = last;
    last->busy_at = c->busy_at;
    if (!c->queued) {
        c->queued = true;
        self->ready[self->nready++] = c;
    }
    return 0;
}

static int s_fail (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, const char *fmt, ...) {
    va_list ap;
    va_start (ap, fmt);
    c->step.rc = -1;
    c->step.err.code = FB_ESYS;
    vsnprintf (c->step.err.msg, sizeof c->step.err.msg, fmt, ap);
    va_end (ap);
    s_end (self, c, S_FAILED);
    return -1;
}

/* Sends the window and then the filler; false when the socket is full (or the step failed). */
static bool s_send (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c) {
    while (c->out_off < c->out_len || c->filler_left > 0) {
        size_t head = c->out_len - c->out_off;
        size_t tail = c->filler_left < sizeof s_filler ? c->filler_left : sizeof s_filler;
        struct iovec iov[2] = {{c->out + c->out_off, head}, {(void *)s_filler, tail}};
        struct msghdr msg = {.msg_iov = head ? iov : iov + 1, .msg_iovlen = head ? 2 : 1};
        ssize_t n = sendmsg (c->fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue; /* an edge-triggered socket must be taken to EAGAIN */
        if (n < 0) {
            if (errno != EAGAIN)
                s_fail (self, c, "send to tor's SOCKS port: %s", strerror (errno));
            return false;
        }
        size_t from_head = (size_t)n < head ? (size_t)n : head;
        c->out_off += from_head;
        c->filler_left -= (uint32_t)((size_t)n - from_head);
    }
    return true;
}

/* Reads up to len bytes; 0 when nothing has come (or the step failed). */
static ssize_t s_recv (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, void *buf, size_t len) {
    ssize_t n;
    do
        n = recv (c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR); /* an edge-triggered socket must be taken to EAGAIN */
    if (n > 0)
        return n;
    if (n == 0)
        s_fail (self, c, "tor closed the stream");
    else if (errno != EAGAIN)
        s_fail (self, c, "recv from tor's SOCKS port: %s", strerror (errno));
    return 0;
}

static int s_window (fb_tor_socks_conn_t *c, size_t off, size_t len, size_t reply) {
    c->out_off = off;
    c->out_len = off + len;
    c->in_need = reply;
    c->in_got = 0;
    return 0;
}

/* A reply (in) came whole: the next step of the handshake. */
static int s_reply (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c) {
    const uint8_t *in = c->in;
    switch (c->state) {
    case S_GREETING:
        if (in[0] != 5 || in[1] != 2)
            return s_fail (self, c, "the SOCKS port does not take username/password");
        c->state = S_AUTH;
        return s_window (c, S_GREETING_LEN, c->auth_len, 2);
    case S_AUTH:
        if (in[1] != 0)
            return s_fail (self, c, "the SOCKS port refused our username");
        c->state = S_REPLY_HEAD;
        c->t0_ns = fb_clock_now_ns ();
        return s_window (c, S_GREETING_LEN + c->auth_len, S_CONNECT_LEN, 4);
    case S_REPLY_HEAD: /* VER REP RSV ATYP, then an address of ATYP's length and a port */
        if (in[0] != 5 || in[1] != 0)
            return s_fail (self, c, "tor's SOCKS port refused the stream (reply %u)",
                           (unsigned)in[1]);
        if (in[3] != 1 && in[3] != 3 && in[3] != 4)
            return s_fail (self, c, "tor's SOCKS reply has address type %u", (unsigned)in[3]);
        c->state = in[3] == 3 ? S_REPLY_NAME : S_REPLY_REST;
        c->in_need += in[3] == 1 ? 4 + 2 : in[3] == 4 ? 16 + 2 : 1;
        return 0;
    case S_REPLY_NAME:
        c->state = S_REPLY_REST;
        c->in_need += (size_t)in[4] + 2;
        return 0;
    default: /* S_REPLY_REST */
        c->step.open_ns = fb_clock_now_ns () - c->t0_ns;
        return s_end (self, c, S_IDLE);
    }
}

/* An exchange's response bytes, checked as they come; false when none came. */
static bool s_response (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c) {
    if (c->got == c->response) {
        int64_t end = fb_clock_now_ns ();
        c->step.xfer = (fb_tor_xfer_t){.ttfb_ns = (c->response ? c->first_ns : end) - c->t0_ns,
                                       .total_ns = end - c->t0_ns,
                                       .bytes = (uint64_t)c->request + c->response};
        s_end (self, c, S_IDLE);
        return false;
    }
    uint32_t want = c->response - c->got;
    ssize_t n = s_recv (self, c, self->buf, want < sizeof self->buf ? want : sizeof self->buf);
    if (n == 0)
        return false;
    if (c->got == 0)
        c->first_ns = fb_clock_now_ns ();
    for (ssize_t i = 0; i < n; i++)
        if (self->buf[i] != FB_TOR_SINK_BYTE (c->got + (uint32_t)i)) {
            s_fail (self, c, "response byte %u is wrong", c->got + (unsigned)i);
            return false;
        }
    c->got += (uint32_t)n;
    return true;
}

/* Moves c as far as its socket lets it. */
static void s_drive (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, uint32_t events) {
    if (c->state == S_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            s_fail (self, c, "cannot connect to tor's SOCKS port: %s",
                    strerror (soerr ? soerr : errno));
            return;
        }
        c->state = S_GREETING;
    }
    while (c->state > S_CONNECTING && s_send (self, c)) {
        if (c->state == S_EXCHANGE) {
            if (!s_response (self, c))
                return;
        } else if (c->in_got < c->in_need) {
            ssize_t n = s_recv (self, c, c->in + c->in_got, c->in_need - c->in_got);
            if (n == 0)
                return;
            c->in_got += (size_t)n;
        } else {
            s_reply (self, c);
        }
    }
}

int fb_tor_socks_open_start (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c, uint16_t socks_port,
                             const char *username, uint16_t dest_port, int64_t timeout_ns,
                             fb_err_t *err) {
    assert (c->state == S_CLOSED);
    size_t ulen = strlen (username);
    if (ulen == 0 || ulen > 255)
        return fb_err_set (err, FB_EINPUT, "a SOCKS username has 1 to 255 bytes");
    uint8_t *out = c->out;
    memcpy (out, (uint8_t[]){5, 1, 2}, S_GREETING_LEN); /* SOCKS5, one method: username */
    uint8_t *auth = out + S_GREETING_LEN;
    auth[0] = 1;
    auth[1] = (uint8_t)ulen;
    memcpy (auth + 2, username, ulen);
    auth[2 + ulen] = 1; /* a password of one byte: tor looks at neither */
    auth[3 + ulen] = 'x';
    c->auth_len = 4 + ulen;
    memcpy (auth + c->auth_len,
            (uint8_t[]){5, 1, 0, 1, 127, 0, 0, 1, (uint8_t)(dest_port >> 8), (uint8_t)dest_port},
            S_CONNECT_LEN);
    s_window (c, 0, S_GREETING_LEN, 2);
    c->filler_left = 0;
    c->queued = false;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons (socks_port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (c->fd < 0 || epoll_ctl (self->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0 ||
        (connect (c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS)) {
        int saved = errno;
        if (c->fd >= 0)
            close (c->fd);
        c->fd = -1;
        return fb_err_set (err, FB_ESYS, "cannot connect to 127.0.0.1:%u: %s", (unsigned)socks_port,
                           strerror (saved));
    }
    s_begin (self, c, S_CONNECTING, timeout_ns);
    return 0; /* the connect's edge (EPOLLOUT) starts the greeting */
}

int fb_tor_socks_exchange_start (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c,
                                 uint32_t request, uint32_t response, int64_t timeout_ns,
                                 fb_err_t *err) {
    assert (c->state == S_IDLE);
    if (request < FB_TOR_SINK_HEADER_LEN)
        return fb_err_set (err, FB_EINPUT, "a request has at least %d bytes",
                           FB_TOR_SINK_HEADER_LEN);
    uint8_t *h = c->out; /* two big-endian lengths: the request's and the response's */
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(request >> (24 - 8 * i));
        h[4 + i] = (uint8_t)(response >> (24 - 8 * i));
    }
    s_window (c, 0, FB_TOR_SINK_HEADER_LEN, 0);
    c->request = request;
    c->filler_left = request - FB_TOR_SINK_HEADER_LEN;
    c->response = response;
    c->got = 0;
    c->queued = false;
    c->t0_ns = fb_clock_now_ns ();
    s_begin (self, c, S_EXCHANGE, timeout_ns);
    s_drive (self, c, 0);
    return 0;
}

void fb_tor_socks_close (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *c) {
    if (c->state >= S_CONNECTING)
        s_fail (self, c, "the stream was closed");
    if (c->state != S_CLOSED)
        close (c->fd); /* which takes it out of the epoll set */
    c->fd = -1;
    c->state = S_CLOSED;
}

int fb_tor_socks_loop_poll (fb_tor_socks_loop_t *self, int64_t until_ns,
                            fb_tor_socks_conn_t **ended, int max) {
    struct epoll_event events[S_MAX_EVENTS];
    for (;;) {
        int64_t now = fb_clock_now_ns (), wake = until_ns;
        for (int i = self->nbusy - 1; i >= 0; i--) { /* backwards: an end moves the last here */
            fb_tor_socks_conn_t *c = self->busy[i];
            if (c->deadline_ns <= now)
                s_fail (self, c, "timed out");
            else if (c->deadline_ns < wake)
                wake = c->deadline_ns;
        }
        if (self->nready > 0 || now >= until_ns) {
            int n = 0;
            for (; n < max && self->nready > 0; n++) {
                ended[n] = self->ready[--self->nready];
                ended[n]->queued = false;
            }
            return n;
        }
        int n = fb_epoll_wait_ns (self->epfd, events, S_MAX_EVENTS, wake - now);
        for (int i = 0; i < n; i++)
            s_drive (self, events[i].data.ptr, events[i].events);
    }
}

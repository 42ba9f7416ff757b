/* http_client.c: the load client's engine. Allocation-free once running: connections,
 * parsers and the result ring are made in new; the read buffer is one per client. */
#include "workloads/proxy/http_client.h"

#include "common/clock.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_READ_BYTES 65536
#define S_MAX_EVENTS 64

enum { S_CLOSED, S_CONNECTING, S_IDLE, S_BUSY };

typedef struct {
    fb_http_client_t *client;
    int index, fd, state;
    http_parser parser;
    const uint8_t *req;
    size_t req_len, req_sent;
    uint64_t tag;
    int64_t start_ns, deadline_ns, bytes;
    bool complete, want_out;
} s_conn_t;

struct fb_http_client {
    fb_http_client_cfg_t cfg;
    int epfd;
    s_conn_t *conns;
    int next;               /* where send looks for an idle connection first */
    int in_flight;          /* connections busy or connecting with a request */
    fb_http_result_t *ring; /* ended requests not yet polled: at most one per connection */
    int ring_head, ring_count;
    http_parser_settings settings;
    fb_bytes_t *sink;
    uint8_t buf[S_READ_BYTES];
};

static int s_on_body (http_parser *p, const char *at, size_t len) {
    s_conn_t *c = p->data;
    if (c->client->sink && fb_bytes_append (c->client->sink, at, len) != 0)
        return -1;
    return 0;
}

static int s_on_message_complete (http_parser *p) {
    s_conn_t *c = p->data;
    c->complete = true;
    return 0;
}

fb_http_client_t *fb_http_client_new (const fb_http_client_cfg_t *cfg, fb_err_t *err) {
    fb_http_client_t *self = calloc (1, sizeof *self);
    int n = cfg->connections > 0 ? cfg->connections : 1;
    if (self) {
        self->conns = calloc ((size_t)n, sizeof *self->conns);
        self->ring = calloc ((size_t)n, sizeof *self->ring);
    }
    if (!self || !self->conns || !self->ring) {
        fb_http_client_destroy (&self);
        fb_err_set (err, FB_ENOMEM, "http client: out of memory for %d connections", n);
        return NULL;
    }
    self->cfg = *cfg;
    self->cfg.connections = n;
    self->settings =
        (http_parser_settings){.on_body = s_on_body, .on_message_complete = s_on_message_complete};
    for (int i = 0; i < n; i++)
        self->conns[i] = (s_conn_t){.client = self, .index = i, .fd = -1, .state = S_CLOSED};
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        fb_err_set (err, FB_ESYS, "http client: epoll_create1: %s", strerror (errno));
        fb_http_client_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_drop (s_conn_t *c) {
    if (c->fd >= 0) {
        epoll_ctl (c->client->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close (c->fd);
    }
    c->fd = -1;
    c->state = S_CLOSED;
}

void fb_http_client_destroy (fb_http_client_t **self_p) {
    fb_http_client_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; self->conns && i < self->cfg.connections; i++)
        s_drop (&self->conns[i]);
    if (self->epfd > 0)
        close (self->epfd);
    free (self->conns);
    free (self->ring);
    free (self);
    *self_p = NULL;
}

void fb_http_client_capture (fb_http_client_t *self, fb_bytes_t *sink) { self->sink = sink; }

int fb_http_client_in_flight (const fb_http_client_t *self) { return self->in_flight; }

/* The request on c has ended: queue its result, leave c idle (or closed). */
static void s_end (s_conn_t *c, fb_http_outcome_t outcome) {
    fb_http_client_t *self = c->client;
    int at = (self->ring_head + self->ring_count) % self->cfg.connections;
    self->ring[at] =
        (fb_http_result_t){.outcome = outcome,
                           .status = outcome == FB_HTTP_ECONNECT ? 0 : (int)c->parser.status_code,
                           .bytes = c->bytes,
                           .tag = c->tag,
                           .start_ns = c->start_ns,
                           .done_ns = fb_clock_now_ns (),
                           .conn = c->index};
    self->ring_count++;
    self->in_flight--;
    if (outcome != FB_HTTP_OK || !http_should_keep_alive (&c->parser))
        s_drop (c);
    else
        c->state = S_IDLE;
}

static void s_interest (s_conn_t *c, bool want_out) {
    if (c->want_out == want_out)
        return;
    c->want_out = want_out;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl (c->client->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is left of the request; false when the connection failed (result queued). */
static bool s_write (s_conn_t *c) {
    while (c->req_sent < c->req_len) {
        ssize_t n = send (c->fd, c->req + c->req_sent, c->req_len - c->req_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            s_interest (c, true);
            return true;
        }
        if (n <= 0) {
            s_end (c, FB_HTTP_ECLOSED);
            return false;
        }
        c->req_sent += (size_t)n;
    }
    s_interest (c, false);
    return true;
}

static void s_connect (s_conn_t *c) {
    fb_http_client_t *self = c->client;
    c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        s_end (c, FB_HTTP_ECONNECT);
        return;
    }
    int one = 1;
    setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons ((uint16_t)self->cfg.port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    int rc = connect (c->fd, (struct sockaddr *)&sa, sizeof sa);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if ((rc != 0 && errno != EINPROGRESS) || epoll_ctl (self->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
        s_end (c, FB_HTTP_ECONNECT);
        return;
    }
    c->want_out = true;
    c->state = S_CONNECTING;
}

int fb_http_client_send (fb_http_client_t *self, const void *req, size_t len, uint64_t tag,
                         int64_t start_ns) {
    int n = self->cfg.connections;
    for (int k = 0; k < n; k++) {
        s_conn_t *c = &self->conns[(self->next + k) % n];
        if (c->state != S_IDLE && c->state != S_CLOSED)
            continue;
        self->next = (c->index + 1) % n;
        c->req = req;
        c->req_len = len;
        c->req_sent = 0;
        c->tag = tag;
        c->start_ns = start_ns;
        c->deadline_ns = fb_clock_now_ns () + self->cfg.timeout_ns;
        c->bytes = 0;
        c->complete = false;
        http_parser_init (&c->parser, HTTP_RESPONSE);
        c->parser.data = c;
        self->in_flight++;
        if (c->state == S_CLOSED)
            s_connect (c);
        else {
            c->state = S_BUSY;
            s_write (c);
        }
        return c->index;
    }
    return -1;
}

static void s_connected (s_conn_t *c) {
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        s_end (c, FB_HTTP_ECONNECT);
        return;
    }
    c->state = S_BUSY;
    s_write (c);
}

static void s_readable (s_conn_t *c) {
    fb_http_client_t *self = c->client;
    ssize_t n = recv (c->fd, self->buf, sizeof self->buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (c->state != S_BUSY) { /* an idle connection closed by the server, or junk on it */
        s_drop (c);
        return;
    }
    if (n <= 0) { /* a body that ends with the connection ends here */
        if (n == 0)
            http_parser_execute (&c->parser, &self->settings, NULL, 0);
        s_end (c, c->complete ? FB_HTTP_OK : FB_HTTP_ECLOSED);
        return;
    }
    c->bytes += n;
    size_t done =
        http_parser_execute (&c->parser, &self->settings, (const char *)self->buf, (size_t)n);
    if (c->complete)
        s_end (c, FB_HTTP_OK);
    else if (HTTP_PARSER_ERRNO (&c->parser) != HPE_OK || done != (size_t)n)
        s_end (c, FB_HTTP_ECLOSED);
}

static void s_event (s_conn_t *c, uint32_t events) {
    if (c->state == S_CONNECTING) {
        s_connected (c);
        if (c->state != S_BUSY)
            return;
    }
    if ((events & EPOLLOUT) && c->state == S_BUSY && c->req_sent < c->req_len && !s_write (c))
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        s_readable (c);
}

/* Ends requests past their deadline; returns the earliest deadline still ahead. */
static int64_t s_expire (fb_http_client_t *self, int64_t now_ns) {
    int64_t next = INT64_MAX;
    for (int i = 0; i < self->cfg.connections; i++) {
        s_conn_t *c = &self->conns[i];
        if (c->state != S_BUSY && c->state != S_CONNECTING)
            continue;
        if (c->deadline_ns <= now_ns)
            s_end (c, c->state == S_CONNECTING ? FB_HTTP_ECONNECT : FB_HTTP_ETIMEOUT);
        else if (c->deadline_ns < next)
            next = c->deadline_ns;
    }
    return next;
}

static int s_wait (fb_http_client_t *self, struct epoll_event *events, int64_t wait_ns) {
    struct timespec ts = {.tv_sec = wait_ns / FB_NS_PER_S, .tv_nsec = wait_ns % FB_NS_PER_S};
    int n = epoll_pwait2 (self->epfd, events, S_MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS) /* kernels before 5.11: millisecond steps, rounded up */
        n = epoll_wait (self->epfd, events, S_MAX_EVENTS,
                        (int)((wait_ns + FB_NS_PER_MS - 1) / FB_NS_PER_MS));
    return n;
}

int fb_http_client_poll (fb_http_client_t *self, int64_t until_ns, fb_http_result_t *results,
                         int max) {
    struct epoll_event events[S_MAX_EVENTS];
    while (self->ring_count == 0) {
        int64_t now = fb_clock_now_ns ();
        int64_t wake = s_expire (self, now);
        if (self->ring_count > 0)
            break;
        wake = wake < until_ns ? wake : until_ns;
        int n = s_wait (self, events, wake > now ? wake - now : 0);
        for (int i = 0; i < n; i++)
            s_event (events[i].data.ptr, events[i].events);
        if (fb_clock_now_ns () >= until_ns)
            break;
    }
    int n = 0;
    for (; n < max && self->ring_count > 0; n++) {
        results[n] = self->ring[self->ring_head];
        self->ring_head = (self->ring_head + 1) % self->cfg.connections;
        self->ring_count--;
    }
    return n;
}

int fb_http_client_request (fb_http_client_t *self, const void *req, size_t len, int64_t start_ns,
                            fb_http_result_t *result) {
    if (fb_http_client_send (self, req, len, 0, start_ns) < 0) {
        *result = (fb_http_result_t){.outcome = FB_HTTP_ECONNECT,
                                     .start_ns = start_ns,
                                     .done_ns = fb_clock_now_ns (),
                                     .conn = -1};
        return -1;
    }
    /* The timeout ends the request, so this loop ends: one more pass past it at most. */
    while (fb_http_client_poll (self, INT64_MAX, result, 1) == 0)
        ;
    return result->outcome == FB_HTTP_OK ? 0 : -1;
}

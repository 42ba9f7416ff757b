/* http_client.c: the load client's engine. Allocation-free once running over plain TCP:
 * connections, parsers and the result ring are made in new; the read buffer is one per client.
 * With TLS, OpenSSL allocates a session per (re)connect. Deadlines are walked only when the
 * earliest one cached is reached, so a poll costs O(ready events), not O(connections). */
#include "workloads/proxy/http_client.h"

#include "common/clock.h"
#include "common/epollwait.h"
#include "workloads/proxy/http_tls.h"

#include <assert.h>
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_READ_BYTES 65536
#define S_MAX_EVENTS 64

/* A request is in flight in CONNECTING, HANDSHAKE (TLS) and BUSY. */
enum { S_CLOSED, S_CONNECTING, S_HANDSHAKE, S_IDLE, S_BUSY };

typedef struct {
    fb_http_client_t *client;
    int index, fd, state;
    http_parser parser;
    fb_http_tls_t tls; /* ssl NULL: plain TCP */
    const uint8_t *req;
    size_t req_len, req_sent;
    uint64_t tag;
    int64_t start_ns, deadline_ns, bytes;
    bool complete, want_out;
    bool close_after; /* the request asked to close the connection after its response */
    bool head;        /* a HEAD request: its response has no body, whatever its head says */
} s_conn_t;

struct fb_http_client {
    fb_http_client_cfg_t cfg;
    struct sockaddr_storage addr; /* cfg.addr points here */
    char *sni;                    /* cfg.sni points here */
    int epfd;
    s_conn_t *conns;
    int next;               /* where send looks for an idle connection first */
    int in_flight;          /* connections with a request in flight */
    int64_t next_deadline;  /* no request in flight ends before (monotonic ns) */
    fb_http_result_t *ring; /* ended requests not yet polled */
    int ring_head, ring_count;
    int ring_cap; /* ring_count + in_flight never passes it: send refuses first */
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

/* A response to HEAD ends with its head (1: the parser expects no body). */
static int s_on_headers_complete (http_parser *p) {
    const s_conn_t *c = p->data;
    return c->head ? 1 : 0;
}

static int s_on_message_complete (http_parser *p) {
    s_conn_t *c = p->data;
    c->complete = true;
    return 0;
}

/* The server's address, copied, or 127.0.0.1:port. */
static int s_address (fb_http_client_t *self, const fb_http_client_cfg_t *cfg, fb_err_t *err) {
    if (!cfg->addr) {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons ((uint16_t)cfg->port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        memcpy (&self->addr, &sa, sizeof sa);
        self->cfg.addr_len = sizeof sa;
    } else {
        sa_family_t family = cfg->addr->sa_family;
        socklen_t need =
            family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
        if ((family != AF_INET && family != AF_INET6) || cfg->addr_len < need ||
            cfg->addr_len > sizeof self->addr)
            return fb_err_set (err, FB_EINPUT,
                               "http client: the server address must be IPv4 or IPv6 "
                               "(family %d, %u bytes)",
                               (int)family, (unsigned)cfg->addr_len);
        memcpy (&self->addr, cfg->addr, cfg->addr_len);
    }
    self->cfg.addr = (const struct sockaddr *)&self->addr;
    return 0;
}

fb_http_client_t *fb_http_client_new (const fb_http_client_cfg_t *cfg, fb_err_t *err) {
    fb_http_client_t *self = calloc (1, sizeof *self);
    int n = cfg->connections > 0 ? cfg->connections : 1;
    if (self) {
        self->epfd = -1;
        self->ring_cap = 2 * n; /* one result per connection, and as many left unpolled */
        self->conns = calloc ((size_t)n, sizeof *self->conns);
        self->ring = calloc ((size_t)self->ring_cap, sizeof *self->ring);
        self->sni = cfg->sni ? strdup (cfg->sni) : NULL;
    }
    if (!self || !self->conns || !self->ring || (cfg->sni && !self->sni)) {
        fb_http_client_destroy (&self);
        fb_err_set (err, FB_ENOMEM, "http client: out of memory for %d connections", n);
        return NULL;
    }
    self->cfg = *cfg;
    self->cfg.connections = n;
    self->cfg.sni = self->sni;
    self->next_deadline = INT64_MAX;
    self->settings = (http_parser_settings){.on_body = s_on_body,
                                            .on_headers_complete = s_on_headers_complete,
                                            .on_message_complete = s_on_message_complete};
    for (int i = 0; i < n; i++)
        self->conns[i] = (s_conn_t){.client = self, .index = i, .fd = -1, .state = S_CLOSED};
    if (s_address (self, cfg, err) != 0) {
        fb_http_client_destroy (&self);
        return NULL;
    }
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        fb_err_set (err, FB_ESYS, "http client: epoll_create1: %s", strerror (errno));
        fb_http_client_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_drop (s_conn_t *c) {
    fb_http_tls_close (&c->tls);
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
    if (self->epfd >= 0)
        close (self->epfd);
    free (self->conns);
    free (self->ring);
    free (self->sni);
    free (self);
    *self_p = NULL;
}

SSL_CTX *fb_http_client_tls_ctx (bool verify, const char *ca_file, fb_err_t *err) {
    return fb_http_tls_ctx_new (verify, ca_file, err);
}

void fb_http_client_capture (fb_http_client_t *self, fb_bytes_t *sink) { self->sink = sink; }

int fb_http_client_in_flight (const fb_http_client_t *self) { return self->in_flight; }

/* The request on c has ended: queue its result, leave c idle (or closed). */
static void s_end (s_conn_t *c, fb_http_outcome_t outcome) {
    fb_http_client_t *self = c->client;
    assert (self->ring_count < self->ring_cap);
    int at = (self->ring_head + self->ring_count) % self->ring_cap;
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
    /* Bytes past the response inside OpenSSL would be read as the next one's: drop those. */
    if (outcome != FB_HTTP_OK || !http_should_keep_alive (&c->parser) || c->close_after ||
        fb_http_tls_pending (&c->tls))
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

/* TLS: writes what it can; true while the connection stays usable. */
static bool s_write_tls (s_conn_t *c) {
    while (c->req_sent < c->req_len) {
        size_t n = 0;
        fb_http_tls_status_t st =
            fb_http_tls_write (&c->tls, c->req + c->req_sent, c->req_len - c->req_sent, &n);
        if (st == FB_HTTP_TLS_WANT_READ || st == FB_HTTP_TLS_WANT_WRITE) {
            s_interest (c, st == FB_HTTP_TLS_WANT_WRITE);
            return true;
        }
        if (st != FB_HTTP_TLS_OK) {
            s_end (c, FB_HTTP_ECLOSED);
            return false;
        }
        c->req_sent += n;
    }
    s_interest (c, false);
    return true;
}

/* Writes what is left of the request; false when the connection failed (result queued). */
static bool s_write (s_conn_t *c) {
    if (c->tls.ssl)
        return s_write_tls (c);
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
    c->fd = socket (self->cfg.addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        s_end (c, FB_HTTP_ECONNECT);
        return;
    }
    int one = 1;
    setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect (c->fd, self->cfg.addr, self->cfg.addr_len);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if ((rc != 0 && errno != EINPROGRESS) || epoll_ctl (self->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
        s_end (c, FB_HTTP_ECONNECT);
        return;
    }
    c->want_out = true;
    c->state = S_CONNECTING;
}

/* Whether the request closes its connection after the response: a Connection header that
 * names close, or HTTP/1.0 without keep-alive. Reads the head only. */
static bool s_has_token (const uint8_t *at, size_t len, const char *token) {
    size_t t = strlen (token);
    for (size_t i = 0; i + t <= len; i++)
        if (strncasecmp ((const char *)at + i, token, t) == 0)
            return true;
    return false;
}

static bool s_asks_close (const uint8_t *req, size_t len) {
    const uint8_t *end = memmem (req, len, "\r\n\r\n", 4);
    end = end ? end : req + len;
    const uint8_t *eol = memchr (req, '\n', (size_t)(end - req));
    bool close = eol && eol - req >= 9 && memcmp (eol - 9, "HTTP/1.0\r", 9) == 0;
    while (eol && eol < end) {
        const uint8_t *line = eol + 1;
        eol = memchr (line, '\n', (size_t)(end - line));
        size_t n = (size_t)((eol ? eol : end) - line);
        if (n > 11 && strncasecmp ((const char *)line, "connection:", 11) == 0) {
            if (s_has_token (line + 11, n - 11, "close"))
                return true;
            if (s_has_token (line + 11, n - 11, "keep-alive"))
                close = false;
        }
    }
    return close;
}

int fb_http_client_send (fb_http_client_t *self, const void *req, size_t len, uint64_t tag,
                         int64_t start_ns) {
    int n = self->cfg.connections;
    if (self->in_flight + self->ring_count >= self->ring_cap)
        return -1;
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
        if (c->deadline_ns < self->next_deadline)
            self->next_deadline = c->deadline_ns;
        c->bytes = 0;
        c->complete = false;
        c->close_after = s_asks_close (req, len);
        c->head = len >= 5 && memcmp (req, "HEAD ", 5) == 0;
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

/* The handshake went as far as it can; true when the request may go. */
static bool s_handshake (s_conn_t *c) {
    fb_http_tls_status_t st = fb_http_tls_handshake (&c->tls);
    if (st == FB_HTTP_TLS_OK) {
        c->state = S_BUSY;
        return s_write (c);
    }
    if (st == FB_HTTP_TLS_WANT_READ || st == FB_HTTP_TLS_WANT_WRITE) {
        s_interest (c, st == FB_HTTP_TLS_WANT_WRITE);
        return false;
    }
    s_end (c, FB_HTTP_ECONNECT); /* refused, not TLS, or not verified */
    return false;
}

/* The connect finished; true when the request may go (plain) or was sent on (TLS). */
static bool s_connected (s_conn_t *c) {
    fb_http_client_t *self = c->client;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        s_end (c, FB_HTTP_ECONNECT);
        return false;
    }
    if (!self->cfg.tls) {
        c->state = S_BUSY;
        return s_write (c);
    }
    if (fb_http_tls_open (&c->tls, self->cfg.tls, c->fd, self->cfg.sni) != 0) {
        s_end (c, FB_HTTP_ECONNECT);
        return false;
    }
    c->state = S_HANDSHAKE;
    return s_handshake (c);
}

/* n more bytes of the response are in buf; true when the request ended. */
static bool s_received (s_conn_t *c, size_t n) {
    fb_http_client_t *self = c->client;
    c->bytes += (int64_t)n;
    size_t done = http_parser_execute (&c->parser, &self->settings, (const char *)self->buf, n);
    if (c->complete)
        s_end (c, FB_HTTP_OK);
    else if (HTTP_PARSER_ERRNO (&c->parser) != HPE_OK || done != n)
        s_end (c, FB_HTTP_ECLOSED);
    else
        return false;
    return true;
}

/* The server closed: a body that ends with the connection ends here. */
static void s_eof (s_conn_t *c) {
    http_parser_execute (&c->parser, &c->client->settings, NULL, 0);
    s_end (c, c->complete ? FB_HTTP_OK : FB_HTTP_ECLOSED);
}

/* TLS: reads until OpenSSL wants the socket again, since epoll cannot see what OpenSSL has
 * already read from it. */
static void s_readable_tls (s_conn_t *c) {
    fb_http_client_t *self = c->client;
    for (;;) {
        size_t n = 0;
        fb_http_tls_status_t st = fb_http_tls_read (&c->tls, self->buf, sizeof self->buf, &n);
        if (st == FB_HTTP_TLS_WANT_READ || st == FB_HTTP_TLS_WANT_WRITE) {
            /* WANT_READ with nothing pending: a session ticket, or nothing at all */
            if (st == FB_HTTP_TLS_WANT_WRITE || c->req_sent >= c->req_len)
                s_interest (c, st == FB_HTTP_TLS_WANT_WRITE);
            return;
        }
        if (c->state != S_BUSY) { /* an idle connection closed by the server, or junk on it */
            s_drop (c);
            return;
        }
        if (st == FB_HTTP_TLS_EOF)
            s_eof (c);
        else if (st != FB_HTTP_TLS_OK)
            s_end (c, FB_HTTP_ECLOSED);
        else if (!s_received (c, n))
            continue;
        return;
    }
}

static void s_readable (s_conn_t *c) {
    fb_http_client_t *self = c->client;
    if (c->tls.ssl) {
        s_readable_tls (c);
        return;
    }
    ssize_t n = recv (c->fd, self->buf, sizeof self->buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (c->state != S_BUSY) { /* an idle connection closed by the server, or junk on it */
        s_drop (c);
        return;
    }
    if (n <= 0) {
        if (n == 0)
            s_eof (c);
        else
            s_end (c, FB_HTTP_ECLOSED);
        return;
    }
    s_received (c, (size_t)n);
}

static void s_event (s_conn_t *c, uint32_t events) {
    if (c->state == S_CLOSED)
        return;
    if (c->state == S_CONNECTING && !s_connected (c))
        return;
    if (c->state == S_HANDSHAKE && !s_handshake (c))
        return;
    /* TLS may need the socket readable to write, and writable to read */
    bool tls = c->tls.ssl != NULL;
    if (c->state == S_BUSY && c->req_sent < c->req_len && (tls || (events & EPOLLOUT)) &&
        !s_write (c))
        return;
    if (tls || (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        s_readable (c);
}

static bool s_in_flight (const s_conn_t *c) {
    return c->state == S_CONNECTING || c->state == S_HANDSHAKE || c->state == S_BUSY;
}

/* Ends requests past their deadline and caches the earliest deadline still ahead. Called when
 * now reaches the cached one; requests that ended since only make that one early. */
static void s_expire (fb_http_client_t *self, int64_t now_ns) {
    int64_t next = INT64_MAX;
    for (int i = 0; i < self->cfg.connections; i++) {
        s_conn_t *c = &self->conns[i];
        if (!s_in_flight (c))
            continue;
        if (c->deadline_ns <= now_ns)
            s_end (c, c->state == S_BUSY ? FB_HTTP_ETIMEOUT : FB_HTTP_ECONNECT);
        else if (c->deadline_ns < next)
            next = c->deadline_ns;
    }
    self->next_deadline = next;
}

int fb_http_client_poll (fb_http_client_t *self, int64_t until_ns, fb_http_result_t *results,
                         int max) {
    struct epoll_event events[S_MAX_EVENTS];
    int64_t now = fb_clock_now_ns ();
    for (;;) {
        if (now >= self->next_deadline)
            s_expire (self, now);
        int64_t wake = self->next_deadline < until_ns ? self->next_deadline : until_ns;
        /* with results waiting, only what is ready now */
        int n = fb_epoll_wait_ns (self->epfd, events, S_MAX_EVENTS,
                                  self->ring_count > 0 || wake <= now ? 0 : wake - now);
        for (int i = 0; i < n; i++)
            s_event (events[i].data.ptr, events[i].events);
        now = fb_clock_now_ns ();
        if (n == S_MAX_EVENTS && self->ring_count < max)
            continue; /* a full batch: more may be ready */
        if (self->ring_count > 0 || now >= until_ns)
            break;
    }
    int n = 0;
    for (; n < max && self->ring_count > 0; n++) {
        results[n] = self->ring[self->ring_head];
        self->ring_head = (self->ring_head + 1) % self->ring_cap;
        self->ring_count--;
    }
    return n;
}

void fb_http_client_cancel (fb_http_client_t *self) {
    for (int i = 0; i < self->cfg.connections; i++)
        if (s_in_flight (&self->conns[i]))
            s_end (&self->conns[i], FB_HTTP_ECANCELED);
    self->next_deadline = INT64_MAX;
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

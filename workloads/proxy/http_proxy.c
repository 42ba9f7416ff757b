/* http_proxy.c: the reverse proxy. One pair per client connection: the client side, and one
 * keep-alive connection to the origin made on the first request. One request at a time per
 * pair (a pipelined next request waits, parsed later); the answer either streams (raw bytes,
 * as received) or, for an HTML navigation with injection on, is buffered whole and rewritten
 * by inject.c. Memory per pair grows to the largest page and stays: no allocation per
 * request once warm, except what zlib's reset streams reuse. */
#include "workloads/proxy/http_proxy.h"

#include "common/clock.h"
#include "workloads/proxy/http_loop.h"
#include "workloads/proxy/http_origin.h"
#include "workloads/proxy/inject.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_MAX_EVENTS 64
#define S_READ_BYTES 65536
#define S_HIGH_WATER (4 * 1024 * 1024) /* client output held before the origin is paused */
#define S_SWEEP_NS (10 * FB_NS_PER_MS) /* how often deadlines are checked */

/* epoll data: a pointer with its kind in the low bits (calloc'd blocks are 16-aligned) */
enum { S_TAG_CLIENT = 0, S_TAG_ORIGIN = 1, S_TAG_LISTENER = 2, S_TAG_WAKE = 3 };
enum { S_UP_NONE, S_UP_CONNECTING, S_UP_READY };
enum { S_MODE_UNDECIDED, S_MODE_STREAM, S_MODE_BUFFER };

typedef struct {
    int fd, port, target_port;
    char host[32];     /* 127.0.0.1:target, the Host the origin sees */
    fb_bytes_t script; /* this URL's injected block (it names the proxy's port) */
} s_listener_t;

typedef struct s_loop s_loop_t;

typedef struct s_pair {
    s_loop_t *loop;
    s_listener_t *lis;
    int cfd, ofd, up;
    bool c_out, o_out, o_paused; /* current epoll interest */
    http_parser req_p, resp_p;
    fb_bytes_t cin;  /* client bytes not yet parsed */
    fb_bytes_t oout; /* the request for the origin */
    fb_bytes_t cout; /* bytes for the client, from cout_off on */
    size_t cout_off;
    fb_bytes_t raw;  /* the answer's first bytes while its mode is undecided */
    fb_bytes_t body; /* a buffered answer's body, decoded from chunks */
    fb_bytes_t hname, hvalue, hdrs, url, rbody; /* the request being parsed */
    bool in_value;
    char host[64], accept[96], xrw[32], sfm[16], sfd[16]; /* request headers Brummer reads */
    char ctype[64], cenc[32];                             /* answer headers */
    char method[8];
    bool busy;         /* a request is forwarded, its answer not finished */
    bool dead;         /* closed; freed at the end of the event batch */
    bool head_trimmed; /* a buffered answer's head is alone in raw */
    bool req_done;     /* the request parser stopped at a whole request */
    bool resp_done;    /* the answer parser reached the end of the answer */
    bool client_close; /* close the client once cout is written */
    bool head_request; /* HEAD: the answer has no body */
    int mode;
    int64_t start_ns, deadline_ns, sent_bytes;
    struct s_pair *prev, *next;
} s_pair_t;

struct s_loop {
    fb_http_proxy_t *proxy;
    fb_http_loop_t base; /* epoll set, wake eventfd, thread */
    s_pair_t *pairs;
    s_pair_t *dead; /* closed in this event batch, freed after it */
    int64_t swept_ns;
    fb_inject_t *inject;
    uint8_t buf[S_READ_BYTES];
};

struct fb_http_proxy {
    fb_http_proxy_cfg_t cfg;
    http_parser_settings req_settings, resp_settings;
    s_loop_t *loops;
    int nloops;
    pthread_mutex_t lock; /* Brummer's dataMu: the listeners and the history */
    s_listener_t listeners[FB_HTTP_PROXY_MAX_URLS];
    int nlisteners;
    fb_http_proxy_record_t *ring;
    int64_t recorded; /* records ever written; the ring holds the last cfg.history */
    fb_hist_t *inject_hist;
    atomic_int_fast64_t injected, bad_gateway, timeouts;
};

static void *s_tag (void *p, int kind) { return (void *)((uintptr_t)p | (uintptr_t)kind); }

static void s_copy (char *dst, size_t cap, const void *src, size_t len) {
    size_t take = len < cap - 1 ? len : cap - 1;
    if (take)
        memcpy (dst, src, take);
    dst[take] = '\0';
}

/* ---- interest and closing --------------------------------------------------------------- */

static void s_client_interest (s_pair_t *p) {
    bool out = p->cout.len > p->cout_off;
    if (out == p->c_out)
        return;
    p->c_out = out;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
                             .data.ptr = s_tag (p, S_TAG_CLIENT)};
    epoll_ctl (p->loop->base.epfd, EPOLL_CTL_MOD, p->cfd, &ev);
}

/* The origin is read unless the client is too far behind (backpressure). */
static void s_origin_interest (s_pair_t *p) {
    if (p->ofd < 0)
        return;
    bool out = p->up == S_UP_CONNECTING || p->oout.len > 0;
    bool paused = p->cout.len - p->cout_off > S_HIGH_WATER;
    if (out == p->o_out && paused == p->o_paused)
        return;
    p->o_out = out;
    p->o_paused = paused;
    struct epoll_event ev = {.events = (paused ? 0 : EPOLLIN) | (out ? EPOLLOUT : 0),
                             .data.ptr = s_tag (p, S_TAG_ORIGIN)};
    epoll_ctl (p->loop->base.epfd, EPOLL_CTL_MOD, p->ofd, &ev);
}

static void s_origin_close (s_pair_t *p) {
    if (p->ofd >= 0) {
        epoll_ctl (p->loop->base.epfd, EPOLL_CTL_DEL, p->ofd, NULL);
        close (p->ofd);
    }
    p->ofd = -1;
    p->up = S_UP_NONE;
    p->oout.len = 0;
}

/* Closes both sides now; the memory goes at the end of the event batch, since a later event
 * of the same batch may name this pair. */
static void s_pair_close (s_pair_t *p) {
    s_loop_t *loop = p->loop;
    s_origin_close (p);
    epoll_ctl (loop->base.epfd, EPOLL_CTL_DEL, p->cfd, NULL);
    close (p->cfd);
    if (p->prev)
        p->prev->next = p->next;
    else
        loop->pairs = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->dead = true;
    p->next = loop->dead;
    loop->dead = p;
}

/* Frees the pairs closed in the last event batch. */
static void s_reap (s_loop_t *loop) {
    for (s_pair_t *p; (p = loop->dead);) {
        loop->dead = p->next;
        fb_bytes_t *bufs[] = {&p->cin,   &p->oout,   &p->cout, &p->raw, &p->body,
                              &p->hname, &p->hvalue, &p->hdrs, &p->url, &p->rbody};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            fb_bytes_free (bufs[i]);
        free (p);
    }
}

/* ---- history ---------------------------------------------------------------------------- */

/* Brummer's addRequest: one record per request under the data lock, the oldest dropped. */
static void s_record (s_pair_t *p, int status, bool injected) {
    fb_http_proxy_t *self = p->loop->proxy;
    int64_t now = fb_clock_now_ns ();
    fb_http_proxy_record_t rec = {.start_ns = p->start_ns,
                                  .duration_ns = now - p->start_ns,
                                  .bytes = p->sent_bytes,
                                  .status = status,
                                  .port = p->lis->port,
                                  .injected = injected};
    s_copy (rec.method, sizeof rec.method, p->method, strlen (p->method));
    s_copy (rec.path, sizeof rec.path, p->url.data, p->url.len);
    pthread_mutex_lock (&self->lock);
    self->ring[self->recorded % self->cfg.history] = rec;
    self->recorded++;
    pthread_mutex_unlock (&self->lock);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static bool s_name_is (const fb_bytes_t *name, const char *want) {
    return name->len == strlen (want) &&
           strncasecmp ((const char *)name->data, want, name->len) == 0;
}

/* One whole header has been read (name and value): keep what Brummer reads, and for a
 * request copy it for the origin unless it is hop-by-hop or one the proxy sets itself. */
static int s_header_end (s_pair_t *p, bool response) {
    static const char *const dropped[] = {
        "host",    "connection",        "keep-alive", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",    "content-length",   NULL};
    const fb_bytes_t *n = &p->hname, *v = &p->hvalue;
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } wanted[] = {
        {"content-type", p->ctype, sizeof p->ctype}, {"content-encoding", p->cenc, sizeof p->cenc},
        {"host", p->host, sizeof p->host},           {"accept", p->accept, sizeof p->accept},
        {"x-requested-with", p->xrw, sizeof p->xrw}, {"sec-fetch-mode", p->sfm, sizeof p->sfm},
        {"sec-fetch-dest", p->sfd, sizeof p->sfd},
    };
    for (int i = response ? 0 : 2; i < (response ? 2 : 7); i++)
        if (s_name_is (n, wanted[i].name))
            s_copy (wanted[i].dst, wanted[i].cap, v->data, v->len);
    bool keep = !response;
    for (int i = 0; keep && dropped[i]; i++)
        keep = !s_name_is (n, dropped[i]);
    int rc = 0;
    if (keep)
        rc = fb_bytes_append (&p->hdrs, n->data, n->len) || fb_bytes_append (&p->hdrs, ": ", 2) ||
             fb_bytes_append (&p->hdrs, v->data, v->len) || fb_bytes_append (&p->hdrs, "\r\n", 2);
    p->hname.len = p->hvalue.len = 0;
    p->in_value = false;
    return rc;
}

static int s_on_header_field (http_parser *hp, const char *at, size_t len) {
    s_pair_t *p = hp->data;
    if (p->in_value && s_header_end (p, hp == &p->resp_p) != 0)
        return -1;
    return fb_bytes_append (&p->hname, at, len);
}

static int s_on_header_value (http_parser *hp, const char *at, size_t len) {
    s_pair_t *p = hp->data;
    p->in_value = true;
    return fb_bytes_append (&p->hvalue, at, len);
}

static int s_on_req_begin (http_parser *hp) {
    s_pair_t *p = hp->data;
    p->url.len = p->hdrs.len = p->rbody.len = p->hname.len = p->hvalue.len = 0;
    p->in_value = false;
    p->host[0] = p->accept[0] = p->xrw[0] = p->sfm[0] = p->sfd[0] = '\0';
    return 0;
}

static int s_on_url (http_parser *hp, const char *at, size_t len) {
    s_pair_t *p = hp->data;
    return fb_bytes_append (&p->url, at, len);
}

static int s_on_req_headers (http_parser *hp) {
    s_pair_t *p = hp->data;
    if (p->in_value && s_header_end (p, false) != 0)
        return -1;
    s_copy (p->method, sizeof p->method, http_method_str (hp->method),
            strlen (http_method_str (hp->method)));
    p->head_request = hp->method == HTTP_HEAD;
    return 0;
}

static int s_on_body (http_parser *hp, const char *at, size_t len) {
    s_pair_t *p = hp->data;
    if (hp == &p->req_p)
        return fb_bytes_append (&p->rbody, at, len);
    return p->mode == S_MODE_BUFFER ? fb_bytes_append (&p->body, at, len) : 0;
}

/* A whole message: stop there (pause). A pipelined next request waits for this answer. */
static int s_on_complete (http_parser *hp) {
    s_pair_t *p = hp->data;
    *(hp == &p->req_p ? &p->req_done : &p->resp_done) = true;
    http_parser_pause (hp, 1);
    return 0;
}

/* The answer's head is in: stream it, or buffer it for injection (Brummer's conditions). */
static int s_on_resp_headers (http_parser *hp) {
    s_pair_t *p = hp->data;
    if (p->in_value && s_header_end (p, true) != 0)
        return -1;
    fb_inject_info_t info = {.status = hp->status_code,
                             .content_type = p->ctype[0] ? p->ctype : NULL,
                             .accept = p->accept[0] ? p->accept : NULL,
                             .x_requested_with = p->xrw[0] ? p->xrw : NULL,
                             .sec_fetch_mode = p->sfm[0] ? p->sfm : NULL,
                             .sec_fetch_dest = p->sfd[0] ? p->sfd : NULL};
    bool buffer = p->loop->proxy->cfg.inject && !p->head_request && fb_inject_wanted (&info);
    p->mode = buffer ? S_MODE_BUFFER : S_MODE_STREAM;
    return p->head_request ? 1 : 0; /* 1: an answer to HEAD has no body */
}

/* ---- client side ------------------------------------------------------------------------ */

static bool s_client_parse (s_pair_t *p);
static bool s_origin_flush (s_pair_t *p);

/* Writes what is queued for the client; false when the pair was closed. */
static bool s_client_flush (s_pair_t *p) {
    while (p->cout.len > p->cout_off) {
        ssize_t n =
            send (p->cfd, p->cout.data + p->cout_off, p->cout.len - p->cout_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            s_pair_close (p);
            return false;
        }
        p->cout_off += (size_t)n;
    }
    if (p->cout_off == p->cout.len)
        p->cout.len = p->cout_off = 0;
    if (p->cout.len == 0 && p->client_close && !p->busy) {
        s_pair_close (p);
        return false;
    }
    s_client_interest (p);
    s_origin_interest (p);
    return true;
}

static void s_canned (s_pair_t *p, const char *status) {
    char answer[256];
    int n = snprintf (answer, sizeof answer,
                      "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s\n",
                      status, strlen (status) + 1, status);
    if (fb_bytes_append (&p->cout, answer, (size_t)n) == 0)
        p->sent_bytes += n;
}

/* The origin failed this request: the client gets a 502 / 504, or, when part of a streamed
 * answer is already out, its connection closed (the framing is lost). */
static bool s_fail (s_pair_t *p, int status) {
    fb_http_proxy_t *self = p->loop->proxy;
    atomic_fetch_add (status == 504 ? &self->timeouts : &self->bad_gateway, 1);
    s_origin_close (p);
    bool streamed = p->mode == S_MODE_STREAM && p->sent_bytes > 0;
    if (!streamed)
        s_canned (p, status == 504 ? "504 Gateway Timeout" : "502 Bad Gateway");
    s_record (p, status, false);
    p->busy = false;
    if (streamed) {
        s_pair_close (p);
        return false;
    }
    return s_client_flush (p) && s_client_parse (p);
}

static bool s_origin_connect (s_pair_t *p) {
    p->ofd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->ofd < 0)
        return s_fail (p, 502);
    int one = 1;
    setsockopt (p->ofd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons ((uint16_t)p->lis->target_port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    int rc = connect (p->ofd, (struct sockaddr *)&sa, sizeof sa);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = s_tag (p, S_TAG_ORIGIN)};
    if ((rc != 0 && errno != EINPROGRESS) ||
        epoll_ctl (p->loop->base.epfd, EPOLL_CTL_ADD, p->ofd, &ev) != 0)
        return s_fail (p, 502);
    p->up = S_UP_CONNECTING;
    p->o_out = true;
    p->o_paused = false;
    return true;
}

/* Brummer's Director: Host becomes the target, X-Forwarded-Host, X-Forwarded-Proto and
 * X-Original-URL are set; Go's ReverseProxy adds X-Forwarded-For and drops hop-by-hop
 * headers. */
static bool s_forward (s_pair_t *p) {
    fb_http_proxy_t *self = p->loop->proxy;
    p->busy = true;
    p->start_ns = fb_clock_now_ns ();
    p->deadline_ns = p->start_ns + self->cfg.timeout_ns;
    p->mode = S_MODE_UNDECIDED;
    p->raw.len = p->body.len = 0;
    p->sent_bytes = 0;
    p->resp_done = p->head_trimmed = false;
    p->ctype[0] = p->cenc[0] = '\0';
    http_parser_init (&p->resp_p, HTTP_RESPONSE);
    p->resp_p.data = p;
    char extra[512];
    int n = snprintf (extra, sizeof extra,
                      "Host: %s\r\nX-Forwarded-Host: %s\r\nX-Forwarded-Proto: http\r\n"
                      "X-Forwarded-For: 127.0.0.1\r\nX-Original-URL: http://%s%.*s\r\n",
                      p->lis->host, p->host, p->host, (int)(p->url.len < 256 ? p->url.len : 256),
                      p->url.data ? (const char *)p->url.data : "");
    char clen[48];
    int cn = snprintf (clen, sizeof clen, "Content-Length: %zu\r\n", p->rbody.len);
    p->oout.len = 0;
    if (fb_bytes_append_str (&p->oout, p->method) || fb_bytes_append (&p->oout, " ", 1) ||
        fb_bytes_append (&p->oout, p->url.data, p->url.len) ||
        fb_bytes_append_str (&p->oout, " HTTP/1.1\r\n") ||
        fb_bytes_append (&p->oout, p->hdrs.data, p->hdrs.len) ||
        fb_bytes_append (&p->oout, extra, (size_t)n) ||
        (p->rbody.len && fb_bytes_append (&p->oout, clen, (size_t)cn)) ||
        fb_bytes_append (&p->oout, "\r\n", 2) ||
        fb_bytes_append (&p->oout, p->rbody.data, p->rbody.len))
        return s_fail (p, 502);
    if (p->up == S_UP_NONE)
        return s_origin_connect (p);
    return p->up == S_UP_READY ? s_origin_flush (p) : true;
}

/* Parses what the client sent, one request at a time; false when the pair was closed. */
static bool s_client_parse (s_pair_t *p) {
    fb_http_proxy_t *self = p->loop->proxy;
    while (!p->busy && !p->client_close && p->cin.len > 0) {
        if (HTTP_PARSER_ERRNO (&p->req_p) == HPE_PAUSED)
            http_parser_pause (&p->req_p, 0);
        size_t done = http_parser_execute (&p->req_p, &self->req_settings,
                                           (const char *)p->cin.data, p->cin.len);
        fb_bytes_consume (&p->cin, done);
        enum http_errno e = HTTP_PARSER_ERRNO (&p->req_p);
        if (e != HPE_OK && e != HPE_PAUSED) {
            s_canned (p, "400 Bad Request");
            p->client_close = true;
            return s_client_flush (p);
        }
        if (!p->req_done)
            break; /* the rest of the request is still to come */
        p->req_done = false;
        if (!http_should_keep_alive (&p->req_p))
            p->client_close = true;
        if (!s_forward (p))
            return false;
    }
    return true;
}

static void s_client_readable (s_pair_t *p) {
    s_loop_t *loop = p->loop;
    ssize_t n = recv (p->cfd, loop->buf, sizeof loop->buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || p->cin.len > S_HIGH_WATER || fb_bytes_append (&p->cin, loop->buf, (size_t)n)) {
        s_pair_close (p); /* gone, or flooding us with requests it does not wait for */
        return;
    }
    s_client_parse (p);
}

/* ---- origin side ------------------------------------------------------------------------ */

static bool s_origin_flush (s_pair_t *p) {
    while (p->oout.len > 0) {
        ssize_t n = send (p->ofd, p->oout.data, p->oout.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0)
            return s_fail (p, 502);
        fb_bytes_consume (&p->oout, (size_t)n);
    }
    s_origin_interest (p);
    return true;
}

/* The whole answer is in. A buffered one is rewritten (Brummer's
 * injectMonitoringScriptForMapping) and queued; then the history record, and the client's
 * next request if one is waiting. */
static bool s_answer_done (s_pair_t *p) {
    fb_http_proxy_t *self = p->loop->proxy;
    bool injected = false;
    if (p->mode == S_MODE_BUFFER) {
        int64_t t0 = fb_clock_now_ns ();
        const uint8_t *out;
        size_t out_len;
        int rc =
            fb_inject_body (p->loop->inject, p->body.data, p->body.len, fb_inject_is_gzip (p->cenc),
                            p->lis->script.data, p->lis->script.len, &out, &out_len);
        injected = rc == 1;
        size_t before = p->cout.len;
        if (rc < 0 || fb_inject_head (p->raw.data, p->raw.len, out_len, injected, &p->cout) ||
            fb_bytes_append (&p->cout, out, out_len)) {
            p->cout.len = before;
            return s_fail (p, 502);
        }
        p->sent_bytes = (int64_t)(p->cout.len - before);
        if (injected) {
            fb_hist_record_atomic (self->inject_hist, fb_clock_now_ns () - t0);
            atomic_fetch_add (&self->injected, 1);
        }
    }
    s_record (p, (int)p->resp_p.status_code, injected);
    p->busy = false;
    if (!http_should_keep_alive (&p->resp_p))
        s_origin_close (p);
    return s_client_flush (p) && s_client_parse (p);
}

/* Feeds answer bytes (len 0: the origin closed) to the parser and moves them on; false when
 * the pair was closed. */
static bool s_answer_bytes (s_pair_t *p, const uint8_t *data, size_t len) {
    fb_http_proxy_t *self = p->loop->proxy;
    if (p->mode == S_MODE_UNDECIDED && len && fb_bytes_append (&p->raw, data, len))
        return s_fail (p, 502);
    int mode_before = p->mode;
    size_t done = http_parser_execute (&p->resp_p, &self->resp_settings, (const char *)data, len);
    enum http_errno e = HTTP_PARSER_ERRNO (&p->resp_p);
    if (e != HPE_OK && e != HPE_PAUSED)
        return s_fail (p, 502);
    if (p->mode == S_MODE_STREAM) {
        const uint8_t *from = mode_before == S_MODE_UNDECIDED ? p->raw.data : data;
        size_t n = mode_before == S_MODE_UNDECIDED ? p->raw.len : done;
        if (n && fb_bytes_append (&p->cout, from, n))
            return s_fail (p, 502);
        p->sent_bytes += (int64_t)n;
        p->raw.len = 0;
    } else if (p->mode == S_MODE_BUFFER && !p->head_trimmed) {
        uint8_t *end = memmem (p->raw.data, p->raw.len, "\r\n\r\n", 4);
        size_t head = end ? (size_t)(end - p->raw.data) + 4 : 0;
        if (!end && (end = memmem (p->raw.data, p->raw.len, "\n\n", 2)))
            head = (size_t)(end - p->raw.data) + 2;
        if (!head)
            return s_fail (p, 502);
        p->raw.len = head;
        p->head_trimmed = true;
    }
    if (p->resp_done)
        return s_answer_done (p);
    if (len == 0) /* closed before the end of the answer */
        return s_fail (p, 502);
    if (p->mode == S_MODE_STREAM)
        return s_client_flush (p);
    return true;
}

static void s_origin_event (s_pair_t *p, uint32_t events) {
    if (p->up == S_UP_CONNECTING) {
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (getsockopt (p->ofd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
            s_fail (p, 502);
            return;
        }
        p->up = S_UP_READY;
    }
    if ((events & EPOLLOUT) && !s_origin_flush (p))
        return;
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || p->ofd < 0)
        return;
    s_loop_t *loop = p->loop;
    ssize_t n = recv (p->ofd, loop->buf, sizeof loop->buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (!p->busy) { /* an idle origin connection closed (or spoke out of turn) */
        s_origin_close (p);
        return;
    }
    if (n < 0) {
        s_fail (p, 502);
        return;
    }
    if (n == 0) /* first: answering may start the next request on a new connection */
        s_origin_close (p);
    s_answer_bytes (p, loop->buf, (size_t)n);
}

/* ---- the loops -------------------------------------------------------------------------- */

static void s_accept (s_loop_t *loop, s_listener_t *lis) {
    for (int i = 0; i < S_MAX_EVENTS; i++) {
        int fd = accept4 (lis->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s_pair_t *p = calloc (1, sizeof *p);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s_tag (p, S_TAG_CLIENT)};
        if (!p || epoll_ctl (loop->base.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free (p);
            close (fd);
            continue;
        }
        p->loop = loop;
        p->lis = lis;
        p->cfd = fd;
        p->ofd = -1;
        http_parser_init (&p->req_p, HTTP_REQUEST);
        p->req_p.data = p;
        p->next = loop->pairs;
        if (loop->pairs)
            loop->pairs->prev = p;
        loop->pairs = p;
    }
}

/* Every request past its deadline is cut (504). */
static void s_sweep (s_loop_t *loop) {
    int64_t now = fb_clock_now_ns ();
    if (now - loop->swept_ns < S_SWEEP_NS)
        return;
    loop->swept_ns = now;
    for (s_pair_t *p = loop->pairs, *next; p; p = next) {
        next = p->next;
        if (p->busy && now >= p->deadline_ns)
            s_fail (p, 504);
    }
}

static void *s_loop_main (void *arg) {
    s_loop_t *loop = arg;
    struct epoll_event events[S_MAX_EVENTS];
    for (;;) {
        int n =
            epoll_wait (loop->base.epfd, events, S_MAX_EVENTS, (int)(S_SWEEP_NS / FB_NS_PER_MS));
        for (int i = 0; i < n; i++) {
            uintptr_t tag = (uintptr_t)events[i].data.ptr & 3;
            void *obj = (void *)((uintptr_t)events[i].data.ptr & ~(uintptr_t)3);
            if (tag == S_TAG_WAKE)
                return NULL;
            if (tag == S_TAG_LISTENER) {
                s_accept (loop, obj);
                continue;
            }
            s_pair_t *p = obj;
            if (p->dead)
                continue;
            if (tag == S_TAG_ORIGIN) {
                s_origin_event (p, events[i].events);
                continue;
            }
            if ((events[i].events & EPOLLOUT) && !s_client_flush (p))
                continue;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                s_client_readable (p);
        }
        s_sweep (loop);
        s_reap (loop);
    }
}

/* ---- registration and life -------------------------------------------------------------- */

int fb_http_proxy_register (fb_http_proxy_t *self, int target_port, const char *process,
                            int *proxy_port, fb_err_t *err) {
    pthread_mutex_lock (&self->lock);
    int rc = -1;
    if (self->nlisteners == FB_HTTP_PROXY_MAX_URLS) {
        fb_err_set (err, FB_EINPUT, "proxy: at most %d URLs", FB_HTTP_PROXY_MAX_URLS);
        goto done;
    }
    s_listener_t *lis = &self->listeners[self->nlisteners];
    /* Brummer's nextPort: the next registration probes from after the last port taken. */
    int base =
        self->nlisteners ? self->listeners[self->nlisteners - 1].port + 1 : self->cfg.port_base;
    lis->fd = fb_http_loop_listen (base, &lis->port, err);
    if (lis->fd < 0)
        goto done;
    lis->target_port = target_port;
    snprintf (lis->host, sizeof lis->host, "127.0.0.1:%d", target_port);
    lis->script.len = 0;
    if (self->cfg.inject &&
        fb_inject_script (process, lis->port, self->cfg.script_bytes, &lis->script) != 0) {
        fb_err_set (err, FB_ENOMEM, "proxy: out of memory for a script of %zu bytes",
                    self->cfg.script_bytes);
        close (lis->fd);
        goto done;
    }
    for (int i = 0; i < self->nloops; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.ptr = s_tag (lis, S_TAG_LISTENER)};
        epoll_ctl (self->loops[i].base.epfd, EPOLL_CTL_ADD, lis->fd, &ev);
    }
    self->nlisteners++;
    *proxy_port = lis->port;
    rc = 0;
done:
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int fb_http_proxy_history (fb_http_proxy_t *self, fb_http_proxy_record_t *out, int max) {
    pthread_mutex_lock (&self->lock);
    int64_t held = self->recorded < self->cfg.history ? self->recorded : self->cfg.history;
    int n = held < max ? (int)held : max;
    for (int i = 0; i < n; i++)
        out[i] = self->ring[(self->recorded - n + i) % self->cfg.history];
    pthread_mutex_unlock (&self->lock);
    return n;
}

void fb_http_proxy_stats (fb_http_proxy_t *self, fb_http_proxy_stats_t *out) {
    pthread_mutex_lock (&self->lock);
    out->requests = self->recorded;
    pthread_mutex_unlock (&self->lock);
    out->injected = atomic_load (&self->injected);
    out->bad_gateway = atomic_load (&self->bad_gateway);
    out->timeouts = atomic_load (&self->timeouts);
}

int fb_http_proxy_drain_inject (fb_http_proxy_t *self, fb_hist_t *into, fb_err_t *err) {
    return fb_hist_drain (into, self->inject_hist, err);
}

static int s_loop_start (fb_http_proxy_t *self, s_loop_t *loop, fb_err_t *err) {
    loop->proxy = self;
    epoll_data_t wake = {.ptr = s_tag (NULL, S_TAG_WAKE)};
    if (fb_http_loop_open (&loop->base, wake, "", err) != 0)
        return -1;
    if (!(loop->inject = fb_inject_new (-1, err)))
        return -1;
    return fb_http_loop_start (&loop->base, s_loop_main, loop, "", err);
}

fb_http_proxy_t *fb_http_proxy_new (const fb_http_proxy_cfg_t *cfg, fb_err_t *err) {
    fb_http_proxy_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "proxy: out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->cfg.history = cfg->history > 0 ? cfg->history : 1;
    self->nloops = cfg->threads > 0 ? cfg->threads : 1;
    pthread_mutex_init (&self->lock, NULL);
    self->req_settings = (http_parser_settings){.on_message_begin = s_on_req_begin,
                                                .on_url = s_on_url,
                                                .on_header_field = s_on_header_field,
                                                .on_header_value = s_on_header_value,
                                                .on_headers_complete = s_on_req_headers,
                                                .on_body = s_on_body,
                                                .on_message_complete = s_on_complete};
    self->resp_settings = (http_parser_settings){.on_header_field = s_on_header_field,
                                                 .on_header_value = s_on_header_value,
                                                 .on_headers_complete = s_on_resp_headers,
                                                 .on_body = s_on_body,
                                                 .on_message_complete = s_on_complete};
    self->ring = calloc ((size_t)self->cfg.history, sizeof *self->ring);
    self->loops = calloc ((size_t)self->nloops, sizeof *self->loops);
    self->inject_hist = self->ring && self->loops ? fb_hist_new_default (err) : NULL;
    if (!self->inject_hist) {
        fb_err_set (err, FB_ENOMEM, "out of memory for a history of %d", self->cfg.history);
        goto fail;
    }
    for (int i = 0; i < self->nloops; i++)
        fb_http_loop_init (&self->loops[i].base);
    for (int i = 0; i < self->nloops; i++)
        if (s_loop_start (self, &self->loops[i], err) != 0)
            goto fail;
    return self;
fail:
    fb_err_prefix (err, "proxy");
    fb_http_proxy_destroy (&self);
    return NULL;
}

void fb_http_proxy_destroy (fb_http_proxy_t **self_p) {
    fb_http_proxy_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; self->loops && i < self->nloops; i++) {
        s_loop_t *loop = &self->loops[i];
        fb_http_loop_stop (&loop->base);
        while (loop->pairs)
            s_pair_close (loop->pairs);
        s_reap (loop);
        fb_inject_destroy (&loop->inject);
        fb_http_loop_close (&loop->base);
    }
    for (int i = 0; i < self->nlisteners; i++) {
        close (self->listeners[i].fd);
        fb_bytes_free (&self->listeners[i].script);
    }
    fb_hist_destroy (&self->inject_hist);
    pthread_mutex_destroy (&self->lock);
    free (self->ring);
    free (self->loops);
    free (self);
    *self_p = NULL;
}

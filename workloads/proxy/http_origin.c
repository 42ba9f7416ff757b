/* http_origin.c: the origin server. Every answer is built once at start (head and body, and
 * a gzip variant where there is one), so serving a request is a lookup and a write: the
 * origin's own cost stays small next to the proxy's, which is what the workload measures. */
#include "workloads/proxy/http_origin.h"

#include "common/rng.h"

#include "workloads/proxy/http_loop.h"
#include "workloads/proxy/inject.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define S_MAX_EVENTS 64
#define S_READ_BYTES 16384
#define S_URL_BYTES 128

enum { S_RES_PAGE, S_RES_JSON, S_RES_JS, S_RES_PNG, S_RES_500, S_RES_404, S_NRES };
enum { S_FAULT_NONE, S_FAULT_TRUNCATE, S_FAULT_CLOSE };

typedef struct {
    fb_bytes_t body;      /* identity */
    fb_bytes_t plain, gz; /* whole answers, head and body; gz.len 0 when no gzip variant */
} s_resource_t;

typedef struct s_conn {
    int fd;
    http_parser parser;
    fb_bytes_t out; /* answer bytes not yet written */
    char url[S_URL_BYTES];
    size_t url_len;
    char field[24]; /* the header name being read, lower case, cut */
    size_t field_len;
    bool in_value, accepts_gzip;
    bool stalled;     /* a truncate fault was sent: read and drop everything from now on */
    bool close_after; /* close once out is written */
    struct s_conn *prev, *next;
    struct s_loop *loop;
} s_conn_t;

typedef struct s_loop {
    fb_http_origin_t *origin;
    fb_http_loop_t base; /* epoll set, wake eventfd, thread */
    s_conn_t *conns;     /* every open connection, for teardown */
} s_loop_t;

struct fb_http_origin {
    fb_http_origin_cfg_t cfg;
    int listen_fd, port;
    s_resource_t res[S_NRES];
    http_parser_settings settings;
    s_loop_t *loops;
    int nloops;
};

/* ---- the answers ------------------------------------------------------------------------ */

static int s_html (size_t bytes, fb_bytes_t *out) {
    static const char head[] =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>fleetbench dev page</title>\n"
        "<link rel=\"stylesheet\" href=\"/static/app.css\">\n</head>\n<body>\n";
    static const char tail[] = "<script src=\"/static/app.js\"></script>\n</body>\n</html>\n";
    if (fb_bytes_append_str (out, head) != 0)
        return -1;
    size_t fill =
        bytes > sizeof head + sizeof tail ? bytes - (sizeof head - 1) - (sizeof tail - 1) : 0;
    for (size_t i = 0; fill > 0; i++) {
        char row[160];
        int n = snprintf (row, sizeof row,
                          "<div class=\"row\" id=\"r%zu\"><span>item %zu</span> build %zu ok, "
                          "%zu ms</div>\n",
                          i, i * 31 % 977, i * 7 % 13, i * 17 % 401);
        size_t take = (size_t)n < fill ? (size_t)n : fill;
        if (fb_bytes_append (out, row, take) != 0)
            return -1;
        fill -= take;
    }
    return fb_bytes_append_str (out, tail);
}

static int s_json (fb_bytes_t *out) {
    if (fb_bytes_append_str (out, "{\"items\":[") != 0)
        return -1;
    for (int i = 0; i < 24; i++) {
        char item[96];
        int n = snprintf (item, sizeof item, "%s{\"id\":%d,\"name\":\"item-%d\",\"ok\":%s}",
                          i ? "," : "", i, i * 37 % 101, i % 3 ? "true" : "false");
        if (fb_bytes_append (out, item, (size_t)n) != 0)
            return -1;
    }
    return fb_bytes_append_str (out, "]}\n");
}

static int s_filler (size_t bytes, bool binary, fb_bytes_t *out) {
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (size_t i = 0; i < bytes; i++) {
        fb_rng_next (&x);
        uint8_t c = binary ? (uint8_t)x : (uint8_t) "abcdefghij(){};=.\n "[x % 19];
        if (fb_bytes_append (out, &c, 1) != 0)
            return -1;
    }
    return 0;
}

static int s_gzip (const fb_bytes_t *in, fb_bytes_t *out) {
    z_stream z = {0};
    if (deflateInit2 (&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    int rc = fb_bytes_reserve (out, deflateBound (&z, in->len));
    if (rc == 0) {
        z.next_in = in->data;
        z.avail_in = (uInt)in->len;
        z.next_out = out->data;
        z.avail_out = (uInt)out->cap;
        rc = deflate (&z, Z_FINISH) == Z_STREAM_END ? 0 : -1;
        out->len = out->cap - z.avail_out;
    }
    deflateEnd (&z);
    return rc;
}

/* One whole answer: status line, headers, body. */
static int s_answer (fb_bytes_t *out, const char *status, const char *type, const char *extra,
                     const uint8_t *body, size_t len) {
    char head[512];
    int n = snprintf (head, sizeof head,
                      "HTTP/1.1 %s\r\nServer: fleetbench-origin\r\nContent-Type: %s\r\n%s"
                      "Content-Length: %zu\r\n\r\n",
                      status, type, extra, len);
    return fb_bytes_append (out, head, (size_t)n) || fb_bytes_append (out, body, len) ? -1 : 0;
}

static int s_resource (s_resource_t *r, const char *status, const char *type, const char *extra,
                       bool gzip) {
    if (s_answer (&r->plain, status, type, extra, r->body.data, r->body.len) != 0)
        return -1;
    if (!gzip)
        return 0;
    fb_bytes_t packed = {0};
    char extra_gz[256];
    snprintf (extra_gz, sizeof extra_gz, "%sContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n",
              extra);
    int rc = s_gzip (&r->body, &packed) != 0 ||
                     s_answer (&r->gz, status, type, extra_gz, packed.data, packed.len) != 0
                 ? -1
                 : 0;
    fb_bytes_free (&packed);
    return rc;
}

static int s_build (fb_http_origin_t *self) {
    static const char csp[] = "Content-Security-Policy: default-src 'self'; script-src 'self'\r\n"
                              "Cache-Control: no-cache\r\n";
    s_resource_t *r = self->res;
    bool gz = self->cfg.gzip;
    if (s_html (self->cfg.page_bytes, &r[S_RES_PAGE].body) != 0 || s_json (&r[S_RES_JSON].body) ||
        s_filler (32 * 1024, false, &r[S_RES_JS].body) ||
        s_filler (8 * 1024, true, &r[S_RES_PNG].body) ||
        fb_bytes_append_str (&r[S_RES_500].body, "origin failed on purpose\n") ||
        fb_bytes_append_str (&r[S_RES_404].body, "not found\n"))
        return -1;
    if (s_resource (&r[S_RES_PAGE], "200 OK", "text/html; charset=utf-8", csp, gz) ||
        s_resource (&r[S_RES_JSON], "200 OK", "application/json", "", gz) ||
        s_resource (&r[S_RES_JS], "200 OK", "application/javascript",
                    "Cache-Control: max-age=3600\r\n", false) ||
        s_resource (&r[S_RES_PNG], "200 OK", "image/png", "Cache-Control: max-age=3600\r\n",
                    false) ||
        s_resource (&r[S_RES_500], "500 Internal Server Error", "text/plain", "", false) ||
        s_resource (&r[S_RES_404], "404 Not Found", "text/plain", "", false))
        return -1;
    return 0;
}

static int s_route (const char *url, int *fault) {
    static const struct {
        const char *path;
        int res, fault;
    } routes[] = {
        {"/page", S_RES_PAGE, S_FAULT_NONE},
        {"/api/items.json", S_RES_JSON, S_FAULT_NONE},
        {"/static/app.js", S_RES_JS, S_FAULT_NONE},
        {"/static/logo.png", S_RES_PNG, S_FAULT_NONE},
        {"/fault/truncate", S_RES_PAGE, S_FAULT_TRUNCATE},
        {"/fault/close", S_RES_PAGE, S_FAULT_CLOSE},
        {"/fault/500", S_RES_500, S_FAULT_NONE},
    };
    size_t len = strcspn (url, "?#");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strlen (routes[i].path) == len && strncmp (url, routes[i].path, len) == 0) {
            *fault = routes[i].fault;
            return routes[i].res;
        }
    *fault = S_FAULT_NONE;
    return S_RES_404;
}

int fb_http_origin_body (const fb_http_origin_t *self, const char *path, const uint8_t **body,
                         size_t *len) {
    int fault;
    int res = s_route (path, &fault);
    if (res == S_RES_404)
        return -1;
    *body = self->res[res].body.data;
    *len = self->res[res].body.len;
    return 0;
}

/* ---- serving ---------------------------------------------------------------------------- */

enum { S_TAG_LISTEN = 0, S_TAG_WAKE = 1 }; /* epoll data below any pointer */

static int s_on_message_begin (http_parser *p) {
    s_conn_t *c = p->data;
    c->url_len = 0;
    c->field_len = 0;
    c->in_value = false;
    c->accepts_gzip = false;
    return 0;
}

static int s_on_url (http_parser *p, const char *at, size_t len) {
    s_conn_t *c = p->data;
    size_t room = sizeof c->url - 1 - c->url_len;
    size_t take = len < room ? len : room;
    memcpy (c->url + c->url_len, at, take);
    c->url_len += take;
    c->url[c->url_len] = '\0';
    return 0;
}

static int s_on_header_field (http_parser *p, const char *at, size_t len) {
    s_conn_t *c = p->data;
    if (c->in_value) {
        c->field_len = 0;
        c->in_value = false;
    }
    for (size_t i = 0; i < len && c->field_len < sizeof c->field - 1; i++)
        c->field[c->field_len++] = (char)(at[i] | 0x20);
    c->field[c->field_len] = '\0';
    return 0;
}

static int s_on_header_value (http_parser *p, const char *at, size_t len) {
    s_conn_t *c = p->data;
    c->in_value = true;
    if (strcmp (c->field, "accept-encoding") == 0 && memmem (at, len, "gzip", 4))
        c->accepts_gzip = true;
    return 0;
}

static int s_on_message_complete (http_parser *p) {
    s_conn_t *c = p->data;
    if (c->stalled)
        return 0;
    fb_http_origin_t *self = c->loop->origin;
    int fault;
    const s_resource_t *r = &self->res[s_route (c->url, &fault)];
    bool gz = c->accepts_gzip && r->gz.len && fault == S_FAULT_NONE;
    const fb_bytes_t *answer = gz ? &r->gz : &r->plain;
    size_t len = answer->len;
    if (fault != S_FAULT_NONE) {
        len -= r->body.len / 2 + 1; /* the head and about half the (identity) body */
        c->stalled = fault == S_FAULT_TRUNCATE;
        c->close_after = fault == S_FAULT_CLOSE;
    }
    if (fb_bytes_append (&c->out, answer->data, len) != 0)
        return -1;
    if (!http_should_keep_alive (p))
        c->close_after = true;
    return 0;
}

static void s_close (s_conn_t *c) {
    s_loop_t *loop = c->loop;
    epoll_ctl (loop->base.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close (c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        loop->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    fb_bytes_free (&c->out);
    free (c);
}

/* Writes what is pending; false when the connection was closed. */
static bool s_flush (s_conn_t *c) {
    while (c->out.len > 0) {
        ssize_t n = write (c->fd, c->out.data, c->out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            s_close (c);
            return false;
        }
        fb_bytes_consume (&c->out, (size_t)n);
    }
    if (c->out.len == 0 && c->close_after) {
        s_close (c);
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl (c->loop->base.epfd, EPOLL_CTL_MOD, c->fd, &ev);
    return true;
}

static void s_readable (s_conn_t *c) {
    char buf[S_READ_BYTES];
    ssize_t n = read (c->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        s_close (c);
        return;
    }
    if (c->stalled)
        return; /* a truncated answer was sent: hold the line, answer nothing more */
    size_t done = http_parser_execute (&c->parser, &c->loop->origin->settings, buf, (size_t)n);
    if (HTTP_PARSER_ERRNO (&c->parser) != HPE_OK || done != (size_t)n)
        c->close_after = true; /* a bad request: send what is due, then close */
    s_flush (c);
}

static void s_accept (s_loop_t *loop, int listen_fd) {
    for (int i = 0; i < S_MAX_EVENTS; i++) {
        int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: another loop took it, or none left */
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s_conn_t *c = calloc (1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || epoll_ctl (loop->base.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free (c);
            close (fd);
            continue;
        }
        c->fd = fd;
        c->loop = loop;
        http_parser_init (&c->parser, HTTP_REQUEST);
        c->parser.data = c;
        c->next = loop->conns;
        if (loop->conns)
            loop->conns->prev = c;
        loop->conns = c;
    }
}

static void *s_loop_main (void *arg) {
    s_loop_t *loop = arg;
    struct epoll_event events[S_MAX_EVENTS];
    for (;;) {
        int n = epoll_wait (loop->base.epfd, events, S_MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == S_TAG_WAKE)
                return NULL;
            if (tag == S_TAG_LISTEN) {
                s_accept (loop, loop->origin->listen_fd);
                continue;
            }
            s_conn_t *c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT) {
                if (!s_flush (c))
                    continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                s_readable (c);
        }
    }
}

/* ---- life ------------------------------------------------------------------------------- */

static int s_loop_start (fb_http_origin_t *self, s_loop_t *loop, fb_err_t *err) {
    loop->origin = self;
    if (fb_http_loop_open (&loop->base, (epoll_data_t){.u64 = S_TAG_WAKE}, "origin: ", err) != 0)
        return -1;
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = S_TAG_LISTEN};
    if (epoll_ctl (loop->base.epfd, EPOLL_CTL_ADD, self->listen_fd, &lev) != 0)
        return fb_err_set (err, FB_ESYS, "origin: epoll_ctl: %s", strerror (errno));
    return fb_http_loop_start (&loop->base, s_loop_main, loop, "origin: ", err);
}

fb_http_origin_t *fb_http_origin_new (const fb_http_origin_cfg_t *cfg, fb_err_t *err) {
    fb_http_origin_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "origin: out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->listen_fd = -1;
    self->nloops = cfg->threads > 0 ? cfg->threads : 1;
    self->settings = (http_parser_settings){.on_message_begin = s_on_message_begin,
                                            .on_url = s_on_url,
                                            .on_header_field = s_on_header_field,
                                            .on_header_value = s_on_header_value,
                                            .on_message_complete = s_on_message_complete};
    self->loops = calloc ((size_t)self->nloops, sizeof *self->loops);
    for (int i = 0; self->loops && i < self->nloops; i++)
        fb_http_loop_init (&self->loops[i].base);
    if (!self->loops || s_build (self) != 0) {
        fb_err_set (err, FB_ENOMEM, "origin: out of memory for pages of %zu bytes",
                    cfg->page_bytes);
        goto fail;
    }
    self->listen_fd = fb_http_loop_listen (cfg->port_base, &self->port, err);
    if (self->listen_fd < 0)
        goto fail;
    for (int i = 0; i < self->nloops; i++)
        if (s_loop_start (self, &self->loops[i], err) != 0)
            goto fail;
    return self;
fail:
    fb_err_prefix (err, "origin");
    fb_http_origin_destroy (&self);
    return NULL;
}

void fb_http_origin_destroy (fb_http_origin_t **self_p) {
    fb_http_origin_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; self->loops && i < self->nloops; i++) {
        s_loop_t *loop = &self->loops[i];
        fb_http_loop_stop (&loop->base);
        while (loop->conns)
            s_close (loop->conns);
        fb_http_loop_close (&loop->base);
    }
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    for (int r = 0; r < S_NRES; r++) {
        fb_bytes_free (&self->res[r].body);
        fb_bytes_free (&self->res[r].plain);
        fb_bytes_free (&self->res[r].gz);
    }
    free (self->loops);
    free (self);
    *self_p = NULL;
}

int fb_http_origin_port (const fb_http_origin_t *self) { return self->port; }

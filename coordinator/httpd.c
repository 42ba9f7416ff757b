/* httpd.c: the metrics endpoint's server. One actor thread polls the listening socket, its
 * pipe and up to FB_HTTPD_MAX_CONNECTIONS non-blocking connections, each with a fixed buffer
 * for its request head and a deadline. The text served is immutable and reference counted:
 * publishing swaps a pointer under a mutex, and an answer still being written keeps its own. */
#include "coordinator/httpd.h"

#include "common/clock.h"
#include "coordinator/httpreq.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_DRAIN_MS 1000 /* after an answer, unread input is read and dropped this long */
#define S_POLL_MS 100

typedef struct {
    int refs; /* atomic */
    size_t len;
    char text[];
} s_text_t;

typedef enum { S_READ, S_WRITE, S_DRAIN } s_state_t;

typedef struct {
    int fd; /* -1: free */
    s_state_t state;
    int64_t accepted_ns, drain_until_ns;
    char in[FB_HTTPREQ_MAX_BYTES];
    size_t in_len;
    char head[512];
    size_t head_len, head_sent;
    const char *body;
    size_t body_len, body_sent;
    s_text_t *text; /* held while body points into it */
} s_conn_t;

struct fb_httpd {
    int listen_fd;
    int port;
    char path[128];
    char content_type[128];
    char url[300];
    pthread_mutex_t lock; /* guards text */
    s_text_t *text;
    zactor_t *actor;
};

static void s_unref (s_text_t *t) {
    if (t && __atomic_sub_fetch (&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free (t);
}

static s_text_t *s_latest (fb_httpd_t *self) {
    pthread_mutex_lock (&self->lock);
    s_text_t *t = self->text;
    if (t)
        __atomic_add_fetch (&t->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock (&self->lock);
    return t;
}

static void s_close (s_conn_t *c) {
    if (c->fd >= 0)
        close (c->fd);
    s_unref (c->text);
    c->text = NULL;
    c->fd = -1;
}

static const char *s_reason (int code) {
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Error";
}

static void s_on_writable (s_conn_t *c, int64_t now);

/* Starts the answer: status line and fields, then text's bytes (or the reason as the body). */
static void s_respond (s_conn_t *c, int code, const char *content_type, s_text_t *text,
                       bool head_only, int64_t now) {
    char reason_body[80];
    snprintf (reason_body, sizeof reason_body, "%d %s\n", code, s_reason (code));
    c->text = text;
    c->body = text ? text->text : NULL;
    c->body_len = text ? text->len : 0;
    if (!text) {
        content_type = "text/plain; charset=utf-8";
        c->body = NULL; /* the reason, copied after the head below */
        c->body_len = strlen (reason_body);
    }
    int n = snprintf (c->head, sizeof c->head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                      "Connection: close\r\n\r\n",
                      code, s_reason (code), content_type, c->body_len,
                      code == 405 ? "Allow: GET, HEAD\r\n" : "");
    c->head_len = n > 0 && (size_t)n < sizeof c->head ? (size_t)n : 0;
    if (!text && !head_only && c->head_len + c->body_len < sizeof c->head) {
        memcpy (c->head + c->head_len, reason_body, c->body_len);
        c->head_len += c->body_len;
    }
    if (!text || head_only)
        c->body_len = 0;
    c->head_sent = c->body_sent = 0;
    c->state = S_WRITE;
    s_on_writable (c, now);
}

static void s_answer (fb_httpd_t *self, s_conn_t *c, fb_httpreq_status_t st,
                      const fb_httpreq_t *req, int64_t now) {
    bool head_only = st == FB_HTTPREQ_OK && strcmp (req->method, "HEAD") == 0;
    if (st != FB_HTTPREQ_OK)
        s_respond (c, fb_httpreq_status_code (st), NULL, NULL, false, now);
    else if (strcmp (req->method, "GET") != 0 && !head_only)
        s_respond (c, 405, NULL, NULL, false, now);
    else if (strcmp (req->path, self->path) != 0)
        s_respond (c, 404, NULL, NULL, head_only, now);
    else {
        s_text_t *text = s_latest (self);
        if (text)
            s_respond (c, 200, self->content_type, text, head_only, now);
        else
            s_respond (c, 503, NULL, NULL, head_only, now);
    }
}

static void s_on_writable (s_conn_t *c, int64_t now) {
    while (c->head_sent < c->head_len || c->body_sent < c->body_len) {
        bool head = c->head_sent < c->head_len;
        const char *p = head ? c->head + c->head_sent : c->body + c->body_sent;
        size_t n = head ? c->head_len - c->head_sent : c->body_len - c->body_sent;
        ssize_t w = send (c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (w <= 0) {
            s_close (c);
            return;
        }
        *(head ? &c->head_sent : &c->body_sent) += (size_t)w;
    }
    /* All sent: say so, then read what the client may still send (a close with unread input
     * would reset the connection and could lose the answer on its way). */
    s_unref (c->text);
    c->text = NULL;
    shutdown (c->fd, SHUT_WR);
    c->state = S_DRAIN;
    c->drain_until_ns = now + S_DRAIN_MS * FB_NS_PER_MS;
}

static void s_on_readable (fb_httpd_t *self, s_conn_t *c, int64_t now) {
    char sink[4096];
    bool draining = c->state == S_DRAIN;
    char *into = draining ? sink : c->in + c->in_len;
    size_t room = draining ? sizeof sink : sizeof c->in - c->in_len;
    ssize_t r = recv (c->fd, into, room, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        s_close (c); /* the client is gone, or has said all it will */
        return;
    }
    if (draining || c->state != S_READ)
        return;
    c->in_len += (size_t)r;
    fb_httpreq_t req;
    fb_httpreq_status_t st = fb_httpreq_parse (c->in, c->in_len, &req);
    if (st != FB_HTTPREQ_PARTIAL)
        s_answer (self, c, st, &req, now);
}

static void s_expire (s_conn_t *c, int64_t now) {
    int64_t age_ms = (now - c->accepted_ns) / FB_NS_PER_MS;
    if (c->state == S_READ && age_ms > FB_HTTPD_HEAD_TIMEOUT_MS)
        s_respond (c, 408, NULL, NULL, false, now);
    else if (c->state == S_WRITE && age_ms > FB_HTTPD_TOTAL_TIMEOUT_MS)
        s_close (c);
    else if (c->state == S_DRAIN && now > c->drain_until_ns)
        s_close (c);
}

static void s_accept (fb_httpd_t *self, s_conn_t *conns, int64_t now) {
    for (int i = 0; i < FB_HTTPD_MAX_CONNECTIONS; i++) {
        if (conns[i].fd >= 0)
            continue;
        int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* nobody waiting, or out of descriptors: the backlog keeps them */
        conns[i] = (s_conn_t){.fd = fd, .state = S_READ, .accepted_ns = now};
    }
}

static void s_actor (zsock_t *pipe, void *arg) {
    fb_httpd_t *self = arg;
    s_conn_t *conns = calloc (FB_HTTPD_MAX_CONNECTIONS, sizeof *conns);
    int slots = conns ? FB_HTTPD_MAX_CONNECTIONS : 0; /* out of memory: answers $TERM only */
    for (int i = 0; i < slots; i++)
        conns[i].fd = -1;
    zsock_signal (pipe, 0);
    zmq_pollitem_t items[2 + FB_HTTPD_MAX_CONNECTIONS];
    int which[FB_HTTPD_MAX_CONNECTIONS];
    while (true) {
        int n = 0, used = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < slots; i++) {
            if (conns[i].fd < 0)
                continue;
            short ev = conns[i].state == S_WRITE ? ZMQ_POLLOUT : ZMQ_POLLIN;
            which[n - 1] = i;
            items[n++] = (zmq_pollitem_t){NULL, conns[i].fd, ev, 0};
            used++;
        }
        int listen_at = n;
        items[n++] = (zmq_pollitem_t){NULL, self->listen_fd, used < slots ? ZMQ_POLLIN : 0, 0};
        if (zmq_poll (items, n, S_POLL_MS) < 0 && zmq_errno () != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *cmd = zstr_recv (pipe);
            bool term = !cmd || streq (cmd, "$TERM");
            zstr_free (&cmd);
            if (term)
                break;
        }
        int64_t now = fb_clock_now_ns ();
        for (int k = 1; k < listen_at; k++) {
            s_conn_t *c = &conns[which[k - 1]];
            if (items[k].revents & ZMQ_POLLERR)
                s_close (c);
            else if (items[k].revents & ZMQ_POLLOUT)
                s_on_writable (c, now);
            else if (items[k].revents & ZMQ_POLLIN)
                s_on_readable (self, c, now);
        }
        for (int i = 0; i < slots; i++)
            if (conns[i].fd >= 0)
                s_expire (&conns[i], now);
        if (items[listen_at].revents & ZMQ_POLLIN)
            s_accept (self, conns, now);
    }
    for (int i = 0; i < slots; i++)
        s_close (&conns[i]);
    free (conns);
}

/* "host:port" or "[v6]:port" into host and port; "localhost" means 127.0.0.1. */
static int s_split (const char *listen, char *host, size_t hsize, char *port, size_t psize,
                    fb_err_t *err) {
    const char *colon = strrchr (listen, ':');
    const char *h = listen;
    size_t hlen = colon ? (size_t)(colon - listen) : 0;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (colon && memchr (listen, ':', hlen))
        colon = NULL; /* a bare IPv6 address: its port would be ambiguous */
    const char *p = colon ? colon + 1 : "";
    size_t plen = strlen (p);
    bool digits = plen >= 1 && plen <= 5 && strspn (p, "0123456789") == plen;
    if (!colon || hlen == 0 || hlen >= hsize || !digits || atol (p) > 65535 || plen >= psize)
        return fb_err_set (err, FB_EINPUT,
                           "--metrics %s: give ADDRESS:PORT (127.0.0.1:9464, [::1]:9464; port "
                           "0..65535, 0: any free one)",
                           listen);
    snprintf (host, hsize, "%.*s", (int)hlen, h);
    if (strcmp (host, "localhost") == 0)
        snprintf (host, hsize, "127.0.0.1");
    snprintf (port, psize, "%s", p);
    return 0;
}

static struct addrinfo *s_resolve (const char *listen, fb_err_t *err) {
    char host[128], port[8];
    if (s_split (listen, host, sizeof host, port, sizeof port, err) != 0)
        return NULL;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo (host, port, &hints, &ai);
    if (rc != 0 || !ai) {
        fb_err_set (err, FB_EINPUT, "--metrics %s: %s is not an IP address (%s)", listen, host,
                    gai_strerror (rc));
        return NULL;
    }
    return ai;
}

int fb_httpd_check_address (const char *listen, fb_err_t *err) {
    struct addrinfo *ai = s_resolve (listen, err);
    if (!ai)
        return -1;
    freeaddrinfo (ai);
    return 0;
}

static bool s_loopback (const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl (((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

static int s_listen (fb_httpd_t *self, const char *address, bool allow_public, fb_err_t *err) {
    struct addrinfo *ai = s_resolve (address, err);
    if (!ai)
        return -1;
    int rc = -1;
    if (!allow_public && !s_loopback (ai->ai_addr)) {
        fb_err_set (err, FB_EINPUT,
                    "--metrics %s is not loopback: anyone who can reach it reads the run's "
                    "numbers; add --insecure to serve them there",
                    address);
        goto done;
    }
    self->listen_fd = socket (ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (self->listen_fd < 0 ||
        setsockopt (self->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind (self->listen_fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen (self->listen_fd, 16) != 0 ||
        getsockname (self->listen_fd, (struct sockaddr *)&bound, &blen) != 0) {
        fb_err_set (err, errno == EADDRINUSE || errno == EACCES ? FB_EINPUT : FB_ESYS,
                    "--metrics %s: cannot listen: %s", address, strerror (errno));
        goto done;
    }
    self->port = ntohs (bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    char host[INET6_ADDRSTRLEN] = "?";
    const void *addr = bound.ss_family == AF_INET6
                           ? (const void *)&((struct sockaddr_in6 *)&bound)->sin6_addr
                           : (const void *)&((struct sockaddr_in *)&bound)->sin_addr;
    inet_ntop (bound.ss_family, addr, host, sizeof host);
    snprintf (self->url, sizeof self->url, "http://%s%s%s:%d%s",
              bound.ss_family == AF_INET6 ? "[" : "", host, bound.ss_family == AF_INET6 ? "]" : "",
              self->port, self->path);
    rc = 0;
done:
    freeaddrinfo (ai);
    return rc;
}

fb_httpd_t *fb_httpd_new (const char *listen, bool allow_public, const char *path,
                          const char *content_type, fb_err_t *err) {
    fb_httpd_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return NULL;
    }
    self->listen_fd = -1;
    pthread_mutex_init (&self->lock, NULL);
    snprintf (self->path, sizeof self->path, "%s", path);
    snprintf (self->content_type, sizeof self->content_type, "%s", content_type);
    if (s_listen (self, listen, allow_public, err) != 0 ||
        !(self->actor = zactor_new (s_actor, self))) {
        if (err && !err->msg[0])
            fb_err_set (err, FB_ESYS, "cannot start the metrics thread");
        fb_httpd_destroy (&self);
    }
    return self;
}

void fb_httpd_destroy (fb_httpd_t **self_p) {
    fb_httpd_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor); /* $TERM: the thread closes its connections and ends */
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    s_unref (self->text);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int fb_httpd_port (const fb_httpd_t *self) { return self->port; }

const char *fb_httpd_url (const fb_httpd_t *self) { return self->url; }

int fb_httpd_publish (fb_httpd_t *self, const char *text, size_t len, fb_err_t *err) {
    s_text_t *t = malloc (sizeof *t + len + 1);
    if (!t)
        return fb_err_set (err, FB_ENOMEM, "out of memory publishing %zu bytes of metrics", len);
    t->refs = 1;
    t->len = len;
    memcpy (t->text, text, len);
    t->text[len] = '\0';
    pthread_mutex_lock (&self->lock);
    s_text_t *old = self->text;
    self->text = t;
    pthread_mutex_unlock (&self->lock);
    s_unref (old);
    return 0;
}

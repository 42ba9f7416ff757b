/* tor_link.c: TLS links over non-blocking sockets, the Tor link handshake, a poll loop with the
 * hop_rtt delay queue, and the circuit id map. A link never blocks its loop: a relay can be
 * extending to a relay that is extending to it at the same moment. */
#include "workloads/tor/model/tor_link.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_IN_CAP (32 * 1024) /* read buffer: a TLS record and then some */
#define S_DELAY_MAX 65536    /* cells waiting out hop_rtt before reads pause */
#define S_LOCALHOST 0x7f000001u

enum { S_TLS, S_VERSIONS, S_NETINFO, S_OPEN, S_DEAD };

struct fb_tor_link {
    SSL *ssl;
    int fd;
    bool initiator;
    bool client; /* our end is a client's: NETINFO's time is 0 (tor-spec 4.5) */
    int state;
    bool want_write; /* TLS needs the socket writable to go on */
    uint8_t in[S_IN_CAP];
    size_t in_len;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    void *user;
    fb_err_t why; /* S_DEAD: the reason */
};

typedef struct {
    int64_t due_ns;
    fb_tor_link_t *link; /* NULL once the link closed */
    uint8_t cell[FB_TOR_CELL_LEN];
} s_delayed_t;

struct fb_tor_loop {
    fb_tor_link_t **links;
    int nlinks, links_cap;
    int listen_fd, wake_fd;
    SSL_CTX *listen_ctx;
    int64_t delay_ns;
    s_delayed_t *ring;
    size_t head, count, ring_cap;
    struct pollfd *pfds;
    size_t pfds_cap;
    fb_tor_on_cell_fn *on_cell;
    fb_tor_on_link_fn *on_link;
    void *owner;
    bool client; /* a client's loop (fb_tor_link_loop_set_client) */
    bool nagle;  /* leave Nagle's algorithm on (fb_tor_link_loop_set_nagle) */
};

_Static_assert(S_IN_CAP >= FB_TOR_VAR_MAX, "the read buffer holds the longest variable cell");

/* ---- one link --------------------------------------------------------------------------- */

/* Non-blocking, and Nagle's algorithm off (TCP_NODELAY) unless nagle: tor leaves it on. */
static int s_nonblocking (int fd, bool nagle) {
    int flags = fcntl (fd, F_GETFL);
    int nodelay = !nagle;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    return flags < 0 ? -1 : fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

static fb_tor_link_t *s_link_new (const fb_tor_loop_t *loop, SSL_CTX *ctx, int fd, bool initiator,
                                  fb_err_t *err) {
    fb_tor_link_t *self = calloc (1, sizeof *self);
    if (!self || s_nonblocking (fd, loop->nagle) != 0 || !(self->ssl = SSL_new (ctx))) {
        fb_err_set (err, FB_ENOMEM, "tor: cannot set up a TLS link");
        free (self);
        close (fd);
        return NULL;
    }
    self->fd = fd;
    self->initiator = initiator;
    self->client = loop->client;
    SSL_set_fd (self->ssl, fd);
    SSL_set_mode (self->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (initiator)
        SSL_set_connect_state (self->ssl);
    else
        SSL_set_accept_state (self->ssl);
    return self;
}

static void s_link_free (fb_tor_link_t *self) {
    SSL_free (self->ssl);
    close (self->fd);
    free (self->out);
    free (self);
}

static void s_link_fail (fb_tor_link_t *self, const char *what) {
    if (self->state == S_DEAD)
        return;
    unsigned long e = ERR_get_error ();
    char buf[160] = "";
    if (e)
        ERR_error_string_n (e, buf, sizeof buf);
    ERR_clear_error ();
    fb_err_set (&self->why, FB_ESYS, "tor link: %s%s%s", what, e ? ": " : "", buf);
    self->state = S_DEAD;
}

static bool s_queue (fb_tor_link_t *self, const uint8_t *bytes, size_t len) {
    if (self->state == S_DEAD)
        return false;
    if (self->out_off > 0 && self->out_off == self->out_len)
        self->out_off = self->out_len = 0;
    if (self->out_len + len > self->out_cap) {
        if (self->out_off > 0) { /* compact before growing */
            memmove (self->out, self->out + self->out_off, self->out_len - self->out_off);
            self->out_len -= self->out_off;
            self->out_off = 0;
        }
        size_t cap = self->out_cap ? self->out_cap : 8192;
        while (cap < self->out_len + len)
            cap *= 2;
        if (cap != self->out_cap) {
            uint8_t *out = realloc (self->out, cap);
            if (!out) {
                s_link_fail (self, "out of memory for the send buffer");
                return false;
            }
            self->out = out;
            self->out_cap = cap;
        }
    }
    memcpy (self->out + self->out_len, bytes, len);
    self->out_len += len;
    return true;
}

bool fb_tor_link_send_raw (fb_tor_link_t *self, const uint8_t *bytes, size_t len) {
    return s_queue (self, bytes, len);
}

bool fb_tor_link_send (fb_tor_link_t *self, const fb_tor_cell_t *cell) {
    uint8_t wire[FB_TOR_CELL_LEN];
    if (self->state != S_OPEN)
        return false;
    fb_tor_cell_encode (cell, wire);
    return s_queue (self, wire, sizeof wire);
}

bool fb_tor_link_is_open (const fb_tor_link_t *self) { return self->state == S_OPEN; }
bool fb_tor_link_is_initiator (const fb_tor_link_t *self) { return self->initiator; }
size_t fb_tor_link_queued (const fb_tor_link_t *self) { return self->out_len - self->out_off; }
void fb_tor_link_set_user (fb_tor_link_t *self, void *user) { self->user = user; }
void *fb_tor_link_user (const fb_tor_link_t *self) { return self->user; }

/* TLS I/O result: 1 progress, 0 would block, -1 dead. */
static int s_ssl_result (fb_tor_link_t *self, int rc, const char *what) {
    if (rc > 0)
        return 1;
    switch (SSL_get_error (self->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        self->want_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        s_link_fail (self, "closed by the peer");
        return -1;
    default:
        s_link_fail (self, what);
        return -1;
    }
}

static void s_send_versions (fb_tor_link_t *self) {
    uint8_t buf[32];
    s_queue (self, buf, fb_tor_cell_versions_encode (buf, sizeof buf));
}

static void s_send_netinfo (fb_tor_link_t *self) {
    fb_tor_cell_t cell;
    uint8_t wire[FB_TOR_CELL_LEN];
    uint32_t now_s = self->client ? 0 : (uint32_t)time (NULL);
    fb_tor_cell_netinfo_encode (&cell, now_s, S_LOCALHOST, S_LOCALHOST);
    fb_tor_cell_encode (&cell, wire);
    s_queue (self, wire, sizeof wire);
}

/* Handshake, then write what is queued, then read what is there. */
static void s_pump (fb_tor_link_t *self) {
    self->want_write = false;
    if (self->state == S_TLS) {
        int rc = s_ssl_result (self, SSL_do_handshake (self->ssl), "TLS handshake failed");
        if (rc <= 0)
            return;
        self->state = S_VERSIONS;
        if (self->initiator)
            s_send_versions (self);
    }
    while (self->state != S_DEAD && self->out_off < self->out_len) {
        size_t len = self->out_len - self->out_off;
        int rc = SSL_write (self->ssl, self->out + self->out_off, len > 65536 ? 65536 : (int)len);
        if (s_ssl_result (self, rc, "TLS write failed") <= 0)
            break;
        self->out_off += (size_t)rc;
    }
    while (self->state != S_DEAD && self->in_len < S_IN_CAP) {
        int rc = SSL_read (self->ssl, self->in + self->in_len, (int)(S_IN_CAP - self->in_len));
        if (s_ssl_result (self, rc, "TLS read failed") <= 0)
            break;
        self->in_len += (size_t)rc;
    }
}

/* Link handshake cells; returns 1 when the link just opened. */
static int s_handshake_cell (fb_tor_link_t *self, const uint8_t *cell, size_t len) {
    fb_err_t err;
    if (self->state == S_VERSIONS) {
        int version;
        if (fb_tor_cell_versions_decode (cell, len, &version, &err) != 0) {
            self->why = err;
            self->state = S_DEAD;
            return 0;
        }
        self->state = S_NETINFO;
        if (!self->initiator) { /* the responder answers VERSIONS and NETINFO together */
            s_send_versions (self);
            s_send_netinfo (self);
        }
        return 0;
    }
    if (fb_tor_cell_is_var (cell[4]))
        return 0; /* CERTS, AUTH_CHALLENGE, VPADDING: we send none and skip any */
    fb_tor_cell_t netinfo;
    uint32_t other;
    if (fb_tor_cell_decode (cell, len, &netinfo, &err) != 0 ||
        fb_tor_cell_netinfo_decode (&netinfo, &other, &err) != 0) {
        self->why = err;
        self->state = S_DEAD;
        return 0;
    }
    if (self->initiator)
        s_send_netinfo (self);
    self->state = S_OPEN;
    return 1;
}

/* The next cell for the owner: 1 a fixed cell in out, 2 the link just opened, 0 none. */
static int s_next (fb_tor_link_t *self, uint8_t out[FB_TOR_CELL_LEN], size_t *consumed) {
    size_t at = *consumed;
    while (self->state >= S_VERSIONS && self->state != S_DEAD) {
        int len = fb_tor_cell_frame (self->in + at, self->in_len - at, self->state > S_VERSIONS);
        if (len < 0) {
            fb_err_set (&self->why, FB_EINPUT, "tor link: bytes that are no cell (framing lost)");
            self->state = S_DEAD;
        }
        if (len <= 0)
            break;
        const uint8_t *cell = self->in + at;
        at += (size_t)len;
        *consumed = at;
        if (self->state != S_OPEN) {
            if (s_handshake_cell (self, cell, (size_t)len))
                return 2;
        } else if (!fb_tor_cell_is_var (cell[4])) {
            memcpy (out, cell, FB_TOR_CELL_LEN);
            return 1;
        }
    }
    return 0;
}

/* ---- the loop --------------------------------------------------------------------------- */

fb_tor_loop_t *fb_tor_link_loop_new (int64_t delay_ns, fb_tor_on_cell_fn *on_cell,
                                     fb_tor_on_link_fn *on_link, void *owner, fb_err_t *err) {
    fb_tor_loop_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "tor: out of memory for a loop");
        return NULL;
    }
    *self = (fb_tor_loop_t){.listen_fd = -1,
                            .delay_ns = delay_ns,
                            .on_cell = on_cell,
                            .on_link = on_link,
                            .owner = owner};
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->wake_fd < 0) {
        fb_err_set (err, FB_ESYS, "tor: eventfd: %s", strerror (errno));
        free (self);
        return NULL;
    }
    return self;
}

static void s_sweep (fb_tor_loop_t *self);

void fb_tor_link_loop_destroy (fb_tor_loop_t **self_p) {
    fb_tor_loop_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->nlinks; i++)
        if (self->links[i]->state != S_DEAD) {
            fb_err_set (&self->links[i]->why, FB_ESTATE, "tor link: closed at teardown");
            self->links[i]->state = S_DEAD;
        }
    s_sweep (self);
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    close (self->wake_fd);
    free (self->links);
    free (self->ring);
    free (self->pfds);
    free (self);
    *self_p = NULL;
}

void fb_tor_link_loop_listen (fb_tor_loop_t *self, int listen_fd, SSL_CTX *ctx) {
    self->listen_fd = listen_fd;
    self->listen_ctx = ctx;
    s_nonblocking (listen_fd, self->nagle);
}

void fb_tor_link_loop_set_client (fb_tor_loop_t *self, bool client) { self->client = client; }
void fb_tor_link_loop_set_nagle (fb_tor_loop_t *self, bool nagle) { self->nagle = nagle; }

static int s_add (fb_tor_loop_t *self, fb_tor_link_t *link) {
    if (self->nlinks == self->links_cap) {
        int cap = self->links_cap ? self->links_cap * 2 : 16;
        fb_tor_link_t **links = realloc (self->links, (size_t)cap * sizeof *links);
        if (!links)
            return -1;
        self->links = links;
        self->links_cap = cap;
    }
    self->links[self->nlinks++] = link;
    return 0;
}

fb_tor_link_t *fb_tor_link_loop_connect (fb_tor_loop_t *self, uint16_t port, SSL_CTX *ctx,
                                         fb_err_t *err) {
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fb_err_set (err, FB_ESYS, "tor: socket: %s", strerror (errno));
        return NULL;
    }
    fb_tor_link_t *link = s_link_new (self, ctx, fd, true, err);
    if (!link)
        return NULL;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons (port), .sin_addr.s_addr = htonl (S_LOCALHOST)};
    if ((connect (fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) ||
        s_add (self, link) != 0) {
        fb_err_set (err, FB_ESYS, "tor: connect to 127.0.0.1:%u: %s", port, strerror (errno));
        s_link_free (link);
        return NULL;
    }
    return link;
}

void fb_tor_link_loop_wake (fb_tor_loop_t *self) {
    uint64_t one = 1;
    ssize_t n = write (self->wake_fd, &one, sizeof one);
    (void)n; /* a full counter already wakes the loop */
}

int fb_tor_link_loop_links (const fb_tor_loop_t *self) { return self->nlinks; }

static void s_accept (fb_tor_loop_t *self) {
    for (;;) {
        int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        fb_err_t err;
        fb_tor_link_t *link = s_link_new (self, self->listen_ctx, fd, false, &err);
        if (link && s_add (self, link) != 0)
            s_link_free (link);
    }
}

static void s_delay_push (fb_tor_loop_t *self, fb_tor_link_t *link, const uint8_t *cell) {
    if (self->count == self->ring_cap) {
        size_t cap = self->ring_cap ? self->ring_cap * 2 : 256;
        s_delayed_t *ring = malloc (cap * sizeof *ring);
        if (!ring) {
            s_link_fail (link, "out of memory for the hop_rtt queue");
            return;
        }
        for (size_t i = 0; i < self->count; i++)
            ring[i] = self->ring[(self->head + i) % self->ring_cap];
        free (self->ring);
        self->ring = ring;
        self->ring_cap = cap;
        self->head = 0;
    }
    s_delayed_t *d = &self->ring[(self->head + self->count) % self->ring_cap];
    d->due_ns = fb_clock_now_ns () + self->delay_ns;
    d->link = link;
    memcpy (d->cell, cell, FB_TOR_CELL_LEN);
    self->count++;
}

/* Hands the owner every cell whose delay has passed (all of them when there is no delay). */
static void s_deliver_due (fb_tor_loop_t *self) {
    int64_t now = fb_clock_now_ns ();
    while (self->count > 0) {
        s_delayed_t *d = &self->ring[self->head];
        if (d->due_ns > now)
            break;
        self->head = (self->head + 1) % self->ring_cap;
        self->count--;
        if (d->link && d->link->state == S_OPEN)
            self->on_cell (self->owner, d->link, d->cell);
    }
}

/* Takes the link's cells: straight to the owner, or into the delay queue. */
static void s_drain (fb_tor_loop_t *self, fb_tor_link_t *link) {
    uint8_t cell[FB_TOR_CELL_LEN];
    size_t consumed = 0;
    int rc;
    while ((rc = s_next (link, cell, &consumed)) > 0) {
        if (rc == 2)
            self->on_link (self->owner, link, FB_TOR_LINK_OPENED, NULL);
        else if (self->delay_ns > 0)
            s_delay_push (self, link, cell);
        else
            self->on_cell (self->owner, link, cell);
        if (link->state == S_DEAD)
            break;
    }
    if (consumed > 0) {
        memmove (link->in, link->in + consumed, link->in_len - consumed);
        link->in_len -= consumed;
    }
}

/* Removes dead links, telling the owner first. */
static void s_sweep (fb_tor_loop_t *self) {
    for (int i = 0; i < self->nlinks;) {
        fb_tor_link_t *link = self->links[i];
        if (link->state != S_DEAD) {
            i++;
            continue;
        }
        self->on_link (self->owner, link, FB_TOR_LINK_CLOSED, &link->why);
        for (size_t k = 0; k < self->count; k++) {
            s_delayed_t *d = &self->ring[(self->head + k) % self->ring_cap];
            if (d->link == link)
                d->link = NULL;
        }
        self->links[i] = self->links[--self->nlinks];
        s_link_free (link);
    }
}

static int s_poll_timeout_ms (fb_tor_loop_t *self, int64_t timeout_ns) {
    for (int i = 0; i < self->nlinks; i++)
        if (SSL_has_pending (self->links[i]->ssl) && self->links[i]->in_len < S_IN_CAP)
            return 0; /* TLS holds bytes poll cannot see */
    if (self->count > 0) {
        int64_t due = self->ring[self->head].due_ns - fb_clock_now_ns ();
        timeout_ns = due < timeout_ns ? due : timeout_ns;
    }
    if (timeout_ns <= 0)
        return 0;
    return (int)((timeout_ns + FB_NS_PER_MS - 1) / FB_NS_PER_MS);
}

static int s_fill_pollfds (fb_tor_loop_t *self) {
    size_t need = (size_t)self->nlinks + 2;
    if (need > self->pfds_cap) {
        struct pollfd *p = realloc (self->pfds, need * 2 * sizeof *p);
        if (!p)
            return -1;
        self->pfds = p;
        self->pfds_cap = need * 2;
    }
    bool reading = self->count < S_DELAY_MAX; /* hop_rtt queue full: let TCP push back */
    self->pfds[0] = (struct pollfd){.fd = self->wake_fd, .events = POLLIN};
    self->pfds[1] = (struct pollfd){.fd = self->listen_fd, .events = POLLIN};
    for (int i = 0; i < self->nlinks; i++) {
        fb_tor_link_t *link = self->links[i];
        short events = reading && link->in_len < S_IN_CAP ? POLLIN : 0;
        if (link->want_write || link->out_off < link->out_len || link->state == S_TLS)
            events |= POLLOUT;
        self->pfds[i + 2] = (struct pollfd){.fd = link->fd, .events = events};
    }
    return 0;
}

void fb_tor_link_loop_run_once (fb_tor_loop_t *self, int64_t timeout_ns) {
    if (s_fill_pollfds (self) != 0)
        return;
    int nlinks = self->nlinks;
    int n = poll (self->pfds, (nfds_t)nlinks + 2, s_poll_timeout_ms (self, timeout_ns));
    if (n > 0 && (self->pfds[0].revents & POLLIN)) {
        uint64_t count;
        ssize_t r = read (self->wake_fd, &count, sizeof count);
        (void)r;
    }
    if (n > 0 && self->listen_fd >= 0 && (self->pfds[1].revents & POLLIN))
        s_accept (self);
    for (int i = 0; i < nlinks; i++) {
        fb_tor_link_t *link = self->links[i];
        if ((n > 0 && self->pfds[i + 2].revents) || SSL_has_pending (link->ssl)) {
            s_pump (link);
            s_drain (self, link);
        }
    }
    s_deliver_due (self);
    /* write what the owner queued during the callbacks, in as few TLS records as it fits */
    for (int i = 0; i < self->nlinks; i++) {
        fb_tor_link_t *link = self->links[i];
        if (link->state != S_DEAD && (link->out_off < link->out_len || link->state == S_TLS)) {
            s_pump (link);
            s_drain (self, link);
        }
    }
    s_sweep (self);
}

/* ---- TLS contexts ----------------------------------------------------------------------- */

static X509 *s_self_signed (EVP_PKEY *key, int index) {
    X509 *x = X509_new ();
    X509_NAME *name = x ? X509_get_subject_name (x) : NULL;
    char cn[32];
    snprintf (cn, sizeof cn, "fb-relay-%d.net", index);
    if (!name || X509_set_version (x, 2) != 1 ||
        ASN1_INTEGER_set (X509_get_serialNumber (x), index + 1) != 1 ||
        !X509_gmtime_adj (X509_getm_notBefore (x), -3600) ||
        !X509_gmtime_adj (X509_getm_notAfter (x), 86400L * 365) || X509_set_pubkey (x, key) != 1 ||
        X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) != 1 ||
        X509_set_issuer_name (x, name) != 1 || X509_sign (x, key, NULL) <= 0) {
        X509_free (x);
        return NULL;
    }
    return x;
}

static SSL_CTX *s_ctx_new (const SSL_METHOD *method) {
    SSL_CTX *ctx = SSL_CTX_new (method);
    if (ctx) {
        SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
        SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
    }
    return ctx;
}

SSL_CTX *fb_tor_link_tls_server_ctx (int index, uint8_t id[FB_TOR_ID_LEN], fb_err_t *err) {
    EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
    X509 *cert = key ? s_self_signed (key, index) : NULL;
    SSL_CTX *ctx = cert ? s_ctx_new (TLS_server_method ()) : NULL;
    unsigned char *der = NULL;
    int der_len = key ? i2d_PUBKEY (key, &der) : -1;
    unsigned int md_len = 0;
    bool ok = ctx && der_len > 0 && SSL_CTX_use_certificate (ctx, cert) == 1 &&
              SSL_CTX_use_PrivateKey (ctx, key) == 1 &&
              EVP_Digest (der, (size_t)der_len, id, &md_len, EVP_sha1 (), NULL) == 1;
    OPENSSL_free (der);
    X509_free (cert);
    EVP_PKEY_free (key);
    if (!ok) {
        SSL_CTX_free (ctx);
        ERR_clear_error ();
        fb_err_set (err, FB_ESYS, "tor: OpenSSL cannot make relay %d's TLS certificate", index);
        return NULL;
    }
    return ctx;
}

SSL_CTX *fb_tor_link_tls_client_ctx (fb_err_t *err) {
    /* Tor checks a relay by its CERTS cell, not by a CA: TLS verification stays off */
    SSL_CTX *ctx = s_ctx_new (TLS_client_method ());
    if (!ctx)
        fb_err_set (err, FB_ESYS, "tor: OpenSSL cannot make a TLS client context");
    return ctx;
}

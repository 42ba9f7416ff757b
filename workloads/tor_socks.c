/* tor_socks.c: the SOCKS5 client, the loopback sink and tor.stream in mode tor. The sink is one
 * thread with one poll loop over non-blocking connections: each reads a request's header and
 * filler, then writes the response from a repeating pattern, then waits for the next request.
 * Clients never send a request before the previous response is read, so a connection is
 * either reading or writing. */
#include "tor_socks.h"

#include "clock.h"
#include "tor_control.h"
#include "tor_net.h"
#include "tor_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_PATTERN_LEN (251 * 64) /* byte i is i mod 251: any offset starts a run of the pattern */
#define S_SINK_MAX_CONNS 8192

static uint8_t s_pattern[S_PATTERN_LEN];
static pthread_once_t s_pattern_once = PTHREAD_ONCE_INIT;

static void s_pattern_init (void) {
    for (int i = 0; i < S_PATTERN_LEN; i++)
        s_pattern[i] = (uint8_t)(i % 251);
}

/* 1 ready, 0 at the deadline, -1 error. */
static int s_wait (int fd, short events, int64_t deadline_ns) {
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

static int s_send_all (int fd, const void *data, size_t len, int64_t deadline_ns, fb_err_t *err) {
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
            return fb_err_set (err, FB_ESYS, "stream send: %s", strerror (errno));
        else if (s_wait (fd, POLLOUT, deadline_ns) != 1)
            return fb_err_set (err, FB_ESYS, "stream send timed out");
    }
    return 0;
}

/* Reads up to len bytes (at least one); 0 bytes read is an error (the stream ended). */
static ssize_t s_recv_some (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err) {
    for (;;) {
        ssize_t n = recv (fd, buf, len, 0);
        if (n > 0)
            return n;
        if (n == 0)
            return fb_err_set (err, FB_ESYS, "the stream was closed");
        if (errno != EAGAIN && errno != EINTR)
            return fb_err_set (err, FB_ESYS, "stream recv: %s", strerror (errno));
        if (s_wait (fd, POLLIN, deadline_ns) != 1)
            return fb_err_set (err, FB_ESYS, "stream recv timed out");
    }
}

static int s_recv_all (int fd, void *buf, size_t len, int64_t deadline_ns, fb_err_t *err) {
    for (size_t got = 0; got < len;) {
        ssize_t n = s_recv_some (fd, (uint8_t *)buf + got, len - got, deadline_ns, err);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* ---- the SOCKS5 client ------------------------------------------------------------------ */

static int s_connect_loopback (uint16_t port, int64_t deadline_ns, int *fd_p, fb_err_t *err) {
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), soerr = 0;
    socklen_t len = sizeof soerr;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons (port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
                   (errno != EINPROGRESS || s_wait (fd, POLLOUT, deadline_ns) != 1 ||
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

/* The CONNECT reply: VER REP RSV ATYP, then an address of ATYP's length and a port. */
static int s_read_connect_reply (int fd, int64_t deadline_ns, fb_err_t *err) {
    uint8_t head[4], rest[258];
    if (s_recv_all (fd, head, sizeof head, deadline_ns, err) != 0)
        return -1;
    if (head[0] != 5 || head[1] != 0)
        return fb_err_set (err, FB_EINPUT, "tor's SOCKS port refused the stream (reply %u)",
                           (unsigned)head[1]);
    size_t len = head[3] == 1 ? 4 + 2 : head[3] == 4 ? 16 + 2 : 0;
    if (head[3] == 3) {
        if (s_recv_all (fd, rest, 1, deadline_ns, err) != 0)
            return -1;
        len = (size_t)rest[0] + 2;
    }
    if (len == 0)
        return fb_err_set (err, FB_EINPUT, "tor's SOCKS reply has address type %u",
                           (unsigned)head[3]);
    return s_recv_all (fd, rest, len, deadline_ns, err);
}

int fb_tor_socks_connect (uint16_t socks_port, const char *username, uint16_t dest_port,
                          int64_t timeout_ns, int *fd_p, int64_t *open_ns, fb_err_t *err) {
    int64_t deadline = fb_clock_now_ns () + timeout_ns;
    size_t ulen = strlen (username);
    if (ulen == 0 || ulen > 255)
        return fb_err_set (err, FB_EINPUT, "a SOCKS username has 1 to 255 bytes");
    int fd = -1;
    if (s_connect_loopback (socks_port, deadline, &fd, err) != 0)
        return -1;
    uint8_t hello[] = {5, 1, 2}, auth[2 + 255 + 2], answer[2];
    uint8_t connect[] = {5, 1, 0, 1, 127, 0, 0, 1, (uint8_t)(dest_port >> 8), (uint8_t)dest_port};
    auth[0] = 1;
    auth[1] = (uint8_t)ulen;
    memcpy (auth + 2, username, ulen);
    auth[2 + ulen] = 1; /* a password of one byte: tor looks at neither */
    auth[3 + ulen] = 'x';
    if (s_send_all (fd, hello, sizeof hello, deadline, err) != 0 ||
        s_recv_all (fd, answer, 2, deadline, err) != 0)
        goto fail;
    if (answer[0] != 5 || answer[1] != 2) {
        fb_err_set (err, FB_EINPUT, "the SOCKS port does not take username/password");
        goto fail;
    }
    if (s_send_all (fd, auth, 4 + ulen, deadline, err) != 0 ||
        s_recv_all (fd, answer, 2, deadline, err) != 0)
        goto fail;
    if (answer[1] != 0) {
        fb_err_set (err, FB_EINPUT, "the SOCKS port refused our username");
        goto fail;
    }
    int64_t t0 = fb_clock_now_ns ();
    if (s_send_all (fd, connect, sizeof connect, deadline, err) != 0 ||
        s_read_connect_reply (fd, deadline, err) != 0)
        goto fail;
    if (open_ns)
        *open_ns = fb_clock_now_ns () - t0;
    *fd_p = fd;
    return 0;
fail:
    close (fd);
    return -1;
}

int fb_tor_socks_exchange (int fd, uint32_t request, uint32_t response, uint8_t *buf,
                           size_t buf_len, int64_t timeout_ns, fb_tor_xfer_t *xfer, fb_err_t *err) {
    static const uint8_t filler[4096];
    int64_t t0 = fb_clock_now_ns (), deadline = t0 + timeout_ns;
    uint8_t header[FB_TOR_SINK_HEADER_LEN] = {(uint8_t)(request >> 24),  (uint8_t)(request >> 16),
                                              (uint8_t)(request >> 8),   (uint8_t)request,
                                              (uint8_t)(response >> 24), (uint8_t)(response >> 16),
                                              (uint8_t)(response >> 8),  (uint8_t)response};
    if (request < FB_TOR_SINK_HEADER_LEN)
        return fb_err_set (err, FB_EINPUT, "a request has at least %d bytes",
                           FB_TOR_SINK_HEADER_LEN);
    if (s_send_all (fd, header, sizeof header, deadline, err) != 0)
        return -1;
    for (uint32_t left = request - FB_TOR_SINK_HEADER_LEN; left > 0;) {
        uint32_t n = left < sizeof filler ? left : (uint32_t)sizeof filler;
        if (s_send_all (fd, filler, n, deadline, err) != 0)
            return -1;
        left -= n;
    }
    int64_t first = 0;
    for (uint32_t got = 0; got < response;) {
        size_t want = response - got < buf_len ? response - got : buf_len;
        ssize_t n = s_recv_some (fd, buf, want, deadline, err);
        if (n < 0)
            return -1;
        if (got == 0)
            first = fb_clock_now_ns ();
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (uint8_t)((got + (uint32_t)i) % 251))
                return fb_err_set (err, FB_EINPUT, "response byte %u is wrong", got + (unsigned)i);
        got += (uint32_t)n;
    }
    int64_t end = fb_clock_now_ns ();
    if (xfer)
        *xfer = (fb_tor_xfer_t){.ttfb_ns = (response ? first : end) - t0,
                                .total_ns = end - t0,
                                .bytes = (uint64_t)request + response};
    return 0;
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

/* ---- tor.stream in mode tor ------------------------------------------------------------- */

enum { S_METRIC_OPEN, S_METRIC_TTFB };
enum {
    S_C_STREAMS,
    S_C_BYTES,
    S_C_STALLS,
    S_C_BAD_CELLS,
    S_C_FAILURES,
    S_C_CIRCUITS,
    S_C_TOR_RSS,
    S_C_TOR_HWM,
    S_C_TOR_NET_RSS,
};

#define S_MAX_STREAMS 1000 /* tor's client and the agent hold a socket each */
#define S_MAX_CIRCUITS 100
#define S_SETUP_THREADS 8 /* streams opened at once during setup */
#define S_READ_BUF 16384  /* per worker */
#define S_CONTROL_TIMEOUT_NS (5 * FB_NS_PER_S)

typedef struct {
    int fd; /* -1: closed */
    uint64_t bytes;
    bool broken;
} s_held_t;

typedef struct {
    fb_tornet_t *net;
    fb_tor_sink_t *sink;
    fb_tor_control_t *ctl; /* the runner's thread only: counts circuits */
    int ncircuits, nstreams, workers;
    uint32_t request, response;
    uint64_t stream_bytes;
    int64_t timeout_ns;
    s_held_t *held;
    int *cursor;   /* per worker: its next stream */
    uint8_t *bufs; /* per worker: S_READ_BUF */
    atomic_int_fast64_t bytes, failures, open_now, open_peak;
    atomic_int next_item;
    fb_err_t setup_err;
    atomic_bool setup_failed;
    char status[65536];   /* the runner's thread: GETINFO circuit-status */
    pthread_mutex_t lock; /* guards the two below (taken only when an op fails) */
    int64_t failed;       /* ops failed since setup */
    fb_err_t last_err;    /* the last one's reason, printed at teardown */
} s_mode_t;

static int s_mode_check (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err) {
    (void)env;
    int streams = (int)fb_params_num (params, "streams");
    int circuits = (int)fb_params_num (params, "circuits");
    if (fb_tornet_check ((int)fb_params_num (params, "relays"), err) != 0)
        return -1;
    if (fb_params_given (params, "hop_rtt"))
        return fb_err_set (err, FB_EINPUT,
                           "hop_rtt is the model's link delay: mode tor runs real tor on loopback "
                           "and adds none (leave hop_rtt out)");
    if (streams > S_MAX_STREAMS || circuits > S_MAX_CIRCUITS)
        return fb_err_set (err, FB_EINPUT,
                           "mode tor: at most %d streams over at most %d circuits (got %d "
                           "streams, %d circuits)",
                           S_MAX_STREAMS, S_MAX_CIRCUITS, streams, circuits);
    return 0;
}

/* Stream i's circuit is chosen by its SOCKS username: tor isolates streams by it. */
static int s_open (s_mode_t *self, int i, int64_t *open_ns, fb_err_t *err) {
    char username[32];
    snprintf (username, sizeof username, "fleetbench-c%d", i % self->ncircuits);
    s_held_t *h = &self->held[i];
    if (fb_tor_socks_connect (fb_tornet_socks_port (self->net), username,
                              fb_tor_sink_port (self->sink), self->timeout_ns, &h->fd, open_ns,
                              err) != 0) {
        h->fd = -1;
        return -1;
    }
    h->bytes = 0;
    h->broken = false;
    int_fast64_t now = atomic_fetch_add (&self->open_now, 1) + 1;
    int_fast64_t peak = atomic_load (&self->open_peak);
    while (now > peak && !atomic_compare_exchange_weak (&self->open_peak, &peak, now))
        ;
    return 0;
}

static void s_close (s_mode_t *self, s_held_t *h) {
    if (h->fd < 0)
        return;
    close (h->fd);
    h->fd = -1;
    atomic_fetch_sub (&self->open_now, 1);
}

static void *s_opener_main (void *arg) {
    s_mode_t *self = arg;
    fb_err_t err;
    for (int i; (i = atomic_fetch_add (&self->next_item, 1)) < self->nstreams;)
        if (!atomic_load (&self->setup_failed) && s_open (self, i, NULL, &err) != 0) {
            bool was = false;
            if (atomic_compare_exchange_strong (&self->setup_failed, &was, true))
                self->setup_err = err;
        }
    return NULL;
}

static int s_open_all (s_mode_t *self, fb_err_t *err) {
    pthread_t threads[S_SETUP_THREADS];
    int n = self->nstreams < S_SETUP_THREADS ? self->nstreams : S_SETUP_THREADS, started = 0;
    for (; started < n; started++)
        if (pthread_create (&threads[started], NULL, s_opener_main, self) != 0)
            break;
    if (started == 0)
        s_opener_main (self);
    for (int i = 0; i < started; i++)
        pthread_join (threads[i], NULL);
    if (atomic_load (&self->setup_failed)) {
        *err = self->setup_err;
        fb_err_prefix (err, "mode tor: opening %d streams", self->nstreams);
        return -1;
    }
    return 0;
}

static int s_mode_alloc (s_mode_t *self, const fb_params_t *params, const fb_wl_env_t *env,
                         fb_err_t *err) {
    self->ncircuits = (int)fb_params_num (params, "circuits");
    self->nstreams = (int)fb_params_num (params, "streams");
    self->workers = env->workers > 0 ? env->workers : 1;
    self->request = (uint32_t)fb_params_num (params, "request");
    self->response = (uint32_t)fb_params_num (params, "response");
    self->stream_bytes = (uint64_t)fb_params_num (params, "stream_bytes");
    self->timeout_ns = (int64_t)fb_params_num (params, "timeout");
    self->held = calloc ((size_t)self->nstreams, sizeof *self->held);
    self->cursor = calloc ((size_t)self->workers, sizeof *self->cursor);
    self->bufs = malloc ((size_t)self->workers * S_READ_BUF);
    if (!self->held || !self->cursor || !self->bufs)
        return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory");
    for (int i = 0; i < self->nstreams; i++)
        self->held[i].fd = -1;
    for (int w = 0; w < self->workers; w++)
        self->cursor[w] = w;
    return 0;
}

static void s_mode_teardown (void **state_p);

static int s_mode_setup (const fb_params_t *params, const fb_wl_env_t *env, void **state_p,
                         fb_err_t *err) {
    *state_p = NULL;
    s_mode_t *self = calloc (1, sizeof *self);
    if (!self)
        return fb_err_set (err, FB_ENOMEM, "tor.stream: out of memory");
    void *state = self;
    pthread_mutex_init (&self->lock, NULL);
    if (s_mode_alloc (self, params, env, err) != 0 ||
        !(self->net = fb_tornet_new ((int)fb_params_num (params, "relays"),
                                     (int64_t)fb_params_num (params, "bootstrap_timeout"),
                                     "tor.stream", err)) ||
        !(self->sink = fb_tor_sink_new (err)) ||
        !(self->ctl =
              fb_tor_control_new (fb_tornet_control_port (self->net),
                                  fb_tornet_cookie_path (self->net), S_CONTROL_TIMEOUT_NS, err)) ||
        s_open_all (self, err) != 0) {
        s_mode_teardown (&state);
        return -1;
    }
    atomic_store (&self->open_peak, atomic_load (&self->open_now));
    *state_p = self;
    return 0;
}

static void s_failed (s_mode_t *self, const fb_err_t *err) {
    atomic_fetch_add (&self->failures, 1);
    pthread_mutex_lock (&self->lock);
    self->failed++;
    self->last_err = *err;
    pthread_mutex_unlock (&self->lock);
}

static int s_mode_op (void *state, fb_wl_op_t *op) {
    s_mode_t *self = state;
    int w = op->worker % self->workers, i = self->cursor[w];
    self->cursor[w] = i + self->workers < self->nstreams ? i + self->workers : w;
    s_held_t *held = &self->held[i];
    if (held->fd >= 0 &&
        (held->broken || (self->stream_bytes > 0 && held->bytes >= self->stream_bytes)))
        s_close (self, held);
    int64_t open_ns = 0;
    fb_err_t err;
    if (held->fd < 0) {
        if (s_open (self, i, &open_ns, &err) != 0) {
            s_failed (self, &err);
            return -1;
        }
        fb_hist_record_atomic (op->metrics[S_METRIC_OPEN], open_ns);
    }
    fb_tor_xfer_t xfer;
    if (fb_tor_socks_exchange (held->fd, self->request, self->response,
                               self->bufs + (size_t)w * S_READ_BUF, S_READ_BUF, self->timeout_ns,
                               &xfer, &err) != 0) {
        held->broken = true;
        s_failed (self, &err);
        return -1;
    }
    fb_hist_record_atomic (op->metrics[S_METRIC_TTFB], xfer.ttfb_ns);
    held->bytes += xfer.bytes;
    atomic_fetch_add_explicit (&self->bytes, (int64_t)xfer.bytes, memory_order_relaxed);
    return 0;
}

/* Circuits the client has built for streams (GENERAL purpose), from circuit-status. */
static int64_t s_count_circuits (s_mode_t *self) {
    if (!fb_tor_control_usable (self->ctl)) {
        fb_tor_control_destroy (&self->ctl);
        self->ctl =
            fb_tor_control_new (fb_tornet_control_port (self->net),
                                fb_tornet_cookie_path (self->net), S_CONTROL_TIMEOUT_NS, NULL);
    }
    if (!self->ctl ||
        fb_tor_control_command (self->ctl, "GETINFO circuit-status", self->status,
                                sizeof self->status, S_CONTROL_TIMEOUT_NS, NULL) != 250)
        return 0;
    int64_t n = 0;
    for (char *line = self->status, *next; line && *line; line = next) {
        if ((next = strchr (line, '\n')))
            *next++ = '\0';
        n += strstr (line, " BUILT ") && strstr (line, "PURPOSE=GENERAL");
    }
    return n;
}

static void s_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    (void)metrics; /* op records into the runner's histograms directly */
    s_mode_t *self = state;
    fb_tornet_memory_t mem;
    fb_tornet_memory (self->net, &mem);
    int_fast64_t open_now = atomic_load (&self->open_now);
    counters[S_C_STREAMS] = atomic_exchange (&self->open_peak, open_now);
    counters[S_C_BYTES] = atomic_exchange (&self->bytes, 0);
    counters[S_C_FAILURES] = atomic_exchange (&self->failures, 0);
    counters[S_C_CIRCUITS] = s_count_circuits (self);
    counters[S_C_TOR_RSS] = mem.client_rss;
    counters[S_C_TOR_HWM] = mem.client_hwm;
    counters[S_C_TOR_NET_RSS] = mem.network_rss;
}

static void s_mode_teardown (void **state_p) {
    s_mode_t *self = *state_p;
    if (!self)
        return;
    if (self->failed > 0)
        fprintf (stderr, "tor.stream: %lld exchange(s) or open(s) failed; the last: %s\n",
                 (long long)self->failed, self->last_err.msg);
    for (int i = 0; self->held && i < self->nstreams; i++)
        s_close (self, &self->held[i]);
    fb_tor_control_destroy (&self->ctl);
    fb_tor_sink_destroy (&self->sink);
    fb_tornet_destroy (&self->net);
    free (self->held);
    free (self->cursor);
    free (self->bufs);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *state_p = NULL;
}

const fb_workload_t fb_tor_socks_stream_mode = {
    .kind = "tor.stream",
    .summary = "tor.stream in mode tor: SOCKS5 streams through a private network of tor "
               "processes to a loopback sink",
    .check = s_mode_check,
    .setup = s_mode_setup,
    .op = s_mode_op,
    .interval = s_mode_interval,
    .teardown = s_mode_teardown,
};

/* test_http_client.c: the load client's engine on loopback: many requests in flight over
 * several connections each end exactly once with their tag, over IPv4, IPv6 and TLS; cancel
 * ends every request in flight exactly once and leaves the client usable; refused connections,
 * garbage, failed handshakes and failed verification each end as the outcome that names them;
 * a connection asked to close is closed and reconnected. The servers are the project's origin
 * and, here, a small threaded server (plain or TLS with a key and certificate made in the
 * test). No timing assertions beyond "not before its deadline". */
#include "common/clock.h"
#include "workloads/proxy/bytes.h"
#include "workloads/proxy/http_client.h"
#include "workloads/proxy/http_origin.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#define T_PORT_BASE 29080
#define T_BIG_BYTES (200 * 1024) /* more than twelve TLS records */
#define T_SMALL_BYTES 100
#define T_MAX_CONNS 256
#define T_NAME "fleetbench.test"

/* ---- a small server: one thread per connection, blocking, plain or TLS ------------------- */

/* T_CORRUPT: the head and part of the body, then bytes that are not a TLS record. */
typedef enum { T_ANSWER, T_CLOSE_EACH, T_GARBAGE, T_CORRUPT } t_mode_t;

typedef struct {
    int fd, port;
    SSL_CTX *tls;
    t_mode_t mode;
    pthread_t acceptor, conns[T_MAX_CONNS];
    int n_conns;
    atomic_int accepted, answered;
    atomic_bool stop;
    atomic_bool settle; /* count an answer only once the client's kernel has acknowledged it */
} t_server_t;

typedef struct {
    t_server_t *srv;
    int fd;
} t_conn_arg_t;

static uint8_t s_body[T_BIG_BYTES]; /* every answer's body is a prefix of this */
static EVP_PKEY *s_key;
static X509 *s_cert;

static size_t s_answer_head (char *out, size_t cap, size_t body, bool close) {
    return (size_t)snprintf (out, cap, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n", body,
                             close ? "Connection: close\r\n" : "");
}

/* What the client must count for an answer: head and body. */
static int64_t s_answer_bytes (size_t body, bool close) {
    char head[128];
    return (int64_t)(s_answer_head (head, sizeof head, body, close) + body);
}

static bool s_send_all (SSL *ssl, int fd, const void *buf, size_t len) {
    const uint8_t *p = buf;
    while (len > 0) {
        int n = ssl ? SSL_write (ssl, p, (int)len) : (int)write (fd, p, len);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Until the peer has acknowledged every byte sent (so they are in its socket), 2 s at most:
 * returning from write() does not say the bytes have reached the other end. */
static void s_wait_acknowledged (int fd) {
    for (int k = 0; k < 2000; k++) {
        int unacked = 0;
        if (ioctl (fd, SIOCOUTQ, &unacked) != 0 || unacked == 0)
            return;
        usleep (1000);
    }
}

static void s_serve_requests (t_server_t *srv, SSL *ssl, int fd) {
    char buf[4096];
    size_t len = 0;
    for (;;) {
        char *end;
        while (!(end = memmem (buf, len, "\r\n\r\n", 4))) {
            if (len == sizeof buf)
                return;
            int n = ssl ? SSL_read (ssl, buf + len, (int)(sizeof buf - len))
                        : (int)read (fd, buf + len, sizeof buf - len);
            if (n <= 0)
                return;
            len += (size_t)n;
        }
        bool big = len > 9 && memcmp (buf, "GET /big ", 9) == 0;
        size_t body = big ? T_BIG_BYTES : T_SMALL_BYTES;
        char head[128];
        size_t head_len = s_answer_head (head, sizeof head, body, srv->mode == T_CLOSE_EACH);
        if (srv->mode == T_CORRUPT) {
            const char junk[] = "\x17\x03\x03\x00\x10 not a record";
            s_send_all (ssl, fd, head, head_len);
            s_send_all (ssl, fd, s_body, body / 2);
            s_send_all (NULL, fd, junk, sizeof junk - 1);
            char rest[512];
            while (read (fd, rest, sizeof rest) > 0) /* until the client drops it */
                ;
            return;
        }
        if (!s_send_all (ssl, fd, head, head_len) || !s_send_all (ssl, fd, s_body, body))
            return;
        if (atomic_load (&srv->settle))
            s_wait_acknowledged (fd);
        atomic_fetch_add (&srv->answered, 1);
        size_t used = (size_t)(end + 4 - buf);
        memmove (buf, buf + used, len - used);
        len -= used;
        if (srv->mode == T_CLOSE_EACH)
            return;
    }
}

static void *s_conn_main (void *arg) {
    t_conn_arg_t a = *(t_conn_arg_t *)arg;
    free (arg);
    struct timeval tv = {.tv_sec = 5}; /* every wait bounded */
    setsockopt (a.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (a.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (a.srv->mode == T_GARBAGE) {
        const char junk[] = "this is neither HTTP nor TLS\r\n\r\n";
        s_send_all (NULL, a.fd, junk, sizeof junk - 1);
        char buf[512];
        while (read (a.fd, buf, sizeof buf) > 0)
            ;
    } else if (!a.srv->tls) {
        s_serve_requests (a.srv, NULL, a.fd);
    } else {
        SSL *ssl = SSL_new (a.srv->tls);
        assert_non_null (ssl);
        SSL_set_fd (ssl, a.fd);
        if (SSL_accept (ssl) == 1) {
            s_serve_requests (a.srv, ssl, a.fd);
            SSL_shutdown (ssl);
        }
        SSL_free (ssl);
        ERR_clear_error ();
    }
    close (a.fd);
    return NULL;
}

static void *s_accept_main (void *arg) {
    t_server_t *srv = arg;
    while (!atomic_load (&srv->stop)) {
        struct pollfd p = {.fd = srv->fd, .events = POLLIN};
        if (poll (&p, 1, 20) <= 0)
            continue;
        int fd = accept (srv->fd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add (&srv->accepted, 1);
        t_conn_arg_t *a = malloc (sizeof *a);
        assert_non_null (a);
        *a = (t_conn_arg_t){.srv = srv, .fd = fd};
        assert_true (srv->n_conns < T_MAX_CONNS);
        assert_int_equal (pthread_create (&srv->conns[srv->n_conns++], NULL, s_conn_main, a), 0);
    }
    return NULL;
}

/* Listens on 127.0.0.1 or ::1 (a free port); -1 when the family is not available here. */
static int s_server_start (t_server_t *srv, int family, t_mode_t mode, SSL_CTX *tls) {
    *srv = (t_server_t){.mode = mode, .tls = tls};
    srv->fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv->fd < 0)
        return -1;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        *sa = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
        len = sizeof *sa;
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001)};
        len = sizeof *sa;
    }
    if (bind (srv->fd, (struct sockaddr *)&ss, len) != 0 || listen (srv->fd, 128) != 0 ||
        getsockname (srv->fd, (struct sockaddr *)&ss, &len) != 0) {
        close (srv->fd);
        return -1;
    }
    srv->port = ntohs (family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
    assert_int_equal (pthread_create (&srv->acceptor, NULL, s_accept_main, srv), 0);
    return 0;
}

/* After the clients are gone: their connection threads end on the clients' close. */
static void s_server_stop (t_server_t *srv) {
    atomic_store (&srv->stop, true);
    pthread_join (srv->acceptor, NULL);
    for (int i = 0; i < srv->n_conns; i++)
        pthread_join (srv->conns[i], NULL);
    close (srv->fd);
}

/* A self-signed P-256 certificate for T_NAME, made here: no files. */
static void s_make_cert (void) {
    s_key = EVP_EC_gen ("P-256");
    assert_non_null (s_key);
    s_cert = X509_new ();
    assert_non_null (s_cert);
    X509_set_version (s_cert, 2);
    ASN1_INTEGER_set (X509_get_serialNumber (s_cert), 1);
    X509_gmtime_adj (X509_getm_notBefore (s_cert), -3600);
    X509_gmtime_adj (X509_getm_notAfter (s_cert), 86400);
    X509_set_pubkey (s_cert, s_key);
    X509_NAME *name = X509_get_subject_name (s_cert);
    X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *)T_NAME, -1, -1, 0);
    X509_set_issuer_name (s_cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb (&v3);
    X509V3_set_ctx (&v3, s_cert, s_cert, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid (NULL, &v3, NID_subject_alt_name, "DNS:" T_NAME);
    assert_non_null (san);
    X509_add_ext (s_cert, san, -1);
    X509_EXTENSION_free (san);
    assert_true (X509_sign (s_cert, s_key, EVP_sha256 ()) > 0);
}

static SSL_CTX *s_server_tls (void) {
    SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
    assert_non_null (ctx);
    assert_int_equal (SSL_CTX_use_certificate (ctx, s_cert), 1);
    assert_int_equal (SSL_CTX_use_PrivateKey (ctx, s_key), 1);
    return ctx;
}

static int s_group_setup (void **state) {
    (void)state;
    signal (SIGPIPE, SIG_IGN); /* our servers write to clients that cancelled */
    for (size_t i = 0; i < sizeof s_body; i++)
        s_body[i] = (uint8_t)('a' + (i * 7 + i / 251) % 26);
    s_make_cert ();
    return 0;
}

static int s_group_teardown (void **state) {
    (void)state;
    X509_free (s_cert);
    EVP_PKEY_free (s_key);
    return 0;
}

/* ---- shared by the tests ----------------------------------------------------------------- */

/* Requests are literals: the client reads a request's bytes until it has sent them all. */
#define T_GET(path) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define T_GET_CLOSE(path) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

static fb_http_client_t *s_client (const fb_http_client_cfg_t *cfg) {
    fb_err_t err = {0};
    fb_http_client_t *client = fb_http_client_new (cfg, &err);
    if (!client)
        fail_msg ("%s", err.msg);
    return client;
}

/* Sends total requests (tag = index) keeping every connection busy; checks each tag ends
 * exactly once with outcome and, when bytes_of is set, the byte count it says. */
static void s_run_all (fb_http_client_t *client, int total, const char *(*req_of) (int),
                       int64_t (*bytes_of) (int), fb_http_outcome_t outcome) {
    int *seen = calloc ((size_t)total, sizeof *seen);
    assert_non_null (seen);
    int sent = 0, ended = 0, peak = 0;
    fb_http_result_t results[16];
    while (ended < total) {
        for (; sent < total; sent++) {
            const char *req = req_of (sent);
            if (fb_http_client_send (client, req, strlen (req), (uint64_t)sent,
                                     fb_clock_now_ns ()) < 0)
                break;
        }
        if (fb_http_client_in_flight (client) > peak)
            peak = fb_http_client_in_flight (client);
        int n = fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, results, 16);
        assert_true (n > 0);
        for (int i = 0; i < n; i++) {
            assert_true (results[i].tag < (uint64_t)total);
            int tag = (int)results[i].tag;
            assert_int_equal (seen[tag]++, 0);
            assert_int_equal (results[i].outcome, outcome);
            if (bytes_of)
                assert_int_equal (results[i].bytes, bytes_of (tag));
            ended++;
        }
    }
    assert_int_equal (fb_http_client_in_flight (client), 0);
    assert_true (peak > 1); /* requests really were in flight together */
    free (seen);
}

static const char *s_page_req (int i) {
    (void)i;
    return T_GET ("/page");
}

static const char *s_mixed_req (int i) { return i % 7 == 3 ? T_GET ("/big") : T_GET ("/"); }

static int64_t s_mixed_bytes (int i) {
    return s_answer_bytes (i % 7 == 3 ? T_BIG_BYTES : T_SMALL_BYTES, false);
}

static fb_http_origin_t *s_origin (void) {
    fb_err_t err = {0};
    fb_http_origin_cfg_t ocfg = {.port_base = T_PORT_BASE, .threads = 2, .page_bytes = 4096};
    fb_http_origin_t *origin = fb_http_origin_new (&ocfg, &err);
    if (!origin)
        fail_msg ("%s", err.msg);
    return origin;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_many_in_flight_on_n_connections_end_once_each (void **state) {
    (void)state;
    fb_http_origin_t *origin = s_origin ();
    fb_http_client_cfg_t cfg = {
        .port = fb_http_origin_port (origin), .connections = 32, .timeout_ns = 10 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    s_run_all (client, 3000, s_page_req, NULL, FB_HTTP_OK);
    fb_http_client_destroy (&client);
    fb_http_origin_destroy (&origin);
}

/* Sends on every (open, idle) connection and waits until the server has answered them all. */
static void s_send_round (fb_http_client_t *client, t_server_t *srv, int n, int answered) {
    for (int i = 0; i < n; i++)
        assert_true (fb_http_client_send (client, T_GET ("/"), strlen (T_GET ("/")), (uint64_t)i,
                                          fb_clock_now_ns ()) >= 0);
    for (int k = 0; k < 10000 && atomic_load (&srv->answered) < answered; k++)
        usleep (1000);
    assert_int_equal (atomic_load (&srv->answered), answered);
}

static void test_one_poll_returns_every_ready_result (void **state) {
    (void)state;
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_ANSWER, NULL), 0);
    /* set before the first connection */
    atomic_store (&srv.settle, true);
    const int n = 160; /* more than one epoll batch */
    fb_http_client_cfg_t cfg = {.port = srv.port, .connections = n, .timeout_ns = 10 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    static fb_http_result_t results[512];
    int ended = 0;
    for (int i = 0; i < n; i++) /* connect them all */
        assert_true (fb_http_client_send (client, T_GET ("/"), strlen (T_GET ("/")), (uint64_t)i,
                                          fb_clock_now_ns ()) >= 0);
    while (ended < n)
        ended += fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, results, 512);
    /* every answer is in its socket before this poll (the server counts an answer once it is
     * acknowledged): one poll takes them all, more than one epoll batch */
    s_send_round (client, &srv, n, 2 * n);
    int got = fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, results, 512);
    assert_true (got > 64);
    for (int i = 0; i < got; i++)
        assert_int_equal (results[i].outcome, FB_HTTP_OK);
    while (fb_http_client_in_flight (client) > 0)
        fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, results, 512);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    assert_int_equal (atomic_load (&srv.accepted), n);
}

static void test_ipv6_loopback_through_addr (void **state) {
    (void)state;
    t_server_t srv;
    if (s_server_start (&srv, AF_INET6, T_ANSWER, NULL) != 0) {
        print_message ("::1 is not available here (no IPv6 loopback): test skipped\n");
        skip ();
    }
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                              .sin6_port = htons ((uint16_t)srv.port),
                              .sin6_addr = in6addr_loopback};
    fb_http_client_cfg_t cfg = {.connections = 4,
                                .timeout_ns = 10 * FB_NS_PER_S,
                                .addr = (const struct sockaddr *)&sa,
                                .addr_len = sizeof sa};
    fb_http_client_t *client = s_client (&cfg);
    memset (&sa, 0, sizeof sa); /* the client copied it */
    s_run_all (client, 200, s_mixed_req, s_mixed_bytes, FB_HTTP_OK);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    assert_true (atomic_load (&srv.accepted) <= 4); /* keep-alive */
}

static void test_address_that_is_not_ip_is_refused (void **state) {
    (void)state;
    struct sockaddr sa = {.sa_family = AF_UNIX};
    fb_http_client_cfg_t cfg = {
        .connections = 1, .timeout_ns = FB_NS_PER_S, .addr = &sa, .addr_len = sizeof sa};
    fb_err_t err = {0};
    assert_null (fb_http_client_new (&cfg, &err));
    assert_int_equal (err.code, FB_EINPUT);
    assert_non_null (strstr (err.msg, "IPv4 or IPv6"));
}

/* Sends n requests for /fault/truncate (a head, half a body, then silence) from tag base. */
static void s_send_stalled (fb_http_client_t *client, int n, int base) {
    const char *req = T_GET ("/fault/truncate");
    for (int i = 0; i < n; i++)
        assert_true (fb_http_client_send (client, req, strlen (req), (uint64_t)(base + i),
                                          fb_clock_now_ns ()) >= 0);
}

/* Polls with until in the past: what cancel queued comes back at once. Counts per tag. */
static int s_take_now (fb_http_client_t *client, int *seen, int *outcomes) {
    fb_http_result_t results[64];
    int n = fb_http_client_poll (client, fb_clock_now_ns () - 1, results, 64);
    for (int i = 0; i < n; i++) {
        assert_true (results[i].tag < 1000);
        seen[results[i].tag]++;
        outcomes[results[i].outcome]++;
    }
    return n;
}

static void test_cancel_ends_each_request_once_and_client_goes_on (void **state) {
    (void)state;
    fb_http_origin_t *origin = s_origin ();
    fb_http_client_cfg_t cfg = {
        .port = fb_http_origin_port (origin), .connections = 8, .timeout_ns = 30 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    int seen[1000] = {0}, outcomes[FB_HTTP_NOUTCOMES] = {0};

    /* still connecting */
    s_send_stalled (client, 8, 0);
    fb_http_client_cancel (client);
    assert_int_equal (fb_http_client_in_flight (client), 0);
    assert_int_equal (s_take_now (client, seen, outcomes), 8);
    assert_int_equal (outcomes[FB_HTTP_ECANCELED], 8);

    /* waiting for the rest of a body */
    s_send_stalled (client, 8, 100);
    fb_http_result_t r;
    assert_int_equal (fb_http_client_poll (client, fb_clock_now_ns () + 200 * FB_NS_PER_MS, &r, 1),
                      0);
    fb_http_client_cancel (client);
    assert_int_equal (s_take_now (client, seen, outcomes), 8);
    assert_int_equal (outcomes[FB_HTTP_ECANCELED], 16);
    assert_int_equal (s_take_now (client, seen, outcomes), 0);

    /* ended results not yet polled, then a cancel: all fit, all come back */
    const char *page = T_GET ("/page");
    for (int i = 0; i < 8; i++)
        assert_true (fb_http_client_send (client, page, strlen (page), (uint64_t)(200 + i),
                                          fb_clock_now_ns ()) >= 0);
    /* max 0: the loop runs, nothing is taken out */
    while (fb_http_client_in_flight (client) > 0)
        assert_int_equal (
            fb_http_client_poll (client, fb_clock_now_ns () + 10 * FB_NS_PER_S, &r, 0), 0);
    s_send_stalled (client, 8, 300); /* 8 results wait and 8 requests are in flight */
    fb_http_client_cancel (client);
    assert_int_equal (s_take_now (client, seen, outcomes), 16);
    assert_int_equal (outcomes[FB_HTTP_ECANCELED], 24);
    assert_int_equal (outcomes[FB_HTTP_OK], 8);
    for (int t = 0; t < 1000; t++) {
        bool sent =
            t < 8 || (t >= 100 && t < 108) || (t >= 200 && t < 208) || (t >= 300 && t < 308);
        assert_int_equal (seen[t], sent ? 1 : 0);
    }

    /* and the client goes on */
    assert_int_equal (fb_http_client_request (client, page, strlen (page), fb_clock_now_ns (), &r),
                      0);
    assert_int_equal (r.status, 200);
    fb_http_client_destroy (&client);
    fb_http_origin_destroy (&origin);
}

static void test_refused_connection_is_econnect (void **state) {
    (void)state;
    /* a bound port nobody listens on refuses, and nobody else can take it meanwhile */
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001)};
    socklen_t len = sizeof sa;
    assert_int_equal (bind (fd, (struct sockaddr *)&sa, len), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *)&sa, &len), 0);
    fb_http_client_cfg_t cfg = {
        .port = ntohs (sa.sin_port), .connections = 2, .timeout_ns = 10 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    const char *req = T_GET ("/");
    fb_http_result_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (
            fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r), -1);
        assert_int_equal (r.outcome, FB_HTTP_ECONNECT);
        assert_int_equal (r.status, 0);
    }
    fb_http_client_destroy (&client);
    close (fd);
}

static void test_garbage_from_server_is_eclosed (void **state) {
    (void)state;
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_GARBAGE, NULL), 0);
    fb_http_client_cfg_t cfg = {.port = srv.port, .connections = 1, .timeout_ns = 10 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    const char *req = T_GET ("/");
    fb_http_result_t r;
    assert_int_equal (fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r),
                      -1);
    assert_int_equal (r.outcome, FB_HTTP_ECLOSED);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
}

static void test_deadline_still_ends_a_request_after_others_ended (void **state) {
    (void)state;
    fb_http_origin_t *origin = s_origin ();
    const int64_t timeout = 300 * FB_NS_PER_MS;
    fb_http_client_cfg_t cfg = {
        .port = fb_http_origin_port (origin), .connections = 2, .timeout_ns = timeout};
    fb_http_client_t *client = s_client (&cfg);
    const char *page = T_GET ("/page");
    fb_http_result_t r;
    /* the first sets the cached deadline and ends early; the stalled one sent later must still
     * end at its own deadline */
    assert_true (fb_http_client_send (client, page, strlen (page), 1, fb_clock_now_ns ()) >= 0);
    assert_int_equal (fb_http_client_poll (client, INT64_MAX, &r, 1), 1);
    assert_int_equal (r.outcome, FB_HTTP_OK);
    while (fb_clock_now_ns () < r.done_ns + timeout / 2)
        fb_http_client_poll (client, r.done_ns + timeout / 2, &r, 1);
    int64_t sent_ns = fb_clock_now_ns ();
    s_send_stalled (client, 1, 7);
    assert_int_equal (fb_http_client_poll (client, INT64_MAX, &r, 1), 1);
    assert_int_equal (r.tag, 7);
    assert_int_equal (r.outcome, FB_HTTP_ETIMEOUT);
    assert_true (r.done_ns >= sent_ns + timeout);
    fb_http_client_destroy (&client);
    fb_http_origin_destroy (&origin);
}

/* Requests that ask to close, and answers that close: each gets its own connection. */
static void test_connection_close_closes_and_next_send_reconnects (void **state) {
    (void)state;
    fb_http_origin_t *origin = s_origin ();
    fb_http_client_cfg_t cfg = {
        .port = fb_http_origin_port (origin), .connections = 1, .timeout_ns = 10 * FB_NS_PER_S};
    fb_http_client_t *client = s_client (&cfg);
    const char *req = T_GET_CLOSE ("/page");
    fb_http_result_t r;
    for (int i = 0; i < 20; i++) {
        assert_int_equal (
            fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r), 0);
        assert_int_equal (r.status, 200);
    }
    fb_http_client_destroy (&client);
    fb_http_origin_destroy (&origin);

    for (int mode = T_ANSWER; mode <= T_CLOSE_EACH; mode++) {
        t_server_t srv;
        assert_int_equal (s_server_start (&srv, AF_INET, (t_mode_t)mode, NULL), 0);
        cfg.port = srv.port;
        client = s_client (&cfg);
        req = T_GET ("/");
        for (int i = 0; i < 5; i++) {
            assert_int_equal (
                fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r), 0);
            assert_int_equal (r.bytes, s_answer_bytes (T_SMALL_BYTES, mode == T_CLOSE_EACH));
        }
        fb_http_client_destroy (&client);
        s_server_stop (&srv);
        assert_int_equal (atomic_load (&srv.accepted), mode == T_CLOSE_EACH ? 5 : 1);
    }
}

static void test_tls_keep_alive_requests_and_a_big_answer_arrive_whole (void **state) {
    (void)state;
    SSL_CTX *server_tls = s_server_tls ();
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_ANSWER, server_tls), 0);
    fb_err_t err = {0};
    SSL_CTX *tls = fb_http_client_tls_ctx (false, NULL, &err);
    assert_non_null (tls);
    fb_http_client_cfg_t cfg = {
        .port = srv.port, .connections = 1, .timeout_ns = 10 * FB_NS_PER_S, .tls = tls};
    fb_http_client_t *client = s_client (&cfg);
    fb_bytes_t bodies = {0};
    fb_http_client_capture (client, &bodies);
    fb_http_result_t r;
    size_t expect = 0;
    for (int i = 0; i < 6; i++) {
        bool big = i % 2 == 1;
        const char *req = big ? T_GET ("/big") : T_GET ("/");
        assert_int_equal (
            fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r), 0);
        assert_int_equal (r.status, 200);
        size_t body = big ? T_BIG_BYTES : T_SMALL_BYTES;
        assert_int_equal (r.bytes, s_answer_bytes (body, false));
        assert_int_equal (bodies.len, expect + body);
        assert_memory_equal (bodies.data + expect, s_body, body);
        expect += body;
    }
    fb_http_client_capture (client, NULL);
    fb_bytes_free (&bodies);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    assert_int_equal (atomic_load (&srv.accepted), 1); /* one session for every request */
    SSL_CTX_free (tls);
    SSL_CTX_free (server_tls);
}

static void test_tls_many_in_flight_end_once_each (void **state) {
    (void)state;
    SSL_CTX *server_tls = s_server_tls ();
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_ANSWER, server_tls), 0);
    fb_err_t err = {0};
    SSL_CTX *tls = fb_http_client_tls_ctx (false, NULL, &err);
    assert_non_null (tls);
    fb_http_client_cfg_t cfg = {.port = srv.port,
                                .connections = 8,
                                .timeout_ns = 20 * FB_NS_PER_S,
                                .tls = tls,
                                .sni = T_NAME};
    fb_http_client_t *client = s_client (&cfg);
    s_run_all (client, 400, s_mixed_req, s_mixed_bytes, FB_HTTP_OK);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    assert_true (atomic_load (&srv.accepted) <= 8);
    SSL_CTX_free (tls);
    SSL_CTX_free (server_tls);
}

static void test_tls_handshake_with_a_server_that_is_not_tls_is_econnect (void **state) {
    (void)state;
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_GARBAGE, NULL), 0);
    fb_err_t err = {0};
    SSL_CTX *tls = fb_http_client_tls_ctx (false, NULL, &err);
    assert_non_null (tls);
    fb_http_client_cfg_t cfg = {
        .port = srv.port, .connections = 1, .timeout_ns = 10 * FB_NS_PER_S, .tls = tls};
    fb_http_client_t *client = s_client (&cfg);
    const char *req = T_GET ("/");
    fb_http_result_t r;
    assert_int_equal (fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r),
                      -1);
    assert_int_equal (r.outcome, FB_HTTP_ECONNECT);
    assert_int_equal (r.bytes, 0);
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    SSL_CTX_free (tls);
}

static void test_tls_error_mid_answer_is_eclosed (void **state) {
    (void)state;
    SSL_CTX *server_tls = s_server_tls ();
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_CORRUPT, server_tls), 0);
    fb_err_t err = {0};
    SSL_CTX *tls = fb_http_client_tls_ctx (false, NULL, &err);
    assert_non_null (tls);
    fb_http_client_cfg_t cfg = {
        .port = srv.port, .connections = 1, .timeout_ns = 10 * FB_NS_PER_S, .tls = tls};
    fb_http_client_t *client = s_client (&cfg);
    fb_http_result_t r;
    for (int i = 0; i < 2; i++) { /* and the next request reconnects */
        assert_int_equal (fb_http_client_request (client, T_GET ("/big"), strlen (T_GET ("/big")),
                                                  fb_clock_now_ns (), &r),
                          -1);
        assert_int_equal (r.outcome, FB_HTTP_ECLOSED);
        assert_int_equal (r.status, 200);
        assert_true (r.bytes > T_BIG_BYTES / 4 && r.bytes < T_BIG_BYTES);
    }
    fb_http_client_destroy (&client);
    s_server_stop (&srv);
    assert_int_equal (atomic_load (&srv.accepted), 2);
    SSL_CTX_free (tls);
    SSL_CTX_free (server_tls);
}

/* One request through a verifying context; its outcome. */
static fb_http_outcome_t s_verified (int port, SSL_CTX *tls, const char *sni) {
    fb_http_client_cfg_t cfg = {
        .port = port, .connections = 1, .timeout_ns = 10 * FB_NS_PER_S, .tls = tls, .sni = sni};
    fb_http_client_t *client = s_client (&cfg);
    const char *req = T_GET ("/");
    fb_http_result_t r;
    fb_http_client_request (client, req, strlen (req), fb_clock_now_ns (), &r);
    fb_http_client_destroy (&client);
    return r.outcome;
}

static void test_tls_verify_checks_the_chain_and_the_name (void **state) {
    (void)state;
    char ca_file[] = "/tmp/fb_test_ca_XXXXXX";
    int fd = mkstemp (ca_file);
    assert_true (fd >= 0);
    FILE *f = fdopen (fd, "w");
    assert_non_null (f);
    assert_int_equal (PEM_write_X509 (f, s_cert), 1);
    fclose (f);

    SSL_CTX *server_tls = s_server_tls ();
    t_server_t srv;
    assert_int_equal (s_server_start (&srv, AF_INET, T_ANSWER, server_tls), 0);
    fb_err_t err = {0};
    SSL_CTX *trusting = fb_http_client_tls_ctx (true, ca_file, &err);
    assert_non_null (trusting);
    SSL_CTX *system = fb_http_client_tls_ctx (true, NULL, &err);
    assert_non_null (system);
    assert_int_equal (s_verified (srv.port, trusting, T_NAME), FB_HTTP_OK);
    assert_int_equal (s_verified (srv.port, trusting, "other.test"), FB_HTTP_ECONNECT);
    assert_int_equal (s_verified (srv.port, trusting, "127.0.0.1"), FB_HTTP_ECONNECT);
    assert_int_equal (s_verified (srv.port, system, T_NAME), FB_HTTP_ECONNECT); /* self-signed */
    s_server_stop (&srv);
    SSL_CTX_free (trusting);
    SSL_CTX_free (system);
    SSL_CTX_free (server_tls);
    unlink (ca_file);

    assert_null (fb_http_client_tls_ctx (true, "/nonexistent/ca.pem", &err));
    assert_non_null (strstr (err.msg, "/nonexistent/ca.pem"));
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_many_in_flight_on_n_connections_end_once_each),
        cmocka_unit_test (test_one_poll_returns_every_ready_result),
        cmocka_unit_test (test_ipv6_loopback_through_addr),
        cmocka_unit_test (test_address_that_is_not_ip_is_refused),
        cmocka_unit_test (test_cancel_ends_each_request_once_and_client_goes_on),
        cmocka_unit_test (test_refused_connection_is_econnect),
        cmocka_unit_test (test_garbage_from_server_is_eclosed),
        cmocka_unit_test (test_deadline_still_ends_a_request_after_others_ended),
        cmocka_unit_test (test_connection_close_closes_and_next_send_reconnects),
        cmocka_unit_test (test_tls_keep_alive_requests_and_a_big_answer_arrive_whole),
        cmocka_unit_test (test_tls_many_in_flight_end_once_each),
        cmocka_unit_test (test_tls_handshake_with_a_server_that_is_not_tls_is_econnect),
        cmocka_unit_test (test_tls_error_mid_answer_is_eclosed),
        cmocka_unit_test (test_tls_verify_checks_the_chain_and_the_name),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}

/* http_tls.c: non-blocking OpenSSL client sessions for the load client. OpenSSL allocates a
 * session's buffers when it is opened: a reconnect allocates, a keep-alive request does not. */
#include "workloads/proxy/http_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sys/socket.h>

/* ---- our socket BIO: send with MSG_NOSIGNAL ------------------------------------------------ */

static BIO_METHOD *s_method;
static pthread_once_t s_method_once = PTHREAD_ONCE_INIT;

static int s_bio_write (BIO *bio, const char *buf, int len) {
    fb_http_tls_t *self = BIO_get_data (bio);
    BIO_clear_retry_flags (bio);
    ssize_t n = send (self->fd, buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        BIO_set_retry_write (bio);
    return (int)n;
}

static int s_bio_read (BIO *bio, char *buf, int len) {
    fb_http_tls_t *self = BIO_get_data (bio);
    BIO_clear_retry_flags (bio);
    ssize_t n = recv (self->fd, buf, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        BIO_set_retry_read (bio);
    if (n == 0)
        self->eof = true;
    return (int)n;
}

static long s_bio_ctrl (BIO *bio, int cmd, long num, void *ptr) {
    (void)num;
    (void)ptr;
    fb_http_tls_t *self = BIO_get_data (bio);
    if (cmd == BIO_CTRL_FLUSH)
        return 1;
    if (cmd == BIO_CTRL_EOF) /* how OpenSSL tells a closed socket from a failed read */
        return self && self->eof;
    return 0;
}

static void s_method_make (void) {
    BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "fb_http_socket");
    if (m && BIO_meth_set_write (m, s_bio_write) && BIO_meth_set_read (m, s_bio_read) &&
        BIO_meth_set_ctrl (m, s_bio_ctrl))
        s_method = m;
    else
        BIO_meth_free (m);
}

/* ---- sessions ------------------------------------------------------------------------------ */

static void s_openssl_error (fb_err_t *err, const char *what) {
    char reason[200] = "unknown error";
    unsigned long e = ERR_get_error ();
    if (e)
        ERR_error_string_n (e, reason, sizeof reason);
    ERR_clear_error ();
    fb_err_set (err, FB_ESYS, "http client: %s: %s", what, reason);
}

SSL_CTX *fb_http_tls_ctx_new (bool verify, const char *ca_file, fb_err_t *err) {
    SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
    if (!ctx || !SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION)) {
        s_openssl_error (err, "cannot make a TLS context");
        SSL_CTX_free (ctx);
        return NULL;
    }
    SSL_CTX_set_verify (ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (verify && ca_file && SSL_CTX_load_verify_locations (ctx, ca_file, NULL) != 1) {
        char what[300];
        snprintf (what, sizeof what, "cannot load the CA certificates in %s", ca_file);
        s_openssl_error (err, what);
        SSL_CTX_free (ctx);
        return NULL;
    }
    if (verify && !ca_file && SSL_CTX_set_default_verify_paths (ctx) != 1) {
        s_openssl_error (err, "cannot load the system's CA certificates");
        SSL_CTX_free (ctx);
        return NULL;
    }
    return ctx;
}

/* sni names the server: the SNI extension for a host name (never an address, RFC 6066), and
 * what the certificate must match when the context verifies. */
static int s_name (SSL *ssl, const char *sni) {
    bool verify = SSL_get_verify_mode (ssl) & SSL_VERIFY_PEER;
    unsigned char ip[16];
    if (inet_pton (AF_INET, sni, ip) == 1 || inet_pton (AF_INET6, sni, ip) == 1)
        return !verify || X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (ssl), sni) == 1 ? 0 : -1;
    if (SSL_set_tlsext_host_name (ssl, sni) != 1)
        return -1;
    return !verify || SSL_set1_host (ssl, sni) == 1 ? 0 : -1;
}

int fb_http_tls_open (fb_http_tls_t *self, SSL_CTX *ctx, int fd, const char *sni) {
    pthread_once (&s_method_once, s_method_make);
    *self = (fb_http_tls_t){.fd = fd};
    BIO *bio = s_method ? BIO_new (s_method) : NULL;
    self->ssl = bio ? SSL_new (ctx) : NULL;
    if (!self->ssl || (sni && s_name (self->ssl, sni) != 0)) {
        BIO_free (bio);
        fb_http_tls_close (self);
        ERR_clear_error ();
        return -1;
    }
    BIO_set_data (bio, self);
    BIO_set_init (bio, 1);
    SSL_set_bio (self->ssl, bio, bio);
    /* A request goes out in pieces as the socket takes them; a body that ends with the
     * connection ends without close_notify, as HTTP/1.1 servers do. */
    SSL_set_mode (self->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_set_options (self->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_set_connect_state (self->ssl);
    return 0;
}

void fb_http_tls_close (fb_http_tls_t *self) {
    SSL_free (self->ssl); /* frees the BIO too */
    self->ssl = NULL;
}

/* What an SSL call that did not succeed means. The error queue is emptied so the next call's
 * SSL_get_error reads only its own failure. */
static fb_http_tls_status_t s_status (fb_http_tls_t *self, int rc) {
    int e = SSL_get_error (self->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return FB_HTTP_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return FB_HTTP_TLS_WANT_WRITE;
    ERR_clear_error ();
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && self->eof))
        return FB_HTTP_TLS_EOF;
    return FB_HTTP_TLS_FAILED;
}

fb_http_tls_status_t fb_http_tls_handshake (fb_http_tls_t *self) {
    int rc = SSL_do_handshake (self->ssl);
    if (rc == 1)
        return FB_HTTP_TLS_OK;
    fb_http_tls_status_t st = s_status (self, rc);
    return st == FB_HTTP_TLS_EOF ? FB_HTTP_TLS_FAILED : st; /* a close is a failed handshake */
}

fb_http_tls_status_t fb_http_tls_write (fb_http_tls_t *self, const void *buf, size_t len,
                                        size_t *done) {
    size_t n = 0;
    int rc = SSL_write_ex (self->ssl, buf, len, &n);
    if (rc == 1) {
        *done = n;
        return FB_HTTP_TLS_OK;
    }
    fb_http_tls_status_t st = s_status (self, rc);
    return st == FB_HTTP_TLS_EOF ? FB_HTTP_TLS_FAILED : st;
}

fb_http_tls_status_t fb_http_tls_read (fb_http_tls_t *self, void *buf, size_t cap, size_t *done) {
    size_t n = 0;
    int rc = SSL_read_ex (self->ssl, buf, cap, &n);
    if (rc == 1) {
        *done = n;
        return FB_HTTP_TLS_OK;
    }
    return s_status (self, rc);
}

bool fb_http_tls_pending (const fb_http_tls_t *self) {
    return self->ssl && SSL_has_pending (self->ssl);
}

/* http_tls.h: the TLS side of the load client (http_client.c): one non-blocking OpenSSL
 * session per connection, stepped from the client's epoll loop. Each call does what the socket
 * allows now and says what it waits for (readable or writable), so the caller turns that into
 * its epoll interest. Bytes go through our own socket BIO, which writes with MSG_NOSIGNAL: a
 * server that closed costs an error, never a SIGPIPE on the caller's thread.
 *
 * OpenSSL >= 1.1 initialises itself on first use: no global init call is needed, and one
 * SSL_CTX is read (never changed) by the clients of several threads at once. */
#ifndef FB_HTTP_TLS_H
#define FB_HTTP_TLS_H

#include "common/err.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    FB_HTTP_TLS_OK,         /* the handshake finished, or bytes moved */
    FB_HTTP_TLS_WANT_READ,  /* call again when the socket is readable */
    FB_HTTP_TLS_WANT_WRITE, /* call again when the socket is writable */
    FB_HTTP_TLS_EOF,        /* the server closed (close_notify, or the TCP end of stream) */
    FB_HTTP_TLS_FAILED      /* a TLS or socket error (a failed verification too): drop it */
} fb_http_tls_status_t;

/* One connection's session; zeroed (ssl NULL) means plain TCP. The fields are the interface:
 * the caller embeds it, and it must not move while ssl is set (the BIO points at it). */
typedef struct {
    SSL *ssl;
    int fd;
    bool eof; /* the socket read its end */
} fb_http_tls_t;

/* A client context: TLS_client_method, TLS 1.2 at least. verify: the server's chain is
 * checked against ca_file (PEM), or the system's default paths when ca_file is NULL; not
 * verify: SSL_VERIFY_NONE. */
SSL_CTX *fb_http_tls_ctx_new (bool verify, const char *ca_file, fb_err_t *err);
/* Starts a client session on the connected (or connecting) non-blocking fd. sni: the server's
 * name, sent as SNI (unless it is an IP address) and, when ctx verifies, checked against the
 * certificate (as a name or an IP address); NULL: neither. -1 when OpenSSL is out of memory. */
int fb_http_tls_open (fb_http_tls_t *self, SSL_CTX *ctx, int fd, const char *sni);
/* Frees the session (the fd stays the caller's); nothing when there is none. */
void fb_http_tls_close (fb_http_tls_t *self);
fb_http_tls_status_t fb_http_tls_handshake (fb_http_tls_t *self);
/* Writes up to len bytes; *done says how many went (on OK only). After WANT_*, call again
 * with the same bytes. */
fb_http_tls_status_t fb_http_tls_write (fb_http_tls_t *self, const void *buf, size_t len,
                                        size_t *done);
/* Reads up to cap decrypted bytes; *done says how many (on OK only). WANT_READ means
 * nothing is left inside OpenSSL either: only then may the caller wait on epoll. */
fb_http_tls_status_t fb_http_tls_read (fb_http_tls_t *self, void *buf, size_t cap, size_t *done);
/* Decrypted bytes already inside OpenSSL, or a record not yet decrypted. */
bool fb_http_tls_pending (const fb_http_tls_t *self);

#endif

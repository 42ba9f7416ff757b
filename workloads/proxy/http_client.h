/* http_client.h: the load client of the proxy workload, the http workload and their benches.
 * One client is one thread's engine: many HTTP/1.1 keep-alive connections to one server (an
 * IPv4 or IPv6 address; 127.0.0.1:port by default), plain TCP or TLS (https, OpenSSL, see
 * http_tls.h), one epoll loop, responses parsed with http_parser, at most one request in flight
 * per connection (no pipelining, as wrk). The caller decides when each request starts and
 * passes that instant (the intended start, for open-loop latency as wrk2 measures it); the
 * client only moves bytes and says how each request ended. Every wait is bounded by the
 * request timeout. A request that carries `Connection: close` (or is HTTP/1.0 without
 * keep-alive), or whose answer does not keep the connection alive, closes its connection after
 * the response; the next send on it reconnects. Not thread-safe: one thread owns a client. */
#ifndef FB_HTTP_CLIENT_H
#define FB_HTTP_CLIENT_H

#include "common/err.h"
#include "workloads/proxy/inject.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef enum {
    FB_HTTP_OK = 0,    /* a whole response arrived (any status: the caller judges it) */
    FB_HTTP_ECONNECT,  /* the connection could not be made */
    FB_HTTP_ETIMEOUT,  /* no whole response before the timeout; the connection is dropped */
    FB_HTTP_ECLOSED,   /* the server closed mid-response, or sent bytes that are not HTTP (or
                          a TLS error mid-response) */
    FB_HTTP_ECANCELED, /* fb_http_client_cancel ended it; the connection is dropped */
    FB_HTTP_NOUTCOMES
} fb_http_outcome_t;

typedef struct {
    fb_http_outcome_t outcome;
    int status;       /* HTTP status; 0 when no head arrived */
    int64_t bytes;    /* bytes received for this response, head and body, as on the wire
                         (decrypted, with TLS) */
    uint64_t tag;     /* the caller's, from send */
    int64_t start_ns; /* the caller's, from send (the intended start) */
    int64_t done_ns;  /* when the response ended (or failed) */
    int conn;         /* the connection it used */
} fb_http_result_t;

/* Zeroed new fields mean 127.0.0.1:port over plain TCP. */
typedef struct {
    int port;           /* on 127.0.0.1, when addr is NULL */
    int connections;    /* >= 1; connected lazily, reconnected after a failure */
    int64_t timeout_ns; /* from send to the end of the response, connect and handshake included */
    const struct sockaddr *addr; /* the server, AF_INET or AF_INET6, copied; NULL: 127.0.0.1 */
    socklen_t addr_len;
    /* https: every connection runs TLS with this context; NULL: plain TCP. The caller owns it
     * and frees it after the clients; the clients of several threads may share it (they only
     * read it). See fb_http_client_tls_ctx. */
    SSL_CTX *tls;
    /* The server's name: SNI and, when tls verifies, what the certificate must match (a host
     * name or an IP address); copied. NULL: no SNI, no name check. */
    const char *sni;
} fb_http_client_cfg_t;

typedef struct fb_http_client fb_http_client_t;

fb_http_client_t *fb_http_client_new (const fb_http_client_cfg_t *cfg, fb_err_t *err);
void fb_http_client_destroy (fb_http_client_t **self_p);

/* A TLS client context for cfg.tls: TLS_client_method, TLS 1.2 at least. verify: the server's
 * chain is checked against ca_file (PEM) or, when ca_file is NULL, the system's default paths,
 * and its name against cfg.sni (a failure ends requests as FB_HTTP_ECONNECT); not verify:
 * SSL_VERIFY_NONE. Free it with SSL_CTX_free after the clients. OpenSSL >= 1.1 initialises
 * itself: no global init is needed. NULL and err when OpenSSL refuses. */
SSL_CTX *fb_http_client_tls_ctx (bool verify, const char *ca_file, fb_err_t *err);

/* Sends req (a whole request, kept by the caller until its result) on an idle connection,
 * taken in turn. Returns the connection's index, or -1 when every connection is busy, or when
 * results not yet polled plus requests in flight reach twice the connections (poll first). A
 * failure to connect is not an error here: it comes back as a result. */
int fb_http_client_send (fb_http_client_t *self, const void *req, size_t len, uint64_t tag,
                         int64_t start_ns);
/* Runs the loop until at least one request has ended or until_ns (monotonic) has passed,
 * handling every event that is ready; copies up to max results and returns how many (results
 * left over come back from the next call). Never waits past the earliest timeout. */
int fb_http_client_poll (fb_http_client_t *self, int64_t until_ns, fb_http_result_t *results,
                         int max);
/* Ends every request in flight now as FB_HTTP_ECANCELED and drops their connections (the
 * next send reconnects). Their results are queued: the next poll returns them at once, even
 * with until_ns in the past. Each request sent still ends exactly once. */
void fb_http_client_cancel (fb_http_client_t *self);
/* Requests sent and not yet ended. */
int fb_http_client_in_flight (const fb_http_client_t *self);
/* Sends req and waits for its result; nothing else may be in flight. 0 when a response
 * arrived (result->status says which), -1 otherwise (result->outcome says why). */
int fb_http_client_request (fb_http_client_t *self, const void *req, size_t len, int64_t start_ns,
                            fb_http_result_t *result);
/* Tests: append every response body (decoded from chunks, still compressed if it was) to
 * sink; NULL stops. */
void fb_http_client_capture (fb_http_client_t *self, fb_bytes_t *sink);

#endif

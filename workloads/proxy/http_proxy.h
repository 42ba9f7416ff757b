/* http_proxy.h: a reverse proxy modelled on Brummer's (internal/proxy, reverse mode). Each
 * registered URL gets its own listener on 127.0.0.1 (ports probed upward from a base, as
 * Brummer's RegisterURL does); requests are forwarded to the origin on keep-alive
 * connections with Brummer's forwarding headers; every request goes into a history ring
 * (Brummer keeps the last 1000); a 200 text/html answer to a navigation is buffered,
 * gunzipped, given the monitoring script before the last </body> (else </html>), gzipped
 * again, sent with a new Content-Length and without Content-Security-Policy. Everything else
 * streams through byte for byte.
 *
 * Its own threads, each an epoll loop; every listener is in every loop. An origin that stops
 * answering is cut at the timeout: the client gets a 504 (or its connection closed, when the
 * answer was already streaming), never a hang. */
#ifndef FB_HTTP_PROXY_H
#define FB_HTTP_PROXY_H

#include "common/err.h"
#include "common/hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_HTTP_PROXY_MAX_URLS 64

typedef struct fb_http_proxy fb_http_proxy_t;

typedef struct {
    int port_base;       /* first port probed for the listeners */
    int threads;         /* epoll threads, >= 1 */
    int history;         /* requests remembered, >= 1 (Brummer: 1000) */
    bool inject;         /* inject into HTML navigations (Brummer's telemetry on) */
    size_t script_bytes; /* the monitoring script's size (Brummer's monitor.js: ~96 KB) */
    int64_t timeout_ns;  /* from forwarding a request to the end of the origin's answer */
} fb_http_proxy_cfg_t;

/* One request as the history keeps it (Brummer's Request record, the fields that matter). */
typedef struct {
    int64_t start_ns;    /* the request was read whole (monotonic) */
    int64_t duration_ns; /* to the answer's last byte queued for the client */
    int64_t bytes;       /* answer bytes queued for the client, head and body */
    int status;          /* what the client got; 502 / 504 when the proxy made the answer */
    int port;            /* the listener: which proxied URL */
    bool injected;
    char method[8];
    char path[64]; /* cut */
} fb_http_proxy_record_t;

typedef struct {
    int64_t requests;    /* answered or failed, since start */
    int64_t injected;    /* pages that got the script */
    int64_t bad_gateway; /* origin closed, refused or sent garbage: 502 or a cut stream */
    int64_t timeouts;    /* origin too slow: 504 or a cut stream */
} fb_http_proxy_stats_t;

fb_http_proxy_t *fb_http_proxy_new (const fb_http_proxy_cfg_t *cfg, fb_err_t *err);
/* Stops the threads, closes every connection and listener, frees. */
void fb_http_proxy_destroy (fb_http_proxy_t **self_p);

/* Brummer's RegisterURL: a listener that forwards to 127.0.0.1:target_port, for the process
 * named process (it appears in the injected script). Fills *proxy_port. Thread-safe. */
int fb_http_proxy_register (fb_http_proxy_t *self, int target_port, const char *process,
                            int *proxy_port, fb_err_t *err);

/* Copies the last (up to max) history records, oldest first; returns how many. */
int fb_http_proxy_history (fb_http_proxy_t *self, fb_http_proxy_record_t *out, int max);
void fb_http_proxy_stats (fb_http_proxy_t *self, fb_http_proxy_stats_t *out);
/* Moves the injection times (ns per page: gunzip, insert, gzip, new head) recorded since the
 * last call into into (a default-range histogram). */
int fb_http_proxy_drain_inject (fb_http_proxy_t *self, fb_hist_t *into, fb_err_t *err);

#endif

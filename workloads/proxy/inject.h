/* inject.h: what Brummer's reverse proxy does to an HTML page (internal/proxy,
 * injectMonitoringScriptForMapping): decide whether a response gets the monitoring script,
 * decompress gzip, put the script before the last </body> (else </html>, case-insensitive,
 * else at the end), recompress, and rewrite the head (new Content-Length, no
 * Content-Security-Policy). Byte-exact and free of I/O so it is tested on its own.
 *
 * It also holds the growable byte buffer the HTTP modules (origin, proxy, client) share. */
#ifndef FB_INJECT_H
#define FB_INJECT_H

#include "common/err.h"
#include "workloads/proxy/bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The marker Brummer puts around its script; a page that holds it is not injected twice. */
#define FB_INJECT_MARKER "<!-- Brummer Monitoring Script -->"

/* ---- the decision ----------------------------------------------------------------------- */

/* What Brummer looks at; NULL for a header that is absent. */
typedef struct {
    int status;                   /* response status: only 200 is injected */
    const char *content_type;     /* response: must contain text/html */
    const char *accept;           /* request: set and naming neither text/html nor star/star */
    const char *x_requested_with; /* request: XMLHttpRequest means an XHR */
    const char *sec_fetch_mode;   /* request: cors means a fetch() */
    const char *sec_fetch_dest;   /* request: empty means a fetch() */
} fb_inject_info_t;

/* True when Brummer injects into this response: a 200 text/html answer to a navigation. */
bool fb_inject_wanted (const fb_inject_info_t *info);
/* True when a Content-Encoding value names gzip (case-insensitive). */
bool fb_inject_is_gzip (const char *content_encoding);

/* Where the script goes: the offset of the last "</body>", else of the last "</html>"
 * (both case-insensitive), else len (append). */
size_t fb_inject_position (const uint8_t *html, size_t len);

/* ---- the rewrite ------------------------------------------------------------------------ */

typedef struct fb_inject fb_inject_t; /* zlib streams and buffers, reused call after call */

/* gzip_level: zlib's 1..9, or -1 for its default (6, as Go's gzip.NewWriter). */
fb_inject_t *fb_inject_new (int gzip_level, fb_err_t *err);
void fb_inject_destroy (fb_inject_t **self_p);

/* Injects script into body (gzip-encoded when gzip). *out points into self and stays valid
 * until the next call. Returns 1 injected; 0 left as it was, *out = body (gzip that does
 * not inflate, or the marker already there: what Brummer does); -1 out of memory. */
int fb_inject_body (fb_inject_t *self, const uint8_t *body, size_t len, bool gzip,
                    const uint8_t *script, size_t script_len, const uint8_t **out, size_t *out_len);

/* Rewrites a response head (status line to the blank line, as received) for a body of
 * body_len bytes sent in one piece: drops Content-Length and Transfer-Encoding, and with
 * drop_csp Content-Security-Policy and X-Content-Security-Policy; adds Content-Length
 * before the blank line. Other lines are copied byte for byte. Appends to out; -1 when out
 * of memory or the head has no blank line. */
int fb_inject_head (const uint8_t *head, size_t head_len, size_t body_len, bool drop_csp,
                    fb_bytes_t *out);

/* Brummer's injected block: the marker, a config script naming the process and the proxy's
 * host, and a monitoring script of about script_bytes (filler JavaScript standing in for
 * monitor.js, ~96 KB in Brummer), then the end marker. Appends to out. */
int fb_inject_script (const char *process, int proxy_port, size_t script_bytes, fb_bytes_t *out);

#endif

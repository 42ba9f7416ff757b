/* http_origin.h: the origin server the proxy workload talks to, standing in for a developer's
 * dev server: HTML pages (with a Content-Security-Policy, gzip when the client accepts it),
 * JSON, static assets, and faults on demand. Loopback only; its own threads, each with an
 * epoll loop; HTTP/1.1 keep-alive, requests parsed with http_parser.
 *
 * Paths:
 *   /page                 text/html of page_bytes, gzip to clients that accept it
 *   /api/items.json       application/json (~2 KB), gzip to clients that accept it
 *   /static/app.js        application/javascript, 32 KB, never compressed
 *   /static/logo.png      image/png, 8 KB of binary
 *   /fault/truncate       /page's head, then half its body, then silence (connection kept)
 *   /fault/close          /page's head, then half its body, then the connection is closed
 *   /fault/500            a 500 answer
 *   anything else         404 */
#ifndef FB_HTTP_ORIGIN_H
#define FB_HTTP_ORIGIN_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_http_origin fb_http_origin_t;

typedef struct {
    int port_base;     /* first port probed */
    int threads;       /* epoll threads serving connections, >= 1 */
    size_t page_bytes; /* size of /page, uncompressed */
    bool gzip;         /* serve /page and the JSON gzip-encoded to clients that accept it */
} fb_http_origin_cfg_t;

fb_http_origin_t *fb_http_origin_new (const fb_http_origin_cfg_t *cfg, fb_err_t *err);
/* Stops the threads, closes every connection, frees. */
void fb_http_origin_destroy (fb_http_origin_t **self_p);
int fb_http_origin_port (const fb_http_origin_t *self);
/* The body the origin serves at path, uncompressed (tests compare against it); -1 when the
 * path is not one of the resources above. */
int fb_http_origin_body (const fb_http_origin_t *self, const char *path, const uint8_t **body,
                         size_t *len);

#endif

/* httpreq.h: the head of one HTTP/1.x request (request line and header fields, never a body),
 * parsed from a bounded buffer as its bytes arrive: what the metrics endpoint needs to answer
 * GET /metrics and to refuse anything else with the right status. Our own small parser, so
 * every byte it accepts is one this file says it accepts (RFC 9112's grammar, strictly). */
#ifndef FB_HTTPREQ_H
#define FB_HTTPREQ_H

#include <stddef.h>

/* A head longer than this is refused (431) without reading more. */
#define FB_HTTPREQ_MAX_BYTES 8192
#define FB_HTTPREQ_MAX_FIELDS 64

typedef enum {
    FB_HTTPREQ_PARTIAL,   /* well formed so far, no blank line yet: read more */
    FB_HTTPREQ_OK,        /* a whole head */
    FB_HTTPREQ_BAD,       /* 400: not HTTP/1.x request syntax */
    FB_HTTPREQ_TOO_LARGE, /* 431: the head (or its fields) exceed the limits above */
    FB_HTTPREQ_URI_LONG,  /* 414: the target does not fit fb_httpreq_t.target */
    FB_HTTPREQ_VERSION,   /* 505: HTTP/2 and later, or 1.x spelled in another way */
} fb_httpreq_status_t;

typedef struct {
    char method[16];  /* "GET" */
    char target[256]; /* "/metrics?x=1", origin form only */
    char path[256];   /* the target without its query: "/metrics" */
    int minor;        /* HTTP/1.<minor>: 0 or 1 */
    int n_fields;
    size_t head_len; /* bytes of the head, its blank line included (when OK) */
} fb_httpreq_t;

/* Parses the head at the start of buf (len bytes, no NUL needed). Bytes after the head are not
 * looked at. req is filled as far as the parse got. */
fb_httpreq_status_t fb_httpreq_parse (const char *buf, size_t len, fb_httpreq_t *req);

/* The HTTP status code a refusal is answered with (200 for OK, 0 for PARTIAL). */
int fb_httpreq_status_code (fb_httpreq_status_t status);

#endif

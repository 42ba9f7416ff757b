/* httpreq.c: a strict, bounded parser of HTTP/1.x request heads. It reads the head line by
 * line (LF or CRLF), judges each complete line as soon as it has it, so garbage is refused at
 * its first line whether or not a blank line ever comes. */
#include "coordinator/httpreq.h"

#include <stdbool.h>
#include <string.h>

/* RFC 9110 tchar: the characters of a method or a field name. */
static bool s_tchar (unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr ("!#$%&'*+-.^_`|~", c));
}

/* A field value's characters: visible ASCII, space, tab and obs-text (0x80..0xff). */
static bool s_value_char (unsigned char c) { return c == ' ' || c == '\t' || c >= 0x21; }

static fb_httpreq_status_t s_request_line (const char *p, size_t n, fb_httpreq_t *req) {
    size_t i = 0;
    while (i < n && s_tchar ((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= sizeof req->method || i >= n || p[i] != ' ')
        return FB_HTTPREQ_BAD;
    memcpy (req->method, p, i);
    req->method[i] = '\0';
    size_t t = ++i;
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
        i++;
    size_t tlen = i - t;
    if (tlen == 0 || i >= n || p[i] != ' ')
        return FB_HTTPREQ_BAD;
    if (p[t] != '/')
        return FB_HTTPREQ_BAD; /* absolute, authority and asterisk forms: not for us */
    if (tlen >= sizeof req->target)
        return FB_HTTPREQ_URI_LONG;
    memcpy (req->target, p + t, tlen);
    req->target[tlen] = '\0';
    size_t plen = strcspn (req->target, "?#");
    memcpy (req->path, req->target, plen);
    req->path[plen] = '\0';
    const char *v = p + i + 1;
    size_t vlen = n - i - 1;
    if (vlen == 8 && memcmp (v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1')) {
        req->minor = v[7] - '0';
        return FB_HTTPREQ_OK;
    }
    if (vlen == 8 && memcmp (v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
        v[7] >= '0' && v[7] <= '9')
        return FB_HTTPREQ_VERSION;
    if (vlen == 6 && memcmp (v, "HTTP/", 5) == 0 && v[5] >= '2' && v[5] <= '9')
        return FB_HTTPREQ_VERSION; /* "HTTP/2" */
    return FB_HTTPREQ_BAD;
}

static fb_httpreq_status_t s_field_line (const char *p, size_t n) {
    size_t i = 0;
    while (i < n && s_tchar ((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ':')
        return FB_HTTPREQ_BAD; /* no name, a space before the colon, or obs-fold */
    for (i++; i < n; i++)
        if (!s_value_char ((unsigned char)p[i]))
            return FB_HTTPREQ_BAD;
    return FB_HTTPREQ_OK;
}

fb_httpreq_status_t fb_httpreq_parse (const char *buf, size_t len, fb_httpreq_t *req) {
    memset (req, 0, sizeof *req);
    size_t limit = len < FB_HTTPREQ_MAX_BYTES ? len : FB_HTTPREQ_MAX_BYTES;
    size_t pos = 0;
    bool have_request_line = false;
    while (pos < limit) {
        const char *nl = memchr (buf + pos, '\n', limit - pos);
        if (!nl)
            break;
        size_t end = (size_t)(nl - buf);
        size_t n = end - pos;
        if (n > 0 && buf[end - 1] == '\r')
            n--;
        if (memchr (buf + pos, '\r', n) || memchr (buf + pos, '\0', n))
            return FB_HTTPREQ_BAD; /* a bare CR or a NUL inside a line */
        fb_httpreq_status_t st = FB_HTTPREQ_OK;
        if (!have_request_line) {
            if (n == 0 && pos < 4) { /* RFC 9112 2.2: a stray empty line or two before it */
                pos = end + 1;
                continue;
            }
            st = s_request_line (buf + pos, n, req);
            have_request_line = true;
        } else if (n == 0) {
            req->head_len = end + 1;
            return FB_HTTPREQ_OK;
        } else if (++req->n_fields > FB_HTTPREQ_MAX_FIELDS)
            return FB_HTTPREQ_TOO_LARGE;
        else
            st = s_field_line (buf + pos, n);
        if (st != FB_HTTPREQ_OK)
            return st;
        pos = end + 1;
    }
    /* The line in progress: garbage already visible is refused now, not after 8 KiB (a TLS
     * hello's first byte, a NUL, a method that is no token). */
    for (size_t i = pos; i < limit; i++)
        if (buf[i] == '\0')
            return FB_HTTPREQ_BAD;
    if (!have_request_line) {
        size_t i = pos;
        while (i < limit && s_tchar ((unsigned char)buf[i]))
            i++;
        if (i - pos >= sizeof req->method || (i < limit && buf[i] != ' ' && i > pos) ||
            (i < limit && i == pos && buf[i] != '\r'))
            return FB_HTTPREQ_BAD;
    }
    return len >= FB_HTTPREQ_MAX_BYTES ? FB_HTTPREQ_TOO_LARGE : FB_HTTPREQ_PARTIAL;
}

int fb_httpreq_status_code (fb_httpreq_status_t status) {
    switch (status) {
    case FB_HTTPREQ_PARTIAL:
        return 0;
    case FB_HTTPREQ_OK:
        return 200;
    case FB_HTTPREQ_BAD:
        return 400;
    case FB_HTTPREQ_TOO_LARGE:
        return 431;
    case FB_HTTPREQ_URI_LONG:
        return 414;
    case FB_HTTPREQ_VERSION:
        return 505;
    }
    return 400;
}

/* url.c: http and https URLs, written by hand: the grammar we take is a small part of RFC 3986
 * (no user names, no relative forms, no percent-decoding: the path is sent as written), and
 * every refusal must point at the byte where the URL goes wrong. */
#include "common/url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_MAX_NAME 253 /* a DNS name's longest text form */

typedef struct {
    const char *text;
    int *col_p;
    fb_err_t *err;
} s_ctx_t;

/* The fault at byte at of ctx->text: the message, and the offset in *ctx->col_p. */
#define s_fail(ctx, at, ...) fb_err_input_at ((ctx)->err, (ctx)->col_p, (at), __VA_ARGS__)

/* One byte for "(got ...)": 'x', a space, or its code. */
static const char *s_byte (unsigned char c, char *buf, size_t size) {
    if (c == ' ')
        snprintf (buf, size, "a space");
    else if (c < 0x21 || c > 0x7e)
        snprintf (buf, size, "byte 0x%02x", c);
    else
        snprintf (buf, size, "'%c'", c);
    return buf;
}

static bool s_is_alpha (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool s_is_digit (char c) { return c >= '0' && c <= '9'; }

/* "http" or "https" then "://"; *end_p: where the authority starts. */
static int s_scheme (s_ctx_t *ctx, bool *tls, size_t *end_p) {
    const char *text = ctx->text;
    size_t n = 0;
    while (s_is_alpha (text[n]) ||
           (n > 0 && (s_is_digit (text[n]) || text[n] == '+' || text[n] == '-' || text[n] == '.')))
        n++;
    if (n == 0 || text[n] != ':')
        return s_fail (ctx, 0, "expected a URL that starts with http:// or https://");
    if (n == 4 && strncasecmp (text, "http", 4) == 0)
        *tls = false;
    else if (n == 5 && strncasecmp (text, "https", 5) == 0)
        *tls = true;
    else
        return s_fail (ctx, 0, "the scheme \"%.*s\" is not supported: only http and https are",
                       n > 20 ? 20 : (int)n, text);
    if (text[n + 1] != '/' || text[n + 2] != '/')
        return s_fail (ctx, n + 1, "expected // after %.*s:", (int)n, text);
    *end_p = n + 3;
    return 0;
}

/* text[from, to): a host name of labels of A-Z a-z 0-9 -, or a dotted IPv4 address. */
static int s_name (s_ctx_t *ctx, size_t from, size_t to, char *host) {
    const char *text = ctx->text;
    char got[16];
    if (from == to)
        return s_fail (ctx, from,
                       text[from] == ':' ? "expected a host before the port (an IPv6 address "
                                           "goes between [ and ])"
                                         : "expected a host name or address after //");
    if (to - from > S_MAX_NAME)
        return s_fail (ctx, from, "expected a host name of at most %d characters (got %zu)",
                       S_MAX_NAME, to - from);
    bool numeric = true;
    for (size_t i = from; i < to; i++) {
        char c = text[i];
        if (c == '.') {
            if (i == from || text[i - 1] == '.' || i + 1 == to)
                return s_fail (ctx, i,
                               "expected a host name without an empty label (a dot at an end, "
                               "or two in a row)");
        } else if (s_is_digit (c)) {
        } else if (s_is_alpha (c) || c == '-') {
            numeric = false;
        } else {
            return s_fail (ctx, i, "expected a host name of A-Z a-z 0-9 . - (got %s)",
                           s_byte ((unsigned char)c, got, sizeof got));
        }
    }
    memcpy (host, text + from, to - from);
    host[to - from] = '\0';
    struct in_addr v4;
    if (numeric && inet_pton (AF_INET, host, &v4) != 1)
        return s_fail (ctx, from, "expected an IPv4 address of four numbers 0 to 255 (got \"%s\")",
                       host);
    return 0;
}

/* text[from, to): "[v6]" (host gets it without brackets); *end_p: the byte after ]. */
static int s_v6 (s_ctx_t *ctx, size_t from, size_t to, char *host, size_t *end_p) {
    const char *close = memchr (ctx->text + from, ']', to - from);
    if (!close)
        return s_fail (ctx, from, "expected ] to close the IPv6 address");
    size_t len = (size_t)(close - ctx->text) - from - 1;
    char buf[INET6_ADDRSTRLEN + 1];
    struct in6_addr v6;
    if (len >= sizeof buf)
        return s_fail (ctx, from + 1, "expected an IPv6 address between [ and ]");
    memcpy (buf, ctx->text + from + 1, len);
    buf[len] = '\0';
    if (inet_pton (AF_INET6, buf, &v6) != 1)
        return s_fail (ctx, from + 1, "expected an IPv6 address between [ and ] (got \"%s\")", buf);
    memcpy (host, buf, len + 1);
    *end_p = (size_t)(close - ctx->text) + 1;
    return 0;
}

/* text[from, to): the digits of a port. */
static int s_port (s_ctx_t *ctx, size_t from, size_t to, int *port) {
    char got[16];
    long value = 0;
    for (size_t i = from; i < to; i++) {
        char c = ctx->text[i];
        if (!s_is_digit (c))
            return s_fail (ctx, i, "expected a port of digits only (got %s)%s",
                           s_byte ((unsigned char)c, got, sizeof got),
                           c == ':' ? ": an IPv6 address goes between [ and ]" : "");
        if (value <= 65535)
            value = value * 10 + (c - '0');
    }
    if (from == to)
        return s_fail (ctx, from, "expected a port after :");
    if (to - from > 5 || value < 1 || value > 65535)
        return s_fail (ctx, from, "expected a port from 1 to 65535 (got %.*s)",
                       to - from > 12 ? 12 : (int)(to - from), ctx->text + from);
    *port = (int)value;
    return 0;
}

/* From the end of the authority: "/path?query#fragment", every byte visible ASCII. */
static int s_target (s_ctx_t *ctx, size_t from, char *target) {
    const char *text = ctx->text;
    char got[16];
    for (size_t i = from; text[i]; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x21 || c > 0x7e)
            return s_fail (ctx, i,
                           "expected visible ASCII in the path (got %s): write others "
                           "percent-encoded",
                           s_byte (c, got, sizeof got));
    }
    size_t len = strcspn (text + from, "#"); /* the fragment stays with the client */
    bool slash = len == 0 || text[from] == '?';
    if (len + slash >= FB_URL_TARGET_SIZE)
        return s_fail (ctx, from, "expected a path and query of at most %d bytes (got %zu)",
                       FB_URL_TARGET_SIZE - 1, len + slash);
    if (slash)
        target[0] = '/';
    memcpy (target + slash, text + from, len);
    target[len + slash] = '\0';
    return 0;
}

int fb_url_parse (const char *text, fb_url_t *url, int *col_p, fb_err_t *err) {
    s_ctx_t ctx = {.text = text ? text : "", .col_p = col_p, .err = err};
    text = ctx.text;
    fb_url_t out = {0};
    size_t from = 0;
    if (s_scheme (&ctx, &out.tls, &from) != 0)
        return -1;
    size_t to = from + strcspn (text + from, "/?#");
    const char *at = memchr (text + from, '@', to - from);
    if (at)
        return s_fail (&ctx, (size_t)(at - text),
                       "expected no user name in the URL (user@host is not supported)");
    size_t host_end = to;
    if (text[from] == '[') {
        if (s_v6 (&ctx, from, to, out.host, &host_end) != 0)
            return -1;
        if (host_end < to && text[host_end] != ':')
            return s_fail (&ctx, host_end, "expected : and a port, or the path, after ]");
    } else {
        const char *colon = memchr (text + from, ':', to - from);
        host_end = colon ? (size_t)(colon - text) : to;
        if (s_name (&ctx, from, host_end, out.host) != 0)
            return -1;
    }
    out.port = out.tls ? 443 : 80;
    if (host_end < to && s_port (&ctx, host_end + 1, to, &out.port) != 0)
        return -1;
    /* host (253) + [] + :port (6) always fits */
    snprintf (out.authority, sizeof out.authority, "%.*s", (int)(to - from), text + from);
    if (s_target (&ctx, to, out.target) != 0)
        return -1;
    *url = out;
    return 0;
}

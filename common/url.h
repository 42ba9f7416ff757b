/* url.h: the http:// and https:// URLs a scenario names as a target, split into what a client
 * needs: where to connect, whether to speak TLS, the request line's target and the Host header.
 * Only absolute http and https URLs without user names; anything else is an error that points
 * at the byte where the URL goes wrong, so the scenario parser can say file:line:col. */
#ifndef FB_URL_H
#define FB_URL_H

#include "common/err.h"

#include <stdbool.h>

#define FB_URL_HOST_SIZE 256
#define FB_URL_TARGET_SIZE 2048
#define FB_URL_AUTHORITY_SIZE 300

/* The fields are the interface. */
typedef struct {
    bool tls;                              /* https */
    char host[FB_URL_HOST_SIZE];           /* as written; an IPv6 literal without its [] */
    int port;                              /* as written, else 80 (http) or 443 (https) */
    char target[FB_URL_TARGET_SIZE];       /* path and query for the request line; "/" at least */
    char authority[FB_URL_AUTHORITY_SIZE]; /* the Host header: host[:port] as written, [v6] */
} fb_url_t;

/* Parses text (NUL-terminated): 0 with *url filled, or -1 with err (FB_EINPUT, a sentence that
 * does not repeat the URL's position) and *col_p the 0-based byte offset in text where it goes
 * wrong. Scheme http or https in any case, "//", no user@, a host name ([A-Za-z0-9.-], no
 * empty label), an IPv4 address or an [IPv6] address, an optional port 1 to 65535, then a path
 * and query of visible ASCII; a #fragment is dropped. col_p may be NULL. */
int fb_url_parse (const char *text, fb_url_t *url, int *col_p, fb_err_t *err);

#endif

/* http_target.h: what the http workload sends and to where, from its params: the URL resolved
 * to an address this agent's allow-list admits, the request built once, and the statuses that
 * count as success. Made at setup; read-only after, shared by every runner thread. */
#ifndef FB_HTTP_TARGET_H
#define FB_HTTP_TARGET_H

#include "common/err.h"
#include "common/url.h"
#include "workloads/proxy/bytes.h"
#include "workloads/workload.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define FB_HTTP_TARGET_MAX_STATUSES 16

typedef struct {
    fb_url_t url;
    struct sockaddr_storage addr; /* the first address of the URL's host the list admits */
    socklen_t addr_len;
    char addr_text[64]; /* "127.0.0.1:8080", "[::1]:443" for messages */
    fb_bytes_t request; /* the whole request, head and body */
    int n_statuses;     /* success: a status in one of these ranges */
    struct {
        int lo, hi;
    } statuses[FB_HTTP_TARGET_MAX_STATUSES];
} fb_http_target_t;

/* Checks the params that need no network: the headers ("Name: value" lines) and the success
 * statuses ("2xx,304,400-404"). The URL was checked when it was set (FB_PARAM_URL). */
int fb_http_target_check_params (const fb_params_t *params, fb_err_t *err);
/* Resolves the URL's host and keeps the first address that allow admits; none admitted (or a
 * name that does not resolve) is an error naming the target and the list. Then builds the
 * request and reads the statuses. */
int fb_http_target_init (fb_http_target_t *self, const fb_params_t *params,
                         const fb_wl_allow_t *allow, fb_err_t *err);
void fb_http_target_free (fb_http_target_t *self);
/* True when status is one of the successes. */
bool fb_http_target_status_ok (const fb_http_target_t *self, int status);

#endif

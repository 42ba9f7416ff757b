/* http_target.c: the http workload's target and request, made once at setup. */
#include "workloads/http/http_target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each "Name: value" line of text (lines end at \n; a trailing one is fine) to fn; -1 with
 * err at the first line that is not one, or that sets a header we set ourselves. */
typedef int (s_header_fn) (const char *line, size_t len, void *arg);

static int s_each_header (const char *text, s_header_fn *fn, void *arg, fb_err_t *err) {
    /* Ours, and Expect: a 100 Continue before the answer is not one request, one response. */
    static const char *const ours[] = {
        "host", "content-length", "connection", "transfer-encoding", "expect", NULL};
    for (const char *line = text; *line;) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen (line);
        const char *colon = memchr (line, ':', len);
        size_t name_len = colon ? (size_t)(colon - line) : 0;
        bool ok = name_len > 0;
        for (size_t i = 0; ok && i < name_len; i++) /* an RFC 9110 token */
            ok = isalnum ((unsigned char)line[i]) || strchr ("!#$%&'*+-.^_`|~", line[i]);
        for (size_t i = 0; ok && i < len; i++)
            ok = line[i] == '\t' || ((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
        if (!ok)
            return fb_err_set (err, FB_EINPUT,
                               "headers: \"%.*s\" is not a \"Name: value\" line (lines are "
                               "separated by newlines)",
                               (int)(len < 60 ? len : 60), line);
        for (int i = 0; ours[i]; i++)
            if (strlen (ours[i]) == name_len && strncasecmp (line, ours[i], name_len) == 0)
                return fb_err_set (err, FB_EINPUT,
                                   "headers: %.*s is not yours to set: the workload sets Host, "
                                   "Content-Length and Connection (see keepalive and body), and "
                                   "sends no Transfer-Encoding or Expect",
                                   (int)name_len, line);
        if (fn && fn (line, len, arg) != 0)
            return fb_err_set (err, FB_ENOMEM, "out of memory for the request");
        line = end ? end + 1 : line + len;
    }
    return 0;
}

/* One item of a status list at p: "2xx", "200-299" or "200"; the bytes it took (0: none). */
static int s_status_item (const char *p, int *lo, int *hi) {
    int used = 0;
    char x1 = 0, x2 = 0;
    if (sscanf (p, "%1d%c%c%n", lo, &x1, &x2, &used) == 3 && used == 3 && x1 == 'x' && x2 == 'x') {
        *lo *= 100;
        *hi = *lo + 99;
        return used;
    }
    if (sscanf (p, "%3d-%3d%n", lo, hi, &used) == 2 && used == 7)
        return used;
    if (sscanf (p, "%3d%n", lo, &used) == 1 && used == 3) {
        *hi = *lo;
        return used;
    }
    return 0;
}

/* "2xx,304, 400-404" into ranges. */
static int s_statuses (fb_http_target_t *self, const char *text, fb_err_t *err) {
    int n = 0;
    for (const char *p = text; *p; n++) {
        while (*p == ' ')
            p++;
        int lo = 0, hi = 0, used = s_status_item (p, &lo, &hi);
        bool ends = p[used] == '\0' || (p[used] == ',' && p[used + 1] != '\0');
        if (!used || lo < 100 || hi > 599 || lo > hi || !ends || n == FB_HTTP_TARGET_MAX_STATUSES)
            return fb_err_set (err, FB_EINPUT,
                               "status must be up to %d of 200, 2xx or 200-299, separated by "
                               "commas (got \"%.64s\")",
                               FB_HTTP_TARGET_MAX_STATUSES, text);
        if (self) {
            self->statuses[n].lo = lo;
            self->statuses[n].hi = hi;
            self->n_statuses = n + 1;
        }
        p += used + (p[used] == ',');
    }
    if (n == 0)
        return fb_err_set (err, FB_EINPUT, "status must name at least one status, such as 2xx");
    return 0;
}

int fb_http_target_check_params (const fb_params_t *params, fb_err_t *err) {
    if (s_each_header (fb_params_text (params, "headers"), NULL, NULL, err) != 0 ||
        s_statuses (NULL, fb_params_text (params, "status"), err) != 0)
        return -1;
    return 0;
}

static void s_addr_text (const struct sockaddr *sa, char *buf, size_t size) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop (AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs (in->sin_port);
        snprintf (buf, size, "%s:%d", host, port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs (in6->sin6_port);
        snprintf (buf, size, "[%s]:%d", host, port);
    }
}

/* The first address of the URL's host that the allow-list admits. */
static int s_resolve (fb_http_target_t *self, const fb_wl_allow_t *allow, fb_err_t *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    char port[8];
    snprintf (port, sizeof port, "%d", self->url.port);
    int rc = getaddrinfo (self->url.host, port, &hints, &list);
    if (rc != 0)
        return fb_err_set (err, FB_EINPUT, "url: cannot resolve %s: %s", self->url.host,
                           gai_strerror (rc));
    char seen[64] = "";
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        s_addr_text (ai->ai_addr, seen, sizeof seen);
        if (allow->http && allow->http (allow->list, ai->ai_addr, self->url.port)) {
            memcpy (&self->addr, ai->ai_addr, ai->ai_addrlen);
            self->addr_len = ai->ai_addrlen;
            snprintf (self->addr_text, sizeof self->addr_text, "%s", seen);
            freeaddrinfo (list);
            return 0;
        }
    }
    freeaddrinfo (list);
    char names[200] = "none";
    if (allow->http_names)
        allow->http_names (allow->list, names, sizeof names);
    return fb_err_set (err, FB_EINPUT,
                       "http target %s (%s) is not on this agent's allow-list (http: %s)",
                       self->url.host, seen[0] ? seen : "no address", names);
}

static int s_append_header (const char *line, size_t len, void *arg) {
    fb_bytes_t *req = arg;
    return fb_bytes_append (req, line, len) || fb_bytes_append_str (req, "\r\n") ? -1 : 0;
}

static int s_build (fb_http_target_t *self, const fb_params_t *params, fb_err_t *err) {
    const char *method = fb_params_text (params, "method");
    const char *body = fb_params_text (params, "body");
    char head[2600];
    snprintf (head, sizeof head,
              "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fleetbench/" FB_VERSION "\r\n", method,
              self->url.target, self->url.authority);
    fb_bytes_t *req = &self->request;
    if (fb_bytes_append_str (req, head) != 0 ||
        s_each_header (fb_params_text (params, "headers"), s_append_header, req, err) != 0)
        return -1;
    bool sends_body = body[0] || strcmp (method, "POST") == 0 || strcmp (method, "PUT") == 0 ||
                      strcmp (method, "PATCH") == 0;
    char tail[96] = "";
    int n = 0;
    if (sends_body)
        n = snprintf (tail, sizeof tail, "Content-Length: %zu\r\n", strlen (body));
    if (fb_params_num (params, "keepalive") == 0)
        snprintf (tail + n, sizeof tail - (size_t)n, "Connection: close\r\n");
    if (fb_bytes_append_str (req, tail) != 0 || fb_bytes_append_str (req, "\r\n") != 0 ||
        fb_bytes_append_str (req, body) != 0)
        return fb_err_set (err, FB_ENOMEM, "out of memory for the request");
    return 0;
}

int fb_http_target_init (fb_http_target_t *self, const fb_params_t *params,
                         const fb_wl_allow_t *allow, fb_err_t *err) {
    int col = 0;
    if (fb_url_parse (fb_params_text (params, "url"), &self->url, &col, err) != 0 ||
        s_statuses (self, fb_params_text (params, "status"), err) != 0 ||
        s_resolve (self, allow, err) != 0 || s_build (self, params, err) != 0)
        return -1;
    return 0;
}

void fb_http_target_free (fb_http_target_t *self) { fb_bytes_free (&self->request); }

bool fb_http_target_status_ok (const fb_http_target_t *self, int status) {
    for (int i = 0; i < self->n_statuses; i++)
        if (status >= self->statuses[i].lo && status <= self->statuses[i].hi)
            return true;
    return false;
}

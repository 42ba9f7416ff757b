/* loggen.c: dev-server output from a seeded xorshift64*: a weighted choice of line kinds, each
 * filled from small tables. Only integers are formatted, so every host writes the same bytes
 * for a seed. */
#include "workloads/log/loggen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_GREEN "\x1b[32m"
#define S_YELLOW "\x1b[33m"
#define S_RED "\x1b[31m"
#define S_CYAN "\x1b[36m"
#define S_DIM "\x1b[2m"
#define S_BOLD "\x1b[1m"
#define S_RESET "\x1b[0m"

struct fb_loggen {
    uint64_t state;
    int frames_left; /* stack frames still to write after an error line */
    int clock_s;     /* a wall clock for timestamps, advancing with the lines */
};

typedef enum {
    S_REQUEST,
    S_HMR,
    S_INFO,
    S_URL,
    S_ERROR,
    S_BUILD,
    S_TEST,
    S_WARNING,
    S_LONG,
    S_KINDS
} s_kind_t;

/* Per mille of each kind (stack frames come on top, after each error). */
static const int s_weights[S_KINDS] = {420, 120, 150, 30, 50, 50, 80, 70, 30};

static const char *const s_paths[] = {"/api/users",     "/api/orders", "/api/health",  "/login",
                                      "/static/app.js", "/api/search", "/favicon.ico", "/"};
static const char *const s_methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
static const int s_statuses[] = {200, 200, 200, 200, 201, 204, 304, 404, 500};
static const char *const s_files[] = {"src/App.tsx",           "src/components/Header.tsx",
                                      "src/api/client.ts",     "src/pages/index.tsx",
                                      "src/hooks/useUsers.ts", "src/styles/main.css"};
static const char *const s_infos[] = {
    "[nodemon] restarting due to changes...",
    "[nodemon] starting `node server.js`",
    "info  - Loaded env from /app/.env",
    "event - compiled client and server successfully in 812 ms (1542 modules)",
    "wait  - compiling /_error (client and server)...",
    "Database connection pool ready (size=10)",
    "Session store: redis://cache:6379 connected",
    "Watching for file changes in /app/src",
};
static const char *const s_errors[] = {
    "TypeError: Cannot read properties of undefined (reading 'map')",
    "Error: connect ECONNREFUSED 127.0.0.1:5432",
    "Unhandled Promise rejection: Error: Request failed with status code 500",
    "ReferenceError: fetchUsers is not defined",
    "Error: Cannot find module './config/local'",
    "panic: runtime error: index out of range [3] with length 3",
    "SyntaxError: Unexpected token '<' in JSON at position 0",
    "Failed to compile. Module not found: Error: Can't resolve 'lodash-es'",
};
static const char *const s_functions[] = {
    "UserList",      "Object.<anonymous>", "processTicksAndRejections", "Module._compile",
    "handleRequest", "renderWithHooks",    "async Promise.all",         "Router.handle"};
static const char *const s_builds[] = {
    "webpack 5.88.2 compiled successfully in %d ms",
    S_GREEN "\xe2\x9c\x93" S_RESET " built in %d ms",
    "Build failed with %d errors",
    "Compiled with warnings. (%d)",
    "tsc: Found 0 errors. Watching for file changes. (%d ms)",
    "vite v5.0.2 building for production... bundle generated in %d ms",
};
static const char *const s_tests[] = {
    "  " S_GREEN "\xe2\x9c\x93" S_RESET " renders the header (%d ms)",
    "  " S_RED "\xe2\x9c\x95" S_RESET " submits the form (%d ms)",
    S_GREEN " PASS " S_RESET " src/App.test.tsx (%d ms)",
    S_RED " FAIL " S_RESET " src/api/users.test.ts (%d ms)",
    "Tests:       1 failed, %d passed, 42 total",
    "  %d passing (340ms)",
    "  %d failing",
};
static const char *const s_warnings[] = {
    "warning: React Hook useEffect has a missing dependency: 'fetchUsers'",
    "(node:4242) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.",
    S_YELLOW "WARN" S_RESET " slow query (1834 ms): SELECT * FROM orders WHERE user_id = $1",
    "Warning: Each child in a list should have a unique \"key\" prop.",
};
static const char *const s_urls[] = {
    "  " S_GREEN "\xe2\x9e\x9c" S_RESET "  " S_BOLD "Local" S_RESET ":   " S_CYAN
    "http://localhost:%d/" S_RESET,
    "  " S_GREEN "\xe2\x9e\x9c" S_RESET "  " S_BOLD "Network" S_RESET ": " S_CYAN
    "http://192.168.1.23:%d/" S_RESET,
    "ready - started server on 0.0.0.0:%d, url: http://localhost:%d",
    "Server listening on http://127.0.0.1:%d",
};
static const int s_ports[] = {3000, 5173, 8080, 4200, 3001};

#define S_COUNT(a) ((int)(sizeof (a) / sizeof (a)[0]))

/* xorshift64* */
static uint64_t s_next (fb_loggen_t *self) {
    uint64_t x = self->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int s_below (fb_loggen_t *self, int n) { return (int)((s_next (self) >> 33) % (uint64_t)n); }

static size_t s_clip (int n, size_t buf_len) {
    if (n < 0)
        return 0;
    return (size_t)n < buf_len ? (size_t)n : buf_len - 1;
}

static size_t s_request (fb_loggen_t *self, char *buf, size_t buf_len) {
    int status = s_statuses[s_below (self, S_COUNT (s_statuses))];
    const char *colour = status >= 500 ? S_RED : status >= 400 ? S_YELLOW : S_GREEN;
    int ms = s_below (self, 400);
    return s_clip (snprintf (buf, buf_len, "%s %s/%d %s%d" S_RESET " %d.%03d ms - %d",
                             s_methods[s_below (self, S_COUNT (s_methods))],
                             s_paths[s_below (self, S_COUNT (s_paths))], s_below (self, 10000),
                             colour, status, ms, s_below (self, 1000), 100 + s_below (self, 9000)),
                   buf_len);
}

static size_t s_hmr (fb_loggen_t *self, char *buf, size_t buf_len) {
    int t = self->clock_s;
    return s_clip (snprintf (buf, buf_len,
                             S_DIM "%02d:%02d:%02d" S_RESET " " S_CYAN S_BOLD "[vite]" S_RESET
                                   " " S_GREEN "hmr update " S_RESET S_DIM "/%s" S_RESET,
                             (t / 3600) % 24, (t / 60) % 60, t % 60,
                             s_files[s_below (self, S_COUNT (s_files))]),
                   buf_len);
}

static size_t s_frame (fb_loggen_t *self, char *buf, size_t buf_len) {
    self->frames_left--;
    return s_clip (snprintf (buf, buf_len, "    at %s (/app/%s:%d:%d)",
                             s_functions[s_below (self, S_COUNT (s_functions))],
                             s_files[s_below (self, S_COUNT (s_files))], 1 + s_below (self, 400),
                             1 + s_below (self, 80)),
                   buf_len);
}

static size_t s_long (fb_loggen_t *self, char *buf, size_t buf_len) {
    size_t target = FB_LOGGEN_LONG_BYTES / 2 + (size_t)s_below (self, FB_LOGGEN_LONG_BYTES);
    int n = snprintf (buf, buf_len, "[debug] response body {\"items\":[");
    size_t len = s_clip (n, buf_len);
    for (int i = 0; len < target && len + 1 < buf_len && i < 1000; i++) {
        n = snprintf (buf + len, buf_len - len,
                      "%s{\"id\":%d,\"name\":\"user-%d\",\"active\":%s,\"score\":%d}", i ? "," : "",
                      s_below (self, 100000), s_below (self, 1000),
                      s_below (self, 2) ? "true" : "false", s_below (self, 100));
        len += s_clip (n, buf_len - len);
    }
    n = snprintf (buf + len, buf_len - len, "]}");
    return len + s_clip (n, buf_len - len);
}

static size_t s_pick (fb_loggen_t *self, s_kind_t kind, char *buf, size_t buf_len) {
    int port = s_ports[s_below (self, S_COUNT (s_ports))];
    int n = s_below (self, 5000);
    switch (kind) {
    case S_REQUEST:
        return s_request (self, buf, buf_len);
    case S_HMR:
        return s_hmr (self, buf, buf_len);
    case S_INFO:
        return s_clip (snprintf (buf, buf_len, "%s", s_infos[s_below (self, S_COUNT (s_infos))]),
                       buf_len);
    case S_URL:
        return s_clip (
            snprintf (buf, buf_len, s_urls[s_below (self, S_COUNT (s_urls))], port, port), buf_len);
    case S_ERROR:
        self->frames_left = 3 + s_below (self, 6);
        return s_clip (snprintf (buf, buf_len, S_RED "%s" S_RESET,
                                 s_errors[s_below (self, S_COUNT (s_errors))]),
                       buf_len);
    case S_BUILD:
        return s_clip (snprintf (buf, buf_len, s_builds[s_below (self, S_COUNT (s_builds))], n),
                       buf_len);
    case S_TEST:
        return s_clip (snprintf (buf, buf_len, s_tests[s_below (self, S_COUNT (s_tests))], n % 300),
                       buf_len);
    case S_WARNING:
        return s_clip (
            snprintf (buf, buf_len, "%s", s_warnings[s_below (self, S_COUNT (s_warnings))]),
            buf_len);
    default:
        return s_long (self, buf, buf_len);
    }
}

fb_loggen_t *fb_loggen_new (uint64_t seed, fb_err_t *err) {
    fb_loggen_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "loggen: out of memory");
        return NULL;
    }
    /* splitmix64 of the seed: never zero, and nearby seeds give unrelated streams */
    uint64_t x = seed + 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    self->state = x ? x : 1;
    self->clock_s = 10 * 3600;
    return self;
}

void fb_loggen_destroy (fb_loggen_t **self_p) {
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

size_t fb_loggen_next (fb_loggen_t *self, char *buf, size_t buf_len) {
    if (buf_len == 0)
        return 0;
    self->clock_s += s_below (self, 8) == 0;
    if (self->frames_left > 0)
        return s_frame (self, buf, buf_len);
    int roll = s_below (self, 1000);
    s_kind_t kind = S_REQUEST;
    for (int k = 0; k < S_KINDS; k++) {
        if (roll < s_weights[k]) {
            kind = (s_kind_t)k;
            break;
        }
        roll -= s_weights[k];
    }
    return s_pick (self, kind, buf, buf_len);
}

/* err.h: the error value every fallible function fills: a code and a sentence a user can act on. */
#ifndef FB_ERR_H
#define FB_ERR_H

#include <stddef.h>

enum {
    FB_EOK = 0,
    FB_EINPUT = 1, /* bad outside input: YAML, frames, command line, files */
    FB_ESYS = 2,   /* the system said no: errno is in the message */
    FB_ENOMEM = 3,
    FB_ESTATE = 4, /* a request that does not fit the current state (busy agent, wrong run) */
    /* the coordinator will never take this agent as it is (a bad or taken id) */
    FB_EREFUSED = 5,
};

typedef struct {
    int code;
    char msg[256];
} fb_err_t;

/* Fills err (if not NULL) and returns -1, so callers can write `return fb_err_set (...)`. */
int fb_err_set (fb_err_t *err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* fb_err_set (err, FB_EINPUT, ...) for a fault inside a text: *col_p (when not NULL) gets at,
 * the 0-based offset of the fault, capped at 2^30; parsers report it as file:line:col. */
int fb_err_input_at (fb_err_t *err, int *col_p, size_t at, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Prefixes err->msg with "prefix: " (file name, line and column, a workload name). */
void fb_err_prefix (fb_err_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#endif

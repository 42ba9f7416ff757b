/* err.c: filling and prefixing fb_err_t. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fb_err_set (fb_err_t *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err->msg, sizeof err->msg, fmt, ap);
        va_end (ap);
    }
    return -1;
}

int fb_err_input_at (fb_err_t *err, int *col_p, size_t at, const char *fmt, ...) {
    if (col_p)
        *col_p = at > (size_t)1 << 30 ? 1 << 30 : (int)at;
    if (err) {
        err->code = FB_EINPUT;
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err->msg, sizeof err->msg, fmt, ap);
        va_end (ap);
    }
    return -1;
}

void fb_err_prefix (fb_err_t *err, const char *fmt, ...) {
    if (!err)
        return;
    char old[sizeof err->msg];
    memcpy (old, err->msg, sizeof old);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    va_end (ap);
    /* prefix + ": " + old message, cut at the buffer's end */
    size_t used = strlen (err->msg);
    if (used + 3 >= sizeof err->msg)
        return;
    memcpy (err->msg + used, ": ", 2);
    used += 2;
    size_t keep = strnlen (old, sizeof err->msg - used - 1);
    memcpy (err->msg + used, old, keep);
    err->msg[used + keep] = '\0';
}

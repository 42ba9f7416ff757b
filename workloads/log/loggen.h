/* loggen.h: a deterministic generator of dev-server output, the kind of lines Brummer stores:
 * request logs, HMR and build lines (webpack, vite, tsc), test runner output (jest, mocha),
 * errors followed by stack traces, server URLs in ANSI colours, warnings and long JSON lines.
 * The same seed gives the same lines on every host. */
#ifndef FB_LOGGEN_H
#define FB_LOGGEN_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fb_loggen fb_loggen_t; /* opaque */

#define FB_LOGGEN_LONG_BYTES 1500 /* about how long the long lines are */

/* NULL and err filled when memory cannot be had. */
fb_loggen_t *fb_loggen_new (uint64_t seed, fb_err_t *err);
void fb_loggen_destroy (fb_loggen_t **self_p);

/* Writes the next line (no newline, NUL-terminated, cut to buf_len - 1) into buf; returns its
 * length. An error line is followed by its stack frames on the next calls. No allocation. */
size_t fb_loggen_next (fb_loggen_t *self, char *buf, size_t buf_len);

#endif

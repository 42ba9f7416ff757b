/* logdetect.h: per-line detection as Brummer does it (internal/logs/detector.go and store.go):
 * error lines, build and test events, and http(s) URLs found after ANSI escapes are stripped.
 * Two engines compute the same flags: FB_LOGDETECT_REGEX compiles Brummer's patterns with POSIX
 * regcomp (REG_EXTENDED | REG_ICASE), FB_LOGDETECT_FAST is a hand-written equivalent (one
 * ASCII lower-casing pass, then memmem and small scanners). A detector keeps scratch buffers
 * for one line at a time, so each thread needs its own. */
#ifndef FB_LOGDETECT_H
#define FB_LOGDETECT_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* The longest line a detector (and the store) takes. */
#define FB_LOGDETECT_LINE_BYTES_MAX 65536

/* Detection flags of one line (computed here, after Brummer's detector.go and
 * store.go). */
enum {
    FB_LOG_ERROR = 1u << 0,     /* an error pattern: "error:", "failed to", "panic:", ... */
    FB_LOG_CRITICAL = 1u << 1,  /* "fatal", "panic" or "critical" */
    FB_LOG_WARNING = 1u << 2,   /* "warn" */
    FB_LOG_BUILD = 1u << 3,     /* a build event: "compiled successfully", "build failed" */
    FB_LOG_BUILD_OK = 1u << 4,  /* a build event saying "success" or "completed" */
    FB_LOG_TEST_PASS = 1u << 5, /* a test result without "fail", "✗" or "✘" */
    FB_LOG_TEST_FAIL = 1u << 6, /* a test result with one of them */
    FB_LOG_URL = 1u << 7,       /* an http(s) URL, found after ANSI escapes are stripped */
    FB_LOG_TRUNCATED = 1u << 8, /* the line was longer than line_bytes and was cut */
};

typedef struct fb_logdetect fb_logdetect_t; /* opaque */

enum {
    FB_LOGDETECT_FAST = 0,  /* hand-written scanners */
    FB_LOGDETECT_REGEX = 1, /* POSIX regex.h, one regex per Brummer pattern */
};

/* One URL found in a line: offset and length in the detector's stripped copy of the line,
 * valid until the next call (fb_logdetect_stripped). */
typedef struct {
    size_t offset;
    size_t len;
} fb_logdetect_url_t;

#define FB_LOGDETECT_URLS_MAX 8 /* URLs reported per line; more are counted, not listed */

/* engine: FB_LOGDETECT_FAST or FB_LOGDETECT_REGEX. max_line_bytes: the longest line it will be
 * given (longer ones are looked at up to that many bytes). NULL and err filled on failure. */
fb_logdetect_t *fb_logdetect_new (int engine, size_t max_line_bytes, fb_err_t *err);
void fb_logdetect_destroy (fb_logdetect_t **self_p);

/* The FB_LOG_* flags of one line (FB_LOG_TRUNCATED is never set here). URLs, trimmed as
 * Brummer trims them, go to urls (at most max_urls, may be NULL) and their number to *n_urls
 * (may be NULL). Allocation-free. */
uint32_t fb_logdetect_line (fb_logdetect_t *self, const char *line, size_t len,
                            fb_logdetect_url_t *urls, int max_urls, int *n_urls);

/* The line of the last call with ANSI colour escapes (ESC [ digits/semicolons m) removed;
 * URLs' offsets point into it. NUL-terminated. */
const char *fb_logdetect_stripped (const fb_logdetect_t *self, size_t *len);

/* Strips ANSI colour escapes from src into dst (at most dst_len - 1 bytes, NUL-terminated);
 * returns the bytes written. Hand-written, the same rule as Brummer's `\x1b\[[0-9;]*m`. */
size_t fb_logdetect_strip_ansi (const char *src, size_t len, char *dst, size_t dst_len);

#endif

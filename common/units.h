/* units.h: strict parsing and printing of the units scenario files use. Nothing is guessed:
 * a duration without a unit is an error. Sizes are binary (1 KB = 1024 B). */
#ifndef FB_UNITS_H
#define FB_UNITS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* "250ns", "10us", "1.5ms", "5s", "2m" -> ns. Negative, missing unit or overflow: error. */
int fb_units_duration_ns (const char *text, int64_t *ns, fb_err_t *err);
/* "20000/s", "50/ms", "120/m" -> operations per second (> 0). */
int fb_units_rate_per_s (const char *text, double *per_s, fb_err_t *err);
/* "512B", "64KB", "50MB", "1GB" -> bytes. */
int fb_units_size_bytes (const char *text, int64_t *bytes, fb_err_t *err);
/* "20%", "0.1%" -> fraction (0.2, 0.001). */
int fb_units_percent (const char *text, double *fraction, fb_err_t *err);
/* A plain decimal integer ("500", "-3"), whole string, no unit. */
int fb_units_integer (const char *text, int64_t *value, fb_err_t *err);
/* A plain decimal number ("0.5", "1e3"), whole string. */
int fb_units_number (const char *text, double *value, fb_err_t *err);

/* Human text for people: "812ns", "12.3us", "4.56ms", "1.23s". Returns buf. */
const char *fb_units_format_ns (double ns, char *buf, size_t size);
/* "512B", "1.5KB", "48.2MB". Returns buf. */
const char *fb_units_format_bytes (double bytes, char *buf, size_t size);

#endif

/* units.c: strict parsing and printing of durations, rates, sizes and percentages.
 * A value is a decimal number ("10", "1.5") followed directly by its unit; nothing is guessed,
 * so "10" is not a duration and "10 ms" (with a space) is not either. */
#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *suffix;
    double scale; /* base units per one of this unit */
} s_unit_t;

static const s_unit_t s_durations[] = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6},
                                       {"s", 1e9},  {"m", 60e9}, {NULL, 0}};
/* Rates are written per unit of time; the scale turns them into per second. */
static const s_unit_t s_rates[] = {{"/s", 1.0}, {"/ms", 1e3}, {"/m", 1.0 / 60.0}, {NULL, 0}};
static const s_unit_t s_sizes[] = {{"B", 1.0},
                                   {"KB", 1024.0},
                                   {"MB", 1024.0 * 1024.0},
                                   {"GB", 1024.0 * 1024.0 * 1024.0},
                                   {NULL, 0}};
static const s_unit_t s_percents[] = {{"%", 0.01}, {NULL, 0}};

/* The largest value an int64 result may take, kept a little below 2^63 so that rounding the
 * double can never overflow. */
#define S_INT64_LIMIT 9.2e18

/* Copies text for an error message: at most 40 characters, control bytes escaped. */
static const char *s_quote (const char *text, char *buf, size_t size) {
    size_t at = 0;
    for (const char *p = text; *p && at + 8 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (p - text >= 40) {
            at += (size_t)snprintf (buf + at, size - at, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            at += (size_t)snprintf (buf + at, size - at, c < 0x20 || c == 0x7f ? "\\x%02x" : "\\%c",
                                    c);
        else
            buf[at++] = (char)c;
    }
    buf[at] = '\0';
    return buf;
}

/* Reads "123" or "1.5" at the start of text: digits first, at most one '.', which must be
 * followed by a digit. Returns the number of bytes read, 0 when there is no number. */
static size_t s_decimal (const char *text, double *value) {
    size_t at = 0;
    while (isdigit ((unsigned char)text[at]))
        at++;
    if (at == 0)
        return 0;
    if (text[at] == '.') {
        if (!isdigit ((unsigned char)text[at + 1]))
            return 0;
        at++;
        while (isdigit ((unsigned char)text[at]))
            at++;
    }
    char copy[64];
    if (at >= sizeof copy)
        *value = HUGE_VAL; /* too many digits for anything we measure */
    else {
        memcpy (copy, text, at);
        copy[at] = '\0';
        *value = strtod (copy, NULL);
    }
    return at;
}

/* Number followed by exactly one of units. what names the kind of value for messages. */
static int s_with_unit (const char *text, const s_unit_t *units, const char *what,
                        const char *unit_list, double *base, fb_err_t *err) {
    char q[64];
    if (!text || !*text)
        return fb_err_set (err, FB_EINPUT, "expected a %s with a unit (%s), got nothing", what,
                           unit_list);
    if (text[0] == '-')
        return fb_err_set (err, FB_EINPUT, "expected a %s that is not negative, got \"%s\"", what,
                           s_quote (text, q, sizeof q));
    double number = 0;
    size_t at = s_decimal (text, &number);
    if (at == 0)
        return fb_err_set (err, FB_EINPUT, "expected a %s with a unit (%s), got \"%s\"", what,
                           unit_list, s_quote (text, q, sizeof q));
    const char *unit = text + at;
    for (int i = 0; units[i].suffix; i++) {
        if (strcmp (unit, units[i].suffix) != 0)
            continue;
        double value = number * units[i].scale;
        if (!isfinite (value) || value > S_INT64_LIMIT)
            return fb_err_set (err, FB_EINPUT, "%s \"%s\" is too large", what,
                               s_quote (text, q, sizeof q));
        *base = value;
        return 0;
    }
    if (*unit == '\0')
        return fb_err_set (err, FB_EINPUT, "expected a %s with a unit (%s), got \"%s\"", what,
                           unit_list, s_quote (text, q, sizeof q));
    char uq[64];
    return fb_err_set (err, FB_EINPUT,
                       "expected a %s with a unit (%s), got \"%s\" (unknown unit \"%s\")", what,
                       unit_list, s_quote (text, q, sizeof q), s_quote (unit, uq, sizeof uq));
}

int fb_units_duration_ns (const char *text, int64_t *ns, fb_err_t *err) {
    double value;
    if (s_with_unit (text, s_durations, "duration", "ns, us, ms, s, m", &value, err) != 0)
        return -1;
    *ns = llround (value);
    return 0;
}

int fb_units_rate_per_s (const char *text, double *per_s, fb_err_t *err) {
    double value;
    if (s_with_unit (text, s_rates, "rate", "/s, /ms, /m", &value, err) != 0)
        return -1;
    if (value <= 0) {
        char q[64];
        return fb_err_set (err, FB_EINPUT, "expected a rate above zero, got \"%s\"",
                           s_quote (text, q, sizeof q));
    }
    *per_s = value;
    return 0;
}

int fb_units_size_bytes (const char *text, int64_t *bytes, fb_err_t *err) {
    double value;
    if (s_with_unit (text, s_sizes, "size", "B, KB, MB, GB", &value, err) != 0)
        return -1;
    *bytes = llround (value);
    return 0;
}

int fb_units_percent (const char *text, double *fraction, fb_err_t *err) {
    return s_with_unit (text, s_percents, "percentage", "%", fraction, err);
}

int fb_units_integer (const char *text, int64_t *value, fb_err_t *err) {
    char q[64];
    const char *digits = text && text[0] == '-' ? text + 1 : text;
    if (!text || !*text)
        return fb_err_set (err, FB_EINPUT, "expected an integer, got nothing");
    for (const char *p = digits; *p; p++)
        if (!isdigit ((unsigned char)*p))
            return fb_err_set (err, FB_EINPUT, "expected an integer such as 500, got \"%s\"",
                               s_quote (text, q, sizeof q));
    if (*digits == '\0')
        return fb_err_set (err, FB_EINPUT, "expected an integer such as 500, got \"%s\"",
                           s_quote (text, q, sizeof q));
    errno = 0;
    long long parsed = strtoll (text, NULL, 10);
    if (errno == ERANGE)
        return fb_err_set (err, FB_EINPUT, "integer \"%s\" is too large",
                           s_quote (text, q, sizeof q));
    *value = parsed;
    return 0;
}

int fb_units_number (const char *text, double *value, fb_err_t *err) {
    char q[64];
    if (!text || !*text)
        return fb_err_set (err, FB_EINPUT, "expected a number, got nothing");
    /* strtod alone would also take "inf", "nan", hex and leading blanks. */
    const char *p = text[0] == '-' ? text + 1 : text;
    bool ok = isdigit ((unsigned char)*p) || (*p == '.' && isdigit ((unsigned char)p[1]));
    for (; ok && *p; p++)
        ok = isdigit ((unsigned char)*p) || strchr (".eE+-", *p) != NULL;
    char *end = NULL;
    errno = 0;
    double parsed = ok ? strtod (text, &end) : 0;
    if (!ok || *end != '\0')
        return fb_err_set (err, FB_EINPUT, "expected a number such as 0.5, got \"%s\"",
                           s_quote (text, q, sizeof q));
    if (errno == ERANGE || !isfinite (parsed))
        return fb_err_set (err, FB_EINPUT, "number \"%s\" is out of range",
                           s_quote (text, q, sizeof q));
    *value = parsed;
    return 0;
}

/* Three significant digits in the largest unit that keeps the value at least 1, trailing
 * zeros dropped: 1.50 -> "1.5", 2.00 -> "2". */
static const char *s_format3 (double value, const s_unit_t *units, int n_units, char *buf,
                              size_t size) {
    int u = 0;
    while (u + 1 < n_units && fabs (value) >= units[u + 1].scale * 0.9995)
        u++;
    double scaled = value / units[u].scale;
    double mag = fabs (scaled);
    int decimals = u == 0 ? 0 : mag < 9.995 ? 2 : mag < 99.95 ? 1 : 0;
    snprintf (buf, size, "%.*f", decimals, scaled);
    if (decimals > 0) {
        char *end = buf + strlen (buf) - 1;
        while (*end == '0')
            *end-- = '\0';
        if (*end == '.')
            *end = '\0';
    }
    size_t len = strlen (buf);
    if (len < size)
        snprintf (buf + len, size - len, "%s", units[u].suffix);
    return buf;
}

const char *fb_units_format_ns (double ns, char *buf, size_t size) {
    /* Seconds stay the top unit: "90s" reads better in a latency table than "1.5m". */
    return s_format3 (ns, s_durations, 4, buf, size);
}

const char *fb_units_format_bytes (double bytes, char *buf, size_t size) {
    return s_format3 (bytes, s_sizes, 4, buf, size);
}

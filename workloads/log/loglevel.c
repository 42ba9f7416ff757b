/* loglevel.c: Brummer's store-side level, tags and priority (see loglevel.h). */
#include "workloads/log/loglevel.h"

#include <stdlib.h>
#include <string.h>

const char *fb_log_to_lower (const char *s, size_t len, bool *owned) {
    /* Go's first pass runs to the end of an ASCII line; a line with a non-ASCII byte goes to
     * strings.Map, which also reads it all and copies only once a letter changes */
    bool upper = false;
    for (size_t i = 0; i < len; i++) /* every byte read and tested, as Go's loop does */
        upper |= (unsigned char)(s[i] - 'A') < 26;
    *owned = upper;
    if (!upper)
        return s;
    char *lower = malloc (len + 1);
    if (!lower)
        return NULL;
    for (size_t i = 0; i < len; i++)
        lower[i] = fb_log_lower_ascii (s[i]);
    lower[len] = '\0';
    return lower;
}

/* detectLogLevel */
static void s_level (const char *lower, size_t len, bool is_error, fb_loglevel_t *out) {
    if (is_error || fb_log_has (lower, len, "error") || fb_log_has (lower, len, "failed"))
        out->level = FB_LEVEL_ERROR;
    else if (fb_log_has (lower, len, "critical") || fb_log_has (lower, len, "fatal"))
        out->level = FB_LEVEL_CRITICAL;
    else if (fb_log_has (lower, len, "warn") || fb_log_has (lower, len, "warning"))
        out->level = FB_LEVEL_WARN;
    else if (fb_log_has (lower, len, "debug"))
        out->level = FB_LEVEL_DEBUG;
    else
        out->level = FB_LEVEL_INFO;
}

/* extractTags */
static void s_tags (const char *lower, size_t len, bool is_error, fb_loglevel_t *out) {
    (void)is_error;
    static const struct {
        const char *word;
        uint32_t tag;
    } words[] = {{"build", FB_TAG_BUILD},     {"test", FB_TAG_TEST},       {"lint", FB_TAG_LINT},
                 {"compile", FB_TAG_COMPILE}, {"warning", FB_TAG_WARNING}, {"error", FB_TAG_ERROR}};
    out->tags = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (fb_log_has (lower, len, words[i].word))
            out->tags |= words[i].tag;
}

/* calculatePriority, without filters */
static void s_priority (const char *lower, size_t len, bool is_error, fb_loglevel_t *out) {
    int priority = is_error ? 50 : 0;
    priority += fb_log_has (lower, len, "failed") ? 40 : 0;
    priority += fb_log_has (lower, len, "error") ? 30 : 0;
    priority += fb_log_has (lower, len, "warning") ? 20 : 0;
    priority += fb_log_has (lower, len, "build") ? 10 : 0;
    if (fb_log_has (lower, len, "test") &&
        (fb_log_has (lower, len, "fail") || fb_log_has (lower, len, "pass")))
        priority += 15;
    out->priority = priority;
}

typedef void (s_part_fn) (const char *lower, size_t len, bool is_error, fb_loglevel_t *out);

int fb_loglevel_line (const char *line, size_t len, bool is_error, fb_loglevel_t *out) {
    static s_part_fn *const parts[] = {s_level, s_tags, s_priority};
    *out = (fb_loglevel_t){.level = is_error ? FB_LEVEL_ERROR : FB_LEVEL_INFO,
                           .priority = is_error ? 50 : 0};
    /* each of Brummer's three functions lower-cases the line for itself */
    fb_loglevel_t no_memory = *out;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        bool owned;
        const char *lower = fb_log_to_lower (line, len, &owned);
        if (!lower) {
            *out = no_memory;
            return -1;
        }
        parts[i](lower, len, is_error, out);
        if (owned)
            free ((char *)lower);
    }
    return 0;
}

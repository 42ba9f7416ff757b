/* loglevel.h: what Brummer's store works out for every line it stores, besides URLs
 * (internal/logs/store.go: detectLogLevel, extractTags, calculatePriority), worked out the way
 * store.go does it: each of the three lower-cases its own copy of the line, as Go's
 * strings.ToLower does (a new string when a letter changes, the line itself otherwise), then
 * looks for each of its words in turn (strings.Contains). Upper case is folded for ASCII only:
 * where Go applies Unicode's rules to a non-ASCII letter, the byte is kept (and a line whose
 * only upper-case letters are non-ASCII is not copied). Brummer's filters (a priority boost per
 * matching filter) are not modelled: the model's store has none. */
#ifndef FB_LOGLEVEL_H
#define FB_LOGLEVEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Brummer's LogLevel, in its order. */
enum { FB_LEVEL_DEBUG, FB_LEVEL_INFO, FB_LEVEL_WARN, FB_LEVEL_ERROR, FB_LEVEL_CRITICAL };

/* Brummer's tags (a []string there, a bit each here). */
enum {
    FB_TAG_BUILD = 1u << 0,
    FB_TAG_TEST = 1u << 1,
    FB_TAG_LINT = 1u << 2,
    FB_TAG_COMPILE = 1u << 3,
    FB_TAG_WARNING = 1u << 4,
    FB_TAG_ERROR = 1u << 5,
};

typedef struct {
    int level;     /* FB_LEVEL_* */
    uint32_t tags; /* FB_TAG_* */
    int priority;  /* Brummer's sum: 50 is_error, 40 "failed", 30 "error", ... */
} fb_loglevel_t;

/* One byte lower-cased as Go's ASCII path does: A-Z to a-z, every other byte as it is. */
static inline char fb_log_lower_ascii (char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* strings.Contains: whether word (NUL-terminated) occurs in the len bytes at s. */
static inline bool fb_log_has (const char *s, size_t len, const char *word) {
    return memmem (s, len, word, strlen (word)) != NULL;
}

/* Go's strings.ToLower as the store uses it: the line itself when no (ASCII) letter in it is
 * upper case (*owned false), else a new lower-cased, NUL-terminated copy (*owned true: the
 * caller frees it). NULL when no memory. */
const char *fb_log_to_lower (const char *s, size_t len, bool *owned);

/* One line's level, tags and priority. is_error is the caller's flag (Brummer's isError).
 * 0 done; -1 out of memory for a lower-cased copy (out then holds what is_error alone gives:
 * level info or error, no tags, priority 0 or 50). */
int fb_loglevel_line (const char *line, size_t len, bool is_error, fb_loglevel_t *out);

#endif

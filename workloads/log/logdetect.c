/* logdetect.c: Brummer's per-line detection, twice: with POSIX regexes compiled from its
 * patterns (detector.go, store.go's urlRegex and ansiRegex) and with hand-written scanners that
 * give the same flags. Keyword checks that Brummer itself does with strings.Contains on the
 * lower-cased line (log level, build success, test failure) are lower-case + memmem in both. */
#include "workloads/log/logdetect.h"
#include "workloads/log/loglevel.h"

#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* detector.go's patterns, all (?i). \d is [0-9] in POSIX. */
static const char *const s_error_patterns[] = {
    "error:", "failed to", "cannot find", "undefined", "exception:", "fatal:", "panic:", NULL};
static const char *const s_build_patterns[] = {"build (completed|succeeded|failed)",
                                               "compilation (completed|succeeded|failed)",
                                               "webpack.*built",
                                               "bundle.*generated",
                                               "compiled successfully",
                                               "build error",
                                               NULL};
static const char *const s_test_patterns[] = {"([0-9]+) (test|tests?) (passed|failed)",
                                              "\xe2\x9c\x93|\xe2\x9c\x97|\xe2\x9c\x94|\xe2\x9c\x98",
                                              "PASS:|FAIL:",
                                              "test suite (passed|failed)",
                                              "([0-9]+) passing",
                                              "([0-9]+) failing",
                                              NULL};
/* store.go: `https?://[^\s<>"{}|\\^\[\]` + "`" + `]+` (Go's \s: tab, newline, form feed,
 * carriage return, space) and `\x1b\[[0-9;]*m`. */
#define S_URL_REGEX "https?://[^] \t\n\f\r<>\"{}|\\^`[]+"
#define S_ANSI_REGEX "\x1b\\[[0-9;]*m"

#define S_MAX_PATTERNS 8

struct fb_logdetect {
    int engine;
    size_t max_line; /* bytes looked at per line */
    char *lower;     /* the line, ASCII lower-cased */
    char *raw;       /* the line, NUL-terminated, for regexec */
    char *stripped;  /* the line without ANSI escapes, where URLs are found */
    size_t lower_len, stripped_len;
    regex_t error_re[S_MAX_PATTERNS], build_re[S_MAX_PATTERNS], test_re[S_MAX_PATTERNS];
    int n_error, n_build, n_test;
    regex_t url_re, ansi_re;
    bool url_ok, ansi_ok;
    uint32_t by_first[256]; /* fast: the words (bits) that start with each byte */
    size_t word_len[32];
};

/* ---- shared helpers --------------------------------------------------------------------- */

static bool s_is_digit (char c) { return c >= '0' && c <= '9'; }

static bool s_starts (const char *p, const char *end, const char *word) {
    size_t n = strlen (word);
    return (size_t)(end - p) >= n && memcmp (p, word, n) == 0;
}

/* Go's \s plus the characters urlRegex excludes. */
static bool s_url_stop (unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '<' || c == '>' ||
           c == '"' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' || c == '[' ||
           c == ']' || c == '`';
}

/* Flags Brummer derives with strings.Contains on the lower-cased line: level (store.go's
 * detectLogLevel), build success and test failure (detector.go). */
static uint32_t s_keyword_flags (const char *lower, size_t len) {
    uint32_t flags = 0;
    if (fb_log_has (lower, len, "error") || fb_log_has (lower, len, "failed"))
        flags |= FB_LOG_ERROR;
    if (fb_log_has (lower, len, "fatal") || fb_log_has (lower, len, "panic") ||
        fb_log_has (lower, len, "critical"))
        flags |= FB_LOG_CRITICAL;
    if (fb_log_has (lower, len, "warn"))
        flags |= FB_LOG_WARNING;
    return flags;
}

static uint32_t s_event_flags (const char *lower, size_t len, bool build, bool test) {
    uint32_t flags = 0;
    if (build) {
        flags |= FB_LOG_BUILD;
        if (fb_log_has (lower, len, "success") || fb_log_has (lower, len, "completed"))
            flags |= FB_LOG_BUILD_OK;
    }
    if (test) {
        bool failed = fb_log_has (lower, len, "fail") || fb_log_has (lower, len, "\xe2\x9c\x97") ||
                      fb_log_has (lower, len, "\xe2\x9c\x98");
        flags |= failed ? FB_LOG_TEST_FAIL : FB_LOG_TEST_PASS;
    }
    return flags;
}

/* store.go's detectURLs after the regex match, then isValidURL: trailing punctuation off, a
 * bare trailing colon ("http://localhost:") refused, an empty host or port refused. Adjusts
 * *len; false when the URL is dropped. */
static bool s_url_trim (const char *url, size_t *len) {
    size_t n = *len;
    while (n > 0 && url[n - 1] != '\0' && strchr (".,;!?)", url[n - 1]))
        n--;
    const char *proto = memmem (url, n, "://", 3);
    if (!proto)
        return false;
    size_t host = (size_t)(proto - url) + 3;
    if (n > 0 && url[n - 1] == ':') {
        int colons = 0;
        for (size_t i = host; i < n; i++)
            colons += url[i] == ':';
        if (colons == 1)
            return false;
        n--;
        if (n > host && url[n - 1] == ':')
            return false;
    }
    if (n <= host)
        return false;
    const char *colon = memchr (url + host, ':', n - host);
    if (colon) {
        size_t after = n - (size_t)(colon + 1 - url);
        if (after == 0 || (after == 1 && colon[1] == '/'))
            return false;
    }
    *len = n;
    return true;
}

static int s_add_url (const char *text, size_t start, size_t len, fb_logdetect_url_t *urls,
                      int max_urls, int n) {
    if (!s_url_trim (text + start, &len))
        return n;
    if (urls && n < max_urls)
        urls[n] = (fb_logdetect_url_t){.offset = start, .len = len};
    return n + 1;
}

size_t fb_logdetect_strip_ansi (const char *src, size_t len, char *dst, size_t dst_len) {
    size_t out = 0;
    for (size_t i = 0; i < len && out + 1 < dst_len;) {
        if (src[i] == '\x1b' && i + 1 < len && src[i + 1] == '[') {
            size_t j = i + 2;
            while (j < len && (s_is_digit (src[j]) || src[j] == ';'))
                j++;
            if (j < len && src[j] == 'm') {
                i = j + 1;
                continue;
            }
        }
        dst[out++] = src[i++];
    }
    if (dst_len > 0)
        dst[out] = '\0';
    return out;
}

/* ---- the hand-written engine ------------------------------------------------------------ */

/* "(\d+) (test|tests?) (passed|failed)" */
static bool s_fast_test_count (const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem (p, (size_t)(end - p), "test", 4)); p++) {
        if (p - s < 2 || p[-1] != ' ' || !s_is_digit (p[-2]))
            continue;
        const char *q = p + 4;
        if (q < end && *q == 's')
            q++;
        if (q < end && *q == ' ' &&
            (s_starts (q + 1, end, "passed") || s_starts (q + 1, end, "failed")))
            return true;
    }
    return false;
}

/* "(\d+) <word>": word (with its leading space) right after a digit. */
static bool s_fast_count_word (const char *s, size_t len, const char *word) {
    const char *end = s + len;
    size_t n = strlen (word);
    for (const char *p = s; (p = memmem (p, (size_t)(end - p), word, n)); p++)
        if (p > s && s_is_digit (p[-1]))
            return true;
    return false;
}

/* "<lead> (w1|w2|w3)" */
static bool s_fast_lead_word (const char *s, size_t len, const char *lead,
                              const char *const *words) {
    const char *end = s + len;
    size_t n = strlen (lead);
    for (const char *p = s; (p = memmem (p, (size_t)(end - p), lead, n)); p++)
        for (int i = 0; words[i]; i++)
            if (s_starts (p + n, end, words[i]))
                return true;
    return false;
}

/* "a.*b" */
static bool s_fast_then (const char *s, size_t len, const char *a, const char *b) {
    const char *p = memmem (s, len, a, strlen (a));
    return p && memmem (p + strlen (a), len - (size_t)(p - s) - strlen (a), b, strlen (b));
}

static bool s_fast_checkmark (const char *s, size_t len) {
    const char *end = s + len;
    for (const char *p = s; (p = memmem (p, (size_t)(end - p), "\xe2\x9c", 2)); p++)
        if (p + 2 < end && strchr ("\x93\x97\x94\x98", p[2]) && p[2] != '\0')
            return true;
    return false;
}

/* The words of every pattern, found in one pass over the lower-cased line (a bit per word);
 * the patterns with structure ("build (completed|...)", "(\\d+) passing") are then checked
 * only when their words are there. */
enum {
    W_ERROR,
    W_FAILED,
    W_FATAL,
    W_PANIC,
    W_CRITICAL,
    W_WARN,
    W_CANNOT_FIND,
    W_UNDEFINED,
    W_EXCEPTION,
    W_FATAL_C,
    W_PANIC_C,
    W_BUILD,
    W_COMPILATION,
    W_WEBPACK,
    W_BUNDLE,
    W_COMPILED_OK,
    W_BUILD_ERROR,
    W_SUCCESS,
    W_COMPLETED,
    W_FAIL,
    W_PASS_C,
    W_FAIL_C,
    W_TEST,
    W_PASSING,
    W_FAILING,
    W_MARK,
    W_COUNT
};
static const char *const s_words[W_COUNT] = {
    "error",        "failed",  "fatal",       "panic",
    "critical",     "warn",    "cannot find", "undefined",
    "exception:",   "fatal:",  "panic:",      "build ",
    "compilation ", "webpack", "bundle",      "compiled successfully",
    "build error",  "success", "completed",   "fail",
    "pass:",        "fail:",   "test",        "passing",
    "failing",      "\xe2\x9c"};
#define W(k) (1u << (k))

static uint32_t s_scan_words (const fb_logdetect_t *self, const char *l, size_t n) {
    uint32_t found = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t m = self->by_first[(unsigned char)l[i]] & ~found;
        while (m) {
            int k = __builtin_ctz (m);
            m &= m - 1;
            if (n - i >= self->word_len[k] && memcmp (l + i, s_words[k], self->word_len[k]) == 0)
                found |= W (k);
        }
    }
    return found;
}

static uint32_t s_fast_flags (const fb_logdetect_t *self, const char *l, size_t n) {
    static const char *const done[] = {"completed", "succeeded", "failed", NULL};
    static const char *const verdict[] = {"passed", "failed", NULL};
    uint32_t w = s_scan_words (self, l, n), flags = 0;
    if (w & (W (W_ERROR) | W (W_FAILED) | W (W_CANNOT_FIND) | W (W_UNDEFINED) | W (W_EXCEPTION) |
             W (W_FATAL_C) | W (W_PANIC_C)))
        flags |= FB_LOG_ERROR;
    if (w & (W (W_FATAL) | W (W_PANIC) | W (W_CRITICAL)))
        flags |= FB_LOG_CRITICAL;
    if (w & W (W_WARN))
        flags |= FB_LOG_WARNING;
    bool build = (w & (W (W_COMPILED_OK) | W (W_BUILD_ERROR))) ||
                 ((w & W (W_BUILD)) && s_fast_lead_word (l, n, "build ", done)) ||
                 ((w & W (W_COMPILATION)) && s_fast_lead_word (l, n, "compilation ", done)) ||
                 ((w & W (W_WEBPACK)) && s_fast_then (l, n, "webpack", "built")) ||
                 ((w & W (W_BUNDLE)) && s_fast_then (l, n, "bundle", "generated"));
    bool test = (w & (W (W_PASS_C) | W (W_FAIL_C))) ||
                ((w & W (W_MARK)) && s_fast_checkmark (l, n)) ||
                ((w & W (W_TEST)) &&
                 (s_fast_test_count (l, n) || s_fast_lead_word (l, n, "test suite ", verdict))) ||
                ((w & W (W_PASSING)) && s_fast_count_word (l, n, " passing")) ||
                ((w & W (W_FAILING)) && s_fast_count_word (l, n, " failing"));
    if (build) {
        flags |= FB_LOG_BUILD;
        if (w & (W (W_SUCCESS) | W (W_COMPLETED)))
            flags |= FB_LOG_BUILD_OK;
    }
    if (test) {
        bool failed = (w & W (W_FAIL)) || ((w & W (W_MARK)) && (fb_log_has (l, n, "\xe2\x9c\x97") ||
                                                                fb_log_has (l, n, "\xe2\x9c\x98")));
        flags |= failed ? FB_LOG_TEST_FAIL : FB_LOG_TEST_PASS;
    }
    return flags;
}

static int s_fast_urls (const char *s, size_t len, fb_logdetect_url_t *urls, int max_urls) {
    int n = 0;
    const char *end = s + len;
    for (const char *p = s; p < end && (p = memmem (p, (size_t)(end - p), "http", 4));) {
        const char *q = p + 4;
        if (q < end && *q == 's')
            q++;
        if (!s_starts (q, end, "://") || q + 3 >= end || s_url_stop ((unsigned char)q[3])) {
            p++;
            continue;
        }
        q += 3;
        while (q < end && !s_url_stop ((unsigned char)*q))
            q++;
        n = s_add_url (s, (size_t)(p - s), (size_t)(q - p), urls, max_urls, n);
        p = q;
    }
    return n;
}

/* ---- the POSIX regex engine ------------------------------------------------------------- */

static int s_compile_all (regex_t *res, int *n, const char *const *patterns, fb_err_t *err) {
    for (*n = 0; patterns[*n]; (*n)++) {
        int rc = regcomp (&res[*n], patterns[*n], REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror (rc, &res[*n], msg, sizeof msg);
            return fb_err_set (err, FB_EINPUT, "logdetect: pattern \"%s\": %s", patterns[*n], msg);
        }
    }
    return 0;
}

static bool s_any_match (const regex_t *res, int n, const char *text) {
    for (int i = 0; i < n; i++)
        if (regexec (&res[i], text, 0, NULL, 0) == 0)
            return true;
    return false;
}

static size_t s_regex_strip (fb_logdetect_t *self, const char *raw, size_t len) {
    size_t out = 0, at = 0;
    regmatch_t m[1];
    while (at < len && regexec (&self->ansi_re, raw + at, 1, m, at ? REG_NOTBOL : 0) == 0) {
        memcpy (self->stripped + out, raw + at, (size_t)m[0].rm_so);
        out += (size_t)m[0].rm_so;
        at += (size_t)(m[0].rm_eo > 0 ? m[0].rm_eo : 1);
    }
    if (at < len) {
        memcpy (self->stripped + out, raw + at, len - at);
        out += len - at;
    }
    self->stripped[out] = '\0';
    return out;
}

static int s_regex_urls (fb_logdetect_t *self, fb_logdetect_url_t *urls, int max_urls) {
    int n = 0;
    size_t at = 0, len = self->stripped_len;
    regmatch_t m[1];
    while (at < len &&
           regexec (&self->url_re, self->stripped + at, 1, m, at ? REG_NOTBOL : 0) == 0) {
        n = s_add_url (self->stripped, at + (size_t)m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so),
                       urls, max_urls, n);
        at += (size_t)(m[0].rm_eo > 0 ? m[0].rm_eo : 1);
    }
    return n;
}

static uint32_t s_regex_flags (fb_logdetect_t *self) {
    uint32_t flags = s_keyword_flags (self->lower, self->lower_len);
    if (s_any_match (self->error_re, self->n_error, self->raw))
        flags |= FB_LOG_ERROR;
    bool build = s_any_match (self->build_re, self->n_build, self->raw);
    bool test = s_any_match (self->test_re, self->n_test, self->raw);
    return flags | s_event_flags (self->lower, self->lower_len, build, test);
}

/* ---- public ----------------------------------------------------------------------------- */

static int s_compile (fb_logdetect_t *self, fb_err_t *err) {
    if (s_compile_all (self->error_re, &self->n_error, s_error_patterns, err) != 0 ||
        s_compile_all (self->build_re, &self->n_build, s_build_patterns, err) != 0 ||
        s_compile_all (self->test_re, &self->n_test, s_test_patterns, err) != 0)
        return -1;
    if (regcomp (&self->url_re, S_URL_REGEX, REG_EXTENDED) != 0)
        return fb_err_set (err, FB_EINPUT, "logdetect: the URL regex does not compile");
    self->url_ok = true;
    if (regcomp (&self->ansi_re, S_ANSI_REGEX, REG_EXTENDED) != 0)
        return fb_err_set (err, FB_EINPUT, "logdetect: the ANSI regex does not compile");
    self->ansi_ok = true;
    return 0;
}

fb_logdetect_t *fb_logdetect_new (int engine, size_t max_line_bytes, fb_err_t *err) {
    if (engine != FB_LOGDETECT_FAST && engine != FB_LOGDETECT_REGEX) {
        fb_err_set (err, FB_EINPUT, "logdetect: engine must be fast (0) or regex (1), got %d",
                    engine);
        return NULL;
    }
    if (max_line_bytes == 0 || max_line_bytes > FB_LOGDETECT_LINE_BYTES_MAX) {
        fb_err_set (err, FB_EINPUT, "logdetect: line bytes must be 1..%d (got %zu)",
                    FB_LOGDETECT_LINE_BYTES_MAX, max_line_bytes);
        return NULL;
    }
    fb_logdetect_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "logdetect: out of memory");
        return NULL;
    }
    self->engine = engine;
    self->max_line = max_line_bytes;
    self->lower = malloc (max_line_bytes + 1);
    self->raw = malloc (max_line_bytes + 1);
    self->stripped = malloc (max_line_bytes + 1);
    if (!self->lower || !self->raw || !self->stripped) {
        fb_err_set (err, FB_ENOMEM, "logdetect: out of memory for %zu-byte lines", max_line_bytes);
        fb_logdetect_destroy (&self);
        return NULL;
    }
    for (int k = 0; k < W_COUNT; k++) {
        self->word_len[k] = strlen (s_words[k]);
        self->by_first[(unsigned char)s_words[k][0]] |= W (k);
    }
    if (engine == FB_LOGDETECT_REGEX && s_compile (self, err) != 0)
        fb_logdetect_destroy (&self);
    return self;
}

void fb_logdetect_destroy (fb_logdetect_t **self_p) {
    fb_logdetect_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (int i = 0; i < self->n_error; i++)
        regfree (&self->error_re[i]);
    for (int i = 0; i < self->n_build; i++)
        regfree (&self->build_re[i]);
    for (int i = 0; i < self->n_test; i++)
        regfree (&self->test_re[i]);
    if (self->url_ok)
        regfree (&self->url_re);
    if (self->ansi_ok)
        regfree (&self->ansi_re);
    free (self->lower);
    free (self->raw);
    free (self->stripped);
    free (self);
    *self_p = NULL;
}

uint32_t fb_logdetect_line (fb_logdetect_t *self, const char *line, size_t len,
                            fb_logdetect_url_t *urls, int max_urls, int *n_urls) {
    if (len > self->max_line)
        len = self->max_line;
    for (size_t i = 0; i < len; i++)
        self->lower[i] = fb_log_lower_ascii (line[i]);
    self->lower_len = len;
    uint32_t flags;
    int n;
    if (self->engine == FB_LOGDETECT_FAST) {
        flags = s_fast_flags (self, self->lower, len);
        self->stripped_len =
            fb_logdetect_strip_ansi (line, len, self->stripped, self->max_line + 1);
        n = s_fast_urls (self->stripped, self->stripped_len, urls, max_urls);
    } else {
        memcpy (self->raw, line, len);
        self->raw[len] = '\0';
        flags = s_regex_flags (self);
        self->stripped_len = s_regex_strip (self, self->raw, strlen (self->raw));
        n = s_regex_urls (self, urls, max_urls);
    }
    if (n > 0)
        flags |= FB_LOG_URL;
    if (n_urls)
        *n_urls = n;
    return flags;
}

const char *fb_logdetect_stripped (const fb_logdetect_t *self, size_t *len) {
    if (len)
        *len = self->stripped_len;
    return self->stripped;
}

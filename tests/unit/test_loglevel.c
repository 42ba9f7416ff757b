/* test_loglevel.c: Brummer's store-side level, tags and priority (store.go's detectLogLevel,
 * extractTags, calculatePriority) on lines whose answers follow from Brummer's rules, and the
 * strings.ToLower it is built on: the line itself when nothing changes, else a copy. */
#include "workloads/log/loglevel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    const char *line;
    bool is_error;
    int level;
    uint32_t tags;
    int priority;
} t_case_t;

static const t_case_t s_cases[] = {
    /* "failed" 40 + "error" 30 + "build" 10 */
    {"Build FAILED with 2 ERRORS", false, FB_LEVEL_ERROR, FB_TAG_BUILD | FB_TAG_ERROR, 80},
    /* error comes before critical, warn before debug */
    {"fatal error: out of memory", false, FB_LEVEL_ERROR, FB_TAG_ERROR, 30},
    {"debug warning: slow query", false, FB_LEVEL_WARN, FB_TAG_WARNING, 20},
    {"FATAL: cannot bind", false, FB_LEVEL_CRITICAL, 0, 0},
    {"critical section entered", false, FB_LEVEL_CRITICAL, 0, 0},
    /* "warn" alone is a level, not the tag, which needs "warning" */
    {"npm WARN deprecated", false, FB_LEVEL_WARN, 0, 0},
    {"Warning: unused variable", false, FB_LEVEL_WARN, FB_TAG_WARNING, 20},
    {"[debug] cache hit", false, FB_LEVEL_DEBUG, 0, 0},
    /* test with pass or fail: 15 */
    {"Tests: 12 passed, 12 total", false, FB_LEVEL_INFO, FB_TAG_TEST, 15},
    {"running lint and compile steps", false, FB_LEVEL_INFO, FB_TAG_LINT | FB_TAG_COMPILE, 0},
    {"server listening on :3000", false, FB_LEVEL_INFO, 0, 0},
    /* the caller's flag: error level and 50, whatever the words */
    {"all good", true, FB_LEVEL_ERROR, 0, 50},
    /* non-ASCII lines are lower-cased too (ASCII letters), words still found */
    {"\xe2\x9c\x97 TEST failed", false, FB_LEVEL_ERROR, FB_TAG_TEST, 55},
};

static void test_level_tags_and_priority_follow_brummers_rules (void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const t_case_t *c = &s_cases[i];
        fb_loglevel_t got;
        assert_int_equal (fb_loglevel_line (c->line, strlen (c->line), c->is_error, &got), 0);
        if (got.level != c->level || got.tags != c->tags || got.priority != c->priority)
            fail_msg ("\"%s\": level %d tags %#x priority %d, want %d %#x %d", c->line, got.level,
                      got.tags, got.priority, c->level, c->tags, c->priority);
    }
}

static void test_to_lower_copies_only_when_something_changes (void **state) {
    (void)state;
    const char *plain = "already lower, digits 123";
    bool owned = true;
    assert_ptr_equal (fb_log_to_lower (plain, strlen (plain), &owned), plain);
    assert_false (owned);
    const char *mixed = "Mixed CASE";
    const char *lower = fb_log_to_lower (mixed, strlen (mixed), &owned);
    assert_true (owned);
    assert_string_equal (lower, "mixed case");
    assert_string_equal (mixed, "Mixed CASE"); /* the line is not touched */
    free ((char *)lower);
    /* a non-ASCII line: Go's strings.Map copies it only when a letter changes */
    const char *utf8 = "caf\xc3\xa9 OK";
    lower = fb_log_to_lower (utf8, strlen (utf8), &owned);
    assert_true (owned);
    assert_string_equal (lower, "caf\xc3\xa9 ok");
    free ((char *)lower);
    const char *check = "\xe2\x9c\x93 built in 12 ms";
    assert_ptr_equal (fb_log_to_lower (check, strlen (check), &owned), check);
    assert_false (owned);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_level_tags_and_priority_follow_brummers_rules),
        cmocka_unit_test (test_to_lower_copies_only_when_something_changes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

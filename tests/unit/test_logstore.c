/* test_logstore.c: the log store (append, search, eviction, sync fallback), per-line detection
 * with both engines, and the line generator. Counts and contents, never timings. */
#include "common/clock.h"
#include "workloads/log/logdetect.h"
#include "workloads/log/loggen.h"
#include "workloads/log/logstore.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T_PATIENCE_NS (60 * FB_NS_PER_S)

static fb_logstore_t *s_store (fb_logstore_config_t cfg) {
    fb_err_t err = {0};
    fb_logstore_t *store = fb_logstore_new (&cfg, &err);
    if (!store)
        fail_msg ("fb_logstore_new: %s", err.msg);
    return store;
}

static void s_append (fb_logstore_t *store, int process_id, const char *line) {
    assert_true (fb_logstore_append (store, process_id, line, strlen (line), fb_clock_now_ns ()) >=
                 0);
}

static void s_flush (fb_logstore_t *store) {
    assert_int_equal (fb_logstore_flush (store, T_PATIENCE_NS), 0);
}

static int s_search (fb_logstore_t *store, const char *query, int mode) {
    fb_err_t err = {0};
    int n = fb_logstore_search (store, query, mode, -1, NULL, 0, &err);
    if (n < 0)
        fail_msg ("search \"%s\": %s", query, err.msg);
    return n;
}

static void test_append_then_search_finds_lines (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 100, .detect = true});
    s_append (store, 1, "Hello World");
    s_append (store, 1, "ERROR: disk full");
    s_append (store, 2, "npm ERR! code ELIFECYCLE");
    s_append (store, 2, "error: again");
    s_append (store, 3, "nothing to see");
    s_flush (store);
    assert_int_equal (fb_logstore_count (store), 5);
    assert_int_equal (s_search (store, "error", FB_LOGSTORE_SUBSTR), 2);
    assert_int_equal (s_search (store, "WORLD", FB_LOGSTORE_SUBSTR), 1);
    assert_int_equal (s_search (store, "err", FB_LOGSTORE_SUBSTR), 3);
    assert_int_equal (s_search (store, "absent", FB_LOGSTORE_SUBSTR), 0);
    assert_int_equal (s_search (store, "", FB_LOGSTORE_SUBSTR), 5);
    assert_int_equal (s_search (store, "^err(or)?:", FB_LOGSTORE_REGEX), 2);
    assert_int_equal (s_search (store, "disk|again", FB_LOGSTORE_REGEX), 2);
    assert_int_equal (s_search (store, "e[a-z]+ !", FB_LOGSTORE_REGEX), 0);
    uint64_t hits[4];
    fb_err_t err = {0};
    assert_int_equal (fb_logstore_search (store, "err", FB_LOGSTORE_SUBSTR, 2, hits, 4, &err), 2);
    assert_int_equal (hits[0], 3);
    assert_int_equal (hits[1], 4);
    assert_int_equal (fb_logstore_search (store, "(", FB_LOGSTORE_REGEX, -1, NULL, 0, &err), -1);
    assert_non_null (strstr (err.msg, "bad regex"));
    assert_int_equal (fb_logstore_count_process (store, 2), 2);
    assert_int_equal (fb_logstore_count_process (store, 9), 0);
    fb_logstore_destroy (&store);
    assert_null (store);
}

/* Brummer's Search returns every matching entry, appended to a growing array: past the
 * growth steps (256 entries and beyond) every match is still counted and the first ones come
 * oldest first (the array itself is freed inside the search: under AddressSanitizer this also
 * checks its growth for memory errors). */
static void test_search_counts_every_match_past_the_result_growth (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 1000});
    char line[64];
    for (int i = 0; i < 700; i++) {
        snprintf (line, sizeof line, i % 7 == 6 ? "ok %d" : "Error %d", i);
        s_append (store, i % 3, line);
    }
    s_flush (store);
    uint64_t hits[10];
    fb_err_t err = {0};
    assert_int_equal (fb_logstore_search (store, "ERROR", FB_LOGSTORE_SUBSTR, -1, hits, 10, &err),
                      600);
    for (int k = 0; k < 6; k++)
        assert_int_equal (hits[k], (uint64_t)k + 1);
    assert_int_equal (hits[6], 8); /* the seventh line is "ok" */
    fb_logstore_destroy (&store);
}

/* Each stored line carries what Brummer's addSync works out for its LogEntry: level, tags and
 * priority (with detection; without, info and nothing). */
static void test_stored_lines_carry_brummers_level_tags_and_priority (void **state) {
    (void)state;
    for (int detect = 0; detect < 2; detect++) {
        fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 10, .detect = detect});
        s_append (store, 1, "Build FAILED with 2 ERRORS");
        s_flush (store);
        fb_logstore_entry_t e;
        assert_int_equal (fb_logstore_get (store, 0, NULL, 0, &e), 0);
        assert_int_equal (e.level.level, detect ? FB_LEVEL_ERROR : FB_LEVEL_INFO);
        assert_int_equal (e.level.tags, detect ? FB_TAG_BUILD | FB_TAG_ERROR : 0);
        assert_int_equal (e.level.priority, detect ? 80 : 0);
        fb_logstore_destroy (&store);
    }
}

static void test_ring_eviction_keeps_the_newest_capacity (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 5});
    char line[32];
    for (int i = 0; i < 12; i++) {
        snprintf (line, sizeof line, "line %d", i);
        s_append (store, 0, line);
        s_flush (store); /* one at a time: the order is the append order */
    }
    assert_int_equal (fb_logstore_count (store), 5);
    fb_logstore_entry_t e;
    char text[32];
    assert_int_equal (fb_logstore_get (store, 0, text, sizeof text, &e), 0);
    assert_string_equal (text, "line 7");
    assert_int_equal (e.seq, 8);
    assert_int_equal (fb_logstore_get (store, 4, text, sizeof text, &e), 0);
    assert_string_equal (text, "line 11");
    assert_int_equal (e.seq, 12);
    assert_int_equal (fb_logstore_get (store, 5, text, sizeof text, NULL), -1);
    assert_int_equal (s_search (store, "line 3", FB_LOGSTORE_SUBSTR), 0);
    fb_logstore_stats_t st;
    fb_logstore_stats (store, &st);
    assert_int_equal (st.evicted, 7);
    assert_int_equal (st.stored, 12);
    assert_int_equal (fb_logstore_count_process (store, 0), 5);
    fb_logstore_destroy (&store);
}

static void test_shift_eviction_shows_what_ring_shows (void **state) {
    (void)state;
    fb_logstore_t *ring = s_store ((fb_logstore_config_t){.capacity = 7, .detect = true});
    fb_logstore_t *shift = s_store (
        (fb_logstore_config_t){.capacity = 7, .detect = true, .eviction = FB_LOGSTORE_EVICT_SHIFT});
    char line[64];
    for (int i = 0; i < 50; i++) {
        snprintf (line, sizeof line, "%s line %d from %d", i % 4 ? "info" : "Error:", i, i % 3);
        s_append (ring, i % 3, line);
        s_append (shift, i % 3, line);
        s_flush (ring);
        s_flush (shift);
    }
    assert_int_equal (fb_logstore_count (ring), 7);
    assert_int_equal (fb_logstore_count (shift), 7);
    for (int i = 0; i < 7; i++) {
        char a[64], b[64];
        fb_logstore_entry_t ea, eb;
        assert_int_equal (fb_logstore_get (ring, i, a, sizeof a, &ea), 0);
        assert_int_equal (fb_logstore_get (shift, i, b, sizeof b, &eb), 0);
        assert_string_equal (a, b);
        assert_int_equal (ea.seq, eb.seq);
        assert_int_equal (ea.flags, eb.flags);
        assert_int_equal (ea.process_id, eb.process_id);
    }
    for (int p = 0; p < 3; p++)
        assert_int_equal (fb_logstore_count_process (ring, p),
                          fb_logstore_count_process (shift, p));
    assert_int_equal (s_search (ring, "error", FB_LOGSTORE_SUBSTR),
                      s_search (shift, "error", FB_LOGSTORE_SUBSTR));
    fb_logstore_stats_t st;
    fb_logstore_stats (shift, &st);
    assert_int_equal (st.reindexes, 43);
    fb_logstore_destroy (&ring);
    fb_logstore_destroy (&shift);
}

/* Brummer's byProcess keeps the position of every line ever stored (evicted ones below 0),
 * so each eviction walks more of them: 50 lines through a 7-entry store leave 50 positions.
 * evicted_index: forget keeps only the 7 stored. Both store and find the same lines. */
static void test_shift_index_grows_with_lines_stored_unless_forgotten (void **state) {
    (void)state;
    fb_logstore_t *keep =
        s_store ((fb_logstore_config_t){.capacity = 7, .eviction = FB_LOGSTORE_EVICT_SHIFT});
    fb_logstore_t *forget = s_store ((fb_logstore_config_t){
        .capacity = 7, .eviction = FB_LOGSTORE_EVICT_SHIFT, .forget_evicted = true});
    char line[64];
    fb_logstore_stats_t st;
    for (int i = 0; i < 50; i++) {
        snprintf (line, sizeof line, "line %d from %d", i, i % 3);
        s_append (keep, i % 3, line);
        s_append (forget, i % 3, line);
        s_flush (keep);
        s_flush (forget);
        if (i == 19) {
            fb_logstore_stats (keep, &st);
            assert_int_equal (st.positions, 20);
        }
    }
    fb_logstore_stats (keep, &st);
    assert_int_equal (st.positions, 50);
    fb_logstore_stats (forget, &st);
    assert_int_equal (st.positions, 7);
    for (int p = 0; p < 3; p++)
        assert_int_equal (fb_logstore_count_process (keep, p),
                          fb_logstore_count_process (forget, p));
    assert_int_equal (s_search (keep, "from 1", FB_LOGSTORE_SUBSTR),
                      s_search (forget, "from 1", FB_LOGSTORE_SUBSTR));
    fb_logstore_destroy (&keep);
    fb_logstore_destroy (&forget);
}

/* A detecting ingest thread is far slower than one appender, so a one-slot queue is full
 * almost at once; the test asserts the accounting, whatever the split. */
static void test_full_queue_falls_back_to_sync (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){
        .capacity = 20000, .queue = 1, .detect = true, .detect_engine = FB_LOGDETECT_REGEX});
    const char *line = "\x1b[31mError: connect ECONNREFUSED 127.0.0.1:5432\x1b[0m see "
                       "http://localhost:3000/health for details";
    int n[2] = {0, 0};
    for (int i = 0; i < 10000; i++) {
        int rc = fb_logstore_append (store, 0, line, strlen (line), fb_clock_now_ns ());
        assert_true (rc == 0 || rc == 1);
        n[rc]++;
    }
    s_flush (store);
    fb_logstore_stats_t st;
    fb_logstore_stats (store, &st);
    assert_true (n[1] > 0);
    assert_int_equal (st.sync_stored, n[1]);
    assert_int_equal (st.queued, n[0]);
    assert_int_equal (st.stored, 10000);
    assert_int_equal (st.errors, 10000);
    assert_int_equal (st.urls, 10000);
    assert_int_equal (fb_logstore_count (store), 10000);
    fb_logstore_destroy (&store);
}

/* Go's sync.Mutex: a writer that has waited 1 ms for the lock gets it next. An appender that
 * finds 20 000 lines queued (shift, each line walking a growing index) stores its own line
 * long before the ingest thread is through them, where an unfair lock let the ingest thread
 * keep it batch after batch. */
static void test_a_starving_writer_goes_before_the_queue (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){
        .capacity = 1000, .queue = 20000, .eviction = FB_LOGSTORE_EVICT_SHIFT});
    const char *line = "info: compiled 1 module";
    int rc = 0, appended = 0;
    while (rc == 0 && appended < 100000) {
        rc = fb_logstore_append (store, appended % 4, line, strlen (line), fb_clock_now_ns ());
        appended++;
    }
    assert_int_equal (rc, 1);
    fb_logstore_stats_t st;
    fb_logstore_stats (store, &st);
    assert_int_equal (st.sync_stored, 1);
    assert_true (st.queued > st.stored - st.sync_stored + 1000); /* still queued */
    s_flush (store);
    fb_logstore_stats (store, &st);
    assert_int_equal (st.stored, (uint64_t)appended);
    fb_logstore_destroy (&store);
}

static void test_drop_when_full_drops_and_counts (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 20000,
                                                           .queue = 1,
                                                           .detect = true,
                                                           .drop_when_full = true,
                                                           .detect_engine = FB_LOGDETECT_REGEX});
    const char *line = "webpack 5.88.2 compiled successfully in 1234 ms";
    int dropped = 0;
    for (int i = 0; i < 10000; i++)
        dropped += fb_logstore_append (store, 0, line, strlen (line), fb_clock_now_ns ()) == -1;
    s_flush (store);
    fb_logstore_stats_t st;
    fb_logstore_stats (store, &st);
    assert_true (dropped > 0);
    assert_int_equal (st.dropped, dropped);
    assert_int_equal (st.sync_stored, 0);
    assert_int_equal (fb_logstore_count (store), 10000 - dropped);
    fb_logstore_destroy (&store);
}

static void test_long_lines_are_cut_and_counted (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 4, .line_bytes = 16});
    s_append (store, 0, "0123456789abcdefXYZ-this-is-cut");
    s_flush (store);
    char text[64];
    fb_logstore_entry_t e;
    assert_int_equal (fb_logstore_get (store, 0, text, sizeof text, &e), 0);
    assert_string_equal (text, "0123456789abcdef");
    assert_int_equal (e.len, 16);
    assert_true (e.flags & FB_LOG_TRUNCATED);
    fb_logstore_stats_t st;
    fb_logstore_stats (store, &st);
    assert_int_equal (st.truncated, 1);
    fb_logstore_destroy (&store);
}

static void test_ingest_latency_is_recorded_per_line (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 100});
    for (int i = 0; i < 30; i++)
        s_append (store, 0, "GET /api/users 200 1.234 ms - 512");
    s_flush (store);
    fb_err_t err = {0};
    fb_hist_t *h = fb_hist_new_default (&err);
    assert_non_null (h);
    assert_int_equal (fb_logstore_drain_ingest (store, h, &err), 0);
    assert_int_equal (fb_hist_count (h), 30);
    fb_hist_destroy (&h);
    fb_logstore_destroy (&store);
}

static void test_bad_config_is_refused (void **state) {
    (void)state;
    fb_err_t err = {0};
    assert_null (fb_logstore_new (&(fb_logstore_config_t){.capacity = -1}, &err));
    assert_non_null (strstr (err.msg, "capacity"));
    assert_null (fb_logstore_new (&(fb_logstore_config_t){.eviction = 7}, &err));
    assert_non_null (strstr (err.msg, "eviction"));
    assert_null (fb_logstore_new (&(fb_logstore_config_t){.line_bytes = 1 << 20}, &err));
    assert_non_null (strstr (err.msg, "line_bytes"));
}

/* ---- detection -------------------------------------------------------------------------- */

typedef struct {
    const char *line;
    uint32_t flags;
    const char *url; /* the first URL, or NULL */
} t_case_t;

static const t_case_t s_cases[] = {
    {"plain info line", 0, NULL},
    {"Error: Cannot find module './config'", FB_LOG_ERROR, NULL},
    {"TypeError: undefined is not a function", FB_LOG_ERROR, NULL},
    {"Exception: boom", FB_LOG_ERROR, NULL},
    {"panic: runtime error: index out of range", FB_LOG_ERROR | FB_LOG_CRITICAL, NULL},
    {"FATAL: too many connections", FB_LOG_ERROR | FB_LOG_CRITICAL, NULL},
    {"warning: React Hook useEffect has a missing dependency", FB_LOG_WARNING, NULL},
    {"webpack 5.88.2 compiled successfully in 1234 ms", FB_LOG_BUILD | FB_LOG_BUILD_OK, NULL},
    {"Build failed with 2 errors", FB_LOG_BUILD | FB_LOG_ERROR, NULL},
    {"webpack: bundle built", FB_LOG_BUILD, NULL},
    {"Compilation completed", FB_LOG_BUILD | FB_LOG_BUILD_OK, NULL},
    {"  \xe2\x9c\x93 renders the header (12 ms)", FB_LOG_TEST_PASS, NULL},
    {"  \xe2\x9c\x97 submits the form", FB_LOG_TEST_FAIL, NULL},
    {"Tests: 3 tests failed", FB_LOG_TEST_FAIL | FB_LOG_ERROR, NULL},
    {"  12 passing (340ms)", FB_LOG_TEST_PASS, NULL},
    {"PASS: src/App.test.tsx", FB_LOG_TEST_PASS, NULL},
    {"Test suite passed", FB_LOG_TEST_PASS, NULL},
    {"\x1b[32mhttp://localhost:3000\x1b[0m", FB_LOG_URL, "http://localhost:3000"},
    {"  \xe2\x9e\x9c  \x1b[1mLocal\x1b[22m:   "
     "\x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m",
     FB_LOG_URL, "http://localhost:5173/"},
    {"Server at https://127.0.0.1:8443/app, ok.", FB_LOG_URL, "https://127.0.0.1:8443/app"},
    {"see (http://example.com/docs).", FB_LOG_URL, "http://example.com/docs"},
    {"listening on http://localhost: soon", 0, NULL},
    {"bad http://localhost:/ here", 0, NULL},
    {"http:// nothing", 0, NULL},
};

static void s_check_cases (int engine) {
    fb_err_t err = {0};
    fb_logdetect_t *d = fb_logdetect_new (engine, 512, &err);
    if (!d)
        fail_msg ("fb_logdetect_new: %s", err.msg);
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const t_case_t *c = &s_cases[i];
        fb_logdetect_url_t urls[4];
        int n = -1;
        uint32_t flags = fb_logdetect_line (d, c->line, strlen (c->line), urls, 4, &n);
        if (flags != c->flags)
            fail_msg ("engine %d, \"%s\": flags 0x%x, expected 0x%x", engine, c->line, flags,
                      c->flags);
        assert_int_equal (n, c->url ? 1 : 0);
        if (c->url) {
            const char *stripped = fb_logdetect_stripped (d, NULL);
            assert_int_equal (urls[0].len, strlen (c->url));
            assert_memory_equal (stripped + urls[0].offset, c->url, urls[0].len);
        }
    }
    fb_logdetect_destroy (&d);
    assert_null (d);
}

static void test_fast_detection_on_known_lines (void **state) {
    (void)state;
    s_check_cases (FB_LOGDETECT_FAST);
}

static void test_regex_detection_on_known_lines (void **state) {
    (void)state;
    s_check_cases (FB_LOGDETECT_REGEX);
}

static void test_both_engines_agree_on_generated_output (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_logdetect_t *fast = fb_logdetect_new (FB_LOGDETECT_FAST, 4096, &err);
    fb_logdetect_t *regex = fb_logdetect_new (FB_LOGDETECT_REGEX, 4096, &err);
    fb_loggen_t *gen = fb_loggen_new (42, &err);
    assert_non_null (fast);
    assert_non_null (regex);
    assert_non_null (gen);
    char line[4097];
    int seen[9] = {0};
    for (int i = 0; i < 5000; i++) {
        size_t len = fb_loggen_next (gen, line, sizeof line);
        int na = 0, nb = 0;
        uint32_t a = fb_logdetect_line (fast, line, len, NULL, 0, &na);
        uint32_t b = fb_logdetect_line (regex, line, len, NULL, 0, &nb);
        if (a != b || na != nb)
            fail_msg ("\"%s\": fast 0x%x (%d URLs), regex 0x%x (%d URLs)", line, a, na, b, nb);
        for (int f = 0; f < 9; f++)
            seen[f] += (a >> f) & 1;
    }
    for (int f = 0; f < 8; f++) /* every flag but TRUNCATED occurs in generated output */
        if (seen[f] == 0)
            fail_msg ("flag 0x%x never seen in 5000 generated lines", 1u << f);
    fb_loggen_destroy (&gen);
    fb_logdetect_destroy (&fast);
    fb_logdetect_destroy (&regex);
}

static void test_strip_ansi_removes_colour_escapes_only (void **state) {
    (void)state;
    char out[64];
    const char *in = "\x1b[1;32mok\x1b[0m \x1b[2J \x1b[m!";
    size_t n = fb_logdetect_strip_ansi (in, strlen (in), out, sizeof out);
    assert_string_equal (out, "ok \x1b[2J !");
    assert_int_equal (n, strlen ("ok \x1b[2J !"));
}

static void test_store_keeps_detected_urls_newest_first (void **state) {
    (void)state;
    fb_logstore_t *store = s_store ((fb_logstore_config_t){.capacity = 10, .detect = true});
    s_append (store, 0, "\x1b[32mhttp://localhost:3000\x1b[0m");
    s_flush (store);
    s_append (store, 1, "again: http://localhost:3000"); /* urlMap: one entry, not two */
    s_flush (store);
    s_append (store, 0, "api on http://localhost:8080/api");
    s_flush (store);
    char url[64];
    assert_int_equal (fb_logstore_url (store, 0, url, sizeof url), 0);
    assert_string_equal (url, "http://localhost:8080/api");
    assert_int_equal (fb_logstore_url (store, 1, url, sizeof url), 0);
    assert_string_equal (url, "http://localhost:3000");
    assert_int_equal (fb_logstore_url (store, 2, url, sizeof url), -1);
    fb_logstore_entry_t e;
    assert_int_equal (fb_logstore_get (store, 0, NULL, 0, &e), 0);
    assert_int_equal (e.flags, FB_LOG_URL);
    fb_logstore_destroy (&store);
}

/* ---- generator -------------------------------------------------------------------------- */

static void test_generator_is_deterministic_for_a_seed (void **state) {
    (void)state;
    fb_err_t err = {0};
    fb_loggen_t *a = fb_loggen_new (7, &err), *b = fb_loggen_new (7, &err);
    fb_loggen_t *c = fb_loggen_new (8, &err);
    assert_non_null (a);
    assert_non_null (b);
    assert_non_null (c);
    char la[4096], lb[4096], lc[4096];
    int differ = 0, ansi = 0, frames = 0, longer = 0;
    for (int i = 0; i < 2000; i++) {
        size_t na = fb_loggen_next (a, la, sizeof la);
        size_t nb = fb_loggen_next (b, lb, sizeof lb);
        fb_loggen_next (c, lc, sizeof lc);
        assert_int_equal (na, nb);
        assert_string_equal (la, lb);
        assert_int_equal (na, strlen (la));
        differ += strcmp (la, lc) != 0;
        ansi += strchr (la, '\x1b') != NULL;
        frames += strncmp (la, "    at ", 7) == 0;
        longer += na > 512;
    }
    assert_true (differ > 1000);
    assert_true (ansi > 100);
    assert_true (frames > 50);
    assert_true (longer > 10);
    char small[8];
    size_t cut = fb_loggen_next (a, small, sizeof small);
    assert_int_equal (cut, strlen (small));
    assert_true (strlen (small) <= 7);
    fb_loggen_destroy (&a);
    fb_loggen_destroy (&b);
    fb_loggen_destroy (&c);
    assert_null (a);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_append_then_search_finds_lines),
        cmocka_unit_test (test_search_counts_every_match_past_the_result_growth),
        cmocka_unit_test (test_stored_lines_carry_brummers_level_tags_and_priority),
        cmocka_unit_test (test_ring_eviction_keeps_the_newest_capacity),
        cmocka_unit_test (test_shift_eviction_shows_what_ring_shows),
        cmocka_unit_test (test_shift_index_grows_with_lines_stored_unless_forgotten),
        cmocka_unit_test (test_full_queue_falls_back_to_sync),
        cmocka_unit_test (test_a_starving_writer_goes_before_the_queue),
        cmocka_unit_test (test_drop_when_full_drops_and_counts),
        cmocka_unit_test (test_long_lines_are_cut_and_counted),
        cmocka_unit_test (test_ingest_latency_is_recorded_per_line),
        cmocka_unit_test (test_bad_config_is_refused),
        cmocka_unit_test (test_fast_detection_on_known_lines),
        cmocka_unit_test (test_regex_detection_on_known_lines),
        cmocka_unit_test (test_both_engines_agree_on_generated_output),
        cmocka_unit_test (test_strip_ansi_removes_colour_escapes_only),
        cmocka_unit_test (test_store_keeps_detected_urls_newest_first),
        cmocka_unit_test (test_generator_is_deterministic_for_a_seed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test_report.c: a view that fits a fleet. Up to FB_RUN_LISTED_HOSTS hosts the summary lists
 * each; past that, the fleet, each CPU (or board) group and the FB_REPORT_WORST hosts of
 * highest p99, and the progress line becomes one line for the fleet. */
#include "coordinator/progress.h"
#include "coordinator/report.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakerun.h"

#define T_MS 1000000LL

/* n hosts h0..h(n-1); host i: 100 operations of (i + 1) ms; the first 8 on "cpuA", the rest
 * on "cpuB". */
static t_fake_t *s_fleet (int n) {
    t_fake_t *f = t_fake_new (1);
    snprintf (f->sc.name, sizeof f->sc.name, "fleet");
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf (id, sizeof id, "h%d", i);
        t_fake_measure (t_fake_host (f, id, "", i < 8 ? "cpuA" : "cpuB"), 0, 100, (i + 1) * T_MS,
                        10 * T_S);
    }
    t_fake_merge (f);
    return f;
}

/* What fb_report_print writes, as one string (the caller frees it). */
static char *s_summary (const t_fake_t *f) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    fb_report_print (&f->run, out);
    fclose (out);
    return text;
}

/* Does a line of text start with "  ID " (a host's row)? */
static bool s_has_row (const char *text, const char *id) {
    char row[32];
    snprintf (row, sizeof row, "\n  %s ", id);
    return strstr (text, row) != NULL;
}

static void test_few_hosts_are_each_listed (void **state) {
    (void)state;
    t_fake_t *f = s_fleet (3);
    char *text = s_summary (f);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf (id, sizeof id, "h%d", i);
        assert_true (s_has_row (text, id));
    }
    assert_null (strstr (text, "cpuA ("));
    free (text);
    t_fake_destroy (&f);
}

static void test_a_fleet_shows_groups_and_the_worst_hosts (void **state) {
    (void)state;
    t_fake_t *f = s_fleet (12);
    char *text = s_summary (f);
    assert_non_null (strstr (text, "\n  fleet "));
    assert_non_null (strstr (text, "\n  cpuA (8) "));
    assert_non_null (strstr (text, "\n  cpuB (4) "));
    /* the five of highest p99, highest first; none of the others */
    const char *at = text;
    for (int i = 11; i >= 7; i--) {
        char row[32];
        snprintf (row, sizeof row, "\n  h%d ", i);
        const char *found = strstr (at, row);
        if (!found)
            print_error ("h%d missing or out of order in:\n%s\n", i, text);
        assert_non_null (found);
        at = found + 1;
    }
    for (int i = 0; i < 7; i++) {
        char id[16];
        snprintf (id, sizeof id, "h%d", i);
        assert_false (s_has_row (text, id));
    }
    assert_non_null (strstr (text, "every host in run.json"));
    free (text);
    t_fake_destroy (&f);
}

/* Past the 1024 hosts a run once had room for: the table grows with the hosts that join, each
 * with room for its scenario's workloads, and the report still names the worst. */
static void test_a_fleet_past_1024_hosts_is_taken_and_reported (void **state) {
    (void)state;
    t_fake_t *f = s_fleet (3000);
    assert_int_equal (f->run.n_hosts, 3000);
    assert_true (f->run.cap_hosts >= 3000);
    assert_int_equal (f->run.hosts[2999]->n_workloads, 1);
    assert_ptr_equal (fb_run_find_host (&f->run, "h2500"), f->run.hosts[2500]);
    char *text = s_summary (f);
    assert_non_null (strstr (text, "\n  cpuB (2992) "));
    assert_true (s_has_row (text, "h2999"));
    assert_false (s_has_row (text, "h1000"));
    free (text);
    t_fake_destroy (&f);
}

/* The progress line of a running fleet, as stderr gets it (stderr is not a terminal here). */
static char *s_progress (t_fake_t *f) {
    for (int i = 0; i < f->run.n_hosts; i++) {
        f->run.hosts[i]->state = FB_HOST_RUNNING;
        f->run.hosts[i]->interval_ops = 100;
        f->run.hosts[i]->interval_s = 1;
    }
    f->run.hosts[0]->state = FB_HOST_LOST;
    FILE *tmp = tmpfile ();
    assert_non_null (tmp);
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    assert_true (saved >= 0 && dup2 (fileno (tmp), STDERR_FILENO) >= 0);
    fb_progress_t *progress = fb_progress_new (false);
    assert_non_null (progress);
    fb_progress_start (progress, 0, 30 * T_S);
    fb_progress_update (progress, &f->run, 3 * T_S);
    fb_progress_destroy (&progress);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    char *line = calloc (1, 4096);
    assert_non_null (line);
    rewind (tmp);
    size_t got = fread (line, 1, 4095, tmp);
    line[got] = '\0';
    fclose (tmp);
    return line;
}

static void test_the_progress_line_of_a_fleet_is_one_line (void **state) {
    (void)state;
    t_fake_t *f = s_fleet (12);
    char *line = s_progress (f);
    /* 11 running at 100 ops/s; the fleet's p99 of the 11; the three slowest by name */
    if (!strstr (line, "11 running, 1 lost of 12 hosts | w0 1100 ops/s p99 12"))
        print_error ("got: %s\n", line);
    assert_non_null (strstr (line, "11 running, 1 lost of 12 hosts | w0 1100 ops/s p99 12"));
    assert_non_null (strstr (line, "slowest p99: h11 12"));
    assert_non_null (strstr (line, ", h10 11"));
    assert_non_null (strstr (line, ", h9 10"));
    assert_null (strstr (line, "| h1 ")); /* no per-host segments */
    assert_int_equal (strchr (line, '\n') - line, (long)strlen (line) - 1); /* one line */
    free (line);
    t_fake_destroy (&f);
}

static void test_the_progress_line_of_few_hosts_has_a_segment_each (void **state) {
    (void)state;
    t_fake_t *f = s_fleet (3);
    char *line = s_progress (f);
    assert_non_null (strstr (line, "| h0 lost w0 100 ops/s"));
    assert_non_null (strstr (line, "| h2 running w0 100 ops/s p99 3"));
    free (line);
    t_fake_destroy (&f);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_few_hosts_are_each_listed),
        cmocka_unit_test (test_a_fleet_shows_groups_and_the_worst_hosts),
        cmocka_unit_test (test_a_fleet_past_1024_hosts_is_taken_and_reported),
        cmocka_unit_test (test_the_progress_line_of_a_fleet_is_one_line),
        cmocka_unit_test (test_the_progress_line_of_few_hosts_has_a_segment_each),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

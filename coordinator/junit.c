/* junit.c: verdicts and hosts as JUnit XML test cases, in the form CI tools read (the schema
 * in tests/data/junit/ says which: the Jenkins/Ant one, stricter). Every string from a peer or
 * a file goes through fb_escape first (non-UTF-8 and control bytes become "\xNN"), then XML
 * escaping, so the document stays well-formed whatever an agent said. */
#include "coordinator/junit.h"

#include "common/escape.h"
#include "common/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One test case as written: kind NULL passed, else "failure", "error" or "skipped". */
typedef struct {
    const char *name;
    const char *kind;
    const char *type;    /* failure and error: target, gate, schedule, host, incomplete */
    const char *message; /* the reason; also the element's text for failure and error */
    const char *out;     /* system-out ("" none) */
    double time_s;
} s_case_t;

typedef struct {
    int tests, failures, errors, skipped;
} s_counts_t;

/* Control bytes and bytes that are not UTF-8 shown as \xNN (XML 1.0 cannot carry them), then
 * XML's own escapes. */
static void s_escaped (FILE *out, const char *text) {
    char safe[4096]; /* fb_escape grows a byte to at most 4 */
    fb_escape (text ? text : "", safe, sizeof safe, FB_ESCAPE_TEXT);
    fb_escape_xml (out, safe);
}

static double s_seconds (int64_t ns) { return ns > 0 ? ns / 1e9 : 0; }

static void s_count (s_counts_t *n, const s_case_t *c) {
    n->tests++;
    n->failures += c->kind && strcmp (c->kind, "failure") == 0;
    n->errors += c->kind && strcmp (c->kind, "error") == 0;
    n->skipped += c->kind && strcmp (c->kind, "skipped") == 0;
}

static void s_case (FILE *out, const char *classname, const s_case_t *c) {
    fputs ("    <testcase classname=\"", out);
    s_escaped (out, classname);
    fputs ("\" name=\"", out);
    s_escaped (out, c->name);
    fprintf (out, "\" time=\"%.3f\">", c->time_s);
    if (c->kind && strcmp (c->kind, "skipped") == 0) {
        fputs ("<skipped message=\"", out);
        s_escaped (out, c->message);
        fputs ("\"/>", out);
    } else if (c->kind) {
        fprintf (out, "<%s type=\"%s\" message=\"", c->kind, c->type);
        s_escaped (out, c->message);
        fputs ("\">", out);
        s_escaped (out, c->message);
        fprintf (out, "</%s>", c->kind);
    }
    if (c->out && c->out[0]) {
        fputs ("<system-out>", out);
        s_escaped (out, c->out);
        fputs ("</system-out>", out);
    }
    fputs ("</testcase>\n", out);
}

static void s_suite_open (FILE *out, const fb_run_t *run, const char *name, const s_counts_t *n,
                          double time_s) {
    char stamp[32], host[256] = "";
    time_t t = (time_t)(run->started_wall_ns / 1000000000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (gethostname (host, sizeof host - 1) != 0 || !host[0])
        snprintf (host, sizeof host, "localhost");
    fputs ("  <testsuite name=\"", out);
    s_escaped (out, name);
    fprintf (out,
             "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\" "
             "timestamp=\"%s\" hostname=\"",
             n->tests, n->failures, n->errors, n->skipped, time_s, stamp);
    s_escaped (out, host);
    fputs ("\">\n", out);
}

/* The hosts suite: one case per host (a failure when lost or failed), one for a join that
 * fell short; a suspect host is a property and a line of the suite's output. */
static void s_hosts (FILE *out, const fb_run_t *run, const char *classname, s_counts_t *total) {
    double run_s = s_seconds (run->finished_wall_ns - run->started_wall_ns);
    s_case_t *cases = calloc ((size_t)run->n_hosts + 1, sizeof *cases);
    if (!cases)
        return;
    int n = 0, suspects = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        bool bad = h->state == FB_HOST_LOST || h->state == FB_HOST_FAILED;
        cases[n++] = (s_case_t){h->id,      bad ? "failure" : NULL,          "host",
                                h->problem, h->suspect[0] ? h->suspect : "", run_s};
        suspects += h->suspect[0] != '\0';
    }
    if (run->n_hosts < run->expected_hosts)
        cases[n++] = (s_case_t){"join", "failure", "host", run->outcome, "", run_s};
    s_counts_t counts = {0};
    for (int i = 0; i < n; i++)
        s_count (&counts, &cases[i]);
    s_suite_open (out, run, classname, &counts, run_s);
    if (suspects) {
        fputs ("    <properties>\n", out);
        for (int i = 0; i < run->n_hosts; i++)
            if (run->hosts[i]->suspect[0]) {
                fputs ("      <property name=\"suspect.", out);
                s_escaped (out, run->hosts[i]->id);
                fputs ("\" value=\"", out);
                s_escaped (out, run->hosts[i]->suspect);
                fputs ("\"/>\n", out);
            }
        fputs ("    </properties>\n", out);
    }
    for (int i = 0; i < n; i++)
        s_case (out, classname, &cases[i]);
    if (suspects) {
        fputs ("    <system-out>", out);
        for (int i = 0; i < run->n_hosts; i++)
            if (run->hosts[i]->suspect[0]) {
                fputs ("suspect host ", out);
                s_escaped (out, run->hosts[i]->id);
                fputs (": ", out);
                s_escaped (out, run->hosts[i]->suspect);
                fputs ("\n", out);
            }
        fputs ("</system-out>\n", out);
    }
    fputs ("  </testsuite>\n", out);
    total->tests += counts.tests;
    total->failures += counts.failures;
    total->errors += counts.errors;
    free (cases);
}

/* A verdict as a case: a failure when it counts as failed, skipped when skipped or
 * incomparable, else passed with the detail as output (an inconclusive gate counted as passed
 * says "inconclusive: ..." there). */
static s_case_t s_verdict_case (const fb_verdict_t *v, double time_s) {
    s_case_t c = {v->text, NULL, NULL, v->detail, v->detail, time_s};
    if (v->counts_as_failed) {
        c.kind = "failure";
        c.type = v->gate ? "gate" : v->schedule ? "schedule" : "target";
        c.out = "";
    } else if (v->state == FB_VERDICT_SKIPPED || v->state == FB_VERDICT_INCOMPARABLE) {
        c.kind = "skipped";
        c.out = "";
    }
    return c;
}

static void s_workload (FILE *out, const fb_run_t *run, int w, s_counts_t *total) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    char classname[160];
    snprintf (classname, sizeof classname, "%s.%s", run->sc->name, sw->name);
    double time_s = s_seconds (run->fleet[w].measured_ns);
    /* Not judged (the run ended before, or its baseline was refused): every target and gate
     * is an error saying why. */
    bool unjudged = run->n_verdicts[w] == 0 && run->exit_code >= 2;
    int n = unjudged ? sw->n_targets + sw->n_gates : run->n_verdicts[w];
    s_case_t *cases = calloc ((size_t)n + 1, sizeof *cases);
    char (*names)[128] = unjudged ? calloc ((size_t)n + 1, sizeof *names) : NULL;
    if (!cases || (unjudged && !names)) {
        free (cases);
        free (names);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!unjudged) {
            cases[i] = s_verdict_case (&run->verdicts[w][i], time_s);
            continue;
        }
        if (i < sw->n_targets)
            fb_target_name (&sw->targets[i], names[i], sizeof names[i]);
        else
            fb_target_gate_name (&sw->gates[i - sw->n_targets], names[i], sizeof names[i]);
        cases[i] = (s_case_t){names[i], "error", "incomplete", run->outcome, "", 0};
    }
    s_counts_t counts = {0};
    for (int i = 0; i < n; i++)
        s_count (&counts, &cases[i]);
    s_suite_open (out, run, classname, &counts, time_s);
    for (int i = 0; i < n; i++)
        s_case (out, classname, &cases[i]);
    fputs ("  </testsuite>\n", out);
    total->tests += counts.tests;
    total->failures += counts.failures;
    total->errors += counts.errors;
    free (cases);
    free (names);
}

static void s_render (FILE *out, const fb_run_t *run) {
    /* The totals go on the root element, so the suites are rendered first. */
    char *body = NULL;
    size_t len = 0;
    FILE *suites = open_memstream (&body, &len);
    if (!suites)
        return;
    s_counts_t total = {0};
    char classname[160];
    snprintf (classname, sizeof classname, "%s.hosts", run->sc->name);
    s_hosts (suites, run, classname, &total);
    for (int w = 0; w < run->sc->n_workloads; w++)
        s_workload (suites, run, w, &total);
    fclose (suites);
    fputs ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", out);
    s_escaped (out, run->sc->name);
    fprintf (out, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n", total.tests,
             total.failures, total.errors,
             s_seconds (run->finished_wall_ns - run->started_wall_ns));
    fwrite (body, 1, len, out);
    fputs ("</testsuites>\n", out);
    free (body);
}

static void s_render_run (FILE *out, const void *run) { s_render (out, run); }

int fb_junit_write (const fb_run_t *run, fb_err_t *err) {
    return fb_files_write_rendered (run->dir, "junit.xml", s_render_run, run, err);
}

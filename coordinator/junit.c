/* junit.c: verdicts and hosts as JUnit XML test cases. */
#include "coordinator/junit.h"

#include "common/escape.h"
#include "common/files.h"

#include <stdio.h>
#include <stdlib.h>

static void s_case (FILE *out, const char *suite, const char *name, const char *state,
                    const char *detail) {
    fputs ("    <testcase classname=\"", out);
    fb_escape_xml (out, suite);
    fputs ("\" name=\"", out);
    fb_escape_xml (out, name);
    fputs ("\">", out);
    if (state) {
        fprintf (out, "<%s message=\"", state);
        fb_escape_xml (out, detail);
        fputs ("\"/>", out);
    } else if (detail[0]) {
        fputs ("<system-out>", out);
        fb_escape_xml (out, detail);
        fputs ("</system-out>", out);
    }
    fputs ("</testcase>\n", out);
}

static void s_render (FILE *out, const fb_run_t *run) {
    fputs ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", out);
    fb_escape_xml (out, run->sc->name);
    fputs ("\">\n  <testsuite name=\"hosts\">\n", out);
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        bool bad = h->state == FB_HOST_LOST || h->state == FB_HOST_FAILED;
        s_case (out, "hosts", h->id, bad ? "failure" : NULL, bad ? h->problem : "");
    }
    if (run->n_hosts < run->expected_hosts)
        s_case (out, "hosts", "join", "failure", run->outcome);
    fputs ("  </testsuite>\n", out);
    for (int w = 0; w < run->sc->n_workloads; w++) {
        const char *suite = run->sc->workloads[w].name;
        fputs ("  <testsuite name=\"", out);
        fb_escape_xml (out, suite);
        fputs ("\">\n", out);
        for (int v = 0; v < run->n_verdicts[w]; v++) {
            const fb_verdict_t *verdict = &run->verdicts[w][v];
            /* inconclusive: a failure when on_inconclusive says fail, else a pass whose
             * output says so; incomparable: skipped, with the reason */
            bool skipped =
                verdict->state == FB_VERDICT_SKIPPED || verdict->state == FB_VERDICT_INCOMPARABLE;
            const char *state = verdict->counts_as_failed ? "failure" : skipped ? "skipped" : NULL;
            s_case (out, suite, verdict->text, state, verdict->detail);
        }
        fputs ("  </testsuite>\n", out);
    }
    fputs ("</testsuites>\n", out);
}

static void s_render_run (FILE *out, const void *run) { s_render (out, run); }

int fb_junit_write (const fb_run_t *run, fb_err_t *err) {
    return fb_files_write_rendered (run->dir, "junit.xml", s_render_run, run, err);
}

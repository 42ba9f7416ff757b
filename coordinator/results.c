/* results.c: run.json and the hlogs. report.md and the terminal summary are in report.c. */
#include "coordinator/results.h"

#include "common/hlog.h"
#include "common/stats_json.h"
#include "coordinator/abort.h"
#include "coordinator/fleet_hlog.h"
#include "coordinator/html.h"
#include "coordinator/junit.h"
#include "coordinator/paramjson.h"
#include "coordinator/report.h"
#include "coordinator/verdict.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Remembers the first result file lost; the outcome says so when the results are written. */
static void s_lost (fb_run_t *run, const char *why) {
    if (!run->results_error[0])
        snprintf (run->results_error, sizeof run->results_error, "%s", why);
}

/* A write or a close of a host's hlog failed: the file is removed, nothing more is written to
 * it, and the run will exit 3. */
static int s_hlog_lost (fb_run_t *run, fb_host_t *host, int w, fb_err_t *werr, fb_err_t *err) {
    fb_file_t *file = &host->hlog[w];
    if (!strstr (werr->msg, file->path)) {
        char why[200];
        snprintf (why, sizeof why, "%s", werr->msg);
        fb_err_set (werr, FB_ESYS, "cannot write %s: %s", file->path, why);
    }
    host->hlog_lost[w] = true;
    fb_files_discard (file);
    s_lost (run, werr->msg);
    return fb_err_set (err, FB_ESYS, "%s", werr->msg);
}

int fb_results_hlog_metric (fb_run_t *run, fb_host_t *host, const fb_report_t *r,
                            const char *metric, const fb_hist_compact_t *hist, const uint8_t *bytes,
                            size_t len, fb_err_t *err) {
    fb_file_t *file = &host->hlog[r->workload];
    if (host->hlog_lost[r->workload])
        return 0; /* said once already */
    fb_err_t werr = {0};
    int rc = 0;
    if (!file->started) {
        char path[700];
        snprintf (path, sizeof path, "%s/%s.%s.hlog", run->dir, host->id,
                  run->sc->workloads[r->workload].name);
        rc = fb_files_open (file, path, &werr);
        if (rc == 0)
            rc = fb_hlog_write_header (file->f, run->start_wall_ns / 1e9, &werr);
    } else if (!file->f)
        rc = fb_files_resume (file, &werr);
    double start_s = (r->wall_start_ns - run->start_wall_ns) / 1e9;
    double length_s = (r->end_ns - r->start_ns) / 1e9;
    if (rc == 0)
        rc = fb_hlog_write_encoded (file->f, strcmp (metric, "latency") == 0 ? NULL : metric,
                                    start_s, length_s, fb_hist_compact_max (hist), bytes, len,
                                    &werr);
    if (rc != 0) {
        /* Closing says what the disk said (its message names the file), whatever failed
         * first. */
        fb_err_t cerr = {0};
        if (fb_files_pause (file, &cerr) != 0 && cerr.msg[0])
            werr = cerr;
        return s_hlog_lost (run, host, r->workload, &werr, err);
    }
    return 0;
}

int fb_results_hlog_pause (fb_run_t *run, fb_host_t *host, int w, fb_err_t *err) {
    fb_file_t *file = &host->hlog[w];
    fb_err_t cerr = {0};
    if (host->hlog_lost[w] || !file->f || fb_files_pause (file, &cerr) == 0)
        return 0;
    return s_hlog_lost (run, host, w, &cerr, err); /* closing says what the disk said */
}

static void s_iso_time (int64_t wall_ns, char *buf, size_t size) {
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *s_fingerprint (const fb_fingerprint_t *fp) {
    return json_pack ("{s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "hostname",
                      fp->hostname, "arch", fp->arch, "cpu_model", fp->cpu_model, "cores",
                      fp->cores, "mhz_max", fp->mhz_max, "mhz_min", fp->mhz_min, "memory_bytes",
                      (json_int_t)fp->memory_bytes, "kernel", fp->kernel, "libc", fp->libc,
                      "openssl", fp->openssl, "build", fp->build, "clocksource", fp->clocksource,
                      "board", fp->board, "cpu_flags", fp->cpu_flags, "throttling", fp->throttling);
}

static json_t *s_host (const fb_run_t *run, const fb_host_t *h) {
    json_t *labels = json_object ();
    for (int l = 0; l < h->hello.n_labels; l++)
        json_object_set_new (labels, h->hello.labels[l].key,
                             json_string (h->hello.labels[l].value));
    json_t *hj =
        json_pack ("{s:s,s:s,s:o,s:o,s:{s:I,s:I,s:I},s:I,s:I}", "id", h->id, "state",
                   fb_run_host_state_name (h->state), "labels", labels, "fingerprint",
                   s_fingerprint (&h->hello.fp), "clock", "offset_ns", (json_int_t)h->offset_ns,
                   "rtt_ns", (json_int_t)(h->rtt_ns == INT64_MAX ? -1 : h->rtt_ns), "start_skew_ns",
                   (json_int_t)h->start_skew_ns, "reports", (json_int_t)h->reports, "duplicates",
                   (json_int_t)h->duplicates);
    if (hj && h->suspect[0])
        json_object_set_new (hj, "suspect", json_string (h->suspect));
    if (hj && h->problem[0]) {
        char when[40];
        s_iso_time (h->lost_wall_ns, when, sizeof when);
        json_object_set_new (hj, "problem", json_string (h->problem));
        json_object_set_new (hj, "lost_at", json_string (when));
        json_object_set_new (hj, "lost_after_s",
                             json_real ((h->lost_wall_ns - run->start_wall_ns) / 1e9));
    }
    return hj;
}

static json_t *s_workload (const fb_run_t *run, int w) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    json_t *params = fb_paramjson_encode (&sw->resolved);
    json_t *hosts = json_object ();
    for (int i = 0; i < run->n_hosts; i++) {
        json_t *hj = fb_stats_json_encode (&run->hosts[i]->stats[w]);
        if (hj)
            json_object_set_new (hj, "warmup_ops", json_integer (run->hosts[i]->warmup_ops[w]));
        json_object_set_new (hosts, run->hosts[i]->id, hj ? hj : json_null ());
    }
    json_t *fleet = fb_stats_json_encode (&run->fleet[w]);
    return json_pack ("{s:s,s:s,s:o,s:f,s:i,s:f,s:f,s:f,s:o,s:o,s:o}", "name", sw->name, "kind",
                      sw->wl->kind, "params", params, "rate_per_s", sw->rate_per_s, "concurrency",
                      sw->concurrency, "duration_s", sw->duration_ns / 1e9, "warmup_s",
                      sw->warmup_ns / 1e9, "interval_s", sw->interval_ns / 1e9, "fleet",
                      fleet ? fleet : json_null (), "hosts", hosts, "verdicts",
                      fb_verdict_json (run, w));
}

/* Workload w's part of run.json: its figures, verdicts, intervals and load shape; without its
 * hosts' intervals unless host_samples (report.html draws the fleet's). */
static json_t *s_workload_all (const fb_run_t *run, int w, bool host_samples) {
    json_t *wj = s_workload (run, w);
    if (!wj)
        return NULL;
    fb_verdict_workload_json (run, w, host_samples, wj);    /* what baselines and CIs need */
    const fb_shape_t *shape = &run->sc->workloads[w].shape; /* stages, arrivals, seed */
    fb_shape_json (shape, fb_shape_seed (shape, run->run_id, w),
                   run->sc->workloads[w].rate_per_s > 0, wj);
    return wj;
}

/* run.json but for its workloads; stopped_early when an abort_on_fail target ended the run. */
static json_t *s_run_head (const fb_run_t *run) {
    char started[40], finished[40];
    s_iso_time (run->started_wall_ns, started, sizeof started);
    s_iso_time (run->finished_wall_ns, finished, sizeof finished);
    int64_t skew_min = 0, skew_max = 0;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *h = run->hosts[i];
        if (i == 0 || h->start_skew_ns < skew_min)
            skew_min = h->start_skew_ns;
        if (i == 0 || h->start_skew_ns > skew_max)
            skew_max = h->start_skew_ns;
    }
    json_t *scenario = json_pack ("{s:s,s:s,s:s}", "name", run->sc->name, "path", run->sc->path,
                                  "sha256", run->sc->sha256);
    json_t *text = run->sc->text ? json_stringn (run->sc->text, run->sc->text_len) : NULL;
    if (scenario && text) /* libyaml refuses text that is not UTF-8: there always is one */
        json_object_set_new (scenario, "text", text);
    else
        json_decref (text);
    json_t *head = json_pack (
        "{s:i,s:s,s:s,s:o,s:s,s:s,s:s,s:i,s:s,s:i,s:i,s:I}", "schema_version",
        FB_RESULTS_SCHEMA_VERSION, "fleetbench", FB_VERSION, "run_id", run->run_id, "scenario",
        scenario, "started", started, "finished", finished, "outcome",
        run->exit_code == 0   ? "passed"
        : run->exit_code == 1 ? "failed"
        : run->exit_code == 2 ? "refused"
                              : "incomplete",
        "exit_code", run->exit_code, "summary", run->outcome, "expected_hosts", run->expected_hosts,
        "allow_lost", run->sc->allow_lost, "start_skew_ns", (json_int_t)(skew_max - skew_min));
    json_t *stop = fb_abort_json (run), *hosts = json_array ();
    if (head && stop)
        json_object_set_new (head, "stopped_early", stop);
    else
        json_decref (stop);
    for (int i = 0; hosts && i < run->n_hosts; i++)
        if (json_array_append_new (hosts, s_host (run, run->hosts[i])) != 0) {
            json_decref (hosts);
            hosts = NULL;
        }
    if (!hosts || json_object_set_new (head, "hosts", hosts) != 0) {
        json_decref (head);
        return NULL;
    }
    return head;
}

static json_t *s_workload_at (const void *run, int w, fb_err_t *err) {
    json_t *wj = s_workload_all (run, w, false);
    if (!wj)
        fb_err_set (err, FB_ENOMEM, "out of memory building workload %d of run.json", w + 1);
    return wj;
}

typedef struct {
    FILE *out;
    int depth;
} s_indent_t;

static int s_put_indented (const char *text, size_t len, void *arg) {
    const s_indent_t *at = arg;
    for (const char *end = text + len, *nl; text < end; text = nl + 1) {
        nl = memchr (text, '\n', (size_t)(end - text));
        if (!nl) {
            fwrite (text, 1, (size_t)(end - text), at->out);
            break;
        }
        fwrite (text, 1, (size_t)(nl - text) + 1, at->out);
        fprintf (at->out, "%*s", 2 * at->depth, "");
    }
    return 0;
}

/* value at the given depth of an indented document: its lines after the first indented by
 * depth levels. Printed as encoded, without a copy of the text. -1 when it cannot be. */
static int s_print_value (FILE *out, const json_t *value, int depth) {
    s_indent_t at = {out, depth};
    return json_dump_callback (value, s_put_indented, &at,
                               JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10) |
                                   JSON_ENCODE_ANY);
}

/* run.json, printed one workload at a time: a fleet of hosts never holds every workload's tree
 * at once. The order of keys is the head's, then hosts, then workloads. */
static int s_print_run (const fb_run_t *run, FILE *out) {
    json_t *head = s_run_head (run);
    if (!head)
        return -1; /* nothing printed */
    const char *key;
    json_t *value;
    int rc = 0;
    fputc ('{', out);
    json_object_foreach (head, key, value) {
        fprintf (out, "\n  \"%s\": ", key); /* our keys need no escaping */
        if ((rc = s_print_value (out, value, 1)) != 0)
            break;
        fputc (',', out);
    }
    json_decref (head);
    if (rc == 0)
        fputs ("\n  \"workloads\": [", out);
    for (int w = 0; rc == 0 && w < run->sc->n_workloads; w++) {
        json_t *wj = s_workload_all (run, w, true);
        fputs (w ? ",\n    " : "\n    ", out);
        rc = wj ? s_print_value (out, wj, 2) : -1;
        json_decref (wj);
    }
    if (rc == 0) /* a failure leaves the document open: its reader sees it is cut */
        fputs ("\n  ]\n}\n", out);
    return rc;
}

/* Once a file is lost the run is incomplete: exit 3, and the outcome names the file. */
static void s_tell_lost (fb_run_t *run) {
    if (!run->results_error[0] || run->results_error_told)
        return;
    char verdicts[256];
    snprintf (verdicts, sizeof verdicts, "%s", run->outcome);
    run->exit_code = 3;
    snprintf (run->outcome, sizeof run->outcome, "incomplete: results not saved: %.150s (%.80s)",
              run->results_error, verdicts);
    run->results_error_told = true;
}

#define S_OUTPUTS 4
/* report.html last: it reads the hlogs as written. */
static const char *const s_outputs[S_OUTPUTS] = {"run.json", "report.md", "junit.xml",
                                                 "report.html"};

static int s_write_output (fb_run_t *run, int i, fb_err_t *err) {
    if (i == 3) { /* from the parts of run.json, one workload at a time */
        json_t *head = s_run_head (run);
        int rc = head
                     ? fb_html_write (run->dir, head, run->sc->n_workloads, s_workload_at, run, err)
                     : fb_err_set (err, FB_ENOMEM, "out of memory building report.html");
        json_decref (head);
        return rc;
    }
    if (i == 1)
        return fb_report_write_md (run, err);
    if (i == 2)
        return fb_junit_write (run, err);
    fb_file_t file = {0}; /* straight to run.json.tmp: no copy of the text in memory */
    char path[700];
    snprintf (path, sizeof path, "%s/run.json", run->dir);
    if (fb_files_open (&file, path, err) != 0)
        return -1;
    if (s_print_run (run, file.f) != 0) {
        fb_files_discard (&file);
        return fb_err_set (err, FB_ENOMEM, "out of memory building run.json");
    }
    return fb_files_commit (&file, true, err);
}

int fb_results_write (fb_run_t *run, fb_err_t *err) {
    /* The hlogs' data reaches the disk in one syncfs, then each is renamed into place. */
    fb_err_t e = {0};
    bool synced = run->n_hosts == 0 || fb_files_sync (run->dir, &e) == 0;
    if (!synced)
        s_lost (run, e.msg);
    for (int i = 0; i < run->n_hosts; i++)
        for (int w = 0; w < run->hosts[i]->n_workloads; w++) {
            fb_file_t *hlog = &run->hosts[i]->hlog[w];
            if (!synced)
                fb_files_discard (hlog);
            else if (fb_files_commit (hlog, false, &e) != 0)
                s_lost (run, e.msg);
        }
    if (synced && fb_fleet_hlog_write (run, &e) != 0)
        s_lost (run, e.msg);
    /* A file that fails changes the outcome the others carry: those are written again. */
    bool written[S_OUTPUTS] = {false};
    for (int pass = 0; pass < 2; pass++) {
        bool told = run->results_error[0] != '\0';
        s_tell_lost (run);
        for (int i = 0; i < S_OUTPUTS; i++) {
            if (pass == 1 && !written[i])
                continue;
            e = (fb_err_t){0};
            written[i] = s_write_output (run, i, &e) == 0;
            if (!written[i])
                s_lost (run, e.msg);
        }
        if (told == (run->results_error[0] != '\0'))
            break;
    }
    s_tell_lost (run);
    for (int i = 0; i < S_OUTPUTS; i++)
        if (!written[i]) { /* no file rather than one that tells another story */
            char path[700];
            snprintf (path, sizeof path, "%s/%s", run->dir, s_outputs[i]);
            unlink (path);
        }
    if (run->results_error[0])
        return fb_err_set (err, FB_ESYS, "%s", run->results_error);
    return 0;
}

int fb_results_print_json (const fb_run_t *run, FILE *out, fb_err_t *err) {
    errno = 0;
    if (s_print_run (run, out) != 0)
        return fb_err_set (err, FB_ENOMEM,
                           "out of memory building run.json (what was printed is cut short)");
    if (fflush (out) != 0 || ferror (out))
        return fb_err_set (err, FB_ESYS, "cannot print run.json: %s",
                           strerror (errno ? errno : EIO));
    return 0;
}

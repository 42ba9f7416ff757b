/* fuzz_baseline.c: a baseline file as `coord run` reads it before and after a run, judged
 * against the gates of tests/fuzz/baseline.yaml. The bytes are written to a memory file
 * (memfd, read by its /proc/self/fd path: no disk, whose stalls on a loaded machine would
 * pass for hangs) and go through fb_verdict_check_baseline (load, format, scenario, every gated
 * workload's samples), then what a gate reads: fb_baseline_load_for, the fleet stats, the
 * per-interval samples (base64 HdrHistogram V2), the comparability check (fingerprints, params,
 * rate, build), and the bootstrap comparison handed the decoded samples (100 resamples, and only
 * when the input holds at most S_MAX_INTERVALS intervals and S_MAX_BUCKETS buckets, so each input's
 * work is bounded). A baseline check_baseline accepted must not be refused later by the gates. */
#include "coordinator/baseline.h"
#include "coordinator/compat.h"
#include "coordinator/inference.h"
#include "coordinator/paramjson.h"
#include "coordinator/scenario.h"
#include "coordinator/verdict.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define S_MAX_INTERVALS 256
#define S_MAX_BUCKETS 20000

static fb_scenario_t *s_sc;
static char s_path[64];
static int s_fd = -1;

static void s_cleanup (void) {
    if (s_fd >= 0)
        close (s_fd);
    fb_scenario_destroy (&s_sc);
}

static void s_setup (void) {
    fb_err_t err = {0};
    s_sc = fb_scenario_load (FB_FUZZ_DIR "/baseline.yaml", &err);
    FB_FUZZ_CHECK (s_sc != NULL, "the fuzz scenario does not load: %s", err.msg);
    s_fd = memfd_create ("fuzz-baseline.json", 0);
    FB_FUZZ_CHECK (s_fd >= 0, "cannot make a memory file");
    snprintf (s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    atexit (s_cleanup);
}

static void s_write (const uint8_t *data, size_t size) {
    FB_FUZZ_CHECK (ftruncate (s_fd, 0) == 0, "cannot truncate %s", s_path);
    size_t at = 0;
    while (at < size) {
        ssize_t n = pwrite (s_fd, data + at, size - at, (off_t)at);
        FB_FUZZ_CHECK (n > 0, "cannot write %s", s_path);
        at += (size_t)n;
    }
}

/* Work the bootstrap would do, bounded: intervals and buckets over every metric. */
static bool s_small (const fb_samples_t *samples) {
    if (fb_samples_total_intervals (samples) > S_MAX_INTERVALS)
        return false;
    long buckets = 0;
    for (int r = 0; r < fb_samples_runs (samples); r++)
        for (int i = 0; i < fb_samples_intervals (samples, r); i++)
            for (int m = 0; m < FB_MAX_METRICS; m++) {
                fb_samples_hist_t h;
                fb_samples_hist (samples, r, i, m, &h);
                buckets += h.n;
            }
    return buckets <= S_MAX_BUCKETS;
}

static void s_check_ci (const fb_inference_ci_t *ci, const char *what) {
    FB_FUZZ_CHECK (isnan (ci->lo) || isnan (ci->hi) || ci->lo <= ci->hi,
                   "%s: interval %g..%g is upside down", what, ci->lo, ci->hi);
}

/* What s_gates (verdict.c) does with the baseline for workload w, this run's side being the
 * baseline's own samples. */
static void s_gates (const json_t *baseline, const fb_scenario_workload_t *sw) {
    fb_stats_t base;
    fb_stats_init (&base);
    fb_err_t err = {0};
    fb_samples_t *samples = fb_samples_new (&err);
    FB_FUZZ_CHECK (samples != NULL, "out of memory");
    if (fb_baseline_workload (baseline, sw->name, &base, &err) == 0) {
        FB_FUZZ_CHECK (fb_baseline_samples (baseline, sw->name, samples, &err) == 0,
                       "check_baseline accepted what the gates refuse: %s", err.msg);
        const char *keys[] = {"Intel Xeon E-2176G, 12 cores, kernel 6"};
        json_t *params = fb_paramjson_encode (&sw->resolved);
        fb_compat_run_t side = {keys,          1,     params, sw->rate_per_s, FB_VERSION,
                                &sw->resolved, false, NULL};
        char why[400], note[400];
        unsigned differs =
            fb_compat_check (baseline, sw->name, &side, 0, why, sizeof why, note, sizeof note);
        FB_FUZZ_CHECK (!differs || why[0], "incomparable without saying why");
        fb_compat_check (baseline, sw->name, &side, 7, why, sizeof why, note, sizeof note);
        json_decref (params);
        bool small = s_small (samples);
        for (int g = 0; g < sw->n_gates; g++) {
            const fb_gate_t *gate = &sw->gates[g];
            if (gate->measure.stat == FB_STAT_COUNTER) {
                double actual = 0, expected = 0;
                bool held = false;
                fb_target_gate_judge (gate, &base, &base, &actual, &expected, &held, &err);
                continue;
            }
            if (!small)
                continue;
            fb_inference_opts_t opts;
            fb_inference_opts_default (&opts);
            opts.resamples = 100;
            fb_inference_decision_t d;
            if (fb_inference_compare (samples, samples, &gate->measure, gate->max_regression, &opts,
                                      &d, &err) == 0) {
                s_check_ci (&d.current, "current");
                s_check_ci (&d.baseline, "baseline");
                s_check_ci (&d.ratio, "ratio");
                FB_FUZZ_CHECK (d.verdict == FB_INFERENCE_HELD || d.verdict == FB_INFERENCE_FAILED ||
                                   d.verdict == FB_INFERENCE_INCONCLUSIVE,
                               "verdict %d", (int)d.verdict);
            }
        }
    }
    fb_samples_destroy (&samples);
    fb_stats_clear (&base);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    if (!s_sc)
        s_setup ();
    s_write (data, size);
    fb_err_t err = {0};
    if (fb_verdict_check_baseline (s_sc, s_path, &err) != 0) {
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
        FB_FUZZ_CHECK (strstr (err.msg, s_path) != NULL, "the error does not name the file: %s",
                       err.msg);
        return 0;
    }
    json_t *baseline = fb_baseline_load_for (s_path, s_sc->name, &err);
    FB_FUZZ_CHECK (baseline != NULL, "check_baseline accepted what load_for refuses: %s", err.msg);
    for (int w = 0; w < s_sc->n_workloads; w++)
        s_gates (baseline, &s_sc->workloads[w]);
    json_decref (baseline);
    return 0;
}

/* compat.c: what must match between a baseline and a run for a gate to mean something. */
#include "coordinator/compat.h"

#include "coordinator/baseline.h"
#include "coordinator/paramjson.h"
#include "coordinator/shape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fb_compat_allow_parse (const char *text, unsigned *allow, fb_err_t *err) {
    *allow = 0;
    char buf[64];
    snprintf (buf, sizeof buf, "%s", text ? text : "");
    char *save = NULL;
    for (char *part = strtok_r (buf, ",", &save); part; part = strtok_r (NULL, ",", &save)) {
        if (strcmp (part, "host") == 0)
            *allow |= FB_COMPAT_HOST;
        else if (strcmp (part, "params") == 0)
            *allow |= FB_COMPAT_PARAMS;
        else if (strcmp (part, "build") == 0)
            *allow |= FB_COMPAT_BUILD;
        else
            return fb_err_set (err, FB_EINPUT, "expected host, params or build (got \"%s\")", part);
    }
    return 0;
}

const char *fb_compat_host_key (const char *cpu_model, int cores, const char *board,
                                const char *kernel, char *buf, size_t size) {
    int major = kernel ? atoi (kernel) : 0;
    snprintf (buf, size, "%s%s%s, %d cores, kernel %d", cpu_model && cpu_model[0] ? cpu_model : "?",
              board && board[0] ? " on " : "", board ? board : "", cores, major);
    return buf;
}

static int s_cmp_str (const void *a, const void *b) {
    return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* "A; B" of the distinct keys, sorted. */
static void s_key_set (const char **keys, int n, char *buf, size_t size) {
    qsort (keys, (size_t)n, sizeof *keys, s_cmp_str);
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        if (i == 0 || strcmp (keys[i], keys[i - 1]) != 0)
            at += (size_t)snprintf (buf + at, size - at, "%s%s", at ? "; " : "", keys[i]);
}

/* The baseline's host keys (every run) against the run's, as sets. */
static bool s_hosts_differ (const json_t *baseline, const fb_compat_run_t *run, char *why,
                            size_t size) {
    enum { S_MAX = 256 };
    char (*bkeys)[200] = calloc (S_MAX, sizeof *bkeys);
    const char *b[S_MAX], *r[S_MAX];
    int nb = 0, nr = run->n_hosts < S_MAX ? run->n_hosts : S_MAX;
    size_t i, k;
    json_t *entry, *h;
    json_array_foreach (json_object_get (baseline, "runs"), i, entry) {
        json_array_foreach (json_object_get (entry, "hosts"), k, h) {
            const json_t *fp = json_object_get (h, "fingerprint");
            if (!bkeys || nb == S_MAX)
                break;
            b[nb] = fb_compat_host_key (json_string_value (json_object_get (fp, "cpu_model")),
                                        (int)json_integer_value (json_object_get (fp, "cores")),
                                        json_string_value (json_object_get (fp, "board")),
                                        json_string_value (json_object_get (fp, "kernel")),
                                        bkeys[nb], sizeof bkeys[nb]);
            nb++;
        }
    }
    for (int j = 0; j < nr; j++)
        r[j] = run->host_keys[j];
    bool differ = fb_compat_keys_differ (b, nb, r, nr, why, size);
    free (bkeys);
    return differ;
}

bool fb_compat_keys_differ (const char **baseline, int nb, const char **run, int nr, char *why,
                            size_t size) {
    char bset[600], rset[600];
    s_key_set (baseline, nb, bset, sizeof bset);
    s_key_set (run, nr, rset, sizeof rset);
    if (strcmp (bset, rset) == 0)
        return false;
    snprintf (why, size, "baseline ran on %s, this run on %s", bset, rset);
    return true;
}

/* value as a person reads it: text unquoted, numbers as %g, true/false. */
static const char *s_show (const json_t *value, char *buf, size_t size) {
    if (!value)
        snprintf (buf, size, "?");
    else if (json_is_string (value))
        snprintf (buf, size, "%s", json_string_value (value));
    else if (json_is_integer (value))
        snprintf (buf, size, "%lld", (long long)json_integer_value (value));
    else if (json_is_real (value))
        snprintf (buf, size, "%.15g", json_real_value (value));
    else if (json_is_boolean (value))
        snprintf (buf, size, "%s", json_is_true (value) ? "true" : "false");
    else
        snprintf (buf, size, "?");
    return buf;
}

/* Typed params (schema_version 2) on both sides; a baseline of schema_version 1 (or older,
 * none) holds text, which is read by the run's param specs first. */
static bool s_params_differ (const json_t *baseline, const json_t *bw, const fb_compat_run_t *run,
                             char *why, size_t size) {
    const json_t *bp = json_object_get (bw, "params");
    json_t *upgraded = NULL;
    if (json_integer_value (json_object_get (baseline, "schema_version")) < 2 && run->resolved &&
        json_is_object (bp)) {
        if (!(upgraded = fb_paramjson_upgrade (bp, run->resolved, why, size)))
            return true;
        bp = upgraded;
    }
    const char *key;
    json_t *value;
    char was[80], now[80];
    bool differ = false;
    json_object_foreach ((json_t *)run->params, key, value) {
        const json_t *before = json_object_get (bp, key);
        if (!before || !json_equal ((json_t *)before, value)) {
            snprintf (why, size, "baseline ran with %s=%s, this run with %s=%s", key,
                      before ? s_show (before, was, sizeof was) : "(unset)", key,
                      s_show (value, now, sizeof now));
            differ = true;
            break;
        }
    }
    json_object_foreach ((json_t *)bp, key, value) {
        if (!differ && !json_object_get (run->params, key)) {
            snprintf (why, size, "baseline ran with %s=%s, this run without it", key,
                      s_show (value, was, sizeof was));
            differ = true;
        }
    }
    json_decref (upgraded);
    if (differ)
        return true;
    double rate = json_number_value (json_object_get (bw, "rate_per_s"));
    if (rate != run->rate_per_s) {
        snprintf (why, size, "baseline ran at %.0f/s, this run at %.0f/s (0: closed loop)", rate,
                  run->rate_per_s);
        return true;
    }
    return run->shape && fb_shape_json_differs (bw, run->shape, why, size);
}

static bool s_build_differs (const json_t *baseline, const fb_compat_run_t *run, char *why,
                             size_t size) {
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (baseline, "runs"), i, entry) {
        const char *v = json_string_value (json_object_get (entry, "fleetbench"));
        if (!v || strcmp (v, run->version) != 0) {
            snprintf (why, size, "baseline measured by fleetbench %s, this run by %s", v ? v : "?",
                      run->version);
            return true;
        }
    }
    return false;
}

unsigned fb_compat_check (const json_t *baseline, const char *workload, const fb_compat_run_t *run,
                          unsigned allow, char *why, size_t why_size, char *note,
                          size_t note_size) {
    unsigned differs = 0;
    char text[3][700];
    const json_t *bw = fb_baseline_find_workload (baseline, workload);
    if (!run->hosts_per_group && s_hosts_differ (baseline, run, text[0], sizeof text[0]))
        differs |= FB_COMPAT_HOST;
    if (bw && s_params_differ (baseline, bw, run, text[1], sizeof text[1]))
        differs |= FB_COMPAT_PARAMS;
    if (s_build_differs (baseline, run, text[2], sizeof text[2]))
        differs |= FB_COMPAT_BUILD;
    why[0] = note[0] = '\0';
    size_t at = 0;
    for (int k = 0; k < 3; k++) {
        unsigned bit = 1u << k;
        if (!(differs & bit))
            continue;
        if (!(allow & bit) && !why[0])
            snprintf (why, why_size, "%s", text[k]);
        else if (allow & bit && at < note_size)
            at += (size_t)snprintf (note + at, note_size - at, "%sallowed: %s", at ? "; " : "",
                                    text[k]);
    }
    return differs & ~allow;
}

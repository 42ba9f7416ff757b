/* params.c: a workload kind's params, filled from their defaults and set from scenario text by
 * the same strict rules (units.c), each checked against its spec's type, range and choices. */
#include "workloads/workload.h"

#include "common/units.h"
#include "common/url.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* What a param of each type looks like, for "X must be ..." messages. */
static const char *s_expected (fb_param_type_t type) {
    switch (type) {
    case FB_PARAM_INT:
        return "an integer such as 8";
    case FB_PARAM_DURATION:
        return "a duration such as 10us";
    case FB_PARAM_SIZE:
        return "a size such as 64KB";
    case FB_PARAM_RATE:
        return "a rate such as 200/s";
    case FB_PARAM_PERCENT:
        return "a percentage such as 20%";
    case FB_PARAM_BOOL:
        return "true or false";
    case FB_PARAM_STRING:
        return "a name of 1 to 63 characters";
    case FB_PARAM_TEXT:
        return "text of at most 255 characters";
    case FB_PARAM_URL:
        return "a URL such as http://127.0.0.1:8080/";
    case FB_PARAM_ENUM:
        break;
    }
    return "one of its choices";
}

/* The index of text among "a|b|c", -1 when absent. */
static int s_choice_index (const char *choices, const char *text) {
    size_t len = strlen (text);
    int index = 0;
    for (const char *p = choices; p && *p; index++) {
        const char *bar = strchr (p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen (p);
        if (n == len && len > 0 && memcmp (p, text, n) == 0)
            return index;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* "a|b|c" -> "a, b, c" */
static const char *s_choice_list (const char *choices, char *buf, size_t size) {
    size_t at = 0;
    for (const char *p = choices ? choices : ""; *p && at + 3 < size; p++) {
        if (*p == '|') {
            buf[at++] = ',';
            buf[at++] = ' ';
        } else
            buf[at++] = *p;
    }
    buf[at] = '\0';
    return buf;
}

static const char *s_format_value (fb_param_type_t type, double value, char *buf, size_t size) {
    switch (type) {
    case FB_PARAM_DURATION:
        return fb_units_format_ns (value, buf, size);
    case FB_PARAM_SIZE:
        return fb_units_format_bytes (value, buf, size);
    case FB_PARAM_RATE:
        snprintf (buf, size, "%g/s", value);
        return buf;
    case FB_PARAM_PERCENT:
        snprintf (buf, size, "%g%%", value * 100.0);
        return buf;
    default:
        snprintf (buf, size, "%.15g", value);
        return buf;
    }
}

/* Parses text by spec's type into a base-unit number; the message names the param. */
static int s_parse (const fb_param_spec_t *spec, const char *text, double *number, fb_err_t *err) {
    int rc = -1;
    int64_t i64 = 0;
    switch (spec->type) {
    case FB_PARAM_INT:
        if ((rc = fb_units_integer (text, &i64, NULL)) == 0)
            *number = (double)i64;
        break;
    case FB_PARAM_DURATION:
        if ((rc = fb_units_duration_ns (text, &i64, NULL)) == 0)
            *number = (double)i64;
        break;
    case FB_PARAM_SIZE:
        if ((rc = fb_units_size_bytes (text, &i64, NULL)) == 0)
            *number = (double)i64;
        break;
    case FB_PARAM_RATE:
        rc = fb_units_rate_per_s (text, number, NULL);
        break;
    case FB_PARAM_PERCENT:
        rc = fb_units_percent (text, number, NULL);
        break;
    case FB_PARAM_BOOL:
        rc = strcmp (text, "true") == 0 || strcmp (text, "false") == 0 ? 0 : -1;
        *number = strcmp (text, "true") == 0;
        break;
    case FB_PARAM_STRING:
        rc = text[0] && strlen (text) < 64 ? 0 : -1;
        break;
    case FB_PARAM_TEXT:
        rc = 0; /* the length limit is s_assign's */
        break;
    case FB_PARAM_URL: {
        fb_url_t url;
        fb_err_t url_err = {0};
        int col = 0;
        if (fb_url_parse (text, &url, &col, &url_err) == 0)
            return 0;
        return fb_err_set (err, FB_EINPUT, "%s: %s (at character %d of \"%.80s\")", spec->name,
                           url_err.msg, col + 1, text);
    }
    case FB_PARAM_ENUM: {
        int index = s_choice_index (spec->choices, text);
        if (index >= 0)
            *number = index;
        rc = index >= 0 ? 0 : -1;
        break;
    }
    }
    if (rc == 0)
        return 0;
    char list[160];
    if (spec->type == FB_PARAM_ENUM)
        return fb_err_set (err, FB_EINPUT, "%s must be one of %s (got \"%.64s\")", spec->name,
                           s_choice_list (spec->choices, list, sizeof list), text);
    return fb_err_set (err, FB_EINPUT, "%s must be %s (got \"%.64s\")", spec->name,
                       s_expected (spec->type), text);
}

/* A spec with min == max == 0 has no range (enum, bool and string never have one). */
static int s_check_range (const fb_param_spec_t *spec, double number, const char *text,
                          fb_err_t *err) {
    if (spec->type == FB_PARAM_ENUM || spec->type == FB_PARAM_BOOL ||
        spec->type == FB_PARAM_STRING || spec->type == FB_PARAM_TEXT)
        return 0;
    if (spec->min == 0 && spec->max == 0)
        return 0;
    if (number >= spec->min && number <= spec->max)
        return 0;
    char lo[32], hi[32];
    return fb_err_set (err, FB_EINPUT, "%s must be between %s and %s (got %.64s)", spec->name,
                       s_format_value (spec->type, spec->min, lo, sizeof lo),
                       s_format_value (spec->type, spec->max, hi, sizeof hi), text);
}

static int s_assign (fb_param_value_t *value, const char *text, fb_err_t *err) {
    const fb_param_spec_t *spec = value->spec;
    if (strlen (text) >= sizeof value->text)
        return fb_err_set (err, FB_EINPUT, "%s must be %s (got a value of %zu characters)",
                           spec->name, s_expected (spec->type), strlen (text));
    double number = 0;
    if (s_parse (spec, text, &number, err) != 0 || s_check_range (spec, number, text, err) != 0)
        return -1;
    value->number = number;
    snprintf (value->text, sizeof value->text, "%s", text);
    return 0;
}

int fb_params_init (fb_params_t *params, const fb_workload_t *wl, fb_err_t *err) {
    memset (params, 0, sizeof *params);
    params->kind = wl->kind;
    for (int i = 0; wl->params && wl->params[i].name; i++) {
        if (i == FB_MAX_PARAMS)
            return fb_err_set (err, FB_ESTATE, "%s has more than %d params", wl->kind,
                               FB_MAX_PARAMS);
        fb_param_value_t *value = &params->v[i];
        value->spec = &wl->params[i];
        if (value->spec->default_text && s_assign (value, value->spec->default_text, err)) {
            fb_err_prefix (err, "%s: default of param", wl->kind);
            return -1;
        }
        params->n = i + 1;
    }
    return 0;
}

static fb_param_value_t *s_find (const fb_params_t *params, const char *name) {
    for (int i = 0; i < params->n; i++)
        if (strcmp (params->v[i].spec->name, name) == 0)
            return (fb_param_value_t *)&params->v[i];
    return NULL;
}

int fb_params_set (fb_params_t *params, const char *name, const char *text, fb_err_t *err) {
    fb_param_value_t *value = s_find (params, name);
    if (!value) {
        char known[200] = "";
        size_t at = 0;
        for (int i = 0; i < params->n && at < sizeof known; i++)
            at += (size_t)snprintf (known + at, sizeof known - at, "%s%s", i ? ", " : "",
                                    params->v[i].spec->name);
        return fb_err_set (err, FB_EINPUT, "unknown param \"%.40s\" for %s (known: %s)", name,
                           params->kind ? params->kind : "this workload",
                           params->n ? known : "none");
    }
    if (s_assign (value, text, err) != 0)
        return -1;
    value->given = true;
    return 0;
}

int fb_params_check_required (const fb_params_t *params, fb_err_t *err) {
    for (int i = 0; i < params->n; i++)
        if (!params->v[i].spec->default_text && !params->v[i].given)
            return fb_err_set (err, FB_EINPUT, "param %s is required (%s)", params->v[i].spec->name,
                               params->v[i].spec->help);
    return 0;
}

double fb_params_num (const fb_params_t *params, const char *name) {
    const fb_param_value_t *value = s_find (params, name);
    assert (value && "param name not in the spec");
    return value->number;
}

const char *fb_params_text (const fb_params_t *params, const char *name) {
    const fb_param_value_t *value = s_find (params, name);
    assert (value && "param name not in the spec");
    return value->text;
}

bool fb_params_given (const fb_params_t *params, const char *name) {
    const fb_param_value_t *value = s_find (params, name);
    assert (value && "param name not in the spec");
    return value->given;
}

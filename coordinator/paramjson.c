/* paramjson.c: params typed for run.json, and schema_version 1's text params read back. */
#include "coordinator/paramjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fb_paramjson_key (const fb_param_spec_t *spec, char *buf, size_t size) {
    const char *suffix = "";
    switch (spec->type) {
    case FB_PARAM_DURATION:
        suffix = "_ns";
        break;
    case FB_PARAM_SIZE:
        suffix = "_bytes";
        break;
    case FB_PARAM_RATE:
        suffix = "_per_s";
        break;
    case FB_PARAM_PERCENT:
        suffix = "_ratio";
        break;
    default:
        break;
    }
    snprintf (buf, size, "%s%s", spec->name, suffix);
    return buf;
}

static json_t *s_value (const fb_param_value_t *v) {
    switch (v->spec->type) {
    case FB_PARAM_INT:
    case FB_PARAM_DURATION:
    case FB_PARAM_SIZE:
        return json_integer ((json_int_t)v->number);
    case FB_PARAM_RATE:
    case FB_PARAM_PERCENT:
        return json_real (v->number);
    case FB_PARAM_BOOL:
        return json_boolean (v->number != 0);
    case FB_PARAM_ENUM:
    case FB_PARAM_STRING:
    case FB_PARAM_TEXT:
    case FB_PARAM_URL:
        break;
    }
    return json_string (v->text);
}

json_t *fb_paramjson_encode (const fb_params_t *params) {
    json_t *out = json_object ();
    for (int p = 0; out && p < params->n; p++) {
        char key[96];
        json_t *value = s_value (&params->v[p]);
        if (!value || json_object_set_new (
                          out, fb_paramjson_key (params->v[p].spec, key, sizeof key), value) != 0) {
            json_decref (out);
            return NULL;
        }
    }
    return out;
}

json_t *fb_paramjson_upgrade (const json_t *text_params, const fb_params_t *like, char *why,
                              size_t size) {
    fb_params_t *params = malloc (sizeof *params);
    if (!params) {
        snprintf (why, size, "out of memory");
        return NULL;
    }
    *params = *like;
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *)text_params, name, value) {
        fb_err_t err = {0};
        const char *text = json_string_value (value);
        if (!text) {
            snprintf (why, size, "the baseline's params.%s is not text, as schema_version 1 wrote",
                      name);
            free (params);
            return NULL;
        }
        if (fb_params_set (params, name, text, &err) != 0) {
            snprintf (why, size, "the baseline's params.%s=%s does not read today: %s", name, text,
                      err.msg);
            free (params);
            return NULL;
        }
    }
    json_t *out = fb_paramjson_encode (params);
    for (int p = 0; out && p < params->n; p++) {
        char key[96];
        if (!json_object_get (text_params, params->v[p].spec->name))
            json_object_del (out, fb_paramjson_key (params->v[p].spec, key, sizeof key));
    }
    if (!out)
        snprintf (why, size, "out of memory");
    free (params);
    return out;
}

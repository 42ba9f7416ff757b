/* paramjson.h: a workload's params as run.json stores them (schema_version 2): each with its
 * type, and the unit in the name. int -> "publishers": 2; duration -> "handler_work_ns": 2000;
 * size -> "page_size_bytes": 8192; rate -> "line_rate_per_s": 100; percent -> "<name>_ratio":
 * 0.2; bool -> true/false; enum and string -> the text. schema_version 1 stored every param as
 * its text under its own name ("handler_work": "2us"); fb_paramjson_upgrade reads those. */
#ifndef FB_PARAMJSON_H
#define FB_PARAMJSON_H

#include "workloads/workload.h"

#include <jansson.h>
#include <stddef.h>

/* The key of spec's param in run.json: its name plus the unit's suffix ("" for none). */
const char *fb_paramjson_key (const fb_param_spec_t *spec, char *buf, size_t size);
/* Every param of params, typed, in spec order. NULL when out of memory. */
json_t *fb_paramjson_encode (const fb_params_t *params);
/* A schema_version 1 params object (name -> text) read by like's specs, encoded as
 * fb_paramjson_encode would. A param like has that text lacks keeps like's value and is left
 * out; NULL with why ("params.x ...") when a name is unknown or a text no longer parses. */
json_t *fb_paramjson_upgrade (const json_t *text_params, const fb_params_t *like, char *why,
                              size_t size);

#endif

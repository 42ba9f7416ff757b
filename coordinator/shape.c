/* shape.c: stages:, ramp:, arrivals: and seed: of a scenario workload. A stage is
 * { duration: 30s, rate: 1000/s }, optionally with at: (its start in the measured part), which
 * must be where the stages before it end: an earlier one overlaps them, a later one leaves a
 * gap the schedule could not fill. */
#include "coordinator/shape.h"

#include "common/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_fail(path, err, node, ...)                                                               \
    fb_yamltree_fail_at ((err), (path), (node)->line, (node)->col, __VA_ARGS__)

static const fb_yamltree_node_t *s_get (const fb_yamltree_node_t *map, const char *key) {
    for (int i = 0; map && i + 1 < map->n; i += 2)
        if (map->items[i]->kind == FB_YAMLTREE_SCALAR && strcmp (map->items[i]->text, key) == 0)
            return map->items[i + 1];
    return NULL;
}

/* A scalar written out (not a list or mapping, not empty). */
static int s_scalar (const fb_yamltree_node_t *node, const char *path, const char *what,
                     const char *example, fb_err_t *err) {
    char got[64];
    if (node->kind == FB_YAMLTREE_SCALAR && node->len > 0 && strlen (node->text) == node->len)
        return 0;
    return s_fail (path, err, node, "%s must be a value such as %s (got %s)", what, example,
                   fb_yamltree_describe (node, got, sizeof got));
}

static int s_stage_duration (const fb_yamltree_node_t *node, const char *path, int i, int64_t *ns,
                             fb_err_t *err) {
    fb_err_t why;
    char what[32];
    if (i < 0)
        snprintf (what, sizeof what, "capacity.hold");
    else
        snprintf (what, sizeof what, "stage %d's %s", i + 1, "duration");
    if (s_scalar (node, path, what, "30s", err) != 0)
        return -1;
    if (fb_units_duration_ns (node->text, ns, &why) != 0)
        return s_fail (path, err, node, "%s: %s", what, why.msg);
    return 0;
}

/* at: the stage's start must be the end of the stages before it. */
static int s_stage_at (const fb_yamltree_node_t *node, const char *path, int i, int64_t end_ns,
                       fb_err_t *err) {
    int64_t at = 0;
    char a[32], e[32];
    if (s_stage_duration (node, path, i, &at, err) != 0)
        return -1;
    fb_units_format_ns ((double)at, a, sizeof a);
    fb_units_format_ns ((double)end_ns, e, sizeof e);
    if (at < end_ns)
        return s_fail (path, err, node,
                       "stage %d starts at %s, before stage %d ends at %s: stages must not "
                       "overlap",
                       i + 1, a, i, e);
    if (at > end_ns)
        return s_fail (path, err, node,
                       "stage %d starts at %s, after stage %d ends at %s: stages must follow "
                       "each other without a gap",
                       i + 1, a, i, e);
    return 0;
}

static int s_stage (const fb_yamltree_node_t *map, const char *path, int i, int64_t *end_ns,
                    const fb_shape_timing_t *timing, fb_plan_stage_t *stage, fb_err_t *err) {
    char got[64];
    if (map->kind != FB_YAMLTREE_MAP || map->n == 0)
        return s_fail (path, err, map,
                       "stage %d must be a mapping such as { duration: 30s, rate: 1000/s } "
                       "(got %s)",
                       i + 1, fb_yamltree_describe (map, got, sizeof got));
    for (int k = 0; k + 1 < map->n; k += 2) {
        const char *key = map->items[k]->text;
        if (map->items[k]->kind != FB_YAMLTREE_SCALAR ||
            (strcmp (key, "duration") && strcmp (key, "rate") && strcmp (key, "at")))
            return s_fail (path, err, map->items[k],
                           "unknown key in stage %d (expected one of: duration, rate, at)", i + 1);
    }
    const fb_yamltree_node_t *duration = s_get (map, "duration"), *rate = s_get (map, "rate"),
                             *at = s_get (map, "at");
    if (!duration || !rate)
        return s_fail (path, err, map,
                       "missing required key \"%s\" in stage %d (expected "
                       "{ duration: 30s, rate: 1000/s })",
                       duration ? "rate" : "duration", i + 1);
    if (at && s_stage_at (at, path, i, *end_ns, err) != 0)
        return -1;
    if (s_stage_duration (duration, path, i, &stage->duration_ns, err) != 0)
        return -1;
    if (stage->duration_ns <= 0)
        return s_fail (path, err, duration, "stage %d is empty: its duration must be above 0s",
                       i + 1);
    fb_err_t why;
    if (s_scalar (rate, path, "a stage's rate", "1000/s", err) != 0)
        return -1;
    if (fb_units_rate_per_s (rate->text, &stage->rate_per_s, &why) != 0)
        return s_fail (path, err, rate, "stage %d's rate: %s", i + 1, why.msg);
    if (stage->rate_per_s > timing->max_rate_per_s)
        return s_fail (path, err, rate,
                       "stage %d's rate must be at most %.0f/s per agent, the most one host can "
                       "schedule for this kind (got %s)",
                       i + 1, timing->max_rate_per_s, rate->text);
    if (__builtin_add_overflow (*end_ns, stage->duration_ns, end_ns) ||
        *end_ns > 7 * 24 * 3600 * 1000000000LL)
        return s_fail (path, err, duration, "the stages must last at most 7 days in all");
    return 0;
}

static int s_stages (const fb_yamltree_node_t *map, const char *path, fb_shape_t *shape,
                     fb_shape_timing_t *timing, fb_err_t *err) {
    const fb_yamltree_node_t *list = s_get (map, "stages"), *rate = s_get (map, "rate"),
                             *duration = s_get (map, "duration");
    char got[64];
    if (!list)
        return 0;
    if (rate)
        return s_fail (path, err, rate,
                       "expected rate: or stages:, not both (the stages give the rate)");
    if (list->kind != FB_YAMLTREE_SEQ)
        return s_fail (path, err, list,
                       "stages must be a list such as [ { duration: 30s, rate: 1000/s } ] (got %s)",
                       fb_yamltree_describe (list, got, sizeof got));
    if (list->n == 0 || list->n > FB_MAX_STAGES)
        return s_fail (path, err, list, "stages must list 1 to %d stages (got %d)", FB_MAX_STAGES,
                       list->n);
    int64_t end_ns = 0;
    double peak = 0;
    for (int i = 0; i < list->n; i++) {
        if (s_stage (list->items[i], path, i, &end_ns, timing, &shape->stages[i], err) != 0)
            return -1;
        peak = shape->stages[i].rate_per_s > peak ? shape->stages[i].rate_per_s : peak;
    }
    shape->n_stages = list->n;
    char a[32], b[32];
    if (duration && timing->duration_ns != end_ns)
        return s_fail (path, err, duration,
                       "duration is %s but the stages last %s: leave duration out (the stages "
                       "give it) or make them agree",
                       fb_units_format_ns ((double)timing->duration_ns, a, sizeof a),
                       fb_units_format_ns ((double)end_ns, b, sizeof b));
    if (end_ns < timing->interval_ns)
        return s_fail (path, err, list, "the stages must last at least the interval, %s (got %s)",
                       fb_units_format_ns ((double)timing->interval_ns, a, sizeof a),
                       fb_units_format_ns ((double)end_ns, b, sizeof b));
    timing->duration_ns = end_ns;
    timing->rate_per_s = peak;
    return 0;
}

/* A rate of capacity: (start or max), at most the kind's highest. */
static int s_capacity_rate (const fb_yamltree_node_t *node, const char *path, const char *key,
                            const fb_shape_timing_t *timing, double *value, fb_err_t *err) {
    fb_err_t why;
    char what[32];
    snprintf (what, sizeof what, "capacity.%s", key);
    if (s_scalar (node, path, what, "1000/s", err) != 0)
        return -1;
    if (fb_units_rate_per_s (node->text, value, &why) != 0)
        return s_fail (path, err, node, "%s: %s", what, why.msg);
    if (*value > timing->max_rate_per_s)
        return s_fail (path, err, node,
                       "%s must be at most %.0f/s per agent, the most one host can schedule for "
                       "this kind (got %s)",
                       what, timing->max_rate_per_s, node->text);
    return 0;
}

/* objective: a latency percentile under a limit, as the agent judges each step by it. */
static int s_objective (const fb_yamltree_node_t *node, const char *path, const fb_workload_t *wl,
                        fb_target_t *objective, fb_err_t *err) {
    fb_err_t why;
    char q[64];
    if (s_scalar (node, path, "capacity.objective", "\"p99 < 2ms\"", err) != 0)
        return -1;
    if (fb_target_parse (node->text, wl, objective, &why) != 0)
        return s_fail (path, err, node, "capacity.objective: %s", why.msg);
    if (objective->measure.stat != FB_STAT_PERCENTILE ||
        (objective->cmp != FB_CMP_LT && objective->cmp != FB_CMP_LE))
        return s_fail (path, err, node,
                       "capacity.objective must be a latency percentile under a limit such as "
                       "\"p99 < 2ms\" (got \"%s\")",
                       fb_yamltree_quote (node->text, node->len, q, sizeof q));
    return 0;
}

/* step: "1.25x", a factor above 1 and at most 10. */
static int s_capacity_step (const fb_yamltree_node_t *node, const char *path, double *step,
                            fb_err_t *err) {
    char q[64], *end = NULL;
    if (s_scalar (node, path, "capacity.step", "1.25x", err) != 0)
        return -1;
    *step = strtod (node->text, &end);
    if (end == node->text || strcmp (end, "x") != 0 || !(*step > 1 && *step <= 10))
        return s_fail (path, err, node,
                       "capacity.step must be a factor from above 1x to 10x such as 1.25x (got "
                       "\"%s\")",
                       fb_yamltree_quote (node->text, node->len, q, sizeof q));
    return 0;
}

/* The steps: start, start x step, ... up to max, each held hold_ns, as stages. */
static int s_capacity_steps (const fb_yamltree_node_t *map, const char *path, fb_shape_t *shape,
                             fb_shape_timing_t *timing, fb_err_t *err) {
    double n = floor (log (shape->max_per_s / shape->start_per_s) / log (shape->step) + 1e-9) + 1;
    if (n > FB_MAX_STAGES)
        return s_fail (path, err, map,
                       "capacity from %g/s to %g/s by %gx makes %.0f steps, at most %d: take a "
                       "larger step or a narrower range",
                       shape->start_per_s, shape->max_per_s, shape->step, n, FB_MAX_STAGES);
    shape->n_stages = (int)n;
    for (int i = 0; i < shape->n_stages; i++)
        shape->stages[i] =
            (fb_plan_stage_t){shape->hold_ns, shape->start_per_s * pow (shape->step, i)};
    timing->duration_ns = shape->hold_ns * shape->n_stages;
    timing->rate_per_s = shape->stages[shape->n_stages - 1].rate_per_s;
    if (timing->duration_ns > 7 * 24 * 3600 * 1000000000LL)
        return s_fail (path, err, map, "the capacity steps must last at most 7 days in all");
    return 0;
}

static int s_hold (const fb_yamltree_node_t *node, const char *path,
                   const fb_shape_timing_t *timing, int64_t *hold_ns, fb_err_t *err) {
    char a[32];
    if (s_stage_duration (node, path, -1, hold_ns, err) != 0)
        return -1;
    if (*hold_ns < timing->interval_ns || *hold_ns % timing->interval_ns != 0)
        return s_fail (path, err, node,
                       "capacity.hold must be a whole number of intervals of %s (got %s)",
                       fb_units_format_ns ((double)timing->interval_ns, a, sizeof a), node->text);
    return 0;
}

static int s_capacity (const fb_yamltree_node_t *map, const char *path, const fb_workload_t *wl,
                       fb_shape_t *shape, fb_shape_timing_t *timing, fb_err_t *err) {
    static const char *const others[] = {"rate", "stages", "ramp", "duration", NULL};
    const fb_yamltree_node_t *cap = s_get (map, "capacity");
    char got[64];
    if (!cap)
        return 0;
    for (int i = 0; others[i]; i++)
        if (s_get (map, others[i]))
            return s_fail (path, err, s_get (map, others[i]),
                           "capacity sets the rates (its steps) and the duration: expected no "
                           "%s: with it",
                           others[i]);
    if (cap->kind != FB_YAMLTREE_MAP)
        return s_fail (path, err, cap,
                       "capacity must be a mapping such as { objective: \"p99 < 2ms\", start: "
                       "1000/s, max: 100000/s } (got %s)",
                       fb_yamltree_describe (cap, got, sizeof got));
    for (int k = 0; k + 1 < cap->n; k += 2) {
        const char *key = cap->items[k]->text;
        if (cap->items[k]->kind != FB_YAMLTREE_SCALAR ||
            !strstr (" objective start max step hold ", key) || !key[0] || strchr (key, ' '))
            return s_fail (path, err, cap->items[k],
                           "unknown key in capacity (expected one of: objective, start, max, "
                           "step, hold)");
    }
    const fb_yamltree_node_t *objective = s_get (cap, "objective"), *start = s_get (cap, "start"),
                             *max = s_get (cap, "max"), *step = s_get (cap, "step"),
                             *hold = s_get (cap, "hold");
    if (!objective || !start || !max)
        return s_fail (path, err, cap,
                       "missing required key \"%s\" in capacity (expected { objective: \"p99 < "
                       "2ms\", start: 1000/s, max: 100000/s })",
                       !objective ? "objective"
                       : !start   ? "start"
                                  : "max");
    shape->capacity = true;
    shape->step = 1.25;
    shape->hold_ns = 10 * 1000000000LL;
    if (s_objective (objective, path, wl, &shape->objective, err) != 0 ||
        s_capacity_rate (start, path, "start", timing, &shape->start_per_s, err) != 0 ||
        s_capacity_rate (max, path, "max", timing, &shape->max_per_s, err) != 0 ||
        (step && s_capacity_step (step, path, &shape->step, err) != 0) ||
        (hold && s_hold (hold, path, timing, &shape->hold_ns, err) != 0))
        return -1;
    if (!hold && shape->hold_ns % timing->interval_ns != 0)
        return s_fail (path, err, cap,
                       "capacity.hold (10s when not given) must be a whole "
                       "number of intervals");
    if (shape->start_per_s > shape->max_per_s)
        return s_fail (path, err, start, "capacity.start (%s) must not be above max (%s)",
                       start->text, max->text);
    return s_capacity_steps (cap, path, shape, timing, err);
}

/* A word of words (NULL-terminated) at key; its index into *value. */
static int s_word (const fb_yamltree_node_t *node, const char *path, const char *key,
                   const char *const *words, int *value, fb_err_t *err) {
    char q[64];
    if (s_scalar (node, path, key, words[0], err) != 0)
        return -1;
    for (int i = 0; words[i]; i++)
        if (strcmp (node->text, words[i]) == 0) {
            *value = i;
            return 0;
        }
    return s_fail (path, err, node, "%s must be %s or %s (got \"%s\")", key, words[0], words[1],
                   fb_yamltree_quote (node->text, node->len, q, sizeof q));
}

int fb_shape_parse (const fb_yamltree_node_t *map, const char *path, const fb_workload_t *wl,
                    fb_shape_t *shape, fb_shape_timing_t *timing, fb_err_t *err) {
    static const char *const ramps[] = {"step", "linear", NULL};
    static const char *const arrivals[] = {"uniform", "poisson", NULL};
    memset (shape, 0, sizeof *shape);
    if (s_stages (map, path, shape, timing, err) != 0 ||
        s_capacity (map, path, wl, shape, timing, err) != 0)
        return -1;
    const fb_yamltree_node_t *ramp = s_get (map, "ramp"), *arr = s_get (map, "arrivals"),
                             *seed = s_get (map, "seed");
    if (ramp && s_word (ramp, path, "ramp", ramps, &shape->ramp, err) != 0)
        return -1;
    if (ramp && shape->n_stages == 0)
        return s_fail (path, err, ramp,
                       "ramp is how stages follow each other: expected stages: "
                       "with it");
    if (arr && s_word (arr, path, "arrivals", arrivals, &shape->arrivals, err) != 0)
        return -1;
    if (arr && !(timing->rate_per_s > 0))
        return s_fail (path, err, arr,
                       "arrivals spaces an open loop's operations: expected rate: or stages: "
                       "with it (a closed loop has no arrivals)");
    if (!seed)
        return 0;
    int64_t value = 0;
    char q[64];
    if (shape->arrivals != FB_ARRIVALS_POISSON)
        return s_fail (path, err, seed, "seed is for arrivals: poisson (got no poisson arrivals)");
    if (s_scalar (seed, path, "seed", "12345", err) != 0)
        return -1;
    if (fb_units_integer (seed->text, &value, NULL) != 0 || value < 0)
        return s_fail (path, err, seed,
                       "seed must be an integer from 0 to 9223372036854775807 (got \"%s\")",
                       fb_yamltree_quote (seed->text, seed->len, q, sizeof q));
    shape->seed_given = true;
    shape->seed = (uint64_t)value;
    return 0;
}

static uint64_t s_splitmix (uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* FNV-1a, 64 bits: a text to a number, the same on every machine. */
static uint64_t s_fnv (const char *text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

uint64_t fb_shape_seed (const fb_shape_t *shape, const char *run_id, int index) {
    if (shape->seed_given)
        return shape->seed;
    /* JSON and YAML readers keep integers exactly up to 2^53 at best: a seed below that can
     * be copied from run.json into seed: as it is. */
    return s_splitmix (s_fnv (run_id) + (uint64_t)index) >> 11;
}

uint64_t fb_shape_host_seed (uint64_t seed, const char *host_id) {
    return s_splitmix (seed ^ s_fnv (host_id));
}

void fb_shape_to_plan (const fb_shape_t *shape, uint64_t seed, fb_plan_workload_t *plan) {
    plan->n_stages = shape->n_stages;
    memcpy (plan->stages, shape->stages, sizeof plan->stages);
    plan->ramp = shape->ramp;
    plan->arrivals = shape->arrivals;
    plan->seed = seed;
    if (shape->capacity) {
        snprintf (plan->capacity_metric, sizeof plan->capacity_metric, "%s",
                  shape->objective.measure.metric);
        plan->capacity_percentile = shape->objective.measure.percentile;
        plan->capacity_limit_ns = llround (shape->objective.value);
        plan->capacity_inclusive = shape->objective.cmp == FB_CMP_LE;
    }
}

void fb_shape_json (const fb_shape_t *shape, uint64_t seed, bool open_loop, json_t *workload) {
    if (!workload || !open_loop)
        return;
    if (shape->n_stages > 0) {
        json_t *stages = json_array ();
        for (int i = 0; stages && i < shape->n_stages; i++)
            json_array_append_new (stages, json_pack ("{s:f,s:f}", "duration_s",
                                                      shape->stages[i].duration_ns / 1e9,
                                                      "rate_per_s", shape->stages[i].rate_per_s));
        json_object_set_new (workload, "stages", stages);
        json_object_set_new (workload, "ramp", json_string (fb_shape_ramp_name (shape->ramp)));
    }
    if (shape->capacity)
        json_object_set_new (workload, "capacity",
                             json_pack ("{s:s,s:f,s:f,s:f,s:f}", "objective", shape->objective.text,
                                        "start_per_s", shape->start_per_s, "max_per_s",
                                        shape->max_per_s, "step", shape->step, "hold_s",
                                        shape->hold_ns / 1e9));
    json_object_set_new (workload, "arrivals",
                         json_string (fb_shape_arrivals_name (shape->arrivals)));
    if (shape->arrivals == FB_ARRIVALS_POISSON)
        json_object_set_new (workload, "seed", json_integer ((json_int_t)seed));
}

bool fb_shape_json_differs (const json_t *before, const json_t *now, char *why, size_t size) {
    static const char *const keys[] = {"stages", "ramp", "arrivals", "capacity"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const json_t *a = json_object_get (before, keys[i]), *b = json_object_get (now, keys[i]);
        if (!(a == NULL && b == NULL) && !(a && b && json_equal ((json_t *)a, (json_t *)b))) {
            char *was = a ? json_dumps (a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            char *is = b ? json_dumps (b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            snprintf (why, size, "baseline ran with %s %.60s, this run with %.60s", keys[i],
                      was ? was : "(none)", is ? is : "(none)");
            free (was);
            free (is);
            return true;
        }
    }
    return false;
}

bool fb_shape_differs (const json_t *before, const fb_shape_t *shape, bool open_loop, char *why,
                       size_t size) {
    json_t *now = json_object ();
    fb_shape_json (shape, 0, open_loop, now);
    bool differs = now && fb_shape_json_differs (before, now, why, size);
    json_decref (now);
    return differs;
}

const char *fb_shape_ramp_name (int ramp) { return ramp == FB_RAMP_LINEAR ? "linear" : "step"; }

const char *fb_shape_arrivals_name (int arrivals) {
    return arrivals == FB_ARRIVALS_POISSON ? "poisson" : "uniform";
}

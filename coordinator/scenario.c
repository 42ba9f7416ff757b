/* scenario.c: the scenario file. yamltree reads it into a small tree with a position on every
 * node (so every error can say file:line:col), then one function per section checks it against
 * the schema and each workload kind's params. Anchors and aliases are refused there: a scenario
 * is short, and a value written out is one a reader can see. */
#include "coordinator/scenario.h"

#include "common/clock.h"
#include "common/units.h"
#include "common/yamltree.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define S_MAX_FILE_BYTES (1024 * 1024)
#define S_MAX_KEYS 64
#define S_MIN_INTERVAL_NS (100 * 1000000LL)
#define S_MAX_AGENTS 10000
#define S_MAX_CONCURRENCY 4096

typedef struct {
    const char *path;
    const char *text; /* the whole input */
    size_t len;
    fb_err_t *err;
} s_ctx_t;

/* A duration and the node it came from, so that limits can point at the right line. */
typedef struct {
    int64_t ns;
    const fb_yamltree_node_t *node;
} s_timing_t;

/* ---- messages and tree ----------------------------------------------------------------- */

#define s_fail_at(ctx, line, col, ...)                                                             \
    fb_yamltree_fail_at ((ctx)->err, (ctx)->path, (line), (col), __VA_ARGS__)
#define s_fail(ctx, node, ...) s_fail_at ((ctx), (node)->line, (node)->col, __VA_ARGS__)

/* Scenario messages show text up to a NUL (a "\0" escape could put one there). */
static const char *s_quote (const char *text, char *buf, size_t size) {
    return fb_yamltree_quote (text, strlen (text), buf, size);
}

static const char *s_describe (const fb_yamltree_node_t *node, char *buf, size_t size) {
    fb_yamltree_node_t shown = *node;
    if (node->kind == FB_YAMLTREE_SCALAR)
        shown.len = strlen (node->text);
    return fb_yamltree_describe (&shown, buf, size);
}

static fb_yamltree_node_t *s_read_tree (s_ctx_t *ctx) {
    static const fb_yamltree_opts_t opts = {.what = "a scenario", .explain = true};
    fb_yamltree_node_t *root = NULL;
    if (fb_yamltree_parse (ctx->text, ctx->len, ctx->path, &opts, &root, ctx->err) != 0)
        return NULL;
    if (!root || (root->kind == FB_YAMLTREE_SCALAR && root->plain && root->len == 0)) {
        fb_yamltree_destroy (&root);
        s_fail_at (ctx, 1, 1,
                   "expected a scenario: a mapping with name and workloads "
                   "(got an empty file)");
    }
    return root;
}

/* ---- schema helpers -------------------------------------------------------------------- */

/* Every key of map is a scalar, given once and one of known (any key when known is NULL). */
static int s_check_keys (s_ctx_t *ctx, const fb_yamltree_node_t *map, const char *const *known,
                         const char *where) {
    char got[96];
    /* No section has more keys; the cap also keeps the duplicate check below cheap. */
    if (map->n / 2 > S_MAX_KEYS)
        return s_fail (ctx, map, "%s must have at most %d keys (got %d)", where, S_MAX_KEYS,
                       map->n / 2);
    for (int i = 0; i + 1 < map->n; i += 2) {
        const fb_yamltree_node_t *key = map->items[i];
        if (key->kind != FB_YAMLTREE_SCALAR)
            return s_fail (ctx, key, "expected a key of %s (got %s)", where,
                           s_describe (key, got, sizeof got));
        for (int j = 0; j < i; j += 2)
            if (strcmp (map->items[j]->text, key->text) == 0)
                return s_fail (ctx, key, "duplicate key \"%s\" in %s (first at %d:%d)",
                               s_quote (key->text, got, sizeof got), where, map->items[j]->line,
                               map->items[j]->col);
        bool found = !known; /* NULL: any key */
        for (int k = 0; known && known[k] && !found; k++)
            found = strcmp (known[k], key->text) == 0;
        if (!found) {
            char list[200] = "";
            size_t at = 0;
            for (int k = 0; known[k] && at < sizeof list; k++)
                at +=
                    (size_t)snprintf (list + at, sizeof list - at, "%s%s", k ? ", " : "", known[k]);
            return s_fail (ctx, key, "unknown key \"%s\" in %s (expected one of: %s)",
                           s_quote (key->text, got, sizeof got), where, list);
        }
    }
    return 0;
}

static const fb_yamltree_node_t *s_get (const fb_yamltree_node_t *map, const char *key) {
    for (int i = 0; map && i + 1 < map->n; i += 2)
        if (map->items[i]->kind == FB_YAMLTREE_SCALAR && strcmp (map->items[i]->text, key) == 0)
            return map->items[i + 1];
    return NULL;
}

static int s_expect_kind (s_ctx_t *ctx, const fb_yamltree_node_t *node, fb_yamltree_kind_t kind,
                          const char *what, const char *example) {
    char got[96];
    if (node->kind == kind && (kind != FB_YAMLTREE_SCALAR || !node->plain || node->len > 0))
        return 0;
    const char *shape = kind == FB_YAMLTREE_MAP   ? "a mapping"
                        : kind == FB_YAMLTREE_SEQ ? "a list"
                                                  : "a value";
    return s_fail (ctx, node, "%s must be %s such as %s (got %s)", what, shape, example,
                   s_describe (node, got, sizeof got));
}

/* A scalar without NUL bytes (a "\0" escape could put one there). */
static int s_text (s_ctx_t *ctx, const fb_yamltree_node_t *node, const char *what,
                   const char *example) {
    if (s_expect_kind (ctx, node, FB_YAMLTREE_SCALAR, what, example) != 0)
        return -1;
    if (strlen (node->text) != node->len)
        return s_fail (ctx, node, "%s must be text without NUL characters (got a NUL)", what);
    return 0;
}

/* A name of [A-Za-z0-9_.-], 1..size-1 characters. */
static int s_name (s_ctx_t *ctx, const fb_yamltree_node_t *node, const char *what, char *buf,
                   size_t size) {
    if (s_text (ctx, node, what, "bus-burst") != 0)
        return -1;
    char q[64];
    bool ok = node->len > 0 && node->len < size;
    for (const char *p = node->text; ok && *p; p++)
        ok = isalnum ((unsigned char)*p) || strchr ("_.-", *p);
    if (!ok)
        return s_fail (ctx, node, "%s must be 1 to %zu of A-Z a-z 0-9 _ . - (got \"%s\")", what,
                       size - 1, s_quote (node->text, q, sizeof q));
    snprintf (buf, size, "%s", node->text);
    return 0;
}

static int s_integer (s_ctx_t *ctx, const fb_yamltree_node_t *node, const char *what, int64_t min,
                      int64_t max, int *value) {
    if (s_text (ctx, node, what, "3") != 0)
        return -1;
    int64_t v = 0;
    char q[64];
    if (fb_units_integer (node->text, &v, NULL) != 0 || v < min || v > max)
        return s_fail (ctx, node, "%s must be an integer from %lld to %lld (got \"%s\")", what,
                       (long long)min, (long long)max, s_quote (node->text, q, sizeof q));
    *value = (int)v;
    return 0;
}

static int s_duration (s_ctx_t *ctx, const fb_yamltree_node_t *node, const char *what,
                       int64_t min_ns, s_timing_t *timing) {
    if (!node)
        return 0;
    if (s_text (ctx, node, what, "10s") != 0)
        return -1;
    fb_err_t err;
    int64_t ns = 0;
    if (fb_units_duration_ns (node->text, &ns, &err) != 0)
        return s_fail (ctx, node, "%s: %s", what, err.msg);
    char lo[32];
    if (ns < min_ns)
        return s_fail (ctx, node, "%s must be at least %s (got %s)", what,
                       fb_units_format_ns ((double)min_ns, lo, sizeof lo), node->text);
    if (ns > FB_SCENARIO_MAX_DURATION_NS)
        return s_fail (ctx, node, "%s must be at most 10080m (7 days) (got %s)", what, node->text);
    timing->ns = ns;
    timing->node = node;
    return 0;
}

/* ---- sections -------------------------------------------------------------------------- */

static int s_parse_labels (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_t *sc) {
    if (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "labels", "{ arch: [x86_64, aarch64] }") != 0 ||
        s_check_keys (ctx, map, NULL, "labels") != 0)
        return -1;
    for (int i = 0; i + 1 < map->n; i += 2) {
        const fb_yamltree_node_t *key = map->items[i], *value = map->items[i + 1];
        if (sc->n_labels == FB_MAX_LABELS)
            return s_fail (ctx, key, "labels must have at most %d keys (got more)", FB_MAX_LABELS);
        fb_label_match_t *label = &sc->labels[sc->n_labels++];
        if (s_name (ctx, key, "a label key", label->key, sizeof label->key) != 0)
            return -1;
        bool list = value->kind == FB_YAMLTREE_SEQ;
        int n = list ? value->n : 1;
        if (list && (n == 0 || n > FB_MAX_LABEL_VALUES))
            return s_fail (ctx, value, "label %s must have 1 to %d values (got %d)", label->key,
                           FB_MAX_LABEL_VALUES, n);
        for (int j = 0; j < n; j++) {
            const fb_yamltree_node_t *v = list ? value->items[j] : value;
            if (s_text (ctx, v, "a label value", "x86_64") != 0)
                return -1;
            if (v->len >= sizeof label->values[0])
                return s_fail (ctx, v, "a label value must be at most %zu characters (got %zu)",
                               sizeof label->values[0] - 1, v->len);
            snprintf (label->values[label->n_values++], sizeof label->values[0], "%s", v->text);
        }
    }
    return 0;
}

static int s_parse_agents (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_t *sc) {
    static const char *const known[] = {"expect",     "labels", "join_timeout", "heartbeat_timeout",
                                        "allow_lost", NULL};
    if (!map)
        return 0;
    if (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "agents", "{ expect: 3 }") != 0 ||
        s_check_keys (ctx, map, known, "agents") != 0)
        return -1;
    const fb_yamltree_node_t *node;
    if ((node = s_get (map, "expect")) &&
        s_integer (ctx, node, "agents.expect", 1, S_MAX_AGENTS, &sc->expect) != 0)
        return -1;
    if ((node = s_get (map, "allow_lost")) &&
        s_integer (ctx, node, "agents.allow_lost", 0, sc->expect - 1, &sc->allow_lost) != 0)
        return -1;
    s_timing_t join = {sc->join_timeout_ns, NULL}, heartbeat = {sc->heartbeat_timeout_ns, NULL};
    if (s_duration (ctx, s_get (map, "join_timeout"), "agents.join_timeout", FB_NS_PER_S, &join) ||
        s_duration (ctx, s_get (map, "heartbeat_timeout"), "agents.heartbeat_timeout", FB_NS_PER_S,
                    &heartbeat))
        return -1;
    sc->join_timeout_ns = join.ns;
    sc->heartbeat_timeout_ns = heartbeat.ns;
    if ((node = s_get (map, "labels")) && s_parse_labels (ctx, node, sc) != 0)
        return -1;
    return 0;
}

typedef struct {
    s_timing_t duration, warmup, interval;
} s_times_t;

/* duration, warmup and interval of map, each kept from times when absent. */
static int s_parse_times (s_ctx_t *ctx, const fb_yamltree_node_t *map, s_times_t *times) {
    if (s_duration (ctx, s_get (map, "duration"), "duration", 1, &times->duration) != 0 ||
        s_duration (ctx, s_get (map, "warmup"), "warmup", 0, &times->warmup) != 0 ||
        s_duration (ctx, s_get (map, "interval"), "interval", S_MIN_INTERVAL_NS,
                    &times->interval) != 0)
        return -1;
    if (times->duration.ns >= times->interval.ns)
        return 0;
    /* Point at whichever of the two this map set; failing that, at the map. */
    const fb_yamltree_node_t *node = s_get (map, "duration")   ? times->duration.node
                                     : s_get (map, "interval") ? times->interval.node
                                                               : map;
    char interval[32], duration[32];
    return s_fail (ctx, node, "duration must be at least the interval, %s (got %s)",
                   fb_units_format_ns ((double)times->interval.ns, interval, sizeof interval),
                   fb_units_format_ns ((double)times->duration.ns, duration, sizeof duration));
}

static int s_parse_defaults (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_t *sc,
                             s_times_t *times) {
    static const char *const known[] = {"duration", "warmup", "interval", NULL};
    if (map &&
        (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "defaults", "{ duration: 30s }") != 0 ||
         s_check_keys (ctx, map, known, "defaults") != 0 || s_parse_times (ctx, map, times) != 0))
        return -1;
    sc->duration_ns = times->duration.ns;
    sc->warmup_ns = times->warmup.ns;
    sc->interval_ns = times->interval.ns;
    return 0;
}

static const fb_param_value_t *s_find_param (const fb_params_t *params, const char *name) {
    for (int i = 0; i < params->n; i++)
        if (strcmp (params->v[i].spec->name, name) == 0)
            return &params->v[i];
    return NULL;
}

/* The params: map of workload w, each checked by the kind's own rules. */
static int s_parse_given_params (s_ctx_t *ctx, const fb_yamltree_node_t *map,
                                 fb_scenario_workload_t *w) {
    if (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "params", "{ publishers: 500 }") != 0 ||
        s_check_keys (ctx, map, NULL, "params") != 0)
        return -1;
    for (int i = 0; i + 1 < map->n; i += 2) {
        const fb_yamltree_node_t *key = map->items[i], *value = map->items[i + 1];
        fb_err_t err;
        if (!s_find_param (&w->resolved, key->text)) {
            fb_params_set (&w->resolved, key->text, "", &err); /* for its message */
            return s_fail (ctx, key, "%s", err.msg);
        }
        const fb_param_value_t *current = s_find_param (&w->resolved, key->text);
        const char *example = current->spec->default_text;
        if (s_text (ctx, value, key->text, example && example[0] ? example : "...") != 0)
            return -1;
        if (fb_params_set (&w->resolved, key->text, value->text, &err) != 0)
            return s_fail (ctx, value, "%s", err.msg);
        fb_plan_param_t *param = &w->params[w->n_params++];
        snprintf (param->name, sizeof param->name, "%s", key->text);
        snprintf (param->value, sizeof param->value, "%s", value->text);
    }
    return 0;
}

/* The params of workload w (its node map, params: map, NULL when absent). */
static int s_parse_params (s_ctx_t *ctx, const fb_yamltree_node_t *workload,
                           const fb_yamltree_node_t *map, fb_scenario_workload_t *w) {
    fb_err_t err;
    if (fb_params_init (&w->resolved, w->wl, ctx->err) != 0)
        return -1;
    if (map && s_parse_given_params (ctx, map, w) != 0)
        return -1;
    if (fb_params_check_required (&w->resolved, &err) != 0)
        return s_fail (ctx, map ? map : workload, "%s", err.msg);
    return 0;
}

/* per: of a target or gate. */
static int s_parse_per (s_ctx_t *ctx, const fb_yamltree_node_t *node, fb_per_t *per) {
    fb_err_t err;
    if (!node)
        return 0;
    if (s_text (ctx, node, "per", "host") != 0)
        return -1;
    if (fb_target_per_parse (node->text, per, &err) != 0)
        return s_fail (ctx, node, "per: %s", err.msg);
    return 0;
}

/* abort_on_fail: true|false and delay: (from the measured window's start, within it). */
static int s_parse_abort (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_target_t *target,
                          const fb_scenario_workload_t *w) {
    const fb_yamltree_node_t *on = s_get (map, "abort_on_fail"), *delay = s_get (map, "delay");
    if (on && s_text (ctx, on, "abort_on_fail", "true") != 0)
        return -1;
    if (on && strcmp (on->text, "true") != 0 && strcmp (on->text, "false") != 0)
        return s_fail (ctx, on, "abort_on_fail must be true or false (got \"%.40s\")", on->text);
    target->abort_on_fail = on && strcmp (on->text, "true") == 0;
    if (!delay)
        return 0;
    if (!target->abort_on_fail)
        return s_fail (ctx, delay,
                       "delay is how long abort_on_fail waits: expected abort_on_fail: true "
                       "with it (got delay without it)");
    s_timing_t timing = {0, NULL};
    if (s_duration (ctx, delay, "delay", 0, &timing) != 0)
        return -1;
    char limit[32];
    if (timing.ns >= w->duration_ns)
        return s_fail (ctx, delay,
                       "delay must be shorter than the workload's duration, %s, or the target "
                       "could never stop the run (got %s)",
                       fb_units_format_ns ((double)w->duration_ns, limit, sizeof limit),
                       delay->text);
    target->abort_delay_ns = timing.ns;
    return 0;
}

/* "p95 < 120us", or { target: "p95 < 120us", per: host, abort_on_fail: true, delay: 5s }. */
static int s_parse_target (s_ctx_t *ctx, const fb_yamltree_node_t *node,
                           fb_scenario_workload_t *w) {
    static const char *const known[] = {"target", "per", "abort_on_fail", "delay", NULL};
    fb_target_t *target = &w->targets[w->n_targets];
    const fb_yamltree_node_t *map = NULL;
    fb_err_t err;
    if (node->kind == FB_YAMLTREE_MAP) {
        map = node;
        if (s_check_keys (ctx, map, known, "a target") != 0)
            return -1;
        if (!(node = s_get (map, "target")))
            return s_fail (ctx, map,
                           "missing required key \"target\" in a target (expected "
                           "{ target: \"p95 < 120us\", per: host })");
    }
    if (s_text (ctx, node, "a target", "\"p95 < 120us\"") != 0)
        return -1;
    if (fb_target_parse (node->text, w->wl, target, &err) != 0)
        return s_fail (ctx, node, "%s", err.msg);
    if (target->measure.stat == FB_STAT_COUNTER && !w->shape.capacity &&
        fb_counter_is_capacity (target->measure.metric))
        return s_fail (ctx, node,
                       "%s is what a capacity search finds: expected capacity: "
                       "on this workload with a target on it",
                       target->measure.metric);
    if (map && (s_parse_per (ctx, s_get (map, "per"), &target->per) != 0 ||
                s_parse_abort (ctx, map, target, w) != 0))
        return -1;
    w->n_targets++;
    return 0;
}

static int s_parse_targets (s_ctx_t *ctx, const fb_yamltree_node_t *list,
                            fb_scenario_workload_t *w) {
    if (!list)
        return 0;
    if (s_expect_kind (ctx, list, FB_YAMLTREE_SEQ, "targets", "[ \"p95 < 120us\" ]") != 0)
        return -1;
    if (list->n > FB_MAX_TARGETS)
        return s_fail (ctx, list, "targets must have at most %d entries (got %d)", FB_MAX_TARGETS,
                       list->n);
    for (int i = 0; i < list->n; i++)
        if (s_parse_target (ctx, list->items[i], w) != 0)
            return -1;
    return 0;
}

static int s_parse_gate (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_workload_t *w) {
    static const char *const known[] = {
        "metric", "max_regression", "confidence", "on_inconclusive", "per", NULL};
    if (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "a gate",
                       "{ metric: p95, max_regression: 20% }") != 0 ||
        s_check_keys (ctx, map, known, "a gate") != 0)
        return -1;
    const fb_yamltree_node_t *metric = s_get (map, "metric"),
                             *regression = s_get (map, "max_regression");
    for (int k = 0; k < 2; k++)
        if (!(k ? regression : metric))
            return s_fail (ctx, map,
                           "missing required key \"%s\" in a gate (expected "
                           "{ metric: p95, max_regression: 20%% })",
                           known[k]);
    fb_gate_t *gate = &w->gates[w->n_gates];
    fb_err_t err;
    if (s_text (ctx, metric, "metric", "p95") != 0 ||
        s_text (ctx, regression, "max_regression", "20%") != 0)
        return -1;
    if (fb_target_measure_parse (metric->text, w->wl, &gate->measure, &err) != 0)
        return s_fail (ctx, metric, "metric: %s", err.msg);
    if (fb_units_percent (regression->text, &gate->max_regression, &err) != 0)
        return s_fail (ctx, regression, "max_regression: %s", err.msg);
    const fb_yamltree_node_t *conf = s_get (map, "confidence"),
                             *inc = s_get (map, "on_inconclusive");
    if (conf && s_text (ctx, conf, "confidence", "95%") != 0)
        return -1;
    if (conf && fb_target_gate_confidence (conf->text, &gate->confidence, &err) != 0)
        return s_fail (ctx, conf, "confidence: %s", err.msg);
    if (inc && s_text (ctx, inc, "on_inconclusive", "pass") != 0)
        return -1;
    if (inc && fb_target_gate_on_inconclusive (inc->text, &gate->on_inconclusive, &err) != 0)
        return s_fail (ctx, inc, "on_inconclusive: %s", err.msg);
    const fb_yamltree_node_t *per = s_get (map, "per");
    if (s_parse_per (ctx, per, &gate->per) != 0)
        return -1;
    w->n_gates++;
    return 0;
}

static int s_parse_gates (s_ctx_t *ctx, const fb_yamltree_node_t *list, fb_scenario_workload_t *w) {
    if (!list)
        return 0;
    if (s_expect_kind (ctx, list, FB_YAMLTREE_SEQ, "gates",
                       "[ { metric: p95, max_regression: 20% } ]"))
        return -1;
    if (list->n > FB_MAX_GATES)
        return s_fail (ctx, list, "gates must have at most %d entries (got %d)", FB_MAX_GATES,
                       list->n);
    for (int i = 0; i < list->n; i++)
        if (s_parse_gate (ctx, list->items[i], w) != 0)
            return -1;
    return 0;
}

/* rate, concurrency, duration, warmup and interval of one workload. */
static int s_parse_run (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_workload_t *w,
                        const s_times_t *defaults) {
    const fb_yamltree_node_t *node;
    fb_err_t err;
    if ((node = s_get (map, "rate"))) {
        if (s_text (ctx, node, "rate", "20000/s") != 0)
            return -1;
        if (fb_units_rate_per_s (node->text, &w->rate_per_s, &err) != 0)
            return s_fail (ctx, node, "rate: %s", err.msg);
        double max = w->wl->max_rate_per_s > 0 ? w->wl->max_rate_per_s : FB_MAX_RATE_PER_S;
        if (w->rate_per_s > max)
            return s_fail (ctx, node,
                           "rate must be at most %.0f/s per agent for %s, the most one host "
                           "can schedule (got %s)",
                           max, w->wl->kind, node->text);
    }
    if ((node = s_get (map, "repeat")) &&
        s_integer (ctx, node, "repeat", 1, FB_MAX_REPEAT, &w->repeat) != 0)
        return -1;
    if ((node = s_get (map, "concurrency"))) {
        const char *param = w->wl->concurrency_param;
        if (s_integer (ctx, node, "concurrency", 1, S_MAX_CONCURRENCY, &w->concurrency) != 0)
            return -1;
        if (param && fb_params_given (&w->resolved, param))
            return s_fail (ctx, node,
                           "expected concurrency or params.%s, which sets the concurrency of "
                           "%s, not both (got both)",
                           param, w->wl->kind);
    }
    s_times_t times = *defaults;
    if (s_parse_times (ctx, map, &times) != 0)
        return -1;
    w->warmup_ns = times.warmup.ns;
    w->interval_ns = times.interval.ns;
    fb_shape_timing_t timing = {w->rate_per_s, times.duration.ns, times.interval.ns,
                                w->wl->max_rate_per_s > 0 ? w->wl->max_rate_per_s
                                                          : FB_MAX_RATE_PER_S};
    if (fb_shape_parse (map, ctx->path, w->wl, &w->shape, &timing, ctx->err) != 0)
        return -1;
    w->rate_per_s = timing.rate_per_s;
    w->duration_ns = timing.duration_ns;
    return 0;
}

static int s_parse_kind (s_ctx_t *ctx, const fb_yamltree_node_t *node, fb_scenario_workload_t *w) {
    char got[64], known[160] = "";
    if (s_text (ctx, node, "kind", "eventbus") != 0)
        return -1;
    w->wl = fb_workload_find (node->text);
    if (w->wl)
        return 0;
    const fb_workload_t *const *all = fb_workload_all ();
    size_t at = 0;
    for (int i = 0; all[i] && at < sizeof known; i++)
        at += (size_t)snprintf (known + at, sizeof known - at, "%s%s", i ? ", " : "", all[i]->kind);
    return s_fail (ctx, node, "unknown workload kind \"%s\" (expected one of: %s)",
                   s_quote (node->text, got, sizeof got), known);
}

static int s_parse_workload (s_ctx_t *ctx, const fb_yamltree_node_t *map, fb_scenario_t *sc,
                             const s_times_t *defaults) {
    static const char *const known[] = {"name",     "kind",   "params",   "rate",     "concurrency",
                                        "duration", "warmup", "interval", "targets",  "gates",
                                        "repeat",   "stages", "ramp",     "arrivals", "seed",
                                        "capacity", NULL};
    if (s_expect_kind (ctx, map, FB_YAMLTREE_MAP, "a workload",
                       "{ name: bus-burst, kind: eventbus }") ||
        s_check_keys (ctx, map, known, "a workload") != 0)
        return -1;
    fb_scenario_workload_t *w = &sc->workloads[sc->n_workloads];
    w->line = map->line, w->col = map->col;
    const fb_yamltree_node_t *name = s_get (map, "name"), *kind = s_get (map, "kind");
    if (!name || !kind)
        return s_fail (ctx, map,
                       "missing required key \"%s\" in a workload (expected "
                       "{ name: bus-burst, kind: eventbus, ... })",
                       name ? "kind" : "name");
    if (s_name (ctx, name, "a workload name", w->name, sizeof w->name) != 0)
        return -1;
    for (int i = 0; i < sc->n_workloads; i++)
        if (strcmp (sc->workloads[i].name, w->name) == 0)
            return s_fail (ctx, name, "duplicate workload name \"%s\" (first at %d:%d)", w->name,
                           sc->workloads[i].line, sc->workloads[i].col);
    if (s_parse_kind (ctx, kind, w) != 0 ||
        s_parse_params (ctx, map, s_get (map, "params"), w) != 0 ||
        s_parse_run (ctx, map, w, defaults) != 0 ||
        s_parse_targets (ctx, s_get (map, "targets"), w) != 0 ||
        s_parse_gates (ctx, s_get (map, "gates"), w) != 0)
        return -1;
    sc->n_workloads++;
    return 0;
}

static int s_parse_root (s_ctx_t *ctx, const fb_yamltree_node_t *root, fb_scenario_t *sc) {
    static const char *const known[] = {"name", "agents", "defaults", "workloads", "repeat", NULL};
    if (s_expect_kind (ctx, root, FB_YAMLTREE_MAP, "a scenario",
                       "{ name: nightly, workloads: [ ... ] }") != 0 ||
        s_check_keys (ctx, root, known, "the scenario") != 0)
        return -1;
    const fb_yamltree_node_t *name = s_get (root, "name"), *workloads = s_get (root, "workloads");
    if (!name || !workloads)
        return s_fail (ctx, root,
                       "missing required key \"%s\" in the scenario (expected "
                       "name: and workloads:)",
                       name ? "workloads" : "name");
    s_times_t defaults = {{10 * FB_NS_PER_S, NULL}, {2 * FB_NS_PER_S, NULL}, {FB_NS_PER_S, NULL}};
    if (s_name (ctx, name, "name", sc->name, sizeof sc->name) != 0 ||
        s_parse_agents (ctx, s_get (root, "agents"), sc) != 0 ||
        s_parse_defaults (ctx, s_get (root, "defaults"), sc, &defaults) != 0)
        return -1;
    const fb_yamltree_node_t *repeat = s_get (root, "repeat");
    if (repeat && s_integer (ctx, repeat, "repeat", 1, FB_MAX_REPEAT, &sc->repeat) != 0)
        return -1;
    if (s_expect_kind (ctx, workloads, FB_YAMLTREE_SEQ, "workloads",
                       "[ { name: a, kind: eventbus } ]"))
        return -1;
    if (workloads->n == 0 || workloads->n > FB_MAX_WORKLOADS)
        return s_fail (ctx, workloads, "workloads must list 1 to %d workloads (got %d)",
                       FB_MAX_WORKLOADS, workloads->n);
    for (int i = 0; i < workloads->n; i++)
        if (s_parse_workload (ctx, workloads->items[i], sc, &defaults) != 0)
            return -1;
    return 0;
}

/* The text as read and its SHA-256, for run.json: what re-runs the run exactly. */
static int s_keep_text (fb_scenario_t *self, const char *text, size_t len) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    self->text = malloc (len + 1);
    if (!self->text || EVP_Digest (text, len, md, &md_len, EVP_sha256 (), NULL) != 1 ||
        md_len != 32)
        return -1;
    memcpy (self->text, text, len);
    self->text[len] = '\0';
    self->text_len = len;
    for (unsigned i = 0; i < md_len; i++)
        snprintf (self->sha256 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* ---- public ---------------------------------------------------------------------------- */

fb_scenario_t *fb_scenario_parse (const char *text, size_t len, const char *path, fb_err_t *err) {
    s_ctx_t ctx = {path ? path : "<scenario>", text, len, err};
    fb_scenario_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "%s: out of memory", ctx.path);
        return NULL;
    }
    snprintf (self->path, sizeof self->path, "%s", ctx.path);
    if (s_keep_text (self, text, len) != 0) {
        fb_err_set (err, FB_ENOMEM, "%s: out of memory", ctx.path);
        fb_scenario_destroy (&self);
        return NULL;
    }
    self->expect = 1;
    self->repeat = 1;
    self->join_timeout_ns = 30 * FB_NS_PER_S;
    self->heartbeat_timeout_ns = 5 * FB_NS_PER_S;
    fb_yamltree_node_t *root = s_read_tree (&ctx);
    if (!root || s_parse_root (&ctx, root, self) != 0)
        fb_scenario_destroy (&self);
    fb_yamltree_destroy (&root);
    return self;
}

fb_scenario_t *fb_scenario_load (const char *path, fb_err_t *err) {
    FILE *file = fopen (path, "rb");
    if (!file) {
        fb_err_set (err, FB_EINPUT, "%s: cannot open the scenario file: %s", path,
                    strerror (errno));
        return NULL;
    }
    char *text = malloc (S_MAX_FILE_BYTES + 1);
    size_t len = text ? fread (text, 1, S_MAX_FILE_BYTES + 1, file) : 0;
    bool failed = !text || ferror (file);
    fclose (file);
    fb_scenario_t *self = NULL;
    if (!text)
        fb_err_set (err, FB_ENOMEM, "%s: out of memory", path);
    else if (failed)
        fb_err_set (err, FB_EINPUT, "%s: cannot read the scenario file", path);
    else if (len > S_MAX_FILE_BYTES)
        fb_err_set (err, FB_EINPUT, "%s: expected a scenario file of at most 1 MB (got more)",
                    path);
    else
        self = fb_scenario_parse (text, len, path, err);
    free (text);
    return self;
}

void fb_scenario_destroy (fb_scenario_t **self_p) {
    if (!*self_p)
        return;
    free ((*self_p)->text);
    free (*self_p);
    *self_p = NULL;
}

int fb_scenario_workload_repeat (const fb_scenario_t *self, int w, int run_repeat) {
    return self->workloads[w].repeat > 0 ? self->workloads[w].repeat : run_repeat;
}

int fb_scenario_repetitions (const fb_scenario_t *self, int run_repeat) {
    int most = 1;
    for (int w = 0; w < self->n_workloads; w++)
        if (fb_scenario_workload_repeat (self, w, run_repeat) > most)
            most = fb_scenario_workload_repeat (self, w, run_repeat);
    return most;
}

int fb_scenario_repetition (const fb_scenario_t *self, int run_repeat, int done,
                            fb_scenario_t *sub) {
    int total = fb_scenario_repetitions (self, run_repeat);
    *sub = *self;
    sub->n_workloads = 0;
    for (int w = 0; w < self->n_workloads; w++)
        if (done >= total - fb_scenario_workload_repeat (self, w, run_repeat))
            sub->workloads[sub->n_workloads++] = self->workloads[w];
    return sub->n_workloads;
}

int64_t fb_scenario_total_ns (const fb_scenario_t *self, int64_t gap_ns) {
    int64_t total = 0;
    for (int w = 0; w < self->n_workloads; w++) {
        const fb_scenario_workload_t *sw = &self->workloads[w];
        if (__builtin_add_overflow (total, sw->warmup_ns, &total) ||
            __builtin_add_overflow (total, sw->duration_ns, &total) ||
            (w > 0 && __builtin_add_overflow (total, gap_ns, &total)))
            return INT64_MAX;
    }
    return total;
}

void fb_scenario_to_plan (const fb_scenario_t *self, const char *run_id, fb_plan_t *plan) {
    memset (plan, 0, sizeof *plan);
    snprintf (plan->run_id, sizeof plan->run_id, "%s", run_id);
    snprintf (plan->scenario, sizeof plan->scenario, "%s", self->name);
    plan->heartbeat_timeout_ns = self->heartbeat_timeout_ns;
    plan->n_workloads = self->n_workloads;
    for (int i = 0; i < self->n_workloads; i++) {
        const fb_scenario_workload_t *w = &self->workloads[i];
        fb_plan_workload_t *p = &plan->workloads[i];
        snprintf (p->name, sizeof p->name, "%s", w->name);
        snprintf (p->kind, sizeof p->kind, "%s", w->wl->kind);
        p->n_params = w->n_params;
        memcpy (p->params, w->params, sizeof p->params);
        p->rate_per_s = w->rate_per_s;
        p->concurrency = w->concurrency;
        p->duration_ns = w->duration_ns;
        p->warmup_ns = w->warmup_ns;
        p->interval_ns = w->interval_ns;
        fb_shape_to_plan (&w->shape, fb_shape_seed (&w->shape, run_id, i), p);
    }
}

/* scenario.c: the scenario file. libyaml's event parser builds a small tree with a position on
 * every node (so every error can say file:line:col), then one function per section checks it
 * against the schema and each workload kind's params. Anchors and aliases are refused: a
 * scenario is short, and a value written out is one a reader can see. */
#include "scenario.h"

#include "clock.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define S_MAX_FILE_BYTES (1024 * 1024)
#define S_MAX_DEPTH 32
#define S_MAX_KEYS 64
#define S_MIN_INTERVAL_NS (100 * 1000000LL)
#define S_MAX_AGENTS 4096
#define S_MAX_CONCURRENCY 4096

typedef enum { S_SCALAR, S_SEQ, S_MAP } s_kind_t;

typedef struct s_node {
    s_kind_t kind;
    int line, col;         /* 1-based */
    char *text;            /* S_SCALAR: the value, NUL-terminated */
    size_t len;            /* S_SCALAR: bytes in text */
    bool plain;            /* S_SCALAR: written without quotes */
    struct s_node **items; /* S_SEQ: the entries; S_MAP: key, value, key, value, ... */
    int n, cap;
} s_node_t;

typedef struct {
    const char *path;
    const char *text; /* the whole input, for positions libyaml gives as byte offsets */
    size_t len;
    fb_err_t *err;
} s_ctx_t;

/* A duration and the node it came from, so that limits can point at the right line. */
typedef struct {
    int64_t ns;
    const s_node_t *node;
} s_timing_t;

/* ---- tree ------------------------------------------------------------------------------ */

static void s_node_destroy (s_node_t **self_p) {
    s_node_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->n; i++)
        s_node_destroy (&self->items[i]);
    free (self->items);
    free (self->text);
    free (self);
    *self_p = NULL;
}

static int s_node_append (s_node_t *parent, s_node_t *child) {
    if (parent->n == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 8;
        s_node_t **items = realloc (parent->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* ---- messages -------------------------------------------------------------------------- */

static int s_fail_at (s_ctx_t *ctx, int line, int col, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static int s_fail_at (s_ctx_t *ctx, int line, int col, const char *fmt, ...) {
    char msg[sizeof ctx->err->msg];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    return fb_err_set (ctx->err, FB_EINPUT, "%s:%d:%d: %s", ctx->path, line, col, msg);
}

#define s_fail(ctx, node, ...) s_fail_at ((ctx), (node)->line, (node)->col, __VA_ARGS__)

/* Scalar text for a message: at most 40 characters, quotes and control bytes escaped. */
static const char *s_quote (const char *text, char *buf, size_t size) {
    size_t at = 0;
    for (const char *p = text; *p && at + 8 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (p - text >= 40) {
            at += (size_t)snprintf (buf + at, size - at, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f)
            at += (size_t)snprintf (buf + at, size - at, "\\x%02x", c);
        else if (c == '"' || c == '\\')
            at += (size_t)snprintf (buf + at, size - at, "\\%c", c);
        else
            buf[at++] = (char)c;
    }
    buf[at] = '\0';
    return buf;
}

/* What a node is, for "(got ...)": a mapping, a list, nothing, or the quoted text. */
static const char *s_describe (const s_node_t *node, char *buf, size_t size) {
    if (node->kind == S_MAP)
        return "a mapping";
    if (node->kind == S_SEQ)
        return "a list";
    if (node->plain && node->len == 0)
        return "nothing";
    char q[64];
    snprintf (buf, size, "\"%s\"", s_quote (node->text, q, sizeof q));
    return buf;
}

/* ---- YAML to tree ---------------------------------------------------------------------- */

/* libyaml reports reading problems (bad UTF-8, control characters) by byte offset. */
static int s_reader_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    size_t offset = parser->problem_offset < ctx->len ? parser->problem_offset : ctx->len;
    /* libyaml points at a bad trailing byte; the sequence's lead byte is the one to show. */
    if (strstr (parser->problem, "trailing"))
        for (size_t back = 1; back <= 3 && back <= offset; back++)
            if (((unsigned char)ctx->text[offset - back] & 0xc0) == 0xc0) {
                offset -= back;
                break;
            }
    int line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)ctx->text[i];
        if (c == '\n')
            line++, col = 1;
        else if ((c & 0xc0) != 0x80)
            col++;
    }
    unsigned char byte = offset < ctx->len ? (unsigned char)ctx->text[offset] : 0;
    if (strstr (parser->problem, "UTF-8"))
        return s_fail_at (ctx, line, col,
                          "invalid UTF-8: a scenario must be UTF-8 text (got byte 0x%02x)", byte);
    if (strstr (parser->problem, "control characters"))
        return s_fail_at (ctx, line, col, "expected text (got control character 0x%02x)", byte);
    return s_fail_at (ctx, line, col, "unreadable YAML: %s", parser->problem);
}

/* Scanner and parser errors carry a mark; a tab in the indentation is the common one. */
static int s_yaml_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    if (parser->error == YAML_READER_ERROR)
        return s_reader_error (ctx, parser);
    if (parser->error == YAML_MEMORY_ERROR)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory reading YAML", ctx->path);
    int line = (int)parser->problem_mark.line + 1, col = (int)parser->problem_mark.column + 1;
    /* A tab in the problem line's indentation, or at the problem itself, is the likely cause:
     * libyaml's own words for it ("cannot start any token") do not say so. */
    const char *p = ctx->text, *end = ctx->text + ctx->len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    bool indent = true;
    for (int c = 1; p < end && *p != '\n' && c <= col; p++) {
        if (*p == '\t' && (indent || c == col))
            return s_fail_at (ctx, line, c,
                              "expected spaces for indentation, YAML does not allow tabs there "
                              "(got a tab character)");
        indent = indent && (*p == ' ' || *p == '\t');
        if (((unsigned char)*p & 0xc0) != 0x80)
            c++;
    }
    char context[96] = "";
    if (parser->context)
        snprintf (context, sizeof context, " (%s at %d:%d)", parser->context,
                  (int)parser->context_mark.line + 1, (int)parser->context_mark.column + 1);
    return s_fail_at (ctx, line, col, "invalid YAML: %s%s", parser->problem, context);
}

/* A new node from a scalar or a collection start; anchors are refused. */
static s_node_t *s_node_from_event (s_ctx_t *ctx, const yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                                : ev->type == YAML_SEQUENCE_START_EVENT
                                    ? ev->data.sequence_start.anchor
                                    : ev->data.mapping_start.anchor;
    if (anchor) {
        s_fail_at (ctx, line, col,
                   "anchors are not supported, write the value out (got anchor &%.40s)", anchor);
        return NULL;
    }
    s_node_t *node = calloc (1, sizeof *node);
    if (!node) {
        fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        return NULL;
    }
    node->line = line, node->col = col;
    node->kind = ev->type == YAML_SCALAR_EVENT           ? S_SCALAR
                 : ev->type == YAML_SEQUENCE_START_EVENT ? S_SEQ
                                                         : S_MAP;
    if (node->kind != S_SCALAR)
        return node;
    node->len = ev->data.scalar.length;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->text = malloc (node->len + 1);
    if (!node->text) {
        free (node);
        fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        return NULL;
    }
    memcpy (node->text, ev->data.scalar.value, node->len);
    node->text[node->len] = '\0';
    return node;
}

/* Handles one event: builds onto the stack of open collections. 1: stream ended. */
static int s_on_event (s_ctx_t *ctx, const yaml_event_t *ev, s_node_t **root, s_node_t **stack,
                       int *depth, int *documents) {
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1)
            return s_fail_at (ctx, line, col, "expected one YAML document (got a second document)");
        return 0;
    case YAML_ALIAS_EVENT:
        return s_fail_at (ctx, line, col,
                          "aliases are not supported, write the value out (got alias *%.40s)",
                          ev->data.alias.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        --*depth;
        return 0;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        break;
    default:
        return 0;
    }
    if (*depth >= S_MAX_DEPTH)
        return s_fail_at (ctx, line, col, "expected at most %d levels of nesting (got more)",
                          S_MAX_DEPTH);
    s_node_t *node = s_node_from_event (ctx, ev);
    if (!node)
        return -1;
    if (*depth == 0)
        *root = node;
    else if (s_node_append (stack[*depth - 1], node) != 0) {
        s_node_destroy (&node);
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    }
    if (node->kind != S_SCALAR)
        stack[(*depth)++] = node;
    return 0;
}

static s_node_t *s_read_tree (s_ctx_t *ctx) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser)) {
        fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        return NULL;
    }
    yaml_parser_set_input_string (&parser, (const unsigned char *)ctx->text, ctx->len);
    s_node_t *root = NULL, *stack[S_MAX_DEPTH];
    int depth = 0, documents = 0, rc = 0;
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse (&parser, &ev)) {
            rc = s_yaml_error (ctx, &parser);
            break;
        }
        rc = s_on_event (ctx, &ev, &root, stack, &depth, &documents);
        yaml_event_delete (&ev);
    }
    yaml_parser_delete (&parser);
    if (rc < 0)
        s_node_destroy (&root);
    else if (!root || (root->kind == S_SCALAR && root->plain && root->len == 0)) {
        s_node_destroy (&root);
        s_fail_at (ctx, 1, 1,
                   "expected a scenario: a mapping with name and workloads "
                   "(got an empty file)");
    }
    return root;
}

/* ---- schema helpers -------------------------------------------------------------------- */

/* Every key of map is a scalar, given once and one of known (any key when known is NULL). */
static int s_check_keys (s_ctx_t *ctx, const s_node_t *map, const char *const *known,
                         const char *where) {
    char got[96];
    /* No section has more keys; the cap also keeps the duplicate check below cheap. */
    if (map->n / 2 > S_MAX_KEYS)
        return s_fail (ctx, map, "%s must have at most %d keys (got %d)", where, S_MAX_KEYS,
                       map->n / 2);
    for (int i = 0; i + 1 < map->n; i += 2) {
        const s_node_t *key = map->items[i];
        if (key->kind != S_SCALAR)
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
            char list[160] = "";
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

static const s_node_t *s_get (const s_node_t *map, const char *key) {
    for (int i = 0; map && i + 1 < map->n; i += 2)
        if (map->items[i]->kind == S_SCALAR && strcmp (map->items[i]->text, key) == 0)
            return map->items[i + 1];
    return NULL;
}

static int s_expect_kind (s_ctx_t *ctx, const s_node_t *node, s_kind_t kind, const char *what,
                          const char *example) {
    char got[96];
    if (node->kind == kind && (kind != S_SCALAR || !node->plain || node->len > 0))
        return 0;
    const char *shape = kind == S_MAP ? "a mapping" : kind == S_SEQ ? "a list" : "a value";
    return s_fail (ctx, node, "%s must be %s such as %s (got %s)", what, shape, example,
                   s_describe (node, got, sizeof got));
}

/* A scalar without NUL bytes (a "\0" escape could put one there). */
static int s_text (s_ctx_t *ctx, const s_node_t *node, const char *what, const char *example) {
    if (s_expect_kind (ctx, node, S_SCALAR, what, example) != 0)
        return -1;
    if (strlen (node->text) != node->len)
        return s_fail (ctx, node, "%s must be text without NUL characters (got a NUL)", what);
    return 0;
}

/* A name of [A-Za-z0-9_.-], 1..size-1 characters. */
static int s_name (s_ctx_t *ctx, const s_node_t *node, const char *what, char *buf, size_t size) {
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

static int s_integer (s_ctx_t *ctx, const s_node_t *node, const char *what, int64_t min,
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

static int s_duration (s_ctx_t *ctx, const s_node_t *node, const char *what, int64_t min_ns,
                       s_timing_t *timing) {
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
    timing->ns = ns;
    timing->node = node;
    return 0;
}

/* ---- sections -------------------------------------------------------------------------- */

static int s_parse_labels (s_ctx_t *ctx, const s_node_t *map, fb_scenario_t *sc) {
    if (s_expect_kind (ctx, map, S_MAP, "labels", "{ arch: [x86_64, aarch64] }") != 0 ||
        s_check_keys (ctx, map, NULL, "labels") != 0)
        return -1;
    for (int i = 0; i + 1 < map->n; i += 2) {
        const s_node_t *key = map->items[i], *value = map->items[i + 1];
        if (sc->n_labels == FB_MAX_LABELS)
            return s_fail (ctx, key, "labels must have at most %d keys (got more)", FB_MAX_LABELS);
        fb_label_match_t *label = &sc->labels[sc->n_labels++];
        if (s_name (ctx, key, "a label key", label->key, sizeof label->key) != 0)
            return -1;
        bool list = value->kind == S_SEQ;
        int n = list ? value->n : 1;
        if (list && (n == 0 || n > FB_MAX_LABEL_VALUES))
            return s_fail (ctx, value, "label %s must have 1 to %d values (got %d)", label->key,
                           FB_MAX_LABEL_VALUES, n);
        for (int j = 0; j < n; j++) {
            const s_node_t *v = list ? value->items[j] : value;
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

static int s_parse_agents (s_ctx_t *ctx, const s_node_t *map, fb_scenario_t *sc) {
    static const char *const known[] = {"expect",     "labels", "join_timeout", "heartbeat_timeout",
                                        "allow_lost", NULL};
    if (!map)
        return 0;
    if (s_expect_kind (ctx, map, S_MAP, "agents", "{ expect: 3 }") != 0 ||
        s_check_keys (ctx, map, known, "agents") != 0)
        return -1;
    const s_node_t *node;
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
static int s_parse_times (s_ctx_t *ctx, const s_node_t *map, s_times_t *times) {
    if (s_duration (ctx, s_get (map, "duration"), "duration", 1, &times->duration) != 0 ||
        s_duration (ctx, s_get (map, "warmup"), "warmup", 0, &times->warmup) != 0 ||
        s_duration (ctx, s_get (map, "interval"), "interval", S_MIN_INTERVAL_NS,
                    &times->interval) != 0)
        return -1;
    if (times->duration.ns >= times->interval.ns)
        return 0;
    /* Point at whichever of the two this map set; failing that, at the map. */
    const s_node_t *node = s_get (map, "duration")   ? times->duration.node
                           : s_get (map, "interval") ? times->interval.node
                                                     : map;
    char interval[32], duration[32];
    return s_fail (ctx, node, "duration must be at least the interval, %s (got %s)",
                   fb_units_format_ns ((double)times->interval.ns, interval, sizeof interval),
                   fb_units_format_ns ((double)times->duration.ns, duration, sizeof duration));
}

static int s_parse_defaults (s_ctx_t *ctx, const s_node_t *map, fb_scenario_t *sc,
                             s_times_t *times) {
    static const char *const known[] = {"duration", "warmup", "interval", NULL};
    if (map &&
        (s_expect_kind (ctx, map, S_MAP, "defaults", "{ duration: 30s }") != 0 ||
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

static int s_parse_params (s_ctx_t *ctx, const s_node_t *map, fb_scenario_workload_t *w) {
    if (fb_params_init (&w->resolved, w->wl, ctx->err) != 0)
        return -1;
    if (!map)
        return 0;
    if (s_expect_kind (ctx, map, S_MAP, "params", "{ publishers: 500 }") != 0 ||
        s_check_keys (ctx, map, NULL, "params") != 0)
        return -1;
    for (int i = 0; i + 1 < map->n; i += 2) {
        const s_node_t *key = map->items[i], *value = map->items[i + 1];
        fb_err_t err;
        if (!s_find_param (&w->resolved, key->text)) {
            fb_params_set (&w->resolved, key->text, "", &err); /* for its message */
            return s_fail (ctx, key, "%s", err.msg);
        }
        const fb_param_value_t *current = s_find_param (&w->resolved, key->text);
        if (s_text (ctx, value, key->text, current->spec->default_text) != 0)
            return -1;
        if (fb_params_set (&w->resolved, key->text, value->text, &err) != 0)
            return s_fail (ctx, value, "%s", err.msg);
        fb_plan_param_t *param = &w->params[w->n_params++];
        snprintf (param->name, sizeof param->name, "%s", key->text);
        snprintf (param->value, sizeof param->value, "%s", value->text);
    }
    return 0;
}

static int s_parse_targets (s_ctx_t *ctx, const s_node_t *list, fb_scenario_workload_t *w) {
    if (!list)
        return 0;
    if (s_expect_kind (ctx, list, S_SEQ, "targets", "[ \"p95 < 120us\" ]") != 0)
        return -1;
    if (list->n > FB_MAX_TARGETS)
        return s_fail (ctx, list, "targets must have at most %d entries (got %d)", FB_MAX_TARGETS,
                       list->n);
    for (int i = 0; i < list->n; i++) {
        const s_node_t *node = list->items[i];
        fb_err_t err;
        if (s_text (ctx, node, "a target", "\"p95 < 120us\"") != 0)
            return -1;
        if (fb_target_parse (node->text, w->wl, &w->targets[w->n_targets++], &err) != 0)
            return s_fail (ctx, node, "%s", err.msg);
    }
    return 0;
}

static int s_parse_gate (s_ctx_t *ctx, const s_node_t *map, fb_scenario_workload_t *w) {
    static const char *const known[] = {"metric", "max_regression", NULL};
    if (s_expect_kind (ctx, map, S_MAP, "a gate", "{ metric: p95, max_regression: 20% }") != 0 ||
        s_check_keys (ctx, map, known, "a gate") != 0)
        return -1;
    const s_node_t *metric = s_get (map, "metric"), *regression = s_get (map, "max_regression");
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
    if (fb_measure_parse (metric->text, w->wl, &gate->measure, &err) != 0)
        return s_fail (ctx, metric, "metric: %s", err.msg);
    if (fb_units_percent (regression->text, &gate->max_regression, &err) != 0)
        return s_fail (ctx, regression, "max_regression: %s", err.msg);
    w->n_gates++;
    return 0;
}

static int s_parse_gates (s_ctx_t *ctx, const s_node_t *list, fb_scenario_workload_t *w) {
    if (!list)
        return 0;
    if (s_expect_kind (ctx, list, S_SEQ, "gates", "[ { metric: p95, max_regression: 20% } ]"))
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
static int s_parse_run (s_ctx_t *ctx, const s_node_t *map, fb_scenario_workload_t *w,
                        const s_times_t *defaults) {
    const s_node_t *node;
    fb_err_t err;
    if ((node = s_get (map, "rate"))) {
        if (s_text (ctx, node, "rate", "20000/s") != 0)
            return -1;
        if (fb_units_rate_per_s (node->text, &w->rate_per_s, &err) != 0)
            return s_fail (ctx, node, "rate: %s", err.msg);
    }
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
    w->duration_ns = times.duration.ns;
    w->warmup_ns = times.warmup.ns;
    w->interval_ns = times.interval.ns;
    return 0;
}

static int s_parse_kind (s_ctx_t *ctx, const s_node_t *node, fb_scenario_workload_t *w) {
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

static int s_parse_workload (s_ctx_t *ctx, const s_node_t *map, fb_scenario_t *sc,
                             const s_times_t *defaults) {
    static const char *const known[] = {"name",        "kind",     "params", "rate",
                                        "concurrency", "duration", "warmup", "interval",
                                        "targets",     "gates",    NULL};
    if (s_expect_kind (ctx, map, S_MAP, "a workload", "{ name: bus-burst, kind: eventbus }") ||
        s_check_keys (ctx, map, known, "a workload") != 0)
        return -1;
    fb_scenario_workload_t *w = &sc->workloads[sc->n_workloads];
    w->line = map->line, w->col = map->col;
    const s_node_t *name = s_get (map, "name"), *kind = s_get (map, "kind");
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
    if (s_parse_kind (ctx, kind, w) != 0 || s_parse_params (ctx, s_get (map, "params"), w) != 0 ||
        s_parse_run (ctx, map, w, defaults) != 0 ||
        s_parse_targets (ctx, s_get (map, "targets"), w) != 0 ||
        s_parse_gates (ctx, s_get (map, "gates"), w) != 0)
        return -1;
    sc->n_workloads++;
    return 0;
}

static int s_parse_root (s_ctx_t *ctx, const s_node_t *root, fb_scenario_t *sc) {
    static const char *const known[] = {"name", "agents", "defaults", "workloads", NULL};
    if (s_expect_kind (ctx, root, S_MAP, "a scenario", "{ name: nightly, workloads: [ ... ] }") !=
            0 ||
        s_check_keys (ctx, root, known, "the scenario") != 0)
        return -1;
    const s_node_t *name = s_get (root, "name"), *workloads = s_get (root, "workloads");
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
    if (s_expect_kind (ctx, workloads, S_SEQ, "workloads", "[ { name: a, kind: eventbus } ]"))
        return -1;
    if (workloads->n == 0 || workloads->n > FB_MAX_WORKLOADS)
        return s_fail (ctx, workloads, "workloads must list 1 to %d workloads (got %d)",
                       FB_MAX_WORKLOADS, workloads->n);
    for (int i = 0; i < workloads->n; i++)
        if (s_parse_workload (ctx, workloads->items[i], sc, &defaults) != 0)
            return -1;
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
    self->expect = 1;
    self->join_timeout_ns = 30 * FB_NS_PER_S;
    self->heartbeat_timeout_ns = 5 * FB_NS_PER_S;
    s_node_t *root = s_read_tree (&ctx);
    if (!root || s_parse_root (&ctx, root, self) != 0)
        fb_scenario_destroy (&self);
    s_node_destroy (&root);
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
    free (*self_p);
    *self_p = NULL;
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
    }
}

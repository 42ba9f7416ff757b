/* yamltree.c: libyaml's event parser builds the tree, with a stack of the open collections;
 * libyaml's errors become path:line:col messages (its reader gives byte offsets, its scanner
 * marks). */
#include "common/yamltree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct {
    const char *path;
    const char *text; /* the whole input, for positions libyaml gives as byte offsets */
    size_t len;
    const fb_yamltree_opts_t *opts;
    fb_err_t *err;
    fb_yamltree_node_t *root, *stack[FB_YAMLTREE_MAX_DEPTH];
    int depth, documents;
} s_ctx_t;

#define s_fail_at(ctx, line, col, ...)                                                             \
    fb_yamltree_fail_at ((ctx)->err, (ctx)->path, (line), (col), __VA_ARGS__)

static int s_append (fb_yamltree_node_t *parent, fb_yamltree_node_t *child) {
    if (parent->n == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 8;
        fb_yamltree_node_t **items = realloc (parent->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* ---- libyaml's errors ------------------------------------------------------------------ */

/* libyaml reports reading problems (bad UTF-8, control characters) by byte offset. */
static int s_reader_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    size_t offset = parser->problem_offset < ctx->len ? parser->problem_offset : ctx->len;
    const char *problem = parser->problem ? parser->problem : "unknown problem";
    bool explain = ctx->opts->explain;
    /* libyaml points at a bad trailing byte; the sequence's lead byte is the one to show. */
    if (explain && strstr (problem, "trailing"))
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
    if (strstr (problem, "UTF-8") && explain)
        return s_fail_at (ctx, line, col, "invalid UTF-8: %s must be UTF-8 text (got byte 0x%02x)",
                          ctx->opts->what, byte);
    if (strstr (problem, "UTF-8"))
        return s_fail_at (ctx, line, col, "invalid UTF-8: %s must be UTF-8 text", ctx->opts->what);
    if (explain && strstr (problem, "control characters"))
        return s_fail_at (ctx, line, col, "expected text (got control character 0x%02x)", byte);
    return s_fail_at (ctx, line, col, "unreadable YAML: %s", problem);
}

/* A tab in the indentation of line, or at line:col itself: -1 with its message, else 0.
 * libyaml's own words for it ("cannot start any token") do not say so. */
static int s_tab_error (s_ctx_t *ctx, int line, int col) {
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
    return 0;
}

/* Scanner and parser errors carry a mark; a tab in the indentation is the common one. */
static int s_yaml_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    if (parser->error == YAML_READER_ERROR)
        return s_reader_error (ctx, parser);
    if (parser->error == YAML_MEMORY_ERROR)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory reading YAML", ctx->path);
    int line = (int)parser->problem_mark.line + 1, col = (int)parser->problem_mark.column + 1;
    if (ctx->opts->explain && s_tab_error (ctx, line, col) != 0)
        return -1;
    char context[96] = "";
    if (parser->context)
        snprintf (context, sizeof context, " (%s at %d:%d)", parser->context,
                  (int)parser->context_mark.line + 1, (int)parser->context_mark.column + 1);
    return s_fail_at (ctx, line, col, "invalid YAML: %s%s",
                      parser->problem ? parser->problem : "unknown problem", context);
}

/* ---- events to tree -------------------------------------------------------------------- */

/* A new node from a scalar or a collection start; anchors are refused. */
static fb_yamltree_node_t *s_node_from_event (s_ctx_t *ctx, const yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                                : ev->type == YAML_SEQUENCE_START_EVENT
                                    ? ev->data.sequence_start.anchor
                                    : ev->data.mapping_start.anchor;
    if (anchor) {
        s_fail_at (ctx, line, col,
                   "anchors are not supported, write the value out (got anchor &%.40s)",
                   (const char *)anchor);
        return NULL;
    }
    fb_yamltree_node_t *node = calloc (1, sizeof *node);
    if (!node) {
        fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        return NULL;
    }
    node->line = line, node->col = col;
    node->kind = ev->type == YAML_SCALAR_EVENT           ? FB_YAMLTREE_SCALAR
                 : ev->type == YAML_SEQUENCE_START_EVENT ? FB_YAMLTREE_SEQ
                                                         : FB_YAMLTREE_MAP;
    if (node->kind != FB_YAMLTREE_SCALAR)
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
static int s_on_event (s_ctx_t *ctx, const yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++ctx->documents > 1)
            return s_fail_at (ctx, line, col, "expected one YAML document (got a second document)");
        return 0;
    case YAML_ALIAS_EVENT:
        return s_fail_at (ctx, line, col,
                          "aliases are not supported, write the value out (got alias *%.40s)",
                          ev->data.alias.anchor ? (const char *)ev->data.alias.anchor : "");
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        ctx->depth--;
        return 0;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        break;
    default:
        return 0;
    }
    if (ctx->depth >= FB_YAMLTREE_MAX_DEPTH)
        return s_fail_at (ctx, line, col, "expected at most %d levels of nesting (got more)",
                          FB_YAMLTREE_MAX_DEPTH);
    fb_yamltree_node_t *node = s_node_from_event (ctx, ev);
    if (!node)
        return -1;
    if (ctx->depth == 0)
        ctx->root = node;
    else if (s_append (ctx->stack[ctx->depth - 1], node) != 0) {
        fb_yamltree_destroy (&node);
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    }
    if (node->kind != FB_YAMLTREE_SCALAR)
        ctx->stack[ctx->depth++] = node;
    return 0;
}

/* ---- public ---------------------------------------------------------------------------- */

int fb_yamltree_parse (const char *text, size_t len, const char *path,
                       const fb_yamltree_opts_t *opts, fb_yamltree_node_t **root_p, fb_err_t *err) {
    s_ctx_t ctx = {.path = path, .text = text, .len = len, .opts = opts, .err = err};
    *root_p = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser))
        return fb_err_set (err, FB_ENOMEM, "%s: out of memory", path);
    yaml_parser_set_input_string (&parser, (const unsigned char *)text, len);
    int rc = 0;
    /* Each event consumes input, and callers bound the input: this ends. */
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse (&parser, &ev)) {
            rc = s_yaml_error (&ctx, &parser);
            break;
        }
        rc = s_on_event (&ctx, &ev);
        yaml_event_delete (&ev);
    }
    yaml_parser_delete (&parser);
    if (rc < 0) {
        fb_yamltree_destroy (&ctx.root);
        return -1;
    }
    *root_p = ctx.root;
    return 0;
}

void fb_yamltree_destroy (fb_yamltree_node_t **self_p) {
    fb_yamltree_node_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->n; i++)
        fb_yamltree_destroy (&self->items[i]);
    free (self->items);
    free (self->text);
    free (self);
    *self_p = NULL;
}

int fb_yamltree_fail_at (fb_err_t *err, const char *path, int line, int col, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    return fb_err_set (err, FB_EINPUT, "%s:%d:%d: %s", path, line, col, msg);
}

const char *fb_yamltree_quote (const char *text, size_t len, char *buf, size_t size) {
    size_t at = 0;
    for (size_t i = 0; i < len && at + 8 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i >= 40) {
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

const char *fb_yamltree_describe (const fb_yamltree_node_t *node, char *buf, size_t size) {
    if (node->kind == FB_YAMLTREE_MAP)
        return "a mapping";
    if (node->kind == FB_YAMLTREE_SEQ)
        return "a list";
    if (node->plain && node->len == 0)
        return "nothing";
    char q[64];
    snprintf (buf, size, "\"%s\"", fb_yamltree_quote (node->text, node->len, q, sizeof q));
    return buf;
}

/* allow.c: the agent's allow-list. libyaml's event parser drives a small state machine (the
 * file is one flat mapping of name -> list of strings, so no tree is needed); every error names
 * path:line:col as the scenario parser's do. Anchors, aliases and nesting are refused: what
 * runs on this host must be readable in the file as written. */
#include "allow.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define S_MAX_FILE_BYTES (1024 * 1024)
#define S_MAX_ARG_BYTES 4096
#define S_MAX_NAME_BYTES 63
/* fb_allow_argv keeps one resolved fb-child path per helper folder asked for. */
#define S_MAX_HELPER_DIRS 16

typedef struct {
    char name[S_MAX_NAME_BYTES + 1];
    int argc;
    char **argv; /* argc + 1 entries, NULL-terminated */
    int line, col;
} s_entry_t;

typedef struct {
    char *dir;
    char *argv[2]; /* helper_dir/fb-child, NULL */
} s_helper_t;

struct fb_allow {
    s_entry_t *entries;
    int n, cap;
    /* The built-in entry's argv depends on the helper folder: resolved on first use, kept. */
    pthread_mutex_t helper_lock;
    s_helper_t helpers[S_MAX_HELPER_DIRS];
    int n_helpers;
};

typedef enum { S_TOP, S_KEY, S_VALUE, S_ARGS, S_END } s_state_t;

typedef struct {
    const char *path;
    const char *text;
    size_t len;
    fb_err_t *err;
    fb_allow_t *allow;
    s_state_t state;
    int documents;
    bool root_seen;
    s_entry_t *entry; /* S_ARGS: the entry being filled */
    int cap_args;
} s_ctx_t;

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

/* Scalar text for a message: at most 40 characters, quotes and control bytes escaped. */
static const char *s_quote (const char *text, size_t len, char *buf, size_t size) {
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

/* What an event is, for "(got ...)". */
static const char *s_describe (const yaml_event_t *ev, char *buf, size_t size) {
    if (ev->type == YAML_MAPPING_START_EVENT)
        return "a mapping";
    if (ev->type == YAML_SEQUENCE_START_EVENT)
        return "a list";
    if (ev->type != YAML_SCALAR_EVENT)
        return "the end of the file";
    if (ev->data.scalar.length == 0 && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return "nothing";
    char q[64];
    snprintf (buf, size, "\"%s\"",
              s_quote ((const char *)ev->data.scalar.value, ev->data.scalar.length, q, sizeof q));
    return buf;
}

static int s_reader_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    size_t offset = parser->problem_offset < ctx->len ? parser->problem_offset : ctx->len;
    int line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)ctx->text[i];
        if (c == '\n')
            line++, col = 1;
        else if ((c & 0xc0) != 0x80)
            col++;
    }
    if (parser->problem && strstr (parser->problem, "UTF-8"))
        return s_fail_at (ctx, line, col, "invalid UTF-8: an allow-list must be UTF-8 text");
    return s_fail_at (ctx, line, col, "unreadable YAML: %s",
                      parser->problem ? parser->problem : "unknown problem");
}

static int s_yaml_error (s_ctx_t *ctx, const yaml_parser_t *parser) {
    if (parser->error == YAML_READER_ERROR)
        return s_reader_error (ctx, parser);
    if (parser->error == YAML_MEMORY_ERROR)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory reading YAML", ctx->path);
    int line = (int)parser->problem_mark.line + 1, col = (int)parser->problem_mark.column + 1;
    char context[96] = "";
    if (parser->context)
        snprintf (context, sizeof context, " (%s at %d:%d)", parser->context,
                  (int)parser->context_mark.line + 1, (int)parser->context_mark.column + 1);
    return s_fail_at (ctx, line, col, "invalid YAML: %s%s",
                      parser->problem ? parser->problem : "unknown problem", context);
}

/* ---- entries --------------------------------------------------------------------------- */

static void s_entry_free (s_entry_t *entry) {
    for (int i = 0; entry->argv && i < entry->argc; i++)
        free (entry->argv[i]);
    free (entry->argv);
    entry->argv = NULL;
    entry->argc = 0;
}

static const s_entry_t *s_find (const fb_allow_t *allow, const char *name) {
    for (int i = 0; i < allow->n; i++)
        if (strcmp (allow->entries[i].name, name) == 0)
            return &allow->entries[i];
    return NULL;
}

static bool s_name_ok (const char *name, size_t len) {
    if (len == 0 || len > S_MAX_NAME_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* A new entry named by the key scalar ev. */
static int s_on_name (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    char got[96];
    const char *name = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (!s_name_ok (name, len))
        return s_fail_at (ctx, line, col,
                          "expected a command name of 1 to %d characters from A-Z a-z 0-9 _ . - "
                          "(got %s)",
                          S_MAX_NAME_BYTES, s_describe (ev, got, sizeof got));
    if (strcmp (name, FB_ALLOW_HELPER) == 0)
        return s_fail_at (ctx, line, col,
                          "%s is built in and always allowed; it cannot be redefined",
                          FB_ALLOW_HELPER);
    const s_entry_t *before = s_find (ctx->allow, name);
    if (before)
        return s_fail_at (ctx, line, col, "command \"%s\" is given twice (first at line %d)", name,
                          before->line);
    fb_allow_t *allow = ctx->allow;
    if (allow->n == FB_ALLOW_MAX_ENTRIES)
        return s_fail_at (ctx, line, col, "expected at most %d commands (got more)",
                          FB_ALLOW_MAX_ENTRIES);
    if (allow->n == allow->cap) {
        int cap = allow->cap ? allow->cap * 2 : 8;
        s_entry_t *entries = realloc (allow->entries, (size_t)cap * sizeof *entries);
        if (!entries)
            return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        allow->entries = entries;
        allow->cap = cap;
    }
    s_entry_t *entry = &allow->entries[allow->n];
    *entry = (s_entry_t){.line = line, .col = col};
    memcpy (entry->name, name, len);
    entry->name[len] = '\0';
    ctx->entry = entry;
    ctx->state = S_VALUE;
    return 0;
}

/* The list that follows a name: its storage, filled by s_on_arg. */
static int s_on_list (s_ctx_t *ctx) {
    ctx->cap_args = 4;
    ctx->entry->argv = calloc ((size_t)ctx->cap_args + 1, sizeof *ctx->entry->argv);
    if (!ctx->entry->argv)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    ctx->allow->n++; /* owns its argv from now on: destroy frees it */
    ctx->state = S_ARGS;
    return 0;
}

static int s_on_arg (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    s_entry_t *entry = ctx->entry;
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (entry->argc == FB_ALLOW_MAX_ARGS)
        return s_fail_at (ctx, line, col, "expected at most %d arguments for %s (got more)",
                          FB_ALLOW_MAX_ARGS, entry->name);
    if (len > S_MAX_ARG_BYTES)
        return s_fail_at (ctx, line, col, "expected an argument of at most %d bytes (got %zu)",
                          S_MAX_ARG_BYTES, len);
    if (memchr (text, '\0', len))
        return s_fail_at (ctx, line, col, "expected an argument without NUL bytes");
    if (entry->argc == 0 && len == 0)
        return s_fail_at (ctx, line, col, "expected the program of %s first (got nothing)",
                          entry->name);
    if (entry->argc == ctx->cap_args) {
        int cap = ctx->cap_args * 2;
        char **argv = realloc (entry->argv, ((size_t)cap + 1) * sizeof *argv);
        if (!argv)
            return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        entry->argv = argv;
        ctx->cap_args = cap;
    }
    char *copy = malloc (len + 1);
    if (!copy)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    memcpy (copy, text, len);
    copy[len] = '\0';
    entry->argv[entry->argc++] = copy;
    entry->argv[entry->argc] = NULL;
    return 0;
}

/* ---- the state machine ----------------------------------------------------------------- */

static int s_on_top (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    char got[96];
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        ctx->root_seen = true;
        ctx->state = S_KEY;
        return 0;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return s_fail_at (ctx, line, col,
                          "expected a mapping of command names to argv lists such as "
                          "sleep-1: [/bin/sleep, \"1\"] (got %s)",
                          s_describe (ev, got, sizeof got));
    default:
        return 0;
    }
}

static int s_on_key (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    char got[96];
    if (ev->type == YAML_MAPPING_END_EVENT) {
        ctx->state = S_END;
        return 0;
    }
    if (ev->type == YAML_SCALAR_EVENT)
        return s_on_name (ctx, ev, line, col);
    return s_fail_at (ctx, line, col, "expected a command name (got %s)",
                      s_describe (ev, got, sizeof got));
}

static int s_on_value (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    char got[96];
    if (ev->type == YAML_SEQUENCE_START_EVENT)
        return s_on_list (ctx);
    return s_fail_at (ctx, line, col,
                      "expected the argv of %s as a list of strings such as "
                      "[/bin/sleep, \"1\"] (got %s)",
                      ctx->entry->name, s_describe (ev, got, sizeof got));
}

static int s_on_args (s_ctx_t *ctx, const yaml_event_t *ev, int line, int col) {
    char got[96];
    if (ev->type == YAML_SCALAR_EVENT)
        return s_on_arg (ctx, ev, line, col);
    if (ev->type == YAML_SEQUENCE_END_EVENT) {
        if (ctx->entry->argc == 0)
            return s_fail_at (ctx, ctx->entry->line, ctx->entry->col,
                              "expected at least the program in the argv of %s (got an empty "
                              "list)",
                              ctx->entry->name);
        ctx->state = S_KEY;
        return 0;
    }
    return s_fail_at (ctx, line, col, "expected a string in the argv of %s (got %s)",
                      ctx->entry->name, s_describe (ev, got, sizeof got));
}

static const yaml_char_t *s_anchor (const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT:
        return ev->data.mapping_start.anchor;
    default:
        return NULL;
    }
}

/* One event. 1: the stream ended; 0: go on; -1: error. */
static int s_on_event (s_ctx_t *ctx, const yaml_event_t *ev) {
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (ev->type == YAML_STREAM_END_EVENT)
        return 1;
    if (ev->type == YAML_DOCUMENT_START_EVENT && ++ctx->documents > 1)
        return s_fail_at (ctx, line, col, "expected one YAML document (got a second document)");
    if (ev->type == YAML_ALIAS_EVENT)
        return s_fail_at (ctx, line, col,
                          "aliases are not supported, write the value out (got alias *%.40s)",
                          ev->data.alias.anchor ? (const char *)ev->data.alias.anchor : "");
    const yaml_char_t *anchor = s_anchor (ev);
    if (anchor)
        return s_fail_at (ctx, line, col,
                          "anchors are not supported, write the value out (got anchor &%.40s)",
                          (const char *)anchor);
    switch (ctx->state) {
    case S_TOP:
        return s_on_top (ctx, ev, line, col);
    case S_KEY:
        return s_on_key (ctx, ev, line, col);
    case S_VALUE:
        return s_on_value (ctx, ev, line, col);
    case S_ARGS:
        return s_on_args (ctx, ev, line, col);
    case S_END:
        break;
    }
    return 0; /* document end */
}

static int s_parse_events (s_ctx_t *ctx) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser))
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    yaml_parser_set_input_string (&parser, (const unsigned char *)ctx->text, ctx->len);
    int rc = 0;
    /* Each event consumes input, and the input is at most S_MAX_FILE_BYTES: bounded. */
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse (&parser, &ev)) {
            rc = s_yaml_error (ctx, &parser);
            break;
        }
        rc = s_on_event (ctx, &ev);
        yaml_event_delete (&ev);
    }
    yaml_parser_delete (&parser);
    if (rc < 0)
        return -1;
    if (!ctx->root_seen)
        return s_fail_at (ctx, 1, 1,
                          "expected a mapping of command names to argv lists such as "
                          "sleep-1: [/bin/sleep, \"1\"] (got an empty file)");
    return 0;
}

/* ---- public ---------------------------------------------------------------------------- */

static fb_allow_t *s_new (void) {
    fb_allow_t *self = calloc (1, sizeof *self);
    if (self)
        pthread_mutex_init (&self->helper_lock, NULL);
    return self;
}

fb_allow_t *fb_allow_new_default (void) { return s_new (); }

fb_allow_t *fb_allow_parse (const char *text, size_t len, const char *path, fb_err_t *err) {
    path = path ? path : "allow-list";
    if (len > S_MAX_FILE_BYTES) {
        fb_err_set (err, FB_EINPUT, "%s: expected an allow-list of at most 1 MB (got %zu bytes)",
                    path, len);
        return NULL;
    }
    fb_allow_t *self = s_new ();
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    s_ctx_t ctx = {
        .path = path, .text = text ? text : "", .len = text ? len : 0, .err = err, .allow = self};
    if (s_parse_events (&ctx) != 0)
        fb_allow_destroy (&self);
    return self;
}

fb_allow_t *fb_allow_load (const char *path, fb_err_t *err) {
    FILE *f = fopen (path, "rb");
    if (!f) {
        fb_err_set (err, FB_EINPUT, "cannot read allow-list %s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = malloc (S_MAX_FILE_BYTES + 1);
    size_t len = text ? fread (text, 1, S_MAX_FILE_BYTES + 1, f) : 0;
    bool failed = ferror (f);
    fclose (f);
    fb_allow_t *self = NULL;
    if (!text)
        fb_err_set (err, FB_ENOMEM, "%s: out of memory", path);
    else if (failed)
        fb_err_set (err, FB_EINPUT, "cannot read allow-list %s", path);
    else
        self = fb_allow_parse (text, len, path, err); /* > 1 MB read: its error */
    free (text);
    return self;
}

void fb_allow_destroy (fb_allow_t **self_p) {
    fb_allow_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->n; i++)
        s_entry_free (&self->entries[i]);
    free (self->entries);
    for (int i = 0; i < self->n_helpers; i++) {
        free (self->helpers[i].dir);
        free (self->helpers[i].argv[0]);
    }
    pthread_mutex_destroy (&self->helper_lock);
    free (self);
    *self_p = NULL;
}

/* helper_dir/fb-child, made once per folder and kept (the cache is the only mutable part of an
 * allow-list, hence the lock and the cast). */
static const char *const *s_helper_argv (fb_allow_t *self, const char *helper_dir) {
    const char *dir = helper_dir && helper_dir[0] ? helper_dir : ".";
    const char *const *argv = NULL;
    pthread_mutex_lock (&self->helper_lock);
    for (int i = 0; i < self->n_helpers && !argv; i++)
        if (strcmp (self->helpers[i].dir, dir) == 0)
            argv = (const char *const *)self->helpers[i].argv;
    if (!argv && self->n_helpers < S_MAX_HELPER_DIRS) {
        s_helper_t *helper = &self->helpers[self->n_helpers];
        size_t size = strlen (dir) + sizeof FB_ALLOW_HELPER + 1;
        helper->dir = strdup (dir);
        helper->argv[0] = malloc (size);
        if (helper->dir && helper->argv[0]) {
            snprintf (helper->argv[0], size, "%s/%s", dir, FB_ALLOW_HELPER);
            helper->argv[1] = NULL;
            argv = (const char *const *)helper->argv;
            self->n_helpers++;
        } else {
            free (helper->dir);
            free (helper->argv[0]);
            *helper = (s_helper_t){0};
        }
    }
    pthread_mutex_unlock (&self->helper_lock);
    return argv;
}

const char *const *fb_allow_argv (const fb_allow_t *allow, const char *name,
                                  const char *helper_dir) {
    if (!allow || !name)
        return NULL;
    if (strcmp (name, FB_ALLOW_HELPER) == 0)
        return s_helper_argv ((fb_allow_t *)allow, helper_dir);
    const s_entry_t *entry = s_find (allow, name);
    return entry ? (const char *const *)entry->argv : NULL;
}

bool fb_allow_has (const fb_allow_t *allow, const char *name) {
    if (!name)
        return false;
    return strcmp (name, FB_ALLOW_HELPER) == 0 || (allow && s_find (allow, name));
}

const char *fb_allow_names (const fb_allow_t *allow, char *buf, size_t size) {
    if (size == 0)
        return buf;
    int at = snprintf (buf, size, "%s", FB_ALLOW_HELPER);
    for (int i = 0; allow && i < allow->n && at >= 0 && (size_t)at < size; i++) {
        size_t need = strlen (allow->entries[i].name) + 2;
        if ((size_t)at + need + 4 >= size) {
            snprintf (buf + at, size - (size_t)at, ", ...");
            break;
        }
        at += snprintf (buf + at, size - (size_t)at, ", %s", allow->entries[i].name);
    }
    return buf;
}

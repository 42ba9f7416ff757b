/* allow.c: the agent's allow-list. yamltree reads the file (one flat mapping of name -> list of
 * strings) and the entries are checked in the order they are written; every error names
 * path:line:col as the scenario parser's do. Anchors, aliases and nesting are refused: what
 * runs on this host must be readable in the file as written. The key "http" is not a command:
 * its list is the network targets of workloads (agent/netallow.c). */
#include "agent/allow.h"

#include "agent/netallow.h"
#include "common/yamltree.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    fb_netallow_t *http; /* the http: entries; NULL without that key (nothing allowed) */
    int http_line;
};

typedef struct {
    const char *path;
    fb_err_t *err;
    fb_allow_t *allow;
    fb_netallow_resolve_fn *resolve; /* host names of http: entries */
} s_ctx_t;

#define s_fail_at(ctx, line, col, ...)                                                             \
    fb_yamltree_fail_at ((ctx)->err, (ctx)->path, (line), (col), __VA_ARGS__)
#define s_fail(ctx, node, ...) s_fail_at ((ctx), (node)->line, (node)->col, __VA_ARGS__)

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

/* A new entry named by the scalar key; counted in allow->n once it owns its argv. */
static s_entry_t *s_on_name (s_ctx_t *ctx, const fb_yamltree_node_t *key) {
    char got[96];
    const char *name = key->text;
    size_t len = key->len;
    if (!s_name_ok (name, len)) {
        s_fail (ctx, key,
                "expected a command name of 1 to %d characters from A-Z a-z 0-9 _ . - (got %s)",
                S_MAX_NAME_BYTES, fb_yamltree_describe (key, got, sizeof got));
        return NULL;
    }
    if (strcmp (name, FB_ALLOW_HELPER) == 0) {
        s_fail (ctx, key, "%s is built in and always allowed; it cannot be redefined",
                FB_ALLOW_HELPER);
        return NULL;
    }
    const s_entry_t *before = s_find (ctx->allow, name);
    if (before) {
        s_fail (ctx, key, "command \"%s\" is given twice (first at line %d)", name, before->line);
        return NULL;
    }
    fb_allow_t *allow = ctx->allow;
    if (allow->n == FB_ALLOW_MAX_ENTRIES) {
        s_fail (ctx, key, "expected at most %d commands (got more)", FB_ALLOW_MAX_ENTRIES);
        return NULL;
    }
    if (allow->n == allow->cap) {
        int cap = allow->cap ? allow->cap * 2 : 8;
        s_entry_t *entries = realloc (allow->entries, (size_t)cap * sizeof *entries);
        if (!entries) {
            fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
            return NULL;
        }
        allow->entries = entries;
        allow->cap = cap;
    }
    s_entry_t *entry = &allow->entries[allow->n];
    *entry = (s_entry_t){.line = key->line, .col = key->col};
    memcpy (entry->name, name, len);
    entry->name[len] = '\0';
    return entry;
}

/* One argument, appended to entry->argv (room for *cap_args of them). */
static int s_on_arg (s_ctx_t *ctx, s_entry_t *entry, const fb_yamltree_node_t *arg, int *cap_args) {
    const char *text = arg->text;
    size_t len = arg->len;
    if (entry->argc == FB_ALLOW_MAX_ARGS)
        return s_fail (ctx, arg, "expected at most %d arguments for %s (got more)",
                       FB_ALLOW_MAX_ARGS, entry->name);
    if (len > S_MAX_ARG_BYTES)
        return s_fail (ctx, arg, "expected an argument of at most %d bytes (got %zu)",
                       S_MAX_ARG_BYTES, len);
    if (memchr (text, '\0', len))
        return s_fail (ctx, arg, "expected an argument without NUL bytes");
    if (entry->argc == 0 && len == 0)
        return s_fail (ctx, arg, "expected the program of %s first (got nothing)", entry->name);
    if (entry->argc == *cap_args) {
        int cap = *cap_args * 2;
        char **argv = realloc (entry->argv, ((size_t)cap + 1) * sizeof *argv);
        if (!argv)
            return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
        entry->argv = argv;
        *cap_args = cap;
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

/* The argv list of entry. */
static int s_on_args (s_ctx_t *ctx, s_entry_t *entry, const fb_yamltree_node_t *list) {
    char got[96];
    int cap_args = 4;
    entry->argv = calloc ((size_t)cap_args + 1, sizeof *entry->argv);
    if (!entry->argv)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    ctx->allow->n++; /* owns its argv from now on: destroy frees it */
    for (int i = 0; i < list->n; i++) {
        const fb_yamltree_node_t *arg = list->items[i];
        if (arg->kind != FB_YAMLTREE_SCALAR)
            return s_fail (ctx, arg, "expected a string in the argv of %s (got %s)", entry->name,
                           fb_yamltree_describe (arg, got, sizeof got));
        if (s_on_arg (ctx, entry, arg, &cap_args) != 0)
            return -1;
    }
    if (entry->argc == 0)
        return s_fail_at (ctx, entry->line, entry->col,
                          "expected at least the program in the argv of %s (got an empty list)",
                          entry->name);
    return 0;
}

/* One target of the http: list; its column is found in the scalar as written. */
static int s_on_http_entry (s_ctx_t *ctx, const fb_yamltree_node_t *item) {
    char got[96];
    if (item->kind != FB_YAMLTREE_SCALAR)
        return s_fail (ctx, item,
                       "expected an address, a CIDR block or a host name in http (got %s); "
                       "quote the [IPv6]:port form: \"[::1]:443\"",
                       fb_yamltree_describe (item, got, sizeof got));
    fb_err_t why = {0};
    int col = 0;
    if (fb_netallow_add (ctx->allow->http, item->text, item->len, ctx->resolve, &col, &why) == 0)
        return 0;
    if (why.code != FB_EINPUT)
        return fb_err_set (ctx->err, why.code, "%s: %s", ctx->path, why.msg);
    /* A quoted scalar starts one column before its text (escapes are not counted). */
    return s_fail_at (ctx, item->line, item->col + (item->plain ? 0 : 1) + col, "http: %s%s",
                      why.msg,
                      item->len && item->text[0] == '/'
                          ? "; http is reserved for HTTP targets and cannot name a command"
                          : "");
}

/* http: [targets...], the network targets workloads may connect to. */
static int s_on_http (s_ctx_t *ctx, const fb_yamltree_node_t *key,
                      const fb_yamltree_node_t *value) {
    char got[96];
    fb_allow_t *allow = ctx->allow;
    if (allow->http)
        return s_fail (ctx, key, "http is given twice (first at line %d)", allow->http_line);
    if (value->kind != FB_YAMLTREE_SEQ)
        return s_fail (ctx, value,
                       "expected the HTTP targets workloads may connect to as a list such as "
                       "[127.0.0.1:8080, 10.0.0.0/8] (got %s); http is reserved and cannot name "
                       "a command",
                       fb_yamltree_describe (value, got, sizeof got));
    allow->http = fb_netallow_new ();
    if (!allow->http)
        return fb_err_set (ctx->err, FB_ENOMEM, "%s: out of memory", ctx->path);
    allow->http_line = key->line;
    for (int i = 0; i < value->n; i++)
        if (s_on_http_entry (ctx, value->items[i]) != 0)
            return -1;
    return 0;
}

static int s_on_entry (s_ctx_t *ctx, const fb_yamltree_node_t *key,
                       const fb_yamltree_node_t *value) {
    char got[96];
    if (key->kind != FB_YAMLTREE_SCALAR)
        return s_fail (ctx, key, "expected a command name (got %s)",
                       fb_yamltree_describe (key, got, sizeof got));
    if (key->len == 4 && memcmp (key->text, "http", 4) == 0)
        return s_on_http (ctx, key, value);
    s_entry_t *entry = s_on_name (ctx, key);
    if (!entry)
        return -1;
    if (value->kind != FB_YAMLTREE_SEQ)
        return s_fail (ctx, value,
                       "expected the argv of %s as a list of strings such as "
                       "[/bin/sleep, \"1\"] (got %s)",
                       entry->name, fb_yamltree_describe (value, got, sizeof got));
    return s_on_args (ctx, entry, value);
}

static int s_parse (s_ctx_t *ctx, const char *text, size_t len) {
    static const fb_yamltree_opts_t opts = {.what = "an allow-list", .explain = false};
    char got[96];
    fb_yamltree_node_t *root = NULL;
    if (fb_yamltree_parse (text, len, ctx->path, &opts, &root, ctx->err) != 0)
        return -1;
    int rc = 0;
    if (!root)
        rc = s_fail_at (ctx, 1, 1,
                        "expected a mapping of command names to argv lists such as "
                        "sleep-1: [/bin/sleep, \"1\"] (got an empty file)");
    else if (root->kind != FB_YAMLTREE_MAP)
        rc = s_fail (ctx, root,
                     "expected a mapping of command names to argv lists such as "
                     "sleep-1: [/bin/sleep, \"1\"] (got %s)",
                     fb_yamltree_describe (root, got, sizeof got));
    for (int i = 0; rc == 0 && root && i + 1 < root->n; i += 2)
        rc = s_on_entry (ctx, root->items[i], root->items[i + 1]);
    fb_yamltree_destroy (&root);
    return rc;
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
    return fb_allow_parse_with_resolver (text, len, path, NULL, err);
}

fb_allow_t *fb_allow_parse_with_resolver (const char *text, size_t len, const char *path,
                                          fb_netallow_resolve_fn *resolve, fb_err_t *err) {
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
    s_ctx_t ctx = {.path = path,
                   .err = err,
                   .allow = self,
                   .resolve = resolve ? resolve : fb_netallow_resolve_system};
    if (s_parse (&ctx, text ? text : "", text ? len : 0) != 0)
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
    fb_netallow_destroy (&self->http);
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

bool fb_allow_http (const fb_allow_t *allow, const struct sockaddr *addr, int port) {
    return allow && fb_netallow_match (allow->http, addr, port);
}

const char *fb_allow_http_names (const fb_allow_t *allow, char *buf, size_t size) {
    return fb_netallow_names (allow ? allow->http : NULL, buf, size);
}

static const char *const *s_wl_argv (const void *list, const char *command,
                                     const char *helper_dir) {
    return fb_allow_argv (list, command, helper_dir);
}

static const char *s_wl_names (const void *list, char *buf, size_t size) {
    return fb_allow_names (list, buf, size);
}

static bool s_wl_http (const void *list, const struct sockaddr *addr, int port) {
    return fb_allow_http (list, addr, port);
}

static const char *s_wl_http_names (const void *list, char *buf, size_t size) {
    return fb_allow_http_names (list, buf, size);
}

fb_wl_allow_t fb_allow_for_workloads (const fb_allow_t *allow) {
    if (!allow)
        return (fb_wl_allow_t){0};
    return (fb_wl_allow_t){.list = allow,
                           .argv = s_wl_argv,
                           .names = s_wl_names,
                           .http = s_wl_http,
                           .http_names = s_wl_http_names};
}

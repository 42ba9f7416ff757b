/* yamltree.h: YAML text to a small tree of mappings, lists and scalars, each with the line and
 * column it starts at, so that whoever checks the tree can say path:line:col. Anchors, aliases
 * and a second document are refused: what a file means must be readable as written. Used by
 * the scenario file and the agent's allow-list. */
#ifndef FB_YAMLTREE_H
#define FB_YAMLTREE_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

/* Nesting deeper than this is refused (it also bounds the builder's stack). */
#define FB_YAMLTREE_MAX_DEPTH 32

typedef enum { FB_YAMLTREE_SCALAR, FB_YAMLTREE_SEQ, FB_YAMLTREE_MAP } fb_yamltree_kind_t;

/* The fields are the interface: callers walk the tree themselves. */
typedef struct fb_yamltree_node {
    fb_yamltree_kind_t kind;
    int line, col;                   /* 1-based */
    char *text;                      /* SCALAR: the value, NUL-terminated */
    size_t len;                      /* SCALAR: bytes in text (may hold NULs from "\0") */
    bool plain;                      /* SCALAR: written without quotes */
    struct fb_yamltree_node **items; /* SEQ: the entries; MAP: key, value, key, value, ... */
    int n, cap;
} fb_yamltree_node_t;

/* How the file is named in messages, and how much the messages explain. */
typedef struct {
    const char *what; /* "a scenario": "invalid UTF-8: a scenario must be UTF-8 text" */
    /* true: name the bad byte and control character, point a tab in the indentation out;
     * false: libyaml's own words for those. */
    bool explain;
} fb_yamltree_opts_t;

/* Parses len bytes of text (path is for messages). 0 with *root_p the tree, or NULL when the
 * text holds no document at all; -1 with err "path:line:col: ..." when the text is not YAML
 * we take. Any bytes give a tree or an error, never a crash (fuzzed through its callers). */
int fb_yamltree_parse (const char *text, size_t len, const char *path,
                       const fb_yamltree_opts_t *opts, fb_yamltree_node_t **root_p, fb_err_t *err);
void fb_yamltree_destroy (fb_yamltree_node_t **self_p);

/* Fills err with FB_EINPUT "path:line:col: message" and returns -1. */
int fb_yamltree_fail_at (fb_err_t *err, const char *path, int line, int col, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
/* Scalar text for a message: at most 40 characters, quotes and control bytes escaped. */
const char *fb_yamltree_quote (const char *text, size_t len, char *buf, size_t size);
/* What a node is, for "(got ...)": a mapping, a list, nothing, or the quoted text. */
const char *fb_yamltree_describe (const fb_yamltree_node_t *node, char *buf, size_t size);

#endif

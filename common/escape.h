/* escape.h: text that came from the network, made safe for a terminal or a Markdown report,
 * and the names (agent ids) that may become file names. Control bytes (C0, DEL, C1) and bytes
 * that are not UTF-8 become a visible "\xNN", so a peer can neither move the cursor, colour the
 * screen nor start a line of its own ("FAKE: run passed"). */
#ifndef FB_ESCAPE_H
#define FB_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define FB_NAME_MAX 63 /* agent ids and scenario names, in bytes */

enum {
    FB_ESCAPE_TEXT = 0,    /* for a terminal or a log line */
    FB_ESCAPE_MARKDOWN = 1 /* also | * _ ` [ ] \ # and < > & (a table cell, not markup) */
};

/* Writes in, escaped, to out (size bytes, always NUL-terminated, never a cut escape).
 * Returns true when all of it fit. */
bool fb_escape (const char *in, char *out, size_t size, int flags);
/* Escapes buf in place (cut to size when the escaped text is longer). */
void fb_escape_in_place (char *buf, size_t size);
/* True when text has a byte fb_escape would change (FB_ESCAPE_TEXT). */
bool fb_escape_needed (const char *text);

/* Writes text to out as XML/HTML character data or an attribute value: & < > " ' as
 * entities, control bytes other than tab and newline left out (XML 1.0 has no way to write
 * them). */
void fb_escape_xml (FILE *out, const char *text);

/* A name that is safe as a file name and a routing id: 1..FB_NAME_MAX of [A-Za-z0-9_.-],
 * neither "." nor "..". */
bool fb_escape_name_is_safe (const char *name);

#endif

/* escape.c: one place that decides what a byte from outside may look like on a screen or in
 * a report. */
#include "common/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (2..4), 0 when it is not one. C1 controls
 * (U+0080..U+009F, 0xC2 0x80..0x9F) count as invalid: some terminals act on them. */
static size_t s_utf8_len (const unsigned char *p) {
    size_t n;
    uint32_t cp;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
        return 0; /* overlong, out of range, a surrogate, or C1 */
    return n;
}

bool fb_escape (const char *in, char *out, size_t size, int flags) {
    if (size == 0)
        return false;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    while (*p) {
        char piece[8];
        size_t len;
        size_t n = *p >= 0x80 ? s_utf8_len (p) : 1;
        if (n > 1) {
            memcpy (piece, p, n);
            len = n;
        } else if (*p < 0x20 || *p >= 0x7f) {
            len = (size_t)snprintf (piece, sizeof piece, "\\x%02x", *p);
            n = 1;
        } else if ((flags & FB_ESCAPE_MARKDOWN) && strchr ("<>&", *p)) {
            len = (size_t)snprintf (piece, sizeof piece, "%s",
                                    *p == '<'   ? "&lt;"
                                    : *p == '>' ? "&gt;"
                                                : "&amp;");
        } else if ((flags & FB_ESCAPE_MARKDOWN) && strchr ("|*_`[]\\#", *p)) {
            piece[0] = '\\';
            piece[1] = (char)*p;
            len = 2;
        } else {
            piece[0] = (char)*p;
            len = 1;
        }
        if (o + len >= size) {
            out[o] = '\0';
            return false;
        }
        memcpy (out + o, piece, len);
        o += len;
        p += n;
    }
    out[o] = '\0';
    return true;
}

void fb_escape_in_place (char *buf, size_t size) {
    if (!fb_escape_needed (buf))
        return;
    char tmp[4096];
    fb_escape (buf, tmp, size < sizeof tmp ? size : sizeof tmp, FB_ESCAPE_TEXT);
    memcpy (buf, tmp, strlen (tmp) + 1);
}

bool fb_escape_needed (const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
        if (*p >= 0x80) {
            size_t n = s_utf8_len (p);
            if (n == 0)
                return true;
            p += n;
        } else
            p++;
    }
    return false;
}

bool fb_escape_name_is_safe (const char *name) {
    size_t len = strlen (name);
    if (len == 0 || len > FB_NAME_MAX || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

void fb_escape_xml (FILE *out, const char *text) {
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<':
            fputs ("&lt;", out);
            break;
        case '>':
            fputs ("&gt;", out);
            break;
        case '&':
            fputs ("&amp;", out);
            break;
        case '"':
            fputs ("&quot;", out);
            break;
        case '\'':
            fputs ("&#39;", out);
            break;
        default:
            if ((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n')
                fputc (*p, out);
        }
    }
}

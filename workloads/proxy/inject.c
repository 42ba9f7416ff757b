/* inject.c: Brummer's HTML rewrite (decide, gunzip, insert, gzip, fix the head) and the byte
 * buffer the HTTP modules share. No allocation per call once the buffers have grown to the
 * largest page seen: zlib's streams are reset, not rebuilt. */
#include "workloads/proxy/inject.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

struct fb_inject {
    z_stream inflater, deflater;
    bool inflater_ok, deflater_ok;
    fb_bytes_t plain;  /* the page decompressed */
    fb_bytes_t edited; /* the page with the script */
    fb_bytes_t packed; /* edited, recompressed */
};

/* ---- the decision ----------------------------------------------------------------------- */

static bool s_contains_nocase (const char *haystack, const char *needle) {
    return haystack && strcasestr (haystack, needle) != NULL;
}

/* Brummer's checks, in its order: status 200 (ModifyResponse), text/html, then the request
 * must not look like an XHR or a fetch(), nor accept only something other than HTML. */
bool fb_inject_wanted (const fb_inject_info_t *info) {
    if (info->status != 200 || !s_contains_nocase (info->content_type, "text/html"))
        return false;
    if (info->x_requested_with && strcmp (info->x_requested_with, "XMLHttpRequest") == 0)
        return false;
    if (info->sec_fetch_mode && strcmp (info->sec_fetch_mode, "cors") == 0)
        return false;
    if (info->sec_fetch_dest && strcmp (info->sec_fetch_dest, "empty") == 0)
        return false;
    const char *accept = info->accept;
    if (accept && *accept && !strstr (accept, "text/html") && !strstr (accept, "*/*"))
        return false;
    return true;
}

bool fb_inject_is_gzip (const char *content_encoding) {
    if (!content_encoding)
        return false;
    while (*content_encoding == ' ' || *content_encoding == '\t')
        content_encoding++;
    size_t n = strlen (content_encoding);
    while (n > 0 && (content_encoding[n - 1] == ' ' || content_encoding[n - 1] == '\t'))
        n--;
    return n == 4 && strncasecmp (content_encoding, "gzip", 4) == 0;
}

/* Last occurrence of tag (lower case) in html, compared case-insensitively; len if none.
 * Brummer lowercases a copy of the whole page and calls LastIndex; this finds the same
 * offset scanning backwards, without the copy. */
static size_t s_last_nocase (const uint8_t *html, size_t len, const char *tag) {
    size_t n = strlen (tag);
    if (len < n)
        return len;
    for (size_t i = len - n + 1; i-- > 0;) {
        if (html[i] != '<')
            continue;
        size_t k = 1;
        while (k < n && tolower (html[i + k]) == tag[k])
            k++;
        if (k == n)
            return i;
    }
    return len;
}

size_t fb_inject_position (const uint8_t *html, size_t len) {
    size_t at = s_last_nocase (html, len, "</body>");
    return at < len ? at : s_last_nocase (html, len, "</html>");
}

/* ---- the rewrite ------------------------------------------------------------------------ */

fb_inject_t *fb_inject_new (int gzip_level, fb_err_t *err) {
    fb_inject_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "inject: out of memory");
        return NULL;
    }
    /* windowBits 15 + 16: gzip wrapper only (what Content-Encoding: gzip means) */
    self->inflater_ok = inflateInit2 (&self->inflater, 15 + 16) == Z_OK;
    self->deflater_ok = self->inflater_ok && deflateInit2 (&self->deflater, gzip_level, Z_DEFLATED,
                                                           15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    if (!self->deflater_ok) {
        fb_inject_destroy (&self);
        fb_err_set (err, FB_ENOMEM, "inject: zlib cannot start (level %d)", gzip_level);
        return NULL;
    }
    return self;
}

void fb_inject_destroy (fb_inject_t **self_p) {
    fb_inject_t *self = *self_p;
    if (!self)
        return;
    if (self->inflater_ok)
        inflateEnd (&self->inflater);
    if (self->deflater_ok)
        deflateEnd (&self->deflater);
    fb_bytes_free (&self->plain);
    fb_bytes_free (&self->edited);
    fb_bytes_free (&self->packed);
    free (self);
    *self_p = NULL;
}

/* Inflates one whole gzip member into self->plain. 0 ok, 1 not valid gzip, -1 no memory. */
static int s_gunzip (fb_inject_t *self, const uint8_t *body, size_t len) {
    z_stream *z = &self->inflater;
    inflateReset (z);
    self->plain.len = 0;
    z->next_in = (Bytef *)body;
    z->avail_in = (uInt)len;
    for (;;) {
        if (fb_bytes_reserve (&self->plain, len * 2 + 4096) != 0)
            return -1;
        z->next_out = self->plain.data + self->plain.len;
        z->avail_out = (uInt)(self->plain.cap - self->plain.len);
        int rc = inflate (z, Z_NO_FLUSH);
        self->plain.len = self->plain.cap - z->avail_out;
        if (rc == Z_STREAM_END)
            return 0;
        if (rc == Z_MEM_ERROR)
            return -1;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return 1;
        if (rc == Z_BUF_ERROR && z->avail_in == 0)
            return 1; /* truncated */
    }
}

static int s_gzip (fb_inject_t *self, const uint8_t *data, size_t len) {
    z_stream *z = &self->deflater;
    deflateReset (z);
    self->packed.len = 0;
    if (fb_bytes_reserve (&self->packed, deflateBound (z, (uLong)len)) != 0)
        return -1;
    z->next_in = (Bytef *)data;
    z->avail_in = (uInt)len;
    z->next_out = self->packed.data;
    z->avail_out = (uInt)self->packed.cap;
    int rc = deflate (z, Z_FINISH); /* deflateBound guarantees one call is enough */
    self->packed.len = self->packed.cap - z->avail_out;
    return rc == Z_STREAM_END ? 0 : -1;
}

int fb_inject_body (fb_inject_t *self, const uint8_t *body, size_t len, bool gzip,
                    const uint8_t *script, size_t script_len, const uint8_t **out,
                    size_t *out_len) {
    *out = body;
    *out_len = len;
    const uint8_t *html = body;
    size_t html_len = len;
    if (gzip) {
        int rc = s_gunzip (self, body, len);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        html = self->plain.data;
        html_len = self->plain.len;
    }
    if (memmem (html, html_len, FB_INJECT_MARKER, strlen (FB_INJECT_MARKER)))
        return 0;
    size_t at = fb_inject_position (html, html_len);
    self->edited.len = 0;
    if (fb_bytes_reserve (&self->edited, html_len + script_len) != 0)
        return -1;
    fb_bytes_append (&self->edited, html, at);
    fb_bytes_append (&self->edited, script, script_len);
    fb_bytes_append (&self->edited, html + at, html_len - at);
    if (gzip) {
        if (s_gzip (self, self->edited.data, self->edited.len) != 0)
            return -1;
        *out = self->packed.data;
        *out_len = self->packed.len;
    } else {
        *out = self->edited.data;
        *out_len = self->edited.len;
    }
    return 1;
}

/* True when the header line (name: value) has one of the names, case-insensitive. */
static bool s_line_is (const uint8_t *line, size_t len, const char *const *names) {
    for (int i = 0; names[i]; i++) {
        size_t n = strlen (names[i]);
        if (len > n && line[n] == ':' && strncasecmp ((const char *)line, names[i], n) == 0)
            return true;
    }
    return false;
}

int fb_inject_head (const uint8_t *head, size_t head_len, size_t body_len, bool drop_csp,
                    fb_bytes_t *out) {
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding", NULL};
    static const char *const csp[] = {"Content-Security-Policy", "X-Content-Security-Policy", NULL};
    size_t at = 0;
    bool first = true;
    while (at < head_len) {
        const uint8_t *nl = memchr (head + at, '\n', head_len - at);
        if (!nl)
            return -1;
        size_t line_len = (size_t)(nl - (head + at)) + 1;
        const uint8_t *line = head + at;
        size_t text_len = line_len - 1 - (line_len >= 2 && line[line_len - 2] == '\r');
        if (text_len == 0 && !first) { /* the blank line: the head ends here */
            char cl[48];
            int n = snprintf (cl, sizeof cl, "Content-Length: %zu\r\n", body_len);
            return fb_bytes_append (out, cl, (size_t)n) || fb_bytes_append (out, line, line_len)
                       ? -1
                       : 0;
        }
        bool drop = !first && (s_line_is (line, text_len, framing) ||
                               (drop_csp && s_line_is (line, text_len, csp)));
        if (!drop && fb_bytes_append (out, line, line_len) != 0)
            return -1;
        first = false;
        at += line_len;
    }
    return -1;
}

/* Filler JavaScript: lines like a minified monitor (functions, event listeners, JSON keys),
 * varied by their index so that gzip gets a page's ratio, not a run of identical lines. */
static int s_filler (size_t bytes, fb_bytes_t *out) {
    static const char *const parts[] = {
        "function __bm_m%zu(e){var t=performance.now();return{k:'m%zu',t:t,d:e&&e.detail}}\n",
        ("window.addEventListener('error',function(e){__bmq.push(['err',%zu,e.message])});"
         "/*%zu*/\n"),
        "__bmq.push({type:'metric',name:'paint-%zu',value:Math.round(%zu*1.5)});\n",
        "if(document.readyState==='complete'){__bmf(%zu,'ready-%zu')}\n",
    };
    size_t start = out->len;
    for (size_t i = 0; out->len - start < bytes; i++) {
        char line[160];
        int n = snprintf (line, sizeof line, parts[i % 4], i * 7919 % 100003, i);
        size_t want = bytes - (out->len - start);
        if (fb_bytes_append (out, line, (size_t)n < want ? (size_t)n : want) != 0)
            return -1;
    }
    return 0;
}

int fb_inject_script (const char *process, int proxy_port, size_t script_bytes, fb_bytes_t *out) {
    char config[256];
    int n = snprintf (config, sizeof config,
                      "\n" FB_INJECT_MARKER "\n<script>\n"
                      "// Set process name and proxy host for telemetry\n"
                      "window.__brummerProcessName = '%s';\n"
                      "window.__brummerProxyHost = 'localhost:%d';\n"
                      "</script>\n<script>\n",
                      process, proxy_port);
    if (n < 0 || (size_t)n >= sizeof config || fb_bytes_append (out, config, (size_t)n) != 0 ||
        s_filler (script_bytes, out) != 0 ||
        fb_bytes_append_str (out, "\n</script>\n<!-- End Brummer Monitoring Script -->\n") != 0)
        return -1;
    return 0;
}

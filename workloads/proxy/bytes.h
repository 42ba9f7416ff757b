/* bytes.h: a growable byte buffer, the proxy's unit of I/O (requests, pages, gzip streams). */
#ifndef FB_BYTES_H
#define FB_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len; /* bytes held */
    size_t cap; /* bytes allocated */
} fb_bytes_t;

/* Makes room for more bytes after len; -1 when out of memory. Grows by doubling. */
int fb_bytes_reserve (fb_bytes_t *self, size_t more);
int fb_bytes_append (fb_bytes_t *self, const void *data, size_t len);
int fb_bytes_append_str (fb_bytes_t *self, const char *text);
/* Drops the first n bytes (n <= len). */
void fb_bytes_consume (fb_bytes_t *self, size_t n);
void fb_bytes_free (fb_bytes_t *self);

#endif

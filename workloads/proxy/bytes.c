/* bytes.c: the buffer grows by doubling; consume moves what is left to the front. */
#include "workloads/proxy/bytes.h"

#include <stdlib.h>
#include <string.h>

int fb_bytes_reserve (fb_bytes_t *self, size_t more) {
    if (self->cap - self->len >= more)
        return 0;
    size_t cap = self->cap ? self->cap : 256;
    while (cap - self->len < more) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    uint8_t *data = realloc (self->data, cap);
    if (!data)
        return -1;
    self->data = data;
    self->cap = cap;
    return 0;
}

int fb_bytes_append (fb_bytes_t *self, const void *data, size_t len) {
    if (fb_bytes_reserve (self, len) != 0)
        return -1;
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
    return 0;
}

int fb_bytes_append_str (fb_bytes_t *self, const char *text) {
    return fb_bytes_append (self, text, strlen (text));
}

void fb_bytes_consume (fb_bytes_t *self, size_t n) {
    if (n >= self->len) {
        self->len = 0;
        return;
    }
    memmove (self->data, self->data + n, self->len - n);
    self->len -= n;
}

void fb_bytes_free (fb_bytes_t *self) {
    free (self->data);
    *self = (fb_bytes_t){0};
}

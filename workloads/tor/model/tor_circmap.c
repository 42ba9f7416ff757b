/* tor_circmap.c: circuit id -> circuit, a chained hash table per link (tor-spec 5.1: ids are
 * per link, and the side that opened the link takes ids with the high bit set). */
#include "workloads/tor/model/tor_circmap.h"

#include "common/rng.h"

#include <stdlib.h>

typedef struct s_entry {
    uint32_t id;
    void *value;
    struct s_entry *next;
} s_entry_t;

struct fb_tor_circmap {
    s_entry_t **buckets;
    size_t nbuckets;
    int count;
};

fb_tor_circmap_t *fb_tor_circmap_new (void) {
    fb_tor_circmap_t *self = calloc (1, sizeof *self);
    if (self && !(self->buckets = calloc (64, sizeof *self->buckets))) {
        free (self);
        return NULL;
    }
    if (self)
        self->nbuckets = 64;
    return self;
}

void fb_tor_circmap_destroy (fb_tor_circmap_t **self_p) {
    fb_tor_circmap_t *self = *self_p;
    if (!self)
        return;
    for (size_t b = 0; b < self->nbuckets; b++)
        for (s_entry_t *e = self->buckets[b], *next; e; e = next) {
            next = e->next;
            free (e);
        }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static size_t s_bucket (const fb_tor_circmap_t *self, uint32_t id) {
    return (size_t)((id * 2654435761u) >> 8) & (self->nbuckets - 1);
}

void *fb_tor_circmap_get (const fb_tor_circmap_t *self, uint32_t id) {
    for (s_entry_t *e = self->buckets[s_bucket (self, id)]; e; e = e->next)
        if (e->id == id)
            return e->value;
    return NULL;
}

static void s_grow (fb_tor_circmap_t *self) {
    size_t n = self->nbuckets * 4;
    s_entry_t **buckets = calloc (n, sizeof *buckets);
    if (!buckets)
        return; /* stays correct, only slower */
    s_entry_t **old = self->buckets;
    size_t old_n = self->nbuckets;
    self->buckets = buckets;
    self->nbuckets = n;
    for (size_t b = 0; b < old_n; b++)
        for (s_entry_t *e = old[b], *next; e; e = next) {
            next = e->next;
            size_t nb = s_bucket (self, e->id);
            e->next = buckets[nb];
            buckets[nb] = e;
        }
    free (old);
}

int fb_tor_circmap_put (fb_tor_circmap_t *self, uint32_t id, void *value) {
    s_entry_t *e = malloc (sizeof *e);
    if (!e)
        return -1;
    if ((size_t)self->count >= self->nbuckets)
        s_grow (self);
    size_t b = s_bucket (self, id);
    *e = (s_entry_t){.id = id, .value = value, .next = self->buckets[b]};
    self->buckets[b] = e;
    self->count++;
    return 0;
}

void fb_tor_circmap_del (fb_tor_circmap_t *self, uint32_t id) {
    for (s_entry_t **p = &self->buckets[s_bucket (self, id)]; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            s_entry_t *e = *p;
            *p = e->next;
            free (e);
            self->count--;
            return;
        }
}

int fb_tor_circmap_count (const fb_tor_circmap_t *self) { return self->count; }

void fb_tor_circmap_each (fb_tor_circmap_t *self, void (*fn) (void *arg, uint32_t id, void *v),
                          void *arg) {
    for (size_t b = 0; b < self->nbuckets; b++)
        for (s_entry_t *e = self->buckets[b], *next; e; e = next) {
            next = e->next;
            fn (arg, e->id, e->value);
        }
}

uint32_t fb_tor_circmap_new_id (const fb_tor_circmap_t *self, bool initiator, uint64_t *rng) {
    for (;;) {
        uint64_t x = fb_rng_next (rng);
        uint32_t id = (uint32_t)x & 0x7fffffffu;
        id |= initiator ? 0x80000000u : 0;
        if ((id & 0x7fffffffu) != 0 && !fb_tor_circmap_get (self, id))
            return id;
    }
}

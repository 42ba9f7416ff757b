/* tor_circmap.h: a link's circuits by id. */
#ifndef FB_TOR_CIRCMAP_H
#define FB_TOR_CIRCMAP_H

#include <stdbool.h>
#include <stdint.h>

/* A small map circuit id -> pointer, per link: the owner's circuits on that link. */
typedef struct fb_tor_circmap fb_tor_circmap_t;
fb_tor_circmap_t *fb_tor_circmap_new (void);
void fb_tor_circmap_destroy (fb_tor_circmap_t **self_p);
void *fb_tor_circmap_get (const fb_tor_circmap_t *self, uint32_t circ_id);
int fb_tor_circmap_put (fb_tor_circmap_t *self, uint32_t circ_id, void *value);
void fb_tor_circmap_del (fb_tor_circmap_t *self, uint32_t circ_id);
int fb_tor_circmap_count (const fb_tor_circmap_t *self);
/* Calls fn for every entry; fn may delete the entry it is given (and no other). */
void fb_tor_circmap_each (fb_tor_circmap_t *self, void (*fn) (void *arg, uint32_t id, void *v),
                          void *arg);
/* A fresh circuit id for a link: high bit set when we initiated the link (tor-spec 5.1.1). */
uint32_t fb_tor_circmap_new_id (const fb_tor_circmap_t *self, bool initiator, uint64_t *rng);

#endif

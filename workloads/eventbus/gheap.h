/* gheap.h: the pages of Go's heap, for the eventbus model's collector. Brummer's heap grows
 * while a backlog of goroutines keeps events and closures live: with 10 publishers and
 * handlers that return at once, its 100 000 events touch about 40 MB of pages the process
 * never had (perf stat: 58 000 page faults, 9 600 TLB flushes; docs/workloads/eventbus.md).
 * Go reads much of that memory before it writes it (mapassign reads a new bucket's tophash
 * first; the write barrier reads the slot it overwrites), so the kernel first maps its zero
 * page there, and the first write then copies it and flushes the other CPUs' TLBs by
 * interrupt. The model's own objects come from malloc, whose pages are warm.
 *
 * So the collector keeps, besides its counts, a region of real pages standing for the heap:
 * when the heap in use (the live heap of the last cycle and what was allocated since) grows
 * past the most it has been, the allocating thread touches the pages in between as Go's first
 * touches do, a read and then a write. Go's scavenger, which gives pages back above 110 % of
 * the goal, is not modelled: these pages stay until the pool is destroyed. */
#ifndef FB_GHEAP_H
#define FB_GHEAP_H

#include "common/err.h"

#include <stdint.h>

typedef struct fb_gheap fb_gheap_t;

/* Reserves address space for the heap's pages (none touched yet); `read_first` (0..1) is the
 * share of them Go reads before it writes (the pages of the objects it reads first, as map
 * buckets). NULL and err set when it cannot be reserved. */
fb_gheap_t *fb_gheap_new (double read_first, fb_err_t *err);

/* The heap now holds `bytes`: touches, read first, the pages past the most it ever held, up to
 * the reservation's end. Any thread; pages are touched by the thread that reached them. */
void fb_gheap_reach (fb_gheap_t *self, int64_t bytes);

/* Bytes of pages touched so far. */
int64_t fb_gheap_touched (fb_gheap_t *self);

void fb_gheap_destroy (fb_gheap_t **self_p);

#endif

/* gheap.h: the pages of Go's heap, for the eventbus model's collector. Brummer's heap grows
 * while a backlog of goroutines keeps events and closures live: with 10 publishers and
 * handlers that return at once, its 100 000 events grow it to 69 MB of pages the process never
 * had (perf stat: 58 000 page faults, 9 600 TLB flushes; docs/workloads/eventbus.md). Go reads
 * about a fifth of those pages before it writes them (mapassign reads a new bucket's tophash
 * first; the write barrier reads the slot it overwrites), so the kernel first maps its zero
 * page there, and the first write then copies it and flushes the other CPUs' TLBs by
 * interrupt. The model's own objects come from malloc, whose pages are warm.
 *
 * So the collector keeps, besides its counts, a region of real pages standing for the heap:
 * when the heap in use grows past the most it has held, the allocating thread touches the pages
 * in between as Go's first touches do, the share Go reads first with a read before the write.
 * The region is address space reserved up front (8 GB, 512 MB on a 32-bit board, less when the
 * system allows less, at least 64 MB) and made writable as the heap grows; past its end, or once
 * the system refuses more (a commit limit), the heap's pages stop growing. Go's scavenger, which
 * gives pages back above 110 % of the goal, is not modelled: the pages stay until the collector
 * is destroyed. */
#ifndef FB_GHEAP_H
#define FB_GHEAP_H

#include "common/err.h"

#include <stdint.h>

typedef struct fb_gheap fb_gheap_t;

/* Reserves address space for the heap's pages (none touched yet); `read_first` (0..1) is the
 * share of them Go reads before it writes (the pages of the objects it reads first, as map
 * buckets). NULL and err set when it cannot be reserved. */
fb_gheap_t *fb_gheap_new (double read_first, fb_err_t *err);

/* The heap now holds `bytes`: touches the pages past the most it ever held (the read_first
 * share read first), up to where the region may grow. Any thread; each page is touched once,
 * by the thread that reached it. */
void fb_gheap_reach (fb_gheap_t *self, int64_t bytes);

/* Bytes of pages touched so far. */
int64_t fb_gheap_touched (fb_gheap_t *self);

/* How far the heap's pages may grow: the reservation, or less once the system refused. */
int64_t fb_gheap_reserved (fb_gheap_t *self);

/* Marking's work on the heap, as Go's scanobject and greyobject do it: a cycle scans the live
 * heap (`bytes`, up to the pages touched) a pointer word every FB_GHEAP_PTR_BYTES (Go's objects
 * here, an event, its map, a closure, a timer, hold about one in 12-16 bytes), and each word
 * found sets the mark bit of the object it points to, somewhere in the heap, in a bitmap of one
 * bit per pointer word, cleared for each cycle (Go's gcmarkBits). Returns the bytes the cycle
 * will scan: 0 when there is nothing, or no memory for the bitmap. Call it between cycles. */
#define FB_GHEAP_PTR_BYTES 16
int64_t fb_gheap_mark_begin (fb_gheap_t *self, int64_t bytes);

/* Scans bytes [from, to) of this cycle's live heap: any thread, disjoint ranges at once. */
void fb_gheap_scan (fb_gheap_t *self, int64_t from, int64_t to);

/* Mark bits set so far this cycle (objects marked). */
int64_t fb_gheap_marked (fb_gheap_t *self);

void fb_gheap_destroy (fb_gheap_t **self_p);

#endif

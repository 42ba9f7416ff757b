/* gogc.h: Go's garbage collector, as far as it shapes what Brummer's bus costs. Measured on
 * Brummer's code (docs/workloads/eventbus.md, "Fidelity"): with its collector off (GOGC=off)
 * Brummer's queue overflows with 100 or 1000 publishers as the model's did; with it on, the
 * publishers are held back enough for the handlers to keep up, because every byte a goroutine
 * allocates while the collector marks costs it scan work (a mark assist), and the scan work
 * grows with the goroutines waiting to run.
 *
 * The model's collector works as Go 1.19's does, in the units the model has (bytes counted as
 * Go allocates them, goroutine blocks as the scan work; gmem.h):
 * - a cycle starts when the bytes allocated since the last one reach 95 % of the way from the
 *   live heap to the goal (Go's trigger), with a stop-the-world (fb_gosched_preempt_all).
 *   From then until marking starts, every allocation takes a semaphore (Go's gcStart takes
 *   work.startSema), and a thread holding a carrier that finds it held waits in its line; the
 *   semaphore goes down the line one thread at a time, each readied into the next slot of its
 *   releaser's carrier (semrelease). The first thread to hold it once the trigger is reached
 *   starts the cycle: the first time, if it holds a carrier, it gives it up once per carrier
 *   and queues again (Go starts a mark worker per P and waits for each, off its P), then it
 *   reads every g (gcResetMarkState). With many publishers most of them so wait in that line
 *   while the handlers run;
 * - it scans every goroutine block handed out so far (markroot over allgs, each live stack);
 * - a background worker on the carriers does part of it, up to 25 % of the carriers' time
 *   (Go's fractional worker on 2-3 Ps), run first when due (fb_gosched_ready_first);
 * - every allocation while marking scans blocks in proportion, at a ratio set at the start:
 *   the blocks to scan over the bytes left before the goal (Go's assist ratio); an allocating
 *   thread that finds nothing left to scan parks off its carrier until marking ends
 *   (gcParkAssist), and the end of marking queues every parked one at once (fb_gosched_block,
 *   fb_gosched_wake_all);
 * - whoever scans the last block ends marking (gcMarkDone), the worker or an assist; it ends
 *   with a second stop-the-world; the next goal is the live heap (every g, what each live task
 *   holds, and what was allocated while marking: Go allocates black) times 1 + GOGC/100, at
 *   least 4 MB;
 * - the heap has pages (gheap.h): when the heap in use without the g's (the last live heap and
 *   what was allocated since; a g's block is memory of its own) grows past the most it has
 *   held, the allocating thread touches the pages in between, the share Go reads first read
 *   before they are written. */
#ifndef FB_GOGC_H
#define FB_GOGC_H

#include "common/err.h"
#include "workloads/eventbus/gmem.h"
#include "workloads/eventbus/gosched.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct fb_gogc fb_gogc_t;

/* `percent` is Go's GOGC (> 0); `live_bytes_per_task` is what each task in use keeps live on
 * the heap besides its g (its closure and its share of the event); `read_first` the share of
 * the heap's new pages Go reads before it writes (gheap.h). NULL and err set when out of
 * memory. */
fb_gogc_t *fb_gogc_new (fb_gosched_t *sched, fb_gmem_t *gmem, int percent,
                        int64_t live_bytes_per_task, double read_first, fb_err_t *err);

/* Counts an allocation: starts a cycle at the trigger; while a cycle starts, takes the start
 * semaphore and gives it on (a thread holding a carrier waits in its line); while marking,
 * scans blocks in proportion on the calling thread (the assist), or parks it until marking
 * ends when nothing is left to scan and it holds a carrier. Any thread. */
void fb_gogc_alloc (fb_gogc_t *self, int64_t bytes);

/* The same for a spawned call: its bytes, and with new_g a new g (FB_GMEM_G_BYTES), counted as
 * Go counts a new g on its heap; no heap page stands for the g, whose goroutine block is
 * memory of its own. */
void fb_gogc_alloc_with_g (fb_gogc_t *self, int64_t bytes, bool new_g);

/* Cycles ended so far. */
int64_t fb_gogc_cycles (fb_gogc_t *self);

/* Allocations that waited in the start semaphore's line so far. */
int64_t fb_gogc_start_waits (fb_gogc_t *self);

/* Bytes of the pages standing for the heap touched so far: the most the heap without the g's
 * (the live heap of the last cycle and what was allocated since) has held, in whole pages
 * (gheap.h). */
int64_t fb_gogc_heap_touched (fb_gogc_t *self);

/* Every thread that allocates must be out of fb_gogc_alloc, and the scheduler must have run
 * the background worker to its end (fb_gosched_wait): the last scan then ended the cycle. */
void fb_gogc_destroy (fb_gogc_t **self_p);

#endif

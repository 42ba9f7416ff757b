/* gmem.h: a goroutine's memory, for the eventbus model's tasks. Go gives every goroutine a g
 * record (runtime.g: 392 bytes in go1.19, in the 416-byte size class) and a 2 KB stack
 * (_FixedStack); a goroutine that ends leaves both on a free list for the next `go` statement
 * (gfput, gfget), and a new one takes fresh memory. A backlog of 100 000 spawned goroutines so
 * holds about 240 MB, and starting and running each one touches memory no cache holds: on a
 * 2-core machine that is most of what a spawned call costs Brummer's bus.
 *
 * A task of the model takes the same: a block of FB_GMEM_BLOCK_BYTES, the last freed one when
 * there is one (LIFO, as gfget takes the last dead g), else the next one of a chunk mapped
 * when needed and touched first by its task, as a fresh stack page is. The block's first
 * FB_GMEM_G_BYTES hold the owner's task record; the rest is its stack, whose top the task
 * writes its frame to (fb_gmem_frame). Blocks go back to the OS when the pool is destroyed. */
#ifndef FB_GMEM_H
#define FB_GMEM_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    FB_GMEM_G_BYTES = 416,
    FB_GMEM_STACK_BYTES = 2048,
    FB_GMEM_BLOCK_BYTES = FB_GMEM_G_BYTES + FB_GMEM_STACK_BYTES,
};

typedef struct fb_gmem fb_gmem_t;

/* NULL and err set when out of memory. */
fb_gmem_t *fb_gmem_new (fb_err_t *err);

/* A block for a new task (its g record at the start); NULL when no memory can be mapped.
 * *fresh (when fresh is not NULL) says whether it is a new block rather than one put back: Go
 * allocates a new g on its heap (malg), where a dead one costs no allocation. */
void *fb_gmem_get (fb_gmem_t *self, bool *fresh);

/* Gives back a block whose task ended. */
void fb_gmem_put (fb_gmem_t *self, void *block);

/* The `size` bytes at the top of the block's stack, where a task's first frame goes. */
void *fb_gmem_frame (void *block, size_t size);

/* Blocks handed out so far (Go never frees a g: they are all in allgs). */
int64_t fb_gmem_blocks (fb_gmem_t *self);

/* The collector's scan of blocks [from, to) in the order they were first handed out (Go's
 * markroot over allgs): reads each g and, for a block in use, the top of its stack. Returns
 * the blocks in use among them. Runs while other threads get and put blocks. */
int64_t fb_gmem_scan (fb_gmem_t *self, int64_t from, int64_t to);

/* The collector's pass over every block handed out so far before a cycle starts (Go's
 * gcResetMarkState over allgs, which clears two fields of every g): reads each g's first word.
 * Returns the blocks visited. */
int64_t fb_gmem_reset (fb_gmem_t *self);

/* Bytes mapped for blocks so far (what the goroutines' memory has grown to). */
int64_t fb_gmem_mapped (fb_gmem_t *self);

/* Unmaps every block; none may be in use. */
void fb_gmem_destroy (fb_gmem_t **self_p);

#endif

/* gmem.c: goroutine-sized blocks for the eventbus model's tasks (see gmem.h). One lock guards
 * a LIFO free list threaded through the blocks' stacks and the mapping of fresh blocks; the
 * count of blocks handed out is published so the collector can scan without the lock. */
#include "workloads/eventbus/gmem.h"
#include "workloads/eventbus/gosched.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* 1702 blocks per chunk; the pages are touched only when a block is first used. Up to 4096
 * chunks: 16 GB of goroutines. */
#define S_CHUNK_BYTES (4 * 1024 * 1024)
#define S_PER_CHUNK (S_CHUNK_BYTES / FB_GMEM_BLOCK_BYTES)
#define S_MAX_CHUNKS 4096
/* The top of a stack a scan reads: the frames a spawned call's goroutine has (its closure's,
 * the handler's; Go scans a stack from its pointer to its top). */
#define S_SCANNED_BYTES 512

/* The word at a block's stack base: the next free block while it is free, S_IN_USE while a
 * task has it (the collector reads it as Go reads a g's status). */
#define S_IN_USE ((void *)1)

struct fb_gmem {
    pthread_mutex_t lock;
    void *free;                 /* the last block put back; each holds the next at its stack base */
    char *chunks[S_MAX_CHUNKS]; /* in the order mapped */
    int nchunks;
    atomic_int_fast64_t blocks; /* handed out so far, from the start of chunks[0] */
};

static void **s_link (void *block) { return (void **)((char *)block + FB_GMEM_G_BYTES); }

static char *s_block (fb_gmem_t *self, int64_t index) {
    return self->chunks[index / S_PER_CHUNK] + index % S_PER_CHUNK * FB_GMEM_BLOCK_BYTES;
}

fb_gmem_t *fb_gmem_new (fb_err_t *err) {
    fb_gmem_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the goroutine pool");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->blocks, 0);
    return self;
}

/* The next fresh block, mapping a chunk when the last is used up; NULL when none can be. */
static char *s_fresh (fb_gmem_t *self) {
    int64_t index = atomic_load_explicit (&self->blocks, memory_order_relaxed);
    if (index == (int64_t)self->nchunks * S_PER_CHUNK) {
        if (self->nchunks == S_MAX_CHUNKS)
            return NULL;
        void *mem = mmap (NULL, S_CHUNK_BYTES, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
            return NULL;
        self->chunks[self->nchunks++] = mem;
    }
    char *block = s_block (self, index);
    /* published after its chunk: a scan that sees the count sees the chunk */
    atomic_store_explicit (&self->blocks, index + 1, memory_order_release);
    return block;
}

void *fb_gmem_get (fb_gmem_t *self, bool *fresh) {
    fb_gosched_lock (&self->lock);
    void *block = self->free;
    if (fresh)
        *fresh = block == NULL;
    if (block)
        self->free = *s_link (block);
    else
        block = s_fresh (self);
    pthread_mutex_unlock (&self->lock);
    if (block)
        __atomic_store_n (s_link (block), S_IN_USE, __ATOMIC_RELAXED);
    return block;
}

void fb_gmem_put (fb_gmem_t *self, void *block) {
    fb_gosched_lock (&self->lock);
    __atomic_store_n (s_link (block), self->free, __ATOMIC_RELAXED);
    self->free = block;
    pthread_mutex_unlock (&self->lock);
}

void *fb_gmem_frame (void *block, size_t size) {
    assert (size <= FB_GMEM_STACK_BYTES - sizeof (void *));
    return (char *)block + FB_GMEM_BLOCK_BYTES - size;
}

int64_t fb_gmem_mapped (fb_gmem_t *self) {
    fb_gosched_lock (&self->lock);
    int64_t mapped = (int64_t)self->nchunks * S_CHUNK_BYTES;
    pthread_mutex_unlock (&self->lock);
    return mapped;
}

int64_t fb_gmem_blocks (fb_gmem_t *self) {
    return atomic_load_explicit (&self->blocks, memory_order_acquire);
}

int64_t fb_gmem_scan (fb_gmem_t *self, int64_t from, int64_t to) {
    int64_t blocks = fb_gmem_blocks (self), in_use = 0;
    if (to > blocks)
        to = blocks;
    for (int64_t i = from; i < to; i++) {
        char *block = s_block (self, i);
        (void)__atomic_load_n ((uintptr_t *)block, __ATOMIC_RELAXED); /* the g */
        if (__atomic_load_n (s_link (block), __ATOMIC_RELAXED) != S_IN_USE)
            continue;
        in_use++;
        /* its stack's used top, a word per 64-byte line, as far as the first frames reach */
        const uintptr_t *frame = fb_gmem_frame (block, S_SCANNED_BYTES);
        for (size_t w = 0; w < S_SCANNED_BYTES / sizeof *frame; w += 64 / sizeof *frame)
            (void)__atomic_load_n (&frame[w], __ATOMIC_RELAXED);
    }
    return in_use;
}

int64_t fb_gmem_reset (fb_gmem_t *self) {
    int64_t blocks = fb_gmem_blocks (self);
    for (int64_t i = 0; i < blocks; i++)
        (void)__atomic_load_n ((uintptr_t *)s_block (self, i), __ATOMIC_RELAXED);
    return blocks;
}

void fb_gmem_destroy (fb_gmem_t **self_p) {
    fb_gmem_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->nchunks; i++)
        munmap (self->chunks[i], S_CHUNK_BYTES);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

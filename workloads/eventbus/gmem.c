/* gmem.c: goroutine-sized blocks for the eventbus model's tasks (see gmem.h). One lock guards
 * a LIFO free list threaded through the blocks' stacks and the chunk being carved. */
#include "workloads/eventbus/gmem.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* 1702 blocks per chunk; the pages are touched only when a block is first used. */
#define S_CHUNK_BYTES (4 * 1024 * 1024)

typedef struct s_chunk {
    struct s_chunk *next;
} s_chunk_t;

struct fb_gmem {
    pthread_mutex_t lock;
    void *free;              /* the last block put back; each holds the next at its stack base */
    char *carve, *carve_end; /* the rest of the newest chunk */
    s_chunk_t *chunks;       /* every chunk mapped, to unmap */
    int64_t mapped;
};

static void **s_link (void *block) { return (void **)((char *)block + FB_GMEM_G_BYTES); }

fb_gmem_t *fb_gmem_new (fb_err_t *err) {
    fb_gmem_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the goroutine pool");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

/* Maps a chunk; its first block holds the chunk's link, so the rest are carved. */
static bool s_map_chunk (fb_gmem_t *self) {
    void *mem = mmap (NULL, S_CHUNK_BYTES, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return false;
    s_chunk_t *chunk = mem;
    chunk->next = self->chunks;
    self->chunks = chunk;
    self->carve = (char *)mem + FB_GMEM_BLOCK_BYTES;
    self->carve_end = (char *)mem + S_CHUNK_BYTES;
    self->mapped += S_CHUNK_BYTES;
    return true;
}

void *fb_gmem_get (fb_gmem_t *self) {
    pthread_mutex_lock (&self->lock);
    void *block = self->free;
    if (block) {
        self->free = *s_link (block);
    } else if (self->carve_end - self->carve >= FB_GMEM_BLOCK_BYTES || s_map_chunk (self)) {
        block = self->carve;
        self->carve += FB_GMEM_BLOCK_BYTES;
    }
    pthread_mutex_unlock (&self->lock);
    return block;
}

void fb_gmem_put (fb_gmem_t *self, void *block) {
    pthread_mutex_lock (&self->lock);
    *s_link (block) = self->free;
    self->free = block;
    pthread_mutex_unlock (&self->lock);
}

void *fb_gmem_frame (void *block, size_t size) {
    assert (size <= FB_GMEM_STACK_BYTES - sizeof (void *));
    return (char *)block + FB_GMEM_BLOCK_BYTES - size;
}

int64_t fb_gmem_mapped (fb_gmem_t *self) {
    pthread_mutex_lock (&self->lock);
    int64_t mapped = self->mapped;
    pthread_mutex_unlock (&self->lock);
    return mapped;
}

void fb_gmem_destroy (fb_gmem_t **self_p) {
    fb_gmem_t *self = *self_p;
    if (!self)
        return;
    s_chunk_t *chunk = self->chunks;
    while (chunk) {
        s_chunk_t *next = chunk->next;
        munmap (chunk, S_CHUNK_BYTES);
        chunk = next;
    }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

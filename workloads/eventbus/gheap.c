/* gheap.c: pages standing for Go's heap (see gheap.h). The most the heap has held is claimed
 * with a compare-and-swap, so each page is touched once, by the thread whose allocation
 * reached it. */
#include "workloads/eventbus/gheap.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Address space reserved for the heap: 8 GB, or 512 MB on a 32-bit board. Touched pages are
 * what it costs; the rest is never backed. */
#define S_RESERVE_BYTES (sizeof (void *) == 8 ? (int64_t)8 << 30 : (int64_t)512 << 20)

struct fb_gheap {
    char *base;
    int64_t reserved, page;
    double read_first;       /* share of the pages read before they are written */
    atomic_int_fast64_t top; /* the most bytes the heap has held */
};

fb_gheap_t *fb_gheap_new (double read_first, fb_err_t *err) {
    fb_gheap_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the collector's heap");
        return NULL;
    }
    self->reserved = S_RESERVE_BYTES;
    self->base = mmap (NULL, (size_t)self->reserved, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (self->base == MAP_FAILED) {
        free (self);
        fb_err_set (err, FB_ENOMEM, "eventbus: cannot reserve address space for the heap");
        return NULL;
    }
    /* a page at a time, as Brummer's heap faults here (not a 2 MB page where the system would
     * give every mapping huge pages) */
    (void)madvise (self->base, (size_t)self->reserved, MADV_NOHUGEPAGE);
    self->page = sysconf (_SC_PAGESIZE);
    self->read_first = read_first < 0 ? 0 : read_first > 1 ? 1 : read_first;
    atomic_init (&self->top, 0);
    return self;
}

void fb_gheap_reach (fb_gheap_t *self, int64_t bytes) {
    if (bytes > self->reserved)
        bytes = self->reserved;
    int64_t top = atomic_load_explicit (&self->top, memory_order_relaxed);
    do
        if (bytes <= top)
            return;
    while (!atomic_compare_exchange_weak_explicit (&self->top, &top, bytes, memory_order_relaxed,
                                                   memory_order_relaxed));
    /* pages [ceil(top / page), ceil(bytes / page)) are this thread's to touch; page i is read
     * first when it takes the count of read-first pages to the next whole number */
    for (int64_t i = (top + self->page - 1) / self->page; i * self->page < bytes; i++) {
        char *p = self->base + i * self->page;
        if ((int64_t)((double)(i + 1) * self->read_first) > (int64_t)((double)i * self->read_first))
            (void)__atomic_load_n (p, __ATOMIC_RELAXED); /* maps the zero page */
        __atomic_store_n (p, 1, __ATOMIC_RELAXED);       /* copies it, or takes a fresh page */
    }
}

int64_t fb_gheap_touched (fb_gheap_t *self) {
    int64_t top = atomic_load_explicit (&self->top, memory_order_relaxed);
    return (top + self->page - 1) / self->page * self->page;
}

void fb_gheap_destroy (fb_gheap_t **self_p) {
    fb_gheap_t *self = *self_p;
    if (!self)
        return;
    munmap (self->base, (size_t)self->reserved);
    free (self);
    *self_p = NULL;
}

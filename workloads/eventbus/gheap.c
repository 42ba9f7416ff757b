/* gheap.c: pages standing for Go's heap (see gheap.h). The address space is reserved without
 * access (it costs no memory, and counts against no commit limit) and made writable 4 MB at a
 * time as the heap grows into it. The most the heap has held is claimed with a
 * compare-and-swap, so each page is touched once, by the thread whose allocation reached it. */
#include "workloads/eventbus/gheap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The most address space tried for the heap: 8 GB, or 512 MB on a 32-bit board; halved down
 * to S_RESERVE_MIN when the system refuses (ulimit -v, a fragmented 32-bit address space). */
#define S_RESERVE_MAX (sizeof (void *) == 8 ? (int64_t)8 << 30 : (int64_t)512 << 20)
#define S_RESERVE_MIN ((int64_t)64 << 20)
#define S_CHUNK ((int64_t)4 << 20) /* made writable at a time */

struct fb_gheap {
    char *base;
    int64_t mapped;   /* the reservation */
    int64_t reserved; /* how far the heap may grow: the reservation, less once refused */
    int64_t page;
    double read_first; /* share of the pages read before they are written */
    pthread_mutex_t lock;
    atomic_int_fast64_t writable; /* bytes from base made writable; no more once it fails */
    atomic_int_fast64_t top;      /* the most bytes the heap has held, up to writable */
    uint32_t *marks;              /* the cycle's mark bits (fb_gheap_mark_begin) */
    int64_t marks_words, scan_bytes, nbits;
};

fb_gheap_t *fb_gheap_new (double read_first, fb_err_t *err) {
    fb_gheap_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "eventbus: out of memory for the collector's heap");
        return NULL;
    }
    int errnum = 0;
    for (self->reserved = S_RESERVE_MAX; self->reserved >= S_RESERVE_MIN; self->reserved /= 2) {
        self->base = mmap (NULL, (size_t)self->reserved, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (self->base != MAP_FAILED) {
            self->mapped = self->reserved;
            break;
        }
        errnum = errno;
    }
    if (self->base == MAP_FAILED) {
        free (self);
        fb_err_set (err, FB_ENOMEM,
                    "eventbus: cannot reserve %lld MB of address space for the collector's "
                    "heap: %s (see ulimit -v; gogc=0 turns the collector off)",
                    (long long)(S_RESERVE_MIN >> 20), strerror (errnum));
        return NULL;
    }
    /* a page at a time, as Brummer's heap faults here (not a 2 MB page where the system would
     * give every mapping huge pages) */
    (void)madvise (self->base, (size_t)self->reserved, MADV_NOHUGEPAGE);
    self->page = sysconf (_SC_PAGESIZE);
    self->read_first = read_first < 0 ? 0 : read_first > 1 ? 1 : read_first;
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->writable, 0);
    atomic_init (&self->top, 0);
    return self;
}

/* Bytes rounded up to whole pages. */
static int64_t s_whole_pages (const fb_gheap_t *self, int64_t bytes) {
    return (bytes + self->page - 1) / self->page * self->page;
}

/* Makes the reservation writable up to `bytes` (in chunks); returns how far it is writable:
 * less than `bytes` at the reservation's end, or once the system refused (a commit limit). */
static int64_t s_writable (fb_gheap_t *self, int64_t bytes) {
    int64_t writable = atomic_load_explicit (&self->writable, memory_order_acquire);
    if (bytes <= writable)
        return writable;
    pthread_mutex_lock (&self->lock);
    writable = atomic_load_explicit (&self->writable, memory_order_relaxed);
    while (writable < bytes && writable < self->reserved) {
        int64_t len = self->reserved - writable < S_CHUNK ? self->reserved - writable : S_CHUNK;
        if (mprotect (self->base + writable, (size_t)len, PROT_READ | PROT_WRITE) != 0) {
            self->reserved = writable; /* no more: the heap's pages stop here */
            break;
        }
        writable += len;
        atomic_store_explicit (&self->writable, writable, memory_order_release);
    }
    pthread_mutex_unlock (&self->lock);
    return writable;
}

void fb_gheap_reach (fb_gheap_t *self, int64_t bytes) {
    int64_t top = atomic_load_explicit (&self->top, memory_order_relaxed);
    if (bytes <= top)
        return;
    int64_t writable = s_writable (self, bytes);
    if (bytes > writable)
        bytes = writable;
    do
        if (bytes <= top)
            return;
    while (!atomic_compare_exchange_weak_explicit (&self->top, &top, bytes, memory_order_relaxed,
                                                   memory_order_relaxed));
    /* pages [ceil(top / page), ceil(bytes / page)) are this thread's to touch; page i is read
     * first when it takes the count of read-first pages to the next whole number */
    for (int64_t i = s_whole_pages (self, top) / self->page; i * self->page < bytes; i++) {
        char *p = self->base + i * self->page;
        if ((int64_t)((double)(i + 1) * self->read_first) > (int64_t)((double)i * self->read_first))
            (void)__atomic_load_n (p, __ATOMIC_RELAXED); /* maps the zero page */
        __atomic_store_n (p, 1, __ATOMIC_RELAXED);       /* copies it, or takes a fresh page */
    }
}

int64_t fb_gheap_touched (fb_gheap_t *self) {
    return s_whole_pages (self, atomic_load_explicit (&self->top, memory_order_relaxed));
}

int64_t fb_gheap_reserved (fb_gheap_t *self) {
    pthread_mutex_lock (&self->lock);
    int64_t reserved = self->reserved;
    pthread_mutex_unlock (&self->lock);
    return reserved;
}

int64_t fb_gheap_mark_begin (fb_gheap_t *self, int64_t bytes) {
    int64_t top = atomic_load_explicit (&self->top, memory_order_relaxed);
    self->scan_bytes = bytes < top ? (bytes > 0 ? bytes : 0) : top;
    self->nbits = self->scan_bytes / FB_GHEAP_PTR_BYTES;
    int64_t words = self->nbits / 32 + 1;
    if (words > self->marks_words) {
        uint32_t *marks = realloc (self->marks, (size_t)words * sizeof *marks);
        if (!marks) {
            self->scan_bytes = self->nbits = 0;
            return 0;
        }
        self->marks = marks;
        self->marks_words = words;
    }
    memset (self->marks, 0, (size_t)words * sizeof *self->marks);
    return self->scan_bytes;
}

void fb_gheap_scan (fb_gheap_t *self, int64_t from, int64_t to) {
    if (to > self->scan_bytes)
        to = self->scan_bytes;
    from = (from + FB_GHEAP_PTR_BYTES - 1) / FB_GHEAP_PTR_BYTES * FB_GHEAP_PTR_BYTES;
    uint64_t nbits = (uint64_t)self->nbits;
    for (int64_t off = from; off < to; off += FB_GHEAP_PTR_BYTES) {
        uintptr_t word = __atomic_load_n ((const uintptr_t *)(self->base + off), __ATOMIC_RELAXED);
        /* where it points: anywhere in the live heap (Go's findObject), its mark bit set once */
        uint64_t h = ((uint64_t)off ^ word) * 0x9E3779B97F4A7C15ULL;
        uint64_t bit = ((h >> 32) * nbits) >> 32;
        uint32_t *marks = &self->marks[bit / 32], mask = 1u << (bit % 32);
        if (!(__atomic_load_n (marks, __ATOMIC_RELAXED) & mask))
            __atomic_fetch_or (marks, mask, __ATOMIC_RELAXED);
    }
}

int64_t fb_gheap_marked (fb_gheap_t *self) {
    int64_t n = 0;
    for (int64_t i = 0; self->scan_bytes > 0 && i <= self->nbits / 32; i++)
        n += __builtin_popcount (__atomic_load_n (&self->marks[i], __ATOMIC_RELAXED));
    return n;
}

void fb_gheap_destroy (fb_gheap_t **self_p) {
    fb_gheap_t *self = *self_p;
    if (!self)
        return;
    free (self->marks);
    munmap (self->base, (size_t)self->mapped);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/* logstore.c: Brummer's log store (internal/logs/store.go) in C. Appenders put lines into a
 * bounded lock-free queue (Vyukov's MPMC ring with per-cell sequence numbers, doubled so that
 * a one-slot queue works: the cell for position p is free when its sequence is 2p, ready for
 * the consumer at 2p + 1, and free again for p + n at 2(p + n)), the store's ingest thread moves
 * each into the entries under the store's write lock (one lock per line, as addSync takes it),
 * and a full queue makes the appender store the line itself under the same lock, as Go's
 * `select { case ch <- req: default: addSync() }` does. What Brummer's Add and addSync work out
 * per line is worked out here too: the entry's ID and timestamp, its level, tags and priority
 * (loglevel.h), and the entry a queued Add returns.
 *
 * The text of entries is preallocated (capacity x line_bytes). Eviction `ring` overwrites the
 * oldest slot; `shift` models Go's `entries = append(entries[1:], entry)` (the window moves up
 * one place in its array, and append copies it into a new array when it reaches the end) plus
 * the byProcess reindex: every per-process position is decremented, on every append once full. */
#include "workloads/log/logstore.h"
#include "common/clock.h"
#include "workloads/log/loglevel.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROCS 64           /* processes the per-process index tracks */
#define S_PUSH_TRIES 1024    /* CAS attempts before an appender treats the queue as full */
#define S_WAIT_NS 1000000LL  /* the ingest thread's longest sleep when the queue looks empty */
#define S_QUERY_MAX 1024     /* longest search query */
#define S_SPIN_NS 50000LL    /* the ingest thread spins this long before it sleeps */
#define S_GO_ENTRY_BYTES 144 /* Brummer's LogEntry, in Go's size class */

typedef struct {
    atomic_uint_fast64_t seq; /* 2 pos: free for pos; 2 pos + 1: ready */
    int process_id;
    uint32_t len;
    bool truncated;
    int64_t append_ns;
    char *text; /* line_bytes + 1 bytes in the queue's text block */
} s_cell_t;

/* A stored line's metadata, with what Brummer's LogEntry carries besides: its ID (the process
 * and the wall clock, "%s-%d") and its Timestamp. */
typedef struct {
    uint64_t seq;
    int64_t append_ns, stored_ns;
    int process_id;
    uint32_t flags, len;
    int slot; /* where its text is in texts */
    int64_t wall_ns;
    char id[32];
    fb_loglevel_t level; /* Brummer's Level, Tags and Priority (with detect) */
} s_entry_t;
static_assert (sizeof (s_entry_t) <= S_GO_ENTRY_BYTES, "an entry fits Go's LogEntry object");

typedef struct {
    bool used;
    int id;
    int count;    /* its lines stored now */
    int64_t *pos; /* shift: positions of its entries, oldest first (Brummer's byProcess, a Go
                  []int); without forget_evicted, evicted ones stay (below 0) */
    int n_pos, cap_pos;
} s_proc_t;

typedef struct {
    int64_t last_seen_ns; /* 0: unused */
    uint32_t len;
    char *text;
} s_url_t;

struct fb_logstore {
    int capacity, queue_n, line_bytes, eviction;
    size_t stride; /* line_bytes + 1 */
    bool detect, drop_when_full, forget_evicted;
    /* the queue */
    s_cell_t *cells;
    char *cell_text;
    atomic_uint_fast64_t enq_pos;
    uint64_t deq_pos; /* the ingest thread's own */
    /* the store: everything below lock is written under the write lock */
    pthread_rwlock_t lock;
    s_entry_t *entries; /* shift: the window [base, base + count) of entries_cap */
    int base, entries_cap;
    char *texts;
    int head, count, free_slot;
    uint64_t next_seq;
    s_proc_t procs[S_PROCS];
    s_url_t urls[FB_LOGSTORE_URLS_MAX];
    char *url_text;
    fb_logdetect_t *detector;
    uint64_t stored, evicted, errors, n_urls, detect_ns, reindexes;
    /* counted without the lock */
    atomic_uint_fast64_t appended, queued, sync_stored, dropped, truncated, dequeued;
    atomic_bool starving;        /* a writer has waited 1 ms for the write lock: it is next */
    pthread_mutex_t starve_lock; /* later writers sleep on starve_cond while starving */
    pthread_cond_t starve_cond;
    fb_hist_t *ingest_hist; /* append to searchable, ns (fb_hist_record_atomic) */
    /* the ingest thread */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_int sleeping;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake_cond;
};

/* ---- per-process index ------------------------------------------------------------------ */

/* The process's slot, claimed when create; NULL when the table is full (not indexed). */
static s_proc_t *s_proc (fb_logstore_t *self, int id, bool create) {
    unsigned h = ((unsigned)id * 2654435761u) % S_PROCS;
    for (int i = 0; i < S_PROCS; i++) {
        s_proc_t *p = &self->procs[(h + (unsigned)i) % S_PROCS];
        if (p->used && p->id == id)
            return p;
        if (!p->used) {
            if (!create)
                return NULL;
            if (self->eviction == FB_LOGSTORE_EVICT_SHIFT &&
                !(p->pos = malloc ((size_t)self->capacity * sizeof *p->pos)))
                return NULL;
            p->cap_pos = self->eviction == FB_LOGSTORE_EVICT_SHIFT ? self->capacity : 0;
            p->used = true;
            p->id = id;
            return p;
        }
    }
    return NULL;
}

/* ---- eviction --------------------------------------------------------------------------- */

/* Ring: the oldest slot is reused in place. Returns the freed text slot. */
static int s_evict_ring (fb_logstore_t *self) {
    s_entry_t *e = &self->entries[self->head];
    s_proc_t *p = s_proc (self, e->process_id, false);
    if (p)
        p->count--;
    self->head = (self->head + 1) % self->capacity;
    self->count--;
    return e->slot;
}

/* Shift: Go's entries[1:] (the window starts one place up) and byProcess's reindex: every
 * position of every process decremented. Brummer never takes the evicted line's position out
 * of byProcess (it goes below 0 and GetByProcess skips it), so the walk grows with every line
 * stored; forget_evicted takes it out. */
static int s_evict_shift (fb_logstore_t *self) {
    const s_entry_t *oldest = &self->entries[self->base];
    int slot = oldest->slot;
    s_proc_t *gone = s_proc (self, oldest->process_id, false);
    self->base++;
    self->count--;
    if (gone) {
        gone->count--;
        if (self->forget_evicted && gone->n_pos > 0)
            memmove (gone->pos, gone->pos + 1, (size_t)--gone->n_pos * sizeof *gone->pos);
    }
    for (int i = 0; i < S_PROCS; i++)
        for (int k = 0; k < self->procs[i].n_pos; k++)
            self->procs[i].pos[k]--;
    self->reindexes++;
    return slot;
}

/* Shift, the window at the end of its array: Go's append copies it into a new array of
 * growslice's capacity (twice the old under 256, then 1.25x plus 192); where that cannot be
 * had, the window moves to the front of the one it has. */
static void s_regrow_shift (fb_logstore_t *self) {
    int cap = self->count + 1, old = self->entries_cap - self->base;
    if (cap <= 2 * old) {
        cap = old < 256 ? 2 * old : old;
        while (cap < self->count + 1)
            cap += (cap + 3 * 256) / 4;
    }
    s_entry_t *grown = calloc ((size_t)cap, sizeof *grown);
    s_entry_t *from = self->entries + self->base;
    if (!grown) {
        memmove (self->entries, from, (size_t)self->count * sizeof *from);
        self->base = 0;
        return;
    }
    memcpy (grown, from, (size_t)self->count * sizeof *from);
    free (self->entries);
    self->entries = grown;
    self->entries_cap = cap;
    self->base = 0;
}

/* ---- URLs ------------------------------------------------------------------------------- */

/* Brummer's urlMap: a URL seen again is refreshed, a new one takes the least recently seen
 * place when the table is full. */
static void s_url_seen (fb_logstore_t *self, const char *url, size_t len, int64_t now_ns) {
    s_url_t *oldest = &self->urls[0];
    for (int i = 0; i < FB_LOGSTORE_URLS_MAX; i++) {
        s_url_t *u = &self->urls[i];
        if (u->last_seen_ns && u->len == len && memcmp (u->text, url, len) == 0) {
            u->last_seen_ns = now_ns;
            return;
        }
        if (u->last_seen_ns < oldest->last_seen_ns)
            oldest = u;
    }
    memcpy (oldest->text, url, len);
    oldest->text[len] = '\0';
    oldest->len = (uint32_t)len;
    oldest->last_seen_ns = now_ns;
}

static uint32_t s_detect (fb_logstore_t *self, const char *text, size_t len, int64_t now_ns,
                          fb_loglevel_t *level) {
    fb_logdetect_url_t urls[FB_LOGDETECT_URLS_MAX];
    int n = 0;
    int64_t t0 = fb_clock_now_ns ();
    fb_loglevel_line (text, len, false, level); /* out of memory: the level is_error gives */
    uint32_t flags = fb_logdetect_line (self->detector, text, len, urls, FB_LOGDETECT_URLS_MAX, &n);
    const char *stripped = fb_logdetect_stripped (self->detector, NULL);
    for (int i = 0; i < n && i < FB_LOGDETECT_URLS_MAX; i++)
        s_url_seen (self, stripped + urls[i].offset, urls[i].len, now_ns ? now_ns : 1);
    self->detect_ns += (uint64_t)(fb_clock_now_ns () - t0);
    self->errors += (flags & FB_LOG_ERROR) != 0;
    self->n_urls += (flags & FB_LOG_URL) != 0;
    return flags;
}

/* ---- storing (under the write lock) ----------------------------------------------------- */

/* Brummer's entry ID and Timestamp: fmt.Sprintf("%s-%d", processID, time.Now().UnixNano()),
 * then time.Now() again. Returns the Timestamp's wall reading. */
static int64_t s_go_entry_id (char *id, size_t cap, int process_id) {
    snprintf (id, cap, "%d-%lld", process_id, (long long)fb_clock_go_now (NULL));
    return fb_clock_go_now (NULL);
}

/* Stores one line; the caller holds the write lock and sets stored_ns afterwards. */
static s_entry_t *s_store_locked (fb_logstore_t *self, int process_id, const char *text,
                                  uint32_t len, bool truncated, int64_t append_ns) {
    uint32_t flags = truncated ? FB_LOG_TRUNCATED : 0;
    fb_loglevel_t level = {.level = FB_LEVEL_INFO};
    if (self->detect)
        flags |= s_detect (self, text, len, append_ns, &level);
    int slot = self->count; /* shift, not full yet: slots are taken in order */
    if (self->count == self->capacity) {
        slot =
            self->eviction == FB_LOGSTORE_EVICT_RING ? s_evict_ring (self) : s_evict_shift (self);
        self->evicted++;
    } else if (self->eviction == FB_LOGSTORE_EVICT_RING)
        slot = (self->head + self->count) % self->capacity;
    if (self->eviction == FB_LOGSTORE_EVICT_SHIFT && self->base + self->count == self->entries_cap)
        s_regrow_shift (self);
    int at = self->eviction == FB_LOGSTORE_EVICT_RING ? slot : self->base + self->count;
    s_entry_t *e = &self->entries[at];
    *e = (s_entry_t){.seq = ++self->next_seq,
                     .append_ns = append_ns,
                     .process_id = process_id,
                     .flags = flags,
                     .len = len,
                     .slot = slot,
                     .level = level};
    e->wall_ns = s_go_entry_id (e->id, sizeof e->id, process_id);
    char *dst = self->texts + (size_t)slot * self->stride;
    memcpy (dst, text, len);
    dst[len] = '\0';
    s_proc_t *p = s_proc (self, process_id, true);
    if (p) {
        p->count++;
        if (p->pos && p->n_pos == p->cap_pos && p->cap_pos < INT_MAX / 2 &&
            (size_t)p->cap_pos < SIZE_MAX / (2 * sizeof *p->pos)) {
            int64_t *more = realloc (p->pos, (size_t)p->cap_pos * 2 * sizeof *p->pos);
            if (more) {
                p->pos = more;
                p->cap_pos *= 2;
            }
        }
        if (p->pos && p->n_pos < p->cap_pos)
            p->pos[p->n_pos++] = self->count; /* Go: idx := len(s.entries) */
    }
    self->count++;
    self->stored++;
    return e;
}

static void s_stored (fb_logstore_t *self, s_entry_t *e, int64_t now_ns) {
    e->stored_ns = now_ns;
    fb_hist_record_atomic (self->ingest_hist, now_ns - e->append_ns);
}

/* ---- the queue -------------------------------------------------------------------------- */

static bool s_push (fb_logstore_t *self, int process_id, const char *line, uint32_t len,
                    bool truncated, int64_t now_ns) {
    uint64_t pos = atomic_load_explicit (&self->enq_pos, memory_order_relaxed);
    s_cell_t *c = NULL;
    for (int tries = 0; tries < S_PUSH_TRIES; tries++) {
        c = &self->cells[pos % (uint64_t)self->queue_n];
        uint64_t seq = atomic_load_explicit (&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - 2 * pos);
        if (dif < 0)
            return false; /* full */
        if (dif == 0 &&
            atomic_compare_exchange_weak_explicit (&self->enq_pos, &pos, pos + 1,
                                                   memory_order_relaxed, memory_order_relaxed))
            break;
        if (dif > 0)
            pos = atomic_load_explicit (&self->enq_pos, memory_order_relaxed);
        c = NULL;
    }
    if (!c)
        return false;
    c->process_id = process_id;
    c->len = len;
    c->truncated = truncated;
    c->append_ns = now_ns;
    memcpy (c->text, line, len);
    atomic_store_explicit (&c->seq, 2 * pos + 1, memory_order_release);
    /* Dekker with the ingest thread's sleeping flag: one of us sees the other. */
    atomic_thread_fence (memory_order_seq_cst);
    if (atomic_load_explicit (&self->sleeping, memory_order_relaxed)) {
        pthread_mutex_lock (&self->wake_lock);
        pthread_cond_signal (&self->wake_cond);
        pthread_mutex_unlock (&self->wake_lock);
    }
    return true;
}

static s_cell_t *s_peek (fb_logstore_t *self) {
    s_cell_t *c = &self->cells[self->deq_pos % (uint64_t)self->queue_n];
    uint64_t seq = atomic_load_explicit (&c->seq, memory_order_acquire);
    return seq == 2 * self->deq_pos + 1 ? c : NULL;
}

static void s_pop (fb_logstore_t *self, s_cell_t *c) {
    atomic_store_explicit (&c->seq, 2 * (self->deq_pos + (uint64_t)self->queue_n),
                           memory_order_release);
    self->deq_pos++;
}

static const s_entry_t *s_at (const fb_logstore_t *self, int index);

/* The write lock as Go's sync.Mutex takes it: a new writer may take it ahead of one that
 * waits, until a waiter has waited 1 ms (starvation mode); from then writers that come later
 * sleep until that waiter has had the lock (writers already blocked on it may still get in
 * first, each for its line). glibc's rwlock alone lets one thread take it back again
 * and again: an appender storing a line itself waited tens of ms behind the ingest thread
 * where Brummer's waits one line. */
static void s_write_lock (fb_logstore_t *self) {
    struct timespec ts = fb_clock_timespec (fb_clock_now_ns () + FB_NS_PER_MS);
    for (;;) {
        if (atomic_load_explicit (&self->starving, memory_order_acquire)) {
            pthread_mutex_lock (&self->starve_lock); /* a starving writer is next: sleep */
            while (atomic_load (&self->starving))
                pthread_cond_wait (&self->starve_cond, &self->starve_lock);
            pthread_mutex_unlock (&self->starve_lock);
        }
        if (pthread_rwlock_clockwrlock (&self->lock, CLOCK_MONOTONIC, &ts) == 0)
            return;
        bool no = false;
        if (atomic_compare_exchange_strong (&self->starving, &no, true))
            break;
    }
    pthread_rwlock_wrlock (&self->lock);
    pthread_mutex_lock (&self->starve_lock);
    atomic_store (&self->starving, false);
    pthread_cond_broadcast (&self->starve_cond);
    pthread_mutex_unlock (&self->starve_lock);
}

/* Stores one line under a write lock of its own, as Brummer's addSync does; it is searchable
 * from the unlock. */
static void s_store_one (fb_logstore_t *self, int process_id, const char *text, uint32_t len,
                         bool truncated, int64_t append_ns) {
    s_write_lock (self);
    s_entry_t *e = s_store_locked (self, process_id, text, len, truncated, append_ns);
    s_stored (self, e, fb_clock_now_ns ());
    pthread_rwlock_unlock (&self->lock);
}

/* Stores the oldest queued line, under a write lock of its own as Brummer's ingest goroutine
 * stores each request (addSync locks per line); false when the queue is empty. */
static bool s_ingest_one (fb_logstore_t *self) {
    s_cell_t *c = s_peek (self);
    if (!c)
        return false;
    s_store_one (self, c->process_id, c->text, c->len, c->truncated, c->append_ns);
    s_pop (self, c);
    atomic_fetch_add_explicit (&self->dequeued, 1, memory_order_release);
    return true;
}

/* Waits for a line: first a short spin, so that a burst of appends never pays for a wake-up
 * (a futex call costs the appender microseconds), then a sleep that appenders end. */
static void s_ingest_wait (fb_logstore_t *self) {
    int64_t spin_until = fb_clock_now_ns () + S_SPIN_NS;
    while (fb_clock_now_ns () < spin_until) {
        for (int i = 0; i < 64; i++)
            fb_clock_pause ();
        if (s_peek (self) || atomic_load_explicit (&self->stop, memory_order_relaxed))
            return;
    }
    atomic_store_explicit (&self->sleeping, 1, memory_order_relaxed);
    atomic_thread_fence (memory_order_seq_cst);
    pthread_mutex_lock (&self->wake_lock);
    if (!s_peek (self) && !atomic_load (&self->stop)) {
        struct timespec ts = fb_clock_timespec (fb_clock_wall_ns () + S_WAIT_NS);
        pthread_cond_timedwait (&self->wake_cond, &self->wake_lock, &ts);
    }
    pthread_mutex_unlock (&self->wake_lock);
    atomic_store_explicit (&self->sleeping, 0, memory_order_relaxed);
}

static void *s_ingest_main (void *arg) {
    fb_logstore_t *self = arg;
    for (;;) {
        if (s_ingest_one (self))
            continue;
        if (atomic_load (&self->stop)) {
            /* Appenders have stopped: what is queued now is all there will be. A claimed
             * cell a producer has not filled yet is given up after its tries. */
            while (s_ingest_one (self))
                ;
            return NULL;
        }
        s_ingest_wait (self);
    }
}

/* ---- life ------------------------------------------------------------------------------- */

static int s_check (const fb_logstore_config_t *cfg, fb_err_t *err) {
    if (cfg->capacity < 0 || cfg->capacity > FB_LOGSTORE_CAPACITY_MAX)
        return fb_err_set (err, FB_EINPUT, "logstore: capacity must be 1..%d entries (got %d)",
                           FB_LOGSTORE_CAPACITY_MAX, cfg->capacity);
    if (cfg->queue < 0 || cfg->queue > FB_LOGSTORE_QUEUE_MAX)
        return fb_err_set (err, FB_EINPUT, "logstore: queue must be 1..%d slots (got %d)",
                           FB_LOGSTORE_QUEUE_MAX, cfg->queue);
    if (cfg->line_bytes < 0 || cfg->line_bytes > FB_LOGSTORE_LINE_BYTES_MAX)
        return fb_err_set (err, FB_EINPUT, "logstore: line_bytes must be 1..%d (got %d)",
                           FB_LOGSTORE_LINE_BYTES_MAX, cfg->line_bytes);
    if (cfg->eviction != FB_LOGSTORE_EVICT_RING && cfg->eviction != FB_LOGSTORE_EVICT_SHIFT)
        return fb_err_set (err, FB_EINPUT, "logstore: eviction must be ring (0) or shift (1)");
    return 0;
}

static int s_alloc (fb_logstore_t *self, const fb_logstore_config_t *cfg, fb_err_t *err) {
    self->entries = calloc ((size_t)self->capacity, sizeof *self->entries);
    self->entries_cap = self->capacity;
    self->texts = malloc ((size_t)self->capacity * self->stride);
    self->cells = calloc ((size_t)self->queue_n, sizeof *self->cells);
    self->cell_text = malloc ((size_t)self->queue_n * self->stride);
    self->url_text = malloc ((size_t)FB_LOGSTORE_URLS_MAX * self->stride);
    if (!self->entries || !self->texts || !self->cells || !self->cell_text || !self->url_text)
        return fb_err_set (err, FB_ENOMEM, "logstore: out of memory for %d entries of %d bytes",
                           self->capacity, self->line_bytes);
    for (int i = 0; i < self->queue_n; i++) {
        atomic_init (&self->cells[i].seq, 2 * (uint64_t)i);
        self->cells[i].text = self->cell_text + (size_t)i * self->stride;
    }
    for (int i = 0; i < FB_LOGSTORE_URLS_MAX; i++)
        self->urls[i].text = self->url_text + (size_t)i * self->stride;
    if (cfg->detect &&
        !(self->detector = fb_logdetect_new (cfg->detect_engine, (size_t)self->line_bytes, err)))
        return -1;
    if (!(self->ingest_hist = fb_hist_new_default (err)))
        return -1;
    return 0;
}

fb_logstore_t *fb_logstore_new (const fb_logstore_config_t *cfg, fb_err_t *err) {
    if (s_check (cfg, err) != 0)
        return NULL;
    fb_logstore_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "logstore: out of memory");
        return NULL;
    }
    self->capacity = cfg->capacity ? cfg->capacity : FB_LOGSTORE_CAPACITY_DEFAULT;
    self->queue_n = cfg->queue ? cfg->queue : FB_LOGSTORE_QUEUE_DEFAULT;
    self->line_bytes = cfg->line_bytes ? cfg->line_bytes : FB_LOGSTORE_LINE_BYTES_DEFAULT;
    self->stride = (size_t)self->line_bytes + 1;
    self->eviction = cfg->eviction;
    self->detect = cfg->detect;
    self->drop_when_full = cfg->drop_when_full;
    self->forget_evicted = cfg->forget_evicted;
    /* Go's sync.RWMutex makes new readers wait behind a waiting writer; so does this. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init (&attr);
    pthread_rwlockattr_setkind_np (&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init (&self->lock, &attr);
    pthread_rwlockattr_destroy (&attr);
    pthread_mutex_init (&self->wake_lock, NULL);
    pthread_mutex_init (&self->starve_lock, NULL);
    pthread_cond_init (&self->starve_cond, NULL);
    pthread_cond_init (&self->wake_cond, NULL);
    if (s_alloc (self, cfg, err) != 0) {
        fb_logstore_destroy (&self);
        return NULL;
    }
    int rc = pthread_create (&self->thread, NULL, s_ingest_main, self);
    if (rc != 0) {
        fb_err_set (err, FB_ESYS, "logstore: cannot start the ingest thread: %s", strerror (rc));
        fb_logstore_destroy (&self);
        return NULL;
    }
    self->thread_started = true;
    return self;
}

void fb_logstore_destroy (fb_logstore_t **self_p) {
    fb_logstore_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    if (self->thread_started) {
        pthread_mutex_lock (&self->wake_lock);
        pthread_cond_signal (&self->wake_cond);
        pthread_mutex_unlock (&self->wake_lock);
        pthread_join (self->thread, NULL);
    }
    for (int i = 0; i < S_PROCS; i++)
        free (self->procs[i].pos);
    fb_logdetect_destroy (&self->detector);
    fb_hist_destroy (&self->ingest_hist);
    free (self->entries);
    free (self->texts);
    free (self->cells);
    free (self->cell_text);
    free (self->url_text);
    pthread_cond_destroy (&self->wake_cond);
    pthread_mutex_destroy (&self->wake_lock);
    pthread_mutex_destroy (&self->starve_lock);
    pthread_cond_destroy (&self->starve_cond);
    pthread_rwlock_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/* ---- appending -------------------------------------------------------------------------- */

/* What Brummer's Add builds for its caller when the line was queued: a new LogEntry (a Go
 * object of the 144-byte size class) with an ID and a Timestamp. Our callers take none, so it
 * is freed at once. */
static void s_returned_entry (int process_id) {
    s_entry_t *entry = malloc (S_GO_ENTRY_BYTES);
    if (!entry)
        return;
    entry->wall_ns = s_go_entry_id (entry->id, sizeof entry->id, process_id);
    __asm__ volatile("" : : "r"(entry) : "memory"); /* the writes stay */
    free (entry);
}

int fb_logstore_append (fb_logstore_t *self, int process_id, const char *line, size_t len,
                        int64_t now_ns) {
    atomic_fetch_add_explicit (&self->appended, 1, memory_order_relaxed);
    if (atomic_load_explicit (&self->stop, memory_order_relaxed)) {
        atomic_fetch_add_explicit (&self->dropped, 1, memory_order_relaxed);
        return -1;
    }
    bool truncated = len > (size_t)self->line_bytes;
    if (truncated) {
        len = (size_t)self->line_bytes;
        atomic_fetch_add_explicit (&self->truncated, 1, memory_order_relaxed);
    }
    if (s_push (self, process_id, line, (uint32_t)len, truncated, now_ns)) {
        atomic_fetch_add_explicit (&self->queued, 1, memory_order_release);
        s_returned_entry (process_id);
        return 0;
    }
    if (self->drop_when_full) {
        atomic_fetch_add_explicit (&self->dropped, 1, memory_order_relaxed);
        return -1;
    }
    s_store_one (self, process_id, line, (uint32_t)len, truncated, now_ns);
    atomic_fetch_add_explicit (&self->sync_stored, 1, memory_order_relaxed);
    return 1;
}

int fb_logstore_flush (fb_logstore_t *self, int64_t timeout_ns) {
    uint64_t target = atomic_load_explicit (&self->queued, memory_order_acquire);
    int64_t deadline = fb_clock_now_ns () + timeout_ns;
    struct timespec pause = {0, 50000};
    while (atomic_load_explicit (&self->dequeued, memory_order_acquire) < target) {
        if (fb_clock_now_ns () >= deadline)
            return -1;
        nanosleep (&pause, NULL);
    }
    return 0;
}

/* ---- searching -------------------------------------------------------------------------- */

static const s_entry_t *s_at (const fb_logstore_t *self, int index) {
    int at = self->eviction == FB_LOGSTORE_EVICT_RING ? (self->head + index) % self->capacity
                                                      : self->base + index;
    return &self->entries[at];
}

/* What Brummer's Search returns: a []LogEntry of the matches, appended one by one, the array
 * grown by Go's growth rule (twice the entries up to 256, then by a quarter and 192; Go also
 * rounds each array up to a size class, which this does not). */
typedef struct {
    s_entry_t *at;
    int n, cap;
} s_result_t;

static void s_result_add (s_result_t *r, const s_entry_t *e) {
    if (r->n == r->cap) {
        int cap = r->cap == 0 ? 1 : r->cap < 256 ? 2 * r->cap : r->cap + (r->cap + 768) / 4;
        s_entry_t *at = realloc (r->at, (size_t)cap * sizeof *at);
        if (!at)
            return; /* counted, not kept */
        r->at = at;
        r->cap = cap;
    }
    r->at[r->n++] = *e;
}

/* Brummer's test: strings.Contains (strings.ToLower (content), query), on a lower-cased copy
 * of the whole line (the process name, which Brummer also searches, is not modelled). */
static bool s_substr_match (const char *text, size_t len, const char *query, size_t qlen) {
    bool owned;
    const char *lower = fb_log_to_lower (text, len, &owned);
    bool match = lower && memmem (lower, len, query, qlen) != NULL;
    if (owned)
        free ((char *)lower);
    return match;
}

int fb_logstore_search (fb_logstore_t *self, const char *query, int mode, int process_id,
                        uint64_t *hits, int max_hits, fb_err_t *err) {
    size_t qlen = strlen (query);
    if (qlen >= S_QUERY_MAX)
        return fb_err_set (err, FB_EINPUT, "logstore: query longer than %d bytes", S_QUERY_MAX - 1);
    char lower[S_QUERY_MAX];
    regex_t re;
    if (mode == FB_LOGSTORE_REGEX) {
        int rc = regcomp (&re, query, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror (rc, &re, msg, sizeof msg);
            return fb_err_set (err, FB_EINPUT, "logstore: bad regex \"%s\": %s", query, msg);
        }
    } else if (mode == FB_LOGSTORE_SUBSTR) {
        for (size_t i = 0; i <= qlen; i++)
            lower[i] = fb_log_lower_ascii (query[i]); /* Brummer: strings.ToLower (query) */
    } else
        return fb_err_set (err, FB_EINPUT, "logstore: search mode must be substr or regex");
    int found = 0;
    s_result_t result = {0};
    pthread_rwlock_rdlock (&self->lock);
    for (int i = 0; i < self->count; i++) {
        const s_entry_t *e = s_at (self, i);
        if (process_id >= 0 && e->process_id != process_id)
            continue;
        const char *text = self->texts + (size_t)e->slot * self->stride;
        bool match = mode == FB_LOGSTORE_REGEX ? regexec (&re, text, 0, NULL, 0) == 0
                                               : s_substr_match (text, e->len, lower, qlen);
        if (!match)
            continue;
        s_result_add (&result, e);
        if (hits && found < max_hits)
            hits[found] = e->seq;
        found++;
    }
    pthread_rwlock_unlock (&self->lock);
    free (result.at); /* our callers take the seqs and the count */
    if (mode == FB_LOGSTORE_REGEX)
        regfree (&re);
    return found;
}

/* ---- reading ---------------------------------------------------------------------------- */

int fb_logstore_count (fb_logstore_t *self) {
    pthread_rwlock_rdlock (&self->lock);
    int n = self->count;
    pthread_rwlock_unlock (&self->lock);
    return n;
}

int fb_logstore_get (fb_logstore_t *self, int index, char *buf, size_t buf_len,
                     fb_logstore_entry_t *entry) {
    pthread_rwlock_rdlock (&self->lock);
    int rc = -1;
    if (index >= 0 && index < self->count) {
        const s_entry_t *e = s_at (self, index);
        if (buf && buf_len > 0)
            snprintf (buf, buf_len, "%s", self->texts + (size_t)e->slot * self->stride);
        if (entry)
            *entry = (fb_logstore_entry_t){.seq = e->seq,
                                           .process_id = e->process_id,
                                           .append_ns = e->append_ns,
                                           .stored_ns = e->stored_ns,
                                           .flags = e->flags,
                                           .level = e->level,
                                           .len = e->len};
        rc = 0;
    }
    pthread_rwlock_unlock (&self->lock);
    return rc;
}

int fb_logstore_count_process (fb_logstore_t *self, int process_id) {
    pthread_rwlock_rdlock (&self->lock);
    s_proc_t *p = s_proc (self, process_id, false);
    int n = p ? p->count : 0;
    pthread_rwlock_unlock (&self->lock);
    return n;
}

int fb_logstore_url (fb_logstore_t *self, int index, char *buf, size_t buf_len) {
    pthread_rwlock_rdlock (&self->lock);
    /* The index-th newest: count the URLs seen more recently than each candidate. */
    int rc = -1;
    for (int i = 0; i < FB_LOGSTORE_URLS_MAX && rc != 0; i++) {
        const s_url_t *u = &self->urls[i];
        if (!u->last_seen_ns)
            continue;
        int newer = 0;
        for (int k = 0; k < FB_LOGSTORE_URLS_MAX; k++)
            newer += self->urls[k].last_seen_ns > u->last_seen_ns ||
                     (self->urls[k].last_seen_ns == u->last_seen_ns && k < i);
        if (newer == index) {
            snprintf (buf, buf_len, "%s", u->text);
            rc = 0;
        }
    }
    pthread_rwlock_unlock (&self->lock);
    return rc;
}

void fb_logstore_stats (fb_logstore_t *self, fb_logstore_stats_t *stats) {
    *stats = (fb_logstore_stats_t){
        .appended = atomic_load (&self->appended),
        .queued = atomic_load (&self->queued),
        .sync_stored = atomic_load (&self->sync_stored),
        .dropped = atomic_load (&self->dropped),
        .truncated = atomic_load (&self->truncated),
    };
    pthread_rwlock_rdlock (&self->lock);
    stats->stored = self->stored;
    stats->evicted = self->evicted;
    stats->errors = self->errors;
    stats->urls = self->n_urls;
    stats->detect_ns = self->detect_ns;
    stats->reindexes = self->reindexes;
    for (int i = 0; i < S_PROCS; i++)
        stats->positions += (uint64_t)self->procs[i].n_pos;
    pthread_rwlock_unlock (&self->lock);
}

int fb_logstore_drain_ingest (fb_logstore_t *self, fb_hist_t *into, fb_err_t *err) {
    return fb_hist_drain (into, self->ingest_hist, err);
}

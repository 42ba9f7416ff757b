/* logstore.h: an in-memory log store shaped like Brummer's (internal/logs/store.go): a fixed
 * number of entries, lines ingested asynchronously through a bounded queue by the store's own
 * thread, a synchronous fallback when the queue is full, eviction of the oldest lines,
 * per-line detection (errors, build and test events, URLs) and case-insensitive substring or
 * regex search over every stored line.
 *
 * Thread use: any number of threads may call fb_logstore_append, fb_logstore_search and the
 * read functions at once. The store runs one ingest thread; fb_logstore_destroy stops and
 * joins it. A zeroed config gives the defaults, so callers can write
 * `fb_logstore_config_t cfg = {.detect = true};`. */
#ifndef FB_LOGSTORE_H
#define FB_LOGSTORE_H

#include "common/err.h"
#include "common/hist.h"
#include "workloads/log/logdetect.h"
#include "workloads/log/loglevel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_logstore fb_logstore_t; /* opaque */

#define FB_LOGSTORE_CAPACITY_DEFAULT 10000 /* entries, as Brummer's maxEntries */
#define FB_LOGSTORE_QUEUE_DEFAULT 1000     /* queue slots, as Brummer's channel buffer */
#define FB_LOGSTORE_LINE_BYTES_DEFAULT 512 /* bytes per entry, the seed's 512 B per entry */
#define FB_LOGSTORE_CAPACITY_MAX 10000000
#define FB_LOGSTORE_QUEUE_MAX 1000000
#define FB_LOGSTORE_LINE_BYTES_MAX FB_LOGDETECT_LINE_BYTES_MAX

enum {
    FB_LOGSTORE_EVICT_RING = 0,  /* overwrite the oldest slot: O(1), no allocation */
    FB_LOGSTORE_EVICT_SHIFT = 1, /* Go-style: move every entry down one and rebuild the index */
};

typedef struct {
    int capacity;        /* entries kept; 0: FB_LOGSTORE_CAPACITY_DEFAULT */
    int queue;           /* async queue slots; 0: FB_LOGSTORE_QUEUE_DEFAULT */
    int eviction;        /* FB_LOGSTORE_EVICT_RING (0) or FB_LOGSTORE_EVICT_SHIFT (1) */
    bool detect;         /* run error / build / test / URL detection on every line */
    int line_bytes;      /* longest line kept, longer ones are cut and counted; 0: default */
    bool drop_when_full; /* queue full: drop the line (-1) instead of storing it synchronously */
    int detect_engine;   /* FB_LOGDETECT_FAST (0, hand-written) or FB_LOGDETECT_REGEX (1) */
    bool forget_evicted; /* shift: drop an evicted line's position from the per-process index
                            (a fixed store); false keeps it, as Brummer's byProcess does, so
                            every eviction walks every position ever stored */
} fb_logstore_config_t;

/* One stored line's metadata, as fb_logstore_get returns it. */
typedef struct {
    uint64_t seq;        /* 1, 2, ... in the order the store accepted lines */
    int process_id;      /* as given to fb_logstore_append */
    int64_t append_ns;   /* the now_ns given to fb_logstore_append */
    int64_t stored_ns;   /* when it became searchable (CLOCK_MONOTONIC) */
    uint32_t flags;      /* FB_LOG_* */
    uint32_t len;        /* bytes of the stored text */
    fb_loglevel_t level; /* Brummer's Level, Tags and Priority (with detect; else info, none) */
} fb_logstore_entry_t;

/* Running totals since the store was made (each a monotonic count). */
typedef struct {
    uint64_t appended;    /* calls to fb_logstore_append */
    uint64_t queued;      /* went through the async queue */
    uint64_t sync_stored; /* stored synchronously because the queue was full */
    uint64_t dropped;     /* neither (drop_when_full, or the store was stopping) */
    uint64_t stored;      /* made searchable */
    uint64_t evicted;     /* pushed out by newer lines */
    uint64_t truncated;   /* cut to line_bytes */
    uint64_t errors;      /* lines flagged FB_LOG_ERROR */
    uint64_t urls;        /* lines flagged FB_LOG_URL */
    uint64_t detect_ns;   /* time spent in detection, summed */
    uint64_t reindexes;   /* shift eviction: index rebuilds */
    uint64_t positions;   /* shift eviction: positions in the per-process index now (each
                             eviction decrements them all); grows with every line stored
                             unless forget_evicted */
} fb_logstore_stats_t;

/* Search modes. */
enum {
    FB_LOGSTORE_SUBSTR = 0, /* case-insensitive substring, like strings.Contains on ToLower */
    FB_LOGSTORE_REGEX = 1,  /* POSIX extended regex, case-insensitive */
};

/* NULL and err filled on bad config (capacity, queue or line_bytes out of range) or when
 * memory or the ingest thread cannot be had. */
fb_logstore_t *fb_logstore_new (const fb_logstore_config_t *cfg, fb_err_t *err);
/* Stops and joins the ingest thread (lines still queued are stored first), frees everything
 * and sets *self_p = NULL. */
void fb_logstore_destroy (fb_logstore_t **self_p);

/* Hands one line (without its newline; need not be NUL-terminated) to the store. now_ns is
 * the caller's CLOCK_MONOTONIC instant, from which ingest-to-searchable latency is measured.
 * Returns 0 queued for the ingest thread, 1 stored synchronously because the queue was full,
 * -1 dropped. Ring eviction: no allocation. */
int fb_logstore_append (fb_logstore_t *self, int process_id, const char *line, size_t len,
                        int64_t now_ns);

/* Waits until every line appended before the call is searchable, at most timeout_ns.
 * 0 done, -1 timed out. */
int fb_logstore_flush (fb_logstore_t *self, int64_t timeout_ns);

/* Searches every stored line. Returns the number of matching lines (or -1 and err filled on a
 * bad regex); the seqs of the first max_hits matches, oldest first, go to hits (may be NULL).
 * process_id >= 0 limits the search to that process's lines, -1 searches all. */
int fb_logstore_search (fb_logstore_t *self, const char *query, int mode, int process_id,
                        uint64_t *hits, int max_hits, fb_err_t *err);

/* Lines stored now (at most capacity). */
int fb_logstore_count (fb_logstore_t *self);
/* The index-th stored line, 0 the oldest: copies its text (NUL-terminated, cut to buf_len)
 * into buf and its metadata into entry (either may be NULL). 0 ok, -1 no such line. */
int fb_logstore_get (fb_logstore_t *self, int index, char *buf, size_t buf_len,
                     fb_logstore_entry_t *entry);
/* Lines of one process stored now (the per-process index). */
int fb_logstore_count_process (fb_logstore_t *self, int process_id);
/* Distinct URLs seen (Brummer keeps a URL list per process; ours keeps the newest
 * FB_LOGSTORE_URLS_MAX). Copies the index-th newest into buf. 0 ok, -1 no such URL. */
#define FB_LOGSTORE_URLS_MAX 64
int fb_logstore_url (fb_logstore_t *self, int index, char *buf, size_t buf_len);

void fb_logstore_stats (fb_logstore_t *self, fb_logstore_stats_t *stats);
/* Moves the ingest-to-searchable latencies (ns, append's now_ns to stored) recorded since the
 * last call into into (same layout as fb_hist_new_default). 0 ok, -1 err filled. */
int fb_logstore_drain_ingest (fb_logstore_t *self, fb_hist_t *into, fb_err_t *err);

#endif

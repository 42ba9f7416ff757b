/* tor_failures.h: failed operations of a tor workload: counted per interval for the
 * `failures` counter, and the last reason kept for one line at teardown (a private network can
 * fail in ways worth reading). Many workers add; the runner's thread takes. */
#ifndef FB_TOR_FAILURES_H
#define FB_TOR_FAILURES_H

#include "common/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct {
    atomic_int_fast64_t interval; /* since the last take */
    pthread_mutex_t lock;         /* guards the two below (taken only when something fails) */
    int64_t total;                /* since init */
    fb_err_t last;                /* the last one's reason */
} fb_tor_failures_t;

void fb_tor_failures_init (fb_tor_failures_t *self);
void fb_tor_failures_add (fb_tor_failures_t *self, const fb_err_t *err);
/* The failures since the last take. */
int64_t fb_tor_failures_take (fb_tor_failures_t *self);
/* Prints "<kind>: N <what> failed; the last: ..." to stderr when any did, and frees the lock. */
void fb_tor_failures_fini (fb_tor_failures_t *self, const char *kind, const char *what);

#endif

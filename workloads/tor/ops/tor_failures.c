/* tor_failures.c: an atomic for the hot count, a lock only on the failing path. */
#include "workloads/tor/ops/tor_failures.h"

#include <stdio.h>

void fb_tor_failures_init (fb_tor_failures_t *self) {
    atomic_init (&self->interval, 0);
    pthread_mutex_init (&self->lock, NULL);
    self->total = 0;
}

void fb_tor_failures_add (fb_tor_failures_t *self, const fb_err_t *err) {
    atomic_fetch_add (&self->interval, 1);
    pthread_mutex_lock (&self->lock);
    self->total++;
    self->last = *err;
    pthread_mutex_unlock (&self->lock);
}

int64_t fb_tor_failures_take (fb_tor_failures_t *self) {
    return atomic_exchange (&self->interval, 0);
}

void fb_tor_failures_fini (fb_tor_failures_t *self, const char *kind, const char *what) {
    if (self->total > 0)
        fprintf (stderr, "%s: %lld %s failed; the last: %s\n", kind, (long long)self->total, what,
                 self->last.msg);
    pthread_mutex_destroy (&self->lock);
}

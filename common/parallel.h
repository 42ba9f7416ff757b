/* parallel.h: a loop over items spread on a few threads, for setup work that waits on I/O
 * (opening hundreds of streams, building circuits): the first failure stops it. */
#ifndef FB_PARALLEL_H
#define FB_PARALLEL_H

#include "common/err.h"

/* One item: 0 done, -1 failed with err. */
typedef int (fb_parallel_fn) (void *arg, int item, fb_err_t *err);

/* Calls fn (arg, i, ...) once for every i in 0..n-1 on up to `threads` threads (on the calling
 * thread alone when none can be started). After a failure no item starts; the first failure's
 * err is returned (-1). */
int fb_parallel_for (int n, int threads, fb_parallel_fn *fn, void *arg, fb_err_t *err);

#endif

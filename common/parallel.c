/* parallel.c: the threads take the next item from one atomic counter, so a slow item holds
 * up only its own thread. */
#include "common/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct {
    int n;
    fb_parallel_fn *fn;
    void *arg;
    atomic_int next;
    atomic_bool failed;
    fb_err_t err; /* the first failure's, written once by whoever set failed */
} s_job_t;

static void *s_worker (void *arg) {
    s_job_t *job = arg;
    fb_err_t err;
    for (int i; !atomic_load (&job->failed) && (i = atomic_fetch_add (&job->next, 1)) < job->n;)
        if (job->fn (job->arg, i, &err) != 0) {
            bool was = false;
            if (atomic_compare_exchange_strong (&job->failed, &was, true))
                job->err = err;
        }
    return NULL;
}

int fb_parallel_for (int n, int threads, fb_parallel_fn *fn, void *arg, fb_err_t *err) {
    s_job_t job = {.n = n, .fn = fn, .arg = arg};
    atomic_init (&job.next, 0);
    atomic_init (&job.failed, false);
    if (threads > n)
        threads = n;
    pthread_t *ids = threads > 0 ? calloc ((size_t)threads, sizeof *ids) : NULL;
    int started = 0;
    while (ids && started < threads && pthread_create (&ids[started], NULL, s_worker, &job) == 0)
        started++;
    if (started == 0)
        s_worker (&job);
    for (int i = 0; i < started; i++)
        pthread_join (ids[i], NULL);
    free (ids);
    if (atomic_load (&job.failed)) {
        if (err)
            *err = job.err;
        return -1;
    }
    return 0;
}

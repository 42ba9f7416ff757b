/* http_load.h: the load side the HTTP workloads share (proxy, http): one load client per runner
 * thread with its share of the connections, driven through the runner's asynchronous
 * operations (one request in flight per connection), and the counters every HTTP workload
 * keeps first among its own. The workload builds the requests and judges statuses. */
#ifndef FB_HTTP_LOAD_H
#define FB_HTTP_LOAD_H

#include "common/err.h"
#include "workloads/proxy/http_client.h"
#include "workloads/workload.h"

#include <stdatomic.h>
#include <stdbool.h>

/* The counters, in this order at the start of the workload's: what came back (bytes, as on the
 * wire), and each failed request by its reason (a status the workload does not count as a
 * success is the last). A canceled request (an abort) is an error of the runner's count only. */
enum {
    FB_HTTP_LOAD_BYTES,
    FB_HTTP_LOAD_ERR_CONNECT,
    FB_HTTP_LOAD_ERR_TIMEOUT,
    FB_HTTP_LOAD_ERR_CLOSED,
    FB_HTTP_LOAD_ERR_STATUS,
    FB_HTTP_LOAD_NCOUNTERS
};

/* Gives the client config of thread worker: connections is filled in already. */
typedef void (fb_http_load_cfg_fn) (int worker, fb_http_client_cfg_t *cfg, void *arg);
/* Whether a whole response of this status is a success. */
typedef bool (fb_http_load_status_fn) (int status, const void *arg);

typedef struct {
    int threads;
    struct {
        fb_http_client_t *client;
        int connections;
    } * workers;
    fb_http_load_status_fn *status_ok;
    const void *status_arg;
    atomic_int_fast64_t counters[FB_HTTP_LOAD_NCOUNTERS]; /* since the last interval */
} fb_http_load_t;

/* Clients for threads threads, the connections spread over them (each gets at least one:
 * connections >= threads). On failure, fb_http_load_free cleans what was made. */
int fb_http_load_init (fb_http_load_t *self, int threads, int connections,
                       fb_http_load_cfg_fn *cfg_fn, void *cfg_arg,
                       fb_http_load_status_fn *status_ok, const void *status_arg, fb_err_t *err);
void fb_http_load_free (fb_http_load_t *self);

/* The runner's asynchronous operations (workloads/workload.h), for thread worker. */
int fb_http_load_slots (const fb_http_load_t *self, int worker);
int fb_http_load_start (fb_http_load_t *self, int worker, const void *req, size_t len, uint64_t tag,
                        int64_t intended_ns);
int fb_http_load_poll (fb_http_load_t *self, int worker, int64_t until_ns, fb_wl_done_t *done,
                       int max);
void fb_http_load_cancel (fb_http_load_t *self, int worker);
/* The interval's counters into counters[0 .. FB_HTTP_LOAD_NCOUNTERS). */
void fb_http_load_interval (fb_http_load_t *self, int64_t *counters);

#endif

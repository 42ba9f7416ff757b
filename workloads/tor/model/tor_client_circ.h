/* tor_client_circ.h: what tor_client.c (thread, requests, circuits) and tor_client_stream.c
 * (streams, data, SENDMEs) share, and the plumbing under both (tor_client_circ.c). Everything here
 * belongs to the client's thread, except the request queue (under lock) and the stats (atomics). */
#ifndef FB_TOR_CLIENT_CIRC_H
#define FB_TOR_CLIENT_CIRC_H

#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_link.h"
#include "workloads/tor/wire/tor_cell.h"

#include <pthread.h>
#include <stdatomic.h>

#define FB_TOR_SENDME_TAGS (FB_TOR_CIRCWINDOW_START / FB_TOR_CIRCWINDOW_INCREMENT)

enum {
    FB_TOR_REQ_BUILD,
    FB_TOR_REQ_CLOSE,
    FB_TOR_REQ_OPEN,
    FB_TOR_REQ_XCHG,
    FB_TOR_REQ_CLOSE_STREAM,
    FB_TOR_REQ_INJECT,
    FB_TOR_REQ_ALIVE
};

/* One call from a worker, answered by the client's thread. */
typedef struct fb_tor_req {
    int type;
    int hops, fault;
    uint64_t seed;
    uint32_t request, response;
    fb_tor_circ_t *circ;
    fb_tor_stream_t *stream;
    int64_t deadline_ns;
    /* answers */
    int rc;
    bool done;
    fb_err_t err;
    fb_tor_build_t build;
    fb_tor_xfer_t xfer;
    int64_t open_ns;
    pthread_cond_t cond;
    /* An asynchronous call (fb_tor_client_call_new): told of its end here, on the client's
     * thread, instead of a waiting caller. */
    void (*notify) (struct fb_tor_req *req, void *arg);
    void *notify_arg;
    struct fb_tor_req *next;                /* in the submission queue */
    struct fb_tor_req *act_prev, *act_next; /* among requests in progress */
} fb_tor_req_t;

enum { FB_TOR_C_WAIT_LINK, FB_TOR_C_BUILDING, FB_TOR_C_OPEN, FB_TOR_C_DEAD };
enum { FB_TOR_S_CONNECTING, FB_TOR_S_OPEN, FB_TOR_S_DEAD };

struct fb_tor_stream {
    fb_tor_circ_t *circ;
    uint16_t id;
    int state;
    int package_window, deliver_window;
    fb_tor_req_t *req; /* an open or an exchange in progress */
    uint32_t request_total, response_total;
    uint64_t send_off, recv_off;
    int64_t started_ns, first_byte_ns;
    bool stalled;
    struct fb_tor_stream *next;
};

struct fb_tor_circ {
    fb_tor_link_t *link;
    uint32_t id; /* 0 until it has one on link */
    int path[FB_TOR_MAX_HOPS];
    int hops, built, state;
    fb_tor_layer_t layers[FB_TOR_MAX_HOPS];
    fb_tor_ntor_client_t ntor;
    fb_tor_req_t *req; /* the build in progress */
    fb_tor_build_t build;
    int64_t started_ns, hop_started_ns;
    int package_window, deliver_window;
    uint64_t data_sent;
    uint8_t tags[FB_TOR_SENDME_TAGS][20]; /* digests of every 100th DATA cell sent */
    int tag_head, ntags;
    fb_tor_stream_t *streams;
    uint16_t next_stream_id;
    struct fb_tor_circ *prev_all, *next_all;
};

struct fb_tor_client {
    fb_tor_relay_info_t *relays; /* [n] the client's copy of what it knows of each relay */
    int n;
    uint16_t sink_port; /* BEGIN 127.0.0.1:sink_port */
    fb_tor_loop_t *loop;
    SSL_CTX *ctx;
    fb_tor_link_t **links; /* [n] our link to each relay as first hop */
    pthread_t thread;
    bool started;
    atomic_bool stop;
    pthread_mutex_t lock;
    fb_tor_req_t *queue_head, *queue_tail;
    fb_tor_req_t *active; /* requests in progress, for their deadlines */
    fb_tor_circ_t *circs; /* every circuit the user holds */
    uint64_t rng;
    int64_t next_deadline_check_ns;
    atomic_int_fast64_t bad_cells, sendme_stalls, streams_open, streams_peak, circuits_open;
};

/* The circuit map of a link: circuit id -> our circuit. */
static inline fb_tor_circmap_t *fb_tor_client_circ_map (fb_tor_link_t *link) {
    return fb_tor_link_user (link);
}

/* The hop that exits: the last. */
static inline int fb_tor_client_circ_exit (const fb_tor_circ_t *circ) { return circ->hops - 1; }

/* A request in progress, watched for its deadline. */
void fb_tor_client_circ_active_add (fb_tor_client_t *self, fb_tor_req_t *req);
/* Answers req with rc and wakes its caller. */
void fb_tor_client_circ_finish (fb_tor_client_t *self, fb_tor_req_t *req, int rc);
/* Fails req with a message fmt (one %s: what). -1. */
int fb_tor_client_circ_fail (fb_tor_client_t *self, fb_tor_req_t *req, const char *fmt,
                             const char *what);
/* A relay cell to hop `hop`: sealed with its digest, then every layer from hop back to 0. */
void fb_tor_client_circ_send_relay (fb_tor_client_t *self, fb_tor_circ_t *circ, int hop,
                                    uint8_t command, uint16_t stream_id, const uint8_t *data,
                                    size_t len);
/* Ends circ (DESTROY sent when asked) with its build and every stream on it. */
void fb_tor_client_circ_kill (fb_tor_client_t *self, fb_tor_circ_t *circ, bool send_destroy,
                              const char *why);
/* A cell that breaks the protocol: counted, and its circuit (when known) ended. */
void fb_tor_client_circ_bad_cell (fb_tor_client_t *self, fb_tor_circ_t *circ, const char *what);
/* The stream's request answered with rc (none waiting: nothing). */
void fb_tor_client_circ_answer (fb_tor_client_t *self, fb_tor_stream_t *stream, int rc);
/* The stream or circuit ended: fails its request, marks it dead. */
void fb_tor_client_circ_stream_dead (fb_tor_client_t *self, fb_tor_stream_t *stream,
                                     const char *why);
void fb_tor_client_circ_stream_free (fb_tor_client_t *self, fb_tor_stream_t *stream);

#endif

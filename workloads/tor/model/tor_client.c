/* tor_client.c: the client's thread, its requests, links and circuits. A call from a worker is a
 * request queued under the lock; the thread takes it, starts the work, and answers when the
 * cells that finish it arrive (or its deadline passes). Circuits and streams are the user's
 * handles: a dead circuit stays allocated, marked dead, until the user closes it. */
#include "workloads/tor/model/tor_client_stream.h"

#include "common/clock.h"
#include "common/rng.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LOCALHOST 0x7f000001u

static uint32_t s_get32 (const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- requests --------------------------------------------------------------------------- */

/* Worker side: the deadline from now, queue, wake the thread. */
static void s_submit (fb_tor_client_t *self, fb_tor_req_t *req) {
    req->deadline_ns = req->deadline_ns > 0 ? fb_clock_now_ns () + req->deadline_ns : 0;
    req->done = false;
    req->next = NULL;
    pthread_mutex_lock (&self->lock);
    if (self->queue_tail)
        self->queue_tail->next = req;
    else
        self->queue_head = req;
    self->queue_tail = req;
    pthread_mutex_unlock (&self->lock);
    fb_tor_link_loop_wake (self->loop);
}

/* Worker side: submit, wait for the answer. */
static int s_call (fb_tor_client_t *self, fb_tor_req_t *req, fb_err_t *err) {
    pthread_cond_init (&req->cond, NULL);
    s_submit (self, req);
    pthread_mutex_lock (&self->lock);
    while (!req->done)
        pthread_cond_wait (&req->cond, &self->lock);
    pthread_mutex_unlock (&self->lock);
    pthread_cond_destroy (&req->cond);
    if (req->rc != 0 && err)
        *err = req->err;
    return req->rc;
}

/* ---- circuits --------------------------------------------------------------------------- */

/* Starts the handshake with hop circ->built: CREATE2 for the first, EXTEND2 after. */
static void s_next_hop (fb_tor_client_t *self, fb_tor_circ_t *circ) {
    const fb_tor_relay_info_t *relay = &self->relays[circ->path[circ->built]];
    fb_tor_extend2_t ext = {.ipv4 = S_LOCALHOST, .port = relay->port};
    memcpy (ext.id, relay->id, FB_TOR_ID_LEN);
    fb_err_t err;
    circ->hop_started_ns = fb_clock_now_ns ();
    int64_t cpu0 = fb_tor_crypto_thread_cpu_ns ();
    int rc = fb_tor_crypto_ntor_client_start (&circ->ntor, relay->id, relay->onion_key, NULL,
                                              ext.onionskin, &err);
    circ->build.crypto_ns += fb_tor_crypto_thread_cpu_ns () - cpu0;
    if (rc != 0) {
        fb_tor_client_circ_kill (self, circ, true, err.msg);
        return;
    }
    if (circ->built == 0) {
        fb_tor_cell_t cell;
        fb_tor_cell_create2_encode (&cell, circ->id, ext.onionskin);
        fb_tor_link_send (circ->link, &cell);
        return;
    }
    uint8_t data[FB_TOR_RELAY_DATA_LEN];
    size_t len = fb_tor_cell_extend2_encode (&ext, data, sizeof data);
    fb_tor_client_circ_send_relay (self, circ, circ->built - 1, FB_TOR_RELAY_EXTEND2, 0, data, len);
}

/* The CREATED2 or EXTENDED2 of hop circ->built. */
static void s_hop_reply (fb_tor_client_t *self, fb_tor_circ_t *circ,
                         const uint8_t reply[FB_TOR_REPLY_LEN]) {
    uint8_t keys[FB_TOR_KEYS_LEN];
    fb_err_t err;
    int64_t cpu0 = fb_tor_crypto_thread_cpu_ns ();
    int rc = fb_tor_crypto_ntor_client_finish (&circ->ntor, reply, keys, sizeof keys, &err);
    if (rc == 0)
        rc = fb_tor_crypto_layer_init (&circ->layers[circ->built], keys, &err);
    circ->build.crypto_ns += fb_tor_crypto_thread_cpu_ns () - cpu0;
    if (rc != 0) {
        fb_tor_client_circ_bad_cell (self, circ, err.msg);
        return;
    }
    int64_t now = fb_clock_now_ns ();
    circ->build.hop_ns[circ->built++] = now - circ->hop_started_ns;
    if (circ->built < circ->hops) {
        s_next_hop (self, circ);
        return;
    }
    circ->state = FB_TOR_C_OPEN;
    atomic_fetch_add (&self->circuits_open, 1);
    circ->build.hops = circ->hops;
    circ->build.build_ns = now - circ->started_ns;
    fb_tor_req_t *req = circ->req;
    circ->req = NULL;
    req->build = circ->build;
    fb_tor_client_circ_finish (self, req, 0);
}

/* The circuit gets an id on its (open) link and sends CREATE2. */
static void s_start_circ (fb_tor_client_t *self, fb_tor_circ_t *circ) {
    fb_tor_circmap_t *map = fb_tor_client_circ_map (circ->link);
    uint32_t id = fb_tor_circmap_new_id (map, true, &self->rng);
    if (fb_tor_circmap_put (map, id, circ) != 0) {
        fb_tor_client_circ_kill (self, circ, false, "out of memory");
        return;
    }
    circ->id = id;
    circ->state = FB_TOR_C_BUILDING;
    s_next_hop (self, circ);
}

static fb_tor_link_t *s_link_to (fb_tor_client_t *self, int relay, fb_err_t *err) {
    if (self->links[relay])
        return self->links[relay];
    fb_tor_circmap_t *map = fb_tor_circmap_new ();
    fb_tor_link_t *link =
        map ? fb_tor_link_loop_connect (self->loop, self->relays[relay].port, self->ctx, err)
            : NULL;
    if (!link) {
        fb_tor_circmap_destroy (&map);
        return NULL;
    }
    fb_tor_link_set_user (link, map);
    self->links[relay] = link;
    return link;
}

/* Picks hops distinct relays with a xorshift on seed (Tor picks by bandwidth weight; ours are
 * equal). When not every relay is an exit, the exit is picked first among the exits, then the
 * other hops among the rest; -1 when there is no exit. */
static int s_pick_path (const fb_tor_client_t *self, fb_tor_circ_t *circ, uint64_t seed) {
    uint64_t rng = seed;
    int exits = 0, n = self->n, last = circ->hops - 1;
    for (int i = 0; i < n; i++)
        exits += self->relays[i].exit;
    if (exits == 0)
        return -1;
    for (int k = 0; k < circ->hops; k++) {
        int h = exits == n ? k : (k + last) % circ->hops; /* the exit first when it matters */
        for (;;) {
            int pick = (int)fb_rng_below (&rng, (uint64_t)n), used = 0;
            for (int j = 0; j < k; j++)
                used |= circ->path[exits == n ? j : (j + last) % circ->hops] == pick;
            if (!used && (h != last || self->relays[pick].exit)) {
                circ->path[h] = pick;
                break;
            }
        }
    }
    return 0;
}

static void s_do_build (fb_tor_client_t *self, fb_tor_req_t *req) {
    if (req->hops < 1 || req->hops > FB_TOR_MAX_HOPS || req->hops > self->n) {
        fb_err_set (&req->err, FB_EINPUT, "tor: %d hops on a network of %d relays", req->hops,
                    self->n);
        fb_tor_client_circ_finish (self, req, -1);
        return;
    }
    fb_tor_circ_t *circ = calloc (1, sizeof *circ);
    if (!circ) {
        fb_tor_client_circ_fail (self, req, "tor: %s", "out of memory for a circuit");
        return;
    }
    circ->hops = req->hops;
    circ->package_window = circ->deliver_window = FB_TOR_CIRCWINDOW_START;
    circ->next_stream_id = 1;
    circ->started_ns = fb_clock_now_ns ();
    circ->req = req;
    req->circ = circ;
    circ->next_all = self->circs;
    if (self->circs)
        self->circs->prev_all = circ;
    self->circs = circ;
    if (s_pick_path (self, circ, req->seed) != 0) {
        fb_tor_client_circ_kill (self, circ, false, "no relay is an exit");
        return;
    }
    circ->link = s_link_to (self, circ->path[0], &req->err);
    if (!circ->link) {
        fb_tor_client_circ_kill (self, circ, false, req->err.msg);
        return;
    }
    if (fb_tor_link_is_open (circ->link))
        s_start_circ (self, circ);
    else
        circ->state = FB_TOR_C_WAIT_LINK;
}

static void s_do_close (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_circ_t *circ = req->circ;
    fb_tor_client_circ_kill (self, circ, true, "closed by the user");
    while (circ->streams)
        fb_tor_client_circ_stream_free (self, circ->streams);
    for (int i = 0; i < circ->built; i++)
        fb_tor_crypto_layer_fini (&circ->layers[i]);
    if (circ->prev_all)
        circ->prev_all->next_all = circ->next_all;
    else
        self->circs = circ->next_all;
    if (circ->next_all)
        circ->next_all->prev_all = circ->prev_all;
    free (circ);
    fb_tor_client_circ_finish (self, req, 0);
}

static void s_do_inject (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_circ_t *circ = req->circ;
    if (circ->state != FB_TOR_C_OPEN) {
        fb_tor_client_circ_fail (self, req, "tor: %s", "the circuit is not open");
        return;
    }
    fb_tor_cell_t cell = {.circ_id = circ->id, .command = FB_TOR_CELL_RELAY};
    int last = circ->hops - 1;
    if (req->fault == FB_TOR_FAULT_UNKNOWN_COMMAND) {
        uint8_t wire[FB_TOR_CELL_LEN];
        cell.command = 77;
        fb_tor_cell_encode (&cell, wire);
        fb_tor_link_send_raw (circ->link, wire, sizeof wire);
    } else {
        bool unknown = req->fault == FB_TOR_FAULT_UNKNOWN_RELAY_COMMAND;
        fb_tor_cell_relay_encode (cell.payload, unknown ? 200 : FB_TOR_RELAY_DROP, 0, NULL, 0);
        if (req->fault == FB_TOR_FAULT_BAD_LENGTH) {
            cell.payload[9] = 0x01; /* 499: one more than a relay cell holds */
            cell.payload[10] = 0xf3;
        }
        fb_tor_crypto_dir_seal (&circ->layers[last].fwd, cell.payload, FB_TOR_PAYLOAD_LEN);
        if (req->fault == FB_TOR_FAULT_BAD_DIGEST)
            cell.payload[6] ^= 0x55;
        for (int i = last; i >= 0; i--)
            fb_tor_crypto_dir_crypt (&circ->layers[i].fwd, cell.payload, FB_TOR_PAYLOAD_LEN);
        fb_tor_link_send (circ->link, &cell);
    }
    fb_tor_client_circ_finish (self, req, 0);
}

static void s_dispatch (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_client_circ_active_add (self, req);
    switch (req->type) {
    case FB_TOR_REQ_BUILD:
        s_do_build (self, req);
        break;
    case FB_TOR_REQ_CLOSE:
        s_do_close (self, req);
        break;
    case FB_TOR_REQ_OPEN:
        fb_tor_client_stream_open (self, req);
        break;
    case FB_TOR_REQ_XCHG:
        fb_tor_client_stream_exchange (self, req);
        break;
    case FB_TOR_REQ_CLOSE_STREAM:
        fb_tor_client_stream_close (self, req);
        break;
    case FB_TOR_REQ_INJECT:
        s_do_inject (self, req);
        break;
    default: /* FB_TOR_REQ_ALIVE */
        fb_tor_client_circ_finish (self, req, req->circ->state == FB_TOR_C_OPEN ? 0 : -1);
    }
}

/* Fails requests past their deadline and ends the circuit or stream they waited on. A request
 * is answered before what it waited on is ended: once answered, the worker owns it again. */
static void s_check_deadlines (fb_tor_client_t *self) {
    int64_t now = fb_clock_now_ns ();
    if (now < self->next_deadline_check_ns)
        return;
    self->next_deadline_check_ns = now + 10 * FB_NS_PER_MS;
    for (fb_tor_req_t *req = self->active, *next; req; req = next) {
        next = req->act_next;
        if (req->deadline_ns == 0 || now < req->deadline_ns)
            continue;
        fb_tor_circ_t *circ = req->type == FB_TOR_REQ_BUILD ? req->circ : NULL;
        fb_tor_stream_t *stream = req->type == FB_TOR_REQ_BUILD ? NULL : req->stream;
        if (circ)
            circ->req = NULL;
        if (stream)
            stream->req = NULL;
        fb_tor_client_circ_fail (self, req, "tor: %s", "timed out");
        if (circ)
            fb_tor_client_circ_kill (self, circ, true, "timed out");
        if (stream)
            fb_tor_client_circ_stream_dead (self, stream, "timed out");
        next = self->active; /* ending things may answer other requests: start over */
    }
}

/* ---- cells from relays ------------------------------------------------------------------ */

/* A relay cell: peel layer after layer until one hop recognizes it. */
static void s_relay_cell (fb_tor_client_t *self, fb_tor_circ_t *circ, fb_tor_cell_t *cell) {
    int hop = -1;
    for (int i = 0; i < circ->built && hop < 0; i++) {
        fb_tor_crypto_dir_crypt (&circ->layers[i].back, cell->payload, FB_TOR_PAYLOAD_LEN);
        if (fb_tor_crypto_dir_recognize (&circ->layers[i].back, cell->payload, FB_TOR_PAYLOAD_LEN))
            hop = i;
    }
    fb_tor_relay_t relay;
    fb_err_t err;
    if (hop < 0 || cell->command != FB_TOR_CELL_RELAY ||
        fb_tor_cell_relay_decode (cell->payload, &relay, &err) != 0) {
        fb_tor_client_circ_bad_cell (self, circ,
                                     hop < 0 ? "a cell no hop's digest matches" : err.msg);
        return;
    }
    if (!fb_tor_cell_relay_known (relay.command))
        return; /* tor-spec 6.1: dropped, the circuit goes on */
    if (relay.command == FB_TOR_RELAY_EXTENDED2) {
        uint8_t reply[FB_TOR_REPLY_LEN];
        if (circ->state != FB_TOR_C_BUILDING || hop != circ->built - 1 ||
            fb_tor_cell_extended2_decode (relay.data, relay.length, reply, &err) != 0)
            fb_tor_client_circ_bad_cell (self, circ, "an EXTENDED2 out of place");
        else
            s_hop_reply (self, circ, reply);
        return;
    }
    if (circ->state != FB_TOR_C_OPEN || hop != circ->hops - 1) {
        fb_tor_client_circ_bad_cell (self, circ, "a stream cell from a hop that is not the exit");
        return;
    }
    fb_tor_client_stream_on_relay (self, circ, &relay);
}

static void s_on_cell (void *owner, fb_tor_link_t *link, const uint8_t *bytes) {
    fb_tor_client_t *self = owner;
    if (!fb_tor_cell_known (bytes[4]))
        return; /* tor-spec 3: a command we do not know is dropped */
    fb_tor_circ_t *circ = fb_tor_circmap_get (fb_tor_client_circ_map (link), s_get32 (bytes));
    fb_tor_cell_t cell;
    fb_err_t err;
    if (fb_tor_cell_decode (bytes, FB_TOR_CELL_LEN, &cell, &err) != 0) {
        fb_tor_client_circ_bad_cell (self, circ, err.msg);
        return;
    }
    if (!circ)
        return; /* a circuit we already ended */
    switch (cell.command) {
    case FB_TOR_CELL_CREATED2: {
        uint8_t reply[FB_TOR_REPLY_LEN];
        if (circ->state != FB_TOR_C_BUILDING || circ->built != 0 ||
            fb_tor_cell_created2_decode (&cell, reply, &err) != 0)
            fb_tor_client_circ_bad_cell (self, circ, "a CREATED2 out of place");
        else
            s_hop_reply (self, circ, reply);
        break;
    }
    case FB_TOR_CELL_RELAY:
    case FB_TOR_CELL_RELAY_EARLY:
        s_relay_cell (self, circ, &cell);
        break;
    case FB_TOR_CELL_DESTROY: {
        char why[48]; /* tor-spec 5.4: the reason is the payload's first byte */
        snprintf (why, sizeof why, "DESTROY from a relay (reason %u)", (unsigned)cell.payload[0]);
        fb_tor_client_circ_kill (self, circ, false, why);
        break;
    }
    case FB_TOR_CELL_PADDING:
        break;
    default:
        fb_tor_client_circ_bad_cell (self, circ, "a cell a client never gets");
    }
}

static void s_kill_on_link (void *arg, uint32_t id, void *value) {
    (void)id;
    fb_tor_client_circ_kill (arg, value, false, "the link to the first hop closed");
}

static void s_on_link (void *owner, fb_tor_link_t *link, fb_tor_link_event_t event,
                       const fb_err_t *err) {
    fb_tor_client_t *self = owner;
    if (event == FB_TOR_LINK_OPENED) {
        for (fb_tor_circ_t *c = self->circs; c; c = c->next_all)
            if (c->state == FB_TOR_C_WAIT_LINK && c->link == link)
                s_start_circ (self, c);
        return;
    }
    for (int i = 0; i < self->n; i++)
        if (self->links[i] == link)
            self->links[i] = NULL;
    for (fb_tor_circ_t *c = self->circs; c; c = c->next_all)
        if (c->state == FB_TOR_C_WAIT_LINK && c->link == link) {
            c->link = NULL;
            fb_tor_client_circ_kill (self, c, false, err ? err->msg : "link closed");
        }
    fb_tor_circmap_t *map = fb_tor_client_circ_map (link);
    fb_tor_circmap_each (map, s_kill_on_link, self);
    fb_tor_circmap_destroy (&map);
    fb_tor_link_set_user (link, NULL);
}

/* ---- the thread ------------------------------------------------------------------------- */

static void *s_client_main (void *arg) {
    fb_tor_client_t *self = arg;
    /* A peer that closed while we write must be an EPIPE, not a SIGPIPE that ends the agent:
     * every write to our sockets happens on this thread, so blocking it here is enough. */
    sigset_t pipe;
    sigemptyset (&pipe);
    sigaddset (&pipe, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe, NULL);
    while (!atomic_load (&self->stop)) {
        fb_tor_link_loop_run_once (self->loop,
                                   self->active ? 10 * FB_NS_PER_MS : 200 * FB_NS_PER_MS);
        pthread_mutex_lock (&self->lock);
        fb_tor_req_t *req = self->queue_head;
        self->queue_head = self->queue_tail = NULL;
        pthread_mutex_unlock (&self->lock);
        while (req) {
            fb_tor_req_t *next = req->next;
            s_dispatch (self, req);
            req = next;
        }
        s_check_deadlines (self);
    }
    return NULL;
}

fb_tor_client_t *fb_tor_client_new_config (const fb_tor_client_config_t *config, fb_err_t *err) {
    fb_tor_client_t *self = config->n > 0 ? calloc (1, sizeof *self) : NULL;
    if (!self) {
        fb_err_set (err, config->n > 0 ? FB_ENOMEM : FB_EINPUT, "tor: %s",
                    config->n > 0 ? "out of memory for a client" : "a client needs relays");
        return NULL;
    }
    self->n = config->n;
    self->sink_port = config->sink_port ? config->sink_port : FB_TOR_SINK_PORT;
    self->rng = 0x853c49e6748fea9bULL;
    pthread_mutex_init (&self->lock, NULL);
    self->links = calloc ((size_t)self->n, sizeof *self->links);
    self->relays = calloc ((size_t)self->n, sizeof *self->relays);
    if (!self->links || !self->relays) {
        fb_err_set (err, FB_ENOMEM, "tor: out of memory for a client");
        goto fail;
    }
    memcpy (self->relays, config->relays, (size_t)self->n * sizeof *self->relays);
    if (!(self->ctx = fb_tor_link_tls_client_ctx (err)) ||
        !(self->loop =
              fb_tor_link_loop_new (config->hop_rtt_ns / 2, s_on_cell, s_on_link, self, err)))
        goto fail;
    fb_tor_link_loop_set_client (self->loop, true);
    fb_tor_link_loop_set_nagle (self->loop, config->nagle);
    int rc = pthread_create (&self->thread, NULL, s_client_main, self);
    if (rc != 0) {
        fb_err_set (err, FB_ESYS, "tor: cannot start the client thread: %s", strerror (rc));
        goto fail;
    }
    self->started = true;
    return self;
fail:
    fb_tor_client_destroy (&self);
    return NULL;
}

fb_tor_client_t *fb_tor_client_new (fb_tor_relay_net_t *net, int64_t hop_rtt_ns, fb_err_t *err) {
    fb_tor_client_config_t config = {
        .relays = fb_tor_relay_net_relay (net, 0),
        .n = fb_tor_relay_net_size (net),
        .hop_rtt_ns = hop_rtt_ns,
    };
    return fb_tor_client_new_config (&config, err);
}

void fb_tor_client_destroy (fb_tor_client_t **self_p) {
    fb_tor_client_t *self = *self_p;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    if (self->started) {
        fb_tor_link_loop_wake (self->loop);
        pthread_join (self->thread, NULL);
    }
    /* the thread is gone: what it owned is freed here, requests no one waits for any more */
    while (self->circs) {
        fb_tor_req_t req = {.type = FB_TOR_REQ_CLOSE, .circ = self->circs};
        pthread_cond_init (&req.cond, NULL);
        s_do_close (self, &req);
        pthread_cond_destroy (&req.cond);
    }
    fb_tor_link_loop_destroy (&self->loop);
    SSL_CTX_free (self->ctx);
    pthread_mutex_destroy (&self->lock);
    free (self->links);
    free (self->relays);
    free (self);
    *self_p = NULL;
}

/* ---- calls ------------------------------------------------------------------------------ */

int fb_tor_client_build (fb_tor_client_t *self, int hops, uint64_t seed, int64_t timeout_ns,
                         fb_tor_circ_t **circ_p, fb_tor_build_t *build, fb_err_t *err) {
    fb_tor_req_t req = {
        .type = FB_TOR_REQ_BUILD, .hops = hops, .seed = seed, .deadline_ns = timeout_ns};
    int rc = s_call (self, &req, err);
    *circ_p = req.circ; /* even failed: the user closes it */
    if (build)
        *build = req.build;
    return rc;
}

void fb_tor_client_close (fb_tor_client_t *self, fb_tor_circ_t **circ_p) {
    if (!*circ_p)
        return;
    fb_tor_req_t req = {.type = FB_TOR_REQ_CLOSE, .circ = *circ_p};
    s_call (self, &req, NULL);
    *circ_p = NULL;
}

bool fb_tor_client_alive (fb_tor_client_t *self, fb_tor_circ_t *circ) {
    fb_tor_req_t req = {.type = FB_TOR_REQ_ALIVE, .circ = circ};
    return s_call (self, &req, NULL) == 0;
}

int fb_tor_client_open_stream (fb_tor_client_t *self, fb_tor_circ_t *circ, int64_t timeout_ns,
                               fb_tor_stream_t **stream_p, int64_t *open_ns, fb_err_t *err) {
    fb_tor_req_t req = {.type = FB_TOR_REQ_OPEN, .circ = circ, .deadline_ns = timeout_ns};
    int rc = s_call (self, &req, err);
    *stream_p = req.stream;
    if (open_ns)
        *open_ns = req.open_ns;
    return rc;
}

int fb_tor_client_exchange (fb_tor_client_t *self, fb_tor_stream_t *stream, uint32_t request,
                            uint32_t response, int64_t timeout_ns, fb_tor_xfer_t *xfer,
                            fb_err_t *err) {
    fb_tor_req_t req = {.type = FB_TOR_REQ_XCHG,
                        .stream = stream,
                        .request = request,
                        .response = response,
                        .deadline_ns = timeout_ns};
    int rc = s_call (self, &req, err);
    if (xfer)
        *xfer = req.xfer;
    return rc;
}

void fb_tor_client_close_stream (fb_tor_client_t *self, fb_tor_stream_t **stream_p) {
    if (!*stream_p)
        return;
    fb_tor_req_t req = {.type = FB_TOR_REQ_CLOSE_STREAM, .stream = *stream_p};
    s_call (self, &req, NULL);
    *stream_p = NULL;
}

fb_tor_call_t *fb_tor_client_call_new (fb_tor_notify_fn *notify, void *arg) {
    fb_tor_req_t *req = calloc (1, sizeof *req);
    if (req) {
        req->notify = notify;
        req->notify_arg = arg;
    }
    return req;
}

void fb_tor_client_call_destroy (fb_tor_call_t **call_p) {
    free (*call_p);
    *call_p = NULL;
}

/* Starts call as req's type and arguments; keeps the call's own notify. */
static void s_start (fb_tor_client_t *self, fb_tor_call_t *call, fb_tor_req_t req) {
    req.notify = call->notify;
    req.notify_arg = call->notify_arg;
    *call = req;
    s_submit (self, call);
}

void fb_tor_client_open_stream_start (fb_tor_client_t *self, fb_tor_call_t *call,
                                      fb_tor_circ_t *circ, int64_t timeout_ns) {
    s_start (self, call,
             (fb_tor_req_t){.type = FB_TOR_REQ_OPEN, .circ = circ, .deadline_ns = timeout_ns});
}

void fb_tor_client_exchange_start (fb_tor_client_t *self, fb_tor_call_t *call,
                                   fb_tor_stream_t *stream, uint32_t request, uint32_t response,
                                   int64_t timeout_ns) {
    s_start (self, call,
             (fb_tor_req_t){.type = FB_TOR_REQ_XCHG,
                            .stream = stream,
                            .request = request,
                            .response = response,
                            .deadline_ns = timeout_ns});
}

int fb_tor_client_call_result (const fb_tor_call_t *call, fb_tor_stream_t **stream_p,
                               int64_t *open_ns, fb_tor_xfer_t *xfer, fb_err_t *err) {
    assert (call->done && "read a call's result only once it was notified");
    if (stream_p && call->type == FB_TOR_REQ_OPEN)
        *stream_p = call->stream;
    if (open_ns)
        *open_ns = call->open_ns;
    if (xfer)
        *xfer = call->xfer;
    if (call->rc != 0 && err)
        *err = call->err;
    return call->rc;
}

int fb_tor_client_inject (fb_tor_client_t *self, fb_tor_circ_t *circ, fb_tor_fault_t fault,
                          fb_err_t *err) {
    fb_tor_req_t req = {.type = FB_TOR_REQ_INJECT, .circ = circ, .fault = (int)fault};
    return s_call (self, &req, err);
}

void fb_tor_client_stats (const fb_tor_client_t *self, fb_tor_client_stats_t *stats) {
    fb_tor_client_t *c = (fb_tor_client_t *)self; /* atomic loads only */
    stats->bad_cells = atomic_load (&c->bad_cells);
    stats->sendme_stalls = atomic_load (&c->sendme_stalls);
    stats->streams_open = atomic_load (&c->streams_open);
    stats->streams_peak = atomic_load (&c->streams_peak);
    stats->circuits_open = atomic_load (&c->circuits_open);
}

void fb_tor_client_reset_peak (fb_tor_client_t *self) {
    atomic_store (&self->streams_peak, atomic_load (&self->streams_open));
}

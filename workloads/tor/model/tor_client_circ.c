/* tor_client_circ.c: the client thread's plumbing under circuits and streams: a request
 * answered, a relay cell sealed and sent through a circuit's layers, a bad cell counted, a
 * circuit or stream ended with whatever request waited on it. tor_client.c (circuits) and
 * tor_client_stream.c (streams) both stand on it. */
#include "workloads/tor/model/tor_client_circ.h"

#include <stdlib.h>

/* ---- requests --------------------------------------------------------------------------- */

void fb_tor_client_circ_active_add (fb_tor_client_t *self, fb_tor_req_t *req) {
    req->act_prev = NULL;
    req->act_next = self->active;
    if (self->active)
        self->active->act_prev = req;
    self->active = req;
}

static void s_active_del (fb_tor_client_t *self, fb_tor_req_t *req) {
    if (req->act_prev)
        req->act_prev->act_next = req->act_next;
    else if (self->active == req)
        self->active = req->act_next;
    if (req->act_next)
        req->act_next->act_prev = req->act_prev;
    req->act_prev = req->act_next = NULL;
}

void fb_tor_client_circ_finish (fb_tor_client_t *self, fb_tor_req_t *req, int rc) {
    s_active_del (self, req);
    /* Read before the answer: a waiting caller's request is gone once it is answered. */
    void (*notify) (fb_tor_req_t *, void *) = req->notify;
    void *arg = req->notify_arg;
    pthread_mutex_lock (&self->lock);
    req->rc = rc;
    req->done = true;
    if (!notify)
        pthread_cond_signal (&req->cond);
    pthread_mutex_unlock (&self->lock);
    if (notify)
        notify (req, arg);
}

int fb_tor_client_circ_fail (fb_tor_client_t *self, fb_tor_req_t *req, const char *fmt,
                             const char *what) {
    fb_err_set (&req->err, FB_ESTATE, fmt, what);
    fb_tor_client_circ_finish (self, req, -1);
    return -1;
}

/* ---- circuits and streams ending --------------------------------------------------------- */

static void s_unlink_circ (fb_tor_circ_t *circ) {
    if (circ->link && circ->id)
        fb_tor_circmap_del (fb_tor_client_circ_map (circ->link), circ->id);
    circ->id = 0;
    circ->link = NULL;
}

void fb_tor_client_circ_kill (fb_tor_client_t *self, fb_tor_circ_t *circ, bool send_destroy,
                              const char *why) {
    if (circ->state == FB_TOR_C_DEAD)
        return;
    if (circ->state == FB_TOR_C_OPEN)
        atomic_fetch_sub (&self->circuits_open, 1);
    if (send_destroy && circ->link && circ->id) {
        fb_tor_cell_t cell;
        /* tor-spec 5.4: a client gives no reason, whatever it was, so as not to leak it */
        fb_tor_cell_destroy_encode (&cell, circ->id, FB_TOR_DESTROY_NONE);
        fb_tor_link_send (circ->link, &cell);
    }
    s_unlink_circ (circ);
    circ->state = FB_TOR_C_DEAD;
    fb_tor_crypto_ntor_client_clear (&circ->ntor);
    if (circ->req)
        fb_tor_client_circ_fail (self, circ->req, "circuit ended while building: %s", why);
    circ->req = NULL;
    for (fb_tor_stream_t *s = circ->streams; s; s = s->next)
        fb_tor_client_circ_stream_dead (self, s, why);
}

void fb_tor_client_circ_bad_cell (fb_tor_client_t *self, fb_tor_circ_t *circ, const char *what) {
    atomic_fetch_add (&self->bad_cells, 1);
    if (circ)
        fb_tor_client_circ_kill (self, circ, true, what);
}

/* A relay cell to hop `hop`: sealed with its digest, then every layer from hop back to 0. */
void fb_tor_client_circ_send_relay (fb_tor_client_t *self, fb_tor_circ_t *circ, int hop,
                                    uint8_t command, uint16_t stream_id, const uint8_t *data,
                                    size_t len) {
    (void)self;
    bool early = command == FB_TOR_RELAY_EXTEND2; /* tor-spec 5.6 */
    fb_tor_cell_t cell = {.circ_id = circ->id,
                          .command = early ? FB_TOR_CELL_RELAY_EARLY : FB_TOR_CELL_RELAY};
    fb_tor_cell_relay_encode (cell.payload, command, stream_id, data, len);
    fb_tor_crypto_dir_seal (&circ->layers[hop].fwd, cell.payload, FB_TOR_PAYLOAD_LEN);
    for (int i = hop; i >= 0; i--)
        fb_tor_crypto_dir_crypt (&circ->layers[i].fwd, cell.payload, FB_TOR_PAYLOAD_LEN);
    fb_tor_link_send (circ->link, &cell);
}

void fb_tor_client_circ_answer (fb_tor_client_t *self, fb_tor_stream_t *stream, int rc) {
    fb_tor_req_t *req = stream->req;
    stream->req = NULL;
    if (req)
        fb_tor_client_circ_finish (self, req, rc);
}

void fb_tor_client_circ_stream_dead (fb_tor_client_t *self, fb_tor_stream_t *stream,
                                     const char *why) {
    if (stream->state == FB_TOR_S_DEAD)
        return;
    fb_tor_circ_t *circ = stream->circ;
    if (stream->state == FB_TOR_S_OPEN)
        atomic_fetch_sub (&self->streams_open, 1);
    if (circ->state == FB_TOR_C_OPEN) {
        uint8_t reason = FB_TOR_END_MISC;
        fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ), FB_TOR_RELAY_END,
                                       stream->id, &reason, 1);
    }
    stream->state = FB_TOR_S_DEAD;
    if (stream->req)
        fb_err_set (&stream->req->err, FB_ESTATE, "tor: stream %u ended: %s", stream->id, why);
    fb_tor_client_circ_answer (self, stream, -1);
}

void fb_tor_client_circ_stream_free (fb_tor_client_t *self, fb_tor_stream_t *stream) {
    if (stream->state == FB_TOR_S_OPEN)
        atomic_fetch_sub (&self->streams_open, 1);
    for (fb_tor_stream_t **p = &stream->circ->streams; *p; p = &(*p)->next)
        if (*p == stream) {
            *p = stream->next;
            break;
        }
    free (stream);
}

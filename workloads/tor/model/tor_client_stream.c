/* tor_client_stream.c: streams on the client's circuits: BEGIN/CONNECTED, request bytes out
 * and response bytes in as RELAY_DATA, END, and flow control (tor-spec 7.3, 7.4): a package
 * window per circuit (1000 cells) and per stream (500), refilled by the exit's SENDMEs (a
 * circuit SENDME carries the digest of the cell it answers and is checked), and a deliver
 * window each, for which we send SENDMEs every 100 and 50 cells. */
#include "workloads/tor/model/tor_client_stream.h"

#include "common/clock.h"

#include <stdlib.h>
#include <string.h>

static void s_put32 (uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static fb_tor_stream_t *s_find (const fb_tor_circ_t *circ, uint16_t id) {
    for (fb_tor_stream_t *s = circ->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

void fb_tor_client_stream_open (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_circ_t *circ = req->circ;
    fb_tor_stream_t *stream = circ->state == FB_TOR_C_OPEN ? calloc (1, sizeof *stream) : NULL;
    if (!stream) {
        fb_err_set (&req->err, FB_ESTATE, "tor: %s",
                    circ->state == FB_TOR_C_OPEN ? "out of memory for a stream"
                                                 : "the circuit is not open");
        fb_tor_client_circ_finish (self, req, -1);
        return;
    }
    while (circ->next_stream_id == 0 || s_find (circ, circ->next_stream_id))
        circ->next_stream_id++;
    stream->id = circ->next_stream_id++;
    stream->circ = circ;
    stream->state = FB_TOR_S_CONNECTING;
    stream->package_window = stream->deliver_window = FB_TOR_STREAMWINDOW_START;
    stream->started_ns = fb_clock_now_ns ();
    stream->req = req;
    stream->next = circ->streams;
    circ->streams = stream;
    req->stream = stream;
    uint8_t data[64];
    size_t len = fb_tor_cell_begin_encode (FB_TOR_SINK_ADDRESS, self->sink_port, data, sizeof data);
    fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ), FB_TOR_RELAY_BEGIN,
                                   stream->id, data, len);
}

/* Request bytes while both package windows allow: the sink's header, then zeros. */
static void s_pump (fb_tor_client_t *self, fb_tor_stream_t *stream) {
    fb_tor_circ_t *circ = stream->circ;
    uint8_t data[FB_TOR_RELAY_DATA_LEN], header[FB_TOR_SINK_HEADER_LEN];
    s_put32 (header, stream->request_total);
    s_put32 (header + 4, stream->response_total);
    bool moved = false;
    while (stream->send_off < stream->request_total && stream->package_window > 0 &&
           circ->package_window > 0 && circ->state == FB_TOR_C_OPEN) {
        uint64_t left = stream->request_total - stream->send_off;
        size_t n = left < sizeof data ? (size_t)left : sizeof data;
        memset (data, 0, n);
        for (uint64_t i = stream->send_off; i < FB_TOR_SINK_HEADER_LEN && i - stream->send_off < n;
             i++)
            data[i - stream->send_off] = header[i];
        fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ),
                                       FB_TOR_RELAY_DATA, stream->id, data, n);
        if (++circ->data_sent % FB_TOR_CIRCWINDOW_INCREMENT == 0 &&
            circ->ntags < FB_TOR_SENDME_TAGS) {
            memcpy (circ->tags[(circ->tag_head + circ->ntags) % FB_TOR_SENDME_TAGS],
                    circ->layers[fb_tor_client_circ_exit (circ)].fwd.last_digest, 20);
            circ->ntags++;
        }
        stream->send_off += n;
        stream->package_window--;
        circ->package_window--;
        moved = true;
    }
    if (moved)
        stream->stalled = false;
    if (stream->send_off < stream->request_total && !stream->stalled) {
        stream->stalled = true;
        atomic_fetch_add (&self->sendme_stalls, 1);
    }
}

void fb_tor_client_stream_exchange (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_stream_t *stream = req->stream;
    const char *bad = stream->state != FB_TOR_S_OPEN ? "the stream is not open"
                      : stream->req                  ? "the stream is busy"
                      : req->request < FB_TOR_SINK_HEADER_LEN
                          ? "a request must have at least the sink's 8-byte header"
                          : NULL;
    if (bad) {
        fb_err_set (&req->err, FB_ESTATE, "tor: %s", bad);
        fb_tor_client_circ_finish (self, req, -1);
        return;
    }
    stream->req = req;
    stream->request_total = req->request;
    stream->response_total = req->response;
    stream->send_off = stream->recv_off = 0;
    stream->started_ns = fb_clock_now_ns ();
    stream->first_byte_ns = 0;
    s_pump (self, stream);
}

void fb_tor_client_stream_close (fb_tor_client_t *self, fb_tor_req_t *req) {
    fb_tor_stream_t *stream = req->stream;
    fb_tor_circ_t *circ = stream->circ;
    if (stream->state != FB_TOR_S_DEAD && circ->state == FB_TOR_C_OPEN) {
        uint8_t reason = FB_TOR_END_MISC; /* tor-spec 6.3: clients say MISC, whatever it was */
        fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ), FB_TOR_RELAY_END,
                                       stream->id, &reason, 1);
    }
    /* An exchange or open still in flight on it (an asynchronous call) ends first, failed:
     * nothing may point at the stream once it is freed. */
    if (stream->req) {
        fb_err_set (&stream->req->err, FB_ESTATE, "tor: stream %u closed", stream->id);
        fb_tor_client_circ_answer (self, stream, -1);
    }
    fb_tor_client_circ_stream_free (self, stream);
    fb_tor_client_circ_finish (self, req, 0);
}

/* Our deliver window of the circuit: a SENDME v1 every 100 DATA cells, tagged with the digest
 * of the cell that made it due. */
static void s_circ_delivered (fb_tor_client_t *self, fb_tor_circ_t *circ) {
    circ->deliver_window--;
    if (circ->deliver_window <= FB_TOR_CIRCWINDOW_START - FB_TOR_CIRCWINDOW_INCREMENT) {
        uint8_t data[32];
        size_t len = fb_tor_cell_sendme_encode (
            circ->layers[fb_tor_client_circ_exit (circ)].back.last_digest, data, sizeof data);
        circ->deliver_window += FB_TOR_CIRCWINDOW_INCREMENT;
        fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ),
                                       FB_TOR_RELAY_SENDME, 0, data, len);
    }
}

/* Response bytes: checked against the sink's pattern, counted, SENDME'd. */
static void s_data (fb_tor_client_t *self, fb_tor_stream_t *stream, const fb_tor_relay_t *relay) {
    fb_tor_circ_t *circ = stream->circ;
    uint64_t left = stream->response_total - stream->recv_off;
    bool expected = stream->req && stream->send_off == stream->request_total;
    if (!expected || relay->length > left || --stream->deliver_window < 0) {
        fb_tor_client_circ_bad_cell (self, circ, "DATA the sink was not asked for");
        return;
    }
    for (uint16_t i = 0; i < relay->length; i++)
        if (relay->data[i] != (uint8_t)((stream->recv_off + i) % 251)) {
            fb_tor_client_circ_bad_cell (self, circ, "response bytes changed on the way");
            return;
        }
    int64_t now = fb_clock_now_ns ();
    if (!stream->first_byte_ns)
        stream->first_byte_ns = now;
    stream->recv_off += relay->length;
    if (stream->deliver_window <= FB_TOR_STREAMWINDOW_START - FB_TOR_STREAMWINDOW_INCREMENT) {
        stream->deliver_window += FB_TOR_STREAMWINDOW_INCREMENT;
        fb_tor_client_circ_send_relay (self, circ, fb_tor_client_circ_exit (circ),
                                       FB_TOR_RELAY_SENDME, stream->id, NULL, 0);
    }
    if (stream->recv_off == stream->response_total) {
        fb_tor_req_t *req = stream->req;
        req->xfer.ttfb_ns = stream->first_byte_ns - stream->started_ns;
        req->xfer.total_ns = now - stream->started_ns;
        req->xfer.bytes = (uint64_t)stream->request_total + stream->response_total;
        fb_tor_client_circ_answer (self, stream, 0);
    }
}

/* A circuit SENDME: its tag must be the digest we kept for the 100th cell it answers. */
static void s_circ_sendme (fb_tor_client_t *self, fb_tor_circ_t *circ,
                           const fb_tor_relay_t *relay) {
    uint8_t tag[20];
    bool has_tag = false;
    fb_err_t err;
    if (fb_tor_cell_sendme_decode (relay->data, relay->length, tag, &has_tag, &err) != 0 ||
        !has_tag || circ->ntags == 0 || memcmp (tag, circ->tags[circ->tag_head], 20) != 0) {
        fb_tor_client_circ_bad_cell (self, circ, "a circuit SENDME with a wrong tag");
        return;
    }
    circ->tag_head = (circ->tag_head + 1) % FB_TOR_SENDME_TAGS;
    circ->ntags--;
    circ->package_window += FB_TOR_CIRCWINDOW_INCREMENT;
    for (fb_tor_stream_t *s = circ->streams; s && circ->state == FB_TOR_C_OPEN; s = s->next)
        if (s->req && s->send_off < s->request_total)
            s_pump (self, s);
}

void fb_tor_client_stream_on_relay (fb_tor_client_t *self, fb_tor_circ_t *circ,
                                    const fb_tor_relay_t *relay) {
    if (relay->command == FB_TOR_RELAY_DATA)
        s_circ_delivered (self, circ); /* counted even for a stream we already ended */
    if (relay->stream_id == 0) {
        if (relay->command == FB_TOR_RELAY_SENDME)
            s_circ_sendme (self, circ, relay);
        else if (relay->command != FB_TOR_RELAY_DROP)
            fb_tor_client_circ_bad_cell (self, circ, "a stream command on stream 0");
        return;
    }
    fb_tor_stream_t *stream = s_find (circ, relay->stream_id);
    if (!stream || stream->state == FB_TOR_S_DEAD)
        return; /* cells for a stream we ended may still be on the way */
    switch (relay->command) {
    case FB_TOR_RELAY_CONNECTED:
        if (stream->state != FB_TOR_S_CONNECTING) {
            fb_tor_client_circ_bad_cell (self, circ, "CONNECTED twice");
            return;
        }
        stream->state = FB_TOR_S_OPEN;
        int64_t open = atomic_fetch_add (&self->streams_open, 1) + 1;
        int64_t peak = atomic_load (&self->streams_peak);
        while (open > peak && !atomic_compare_exchange_weak (&self->streams_peak, &peak, open))
            ;
        stream->req->open_ns = fb_clock_now_ns () - stream->started_ns;
        fb_tor_client_circ_answer (self, stream, 0);
        break;
    case FB_TOR_RELAY_END:
        if (stream->state == FB_TOR_S_OPEN)
            atomic_fetch_sub (&self->streams_open, 1);
        stream->state = FB_TOR_S_DEAD; /* no END back: the exit has forgotten it */
        if (stream->req)
            fb_err_set (&stream->req->err, FB_ESTATE, "tor: the exit ended stream %u (reason %u)",
                        stream->id, relay->length ? relay->data[0] : 0);
        fb_tor_client_circ_answer (self, stream, -1);
        break;
    case FB_TOR_RELAY_DATA:
        if (stream->state == FB_TOR_S_OPEN)
            s_data (self, stream, relay);
        else
            fb_tor_client_circ_bad_cell (self, circ, "DATA before CONNECTED");
        break;
    case FB_TOR_RELAY_SENDME:
        stream->package_window += FB_TOR_STREAMWINDOW_INCREMENT;
        if (stream->req)
            s_pump (self, stream);
        break;
    default:
        fb_tor_client_circ_bad_cell (self, circ, "a relay command a client never gets");
    }
}

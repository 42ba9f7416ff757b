/* tor_relay.c: the loopback relay network. Each relay is one thread owning one poll loop
 * (tor_link.c) with its listener and every link it has, inbound and outbound, as a tor relay's
 * main loop does; a circuit's two legs live in the per-link circuit maps. A bad cell (wrong
 * length, a digest that matches at no hop, a command out of place) ends the circuit it came on:
 * DESTROY both ways and a count in bad_cells. A cell or relay command we do not know is dropped,
 * as tor-spec 3 and 6.1 ask. */
#include "workloads/tor/model/tor_relay.h"

#include "common/clock.h"
#include "workloads/tor/model/tor_link.h"
#include "workloads/tor/wire/tor_cell.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_LOCALHOST 0x7f000001u
#define S_TAGS (FB_TOR_CIRCWINDOW_START / FB_TOR_CIRCWINDOW_INCREMENT) /* SENDME tags in flight */

enum { R_OPEN, R_WAIT_LINK, R_WAIT_CREATED };

/* A stream at the exit, with the sink's state. */
typedef struct s_xstream {
    uint16_t id;
    int package_window, deliver_window;
    uint8_t header[FB_TOR_SINK_HEADER_LEN];
    int header_got;
    uint64_t request_left, response_left, response_off;
    bool stalled;
    struct s_xstream *next;
} s_xstream_t;

typedef struct s_rcirc {
    fb_tor_link_t *prev, *next;
    uint32_t prev_id, next_id;
    int state, target; /* target: the relay being extended to */
    fb_tor_layer_t layer;
    uint8_t onionskin[FB_TOR_ONIONSKIN_LEN]; /* R_WAIT_LINK: the CREATE2 to send */
    struct s_rcirc *waiting_next;
    /* as an exit */
    s_xstream_t *streams;
    int package_window, deliver_window;
    uint64_t data_sent;
    uint8_t tags[S_TAGS][20]; /* digests of every 100th DATA cell sent: SENDME v1 expects them */
    int tag_head, ntags;
} s_rcirc_t;

typedef struct {
    fb_tor_circmap_t *map;
    int peer; /* outbound: the relay at the other end; inbound: -1 */
} s_rlink_t;

typedef struct {
    fb_tor_relay_net_t *net;
    int index;
    SSL_CTX *server_ctx;
    fb_tor_onion_key_t *onion;
    fb_tor_loop_t *loop;
    fb_tor_link_t **out; /* [n] our link to each relay, or NULL */
    s_rcirc_t *waiting;  /* circuits waiting for an outbound link to open */
    uint64_t rng;
    pthread_t thread;
    bool started;
} s_relay_t;

struct fb_tor_relay_net {
    int n;
    int64_t delay_ns;
    bool nagle; /* links leave Nagle's algorithm on */
    s_relay_t *relays;
    fb_tor_relay_info_t *info;
    SSL_CTX *client_ctx;
    atomic_bool stop;
    atomic_int_fast64_t bad_cells, circuits_created, crypto_ns, sendme_stalls, exit_streams,
        cells_in;
};

/* ---- circuits --------------------------------------------------------------------------- */

static void s_unwait (s_relay_t *r, s_rcirc_t *c) {
    for (s_rcirc_t **p = &r->waiting; *p; p = &(*p)->waiting_next)
        if (*p == c) {
            *p = c->waiting_next;
            return;
        }
}

static fb_tor_circmap_t *s_map (fb_tor_link_t *link) {
    return ((s_rlink_t *)fb_tor_link_user (link))->map;
}

static void s_free_circ (s_relay_t *r, s_rcirc_t *c) {
    s_unwait (r, c);
    if (c->prev)
        fb_tor_circmap_del (s_map (c->prev), c->prev_id);
    if (c->next)
        fb_tor_circmap_del (s_map (c->next), c->next_id);
    for (s_xstream_t *s = c->streams, *next; s; s = next) {
        next = s->next;
        atomic_fetch_sub (&r->net->exit_streams, 1);
        free (s);
    }
    fb_tor_crypto_layer_fini (&c->layer);
    free (c);
}

static void s_send_destroy (fb_tor_link_t *link, uint32_t id, uint8_t reason) {
    fb_tor_cell_t cell;
    fb_tor_cell_destroy_encode (&cell, id, reason);
    fb_tor_link_send (link, &cell);
}

/* Ends a circuit: DESTROY to both sides (but from), then frees it. */
static void s_kill (s_relay_t *r, s_rcirc_t *c, uint8_t reason, const fb_tor_link_t *from) {
    if (c->prev && c->prev != from)
        s_send_destroy (c->prev, c->prev_id, reason);
    if (c->next && c->next != from)
        s_send_destroy (c->next, c->next_id, reason);
    s_free_circ (r, c);
}

static void s_bad_cell (s_relay_t *r, s_rcirc_t *c) {
    atomic_fetch_add (&r->net->bad_cells, 1);
    if (c)
        s_kill (r, c, FB_TOR_DESTROY_PROTOCOL, NULL);
}

/* A relay cell this hop originates toward the client. */
static void s_originate (s_rcirc_t *c, uint8_t command, uint16_t stream_id, const uint8_t *data,
                         size_t len) {
    fb_tor_cell_t cell = {.circ_id = c->prev_id, .command = FB_TOR_CELL_RELAY};
    fb_tor_cell_relay_encode (cell.payload, command, stream_id, data, len);
    fb_tor_crypto_dir_seal (&c->layer.back, cell.payload, FB_TOR_PAYLOAD_LEN);
    fb_tor_crypto_dir_crypt (&c->layer.back, cell.payload, FB_TOR_PAYLOAD_LEN);
    fb_tor_link_send (c->prev, &cell);
}

/* ---- CREATE2 and EXTEND2 ---------------------------------------------------------------- */

static void s_create (s_relay_t *r, fb_tor_link_t *link, const fb_tor_cell_t *cell) {
    uint8_t skin[FB_TOR_ONIONSKIN_LEN], reply[FB_TOR_REPLY_LEN], keys[FB_TOR_KEYS_LEN];
    fb_err_t err;
    if (fb_tor_cell_create2_decode (cell, skin, &err) != 0) {
        atomic_fetch_add (&r->net->bad_cells, 1);
        s_send_destroy (link, cell->circ_id, FB_TOR_DESTROY_PROTOCOL);
        return;
    }
    s_rcirc_t *c = calloc (1, sizeof *c);
    if (c) {
        c->prev = link;
        c->prev_id = cell->circ_id;
        c->state = R_OPEN;
        c->package_window = c->deliver_window = FB_TOR_CIRCWINDOW_START;
    }
    int64_t cpu0 = fb_tor_crypto_thread_cpu_ns ();
    int rc =
        c ? fb_tor_crypto_ntor_server (r->onion, skin, NULL, reply, keys, sizeof keys, &err) : -1;
    if (rc == 0)
        rc = fb_tor_crypto_layer_init (&c->layer, keys, &err);
    atomic_fetch_add (&r->net->crypto_ns, fb_tor_crypto_thread_cpu_ns () - cpu0);
    if (rc != 0 || fb_tor_circmap_put (s_map (link), cell->circ_id, c) != 0) {
        if (c)
            fb_tor_crypto_layer_fini (&c->layer);
        free (c);
        s_send_destroy (link, cell->circ_id, FB_TOR_DESTROY_PROTOCOL);
        return;
    }
    fb_tor_cell_t created;
    fb_tor_cell_created2_encode (&created, cell->circ_id, reply);
    fb_tor_link_send (link, &created);
    atomic_fetch_add (&r->net->circuits_created, 1);
}

static void s_send_create (s_relay_t *r, s_rcirc_t *c, fb_tor_link_t *link) {
    fb_tor_circmap_t *map = s_map (link);
    uint32_t id = fb_tor_circmap_new_id (map, true, &r->rng);
    if (fb_tor_circmap_put (map, id, c) != 0) {
        s_kill (r, c, FB_TOR_DESTROY_INTERNAL, NULL);
        return;
    }
    c->next = link;
    c->next_id = id;
    c->state = R_WAIT_CREATED;
    fb_tor_cell_t cell;
    fb_tor_cell_create2_encode (&cell, id, c->onionskin);
    fb_tor_link_send (link, &cell);
}

static fb_tor_link_t *s_link_to (s_relay_t *r, int target) {
    if (r->out[target])
        return r->out[target];
    fb_err_t err;
    s_rlink_t *rl = calloc (1, sizeof *rl);
    fb_tor_link_t *link = NULL;
    if (rl && (rl->map = fb_tor_circmap_new ()))
        link =
            fb_tor_link_loop_connect (r->loop, r->net->info[target].port, r->net->client_ctx, &err);
    if (!link) {
        if (rl)
            fb_tor_circmap_destroy (&rl->map);
        free (rl);
        return NULL;
    }
    rl->peer = target;
    fb_tor_link_set_user (link, rl);
    r->out[target] = link;
    return link;
}

static void s_extend (s_relay_t *r, s_rcirc_t *c, const fb_tor_relay_t *relay, bool early) {
    fb_tor_extend2_t ext;
    fb_err_t err;
    if (!early || c->next || c->state != R_OPEN ||
        fb_tor_cell_extend2_decode (relay->data, relay->length, &ext, &err) != 0) {
        s_bad_cell (r, c); /* tor-spec 5.6: EXTEND2 only in RELAY_EARLY */
        return;
    }
    int target = -1;
    for (int i = 0; i < r->net->n; i++)
        if (ext.ipv4 == S_LOCALHOST && ext.port == r->net->info[i].port &&
            memcmp (ext.id, r->net->info[i].id, FB_TOR_ID_LEN) == 0)
            target = i;
    fb_tor_link_t *link = target >= 0 && target != r->index ? s_link_to (r, target) : NULL;
    if (!link) {
        s_kill (r, c, FB_TOR_DESTROY_CONNECTFAILED, NULL);
        return;
    }
    memcpy (c->onionskin, ext.onionskin, sizeof c->onionskin);
    c->target = target;
    if (fb_tor_link_is_open (link))
        s_send_create (r, c, link);
    else {
        c->state = R_WAIT_LINK;
        c->waiting_next = r->waiting;
        r->waiting = c;
    }
}

static void s_created (s_relay_t *r, s_rcirc_t *c, const fb_tor_cell_t *cell) {
    uint8_t reply[FB_TOR_REPLY_LEN], data[2 + FB_TOR_REPLY_LEN];
    fb_err_t err;
    if (c->state != R_WAIT_CREATED || fb_tor_cell_created2_decode (cell, reply, &err) != 0) {
        s_bad_cell (r, c);
        return;
    }
    c->state = R_OPEN;
    size_t len = fb_tor_cell_extended2_encode (reply, data, sizeof data);
    s_originate (c, FB_TOR_RELAY_EXTENDED2, 0, data, len);
}

/* ---- the exit and its sink -------------------------------------------------------------- */

static s_xstream_t *s_stream (s_rcirc_t *c, uint16_t id) {
    for (s_xstream_t *s = c->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static void s_stream_free (s_relay_t *r, s_rcirc_t *c, s_xstream_t *stream) {
    for (s_xstream_t **p = &c->streams; *p; p = &(*p)->next)
        if (*p == stream) {
            *p = stream->next;
            atomic_fetch_sub (&r->net->exit_streams, 1);
            free (stream);
            return;
        }
}

/* Sends response bytes while both windows allow; a window at 0 with bytes left is a stall,
 * counted once until the stream moves again. */
static void s_produce (s_relay_t *r, s_rcirc_t *c) {
    uint8_t data[FB_TOR_RELAY_DATA_LEN];
    for (s_xstream_t *s = c->streams; s; s = s->next) {
        bool moved = false;
        while (s->response_left > 0 && s->package_window > 0 && c->package_window > 0) {
            size_t n = s->response_left < sizeof data ? (size_t)s->response_left : sizeof data;
            for (size_t i = 0; i < n; i++)
                data[i] = (uint8_t)((s->response_off + i) % 251);
            s_originate (c, FB_TOR_RELAY_DATA, s->id, data, n);
            if (++c->data_sent % FB_TOR_CIRCWINDOW_INCREMENT == 0 && c->ntags < S_TAGS) {
                memcpy (c->tags[(c->tag_head + c->ntags) % S_TAGS], c->layer.back.last_digest, 20);
                c->ntags++;
            }
            s->response_left -= n;
            s->response_off += n;
            s->package_window--;
            c->package_window--;
            moved = true;
        }
        if (moved)
            s->stalled = false;
        if (s->response_left > 0 && !s->stalled) {
            s->stalled = true;
            atomic_fetch_add (&r->net->sendme_stalls, 1);
        }
    }
}

/* The sink reads a request (header, then filler) and answers it. -1: a malformed request. */
static int s_sink_take (s_xstream_t *s, const uint8_t *data, size_t len) {
    while (len > 0) {
        if (s->header_got < FB_TOR_SINK_HEADER_LEN) {
            s->header[s->header_got++] = *data++;
            len--;
            if (s->header_got < FB_TOR_SINK_HEADER_LEN)
                continue;
            const uint8_t *h = s->header;
            uint32_t total =
                (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            if (total < FB_TOR_SINK_HEADER_LEN || s->response_left > 0)
                return -1; /* too short, or a request while the last answer is still going */
            s->request_left = total - FB_TOR_SINK_HEADER_LEN;
        } else {
            size_t n = len < s->request_left ? len : (size_t)s->request_left;
            s->request_left -= n;
            data += n;
            len -= n;
        }
        if (s->header_got == FB_TOR_SINK_HEADER_LEN && s->request_left == 0) {
            const uint8_t *h = s->header + 4;
            s->response_left =
                (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            s->response_off = 0;
            s->header_got = 0;
        }
    }
    return 0;
}

static void s_begin (s_relay_t *r, s_rcirc_t *c, const fb_tor_relay_t *relay) {
    char address[64];
    uint16_t port = 0;
    fb_err_t err;
    if (relay->stream_id == 0 || s_stream (c, relay->stream_id) ||
        fb_tor_cell_begin_decode (relay->data, relay->length, address, sizeof address, &port,
                                  &err)) {
        s_bad_cell (r, c);
        return;
    }
    uint8_t reason = FB_TOR_END_EXITPOLICY;
    s_xstream_t *s = NULL;
    if (strcmp (address, FB_TOR_SINK_ADDRESS) == 0 && port == FB_TOR_SINK_PORT) {
        reason = FB_TOR_END_MISC;
        s = calloc (1, sizeof *s);
    }
    if (!s) {
        s_originate (c, FB_TOR_RELAY_END, relay->stream_id, &reason, 1);
        return;
    }
    s->id = relay->stream_id;
    s->package_window = s->deliver_window = FB_TOR_STREAMWINDOW_START;
    s->next = c->streams;
    c->streams = s;
    atomic_fetch_add (&r->net->exit_streams, 1);
    const uint8_t connected[8] = {127, 0, 0, 1, 0, 0, 1, 0x2c}; /* IPv4, TTL 300 */
    s_originate (c, FB_TOR_RELAY_CONNECTED, s->id, connected, sizeof connected);
}

static void s_data (s_relay_t *r, s_rcirc_t *c, const fb_tor_relay_t *relay) {
    s_xstream_t *s = s_stream (c, relay->stream_id);
    if (!s || --c->deliver_window < 0 || --s->deliver_window < 0 ||
        s_sink_take (s, relay->data, relay->length) != 0) {
        s_bad_cell (r, c); /* data past a window, on no stream, or not a request */
        return;
    }
    if (c->deliver_window <= FB_TOR_CIRCWINDOW_START - FB_TOR_CIRCWINDOW_INCREMENT) {
        uint8_t data[32];
        size_t len = fb_tor_cell_sendme_encode (c->layer.fwd.last_digest, data, sizeof data);
        c->deliver_window += FB_TOR_CIRCWINDOW_INCREMENT;
        s_originate (c, FB_TOR_RELAY_SENDME, 0, data, len);
    }
    if (s->deliver_window <= FB_TOR_STREAMWINDOW_START - FB_TOR_STREAMWINDOW_INCREMENT) {
        s->deliver_window += FB_TOR_STREAMWINDOW_INCREMENT;
        s_originate (c, FB_TOR_RELAY_SENDME, s->id, NULL, 0);
    }
    s_produce (r, c);
}

/* A SENDME from the client: a stream's (+50), or the circuit's (+100, its tag checked). */
static void s_sendme (s_relay_t *r, s_rcirc_t *c, const fb_tor_relay_t *relay) {
    uint8_t tag[20];
    bool has_tag = false;
    fb_err_t err;
    if (fb_tor_cell_sendme_decode (relay->data, relay->length, tag, &has_tag, &err) != 0) {
        s_bad_cell (r, c);
        return;
    }
    if (relay->stream_id == 0) {
        if (!has_tag || c->ntags == 0 || memcmp (tag, c->tags[c->tag_head], 20) != 0) {
            s_bad_cell (r, c); /* tor-spec 7.4: an unauthenticated circuit SENDME */
            return;
        }
        c->tag_head = (c->tag_head + 1) % S_TAGS;
        c->ntags--;
        c->package_window += FB_TOR_CIRCWINDOW_INCREMENT;
    } else {
        s_xstream_t *s = s_stream (c, relay->stream_id);
        if (!s)
            return; /* a stream that just ended */
        s->package_window += FB_TOR_STREAMWINDOW_INCREMENT;
    }
    s_produce (r, c);
}

static void s_recognized (s_relay_t *r, s_rcirc_t *c, const fb_tor_cell_t *cell) {
    fb_tor_relay_t relay;
    fb_err_t err;
    if (fb_tor_cell_relay_decode (cell->payload, &relay, &err) != 0) {
        s_bad_cell (r, c);
        return;
    }
    if (!fb_tor_cell_relay_known (relay.command))
        return; /* tor-spec 6.1: dropped, the circuit goes on */
    if (relay.command == FB_TOR_RELAY_EXTEND2) {
        s_extend (r, c, &relay, cell->command == FB_TOR_CELL_RELAY_EARLY);
        return;
    }
    if (c->next) { /* only the last hop is an exit */
        s_bad_cell (r, c);
        return;
    }
    switch (relay.command) {
    case FB_TOR_RELAY_BEGIN:
        s_begin (r, c, &relay);
        break;
    case FB_TOR_RELAY_DATA:
        s_data (r, c, &relay);
        break;
    case FB_TOR_RELAY_SENDME:
        s_sendme (r, c, &relay);
        break;
    case FB_TOR_RELAY_END: {
        s_xstream_t *s = s_stream (c, relay.stream_id);
        if (s)
            s_stream_free (r, c, s);
        break;
    }
    case FB_TOR_RELAY_DROP:
        break;
    default:
        s_bad_cell (r, c);
    }
}

/* ---- cells and links -------------------------------------------------------------------- */

/* A relay cell: going out (from prev) it loses our layer and is ours or passed on; coming back
 * (from next) it gets our layer and goes toward the client. */
static void s_relay_cell (s_relay_t *r, s_rcirc_t *c, fb_tor_link_t *link, fb_tor_cell_t *cell) {
    if (link == c->prev) {
        fb_tor_crypto_dir_crypt (&c->layer.fwd, cell->payload, FB_TOR_PAYLOAD_LEN);
        if (fb_tor_crypto_dir_recognize (&c->layer.fwd, cell->payload, FB_TOR_PAYLOAD_LEN))
            s_recognized (r, c, cell);
        else if (c->next && c->state == R_OPEN) {
            cell->circ_id = c->next_id;
            fb_tor_link_send (c->next, cell);
        } else
            s_bad_cell (r, c); /* the digest matched at no hop */
        return;
    }
    if (c->state != R_OPEN) {
        s_bad_cell (r, c);
        return;
    }
    fb_tor_crypto_dir_crypt (&c->layer.back, cell->payload, FB_TOR_PAYLOAD_LEN);
    cell->circ_id = c->prev_id;
    cell->command = FB_TOR_CELL_RELAY; /* RELAY_EARLY only goes out */
    fb_tor_link_send (c->prev, cell);
}

static uint32_t s_get32 (const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void s_on_cell (void *owner, fb_tor_link_t *link, const uint8_t *bytes) {
    s_relay_t *r = owner;
    atomic_fetch_add_explicit (&r->net->cells_in, 1, memory_order_relaxed);
    fb_tor_cell_t cell;
    fb_err_t err;
    if (!fb_tor_link_user (link)) {
        atomic_fetch_add (&r->net->bad_cells, 1); /* a link we could not take on */
        return;
    }
    if (!fb_tor_cell_known (bytes[4]))
        return; /* tor-spec 3: a command we do not know is dropped */
    s_rcirc_t *c = fb_tor_circmap_get (s_map (link), s_get32 (bytes));
    if (fb_tor_cell_decode (bytes, FB_TOR_CELL_LEN, &cell, &err) != 0) {
        s_bad_cell (r, c);
        return;
    }
    switch (cell.command) {
    case FB_TOR_CELL_CREATE2:
        if (c || cell.circ_id == 0)
            s_bad_cell (r, c);
        else
            s_create (r, link, &cell);
        break;
    case FB_TOR_CELL_CREATED2:
        if (c && link == c->next)
            s_created (r, c, &cell);
        else
            s_bad_cell (r, c);
        break;
    case FB_TOR_CELL_RELAY:
    case FB_TOR_CELL_RELAY_EARLY:
        if (c)
            s_relay_cell (r, c, link, &cell);
        else
            atomic_fetch_add (&r->net->bad_cells, 1);
        break;
    case FB_TOR_CELL_DESTROY:
        if (c)
            s_kill (r, c, cell.payload[0], link);
        break;
    case FB_TOR_CELL_PADDING:
    case FB_TOR_CELL_PADDING_NEGOTIATE:
        break;
    default: /* CREATE, CREATE_FAST (TAP, fast: not offered), NETINFO twice, ... */
        s_bad_cell (r, c);
    }
}

static void s_close_circ (void *arg, uint32_t id, void *value) {
    (void)id;
    s_relay_t *r = arg;
    s_rcirc_t *c = value;
    s_kill (r, c, FB_TOR_DESTROY_CHANNEL_CLOSED, NULL); /* the dead link refuses its DESTROY */
}

static void s_on_link (void *owner, fb_tor_link_t *link, fb_tor_link_event_t event,
                       const fb_err_t *err) {
    (void)err;
    s_relay_t *r = owner;
    s_rlink_t *rl = fb_tor_link_user (link);
    if (event == FB_TOR_LINK_OPENED) {
        if (!rl) { /* an inbound link: its map is made now */
            rl = calloc (1, sizeof *rl);
            if (rl && !(rl->map = fb_tor_circmap_new ())) {
                free (rl);
                rl = NULL;
            }
            if (rl)
                rl->peer = -1;
            fb_tor_link_set_user (link, rl); /* NULL: cells on it are refused below */
            return;
        }
        for (s_rcirc_t *c = r->waiting, *next; c; c = next) {
            next = c->waiting_next;
            if (c->target == rl->peer) {
                s_unwait (r, c);
                s_send_create (r, c, link);
            }
        }
        return;
    }
    if (!rl)
        return;
    if (rl->peer >= 0) {
        r->out[rl->peer] = NULL;
        for (s_rcirc_t *c = r->waiting, *next; c; c = next) {
            next = c->waiting_next;
            if (c->target == rl->peer)
                s_kill (r, c, FB_TOR_DESTROY_CONNECTFAILED, NULL);
        }
    }
    fb_tor_circmap_each (rl->map, s_close_circ, r);
    fb_tor_circmap_destroy (&rl->map);
    free (rl);
    fb_tor_link_set_user (link, NULL);
}

/* ---- relays and the network ------------------------------------------------------------- */

static void *s_relay_main (void *arg) {
    s_relay_t *r = arg;
    /* A peer that closed while we write must be an EPIPE, not a SIGPIPE that ends the agent:
     * every write to our sockets happens on this thread, so blocking it here is enough. */
    sigset_t pipe;
    sigemptyset (&pipe);
    sigaddset (&pipe, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe, NULL);
    while (!atomic_load (&r->net->stop))
        fb_tor_link_loop_run_once (r->loop, 200 * FB_NS_PER_MS);
    return NULL;
}

static int s_listen (uint16_t *port, fb_err_t *err) {
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (S_LOCALHOST)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind (fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen (fd, 128) != 0 ||
        getsockname (fd, (struct sockaddr *)&sa, &len) != 0) {
        fb_err_set (err, FB_ESYS, "tor: cannot listen on 127.0.0.1: %s", strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    *port = ntohs (sa.sin_port);
    return fd;
}

static int s_relay_init (fb_tor_relay_net_t *net, int index, fb_err_t *err) {
    s_relay_t *r = &net->relays[index];
    fb_tor_relay_info_t *info = &net->info[index];
    r->net = net;
    r->index = index;
    r->rng = 0x2545f4914f6cdd1dULL * (uint64_t)(index + 1);
    r->out = calloc ((size_t)net->n, sizeof *r->out);
    if (!r->out)
        return fb_err_set (err, FB_ENOMEM, "tor: out of memory for relay %d", index);
    if (!(r->server_ctx = fb_tor_link_tls_server_ctx (index, info->id, err)))
        return -1;
    if (!(r->onion = fb_tor_crypto_onion_key_new (info->id, NULL, err)))
        return -1;
    memcpy (info->onion_key, fb_tor_crypto_onion_key_public (r->onion), FB_TOR_KEY_LEN);
    info->exit = true;
    if (!(r->loop = fb_tor_link_loop_new (net->delay_ns, s_on_cell, s_on_link, r, err)))
        return -1;
    fb_tor_link_loop_set_nagle (r->loop, net->nagle);
    int fd = s_listen (&info->port, err);
    if (fd < 0)
        return -1;
    fb_tor_link_loop_listen (r->loop, fd, r->server_ctx);
    return 0;
}

fb_tor_relay_net_t *fb_tor_relay_net_new (int relays, int64_t hop_rtt_ns, fb_err_t *err) {
    return fb_tor_relay_net_new_with (relays, hop_rtt_ns, false, err);
}

fb_tor_relay_net_t *fb_tor_relay_net_new_with (int relays, int64_t hop_rtt_ns, bool nagle,
                                               fb_err_t *err) {
    fb_tor_relay_net_t *self = calloc (1, sizeof *self);
    if (!self || relays < 2) {
        free (self);
        fb_err_set (err, self ? FB_EINPUT : FB_ENOMEM, "tor: a network needs 2 relays or more");
        return NULL;
    }
    self->n = relays;
    self->nagle = nagle;
    self->delay_ns = hop_rtt_ns / 2;
    self->relays = calloc ((size_t)relays, sizeof *self->relays);
    self->info = calloc ((size_t)relays, sizeof *self->info);
    if (!self->relays || !self->info) {
        fb_err_set (err, FB_ENOMEM, "tor: out of memory for %d relays", relays);
        goto fail;
    }
    if (!(self->client_ctx = fb_tor_link_tls_client_ctx (err)))
        goto fail;
    for (int i = 0; i < relays; i++)
        if (s_relay_init (self, i, err) != 0)
            goto fail;
    for (int i = 0; i < relays; i++) {
        int rc = pthread_create (&self->relays[i].thread, NULL, s_relay_main, &self->relays[i]);
        if (rc != 0) {
            fb_err_set (err, FB_ESYS, "tor: cannot start relay thread %d: %s", i, strerror (rc));
            goto fail;
        }
        self->relays[i].started = true;
    }
    return self;
fail:
    fb_tor_relay_net_destroy (&self);
    return NULL;
}

void fb_tor_relay_net_destroy (fb_tor_relay_net_t **self_p) {
    fb_tor_relay_net_t *self = *self_p;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    for (int i = 0; self->relays && i < self->n; i++) {
        s_relay_t *r = &self->relays[i];
        if (r->started) {
            fb_tor_link_loop_wake (r->loop);
            pthread_join (r->thread, NULL);
        }
    }
    for (int i = 0; self->relays && i < self->n; i++) {
        s_relay_t *r = &self->relays[i];
        fb_tor_link_loop_destroy (&r->loop);
        fb_tor_crypto_onion_key_destroy (&r->onion);
        SSL_CTX_free (r->server_ctx);
        free (r->out);
    }
    SSL_CTX_free (self->client_ctx);
    free (self->relays);
    free (self->info);
    free (self);
    *self_p = NULL;
}

int fb_tor_relay_net_size (const fb_tor_relay_net_t *self) { return self->n; }

const fb_tor_relay_info_t *fb_tor_relay_net_relay (const fb_tor_relay_net_t *self, int index) {
    return index >= 0 && index < self->n ? &self->info[index] : NULL;
}

void fb_tor_relay_net_stats (const fb_tor_relay_net_t *self, fb_tor_relay_net_stats_t *stats) {
    fb_tor_relay_net_t *net =
        (fb_tor_relay_net_t *)self; /* atomics: loads do not change the network */
    stats->bad_cells = atomic_load (&net->bad_cells);
    stats->circuits_created = atomic_load (&net->circuits_created);
    stats->crypto_ns = atomic_load (&net->crypto_ns);
    stats->sendme_stalls = atomic_load (&net->sendme_stalls);
    stats->exit_streams = atomic_load (&net->exit_streams);
    stats->cells_in = atomic_load (&net->cells_in);
}

/* tor_relay.h: a small Tor network on loopback for the model mode. N relays, each a thread
 * with its own TLS listener (self-signed certificate made at setup), identity and ntor onion
 * key. A relay answers CREATE2, peels its onion layer off cells going out and adds it to cells
 * coming back, extends circuits over its own TLS links to other relays (EXTEND2), and as the
 * last hop is an exit to one destination: a sink it serves itself (no socket per stream). */
#ifndef FB_TOR_RELAY_H
#define FB_TOR_RELAY_H

#include "common/err.h"
#include "workloads/tor/wire/tor_crypto.h"
#include "workloads/tor/wire/tor_exchange.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

/* Flow control (tor-spec 7.3, 7.4). */
#define FB_TOR_CIRCWINDOW_START 1000
#define FB_TOR_CIRCWINDOW_INCREMENT 100
#define FB_TOR_STREAMWINDOW_START 500
#define FB_TOR_STREAMWINDOW_INCREMENT 50

typedef struct fb_tor_relay_net fb_tor_relay_net_t;

/* What a client needs to know of a relay (a consensus entry, in short). */
typedef struct {
    uint16_t port; /* OR port on 127.0.0.1 */
    uint8_t id[FB_TOR_ID_LEN];
    uint8_t onion_key[FB_TOR_KEY_LEN];
    bool exit; /* may be a circuit's last hop for streams (every model relay is) */
} fb_tor_relay_info_t;

/* Totals since the network started; read with fb_tor_relay_net_stats. */
typedef struct {
    int64_t bad_cells;        /* cells a relay refused: the circuit they came on was ended */
    int64_t circuits_created; /* CREATE2 answered */
    int64_t crypto_ns;        /* thread CPU time of relays' ntor and key setup */
    int64_t sendme_stalls;    /* an exit had response bytes but a window of 0 */
    int64_t exit_streams;     /* streams open at exits now */
    int64_t cells_in;         /* fixed cells relays received */
} fb_tor_relay_net_stats_t;

/* Starts relays threads on loopback; hop_rtt_ns is each link's round trip (a cell waits half
 * of it at the receiving end). */
fb_tor_relay_net_t *fb_tor_relay_net_new (int relays, int64_t hop_rtt_ns, fb_err_t *err);
/* The same; nagle: every link's socket leaves Nagle's algorithm on, as tor's do (by default
 * TCP_NODELAY is set). */
fb_tor_relay_net_t *fb_tor_relay_net_new_with (int relays, int64_t hop_rtt_ns, bool nagle,
                                               fb_err_t *err);
/* Stops every relay, joins the threads, closes every link and socket. */
void fb_tor_relay_net_destroy (fb_tor_relay_net_t **self_p);
int fb_tor_relay_net_size (const fb_tor_relay_net_t *self);
const fb_tor_relay_info_t *fb_tor_relay_net_relay (const fb_tor_relay_net_t *self, int index);
void fb_tor_relay_net_stats (const fb_tor_relay_net_t *self, fb_tor_relay_net_stats_t *stats);

#endif

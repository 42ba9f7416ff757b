/* tor_link.h: Tor links (TLS connections carrying cells) and the poll loop that owns them.
 * One thread owns a loop and every link in it: nothing here locks. A link does its TLS
 * handshake and the Tor link handshake (VERSIONS, then NETINFO both ways: tor-spec 4) by
 * itself; the owner sees only cells of an open link. hop_rtt is modelled here: a cell read from
 * a link is handed to the owner delay_ns after it arrived (one way of the link). */
#ifndef FB_TOR_LINK_H
#define FB_TOR_LINK_H

#include "common/err.h"
#include "workloads/tor/model/tor_circmap.h"
#include "workloads/tor/wire/tor_cell.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct fb_tor_link fb_tor_link_t;
typedef struct fb_tor_loop fb_tor_loop_t;

typedef enum { FB_TOR_LINK_OPENED, FB_TOR_LINK_CLOSED } fb_tor_link_event_t;

/* A fixed-length cell from an open link (already delayed); bytes are FB_TOR_CELL_LEN long. */
typedef void (fb_tor_on_cell_fn) (void *owner, fb_tor_link_t *link, const uint8_t *bytes);
/* OPENED: the link handshake finished. CLOSED: the link is going away (after this call the
 * pointer is invalid); err says why. */
typedef void (fb_tor_on_link_fn) (void *owner, fb_tor_link_t *link, fb_tor_link_event_t event,
                                  const fb_err_t *err);

fb_tor_loop_t *fb_tor_link_loop_new (int64_t delay_ns, fb_tor_on_cell_fn *on_cell,
                                     fb_tor_on_link_fn *on_link, void *owner, fb_err_t *err);
/* Closes every link (each gets its CLOSED callback first) and the listener. */
void fb_tor_link_loop_destroy (fb_tor_loop_t **self_p);
/* A client's loop: links it makes send NETINFO with time 0, as tor-spec 4.5 asks of clients
 * (relays send their clock). Set before the first link. */
void fb_tor_link_loop_set_client (fb_tor_loop_t *self, bool client);
/* Leave Nagle's algorithm on for links made after this (tor never sets TCP_NODELAY on its
 * sockets); by default it is off. */
void fb_tor_link_loop_set_nagle (fb_tor_loop_t *self, bool nagle);
/* Accept TLS links on listen_fd (a listening socket the loop now owns) with ctx. */
void fb_tor_link_loop_listen (fb_tor_loop_t *self, int listen_fd, SSL_CTX *ctx);
/* A new link to 127.0.0.1:port (non-blocking connect, the loop drives the handshakes). */
fb_tor_link_t *fb_tor_link_loop_connect (fb_tor_loop_t *self, uint16_t port, SSL_CTX *ctx,
                                         fb_err_t *err);
/* Waits up to timeout_ns (or until fb_tor_link_loop_wake) for I/O, then reads, hands out due cells
 * and writes what the callbacks queued. */
void fb_tor_link_loop_run_once (fb_tor_loop_t *self, int64_t timeout_ns);
/* Any thread: makes a waiting fb_tor_link_loop_run_once return. */
void fb_tor_link_loop_wake (fb_tor_loop_t *self);
/* Links alive in the loop. */
int fb_tor_link_loop_links (const fb_tor_loop_t *self);

/* Queues a fixed cell on an open link; false when the link cannot take it (closing). */
bool fb_tor_link_send (fb_tor_link_t *self, const fb_tor_cell_t *cell);
/* Queues raw bytes (tests: malformed cells). */
bool fb_tor_link_send_raw (fb_tor_link_t *self, const uint8_t *bytes, size_t len);
bool fb_tor_link_is_open (const fb_tor_link_t *self);
bool fb_tor_link_is_initiator (const fb_tor_link_t *self);
/* Bytes queued and not yet written: owners use it to stop producing into a slow link. */
size_t fb_tor_link_queued (const fb_tor_link_t *self);
void fb_tor_link_set_user (fb_tor_link_t *self, void *user);
void *fb_tor_link_user (const fb_tor_link_t *self);

/* Self-signed TLS certificate and key for a relay, and the relay identity (SHA-1 of the DER
 * public key, as tor's identity digest is of its identity key). */
SSL_CTX *fb_tor_link_tls_server_ctx (int index, uint8_t id[FB_TOR_ID_LEN], fb_err_t *err);
SSL_CTX *fb_tor_link_tls_client_ctx (fb_err_t *err);

#endif

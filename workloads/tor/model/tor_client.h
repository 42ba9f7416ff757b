/* tor_client.h: a Tor client for the model network. One thread owns the client's links (one
 * TLS link per first hop, shared by every circuit through it, as tor does), builds circuits
 * hop by hop (CREATE2, then EXTEND2 in RELAY_EARLY cells), opens streams (BEGIN/CONNECTED),
 * moves request and response bytes in RELAY_DATA cells under SENDME flow control, and ends
 * streams and circuits (END, DESTROY). Any thread may call the functions below: each hands a
 * request to the client's thread and waits for its answer. */
#ifndef FB_TOR_CLIENT_H
#define FB_TOR_CLIENT_H

#include "common/err.h"
#include "workloads/tor/model/tor_relay.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_TOR_MAX_HOPS 8

typedef struct fb_tor_client fb_tor_client_t;
typedef struct fb_tor_circ fb_tor_circ_t;
typedef struct fb_tor_stream fb_tor_stream_t;

/* How one circuit was built. */
typedef struct {
    int hops;
    int64_t build_ns;                /* first CREATE2 queued -> last reply handled */
    int64_t hop_ns[FB_TOR_MAX_HOPS]; /* per hop: its CREATE2 or EXTEND2 queued -> reply handled */
    int64_t crypto_ns;               /* client thread CPU in ntor and key setup for the circuit */
} fb_tor_build_t;

/* Totals since the client started. */
typedef struct {
    int64_t bad_cells;     /* cells the client refused (their circuit was ended) */
    int64_t sendme_stalls; /* a stream had request bytes but a window of 0 */
    int64_t streams_open;  /* streams open now (CONNECTED and not ended) */
    int64_t streams_peak;  /* the most open at once since the last fb_tor_client_reset_peak */
    int64_t circuits_open; /* circuits built and alive now */
} fb_tor_client_stats_t;

/* Odd cells for tests: the first and third end their circuit at a relay; the others, with
 * commands a relay does not know, are dropped there (tor-spec 3, 6.1). */
typedef enum {
    FB_TOR_FAULT_BAD_DIGEST,            /* a relay cell whose digest matches at no hop */
    FB_TOR_FAULT_UNKNOWN_COMMAND,       /* a 514-byte cell with command 77 */
    FB_TOR_FAULT_BAD_LENGTH,            /* a recognized relay cell whose length field says 499 */
    FB_TOR_FAULT_UNKNOWN_RELAY_COMMAND, /* a relay cell to the exit with relay command 200 */
} fb_tor_fault_t;

/* What a client knows and how it behaves. */
typedef struct {
    const fb_tor_relay_info_t *relays; /* [n], copied: the model's relays or real tor relays */
    int n;
    int64_t hop_rtt_ns; /* the model's link round trip; the client waits half of it on every
                           cell it receives, as each relay does */
    uint16_t sink_port; /* streams BEGIN 127.0.0.1:sink_port; 0: FB_TOR_SINK_PORT (model exits) */
    bool nagle;         /* leave Nagle's algorithm on on the client's links, as tor does */
} fb_tor_client_config_t;

fb_tor_client_t *fb_tor_client_new_config (const fb_tor_client_config_t *config, fb_err_t *err);
/* A client of the model network net, with hop_rtt_ns as above. */
fb_tor_client_t *fb_tor_client_new (fb_tor_relay_net_t *net, int64_t hop_rtt_ns, fb_err_t *err);
/* Stops the client's thread and frees every circuit and stream, handles included. */
void fb_tor_client_destroy (fb_tor_client_t **self_p);

/* Builds a circuit of hops distinct relays chosen with seed; the last is an exit (a relay whose
 * info says exit). */
int fb_tor_client_build (fb_tor_client_t *self, int hops, uint64_t seed, int64_t timeout_ns,
                         fb_tor_circ_t **circ_p, fb_tor_build_t *build, fb_err_t *err);
/* DESTROY (when still alive) and frees the circuit and any stream left on it. */
void fb_tor_client_close (fb_tor_client_t *self, fb_tor_circ_t **circ_p);
bool fb_tor_client_alive (fb_tor_client_t *self, fb_tor_circ_t *circ);

/* BEGIN to the exit's sink; open_ns: BEGIN queued -> CONNECTED handled. */
int fb_tor_client_open_stream (fb_tor_client_t *self, fb_tor_circ_t *circ, int64_t timeout_ns,
                               fb_tor_stream_t **stream_p, int64_t *open_ns, fb_err_t *err);
/* Sends request bytes (at least FB_TOR_SINK_HEADER_LEN) and reads the response bytes. */
int fb_tor_client_exchange (fb_tor_client_t *self, fb_tor_stream_t *stream, uint32_t request,
                            uint32_t response, int64_t timeout_ns, fb_tor_xfer_t *xfer,
                            fb_err_t *err);
/* END (when still open) and frees the stream. */
void fb_tor_client_close_stream (fb_tor_client_t *self, fb_tor_stream_t **stream_p);

/* Asynchronous calls, for a thread that keeps many opens and exchanges in flight: it starts
 * them and hears of each end through notify, called on the client's thread (it must only
 * record the end and wake the caller, never call into the client or take a lock the caller
 * holds while it destroys the client). A call is one in flight at a time; it may be started
 * again once notified. Closing a stream fails the call in flight on it. Destroying the client
 * fails (and notifies, on the destroying thread) the calls it had taken up, while calls still
 * queued are never notified; every stream is gone then. Destroy calls after the client. */
typedef struct fb_tor_req fb_tor_call_t;
typedef void (fb_tor_notify_fn) (fb_tor_call_t *call, void *arg);

/* NULL when out of memory. */
fb_tor_call_t *fb_tor_client_call_new (fb_tor_notify_fn *notify, void *arg);
void fb_tor_client_call_destroy (fb_tor_call_t **call_p);
/* fb_tor_client_open_stream, started: its stream and open_ns come from the result. */
void fb_tor_client_open_stream_start (fb_tor_client_t *self, fb_tor_call_t *call,
                                      fb_tor_circ_t *circ, int64_t timeout_ns);
/* fb_tor_client_exchange, started. */
void fb_tor_client_exchange_start (fb_tor_client_t *self, fb_tor_call_t *call,
                                   fb_tor_stream_t *stream, uint32_t request, uint32_t response,
                                   int64_t timeout_ns);
/* Once notified: 0, or -1 with err; what the call made (an open's stream, even a failed one:
 * the caller closes it; open_ns; an exchange's xfer). Any pointer may be NULL. */
int fb_tor_client_call_result (const fb_tor_call_t *call, fb_tor_stream_t **stream_p,
                               int64_t *open_ns, fb_tor_xfer_t *xfer, fb_err_t *err);

/* Sends one bad cell on circ (tests). */
int fb_tor_client_inject (fb_tor_client_t *self, fb_tor_circ_t *circ, fb_tor_fault_t fault,
                          fb_err_t *err);
void fb_tor_client_stats (const fb_tor_client_t *self, fb_tor_client_stats_t *stats);
/* Starts a new peak of open streams from the number open now. */
void fb_tor_client_reset_peak (fb_tor_client_t *self);

#endif

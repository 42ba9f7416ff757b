/* tor_socks.h: streams through a tor client's SOCKS port (RFC 1928 CONNECT with RFC 1929
 * username/password) to the loopback sink (tor_sink.h), which speaks the model's request
 * format (workloads/tor/wire/tor_exchange.h). A stream carries any number of exchanges. Every
 * step runs without blocking: a loop (one per runner thread) moves many streams at once with
 * epoll, as wrk moves connections, and hands back the streams whose step ended. */
#ifndef FB_TOR_SOCKS_H
#define FB_TOR_SOCKS_H

#include "common/err.h"
#include "workloads/tor/wire/tor_exchange.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_tor_socks_loop fb_tor_socks_loop_t;

/* One stream. The caller owns it and fills id; the rest is the loop's. */
typedef struct {
    int id;
    /* How its last step went, once the loop handed it back. An open's open_ns runs from the
     * CONNECT request sent to tor's success reply: the BEGIN/CONNECTED round trip (and a
     * circuit's build when tor had none ready). */
    fb_tor_step_t step;
    /* the loop's */
    int fd, state, busy_at;
    bool queued;
    int64_t deadline_ns, t0_ns, first_ns;
    uint8_t out[3 + 2 + 255 + 2 + 10]; /* greeting, auth, CONNECT; or an exchange's header */
    size_t out_off, out_len, auth_len; /* the window being sent */
    uint32_t request, filler_left;     /* request bytes to send after out */
    uint8_t in[4 + 1 + 255 + 2];       /* a reply being read */
    size_t in_need, in_got;
    uint32_t response, got; /* an exchange's response: its length, bytes checked */
} fb_tor_socks_conn_t;

/* A loop for up to capacity streams. */
fb_tor_socks_loop_t *fb_tor_socks_loop_new (int capacity, fb_err_t *err);
/* Closes nothing: the caller closes its streams first. */
void fb_tor_socks_loop_destroy (fb_tor_socks_loop_t **self_p);

/* Starts opening conn (closed) to 127.0.0.1:dest_port through the SOCKS port. tor puts streams
 * of different usernames on different circuits (IsolateSOCKSAuth). -1: it failed at once. */
int fb_tor_socks_open_start (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *conn,
                             uint16_t socks_port, const char *username, uint16_t dest_port,
                             int64_t timeout_ns, fb_err_t *err);
/* Starts one exchange on open conn: request bytes out (at least FB_TOR_SINK_HEADER_LEN), the
 * response bytes back, each checked. */
int fb_tor_socks_exchange_start (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *conn,
                                 uint32_t request, uint32_t response, int64_t timeout_ns,
                                 fb_err_t *err);
/* Closes conn; a step in flight then ends, failed, at the next poll. */
void fb_tor_socks_close (fb_tor_socks_loop_t *self, fb_tor_socks_conn_t *conn);
/* Moves the streams until one's step ended or until_ns passed (at once when it has); fills
 * ended with up to max of them and returns how many. A step past its timeout ends failed. */
int fb_tor_socks_loop_poll (fb_tor_socks_loop_t *self, int64_t until_ns,
                            fb_tor_socks_conn_t **ended, int max);

#endif

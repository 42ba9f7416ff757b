/* tor_control.h: a client of tor's control port (control-spec.txt) for the tor mode, and the
 * tor.circuit workload in that mode. One connection is one synchronous conversation: a
 * command, then its reply; asynchronous events (650 lines) met while reading are kept, so a
 * CIRC event that comes before the reply naming its circuit is not lost. One thread uses a
 * connection at a time. */
#ifndef FB_TOR_CONTROL_H
#define FB_TOR_CONTROL_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest path fb_tor_control_build takes. */
#define FB_TOR_CONTROL_MAX_HOPS 16

typedef struct fb_tor_control fb_tor_control_t;

/* Connects to 127.0.0.1:port and authenticates with the 32-byte cookie in cookie_path
 * (CookieAuthentication 1). */
fb_tor_control_t *fb_tor_control_new (uint16_t port, const char *cookie_path, int64_t timeout_ns,
                                      fb_err_t *err);
void fb_tor_control_destroy (fb_tor_control_t **self_p);
/* False once a reply was cut by a timeout or the connection failed: the conversation is out
 * of step and the connection must be replaced. */
bool fb_tor_control_usable (const fb_tor_control_t *self);

/* Sends one command line and reads its reply. Returns the reply's status code (250 for
 * success) or -1 when the connection failed; reply (may be NULL) gets the reply's lines, one
 * per line, status codes and data lines included. */
int fb_tor_control_command (fb_tor_control_t *self, const char *command, char *reply,
                            size_t reply_len, int64_t timeout_ns, fb_err_t *err);
/* GETINFO key: value gets what follows "key=" (the first line of it). */
int fb_tor_control_getinfo (fb_tor_control_t *self, const char *key, char *value, size_t value_len,
                            int64_t timeout_ns, fb_err_t *err);

/* SETEVENTS CIRC: needed before fb_tor_control_build. */
int fb_tor_control_watch_circuits (fb_tor_control_t *self, int64_t timeout_ns, fb_err_t *err);
/* EXTENDCIRCUIT 0 $fp,...; waits for its CIRC BUILT (0) or FAILED/CLOSED (-1). build_ns: the
 * command sent -> the BUILT event read. circ_id is set as soon as tor names the circuit (0
 * before), so that the caller can close it after a timeout. */
int fb_tor_control_build (fb_tor_control_t *self, const char *const *fingerprints, int hops,
                          int64_t timeout_ns, uint32_t *circ_id, int64_t *build_ns, fb_err_t *err);
/* CLOSECIRCUIT id; a circuit tor already closed is not an error. */
int fb_tor_control_close_circuit (fb_tor_control_t *self, uint32_t circ_id, int64_t timeout_ns,
                                  fb_err_t *err);

#endif

/* tor_client_stream.h: streams on the model client's circuits (tor_client_stream.c), driven
 * by the client's thread (tor_client.c). */
#ifndef FB_TOR_CLIENT_STREAM_H
#define FB_TOR_CLIENT_STREAM_H

#include "workloads/tor/model/tor_client_circ.h"

void fb_tor_client_stream_open (fb_tor_client_t *self, fb_tor_req_t *req);
void fb_tor_client_stream_exchange (fb_tor_client_t *self, fb_tor_req_t *req);
void fb_tor_client_stream_close (fb_tor_client_t *self, fb_tor_req_t *req);
/* A relay cell from the exit; rejects it (bad cell) when it breaks the protocol. */
void fb_tor_client_stream_on_relay (fb_tor_client_t *self, fb_tor_circ_t *circ,
                                    const fb_tor_relay_t *relay);

#endif

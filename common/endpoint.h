/* endpoint.h: ZeroMQ endpoint checks shared by coordinator and agent. */
#ifndef FB_ENDPOINT_H
#define FB_ENDPOINT_H

#include "common/err.h"

#include <stdbool.h>

/* True when endpoint binds or connects only to loopback (127.0.0.0/8, localhost, ::1). */
bool fb_endpoint_is_loopback (const char *endpoint);
/* The port of a tcp:// endpoint into *port: 1..65535, or 0 for "0" and "*" (the system picks
 * one when binding). -1 and err for anything else, which ZeroMQ would otherwise truncate to 16
 * bits (71357 became 5821). Endpoints of other transports have no port: 0, *port = -1. */
int fb_endpoint_port (const char *endpoint, int *port, fb_err_t *err);

#endif

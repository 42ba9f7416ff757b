/* endpoint.h: ZeroMQ endpoint checks shared by coordinator and agent. */
#ifndef FB_ENDPOINT_H
#define FB_ENDPOINT_H

#include <stdbool.h>

/* True when endpoint binds or connects only to loopback (127.0.0.0/8, localhost, ::1). */
bool fb_endpoint_is_loopback (const char *endpoint);

#endif

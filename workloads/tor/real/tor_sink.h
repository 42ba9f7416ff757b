/* tor_sink.h: the loopback server that streams through real tor reach; it answers each
 * request (workloads/tor/wire/tor_exchange.h) with the response bytes it asks for. */
#ifndef FB_TOR_SINK_H
#define FB_TOR_SINK_H

#include "common/err.h"

#include <stdint.h>

typedef struct fb_tor_sink fb_tor_sink_t;

/* A thread serving the sink on 127.0.0.1 (a port the kernel picks). */
fb_tor_sink_t *fb_tor_sink_new (fb_err_t *err);
/* Stops the thread, closes every connection. */
void fb_tor_sink_destroy (fb_tor_sink_t **self_p);
uint16_t fb_tor_sink_port (const fb_tor_sink_t *self);

#endif

/* tor_interop.h: mode interop of tor.circuit and tor.stream: our model client (model/) through
 * real tor relays (real/). Setup starts the private network of mode tor, reads every relay's
 * identity and its published ntor onion key (the client tor's microdescriptor of it, on the
 * control port), starts the loopback sink, and makes a model client that knows those relays and
 * BEGINs to that sink. The client then speaks the link handshake, CREATE2 (ntor), EXTEND2,
 * relay cells and SENDMEs with tor itself. The three authorities relay but do not exit: a
 * circuit's last hop is always one of the exits. */
#ifndef FB_TOR_INTEROP_H
#define FB_TOR_INTEROP_H

#include "common/err.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/real/tor_privnet.h"
#include "workloads/workload.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct fb_tor_interop fb_tor_interop_t;

/* The plan check of mode interop: tor installed, relays in the private network's range, no
 * hop_rtt (real relays add none). */
int fb_tor_interop_check (const fb_params_t *params, fb_err_t *err);

/* What a client needs of every relay of net (fb_tor_privnet_size entries): OR port, identity,
 * exit or not, and the ntor onion key its microdescriptor publishes, read on net's control port. */
int fb_tor_interop_directory (const fb_tor_privnet_t *net, fb_tor_relay_info_t *relays,
                              fb_err_t *err);

/* Starts the network (fb_tor_privnet_new: call on a thread that outlives it), the sink and the
 * client. nagle: the client's links leave Nagle's algorithm on, as tor's do. */
fb_tor_interop_t *fb_tor_interop_new (int relays, int64_t bootstrap_timeout_ns, bool nagle,
                                      const char *label, fb_err_t *err);
/* The client first, then the sink, then every tor process. */
void fb_tor_interop_destroy (fb_tor_interop_t **self_p);
fb_tor_client_t *fb_tor_interop_client (const fb_tor_interop_t *self);
/* VmRSS summed over every tor of the network (relays and the idle client tor), in bytes. */
int64_t fb_tor_interop_network_rss (const fb_tor_interop_t *self);

#endif

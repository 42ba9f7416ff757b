/* tor_privnet.h: a private Tor network of real tor processes on loopback, for the tor mode of
 * tor.circuit and tor.stream. In a temp folder: three directory authorities (keys made with
 * tor-gencert) that are also relays, exits (ExitPolicy accept *:*) for the rest of the relays,
 * and one client with a SOCKS port and a control port, every torrc with TestingTorNetwork 1,
 * our own DirAuthority lines only and 127.0.0.1 addresses. No tor process ever learns of the
 * public network. Symbols are fb_tornet_*: fb_tor_net_* is the model's network (tor_relay.h).
 *
 * Each tor runs in its own process group with PR_SET_PDEATHSIG: the kernel kills it when the
 * thread that called fb_tor_privnet_new ends, so create and destroy a network on one thread that
 * outlives it (the runner's). */
#ifndef FB_TOR_PRIVNET_H
#define FB_TOR_PRIVNET_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_TOR_PRIVNET_AUTHORITIES 3
#define FB_TOR_PRIVNET_MIN_RELAYS 4 /* the authorities and one exit */
#define FB_TOR_PRIVNET_MAX_RELAYS 16

typedef struct fb_tor_privnet fb_tor_privnet_t;

typedef struct {
    char nickname[20];
    char fingerprint[41]; /* RSA identity digest in hex: what EXTENDCIRCUIT paths name */
    uint16_t or_port;
    bool authority, exit;
} fb_tor_privnet_relay_t;

/* From /proc/<pid>/status, in bytes. */
typedef struct {
    int64_t client_rss;  /* VmRSS of the client tor */
    int64_t client_hwm;  /* VmHWM of the client tor: its peak since it started */
    int64_t network_rss; /* VmRSS summed over every tor of the network, client included */
} fb_tor_privnet_memory_t;

/* Finds tor and tor-gencert on PATH, else in /usr/bin or /usr/sbin. When one is missing, the
 * error says to install Debian's tor package. */
int fb_tor_privnet_find_binaries (char *tor, char *gencert, size_t len, fb_err_t *err);

/* The plan check of mode tor: both binaries found and relays in range. */
int fb_tor_privnet_check (int relays, fb_err_t *err);

/* Builds and starts a network of relays relays
 * (FB_TOR_PRIVNET_MIN_RELAYS..FB_TOR_PRIVNET_MAX_RELAYS) and waits until the client has
 * bootstrapped and knows every relay, printing a progress line on stderr every few seconds prefixed
 * with label. Fails after bootstrap_timeout_ns with the client's last bootstrap phase; nothing is
 * left running on failure. */
fb_tor_privnet_t *fb_tor_privnet_new (int relays, int64_t bootstrap_timeout_ns, const char *label,
                                      fb_err_t *err);
/* SIGTERM to every tor's process group, SIGKILL to those still there after a few seconds,
 * waits for every one, removes the temp folder. */
void fb_tor_privnet_destroy (fb_tor_privnet_t **self_p);

int fb_tor_privnet_size (const fb_tor_privnet_t *self);
const fb_tor_privnet_relay_t *fb_tor_privnet_relay (const fb_tor_privnet_t *self, int index);
uint16_t fb_tor_privnet_socks_port (const fb_tor_privnet_t *self);
uint16_t fb_tor_privnet_control_port (const fb_tor_privnet_t *self);
const char *fb_tor_privnet_cookie_path (const fb_tor_privnet_t *self);
const char *fb_tor_privnet_dir (const fb_tor_privnet_t *self);
void fb_tor_privnet_memory (const fb_tor_privnet_t *self, fb_tor_privnet_memory_t *memory);
/* The same as three counters in a row, as both mode-tor workloads list them: tor_rss (the
 * client's VmRSS), tor_hwm (its VmHWM), tor_net_rss (every tor of the network). */
void fb_tor_privnet_memory_counters (const fb_tor_privnet_t *self, int64_t counters[3]);

#endif

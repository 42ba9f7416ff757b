/* netallow.h: the network targets an agent lets its workloads connect to (the http: entries of
 * its --allow file). Each entry is an address, a CIDR block or a host name, with an optional
 * port or port range:
 *
 *     127.0.0.1   10.0.0.0/8   ::1   fd00::/8   localhost
 *     127.0.0.1:8080   127.0.0.0/8:8000-8999   [::1]:443   [fd00::/8]:80-90   localhost:8080
 *
 * No port: every port. A host name is resolved once, when the entry is added, into all its
 * addresses; what it resolves to later does not matter. An IPv4 address matches the IPv4
 * entries in either form (a.b.c.d or ::ffff:a.b.c.d). An empty list matches nothing. */
#ifndef FB_NETALLOW_H
#define FB_NETALLOW_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define FB_NETALLOW_MAX_ENTRIES 256
#define FB_NETALLOW_MAX_ADDRS 32 /* addresses kept of one host name */

typedef struct fb_netallow fb_netallow_t;

/* Resolves a host name into at most max addresses (AF_INET or AF_INET6) in addrs: how many
 * (at least 1), or -1 with a reason in why. */
typedef int fb_netallow_resolve_fn (const char *name, struct sockaddr_storage *addrs, int max,
                                    char *why, size_t why_size);

/* NULL when out of memory. */
fb_netallow_t *fb_netallow_new (void);
void fb_netallow_destroy (fb_netallow_t **self_p);

/* Adds one entry (len bytes of text, need not end in NUL), resolving a host name with resolve
 * (fb_netallow_resolve_system when NULL). -1 with err (FB_EINPUT: a sentence without the
 * position) and *col_p the 0-based byte offset in text where it goes wrong. */
int fb_netallow_add (fb_netallow_t *self, const char *text, size_t len,
                     fb_netallow_resolve_fn *resolve, int *col_p, fb_err_t *err);
/* True when addr (AF_INET or AF_INET6; its own port is ignored) with port is inside an entry.
 * self may be NULL (nothing matches). Safe from any number of threads. */
bool fb_netallow_match (const fb_netallow_t *self, const struct sockaddr *addr, int port);
/* The entries as written, "127.0.0.0/8:8000-8999, ::1" (cut with "..."), "none" when there is
 * none; returns buf. self may be NULL. */
const char *fb_netallow_names (const fb_netallow_t *self, char *buf, size_t size);
/* Entries added. */
int fb_netallow_count (const fb_netallow_t *self);

/* getaddrinfo (TCP, both families): what the agent uses. */
int fb_netallow_resolve_system (const char *name, struct sockaddr_storage *addrs, int max,
                                char *why, size_t why_size);

#endif

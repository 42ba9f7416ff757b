/* allow.h: the commands this agent may run and the network targets its workloads may reach
 * (agent --allow FILE). A plan only names an entry; the argv always comes from here, never from
 * the plan. The file is YAML, a mapping of names to argv lists:
 *
 *     sleep-1: [/bin/sleep, "1"]
 *     make:    [make, -C, /srv/app, build]
 *     http:    [127.0.0.1:8080, 10.0.0.0/8:80-90, "[::1]:443", localhost]
 *
 * One entry is built in and always allowed: "fb-child", our helper program, found in the
 * agent's helper folder. Names are 1 to 63 characters of [A-Za-z0-9_.-]. The key "http" is
 * reserved: its list says which addresses and ports workloads may connect to (the forms are in
 * agent/netallow.h); without it they may connect nowhere, so that whoever holds the coordinator's
 * key cannot turn the agents into a flood tool against any host. */
#ifndef FB_ALLOW_H
#define FB_ALLOW_H

#include "agent/netallow.h"
#include "common/err.h"
#include "workloads/workload.h"

#include <stdbool.h>
#include <stddef.h>

#define FB_ALLOW_HELPER FB_WL_HELPER_CHILD
#define FB_ALLOW_MAX_ENTRIES 256
#define FB_ALLOW_MAX_ARGS 64

/* Reads an allow-list file. Errors say path:line:col and what was expected. */
typedef struct fb_allow fb_allow_t;

fb_allow_t *fb_allow_load (const char *path, fb_err_t *err);
/* The same from text in memory (len bytes, need not end in NUL); path is for messages.
 * Any bytes at all give a list or an error, never a crash (fuzzed). */
fb_allow_t *fb_allow_parse (const char *text, size_t len, const char *path, fb_err_t *err);
/* The same, with host names of http: entries resolved by resolve instead of getaddrinfo (tests
 * and the fuzzer, which must not ask DNS). resolve NULL: getaddrinfo. */
fb_allow_t *fb_allow_parse_with_resolver (const char *text, size_t len, const char *path,
                                          fb_netallow_resolve_fn *resolve, fb_err_t *err);
/* Only the built-in fb-child: the agent without --allow. NULL when out of memory. */
fb_allow_t *fb_allow_new_default (void);
void fb_allow_destroy (fb_allow_t **self_p);

/* The argv (NULL-terminated) of name, NULL when name is not allowed. The built-in "fb-child"
 * resolves to helper_dir/fb-child. The strings belong to allow and live as long as it does.
 * Safe from any number of threads. */
const char *const *fb_allow_argv (const fb_allow_t *allow, const char *name,
                                  const char *helper_dir);
/* True when name is allowed (fb-child always is). */
bool fb_allow_has (const fb_allow_t *allow, const char *name);
/* "fb-child, make, sleep-1" into buf (cut with "..." when it does not fit); returns buf. */
const char *fb_allow_names (const fb_allow_t *allow, char *buf, size_t size);
/* True when addr (AF_INET or AF_INET6 sockaddr; its port field is ignored) with port is inside
 * an http: entry. False for a NULL list, the default list and a list without http:. */
bool fb_allow_http (const fb_allow_t *allow, const struct sockaddr *addr, int port);
/* "127.0.0.0/8:8000-8999, ::1" (the http: entries as written, cut with "...") into buf for
 * messages; "none" when there is no entry. Returns buf. */
const char *fb_allow_http_names (const fb_allow_t *allow, char *buf, size_t size);
/* The list as the runner hands it to workloads (fb_wl_env_t.allow); allow may be NULL. */
fb_wl_allow_t fb_allow_for_workloads (const fb_allow_t *allow);

#endif

/* httpd.h: a tiny HTTP/1.1 server on its own thread (a czmq actor) that serves one text, the
 * latest one published, at one path. It exists so that a scraper can read the coordinator's
 * live numbers without ever delaying the coordinator: the coordinator only swaps a pointer
 * under a mutex; every socket is non-blocking; each connection has a bounded buffer and a
 * deadline; a client that sends garbage, too much or too little gets an answer or is dropped. */
#ifndef FB_HTTPD_H
#define FB_HTTPD_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct fb_httpd fb_httpd_t;

/* Connections served at once; more wait in the kernel's backlog. */
#define FB_HTTPD_MAX_CONNECTIONS 32
/* A client has this long from its connection to the end of its request head (else 408). */
#define FB_HTTPD_HEAD_TIMEOUT_MS 2000
/* ... and this long from its connection to reading the whole answer (else it is dropped). */
#define FB_HTTPD_TOTAL_TIMEOUT_MS 10000

/* Listens on listen ("127.0.0.1:9464", "[::1]:0", "localhost:9464"; port 0: the system picks
 * one) and serves GET and HEAD of path with content_type. An address other than loopback is
 * refused unless allow_public. NULL and err (naming the address) when it cannot listen. */
fb_httpd_t *fb_httpd_new (const char *listen, bool allow_public, const char *path,
                          const char *content_type, fb_err_t *err);
/* Stops the thread, closes every connection. */
void fb_httpd_destroy (fb_httpd_t **self_p);
/* The port listened on, and the URL of path there ("http://127.0.0.1:40123/metrics"). */
int fb_httpd_port (const fb_httpd_t *self);
const char *fb_httpd_url (const fb_httpd_t *self);
/* Serves text (len bytes, copied) from now on; requests already answering keep the text they
 * began with. Never blocks on a client. Before the first publish, GET path answers 503. */
int fb_httpd_publish (fb_httpd_t *self, const char *text, size_t len, fb_err_t *err);
/* Splits "host:port" / "[v6]:port" and checks it, without listening (for the command line). */
int fb_httpd_check_address (const char *listen, fb_err_t *err);

#endif

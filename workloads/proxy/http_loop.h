/* http_loop.h: the part of an epoll loop thread that the HTTP origin and proxy share: its epoll
 * set, the eventfd that stops it, and the thread. Each embeds one of these in its own per-loop
 * state (connections, buffers), which it sets up and tears down itself. */
#ifndef FB_HTTP_LOOP_H
#define FB_HTTP_LOOP_H

#include "common/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>

typedef struct {
    int epfd, wakefd; /* -1 until opened */
    pthread_t thread;
    bool started; /* the thread runs: stop must wake and join it */
} fb_http_loop_t;

/* No fds, no thread: stop and close are safe on it from here on. */
void fb_http_loop_init (fb_http_loop_t *self);
/* Creates the epoll set and the eventfd, registered with wake as its epoll data: the loop's
 * thread returns when an event carries wake. Error messages start with prefix. */
int fb_http_loop_open (fb_http_loop_t *self, epoll_data_t wake, const char *prefix, fb_err_t *err);
/* Runs run (arg) on a new thread. */
int fb_http_loop_start (fb_http_loop_t *self, void *(*run) (void *), void *arg, const char *prefix,
                        fb_err_t *err);
/* Wakes the thread and waits for it to return; nothing when it never started. */
void fb_http_loop_stop (fb_http_loop_t *self);
/* Closes the fds (after stop). */
void fb_http_loop_close (fb_http_loop_t *self);

/* Ports tried upward from a base before giving up. */
#define FB_HTTP_PORT_TRIES 200

/* Binds and listens on 127.0.0.1, trying port_base, port_base + 1, ... (ports in use are
 * skipped) up to FB_HTTP_PORT_TRIES of them. Returns the non-blocking listening socket and
 * fills *port; -1 and err when none was free. The origin and the proxy bind this way. */
int fb_http_loop_listen (int port_base, int *port, fb_err_t *err);

#endif

/* peer.h: the peers the benches set our numbers beside, run as child processes on loopback:
 * wrk, h2load (HTTP/1.1 mode) and a Debian nginx as the origin they share. Each peer's CPU
 * time comes from its rusage, so requests per CPU-second compare load generators alone. */
#ifndef FB_BENCH_PEER_H
#define FB_BENCH_PEER_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
    int64_t requests; /* completed, as the peer reports them */
    int64_t cpu_ns;   /* its user + system time */
    double seconds;   /* the measured duration */
    double p99_us;    /* -1 when the peer gives none */
} fb_peer_result_t;

/* wrk -t1 -cC -dS --latency URL. 0, or -1 when wrk is missing or failed. */
int fb_peer_wrk (const char *url, int connections, int seconds, fb_peer_result_t *r);
/* h2load --h1 -t1 -cC -D S URL, with --rps (per connection: rate / C) when rate > 0; its p99
 * from its per-request log (time from each request's actual send to its response's end). */
int fb_peer_h2load (const char *url, int connections, int seconds, double rate,
                    fb_peer_result_t *r);

/* An nginx of its own: one process (master_process off), 127.0.0.1 on a free port, serving
 * /page.html of page_bytes from a temp folder; nothing outside that folder is touched. */
typedef struct {
    pid_t pid;
    int port;
    char dir[64];
} fb_peer_nginx_t;

/* 0 once it accepts connections (within 5 s); -1 with a message on stderr, nothing left
 * running. */
int fb_peer_nginx_start (fb_peer_nginx_t *self, size_t page_bytes);
/* Stops it and removes its folder. */
void fb_peer_nginx_stop (fb_peer_nginx_t *self);

#endif

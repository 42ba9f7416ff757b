/* fb_nodelay.c: an LD_PRELOAD module for bench_tor that sets TCP_NODELAY on every TCP socket a
 * program makes or accepts. tor never sets it on its OR connections; bench_tor starts one private
 * tor network with this module preloaded into every tor to measure how much of tor's circuit
 * build time on loopback is Nagle's algorithm meeting delayed ACKs. Only for that measurement. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void s_nodelay (int fd) {
    int one = 1;
    if (fd >= 0) /* fails harmlessly on anything that is not TCP */
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int socket (int domain, int type, int protocol) {
    int (*real) (int, int, int) = (int (*) (int, int, int))dlsym (RTLD_NEXT, "socket");
    int fd = real (domain, type, protocol);
    if ((domain == AF_INET || domain == AF_INET6) &&
        (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM)
        s_nodelay (fd);
    return fd;
}

int accept (int fd, struct sockaddr *addr, socklen_t *len) {
    int (*real) (int, struct sockaddr *, socklen_t *) =
        (int (*) (int, struct sockaddr *, socklen_t *))dlsym (RTLD_NEXT, "accept");
    int got = real (fd, addr, len);
    s_nodelay (got);
    return got;
}

int accept4 (int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    int (*real) (int, struct sockaddr *, socklen_t *, int) =
        (int (*) (int, struct sockaddr *, socklen_t *, int))dlsym (RTLD_NEXT, "accept4");
    int got = real (fd, addr, len, flags);
    s_nodelay (got);
    return got;
}

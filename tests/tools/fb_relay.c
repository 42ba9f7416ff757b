/* fb_relay.c: a TCP relay for fault tests. Forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET;
 * on SIGUSR1 it cuts every connection and refuses new ones for --cut-ms, like a network
 * that goes away for a moment. Single-threaded, poll(2). Test tool, not part of fleetbench.
 *   fb_relay LISTEN_PORT TARGET_PORT [--cut-ms MS] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_PAIRS 64

static volatile sig_atomic_t s_cut_requested;
static volatile sig_atomic_t s_stop;

static void s_on_usr1 (int sig) {
    (void)sig;
    s_cut_requested = 1;
}
static void s_on_term (int sig) {
    (void)sig;
    s_stop = 1;
}

static long long s_now_ms (void) {
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int s_listen (int port) {
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (bind (fd, (struct sockaddr *)&a, sizeof a) != 0 || listen (fd, 16) != 0) {
        perror ("fb_relay: listen");
        exit (1);
    }
    return fd;
}

static int s_connect (int port) {
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/* pairs[i][0] client side, pairs[i][1] target side; -1 when free. */
static int s_pairs[S_MAX_PAIRS][2];

static void s_close_pair (int i) {
    for (int k = 0; k < 2; k++) {
        if (s_pairs[i][k] >= 0) {
            struct linger lg = {1, 0}; /* RST: the peer sees the link break */
            setsockopt (s_pairs[i][k], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close (s_pairs[i][k]);
        }
        s_pairs[i][k] = -1;
    }
}

static void s_accept (int listen_fd, int target, bool refusing) {
    int c = accept (listen_fd, NULL, NULL);
    if (c < 0)
        return;
    int t = refusing ? -1 : s_connect (target);
    for (int i = 0; t >= 0 && i < S_MAX_PAIRS; i++)
        if (s_pairs[i][0] < 0) {
            s_pairs[i][0] = c;
            s_pairs[i][1] = t;
            return;
        }
    close (c);
    if (t >= 0)
        close (t);
}

static void s_forward (int i, int from_side) {
    char buf[65536];
    ssize_t n = read (s_pairs[i][from_side], buf, sizeof buf);
    if (n <= 0) {
        s_close_pair (i);
        return;
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write (s_pairs[i][1 - from_side], buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s_close_pair (i);
            return;
        }
        off += w;
    }
}

int main (int argc, char **argv) {
    if (argc < 3) {
        fprintf (stderr, "usage: fb_relay LISTEN_PORT TARGET_PORT [--cut-ms MS]\n");
        return 2;
    }
    int target = atoi (argv[2]);
    long long cut_ms = argc == 5 && strcmp (argv[3], "--cut-ms") == 0 ? atoll (argv[4]) : 2000;
    signal (SIGUSR1, s_on_usr1);
    signal (SIGTERM, s_on_term);
    signal (SIGPIPE, SIG_IGN);
    memset (s_pairs, -1, sizeof s_pairs);
    int listen_fd = s_listen (atoi (argv[1]));
    long long refuse_until = 0;
    while (!s_stop) {
        if (s_cut_requested) {
            s_cut_requested = 0;
            for (int i = 0; i < S_MAX_PAIRS; i++)
                s_close_pair (i);
            refuse_until = s_now_ms () + cut_ms;
            fprintf (stderr, "fb_relay: cut, refusing for %lld ms\n", cut_ms);
        }
        struct pollfd fds[1 + 2 * S_MAX_PAIRS];
        int map[1 + 2 * S_MAX_PAIRS];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        for (int i = 0; i < S_MAX_PAIRS; i++)
            for (int k = 0; k < 2 && s_pairs[i][0] >= 0; k++) {
                map[n] = i * 2 + k;
                fds[n++] = (struct pollfd){.fd = s_pairs[i][k], .events = POLLIN};
            }
        if (poll (fds, (nfds_t)n, 100) <= 0)
            continue;
        if (fds[0].revents & POLLIN)
            s_accept (listen_fd, target, s_now_ms () < refuse_until);
        for (int j = 1; j < n; j++)
            if (fds[j].revents & (POLLIN | POLLHUP | POLLERR)) {
                int i = map[j] / 2;
                if (s_pairs[i][0] >= 0)
                    s_forward (i, map[j] % 2);
            }
    }
    return 0;
}

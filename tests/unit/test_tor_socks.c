/* test_tor_socks.c: the non-blocking SOCKS5 client and sink exchange (mode tor's streams)
 * against a SOCKS server of the test's own on loopback, which acts as tor's SOCKS port and the
 * sink at once. The username picks its behaviour, so one server plays every case: good
 * replies of each address type, refusals, an unknown address type, a close mid-handshake, a
 * stall, a wrong response byte. Counts and reasons, never timings. */
#include "common/clock.h"
#include "workloads/tor/real/tor_socks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define T_TIMEOUT_NS (20 * FB_NS_PER_S) /* generous: under ASan on a loaded host */

typedef struct {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
} t_server_t;

static bool s_read (int fd, void *buf, size_t len) {
    for (size_t got = 0; got < len;) {
        ssize_t n = recv (fd, (uint8_t *)buf + got, len - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static void s_write (int fd, const void *buf, size_t len) {
    (void)!send (fd, buf, len, MSG_NOSIGNAL);
}

/* One client: the SOCKS handshake as the username asks, then the sink's exchanges. */
static void *s_conn_main (void *arg) {
    int fd = (int)(intptr_t)arg;
    uint8_t buf[4096], name[256] = {0};
    if (!s_read (fd, buf, 3) || buf[0] != 5)
        goto done;
    s_write (fd, (uint8_t[]){5, 2}, 2);
    /* VER ULEN username PLEN password */
    if (!s_read (fd, buf, 2) || !s_read (fd, name, buf[1]) || !s_read (fd, buf, 1) ||
        !s_read (fd, buf + 1, buf[0]))
        goto done;
    if (!strcmp ((char *)name, "close"))
        goto done;
    s_write (fd, (uint8_t[]){1, 0}, 2);
    if (!s_read (fd, buf, 10) || buf[1] != 1)
        goto done;
    if (!strcmp ((char *)name, "stall")) {
        s_read (fd, buf, 1); /* until the client gives up and closes */
        goto done;
    }
    if (!strcmp ((char *)name, "refuse"))
        s_write (fd, (uint8_t[]){5, 1, 0, 1, 0, 0, 0, 0, 0, 0}, 10);
    else if (!strcmp ((char *)name, "atyp"))
        s_write (fd, (uint8_t[]){5, 0, 0, 9, 0, 0, 0, 0, 0, 0}, 10);
    else if (!strcmp ((char *)name, "domain")) { /* "localhost", port 0, in two pieces */
        s_write (fd, (uint8_t[]){5, 0, 0, 3, 9, 'l', 'o', 'c'}, 8);
        s_write (fd, (uint8_t[]){'a', 'l', 'h', 'o', 's', 't', 0, 0}, 8);
    } else if (!strcmp ((char *)name, "ipv6"))
        s_write (fd, (uint8_t[4 + 16 + 2]){5, 0, 0, 4}, 4 + 16 + 2);
    else
        s_write (fd, (uint8_t[]){5, 0, 0, 1, 127, 0, 0, 1, 0, 80}, 10);
    for (uint8_t head[8]; s_read (fd, head, sizeof head);) { /* the sink */
        uint32_t request =
            (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
        uint32_t response =
            (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 | (uint32_t)head[6] << 8 | head[7];
        for (uint32_t left = request - 8; left > 0;) {
            uint32_t n = left < sizeof buf ? left : (uint32_t)sizeof buf;
            if (!s_read (fd, buf, n))
                goto done;
            left -= n;
        }
        for (uint32_t sent = 0; sent < response;) {
            uint32_t n = response - sent < sizeof buf ? response - sent : (uint32_t)sizeof buf;
            for (uint32_t i = 0; i < n; i++)
                buf[i] = FB_TOR_SINK_BYTE (sent + i);
            if (!strcmp ((char *)name, "corrupt") && sent == 0 && n > 100)
                buf[100] ^= 1;
            s_write (fd, buf, n);
            sent += n;
        }
    }
done:
    close (fd);
    return NULL;
}

static void *s_server_main (void *arg) {
    t_server_t *server = arg;
    for (int fd; (fd = accept (server->listen_fd, NULL, NULL)) >= 0;) {
        pthread_t thread;
        if (pthread_create (&thread, NULL, s_conn_main, (void *)(intptr_t)fd) == 0)
            pthread_detach (thread);
        else
            close (fd);
    }
    return NULL;
}

static int s_setup (void **state) {
    t_server_t *server = calloc (1, sizeof *server);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    server->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal (bind (server->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal (listen (server->listen_fd, 128), 0);
    assert_int_equal (getsockname (server->listen_fd, (struct sockaddr *)&addr, &len), 0);
    server->port = ntohs (addr.sin_port);
    assert_int_equal (pthread_create (&server->thread, NULL, s_server_main, server), 0);
    *state = server;
    return 0;
}

static int s_teardown (void **state) {
    t_server_t *server = *state;
    shutdown (server->listen_fd, SHUT_RDWR); /* ends accept */
    pthread_join (server->thread, NULL);
    close (server->listen_fd);
    free (server);
    return 0;
}

/* Polls until conn's step ended; it must be the only one in flight. */
static fb_tor_socks_conn_t *s_wait_one (fb_tor_socks_loop_t *loop) {
    fb_tor_socks_conn_t *ended[4];
    int64_t deadline = fb_clock_now_ns () + T_TIMEOUT_NS;
    int n = 0;
    while (n == 0 && fb_clock_now_ns () < deadline)
        n = fb_tor_socks_loop_poll (loop, deadline, ended, 4);
    assert_int_equal (n, 1);
    return ended[0];
}

/* Opens a stream as username; returns its end's rc (err in conn->step.err). */
static int s_open (t_server_t *server, fb_tor_socks_loop_t *loop, fb_tor_socks_conn_t *conn,
                   const char *username, int64_t timeout_ns) {
    fb_err_t err = {0};
    *conn = (fb_tor_socks_conn_t){.id = 7, .fd = -1};
    assert_int_equal (
        fb_tor_socks_open_start (loop, conn, server->port, username, 80, timeout_ns, &err), 0);
    assert_ptr_equal (s_wait_one (loop), conn);
    return conn->step.rc;
}

static void test_open_then_exchanges_on_one_stream (void **state) {
    t_server_t *server = *state;
    fb_err_t err = {0};
    fb_tor_socks_loop_t *loop = fb_tor_socks_loop_new (4, &err);
    assert_non_null (loop);
    const char *names[] = {"ok", "domain", "ipv6"}; /* the reply's three address types */
    for (int k = 0; k < 3; k++) {
        fb_tor_socks_conn_t conn;
        if (s_open (server, loop, &conn, names[k], T_TIMEOUT_NS) != 0)
            fail_msg ("%s: %s", names[k], conn.step.err.msg);
        assert_true (conn.step.open_ns > 0);
        for (int x = 0; x < 3; x++) { /* a stream carries any number of exchanges */
            assert_int_equal (
                fb_tor_socks_exchange_start (loop, &conn, 100000, 300000, T_TIMEOUT_NS, &err), 0);
            assert_ptr_equal (s_wait_one (loop), &conn);
            if (conn.step.rc != 0)
                fail_msg ("%s exchange %d: %s", names[k], x, conn.step.err.msg);
            assert_int_equal (conn.step.xfer.bytes, 400000);
            assert_true (conn.step.xfer.ttfb_ns <= conn.step.xfer.total_ns);
        }
        fb_tor_socks_close (loop, &conn);
        assert_int_equal (conn.fd, -1);
    }
    fb_tor_socks_loop_destroy (&loop);
    assert_null (loop);
}

static void test_bad_replies_fail_with_their_reason (void **state) {
    t_server_t *server = *state;
    fb_err_t err = {0};
    fb_tor_socks_loop_t *loop = fb_tor_socks_loop_new (4, &err);
    struct {
        const char *name, *why;
        int64_t timeout_ns;
    } cases[] = {
        {"refuse", "refused the stream (reply 1)", T_TIMEOUT_NS},
        {"atyp", "address type 9", T_TIMEOUT_NS},
        {"close", "tor closed the stream", T_TIMEOUT_NS},
        {"stall", "timed out", 200 * FB_NS_PER_MS},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fb_tor_socks_conn_t conn;
        assert_int_equal (s_open (server, loop, &conn, cases[k].name, cases[k].timeout_ns), -1);
        if (!strstr (conn.step.err.msg, cases[k].why))
            fail_msg ("%s: \"%s\" does not say \"%s\"", cases[k].name, conn.step.err.msg,
                      cases[k].why);
        fb_tor_socks_close (loop, &conn);
    }
    /* a wrong response byte fails the exchange and names the byte */
    fb_tor_socks_conn_t conn;
    assert_int_equal (s_open (server, loop, &conn, "corrupt", T_TIMEOUT_NS), 0);
    assert_int_equal (fb_tor_socks_exchange_start (loop, &conn, 8, 1000, T_TIMEOUT_NS, &err), 0);
    assert_ptr_equal (s_wait_one (loop), &conn);
    assert_int_equal (conn.step.rc, -1);
    assert_non_null (strstr (conn.step.err.msg, "response byte 100 is wrong"));
    fb_tor_socks_close (loop, &conn);
    /* a request shorter than the sink's header is refused at once */
    assert_int_equal (s_open (server, loop, &conn, "ok", T_TIMEOUT_NS), 0);
    assert_int_equal (fb_tor_socks_exchange_start (loop, &conn, 7, 10, T_TIMEOUT_NS, &err), -1);
    fb_tor_socks_close (loop, &conn);
    fb_tor_socks_loop_destroy (&loop);
}

#define T_MANY 50

/* Fifty streams opened and used at once on one loop: each step ends once; closing streams
 * with exchanges in flight ends those, failed, once each. */
static void test_many_streams_in_one_loop_end_once_each (void **state) {
    t_server_t *server = *state;
    fb_err_t err = {0};
    fb_tor_socks_loop_t *loop = fb_tor_socks_loop_new (T_MANY, &err);
    fb_tor_socks_conn_t *conns = calloc (T_MANY, sizeof *conns);
    int ends[T_MANY] = {0};
    for (int i = 0; i < T_MANY; i++) {
        conns[i] = (fb_tor_socks_conn_t){.id = i, .fd = -1};
        assert_int_equal (
            fb_tor_socks_open_start (loop, &conns[i], server->port, "ok", 80, T_TIMEOUT_NS, &err),
            0);
    }
    for (int round = 0; round < 2; round++) { /* the opens, then one exchange each */
        int64_t deadline = fb_clock_now_ns () + T_TIMEOUT_NS;
        for (int left = T_MANY; left > 0 && fb_clock_now_ns () < deadline;) {
            fb_tor_socks_conn_t *ended[8];
            int n = fb_tor_socks_loop_poll (loop, deadline, ended, 8);
            for (int k = 0; k < n; k++, left--) {
                if (ended[k]->step.rc != 0)
                    fail_msg ("stream %d: %s", ended[k]->id, ended[k]->step.err.msg);
                ends[ended[k]->id]++;
            }
        }
        for (int i = 0; i < T_MANY; i++) {
            assert_int_equal (ends[i], round + 1);
            assert_int_equal (
                fb_tor_socks_exchange_start (loop, &conns[i], 512, 4096, T_TIMEOUT_NS, &err), 0);
        }
    }
    /* the last exchanges: closed while in flight (those not ended yet) */
    for (int i = 0; i < T_MANY; i++)
        fb_tor_socks_close (loop, &conns[i]);
    fb_tor_socks_conn_t *ended[T_MANY];
    int n = fb_tor_socks_loop_poll (loop, fb_clock_now_ns (), ended, T_MANY);
    assert_int_equal (n, T_MANY); /* each ended once: done, or failed by the close */
    for (int k = 0; k < n; k++)
        assert_true (ended[k]->step.rc == 0 || strstr (ended[k]->step.err.msg, "closed"));
    assert_int_equal (fb_tor_socks_loop_poll (loop, fb_clock_now_ns (), ended, T_MANY), 0);
    free (conns);
    fb_tor_socks_loop_destroy (&loop);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_open_then_exchanges_on_one_stream),
        cmocka_unit_test (test_bad_replies_fail_with_their_reason),
        cmocka_unit_test (test_many_streams_in_one_loop_end_once_each),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

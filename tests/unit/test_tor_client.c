/* test_tor_client.c: the model's Tor client (workloads/tor/model/tor_client.c) against a relay
 * scripted here, byte by byte, the way tor 0.4.9 behaves on the wire: after VERSIONS it sends a
 * CERTS cell of the size real relays send, an AUTH_CHALLENGE and NETINFO; it answers CREATE2
 * with ntor, CONNECTED to BEGIN, and can slip in cells a newer tor might send. What the client
 * sends back is checked against tor-spec: the versions it lists, NETINFO's time, the reasons
 * in END and DESTROY, and that unknown cell and relay commands are dropped, not fatal. */
#include "common/clock.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_link.h"
#include "workloads/tor/wire/tor_cell.h"
#include "workloads/tor/wire/tor_crypto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define T_TIMEOUT_NS (20 * FB_NS_PER_S)
#define T_REAL_CERTS_LEN 1477 /* the CERTS cell tor 0.4.9.11 relays sent, header included */

/* The scripted relay: one link, one circuit, one stream. */
typedef struct {
    int listen_fd;
    uint16_t port;
    SSL_CTX *ctx;
    fb_tor_onion_key_t *onion;
    fb_tor_relay_info_t info;
    size_t certs_len;  /* the CERTS cell it sends, header included */
    bool send_unknown; /* before CONNECTED: a cell with command 77 and a relay command 200 */
    pthread_t thread;
    /* what it saw of the client */
    uint8_t versions[64];
    size_t versions_len;
    uint32_t netinfo_time;
    int end_reason, destroy_reason; /* -1: none came */
    bool done;                      /* the whole script ran */
    char why[160];                  /* where it stopped, when not done */
} t_relay_t;

static int s_read (SSL *ssl, uint8_t *buf, size_t len) {
    for (size_t got = 0; got < len;) {
        int n = SSL_read (ssl, buf + got, (int)(len - got));
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int s_write (SSL *ssl, const uint8_t *buf, size_t len) {
    return SSL_write (ssl, buf, (int)len) == (int)len ? 0 : -1;
}

static int s_write_cell (SSL *ssl, const fb_tor_cell_t *cell) {
    uint8_t wire[FB_TOR_CELL_LEN];
    fb_tor_cell_encode (cell, wire);
    return s_write (ssl, wire, sizeof wire);
}

/* A variable-length cell (link protocol 4+) of total bytes, header included. */
static int s_write_var (SSL *ssl, uint8_t command, size_t total) {
    uint8_t *buf = calloc (1, total);
    buf[4] = command;
    buf[5] = (uint8_t)((total - 7) >> 8);
    buf[6] = (uint8_t)(total - 7);
    for (size_t i = 7; i < total; i++)
        buf[i] = (uint8_t)(i * 7);
    int rc = s_write (ssl, buf, total);
    free (buf);
    return rc;
}

static int s_read_cell (SSL *ssl, fb_tor_cell_t *cell) {
    uint8_t wire[FB_TOR_CELL_LEN];
    fb_err_t err;
    return s_read (ssl, wire, sizeof wire) == 0 &&
                   fb_tor_cell_decode (wire, sizeof wire, cell, &err) == 0
               ? 0
               : -1;
}

/* A relay cell this relay originates toward the client. */
static int s_originate (SSL *ssl, fb_tor_layer_t *layer, uint32_t circ_id, uint8_t command,
                        uint16_t stream_id, const uint8_t *data, size_t len) {
    fb_tor_cell_t cell = {.circ_id = circ_id, .command = FB_TOR_CELL_RELAY};
    fb_tor_cell_relay_encode (cell.payload, command, stream_id, data, len);
    fb_tor_crypto_dir_seal (&layer->back, cell.payload, FB_TOR_PAYLOAD_LEN);
    fb_tor_crypto_dir_crypt (&layer->back, cell.payload, FB_TOR_PAYLOAD_LEN);
    return s_write_cell (ssl, &cell);
}

/* A relay cell from the client, peeled and recognized. */
static int s_read_relay (SSL *ssl, fb_tor_layer_t *layer, fb_tor_cell_t *cell,
                         fb_tor_relay_t *relay) {
    fb_err_t err;
    if (s_read_cell (ssl, cell) != 0 || cell->command != FB_TOR_CELL_RELAY)
        return -1;
    fb_tor_crypto_dir_crypt (&layer->fwd, cell->payload, FB_TOR_PAYLOAD_LEN);
    if (!fb_tor_crypto_dir_recognize (&layer->fwd, cell->payload, FB_TOR_PAYLOAD_LEN))
        return -1;
    return fb_tor_cell_relay_decode (cell->payload, relay, &err);
}

#define T_STEP(cond, what)                                                                         \
    if (!(cond)) {                                                                                 \
        snprintf (r->why, sizeof r->why, "%s", what);                                              \
        goto out;                                                                                  \
    }

/* The link handshake as a tor relay does it, then the circuit. */
static int s_script (t_relay_t *r, SSL *ssl) {
    uint8_t head[5], keys[FB_TOR_KEYS_LEN], reply[FB_TOR_REPLY_LEN], skin[FB_TOR_ONIONSKIN_LEN];
    fb_tor_layer_t layer = {0};
    fb_tor_cell_t cell;
    fb_tor_relay_t relay;
    fb_err_t err;
    int rc = -1;
    T_STEP (s_read (ssl, head, 5) == 0 && head[2] == FB_TOR_CELL_VERSIONS, "no VERSIONS");
    r->versions_len = (size_t)(head[3] << 8 | head[4]);
    T_STEP (r->versions_len <= sizeof r->versions &&
                s_read (ssl, r->versions, r->versions_len) == 0,
            "a VERSIONS too long");
    const uint8_t versions[] = {0, 0, FB_TOR_CELL_VERSIONS, 0, 4, 0, 4, 0, 5};
    fb_tor_cell_t netinfo;
    fb_tor_cell_netinfo_encode (&netinfo, (uint32_t)time (NULL), 0x7f000001u, 0x7f000001u);
    T_STEP (s_write (ssl, versions, sizeof versions) == 0 &&
                s_write_var (ssl, 129, r->certs_len) == 0 && /* CERTS */
                s_write_var (ssl, 130, 7 + 36) == 0 &&       /* AUTH_CHALLENGE */
                s_write_cell (ssl, &netinfo) == 0,
            "cannot send the handshake");
    T_STEP (s_read_cell (ssl, &cell) == 0 && cell.command == FB_TOR_CELL_NETINFO,
            "no NETINFO from the client (did it close the link at CERTS?)");
    r->netinfo_time = (uint32_t)cell.payload[0] << 24 | (uint32_t)cell.payload[1] << 16 |
                      (uint32_t)cell.payload[2] << 8 | cell.payload[3];
    T_STEP (s_read_cell (ssl, &cell) == 0 && cell.command == FB_TOR_CELL_CREATE2 &&
                fb_tor_cell_create2_decode (&cell, skin, &err) == 0 &&
                fb_tor_crypto_ntor_server (r->onion, skin, NULL, reply, keys, sizeof keys, &err) ==
                    0 &&
                fb_tor_crypto_layer_init (&layer, keys, &err) == 0,
            "no good CREATE2");
    uint32_t circ_id = cell.circ_id;
    fb_tor_cell_created2_encode (&cell, circ_id, reply);
    T_STEP (s_write_cell (ssl, &cell) == 0, "cannot send CREATED2");
    T_STEP (s_read_relay (ssl, &layer, &cell, &relay) == 0 && relay.command == FB_TOR_RELAY_BEGIN,
            "no BEGIN");
    uint16_t stream_id = relay.stream_id;
    if (r->send_unknown) {
        fb_tor_cell_t odd = {.circ_id = circ_id, .command = 77};
        T_STEP (s_write_cell (ssl, &odd) == 0 &&
                    s_originate (ssl, &layer, circ_id, 200, 0, (const uint8_t *)"new", 3) == 0 &&
                    s_originate (ssl, &layer, circ_id, 201, stream_id, NULL, 0) == 0,
                "cannot send the unknown commands");
    }
    const uint8_t connected[8] = {127, 0, 0, 1, 0, 0, 1, 0x2c};
    T_STEP (s_originate (ssl, &layer, circ_id, FB_TOR_RELAY_CONNECTED, stream_id, connected,
                         sizeof connected) == 0,
            "cannot send CONNECTED");
    T_STEP (s_read_relay (ssl, &layer, &cell, &relay) == 0 && relay.command == FB_TOR_RELAY_END &&
                relay.length >= 1,
            "no END (did the client end the circuit?)");
    r->end_reason = relay.data[0];
    T_STEP (s_read_cell (ssl, &cell) == 0 && cell.command == FB_TOR_CELL_DESTROY, "no DESTROY");
    r->destroy_reason = cell.payload[0];
    r->done = true;
    rc = 0;
out:
    fb_tor_crypto_layer_fini (&layer);
    return rc;
}

static void *s_relay_main (void *arg) {
    t_relay_t *r = arg;
    int fd = accept (r->listen_fd, NULL, NULL);
    struct timeval tv = {.tv_sec = 10};
    SSL *ssl = fd >= 0 ? SSL_new (r->ctx) : NULL;
    if (!ssl) {
        snprintf (r->why, sizeof r->why, "no connection");
        return NULL;
    }
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd (ssl, fd);
    if (SSL_accept (ssl) == 1)
        s_script (r, ssl);
    else
        snprintf (r->why, sizeof r->why, "TLS handshake failed");
    SSL_free (ssl);
    close (fd);
    return NULL;
}

static void s_relay_start (t_relay_t *r, size_t certs_len, bool send_unknown) {
    fb_err_t err = {0};
    *r = (t_relay_t){.certs_len = certs_len,
                     .send_unknown = send_unknown,
                     .end_reason = -1,
                     .destroy_reason = -1};
    assert_non_null (r->ctx = fb_tor_link_tls_server_ctx (0, r->info.id, &err));
    assert_non_null (r->onion = fb_tor_crypto_onion_key_new (r->info.id, NULL, &err));
    memcpy (r->info.onion_key, fb_tor_crypto_onion_key_public (r->onion), FB_TOR_KEY_LEN);
    r->info.exit = true;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001u)};
    socklen_t len = sizeof sa;
    r->listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (r->listen_fd >= 0);
    assert_int_equal (bind (r->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal (listen (r->listen_fd, 1), 0);
    assert_int_equal (getsockname (r->listen_fd, (struct sockaddr *)&sa, &len), 0);
    r->info.port = ntohs (sa.sin_port);
    assert_int_equal (pthread_create (&r->thread, NULL, s_relay_main, r), 0);
}

static void s_relay_join (t_relay_t *r) {
    pthread_join (r->thread, NULL);
    close (r->listen_fd);
    fb_tor_crypto_onion_key_destroy (&r->onion);
    SSL_CTX_free (r->ctx);
}

/* The client's whole part: a 1-hop circuit, a stream, END, DESTROY. Returns the first failure's
 * message, or NULL. */
static const char *s_client_run (t_relay_t *r, fb_tor_client_stats_t *stats) {
    static char why[300];
    fb_err_t err = {0};
    fb_tor_client_config_t config = {.relays = &r->info, .n = 1};
    fb_tor_client_t *client = fb_tor_client_new_config (&config, &err);
    fb_tor_circ_t *circ = NULL;
    fb_tor_stream_t *stream = NULL;
    const char *failed = NULL;
    if (!client)
        failed = "no client";
    else if (fb_tor_client_build (client, 1, 1, T_TIMEOUT_NS, &circ, NULL, &err) != 0)
        failed = "build";
    else if (fb_tor_client_open_stream (client, circ, T_TIMEOUT_NS, &stream, NULL, &err) != 0)
        failed = "open";
    if (failed)
        snprintf (why, sizeof why, "%s: %s", failed, err.msg);
    if (client) {
        fb_tor_client_close_stream (client, &stream);
        fb_tor_client_close (client, &circ);
        fb_tor_client_stats (client, stats);
    }
    s_relay_join (r); /* it waits for END and DESTROY, or times out */
    fb_tor_client_destroy (&client);
    return failed ? why : NULL;
}

static void test_client_takes_the_certs_cell_real_relays_send (void **state) {
    (void)state;
    t_relay_t r;
    fb_tor_client_stats_t stats;
    s_relay_start (&r, T_REAL_CERTS_LEN, false);
    const char *failed = s_client_run (&r, &stats);
    if (failed)
        fail_msg ("a relay with a %d-byte CERTS: %s (relay: %s)", T_REAL_CERTS_LEN, failed, r.why);
    assert_true (r.done);
}

static void test_client_lists_versions_3_4_5_and_sends_netinfo_time_0 (void **state) {
    (void)state;
    t_relay_t r;
    fb_tor_client_stats_t stats;
    s_relay_start (&r, 300, false); /* a CERTS under every cap we ever had */
    const char *failed = s_client_run (&r, &stats);
    if (failed)
        fail_msg ("%s (relay: %s)", failed, r.why);
    const uint8_t versions[] = {0, 3, 0, 4, 0, 5}; /* tor-spec 4.1 */
    assert_int_equal (r.versions_len, sizeof versions);
    assert_memory_equal (r.versions, versions, sizeof versions);
    assert_int_equal (r.netinfo_time, 0); /* tor-spec 4.5: clients send 0 */
}

static void test_client_drops_unknown_cell_and_relay_commands (void **state) {
    (void)state;
    t_relay_t r;
    fb_tor_client_stats_t stats;
    s_relay_start (&r, 300, true);
    const char *failed = s_client_run (&r, &stats);
    if (failed)
        fail_msg ("after cell command 77 and relay commands 200, 201: %s (relay: %s)", failed,
                  r.why);
    assert_true (r.done);
    assert_int_equal (stats.bad_cells, 0);
}

static void test_client_ends_streams_with_misc_and_circuits_with_none (void **state) {
    (void)state;
    t_relay_t r;
    fb_tor_client_stats_t stats;
    s_relay_start (&r, 300, false);
    const char *failed = s_client_run (&r, &stats);
    if (failed)
        fail_msg ("%s (relay: %s)", failed, r.why);
    assert_int_equal (r.end_reason, FB_TOR_END_MISC);         /* tor-spec 6.3 */
    assert_int_equal (r.destroy_reason, FB_TOR_DESTROY_NONE); /* tor-spec 5.4 */
}

int main (void) {
    signal (SIGPIPE, SIG_IGN); /* a relay writing to a client that closed: an error, not a kill */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_client_takes_the_certs_cell_real_relays_send),
        cmocka_unit_test (test_client_lists_versions_3_4_5_and_sends_netinfo_time_0),
        cmocka_unit_test (test_client_drops_unknown_cell_and_relay_commands),
        cmocka_unit_test (test_client_ends_streams_with_misc_and_circuits_with_none),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

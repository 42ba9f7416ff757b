/* bench_tor.c: what the tor model mode costs next to the floor of the OpenSSL calls it makes,
 * printed as one table.
 *
 * - Circuit crypto per 3-hop circuit: the model's client crypto CPU (fb_tor_build_t.crypto_ns)
 *   plus the relays' (fb_tor_relay_net_stats_t.crypto_ns), per circuit built, against the same
 *   primitives called back to back with raw OpenSSL: per hop X25519 keygen for x and y, four
 *   derives (xy and xb on both sides), four HMAC-SHA256 (verify and AUTH on both sides), two
 *   HKDF-SHA256 expansions of 72 bytes (EVP_KDF), and two sets of AES-128-CTR and SHA-1 contexts.
 * - Cells/s through one relay: one 1-hop circuit, one stream downloading from the relay's sink
 *   (hop_rtt 0); cells per second of wall time and per CPU-second of the whole process (relay +
 *   client: TLS, AES, SHA-1, flow control), against AES-128-CTR over 509 bytes plus a SHA-1
 *   running-digest update, copy and final per cell on one core.
 * - RSS: the resident memory a fresh process grows by to hold a network of 5 relays, a client
 *   and N streams open on N/10 circuits (each stream has moved one 512 B / 4 KB exchange),
 *   N = 100 and 1000.
 * - Circuit build time by client and relays: p50 and p95 of sequential warm 3-hop builds through
 *   5 relays with hop_rtt 0 (and p50 per hop where our client times hops): our client through
 *   our relays, with and without Nagle's algorithm on the links' sockets; our client through
 *   the relays of mode tor's private network of tor processes (mode interop), with and without
 *   Nagle; and tor's own client through the same relays (EXTENDCIRCUIT to the CIRC BUILT event);
 *   then both clients again through a second network whose tors have TCP_NODELAY forced on
 *   every socket (bench/fb_nodelay.c preloaded), on this host in this run. The tor rows only
 *   when tor is installed; otherwise a skip line.
 * Wall-clock figures depend on what else the host runs; CPU-second figures much less.
 *
 *   bench_tor [circuits] [download_MB]
 *   bench_tor builds [n]      only the circuit build table, n builds a row (default 100) */
#include "common/clock.h"
#include "common/procfs.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_relay.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_privnet.h"
#include "workloads/tor/tor_interop.h"
#include "workloads/tor/wire/tor_cell.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_TIMEOUT_NS (60 * FB_NS_PER_S)

static double s_rss_mb (void) { return (double)fb_procfs_status_bytes (0, "VmRSS") / 1e6; }

static void s_die (const char *what, const fb_err_t *err) {
    fprintf (stderr, "bench_tor: %s: %s\n", what, err ? err->msg : "failed");
    exit (1);
}

/* ---- circuit crypto --------------------------------------------------------------------- */

static double s_model_circuit_crypto_us (int circuits) {
    fb_err_t err;
    fb_tor_relay_net_t *net = fb_tor_relay_net_new (5, 0, &err);
    fb_tor_client_t *client = net ? fb_tor_client_new (net, 0, &err) : NULL;
    if (!client)
        s_die ("network", &err);
    fb_tor_relay_net_stats_t before, after;
    fb_tor_relay_net_stats (net, &before);
    int64_t client_ns = 0;
    for (int i = 0; i < circuits; i++) {
        fb_tor_circ_t *circ = NULL;
        fb_tor_build_t build;
        if (fb_tor_client_build (client, 3, (uint64_t)i + 1, S_TIMEOUT_NS, &circ, &build, &err))
            s_die ("build", &err);
        client_ns += build.crypto_ns;
        fb_tor_client_close (client, &circ);
    }
    fb_tor_relay_net_stats (net, &after);
    fb_tor_client_destroy (&client);
    fb_tor_relay_net_destroy (&net);
    return (double)(client_ns + after.crypto_ns - before.crypto_ns) / circuits / 1e3;
}

static EVP_PKEY *s_keygen (void) { return EVP_PKEY_Q_keygen (NULL, NULL, "X25519"); }

static void s_derive (EVP_PKEY *mine, EVP_PKEY *peer, uint8_t out[32]) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new (mine, NULL);
    size_t len = 32;
    EVP_PKEY_derive_init (ctx);
    EVP_PKEY_derive_set_peer (ctx, peer);
    EVP_PKEY_derive (ctx, out, &len);
    EVP_PKEY_CTX_free (ctx);
}

static void s_hkdf (const uint8_t *ikm, size_t len, uint8_t out[72]) {
    EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new (kdf);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *)ikm, len),
                           OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, "salt", 4),
                           OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, "info", 4),
                           OSSL_PARAM_END};
    EVP_KDF_derive (ctx, out, 72, params);
    EVP_KDF_CTX_free (ctx);
    EVP_KDF_free (kdf);
}

static void s_layer_contexts (const uint8_t keys[72]) {
    static const uint8_t iv[16] = {0};
    for (int dir = 0; dir < 2; dir++) {
        EVP_CIPHER_CTX *aes = EVP_CIPHER_CTX_new ();
        EVP_EncryptInit_ex (aes, EVP_aes_128_ctr (), NULL, keys + 40 + 16 * dir, iv);
        EVP_MD_CTX *md = EVP_MD_CTX_new ();
        EVP_DigestInit_ex (md, EVP_sha1 (), NULL);
        EVP_DigestUpdate (md, keys + 20 * dir, 20);
        EVP_CIPHER_CTX_free (aes);
        EVP_MD_CTX_free (md);
    }
}

/* The raw calls of one 3-hop circuit, client and relays together. */
static double s_floor_circuit_crypto_us (int circuits) {
    EVP_PKEY *b = s_keygen ();
    uint8_t secret[204] = {0}, mac[32], keys[72];
    unsigned int mac_len;
    int64_t t0 = fb_clock_process_cpu_ns ();
    for (int c = 0; c < circuits; c++)
        for (int hop = 0; hop < 3; hop++) {
            EVP_PKEY *x = s_keygen (), *y = s_keygen ();
            s_derive (x, y, secret);      /* client: EXP(Y,x) */
            s_derive (x, b, secret + 32); /* client: EXP(B,x) */
            s_derive (y, x, secret);      /* relay: EXP(X,y) */
            s_derive (b, x, secret + 32); /* relay: EXP(X,b) */
            for (int side = 0; side < 2; side++) {
                HMAC (EVP_sha256 (), "t_verify", 8, secret, sizeof secret, mac, &mac_len);
                HMAC (EVP_sha256 (), "t_mac", 5, secret, 178, mac, &mac_len);
                s_hkdf (secret, sizeof secret, keys);
                s_layer_contexts (keys);
            }
            EVP_PKEY_free (x);
            EVP_PKEY_free (y);
        }
    int64_t t1 = fb_clock_process_cpu_ns ();
    EVP_PKEY_free (b);
    return (double)(t1 - t0) / circuits / 1e3;
}

/* ---- cells through one relay ------------------------------------------------------------ */

static void s_model_cells (int megabytes, double *cells_per_s, double *cells_per_cpu_s) {
    fb_err_t err;
    fb_tor_relay_net_t *net = fb_tor_relay_net_new (2, 0, &err);
    fb_tor_client_t *client = net ? fb_tor_client_new (net, 0, &err) : NULL;
    fb_tor_circ_t *circ = NULL;
    fb_tor_stream_t *stream = NULL;
    fb_tor_build_t build;
    if (!client || fb_tor_client_build (client, 1, 1, S_TIMEOUT_NS, &circ, &build, &err) != 0 ||
        fb_tor_client_open_stream (client, circ, S_TIMEOUT_NS, &stream, NULL, &err) != 0)
        s_die ("one-hop stream", &err);
    uint32_t response = (uint32_t)megabytes * 1000000u;
    int64_t wall0 = fb_clock_now_ns (), cpu0 = fb_clock_process_cpu_ns ();
    fb_tor_xfer_t xfer;
    if (fb_tor_client_exchange (client, stream, 8, response, S_TIMEOUT_NS, &xfer, &err) != 0)
        s_die ("download", &err);
    int64_t wall = fb_clock_now_ns () - wall0, cpu = fb_clock_process_cpu_ns () - cpu0;
    double cells = (double)response / FB_TOR_RELAY_DATA_LEN;
    *cells_per_s = cells / ((double)wall / 1e9);
    *cells_per_cpu_s = cells / ((double)cpu / 1e9);
    fb_tor_client_close_stream (client, &stream);
    fb_tor_client_close (client, &circ);
    fb_tor_client_destroy (&client);
    fb_tor_relay_net_destroy (&net);
}

/* AES-128-CTR over the body and a running SHA-1 (update, copy, final): one hop's work. */
static double s_floor_cells_per_s (int cells) {
    static const uint8_t key[16] = {1}, iv[16] = {0};
    uint8_t body[509] = {2}, digest[20];
    unsigned int len;
    int out_len;
    EVP_CIPHER_CTX *aes = EVP_CIPHER_CTX_new ();
    EVP_MD_CTX *running = EVP_MD_CTX_new (), *final = EVP_MD_CTX_new ();
    EVP_EncryptInit_ex (aes, EVP_aes_128_ctr (), NULL, key, iv);
    EVP_DigestInit_ex (running, EVP_sha1 (), NULL);
    int64_t t0 = fb_clock_process_cpu_ns ();
    for (int i = 0; i < cells; i++) {
        EVP_DigestUpdate (running, body, sizeof body);
        EVP_MD_CTX_copy_ex (final, running);
        EVP_DigestFinal_ex (final, digest, &len);
        body[5] = digest[0];
        EVP_EncryptUpdate (aes, body, &out_len, body, sizeof body);
    }
    int64_t t1 = fb_clock_process_cpu_ns ();
    EVP_CIPHER_CTX_free (aes);
    EVP_MD_CTX_free (running);
    EVP_MD_CTX_free (final);
    return cells / ((double)(t1 - t0) / 1e9);
}

/* ---- RSS with N streams ----------------------------------------------------------------- */

static double s_rss_with_streams (int nstreams) {
    double before = s_rss_mb ();
    fb_err_t err;
    fb_tor_relay_net_t *net = fb_tor_relay_net_new (5, 0, &err);
    fb_tor_client_t *client = net ? fb_tor_client_new (net, 0, &err) : NULL;
    if (!client)
        s_die ("network", &err);
    int ncircs = nstreams / 10;
    fb_tor_circ_t **circs = calloc ((size_t)ncircs, sizeof *circs);
    fb_tor_stream_t **streams = calloc ((size_t)nstreams, sizeof *streams);
    for (int c = 0; c < ncircs; c++)
        if (fb_tor_client_build (client, 3, (uint64_t)c + 1, S_TIMEOUT_NS, &circs[c], NULL, &err))
            s_die ("build", &err);
    fb_tor_xfer_t xfer;
    for (int s = 0; s < nstreams; s++)
        if (fb_tor_client_open_stream (client, circs[s % ncircs], S_TIMEOUT_NS, &streams[s], NULL,
                                       &err) != 0 ||
            fb_tor_client_exchange (client, streams[s], 512, 4096, S_TIMEOUT_NS, &xfer, &err) != 0)
            s_die ("stream", &err);
    double held = s_rss_mb () - before;
    for (int s = 0; s < nstreams; s++)
        fb_tor_client_close_stream (client, &streams[s]);
    for (int c = 0; c < ncircs; c++)
        fb_tor_client_close (client, &circs[c]);
    fb_tor_client_destroy (&client);
    fb_tor_relay_net_destroy (&net);
    free (circs);
    free (streams);
    return held;
}

/* In a child process, so that each count starts from the same heap (none freed before). */
static double s_rss_fresh (int nstreams) {
    int fds[2];
    double mb = -1;
    if (pipe (fds) != 0)
        return mb;
    pid_t pid = fork ();
    if (pid == 0) {
        mb = s_rss_with_streams (nstreams);
        ssize_t n = write (fds[1], &mb, sizeof mb);
        _exit (n == sizeof mb ? 0 : 1);
    }
    close (fds[1]);
    if (pid < 0 || read (fds[0], &mb, sizeof mb) != sizeof mb)
        mb = -1;
    close (fds[0]);
    if (pid > 0)
        waitpid (pid, NULL, 0);
    return mb;
}

/* ---- circuit builds: model and real tor ------------------------------------------------ */

#define S_BUILD_RELAYS 5
#define S_BUILD_WARMUP 5 /* builds first, not counted: TLS links opened, caches warm */

/* p50 and p95 of n build times, and p50 per hop where the client times hops (ms; -1 unknown). */
typedef struct {
    const char *name;
    double p50, p95, hop_p50[3];
    double stalled; /* % of builds over S_STALL_NS: one wait for a delayed ACK or more */
    int n;
} s_builds_t;

#define S_STALL_NS (30 * FB_NS_PER_MS) /* Linux delays an ACK 40 ms at least, when it does */

static double s_share_over (const int64_t *ns, int n, int64_t limit) {
    int over = 0;
    for (int i = 0; i < n; i++)
        over += ns[i] > limit;
    return n > 0 ? 100.0 * over / n : 0;
}

static int s_cmp_ns (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double s_pct_ms (int64_t *ns, int n, double p) {
    qsort (ns, (size_t)n, sizeof *ns, s_cmp_ns);
    return (double)ns[(int)((n - 1) * p)] / 1e6;
}

/* n sequential 3-hop builds (after the warm-up) by our client. */
static void s_client_builds (fb_tor_client_t *client, int n, s_builds_t *out) {
    int64_t *ns = calloc ((size_t)n * 4, sizeof *ns);
    fb_err_t err;
    if (!ns)
        s_die ("memory", NULL);
    for (int i = -S_BUILD_WARMUP; i < n; i++) {
        fb_tor_circ_t *circ = NULL;
        fb_tor_build_t build;
        if (fb_tor_client_build (client, 3, (uint64_t)i + 100, S_TIMEOUT_NS, &circ, &build, &err))
            s_die ("build", &err);
        fb_tor_client_close (client, &circ);
        if (i < 0)
            continue;
        ns[i] = build.build_ns;
        for (int h = 0; h < 3; h++)
            ns[(h + 1) * n + i] = build.hop_ns[h];
    }
    out->n = n;
    out->stalled = s_share_over (ns, n, S_STALL_NS);
    out->p50 = s_pct_ms (ns, n, 0.5);
    out->p95 = s_pct_ms (ns, n, 0.95);
    for (int h = 0; h < 3; h++)
        out->hop_p50[h] = s_pct_ms (ns + (h + 1) * n, n, 0.5);
    free (ns);
}

/* Our client through our relays; nagle: every link leaves Nagle's algorithm on. */
static void s_model_builds (int n, bool nagle, s_builds_t *out) {
    fb_err_t err;
    fb_tor_relay_net_t *net = fb_tor_relay_net_new_with (S_BUILD_RELAYS, 0, nagle, &err);
    fb_tor_client_config_t config = {.n = S_BUILD_RELAYS, .nagle = nagle};
    config.relays = net ? fb_tor_relay_net_relay (net, 0) : NULL;
    fb_tor_client_t *client = net ? fb_tor_client_new_config (&config, &err) : NULL;
    if (!client)
        s_die ("network", &err);
    s_client_builds (client, n, out);
    fb_tor_client_destroy (&client);
    fb_tor_relay_net_destroy (&net);
}

/* Our client through the relays of a private tor network (mode interop). */
static void s_interop_builds (fb_tor_privnet_t *net, int n, bool nagle, s_builds_t *out) {
    fb_err_t err;
    fb_tor_relay_info_t relays[FB_TOR_PRIVNET_MAX_RELAYS];
    fb_tor_client_config_t config = {.relays = relays, .n = S_BUILD_RELAYS, .nagle = nagle};
    fb_tor_client_t *client = NULL;
    if (fb_tor_interop_directory (net, relays, &err) != 0 ||
        !(client = fb_tor_client_new_config (&config, &err)))
        s_die ("our client through tor relays", &err);
    s_client_builds (client, n, out);
    fb_tor_client_destroy (&client);
}

/* tor's own client through the same relays (mode tor): EXTENDCIRCUIT to CIRC BUILT. */
static void s_tor_builds (fb_tor_privnet_t *net, int n, s_builds_t *out) {
    fb_err_t err;
    fb_tor_control_t *ctl = fb_tor_control_new (
        fb_tor_privnet_control_port (net), fb_tor_privnet_cookie_path (net), S_TIMEOUT_NS, &err);
    int64_t *ns = calloc ((size_t)n, sizeof *ns);
    if (!ctl || !ns || fb_tor_control_watch_circuits (ctl, S_TIMEOUT_NS, &err) != 0)
        s_die ("tor control port", &err);
    int built = 0;
    for (int i = -S_BUILD_WARMUP; i < n; i++) {
        const char *path[3];
        int64_t build_ns = 0;
        for (int h = 0; h < 3; h++) /* a rotation of the 5 relays: 3 distinct ones */
            path[h] = fb_tor_privnet_relay (net, (i + 100 + h) % S_BUILD_RELAYS)->fingerprint;
        uint32_t id = 0;
        if (fb_tor_control_build (ctl, path, 3, S_TIMEOUT_NS, &id, &build_ns, &err) != 0)
            fprintf (stderr, "bench_tor: tor build %d: %s\n", i, err.msg);
        else if (i >= 0)
            ns[built++] = build_ns;
        if (id)
            fb_tor_control_close_circuit (ctl, id, S_TIMEOUT_NS, NULL);
    }
    if (built == 0)
        s_die ("tor builds", NULL);
    out->n = built;
    out->stalled = s_share_over (ns, built, S_STALL_NS);
    out->p50 = s_pct_ms (ns, built, 0.5);
    out->p95 = s_pct_ms (ns, built, 0.95);
    out->hop_p50[0] = out->hop_p50[1] = out->hop_p50[2] = -1; /* tor's events do not time hops */
    free (ns);
    fb_tor_control_destroy (&ctl);
}

static void s_print_builds (const s_builds_t *b) {
    printf ("%-44s %9.2f %9.2f %9.0f", b->name, b->p50, b->p95, b->stalled);
    for (int h = 0; h < 3; h++)
        if (b->hop_p50[h] >= 0)
            printf (" %9.2f", b->hop_p50[h]);
        else
            printf (" %9s", "-");
    printf ("\n");
}

/* A private tor network; preload: a module every tor loads (LD_PRELOAD), or NULL. */
static fb_tor_privnet_t *s_privnet (const char *preload) {
    fb_err_t err;
    if (preload)
        setenv ("LD_PRELOAD", preload, 1); /* the tors inherit it; this process is loaded */
    fb_tor_privnet_t *net =
        fb_tor_privnet_new (S_BUILD_RELAYS, 120 * FB_NS_PER_S, "bench_tor", &err);
    if (preload)
        unsetenv ("LD_PRELOAD");
    if (!net)
        s_die ("private tor network", &err);
    return net;
}

/* Circuit builds of every pairing of client and relays, one table; only the model's rows when
 * tor is not installed. */
static void s_build_table (int n) {
    s_builds_t rows[7] = {{.name = "our client -> our relays"},
                          {.name = "our client -> our relays, nagle: true"},
                          {.name = "our client -> tor relays (mode interop)"},
                          {.name = "our client, nagle: true -> tor relays"},
                          {.name = "tor's client -> tor relays (mode tor)"},
                          {.name = "our client -> tor relays, NODELAY in tor"},
                          {.name = "tor's client -> tor relays, NODELAY in tor"}};
    s_model_builds (n, false, &rows[0]);
    s_model_builds (n, true, &rows[1]);
    char tor[512], gencert[512];
    fb_err_t err;
    bool have_tor = fb_tor_privnet_find_binaries (tor, gencert, sizeof tor, &err) == 0;
    int nrows = 2;
    if (have_tor) {
        fb_tor_privnet_t *net = s_privnet (NULL);
        s_interop_builds (net, n, false, &rows[2]);
        s_interop_builds (net, n, true, &rows[3]);
        s_tor_builds (net, n, &rows[4]);
        fb_tor_privnet_destroy (&net);
        nrows = 5;
#ifdef FB_NODELAY_MODULE
        if (access (FB_NODELAY_MODULE, R_OK) == 0) {
            net = s_privnet (FB_NODELAY_MODULE);
            s_interop_builds (net, n, false, &rows[5]);
            s_tor_builds (net, n, &rows[6]);
            fb_tor_privnet_destroy (&net);
            nrows = 7;
        }
#endif
    }
    printf ("\ncircuit build by client and relays (%d sequential warm 3-hop builds, %d relays, "
            "hop_rtt 0; ms)\n",
            n, S_BUILD_RELAYS);
    printf ("%-44s %9s %9s %9s %9s %9s %9s\n", "client -> relays", "p50", "p95", "% >30ms",
            "hop1 p50", "hop2 p50", "hop3 p50");
    for (int r = 0; r < nrows; r++)
        s_print_builds (&rows[r]);
    if (!have_tor)
        printf (
            "tor rows skipped: tor is not installed (setup.sh installs Debian's tor package)\n");
    else
        printf ("ratios of p50 to our client -> our relays: interop %.1f, tor %.1f\n",
                rows[2].p50 / rows[0].p50, rows[4].p50 / rows[0].p50);
}

int main (int argc, char **argv) {
    if (argc > 1 && strcmp (argv[1], "builds") == 0) {
        int n = argc > 2 ? atoi (argv[2]) : 100;
        if (n < 1) {
            fprintf (stderr, "usage: bench_tor builds [n]\n");
            return 2;
        }
        s_build_table (n);
        return 0;
    }
    int circuits = argc > 1 ? atoi (argv[1]) : 200;
    int megabytes = argc > 2 ? atoi (argv[2]) : 50;
    if (circuits < 1 || megabytes < 1) {
        fprintf (stderr, "usage: bench_tor [circuits] [download_MB] | bench_tor builds [n]\n");
        return 2;
    }
    double model_us = s_model_circuit_crypto_us (circuits);
    double floor_us = s_floor_circuit_crypto_us (circuits);
    double cells_wall, cells_cpu;
    s_model_cells (megabytes, &cells_wall, &cells_cpu);
    double floor_cells = s_floor_cells_per_s (200000);
    double rss100 = s_rss_fresh (100), rss1000 = s_rss_fresh (1000);
    int builds = circuits < 100 ? circuits : 100;

    printf ("\ntor model mode vs the OpenSSL floor (%d circuits, %d MB download, hop_rtt 0)\n",
            circuits, megabytes);
    printf ("%-44s %14s %14s %8s\n", "measure", "model", "floor", "ratio");
    printf ("%-44s %14.1f %14.1f %8.2f\n", "crypto CPU per 3-hop circuit (us)", model_us, floor_us,
            model_us / floor_us);
    printf ("%-44s %14.0f %14.0f %8.2f\n", "cells/s through one relay (wall)", cells_wall,
            floor_cells, floor_cells / cells_wall);
    printf ("%-44s %14.0f %14.0f %8.2f\n", "cells per CPU-second (relay + client)", cells_cpu,
            floor_cells, floor_cells / cells_cpu);
    printf ("%-44s %14.1f %14s %8s\n", "RSS grown with 100 streams held (MB)", rss100, "-", "-");
    printf ("%-44s %14.1f %14s %8s\n", "RSS grown with 1000 streams held (MB)", rss1000, "-", "-");
    fflush (stdout);
    s_build_table (builds);
    return 0;
}

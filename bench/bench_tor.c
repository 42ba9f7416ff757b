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
 * - Circuit build time, model next to real tor: p50 and p95 of sequential 3-hop builds through 5
 *   relays with hop_rtt 0, in the model and in mode tor's private network of tor processes
 *   (EXTENDCIRCUIT to the CIRC BUILT event), on this host in this run. Only when tor is
 *   installed; otherwise a skip line.
 * Wall-clock figures depend on what else the host runs; CPU-second figures much less.
 *
 *   bench_tor [circuits] [download_MB] */
#include "common/clock.h"
#include "common/procfs.h"
#include "workloads/tor/model/tor_client.h"
#include "workloads/tor/model/tor_relay.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_privnet.h"
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

static int s_cmp_ns (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* p50 and p95 of n build times, in ms. */
static void s_percentiles (int64_t *ns, int n, double *p50, double *p95) {
    qsort (ns, (size_t)n, sizeof *ns, s_cmp_ns);
    *p50 = (double)ns[(n - 1) / 2] / 1e6;
    *p95 = (double)ns[(int)((n - 1) * 0.95)] / 1e6;
}

static void s_model_builds (int n, double *p50, double *p95) {
    fb_err_t err;
    fb_tor_relay_net_t *net = fb_tor_relay_net_new (S_BUILD_RELAYS, 0, &err);
    fb_tor_client_t *client = net ? fb_tor_client_new (net, 0, &err) : NULL;
    int64_t *ns = calloc ((size_t)n, sizeof *ns);
    if (!client || !ns)
        s_die ("network", &err);
    for (int i = 0; i < n; i++) {
        fb_tor_circ_t *circ = NULL;
        fb_tor_build_t build;
        if (fb_tor_client_build (client, 3, (uint64_t)i + 7, S_TIMEOUT_NS, &circ, &build, &err))
            s_die ("build", &err);
        ns[i] = build.build_ns;
        fb_tor_client_close (client, &circ);
    }
    s_percentiles (ns, n, p50, p95);
    free (ns);
    fb_tor_client_destroy (&client);
    fb_tor_relay_net_destroy (&net);
}

/* The same builds through real tor; -1 when tor is not installed. */
static int s_tor_builds (int n, double *p50, double *p95) {
    char tor[512], gencert[512];
    fb_err_t err;
    if (fb_tor_privnet_find_binaries (tor, gencert, sizeof tor, &err) != 0)
        return -1;
    fb_tor_privnet_t *net =
        fb_tor_privnet_new (S_BUILD_RELAYS, 120 * FB_NS_PER_S, "bench_tor", &err);
    if (!net)
        s_die ("private tor network", &err);
    fb_tor_control_t *ctl = fb_tor_control_new (
        fb_tor_privnet_control_port (net), fb_tor_privnet_cookie_path (net), S_TIMEOUT_NS, &err);
    int64_t *ns = calloc ((size_t)n, sizeof *ns);
    if (!ctl || !ns || fb_tor_control_watch_circuits (ctl, S_TIMEOUT_NS, &err) != 0)
        s_die ("tor control port", &err);
    int built = 0;
    for (int i = 0; i < n; i++) {
        const char *path[3];
        for (int h = 0; h < 3; h++) /* a rotation of the 5 relays: 3 distinct ones */
            path[h] = fb_tor_privnet_relay (net, (i + h) % S_BUILD_RELAYS)->fingerprint;
        uint32_t id = 0;
        if (fb_tor_control_build (ctl, path, 3, S_TIMEOUT_NS, &id, &ns[built], &err) == 0)
            built++;
        else
            fprintf (stderr, "bench_tor: tor build %d: %s\n", i, err.msg);
        if (id)
            fb_tor_control_close_circuit (ctl, id, S_TIMEOUT_NS, NULL);
    }
    if (built == 0)
        s_die ("tor builds", NULL);
    s_percentiles (ns, built, p50, p95);
    free (ns);
    fb_tor_control_destroy (&ctl);
    fb_tor_privnet_destroy (&net);
    return 0;
}

int main (int argc, char **argv) {
    int circuits = argc > 1 ? atoi (argv[1]) : 200;
    int megabytes = argc > 2 ? atoi (argv[2]) : 50;
    if (circuits < 1 || megabytes < 1) {
        fprintf (stderr, "usage: bench_tor [circuits] [download_MB]\n");
        return 2;
    }
    double model_us = s_model_circuit_crypto_us (circuits);
    double floor_us = s_floor_circuit_crypto_us (circuits);
    double cells_wall, cells_cpu;
    s_model_cells (megabytes, &cells_wall, &cells_cpu);
    double floor_cells = s_floor_cells_per_s (200000);
    double rss100 = s_rss_fresh (100), rss1000 = s_rss_fresh (1000);
    int builds = circuits < 100 ? circuits : 100;
    double model_p50, model_p95, tor_p50 = 0, tor_p95 = 0;
    s_model_builds (builds, &model_p50, &model_p95);
    bool have_tor = s_tor_builds (builds, &tor_p50, &tor_p95) == 0;

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

    printf (
        "\ncircuit build, model vs real tor (%d sequential 3-hop builds, %d relays, hop_rtt 0)\n",
        builds, S_BUILD_RELAYS);
    printf ("%-44s %14s %14s %8s\n", "measure", "model", "tor", "ratio");
    if (!have_tor) {
        printf ("skipped: tor is not installed (setup.sh installs Debian's tor package)\n");
        return 0;
    }
    printf ("%-44s %14.2f %14.2f %8.1f\n", "build p50 (ms)", model_p50, tor_p50,
            tor_p50 / model_p50);
    printf ("%-44s %14.2f %14.2f %8.1f\n", "build p95 (ms)", model_p95, tor_p95,
            tor_p95 / model_p95);
    return 0;
}

/* test_tor_crypto.c: known answers for the Tor circuit crypto (workloads/tor_crypto.c), each
 * from a published source named at the test (see tests/data/tor/README.md):
 * HKDF-SHA256 from RFC 5869, the ntor handshake from arti's testvec, relay cell encryption from
 * cells that tor's own code encrypted. */
#include "workloads/tor/wire/tor_crypto.h"

#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T_BODY 509

static size_t s_unhex (const char *hex, uint8_t *out, size_t cap) {
    size_t n = strlen (hex) / 2;
    assert_true (n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        assert_int_equal (sscanf (hex + 2 * i, "%2x", &byte), 1);
        out[i] = (uint8_t)byte;
    }
    return n;
}

static void s_range (uint8_t *out, int from, int to) {
    for (int i = from; i < to; i++)
        out[i - from] = (uint8_t)i;
}

/* ---- RFC 5869 Appendix A ---------------------------------------------------------------- */

static void s_hkdf_case (const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                         const uint8_t *info, size_t info_len, const char *okm_hex) {
    uint8_t want[128], got[128];
    size_t n = s_unhex (okm_hex, want, sizeof want);
    fb_err_t err = {0};
    assert_int_equal (
        fb_tor_crypto_hkdf_sha256 (salt, salt_len, ikm, ikm_len, info, info_len, got, n, &err), 0);
    assert_memory_equal (got, want, n);
}

/* RFC 5869 A.1: basic test case with SHA-256. */
static void test_hkdf_rfc5869_case_1 (void **state) {
    (void)state;
    uint8_t ikm[22], salt[13], info[10];
    memset (ikm, 0x0b, sizeof ikm);
    s_range (salt, 0x00, 0x0d);
    s_range (info, 0xf0, 0xfa);
    s_hkdf_case (
        ikm, sizeof ikm, salt, sizeof salt, info, sizeof info,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

/* RFC 5869 A.2: longer inputs and outputs (80-byte IKM, salt and info; 82 bytes out). */
static void test_hkdf_rfc5869_case_2 (void **state) {
    (void)state;
    uint8_t ikm[80], salt[80], info[80];
    s_range (ikm, 0x00, 0x50);
    s_range (salt, 0x60, 0xb0);
    s_range (info, 0xb0, 0x100);
    s_hkdf_case (ikm, sizeof ikm, salt, sizeof salt, info, sizeof info,
                 "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
                 "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
                 "1d87");
}

/* RFC 5869 A.3: zero-length salt and info. */
static void test_hkdf_rfc5869_case_3 (void **state) {
    (void)state;
    uint8_t ikm[22];
    memset (ikm, 0x0b, sizeof ikm);
    s_hkdf_case (
        ikm, sizeof ikm, NULL, 0, NULL, 0,
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

/* ---- ntor: arti crates/tor-proto/src/crypto/handshake/ntor.rs, test testvec ------------- */

typedef struct {
    uint8_t b_sk[32], b_pk[32], x_sk[32], x_pk[32], y_sk[32], y_pk[32], id[20];
    uint8_t onionskin[84], reply[64], keys[72];
} t_ntor_vec_t;

static void s_ntor_vec (t_ntor_vec_t *v) {
    s_unhex ("4820544f4c4420594f5520444f474954204b454550532048415050454e494e47", v->b_sk, 32);
    s_unhex ("ccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471", v->b_pk, 32);
    s_unhex ("706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973", v->x_sk, 32);
    s_unhex ("e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078", v->x_pk, 32);
    s_unhex ("70686520737175697272656c2e2e2e2e2e2e2e2e686173206869732067616d65", v->y_sk, 32);
    s_unhex ("390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a37", v->y_pk, 32);
    s_unhex ("69546f6c64596f7541626f75745374616972732e", v->id, 20);
    assert_int_equal (
        s_unhex ("69546f6c64596f7541626f75745374616972732eccbc8541904d18af08753eae967874749e6149f8"
                 "73de937f57f8fd903a21c471e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083"
                 "d412b078",
                 v->onionskin, sizeof v->onionskin),
        84);
    assert_int_equal (
        s_unhex ("390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a371cbdf68b89923e1f"
                 "85e8e18ee6e805ea333fe4849c790ffd2670bd80fec95cc8",
                 v->reply, sizeof v->reply),
        64);
    assert_int_equal (
        s_unhex ("0c62dee7f48893370d0ef896758d35729867beef1a5121df80e00f79ed349af39b51cae125719182"
                 "f19d932a667dae1afbf2e336e6910e7822223e763afad0a13342157969dc6b79",
                 v->keys, sizeof v->keys),
        72);
}

static void test_ntor_matches_arti_vector (void **state) {
    (void)state;
    t_ntor_vec_t v;
    s_ntor_vec (&v);
    fb_err_t err = {0};
    fb_tor_onion_key_t *relay = fb_tor_crypto_onion_key_new (v.id, v.b_sk, &err);
    assert_non_null (relay);
    assert_memory_equal (fb_tor_crypto_onion_key_public (relay), v.b_pk, 32);

    fb_tor_ntor_client_t client;
    uint8_t onionskin[84], reply[64], relay_keys[72], client_keys[72];
    assert_int_equal (
        fb_tor_crypto_ntor_client_start (&client, v.id, v.b_pk, v.x_sk, onionskin, &err), 0);
    assert_memory_equal (client.x_pub, v.x_pk, 32);
    assert_memory_equal (onionskin, v.onionskin, 84);

    assert_int_equal (
        fb_tor_crypto_ntor_server (relay, onionskin, v.y_sk, reply, relay_keys, 72, &err), 0);
    assert_memory_equal (reply, v.reply, 64);
    assert_memory_equal (relay_keys, v.keys, 72);

    assert_int_equal (fb_tor_crypto_ntor_client_finish (&client, reply, client_keys, 72, &err), 0);
    assert_memory_equal (client_keys, v.keys, 72);
    fb_tor_crypto_onion_key_destroy (&relay);
    assert_null (relay);
}

/* As arti's failing_handshakes: a changed reply fails AUTH, a wrong ID or key is refused. */
static void test_ntor_refuses_tampering (void **state) {
    (void)state;
    t_ntor_vec_t v;
    s_ntor_vec (&v);
    fb_err_t err = {0};
    fb_tor_onion_key_t *relay = fb_tor_crypto_onion_key_new (v.id, NULL, &err);
    assert_non_null (relay);
    fb_tor_ntor_client_t client;
    uint8_t onionskin[84], reply[64], keys[72];
    assert_int_equal (fb_tor_crypto_ntor_client_start (&client, v.id,
                                                       fb_tor_crypto_onion_key_public (relay), NULL,
                                                       onionskin, &err),
                      0);
    assert_int_equal (fb_tor_crypto_ntor_server (relay, onionskin, NULL, reply, keys, 72, &err), 0);
    reply[60] ^= 7;
    assert_int_equal (fb_tor_crypto_ntor_client_finish (&client, reply, keys, 72, &err), -1);
    assert_non_null (strstr (err.msg, "AUTH"));
    assert_null (client.x);

    onionskin[0] ^= 1; /* another relay's ID */
    assert_int_equal (fb_tor_crypto_ntor_server (relay, onionskin, NULL, reply, keys, 72, &err),
                      -1);
    onionskin[0] ^= 1;
    onionskin[20] ^= 1; /* another onion key */
    assert_int_equal (fb_tor_crypto_ntor_server (relay, onionskin, NULL, reply, keys, 72, &err),
                      -1);
    fb_tor_crypto_onion_key_destroy (&relay);
}

/* ---- relay cells: tor's test_relaycrypt.c keys, arti's cell_crypt.data answers ---------- */

static const char *const s_tom_keys[3] = {
    "    'My public key is in this signed x509 object', said Tom assertively.",
    "'Let's chart the pedal phlanges in the tomb', said Tom cryptographically",
    "     'Segmentation fault bugs don't _just happen_', said Tom seethingly.",
};
static const char s_tom_seed[] = "'You mean to tell me that there's a version of Sha-3 with no "
                                 "limit on the output length?', said Tom shakily.";

static void s_tom_layers (fb_tor_layer_t layers[3]) {
    fb_err_t err = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal (strlen (s_tom_keys[i]), FB_TOR_KEYS_LEN);
        assert_int_equal (
            fb_tor_crypto_layer_init (&layers[i], (const uint8_t *)s_tom_keys[i], &err), 0);
    }
}

/* The client side of sending one cell to hop `hop` (0-based) of layers. */
static void s_client_send (fb_tor_layer_t *layers, int hop, uint8_t *body) {
    fb_tor_crypto_dir_seal (&layers[hop].fwd, body, T_BODY);
    for (int i = hop; i >= 0; i--)
        fb_tor_crypto_dir_crypt (&layers[i].fwd, body, T_BODY);
}

static void test_relay_cells_match_tor_vectors (void **state) {
    (void)state;
    FILE *f = fopen (FB_TEST_DATA "/tor/cell_crypt.txt", "r");
    assert_non_null (f);
    fb_tor_layer_t layers[3];
    s_tom_layers (layers);
    enum { CELLS = 51 };
    uint8_t *stream = malloc (CELLS * 498);
    assert_non_null (stream);
    EVP_MD_CTX *xof = EVP_MD_CTX_new ();
    assert_int_equal (EVP_DigestInit_ex (xof, EVP_shake256 (), NULL), 1);
    assert_int_equal (EVP_DigestUpdate (xof, s_tom_seed, strlen (s_tom_seed)), 1);
    assert_int_equal (EVP_DigestFinalXOF (xof, stream, CELLS * 498), 1);
    EVP_MD_CTX_free (xof);

    char line[1200], hex[1100];
    int want_no = -1, checked = 0;
    uint8_t want[T_BODY];
    for (int n = 0; n < CELLS; n++) {
        while (want_no < n && fgets (line, sizeof line, f))
            if (line[0] != '#' && sscanf (line, "%d %1099s", &want_no, hex) == 2)
                assert_int_equal (s_unhex (hex, want, sizeof want), T_BODY);
        uint8_t body[T_BODY] = {2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 242}; /* DATA, stream 1, 498 */
        memcpy (body + 11, stream + n * 498, 498);
        s_client_send (layers, 2, body);
        if (n == want_no) {
            assert_memory_equal (body, want, T_BODY);
            checked++;
        }
    }
    assert_int_equal (checked, 8);
    fclose (f);
    free (stream);
    for (int i = 0; i < 3; i++)
        fb_tor_crypto_layer_fini (&layers[i]);
}

/* Interop: cells onion-encrypted by our client are peeled hop by hop by our relays, only the
 * addressed hop recognizes them (its digest matches); backward cells likewise at the client. */
static void test_onion_layers_peel_hop_by_hop (void **state) {
    (void)state;
    fb_tor_layer_t client[3], relay[3];
    s_tom_layers (client);
    s_tom_layers (relay);
    for (int n = 0; n < 30; n++) {
        int hop = n % 3;
        uint8_t orig[T_BODY] = {2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 100}, body[T_BODY];
        memset (orig + 11, n, 100);
        memcpy (body, orig, T_BODY);
        s_client_send (client, hop, body);
        for (int r = 0; r <= hop; r++) {
            fb_tor_crypto_dir_crypt (&relay[r].fwd, body, T_BODY);
            assert_true (fb_tor_crypto_dir_recognize (&relay[r].fwd, body, T_BODY) == (r == hop));
        }
        assert_memory_equal (body + 11, orig + 11, T_BODY - 11);

        /* backward: hop originates, the relays before it add their layers, the client peels */
        memcpy (body, orig, T_BODY);
        fb_tor_crypto_dir_seal (&relay[hop].back, body, T_BODY);
        for (int r = hop; r >= 0; r--)
            fb_tor_crypto_dir_crypt (&relay[r].back, body, T_BODY);
        int found = -1;
        for (int c = 0; c < 3 && found < 0; c++) {
            fb_tor_crypto_dir_crypt (&client[c].back, body, T_BODY);
            if (fb_tor_crypto_dir_recognize (&client[c].back, body, T_BODY))
                found = c;
        }
        assert_int_equal (found, hop);
        assert_memory_equal (body + 11, orig + 11, T_BODY - 11);
    }
    /* a flipped byte fails the digest and leaves the running digest as it was */
    uint8_t body[T_BODY] = {2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 1};
    s_client_send (client, 0, body);
    body[200] ^= 1;
    fb_tor_crypto_dir_crypt (&relay[0].fwd, body, T_BODY);
    assert_false (fb_tor_crypto_dir_recognize (&relay[0].fwd, body, T_BODY));
    for (int i = 0; i < 3; i++) {
        fb_tor_crypto_layer_fini (&client[i]);
        fb_tor_crypto_layer_fini (&relay[i]);
    }
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_hkdf_rfc5869_case_1),
        cmocka_unit_test (test_hkdf_rfc5869_case_2),
        cmocka_unit_test (test_hkdf_rfc5869_case_3),
        cmocka_unit_test (test_ntor_matches_arti_vector),
        cmocka_unit_test (test_ntor_refuses_tampering),
        cmocka_unit_test (test_relay_cells_match_tor_vectors),
        cmocka_unit_test (test_onion_layers_peel_hop_by_hop),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

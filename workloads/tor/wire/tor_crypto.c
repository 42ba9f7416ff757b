/* tor_crypto.c: HKDF-SHA256, the ntor handshake and the relay crypto layers, on OpenSSL 3's EVP
 * interfaces. The ntor maths (tor-spec 5.1.4), with H(x, t) = HMAC-SHA256(key t, message x):
 *
 *   secret_input = EXP(Y,x) | EXP(B,x) | ID | B | X | Y | PROTOID     (client)
 *                = EXP(X,y) | EXP(X,b) | ID | B | X | Y | PROTOID     (relay)
 *   verify       = H(secret_input, t_verify)
 *   auth_input   = verify | ID | B | Y | X | PROTOID | "Server"
 *   AUTH         = H(auth_input, t_mac)
 *   keys         = HKDF-SHA256(salt t_key, ikm secret_input, info m_expand)
 *
 * and the key material is Df | Db | Kf | Kb (tor-spec 5.2.2). */
#include "workloads/tor/wire/tor_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROTOID "ntor-curve25519-sha256-1"
#define S_SHA256_LEN 32
#define S_SHA1_LEN 20
#define S_AES_KEY_LEN 16

/* Relay cell body offsets (tor-spec 6.1): command, recognized, stream id, digest, length. */
#define S_RECOGNIZED_OFF 1
#define S_DIGEST_OFF 5

struct fb_tor_onion_key {
    EVP_PKEY *b;
    uint8_t b_pub[FB_TOR_KEY_LEN];
    uint8_t id[FB_TOR_ID_LEN];
};

/* ---- HKDF ------------------------------------------------------------------------------- */

static int s_hmac (const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                   uint8_t out[S_SHA256_LEN]) {
    unsigned int len = 0;
    /* HMAC() with an empty key wants a non-NULL pointer */
    static const uint8_t none = 0;
    if (!HMAC (EVP_sha256 (), key_len ? key : &none, (int)key_len, msg, msg_len, out, &len))
        return -1;
    return len == S_SHA256_LEN ? 0 : -1;
}

int fb_tor_crypto_hkdf_sha256 (const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                               size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out,
                               size_t out_len, fb_err_t *err) {
    uint8_t zeros[S_SHA256_LEN] = {0}, prk[S_SHA256_LEN], t[S_SHA256_LEN];
    if (out_len > 255 * S_SHA256_LEN || info_len > 1024)
        return fb_err_set (err, FB_EINPUT, "hkdf: cannot expand %zu bytes", out_len);
    /* RFC 5869 2.2: no salt means HashLen zeros */
    if (s_hmac (salt_len ? salt : zeros, salt_len ? salt_len : sizeof zeros, ikm, ikm_len, prk))
        return fb_err_set (err, FB_ESYS, "hkdf: HMAC-SHA256 failed in OpenSSL");
    /* T(i) = HMAC(PRK, T(i-1) | info | i) */
    uint8_t block[S_SHA256_LEN + 1024 + 1];
    size_t done = 0, t_len = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        memcpy (block, t, t_len);
        if (info_len)
            memcpy (block + t_len, info, info_len);
        block[t_len + info_len] = i;
        if (s_hmac (prk, sizeof prk, block, t_len + info_len + 1, t) != 0)
            return fb_err_set (err, FB_ESYS, "hkdf: HMAC-SHA256 failed in OpenSSL");
        t_len = S_SHA256_LEN;
        size_t n = out_len - done < S_SHA256_LEN ? out_len - done : S_SHA256_LEN;
        memcpy (out + done, t, n);
        done += n;
    }
    OPENSSL_cleanse (prk, sizeof prk);
    OPENSSL_cleanse (t, sizeof t);
    return 0;
}

/* ---- X25519 ----------------------------------------------------------------------------- */

static EVP_PKEY *s_x25519_new (const uint8_t *secret, uint8_t pub[FB_TOR_KEY_LEN]) {
    EVP_PKEY *key = NULL;
    if (secret)
        key = EVP_PKEY_new_raw_private_key (EVP_PKEY_X25519, NULL, secret, FB_TOR_KEY_LEN);
    else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id (EVP_PKEY_X25519, NULL);
        if (ctx && EVP_PKEY_keygen_init (ctx) > 0)
            EVP_PKEY_keygen (ctx, &key);
        EVP_PKEY_CTX_free (ctx);
    }
    size_t len = FB_TOR_KEY_LEN;
    if (key && (EVP_PKEY_get_raw_public_key (key, pub, &len) != 1 || len != FB_TOR_KEY_LEN)) {
        EVP_PKEY_free (key);
        key = NULL;
    }
    return key;
}

/* EXP(peer, mine); fails on an all-zero result (a non-contributory peer key). */
static int s_x25519_derive (EVP_PKEY *mine, const uint8_t peer_pub[FB_TOR_KEY_LEN],
                            uint8_t out[FB_TOR_KEY_LEN]) {
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key (EVP_PKEY_X25519, NULL, peer_pub, FB_TOR_KEY_LEN);
    EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new (mine, NULL) : NULL;
    size_t len = FB_TOR_KEY_LEN;
    int ok = ctx && EVP_PKEY_derive_init (ctx) > 0 && EVP_PKEY_derive_set_peer (ctx, peer) > 0 &&
             EVP_PKEY_derive (ctx, out, &len) > 0 && len == FB_TOR_KEY_LEN;
    EVP_PKEY_CTX_free (ctx);
    EVP_PKEY_free (peer);
    static const uint8_t zero[FB_TOR_KEY_LEN] = {0};
    return ok && CRYPTO_memcmp (out, zero, FB_TOR_KEY_LEN) != 0 ? 0 : -1;
}

fb_tor_onion_key_t *fb_tor_crypto_onion_key_new (const uint8_t id[FB_TOR_ID_LEN],
                                                 const uint8_t *secret, fb_err_t *err) {
    fb_tor_onion_key_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "tor: out of memory for an onion key");
        return NULL;
    }
    memcpy (self->id, id, FB_TOR_ID_LEN);
    self->b = s_x25519_new (secret, self->b_pub);
    if (!self->b) {
        fb_err_set (err, FB_ESYS, "tor: OpenSSL cannot make an X25519 key");
        free (self);
        return NULL;
    }
    return self;
}

void fb_tor_crypto_onion_key_destroy (fb_tor_onion_key_t **self_p) {
    fb_tor_onion_key_t *self = *self_p;
    if (!self)
        return;
    EVP_PKEY_free (self->b);
    free (self);
    *self_p = NULL;
}

const uint8_t *fb_tor_crypto_onion_key_public (const fb_tor_onion_key_t *self) {
    return self->b_pub;
}
const uint8_t *fb_tor_crypto_onion_key_id (const fb_tor_onion_key_t *self) { return self->id; }

/* ---- ntor ------------------------------------------------------------------------------- */

/* secret_input = xy | xb | ID | B | X | Y | PROTOID; its size: */
#define S_SECRET_LEN (2 * FB_TOR_KEY_LEN + FB_TOR_ID_LEN + 3 * FB_TOR_KEY_LEN + 24)
/* auth_input = verify | ID | B | Y | X | PROTOID | "Server" */
#define S_AUTH_INPUT_LEN (S_SHA256_LEN + FB_TOR_ID_LEN + 3 * FB_TOR_KEY_LEN + 24 + 6)

/* Both sides: from the two shared secrets to AUTH and the key material. */
static int s_ntor_derive (const uint8_t xy[FB_TOR_KEY_LEN], const uint8_t xb[FB_TOR_KEY_LEN],
                          const uint8_t id[FB_TOR_ID_LEN], const uint8_t b_pub[FB_TOR_KEY_LEN],
                          const uint8_t x_pub[FB_TOR_KEY_LEN], const uint8_t y_pub[FB_TOR_KEY_LEN],
                          uint8_t auth[S_SHA256_LEN], uint8_t *keys, size_t keys_len,
                          fb_err_t *err) {
    static const char protoid[] = S_PROTOID;
    static const char t_mac[] = S_PROTOID ":mac", t_key[] = S_PROTOID ":key_extract";
    static const char t_verify[] = S_PROTOID ":verify", m_expand[] = S_PROTOID ":key_expand";
    uint8_t secret[S_SECRET_LEN], ainput[S_AUTH_INPUT_LEN], *p = secret;
    memcpy (p, xy, 32), p += 32;
    memcpy (p, xb, 32), p += 32;
    memcpy (p, id, 20), p += 20;
    memcpy (p, b_pub, 32), p += 32;
    memcpy (p, x_pub, 32), p += 32;
    memcpy (p, y_pub, 32), p += 32;
    memcpy (p, protoid, 24);
    p = ainput;
    int rc = s_hmac ((const uint8_t *)t_verify, strlen (t_verify), secret, sizeof secret, p);
    p += S_SHA256_LEN;
    memcpy (p, id, 20), p += 20;
    memcpy (p, b_pub, 32), p += 32;
    memcpy (p, y_pub, 32), p += 32;
    memcpy (p, x_pub, 32), p += 32;
    memcpy (p, protoid, 24), p += 24;
    memcpy (p, "Server", 6);
    rc |= s_hmac ((const uint8_t *)t_mac, strlen (t_mac), ainput, sizeof ainput, auth);
    if (rc == 0)
        rc = fb_tor_crypto_hkdf_sha256 ((const uint8_t *)t_key, strlen (t_key), secret,
                                        sizeof secret, (const uint8_t *)m_expand, strlen (m_expand),
                                        keys, keys_len, err);
    else
        fb_err_set (err, FB_ESYS, "ntor: HMAC-SHA256 failed in OpenSSL");
    OPENSSL_cleanse (secret, sizeof secret);
    return rc;
}

int fb_tor_crypto_ntor_client_start (fb_tor_ntor_client_t *self, const uint8_t id[FB_TOR_ID_LEN],
                                     const uint8_t b_pub[FB_TOR_KEY_LEN], const uint8_t *x_secret,
                                     uint8_t onionskin[FB_TOR_ONIONSKIN_LEN], fb_err_t *err) {
    memset (self, 0, sizeof *self);
    self->x = s_x25519_new (x_secret, self->x_pub);
    if (!self->x)
        return fb_err_set (err, FB_ESYS, "ntor: OpenSSL cannot make an X25519 key");
    memcpy (self->id, id, FB_TOR_ID_LEN);
    memcpy (self->b_pub, b_pub, FB_TOR_KEY_LEN);
    memcpy (onionskin, id, FB_TOR_ID_LEN);
    memcpy (onionskin + FB_TOR_ID_LEN, b_pub, FB_TOR_KEY_LEN);
    memcpy (onionskin + FB_TOR_ID_LEN + FB_TOR_KEY_LEN, self->x_pub, FB_TOR_KEY_LEN);
    return 0;
}

void fb_tor_crypto_ntor_client_clear (fb_tor_ntor_client_t *self) {
    EVP_PKEY_free (self->x);
    memset (self, 0, sizeof *self);
}

int fb_tor_crypto_ntor_client_finish (fb_tor_ntor_client_t *self,
                                      const uint8_t reply[FB_TOR_REPLY_LEN], uint8_t *keys,
                                      size_t keys_len, fb_err_t *err) {
    const uint8_t *y_pub = reply, *auth = reply + FB_TOR_KEY_LEN;
    uint8_t xy[FB_TOR_KEY_LEN], xb[FB_TOR_KEY_LEN], mine[S_SHA256_LEN];
    int rc = -1;
    if (!self->x)
        fb_err_set (err, FB_ESTATE, "ntor: no handshake in progress");
    else if (s_x25519_derive (self->x, y_pub, xy) != 0 ||
             s_x25519_derive (self->x, self->b_pub, xb))
        fb_err_set (err, FB_EINPUT, "ntor: the relay's key Y is not a valid X25519 key");
    else if (s_ntor_derive (xy, xb, self->id, self->b_pub, self->x_pub, y_pub, mine, keys, keys_len,
                            err) == 0) {
        rc = CRYPTO_memcmp (mine, auth, S_SHA256_LEN) == 0 ? 0 : -1;
        if (rc != 0) {
            OPENSSL_cleanse (keys, keys_len);
            fb_err_set (err, FB_EINPUT, "ntor: the relay's AUTH does not match (wrong key?)");
        }
    }
    OPENSSL_cleanse (xy, sizeof xy);
    OPENSSL_cleanse (xb, sizeof xb);
    fb_tor_crypto_ntor_client_clear (self);
    return rc;
}

int fb_tor_crypto_ntor_server (const fb_tor_onion_key_t *key,
                               const uint8_t onionskin[FB_TOR_ONIONSKIN_LEN],
                               const uint8_t *y_secret, uint8_t reply[FB_TOR_REPLY_LEN],
                               uint8_t *keys, size_t keys_len, fb_err_t *err) {
    const uint8_t *id = onionskin, *b_pub = onionskin + FB_TOR_ID_LEN;
    const uint8_t *x_pub = onionskin + FB_TOR_ID_LEN + FB_TOR_KEY_LEN;
    if (CRYPTO_memcmp (id, key->id, FB_TOR_ID_LEN) != 0 ||
        CRYPTO_memcmp (b_pub, key->b_pub, FB_TOR_KEY_LEN) != 0)
        return fb_err_set (err, FB_EINPUT, "ntor: the onionskin is for another relay or key");
    uint8_t y_pub[FB_TOR_KEY_LEN], xy[FB_TOR_KEY_LEN], xb[FB_TOR_KEY_LEN];
    EVP_PKEY *y = s_x25519_new (y_secret, y_pub);
    if (!y)
        return fb_err_set (err, FB_ESYS, "ntor: OpenSSL cannot make an X25519 key");
    int rc = -1;
    if (s_x25519_derive (y, x_pub, xy) != 0 || s_x25519_derive (key->b, x_pub, xb) != 0)
        fb_err_set (err, FB_EINPUT, "ntor: the client's key X is not a valid X25519 key");
    else
        rc = s_ntor_derive (xy, xb, id, b_pub, x_pub, y_pub, reply + FB_TOR_KEY_LEN, keys, keys_len,
                            err);
    memcpy (reply, y_pub, FB_TOR_KEY_LEN);
    EVP_PKEY_free (y);
    OPENSSL_cleanse (xy, sizeof xy);
    OPENSSL_cleanse (xb, sizeof xb);
    return rc;
}

/* ---- relay crypto layers ---------------------------------------------------------------- */

static void s_dir_fini (fb_tor_dir_t *self) {
    EVP_CIPHER_CTX_free (self->aes);
    EVP_MD_CTX_free (self->running);
    EVP_MD_CTX_free (self->trial);
    EVP_MD_CTX_free (self->final);
    memset (self, 0, sizeof *self);
}

static int s_dir_init (fb_tor_dir_t *self, const uint8_t digest_seed[S_SHA1_LEN],
                       const uint8_t key[S_AES_KEY_LEN]) {
    static const uint8_t iv[16] = {0};
    self->aes = EVP_CIPHER_CTX_new ();
    self->running = EVP_MD_CTX_new ();
    self->trial = EVP_MD_CTX_new ();
    self->final = EVP_MD_CTX_new ();
    if (!self->aes || !self->running || !self->trial || !self->final ||
        EVP_EncryptInit_ex (self->aes, EVP_aes_128_ctr (), NULL, key, iv) != 1 ||
        EVP_DigestInit_ex (self->running, EVP_sha1 (), NULL) != 1 ||
        EVP_DigestUpdate (self->running, digest_seed, S_SHA1_LEN) != 1) {
        s_dir_fini (self);
        return -1;
    }
    return 0;
}

int fb_tor_crypto_layer_init (fb_tor_layer_t *self, const uint8_t keys[FB_TOR_KEYS_LEN],
                              fb_err_t *err) {
    memset (self, 0, sizeof *self);
    const uint8_t *df = keys, *db = keys + 20, *kf = keys + 40, *kb = keys + 56;
    if (s_dir_init (&self->fwd, df, kf) != 0 || s_dir_init (&self->back, db, kb) != 0) {
        fb_tor_crypto_layer_fini (self);
        return fb_err_set (err, FB_ESYS, "tor: OpenSSL cannot set up AES-128-CTR and SHA-1");
    }
    return 0;
}

void fb_tor_crypto_layer_fini (fb_tor_layer_t *self) {
    s_dir_fini (&self->fwd);
    s_dir_fini (&self->back);
}

void fb_tor_crypto_dir_crypt (fb_tor_dir_t *self, uint8_t *body, size_t len) {
    int out_len = 0;
    /* CTR mode: in place, same length, cannot fail once the context is set up */
    int ok = EVP_EncryptUpdate (self->aes, body, &out_len, body, (int)len);
    (void)ok;
}

/* The running digest so far (20 bytes), without disturbing it. */
static void s_peek_digest (fb_tor_dir_t *self, EVP_MD_CTX *from, uint8_t out[S_SHA1_LEN]) {
    unsigned int n = 0;
    EVP_MD_CTX_copy_ex (self->final, from);
    EVP_DigestFinal_ex (self->final, out, &n);
}

void fb_tor_crypto_dir_seal (fb_tor_dir_t *self, uint8_t *body, size_t len) {
    memset (body + S_DIGEST_OFF, 0, FB_TOR_DIGEST_LEN);
    EVP_DigestUpdate (self->running, body, len);
    s_peek_digest (self, self->running, self->last_digest);
    memcpy (body + S_DIGEST_OFF, self->last_digest, FB_TOR_DIGEST_LEN);
}

bool fb_tor_crypto_dir_recognize (fb_tor_dir_t *self, uint8_t *body, size_t len) {
    if (body[S_RECOGNIZED_OFF] != 0 || body[S_RECOGNIZED_OFF + 1] != 0)
        return false;
    uint8_t got[FB_TOR_DIGEST_LEN], d[S_SHA1_LEN];
    memcpy (got, body + S_DIGEST_OFF, FB_TOR_DIGEST_LEN);
    memset (body + S_DIGEST_OFF, 0, FB_TOR_DIGEST_LEN);
    EVP_MD_CTX_copy_ex (self->trial, self->running);
    EVP_DigestUpdate (self->trial, body, len);
    s_peek_digest (self, self->trial, d);
    memcpy (body + S_DIGEST_OFF, got, FB_TOR_DIGEST_LEN);
    if (CRYPTO_memcmp (got, d, FB_TOR_DIGEST_LEN) != 0)
        return false;
    void *keep = self->running; /* the trial becomes the running digest */
    self->running = self->trial;
    self->trial = keep;
    memcpy (self->last_digest, d, S_SHA1_LEN);
    return true;
}

int64_t fb_tor_crypto_thread_cpu_ns (void) {
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

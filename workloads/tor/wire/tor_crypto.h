/* tor_crypto.h: the cryptography of a Tor circuit, all through OpenSSL: HKDF-SHA256 (RFC 5869),
 * the ntor handshake (tor-spec 5.1.4: X25519, HMAC-SHA256, key expansion into Df Db Kf Kb) and
 * the per-hop relay crypto state (AES-128-CTR and a running SHA-1 digest per direction,
 * tor-spec 6.1 and 0.3). Nothing here does I/O or keeps global state. */
#ifndef FB_TOR_CRYPTO_H
#define FB_TOR_CRYPTO_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_TOR_ID_LEN 20        /* a relay's identity digest (tor's RSA identity, SHA-1 size) */
#define FB_TOR_KEY_LEN 32       /* an X25519 public or private key */
#define FB_TOR_ONIONSKIN_LEN 84 /* ntor client handshake: ID | B | X */
#define FB_TOR_REPLY_LEN 64     /* ntor server handshake: Y | AUTH */
#define FB_TOR_KEYS_LEN 72      /* Df(20) Db(20) Kf(16) Kb(16) */
#define FB_TOR_DIGEST_LEN 4     /* the relay cell's digest field */

/* HKDF-SHA256 (RFC 5869): extract with salt, expand with info into out (out_len <= 255*32). */
int fb_tor_crypto_hkdf_sha256 (const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                               size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out,
                               size_t out_len, fb_err_t *err);

/* A relay's long-term ntor keys: the onion key b/B and the identity ID it is bound to. */
typedef struct fb_tor_onion_key fb_tor_onion_key_t;

/* secret NULL: a fresh random key; otherwise the 32-byte X25519 private key (tests). */
fb_tor_onion_key_t *fb_tor_crypto_onion_key_new (const uint8_t id[FB_TOR_ID_LEN],
                                                 const uint8_t *secret, fb_err_t *err);
void fb_tor_crypto_onion_key_destroy (fb_tor_onion_key_t **self_p);
const uint8_t *fb_tor_crypto_onion_key_public (const fb_tor_onion_key_t *self); /* B, 32 bytes */
const uint8_t *fb_tor_crypto_onion_key_id (const fb_tor_onion_key_t *self);     /* ID, 20 bytes */

/* The client's half of one ntor handshake, between CREATE2 and CREATED2. */
typedef struct {
    void *x; /* EVP_PKEY *: the ephemeral key */
    uint8_t id[FB_TOR_ID_LEN];
    uint8_t b_pub[FB_TOR_KEY_LEN];
    uint8_t x_pub[FB_TOR_KEY_LEN];
} fb_tor_ntor_client_t;

/* Makes the onionskin for relay (id, B). x_secret NULL: a fresh ephemeral key. */
int fb_tor_crypto_ntor_client_start (fb_tor_ntor_client_t *self, const uint8_t id[FB_TOR_ID_LEN],
                                     const uint8_t b_pub[FB_TOR_KEY_LEN], const uint8_t *x_secret,
                                     uint8_t onionskin[FB_TOR_ONIONSKIN_LEN], fb_err_t *err);
/* Checks the relay's reply (AUTH) and expands keys_len bytes of key material. The state is
 * cleared whether it succeeds or not. */
int fb_tor_crypto_ntor_client_finish (fb_tor_ntor_client_t *self,
                                      const uint8_t reply[FB_TOR_REPLY_LEN], uint8_t *keys,
                                      size_t keys_len, fb_err_t *err);
void fb_tor_crypto_ntor_client_clear (fb_tor_ntor_client_t *self);

/* The relay's side: answers an onionskin addressed to key (ID and B must match) and expands
 * the same key material. y_secret NULL: a fresh ephemeral key. */
int fb_tor_crypto_ntor_server (const fb_tor_onion_key_t *key,
                               const uint8_t onionskin[FB_TOR_ONIONSKIN_LEN],
                               const uint8_t *y_secret, uint8_t reply[FB_TOR_REPLY_LEN],
                               uint8_t *keys, size_t keys_len, fb_err_t *err);

/* One direction of one hop: AES-128-CTR (IV zero) and the running SHA-1 digest seeded with
 * Df or Db. Three digest contexts so that a check can be tried and then kept or dropped. */
typedef struct {
    void *aes;               /* EVP_CIPHER_CTX * */
    void *running;           /* EVP_MD_CTX *: every relay cell of this hop and direction so far */
    void *trial;             /* EVP_MD_CTX *: running + the cell being checked */
    void *final;             /* EVP_MD_CTX *: a copy to finalize */
    uint8_t last_digest[20]; /* the running digest after the last cell sealed or recognized:
                                the tag of an authenticated SENDME (tor-spec 7.4) */
} fb_tor_dir_t;

/* Both directions of one hop; the client and the relay hold the same pair. */
typedef struct {
    fb_tor_dir_t fwd;  /* client -> relay: Df, Kf */
    fb_tor_dir_t back; /* relay -> client: Db, Kb */
} fb_tor_layer_t;

int fb_tor_crypto_layer_init (fb_tor_layer_t *self, const uint8_t keys[FB_TOR_KEYS_LEN],
                              fb_err_t *err);
void fb_tor_crypto_layer_fini (fb_tor_layer_t *self);

/* AES-128-CTR over one relay cell body (509 bytes), in place; the counter runs on. */
void fb_tor_crypto_dir_crypt (fb_tor_dir_t *self, uint8_t *body, size_t len);
/* Originates a cell at this hop: zeroes the digest field, adds the body to the running digest
 * and writes its first 4 bytes into the digest field. Then encrypt with fb_tor_crypto_dir_crypt. */
void fb_tor_crypto_dir_seal (fb_tor_dir_t *self, uint8_t *body, size_t len);
/* After decryption: true when recognized is 0 and the digest field matches the running digest
 * with this body added; the running digest then keeps the body. False leaves it unchanged. */
bool fb_tor_crypto_dir_recognize (fb_tor_dir_t *self, uint8_t *body, size_t len);

/* CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID): what crypto costs. */
int64_t fb_tor_crypto_thread_cpu_ns (void);

#endif

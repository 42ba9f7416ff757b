/* keys.h: CURVE key pairs as czmq certificate files: NAME.key holds the public key,
 * NAME.key_secret the secret one (mode 0600; a secret readable by group or others is refused). */
#ifndef FB_KEYS_H
#define FB_KEYS_H

#include "common/err.h"

#include <czmq.h>

/* Writes DIR/NAME.key and DIR/NAME.key_secret (0600). Refuses to overwrite an existing pair. */
int fb_keys_generate (const char *dir, const char *name, char public_txt[41], fb_err_t *err);
/* Loads a key pair for our own socket; path is NAME.key or NAME.key_secret. */
zcert_t *fb_keys_load_pair (const char *path, fb_err_t *err);
/* Reads the public key (Z85, 40 characters) of NAME.key. */
int fb_keys_load_public (const char *path, char public_txt[41], fb_err_t *err);

#endif

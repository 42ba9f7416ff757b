/* b64.h: base64 through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, with the padding handled. */
#ifndef FB_B64_H
#define FB_B64_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* malloc'd, NUL-terminated; NULL when out of memory. */
char *fb_b64_encode (const uint8_t *bytes, size_t len);
/* malloc'd bytes in *out, length in *len; bad base64 is an error. */
int fb_b64_decode (const char *text, size_t text_len, uint8_t **out, size_t *len, fb_err_t *err);

#endif

/* b64.c: base64 via OpenSSL. */
#include "common/b64.h"

#include <openssl/evp.h>
#include <stdlib.h>

char *fb_b64_encode (const uint8_t *bytes, size_t len) {
    char *text = malloc (4 * ((len + 2) / 3) + 1);
    if (text)
        EVP_EncodeBlock ((unsigned char *)text, bytes, (int)len);
    return text;
}

int fb_b64_decode (const char *text, size_t text_len, uint8_t **out, size_t *len, fb_err_t *err) {
    *out = NULL;
    *len = 0;
    if (text_len % 4 != 0 || text_len > 0x3fffffff)
        return fb_err_set (err, FB_EINPUT, "not base64: length %zu is not a multiple of 4",
                           text_len);
    uint8_t *bytes = malloc (text_len / 4 * 3 + 1);
    if (!bytes)
        return fb_err_set (err, FB_ENOMEM, "out of memory decoding base64");
    int n = EVP_DecodeBlock (bytes, (const unsigned char *)text, (int)text_len);
    if (n < 0) {
        free (bytes);
        return fb_err_set (err, FB_EINPUT, "not base64");
    }
    /* EVP_DecodeBlock counts '=' padding as zero bytes of output. */
    for (size_t i = text_len; i > 0 && text[i - 1] == '=' && n > 0; i--)
        n--;
    *out = bytes;
    *len = (size_t)n;
    return 0;
}

/* fuzz_url.c: fb_url_parse on arbitrary bytes (the url: of a scenario's http workload). A URL it
 * takes must give a host, a port in range, a target of visible ASCII starting with "/" and no
 * fragment, and parse the same when rebuilt from its scheme, authority and target; a refusal
 * must say why and point inside the text. */
#include "common/url.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    static char text[2 * FB_URL_TARGET_SIZE + 512];
    if (size >= sizeof text)
        return 0;
    memcpy (text, data, size);
    text[size] = '\0'; /* the parser reads C strings: a NUL in the input ends it */
    size_t len = strlen (text);
    fb_url_t url;
    fb_err_t err = {0};
    int col = -1;
    if (fb_url_parse (text, &url, &col, &err) != 0) {
        FB_FUZZ_CHECK (err.code == FB_EINPUT && err.msg[0], "refused without saying why");
        FB_FUZZ_CHECK (col >= 0 && (size_t)col <= len, "column %d in %zu bytes", col, len);
        return 0;
    }
    FB_FUZZ_CHECK (url.host[0] && memchr (url.host, '\0', sizeof url.host), "host");
    FB_FUZZ_CHECK (url.port >= 1 && url.port <= 65535, "port %d", url.port);
    FB_FUZZ_CHECK (url.target[0] == '/' && !strchr (url.target, '#'), "target %s", url.target);
    for (const char *c = url.target; *c; c++)
        FB_FUZZ_CHECK (*c > 0x20 && *c < 0x7f, "byte 0x%02x in the target", (unsigned char)*c);
    FB_FUZZ_CHECK (url.authority[0] && strstr (url.authority, url.host), "authority %s",
                   url.authority);

    static char again_text[sizeof text + 16];
    snprintf (again_text, sizeof again_text, "%s://%s%s", url.tls ? "https" : "http", url.authority,
              url.target);
    fb_url_t again;
    FB_FUZZ_CHECK (fb_url_parse (again_text, &again, NULL, &err) == 0, "%s refused: %s", again_text,
                   err.msg);
    FB_FUZZ_CHECK (
        again.tls == url.tls && again.port == url.port && strcmp (again.host, url.host) == 0 &&
            strcmp (again.target, url.target) == 0 && strcmp (again.authority, url.authority) == 0,
        "%s parses otherwise", again_text);
    return 0;
}

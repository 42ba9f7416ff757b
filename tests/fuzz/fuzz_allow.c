/* fuzz_allow.c: fb_allow_parse on arbitrary bytes (the agent's --allow file decides which
 * commands a plan may name). The bytes are passed without a terminating NUL. A list that parses
 * must always allow fb-child, and every name it lists must resolve to an argv. */
#include "agent/allow.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    fb_err_t err = {0};
    fb_allow_t *allow = fb_allow_parse ((const char *)data, size, "allow.yaml", &err);
    if (!allow) {
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
        return 0;
    }
    FB_FUZZ_CHECK (fb_allow_has (allow, FB_ALLOW_HELPER), "fb-child is not allowed");
    const char *const *helper = fb_allow_argv (allow, FB_ALLOW_HELPER, "/usr/lib/fleetbench");
    FB_FUZZ_CHECK (helper && helper[0], "fb-child has no argv");

    char small[16];
    fb_allow_names (allow, small, sizeof small);
    FB_FUZZ_CHECK (memchr (small, '\0', sizeof small) != NULL, "names overflow a small buffer");
    /* Large enough for every name uncut: 64 bytes and ", " per entry. */
    static char names[(FB_ALLOW_MAX_ENTRIES + 1) * 66 + 8];
    fb_allow_names (allow, names, sizeof names);
    char *save = NULL;
    for (char *name = strtok_r (names, ", ", &save); name; name = strtok_r (NULL, ", ", &save)) {
        FB_FUZZ_CHECK (fb_allow_has (allow, name), "\"%s\" is listed but not allowed", name);
        const char *const *argv = fb_allow_argv (allow, name, "/usr/lib/fleetbench");
        FB_FUZZ_CHECK (argv && argv[0], "\"%s\" is allowed but has no argv", name);
        int n = 0;
        while (argv[n])
            FB_FUZZ_CHECK (++n <= FB_ALLOW_MAX_ARGS, "\"%s\" has over %d args", name,
                           FB_ALLOW_MAX_ARGS);
    }
    FB_FUZZ_CHECK (!fb_allow_has (allow, "not allowed"), "a name with a space is allowed");
    fb_allow_destroy (&allow);
    return 0;
}

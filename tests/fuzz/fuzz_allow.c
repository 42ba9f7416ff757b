/* fuzz_allow.c: fb_allow_parse on arbitrary bytes (the agent's --allow file decides which
 * commands a plan may name and where its workloads may connect). The bytes are passed without a
 * terminating NUL. A list that parses must always allow fb-child, every name it lists must
 * resolve to an argv, and "http" is never a command. Host names of http: entries are resolved
 * by a fake resolver: a fuzzer must not send DNS queries. */
#include "agent/allow.h"
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Names ending in ".invalid" do not resolve; "localhost" is 127.0.0.1 and ::1; any other name
 * is one address in 10.0.0.0/8 made from its bytes. */
static int s_resolve (const char *name, struct sockaddr_storage *addrs, int max, char *why,
                      size_t why_size) {
    size_t len = strlen (name);
    if (max < 2 || (len >= 8 && strcmp (name + len - 8, ".invalid") == 0)) {
        snprintf (why, why_size, "Name or service not known");
        return -1;
    }
    memset (addrs, 0, 2 * sizeof *addrs);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addrs[0];
    v4->sin_family = AF_INET;
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (uint8_t)name[i]) * 16777619u;
    v4->sin_addr.s_addr =
        htonl (strcmp (name, "localhost") == 0 ? 0x7f000001 : 0x0a000000 | (hash >> 8));
    if (strcmp (name, "localhost") != 0)
        return 1;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addrs[1];
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_loopback;
    return 2;
}

/* The http: entries: names cut safely, nothing matched without an entry, port 0 never. */
static void s_check_http (const fb_allow_t *allow) {
    char small[16];
    fb_allow_http_names (allow, small, sizeof small);
    FB_FUZZ_CHECK (memchr (small, '\0', sizeof small) != NULL, "http names overflow a buffer");
    static char names[FB_NETALLOW_MAX_ENTRIES * 310];
    fb_allow_http_names (allow, names, sizeof names);
    bool none = strcmp (names, "none") == 0;
    static const char *const probes[] = {"127.0.0.1", "10.1.2.3", "0.0.0.0", "255.255.255.255"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        struct sockaddr_in v4 = {.sin_family = AF_INET};
        inet_pton (AF_INET, probes[i], &v4.sin_addr);
        struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
        memset (&mapped.sin6_addr.s6_addr[10], 0xff, 2);
        memcpy (&mapped.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
        for (int port = 0; port <= 65536; port += 8191) {
            bool yes = fb_allow_http (allow, (const struct sockaddr *)&v4, port);
            FB_FUZZ_CHECK (!yes || (!none && port >= 1 && port <= 65535), "%s:%d allowed by %s",
                           probes[i], port, names);
            FB_FUZZ_CHECK (yes == fb_allow_http (allow, (const struct sockaddr *)&mapped, port),
                           "%s and ::ffff:%s differ on port %d", probes[i], probes[i], port);
        }
    }
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
    FB_FUZZ_CHECK (!none || !fb_allow_http (allow, (const struct sockaddr *)&v6, 80),
                   "::1 allowed without an entry");
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    fb_err_t err = {0};
    fb_allow_t *allow =
        fb_allow_parse_with_resolver ((const char *)data, size, "allow.yaml", s_resolve, &err);
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
    FB_FUZZ_CHECK (!fb_allow_has (allow, "http"), "http is a command");
    s_check_http (allow);
    fb_allow_destroy (&allow);
    return 0;
}

/* endpoint.c: is an endpoint loopback only? */
#include "common/endpoint.h"

#include <stdlib.h>
#include <string.h>

bool fb_endpoint_is_loopback (const char *endpoint) {
    const char *host = strstr (endpoint, "://");
    host = host ? host + 3 : endpoint;
    return strncmp (host, "127.", 4) == 0 || strncmp (host, "localhost:", 10) == 0 ||
           strncmp (host, "[::1]:", 6) == 0;
}

int fb_endpoint_port (const char *endpoint, int *port, fb_err_t *err) {
    *port = -1;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *colon = strrchr (endpoint + 6, ':');
    const char *text = colon ? colon + 1 : "";
    if (strcmp (text, "*") == 0) {
        *port = 0;
        return 0;
    }
    char *end = NULL;
    long value = strtol (text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || value > 65535)
        return fb_err_set (err, FB_EINPUT,
                           "%s: the port must be 1 to 65535, or 0 or * for one the system "
                           "picks (got \"%s\")",
                           endpoint, text);
    *port = (int)value;
    return 0;
}

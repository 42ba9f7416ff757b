/* endpoint.c: is an endpoint loopback only? */
#include "common/endpoint.h"

#include <string.h>

bool fb_endpoint_is_loopback (const char *endpoint) {
    const char *host = strstr (endpoint, "://");
    host = host ? host + 3 : endpoint;
    return strncmp (host, "127.", 4) == 0 || strncmp (host, "localhost:", 10) == 0 ||
           strncmp (host, "[::1]:", 6) == 0;
}

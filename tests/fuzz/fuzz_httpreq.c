/* fuzz_httpreq.c: fb_httpreq_parse on arbitrary bytes (what any client of the metrics endpoint
 * may send). A head it accepts must have a method, an origin-form path and HTTP/1.0 or 1.1, end
 * within the bytes given, and parse the same from its own bytes alone; anything unfinished
 * below the size limit is PARTIAL, never more. */
#include "coordinator/httpreq.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    fb_httpreq_t req;
    fb_httpreq_status_t st = fb_httpreq_parse ((const char *)data, size, &req);
    int code = fb_httpreq_status_code (st);
    FB_FUZZ_CHECK (code == 0 || code == 200 || code == 400 || code == 414 || code == 431 ||
                       code == 505,
                   "status %d", code);
    FB_FUZZ_CHECK (st != FB_HTTPREQ_PARTIAL || size < FB_HTTPREQ_MAX_BYTES,
                   "%zu bytes still partial", size);
    if (st != FB_HTTPREQ_OK)
        return 0;
    FB_FUZZ_CHECK (req.head_len > 0 && req.head_len <= size && req.head_len <= FB_HTTPREQ_MAX_BYTES,
                   "head of %zu bytes in %zu", req.head_len, size);
    FB_FUZZ_CHECK (req.method[0] && memchr (req.method, '\0', sizeof req.method), "method");
    FB_FUZZ_CHECK (req.path[0] == '/' && strlen (req.path) <= strlen (req.target), "path");
    FB_FUZZ_CHECK (req.minor == 0 || req.minor == 1, "HTTP/1.%d", req.minor);
    FB_FUZZ_CHECK (req.n_fields <= FB_HTTPREQ_MAX_FIELDS, "%d fields", req.n_fields);
    fb_httpreq_t again;
    FB_FUZZ_CHECK (fb_httpreq_parse ((const char *)data, req.head_len, &again) == FB_HTTPREQ_OK &&
                       again.head_len == req.head_len && strcmp (again.path, req.path) == 0,
                   "the head alone parses otherwise");
    return 0;
}

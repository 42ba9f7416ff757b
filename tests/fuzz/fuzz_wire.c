/* fuzz_wire.c: fb_wire_unpack on arbitrary frames (every frame an agent or a stranger sends the
 * coordinator, and the other way round). What decodes must pack again, and the packed bytes
 * must decode to the same message: pack (unpack (pack (m))) == pack (m). */
#include "common/wire.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
    fb_err_t err = {0};
    fb_msg_t *msg = fb_wire_unpack (data, size, &err);
    if (!msg) {
        FB_FUZZ_CHECK (err.code != 0 && err.msg[0] != '\0', "refused without saying why");
        return 0;
    }
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    FB_FUZZ_CHECK (fb_wire_pack (msg, &first, &first_len, &err) == 0,
                   "a decoded %s does not pack again: %s", fb_wire_msg_type_name (msg->type),
                   err.msg);
    fb_msg_t *again = fb_wire_unpack (first, first_len, &err);
    FB_FUZZ_CHECK (again != NULL, "a re-packed %s does not decode: %s",
                   fb_wire_msg_type_name (msg->type), err.msg);
    FB_FUZZ_CHECK (again->type == msg->type && again->version == msg->version, "%s came back as %s",
                   fb_wire_msg_type_name (msg->type), fb_wire_msg_type_name (again->type));
    FB_FUZZ_CHECK (fb_wire_pack (again, &second, &second_len, &err) == 0,
                   "a twice-decoded %s does not pack: %s", fb_wire_msg_type_name (msg->type),
                   err.msg);
    FB_FUZZ_CHECK (first_len == second_len && memcmp (first, second, first_len) == 0,
                   "%s changed on a round trip (%zu bytes, then %zu)",
                   fb_wire_msg_type_name (msg->type), first_len, second_len);
    free (first);
    free (second);
    fb_wire_msg_destroy (&again);
    fb_wire_msg_destroy (&msg);
    return 0;
}

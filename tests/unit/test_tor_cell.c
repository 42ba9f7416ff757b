/* test_tor_cell.c: Tor cell packing and parsing (workloads/tor/wire/tor_cell.c): round trips of
 * every cell we send, the byte layout tor-spec fixes, and bad cells (wrong length, lengths that
 * run past the cell) refused with an error, never read past their end; unknown commands are
 * told apart so that callers drop them. */
#include "workloads/tor/wire/tor_cell.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_fixed_cell_round_trip_has_tor_layout (void **state) {
    (void)state;
    fb_tor_cell_t cell, back;
    uint8_t onionskin[FB_TOR_ONIONSKIN_LEN], wire[FB_TOR_CELL_LEN], got[FB_TOR_ONIONSKIN_LEN];
    for (int i = 0; i < FB_TOR_ONIONSKIN_LEN; i++)
        onionskin[i] = (uint8_t)i;
    fb_tor_cell_create2_encode (&cell, 0x80000005u, onionskin);
    fb_tor_cell_encode (&cell, wire);
    /* circ id (4, big endian), command 10, HTYPE 2, HLEN 84 */
    const uint8_t head[] = {0x80, 0, 0, 5, 10, 0, 2, 0, 84};
    assert_memory_equal (wire, head, sizeof head);
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_frame (wire, sizeof wire, true), FB_TOR_CELL_LEN);
    assert_int_equal (fb_tor_cell_frame (wire, sizeof wire - 1, true), 0);
    assert_int_equal (fb_tor_cell_decode (wire, sizeof wire, &back, &err), 0);
    assert_int_equal (back.circ_id, 0x80000005u);
    assert_int_equal (fb_tor_cell_create2_decode (&back, got, &err), 0);
    assert_memory_equal (got, onionskin, sizeof got);
}

static void test_bad_fixed_cells_are_refused (void **state) {
    (void)state;
    uint8_t wire[FB_TOR_CELL_LEN + 1] = {0};
    fb_tor_cell_t cell;
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_decode (wire, FB_TOR_CELL_LEN - 1, &cell, &err), -1);
    assert_non_null (strstr (err.msg, "513 bytes"));
    assert_int_equal (fb_tor_cell_decode (wire, FB_TOR_CELL_LEN + 1, &cell, &err), -1);
    wire[4] = 77; /* no such command: not a cell to decode, but one to drop (tor-spec 3) */
    assert_int_equal (fb_tor_cell_decode (wire, FB_TOR_CELL_LEN, &cell, &err), -1);
    assert_non_null (strstr (err.msg, "unknown cell command 77"));
    assert_false (fb_tor_cell_known (77));
    assert_true (fb_tor_cell_known (FB_TOR_CELL_CREATE2));
    assert_true (fb_tor_cell_known (FB_TOR_CELL_PADDING_NEGOTIATE));
    /* CREATE2 with another handshake type or length */
    fb_tor_cell_t create = {.command = FB_TOR_CELL_CREATE2};
    uint8_t skin[FB_TOR_ONIONSKIN_LEN];
    create.payload[1] = 1; /* TAP */
    assert_int_equal (fb_tor_cell_create2_decode (&create, skin, &err), -1);
    create.payload[1] = 2;
    create.payload[3] = 83;
    assert_int_equal (fb_tor_cell_create2_decode (&create, skin, &err), -1);
    fb_tor_cell_t created = {.command = FB_TOR_CELL_CREATED2};
    uint8_t reply[FB_TOR_REPLY_LEN];
    created.payload[0] = 0xff; /* HLEN 65280 */
    assert_int_equal (fb_tor_cell_created2_decode (&created, reply, &err), -1);
}

static void test_versions_framing_and_negotiation (void **state) {
    (void)state;
    uint8_t buf[64];
    size_t len = fb_tor_cell_versions_encode (buf, sizeof buf);
    const uint8_t want[] = {0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5}; /* tor-spec 4.1 lists 3 too */
    assert_int_equal (len, sizeof want);
    assert_memory_equal (buf, want, len);
    assert_int_equal (fb_tor_cell_frame (buf, len, false), (int)len);
    assert_int_equal (fb_tor_cell_frame (buf, 4, false), 0);
    int version = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_versions_decode (buf, len, &version, &err), 0);
    assert_int_equal (version, 5);
    /* only versions 1..3: nothing in common */
    const uint8_t old[] = {0, 0, 7, 0, 4, 0, 2, 0, 3};
    assert_int_equal (fb_tor_cell_versions_decode (old, sizeof old, &version, &err), -1);
    /* a length that does not match the bytes */
    const uint8_t lying[] = {0, 0, 7, 0, 9, 0, 4};
    assert_int_equal (fb_tor_cell_versions_decode (lying, sizeof lying, &version, &err), -1);
    /* the first cell must be VERSIONS; a huge variable cell is no cell */
    uint8_t create[8] = {0, 0, 10};
    assert_int_equal (fb_tor_cell_frame (create, sizeof create, false), -1);
    uint8_t huge[8] = {0, 0, 0, 1, 129, 0xff, 0xff};
    assert_int_equal (fb_tor_cell_frame (huge, sizeof huge, true), -1);
}

/* A var cell header (4-byte circuit id) for a cell of total bytes. */
static void s_var_header (uint8_t head[7], uint8_t command, size_t total) {
    memset (head, 0, 7);
    head[4] = command;
    head[5] = (uint8_t)((total - 7) >> 8);
    head[6] = (uint8_t)(total - 7);
}

static void test_real_relays_certs_cell_is_framed_and_over_cap_refused (void **state) {
    (void)state;
    static uint8_t buf[FB_TOR_VAR_MAX + 8];
    /* tor 0.4.9.11 relays send a CERTS cell (command 129) of 1477 bytes after VERSIONS */
    s_var_header (buf, 129, 1477);
    assert_int_equal (fb_tor_cell_frame (buf, 1476, true), 0); /* more bytes needed */
    assert_int_equal (fb_tor_cell_frame (buf, 1477, true), 1477);
    assert_int_equal (fb_tor_cell_frame (buf, sizeof buf, true), 1477);
    /* the cap is a sane one: well above what relays send, below what the length field allows */
    assert_true (FB_TOR_VAR_MAX >= 4 * 1477 && FB_TOR_VAR_MAX < 65535 + 7);
    s_var_header (buf, 129, FB_TOR_VAR_MAX);
    assert_int_equal (fb_tor_cell_frame (buf, sizeof buf, true), FB_TOR_VAR_MAX);
    s_var_header (buf, 129, FB_TOR_VAR_MAX + 1);
    assert_int_equal (fb_tor_cell_frame (buf, 7, true), -1); /* refused from its header */
}

static void test_netinfo_round_trip_and_overrun (void **state) {
    (void)state;
    fb_tor_cell_t cell;
    fb_tor_cell_netinfo_encode (&cell, 1700000000u, 0x7f000001u, 0x7f000002u);
    uint32_t other = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_netinfo_decode (&cell, &other, &err), 0);
    assert_int_equal (other, 0x7f000001u);
    cell.payload[4] = 6; /* an address type we skip, 255 bytes long: still inside the cell */
    cell.payload[5] = 255;
    assert_int_equal (fb_tor_cell_netinfo_decode (&cell, &other, &err), 0);
    assert_int_equal (other, 0);
    cell.payload[4 + 2 + 255] = 255; /* NMYADDR: 255 addresses cannot fit in what is left */
    assert_int_equal (fb_tor_cell_netinfo_decode (&cell, &other, &err), -1);
}

static void test_relay_cell_layout_and_bad_fields (void **state) {
    (void)state;
    uint8_t body[FB_TOR_PAYLOAD_LEN];
    fb_tor_cell_relay_encode (body, FB_TOR_RELAY_DATA, 0x1234, (const uint8_t *)"hello", 5);
    const uint8_t head[] = {2, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0};
    assert_memory_equal (body, head, sizeof head);
    fb_tor_relay_t relay;
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_relay_decode (body, &relay, &err), 0);
    assert_int_equal (relay.stream_id, 0x1234);
    assert_int_equal (relay.length, 5);
    assert_memory_equal (relay.data, "hello", 5);
    body[9] = 1;
    body[10] = 243; /* 499 > 498 */
    assert_int_equal (fb_tor_cell_relay_decode (body, &relay, &err), -1);
    assert_non_null (strstr (err.msg, "499"));
    body[9] = 0;
    body[0] = 200; /* a command we do not know: it decodes, and the caller drops it */
    assert_int_equal (fb_tor_cell_relay_decode (body, &relay, &err), 0);
    assert_int_equal (relay.command, 200);
    assert_false (fb_tor_cell_relay_known (200));
    assert_true (fb_tor_cell_relay_known (FB_TOR_RELAY_EXTENDED2));
}

static void test_relay_cell_padding_is_four_zeros_then_random (void **state) {
    (void)state;
    uint8_t a[FB_TOR_PAYLOAD_LEN], b[FB_TOR_PAYLOAD_LEN], zeros[FB_TOR_PAYLOAD_LEN] = {0};
    fb_tor_cell_relay_encode (a, FB_TOR_RELAY_DATA, 1, (const uint8_t *)"hello", 5);
    fb_tor_cell_relay_encode (b, FB_TOR_RELAY_DATA, 1, (const uint8_t *)"hello", 5);
    size_t pad = FB_TOR_RELAY_HEADER_LEN + 5; /* tor-spec 6.1: 4 zero bytes, then random */
    assert_memory_equal (a, b, pad);
    assert_memory_equal (a + pad, zeros, 4);
    assert_memory_not_equal (a + pad + 4, zeros, FB_TOR_PAYLOAD_LEN - pad - 4);
    assert_memory_not_equal (a + pad + 4, b + pad + 4, FB_TOR_PAYLOAD_LEN - pad - 4);
    /* a cell with fewer than 4 bytes left pads with zeros only; a full one has no padding */
    uint8_t data[FB_TOR_RELAY_DATA_LEN];
    memset (data, 0xee, sizeof data);
    fb_tor_cell_relay_encode (a, FB_TOR_RELAY_DATA, 1, data, FB_TOR_RELAY_DATA_LEN - 2);
    assert_int_equal (a[FB_TOR_PAYLOAD_LEN - 2], 0);
    assert_int_equal (a[FB_TOR_PAYLOAD_LEN - 1], 0);
    fb_tor_cell_relay_encode (a, FB_TOR_RELAY_DATA, 1, data, FB_TOR_RELAY_DATA_LEN);
    assert_int_equal (a[FB_TOR_PAYLOAD_LEN - 1], 0xee);
}

static void test_extend2_round_trip_and_truncations (void **state) {
    (void)state;
    fb_tor_extend2_t in = {.ipv4 = 0x7f000001u, .port = 9001}, out;
    memset (in.id, 0xab, sizeof in.id);
    memset (in.onionskin, 0xcd, sizeof in.onionskin);
    uint8_t data[FB_TOR_RELAY_DATA_LEN];
    size_t len = fb_tor_cell_extend2_encode (&in, data, sizeof data);
    assert_int_equal (len, 1 + 8 + 22 + 4 + 84);
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_extend2_decode (data, len, &out, &err), 0);
    assert_int_equal (out.ipv4, in.ipv4);
    assert_int_equal (out.port, 9001);
    assert_memory_equal (out.id, in.id, sizeof in.id);
    assert_memory_equal (out.onionskin, in.onionskin, sizeof in.onionskin);
    for (size_t cut = 0; cut < len; cut++) /* every truncation is refused */
        assert_int_equal (fb_tor_cell_extend2_decode (data, cut, &out, &err), -1);
    data[2] = 200; /* a link specifier longer than the data */
    assert_int_equal (fb_tor_cell_extend2_decode (data, len, &out, &err), -1);

    uint8_t reply[FB_TOR_REPLY_LEN] = {1, 2, 3}, got[FB_TOR_REPLY_LEN];
    len = fb_tor_cell_extended2_encode (reply, data, sizeof data);
    assert_int_equal (fb_tor_cell_extended2_decode (data, len, got, &err), 0);
    assert_memory_equal (got, reply, sizeof got);
    assert_int_equal (fb_tor_cell_extended2_decode (data, len - 1, got, &err), -1);
}

static void test_begin_and_sendme (void **state) {
    (void)state;
    uint8_t data[64];
    size_t len = fb_tor_cell_begin_encode ("127.0.0.1", 80, data, sizeof data);
    assert_int_equal (len, strlen ("127.0.0.1:80") + 1 + 4);
    char address[32];
    uint16_t port = 0;
    fb_err_t err = {0};
    assert_int_equal (fb_tor_cell_begin_decode (data, len, address, sizeof address, &port, &err),
                      0);
    assert_string_equal (address, "127.0.0.1");
    assert_int_equal (port, 80);
    assert_int_equal (fb_tor_cell_begin_decode (data, 5, address, sizeof address, &port, &err), -1);
    assert_int_equal (fb_tor_cell_begin_decode ((const uint8_t *)"x:99999", 8, address,
                                                sizeof address, &port, &err),
                      -1);
    assert_int_equal (fb_tor_cell_begin_decode ((const uint8_t *)"noport", 7, address,
                                                sizeof address, &port, &err),
                      -1);

    uint8_t tag[20], got[20];
    memset (tag, 0x5a, sizeof tag);
    bool has = false;
    len = fb_tor_cell_sendme_encode (tag, data, sizeof data);
    assert_int_equal (len, 23);
    assert_int_equal (fb_tor_cell_sendme_decode (data, len, got, &has, &err), 0);
    assert_true (has);
    assert_memory_equal (got, tag, 20);
    assert_int_equal (fb_tor_cell_sendme_decode (data, 22, got, &has, &err), -1);
    assert_int_equal (fb_tor_cell_sendme_decode (data, 0, got, &has, &err), 0);
    assert_false (has);
}

int main (void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixed_cell_round_trip_has_tor_layout),
        cmocka_unit_test (test_bad_fixed_cells_are_refused),
        cmocka_unit_test (test_versions_framing_and_negotiation),
        cmocka_unit_test (test_real_relays_certs_cell_is_framed_and_over_cap_refused),
        cmocka_unit_test (test_netinfo_round_trip_and_overrun),
        cmocka_unit_test (test_relay_cell_layout_and_bad_fields),
        cmocka_unit_test (test_relay_cell_padding_is_four_zeros_then_random),
        cmocka_unit_test (test_extend2_round_trip_and_truncations),
        cmocka_unit_test (test_begin_and_sendme),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

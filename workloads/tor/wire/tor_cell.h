/* tor_cell.h: Tor cells on the wire (tor-spec 3, 4, 5, 6): link framing, fixed 514-byte cells,
 * the variable-length VERSIONS cell, NETINFO, CREATE2/CREATED2, DESTROY, and the relay cell
 * with its payloads (EXTEND2, EXTENDED2, BEGIN, CONNECTED, END, SENDME). Everything that
 * decodes checks every length: the bytes come from outside this process's control. */
#ifndef FB_TOR_CELL_H
#define FB_TOR_CELL_H

#include "common/err.h"
#include "workloads/tor/wire/tor_crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_TOR_CELL_LEN 514 /* link protocol 4+: circ id 4, command 1, payload 509 */
#define FB_TOR_PAYLOAD_LEN 509
#define FB_TOR_RELAY_HEADER_LEN 11
#define FB_TOR_RELAY_DATA_LEN 498 /* FB_TOR_PAYLOAD_LEN - FB_TOR_RELAY_HEADER_LEN */
/* The longest variable-length cell we accept, header included. Real relays send a CERTS cell of
 * about 1.5 KB; the 16-bit length field allows 64 KB, and a cap keeps one peer from making a
 * link buffer that much. */
#define FB_TOR_VAR_MAX 16384
#define FB_TOR_LINK_VERSION 4 /* the link protocol we speak (4-byte circuit ids) */

/* Cell commands (tor-spec 3). */
enum {
    FB_TOR_CELL_PADDING = 0,
    FB_TOR_CELL_CREATE = 1,
    FB_TOR_CELL_CREATED = 2,
    FB_TOR_CELL_RELAY = 3,
    FB_TOR_CELL_DESTROY = 4,
    FB_TOR_CELL_CREATE_FAST = 5,
    FB_TOR_CELL_CREATED_FAST = 6,
    FB_TOR_CELL_VERSIONS = 7,
    FB_TOR_CELL_NETINFO = 8,
    FB_TOR_CELL_RELAY_EARLY = 9,
    FB_TOR_CELL_CREATE2 = 10,
    FB_TOR_CELL_CREATED2 = 11,
    FB_TOR_CELL_PADDING_NEGOTIATE = 12,
};

/* Relay commands (tor-spec 6.1). */
enum {
    FB_TOR_RELAY_BEGIN = 1,
    FB_TOR_RELAY_DATA = 2,
    FB_TOR_RELAY_END = 3,
    FB_TOR_RELAY_CONNECTED = 4,
    FB_TOR_RELAY_SENDME = 5,
    FB_TOR_RELAY_EXTEND = 6,
    FB_TOR_RELAY_EXTENDED = 7,
    FB_TOR_RELAY_TRUNCATE = 8,
    FB_TOR_RELAY_TRUNCATED = 9,
    FB_TOR_RELAY_DROP = 10,
    FB_TOR_RELAY_EXTEND2 = 14,
    FB_TOR_RELAY_EXTENDED2 = 15,
};

/* DESTROY reasons (tor-spec 5.4) and END reasons (tor-spec 6.3), the ones we use. */
enum {
    FB_TOR_DESTROY_NONE = 0,
    FB_TOR_DESTROY_PROTOCOL = 1,
    FB_TOR_DESTROY_INTERNAL = 2,
    FB_TOR_DESTROY_REQUESTED = 3,
    FB_TOR_DESTROY_CONNECTFAILED = 6,
    FB_TOR_DESTROY_CHANNEL_CLOSED = 8,
    FB_TOR_DESTROY_FINISHED = 9,
};
enum {
    FB_TOR_END_MISC = 1,
    FB_TOR_END_CONNECTREFUSED = 3,
    FB_TOR_END_EXITPOLICY = 4,
    FB_TOR_END_DESTROY = 5,
    FB_TOR_END_DONE = 6,
    FB_TOR_END_TORPROTOCOL = 13,
};

typedef struct {
    uint32_t circ_id;
    uint8_t command;
    uint8_t payload[FB_TOR_PAYLOAD_LEN];
} fb_tor_cell_t;

/* The length of the next whole cell in buf: > 0 a cell of that many bytes, 0 more bytes are
 * needed, -1 the bytes cannot be a cell (a variable cell longer than FB_TOR_VAR_MAX). Before
 * the link version is agreed (negotiated false) circuit ids are 2 bytes and only VERSIONS may
 * come. */
int fb_tor_cell_frame (const uint8_t *buf, size_t len, bool negotiated);
/* Whether command is a variable-length cell (VERSIONS, or 128 and up). */
bool fb_tor_cell_is_var (uint8_t command);
/* Whether command is a fixed-length cell command we know. tor-spec 3: a cell with a command
 * one does not know is dropped, not an error. */
bool fb_tor_cell_known (uint8_t command);

void fb_tor_cell_encode (const fb_tor_cell_t *cell, uint8_t out[FB_TOR_CELL_LEN]);
/* A fixed-length cell: exactly FB_TOR_CELL_LEN bytes and a known fixed-cell command. */
int fb_tor_cell_decode (const uint8_t *buf, size_t len, fb_tor_cell_t *cell, fb_err_t *err);

/* VERSIONS (2-byte circuit id 0): we list 3, 4 and 5, as tor does (3 names the handshake in
 * cells that 4 and 5 also use; we only agree on 4 or 5). Returns its length. */
size_t fb_tor_cell_versions_encode (uint8_t *out, size_t cap);
/* The highest version both sides speak, which must be at least 4; error when none. */
int fb_tor_cell_versions_decode (const uint8_t *buf, size_t len, int *version, fb_err_t *err);

/* NETINFO with IPv4 addresses (host byte order). */
void fb_tor_cell_netinfo_encode (fb_tor_cell_t *cell, uint32_t now_s, uint32_t other_ipv4,
                                 uint32_t my_ipv4);
int fb_tor_cell_netinfo_decode (const fb_tor_cell_t *cell, uint32_t *other_ipv4, fb_err_t *err);

/* CREATE2 with an ntor onionskin; CREATED2 with the ntor reply; DESTROY with a reason. */
void fb_tor_cell_create2_encode (fb_tor_cell_t *cell, uint32_t circ_id,
                                 const uint8_t onionskin[FB_TOR_ONIONSKIN_LEN]);
int fb_tor_cell_create2_decode (const fb_tor_cell_t *cell, uint8_t onionskin[FB_TOR_ONIONSKIN_LEN],
                                fb_err_t *err);
void fb_tor_cell_created2_encode (fb_tor_cell_t *cell, uint32_t circ_id,
                                  const uint8_t reply[FB_TOR_REPLY_LEN]);
int fb_tor_cell_created2_decode (const fb_tor_cell_t *cell, uint8_t reply[FB_TOR_REPLY_LEN],
                                 fb_err_t *err);
void fb_tor_cell_destroy_encode (fb_tor_cell_t *cell, uint32_t circ_id, uint8_t reason);

/* ---- relay cells ------------------------------------------------------------------------ */

typedef struct {
    uint8_t command;
    uint16_t stream_id;
    uint16_t length;
    const uint8_t *data; /* into the body it was decoded from */
} fb_tor_relay_t;

/* A relay cell body with recognized and digest zero; len <= 498. Unused bytes are padded as
 * tor-spec 6.1 asks: 4 zero bytes after the data, random bytes after those. */
void fb_tor_cell_relay_encode (uint8_t body[FB_TOR_PAYLOAD_LEN], uint8_t command,
                               uint16_t stream_id, const uint8_t *data, size_t len);
/* A recognized body: length at most 498. The command may be one we do not know: see
 * fb_tor_cell_relay_known. */
int fb_tor_cell_relay_decode (const uint8_t body[FB_TOR_PAYLOAD_LEN], fb_tor_relay_t *relay,
                              fb_err_t *err);
/* Whether a relay command is one we know. tor-spec 6.1: a relay cell with a command one does not
 * know is dropped; it does not end the circuit. */
bool fb_tor_cell_relay_known (uint8_t command);

/* Where to extend: the relay's IPv4 address and OR port (host order) and its identity. */
typedef struct {
    uint32_t ipv4;
    uint16_t port;
    uint8_t id[FB_TOR_ID_LEN];
    uint8_t onionskin[FB_TOR_ONIONSKIN_LEN];
} fb_tor_extend2_t;

/* EXTEND2 data: link specifiers (IPv4 and legacy identity) and an ntor CREATE2 body. */
size_t fb_tor_cell_extend2_encode (const fb_tor_extend2_t *extend, uint8_t *out, size_t cap);
int fb_tor_cell_extend2_decode (const uint8_t *data, size_t len, fb_tor_extend2_t *extend,
                                fb_err_t *err);
/* EXTENDED2 data: HLEN and the ntor reply. */
size_t fb_tor_cell_extended2_encode (const uint8_t reply[FB_TOR_REPLY_LEN], uint8_t *out,
                                     size_t cap);
int fb_tor_cell_extended2_decode (const uint8_t *data, size_t len, uint8_t reply[FB_TOR_REPLY_LEN],
                                  fb_err_t *err);
/* BEGIN data: "ADDRESS:PORT\0" and 4 flag bytes. decode fills address (NUL-terminated). */
size_t fb_tor_cell_begin_encode (const char *address, uint16_t port, uint8_t *out, size_t cap);
int fb_tor_cell_begin_decode (const uint8_t *data, size_t len, char *address, size_t address_cap,
                              uint16_t *port, fb_err_t *err);
/* SENDME data: version 1 with a 20-byte digest tag, or version 0 (empty) when tag is NULL. */
size_t fb_tor_cell_sendme_encode (const uint8_t *tag, uint8_t *out, size_t cap);
/* tag gets the 20-byte tag of a version 1 SENDME; *has_tag false for version 0. */
int fb_tor_cell_sendme_decode (const uint8_t *data, size_t len, uint8_t tag[20], bool *has_tag,
                               fb_err_t *err);

#endif

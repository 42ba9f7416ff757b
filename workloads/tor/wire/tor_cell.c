/* tor_cell.c: packing and parsing of Tor cells and relay cell payloads. Decoders never trust a
 * length field: each one is checked against the bytes actually there before it is used. */
#include "workloads/tor/wire/tor_cell.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static void s_put16 (uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void s_put32 (uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t s_get16 (const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t s_get32 (const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- link framing ----------------------------------------------------------------------- */

bool fb_tor_cell_is_var (uint8_t command) {
    return command == FB_TOR_CELL_VERSIONS || command >= 128;
}

int fb_tor_cell_frame (const uint8_t *buf, size_t len, bool negotiated) {
    size_t id_len = negotiated ? 4 : 2;
    if (len < id_len + 1)
        return 0;
    uint8_t command = buf[id_len];
    if (!negotiated && command != FB_TOR_CELL_VERSIONS)
        return -1; /* tor-spec 4: the first cell on a link is VERSIONS */
    if (!fb_tor_cell_is_var (command))
        return len >= FB_TOR_CELL_LEN ? FB_TOR_CELL_LEN : 0;
    if (len < id_len + 3)
        return 0;
    size_t total = id_len + 3 + s_get16 (buf + id_len + 1);
    if (total > FB_TOR_VAR_MAX)
        return -1;
    return len >= total ? (int)total : 0;
}

bool fb_tor_cell_known (uint8_t command) {
    switch (command) {
    case FB_TOR_CELL_PADDING:
    case FB_TOR_CELL_CREATE:
    case FB_TOR_CELL_CREATED:
    case FB_TOR_CELL_RELAY:
    case FB_TOR_CELL_DESTROY:
    case FB_TOR_CELL_CREATE_FAST:
    case FB_TOR_CELL_CREATED_FAST:
    case FB_TOR_CELL_NETINFO:
    case FB_TOR_CELL_RELAY_EARLY:
    case FB_TOR_CELL_CREATE2:
    case FB_TOR_CELL_CREATED2:
    case FB_TOR_CELL_PADDING_NEGOTIATE:
        return true;
    default:
        return false;
    }
}

void fb_tor_cell_encode (const fb_tor_cell_t *cell, uint8_t out[FB_TOR_CELL_LEN]) {
    s_put32 (out, cell->circ_id);
    out[4] = cell->command;
    memcpy (out + 5, cell->payload, FB_TOR_PAYLOAD_LEN);
}

int fb_tor_cell_decode (const uint8_t *buf, size_t len, fb_tor_cell_t *cell, fb_err_t *err) {
    if (len != FB_TOR_CELL_LEN)
        return fb_err_set (err, FB_EINPUT, "tor: a cell of %zu bytes (cells are %d bytes)", len,
                           FB_TOR_CELL_LEN);
    if (!fb_tor_cell_known (buf[4]))
        return fb_err_set (err, FB_EINPUT, "tor: unknown cell command %u", buf[4]);
    cell->circ_id = s_get32 (buf);
    cell->command = buf[4];
    memcpy (cell->payload, buf + 5, FB_TOR_PAYLOAD_LEN);
    return 0;
}

/* ---- VERSIONS and NETINFO --------------------------------------------------------------- */

size_t fb_tor_cell_versions_encode (uint8_t *out, size_t cap) {
    static const uint16_t versions[] = {3, FB_TOR_LINK_VERSION, 5};
    size_t n = sizeof versions / sizeof versions[0], len = 5 + 2 * n;
    if (cap < len)
        return 0;
    s_put16 (out, 0);
    out[2] = FB_TOR_CELL_VERSIONS;
    s_put16 (out + 3, (uint16_t)(2 * n));
    for (size_t i = 0; i < n; i++)
        s_put16 (out + 5 + 2 * i, versions[i]);
    return len;
}

int fb_tor_cell_versions_decode (const uint8_t *buf, size_t len, int *version, fb_err_t *err) {
    if (len < 5 || buf[2] != FB_TOR_CELL_VERSIONS)
        return fb_err_set (err, FB_EINPUT, "tor: the link did not start with VERSIONS");
    size_t body = s_get16 (buf + 3);
    if (body != len - 5 || body % 2 != 0)
        return fb_err_set (err, FB_EINPUT, "tor: VERSIONS says %zu bytes, has %zu", body, len - 5);
    int best = 0;
    for (size_t i = 0; i < body; i += 2) {
        int v = s_get16 (buf + 5 + i);
        if ((v == FB_TOR_LINK_VERSION || v == 5) && v > best)
            best = v;
    }
    if (!best)
        return fb_err_set (err, FB_EINPUT,
                           "tor: no link protocol version in common (we speak 4, 5)");
    *version = best;
    return 0;
}

void fb_tor_cell_netinfo_encode (fb_tor_cell_t *cell, uint32_t now_s, uint32_t other_ipv4,
                                 uint32_t my_ipv4) {
    memset (cell, 0, sizeof *cell);
    cell->command = FB_TOR_CELL_NETINFO;
    uint8_t *p = cell->payload;
    s_put32 (p, now_s);
    p[4] = 4; /* ATYPE IPv4 */
    p[5] = 4;
    s_put32 (p + 6, other_ipv4);
    p[10] = 1; /* NMYADDR */
    p[11] = 4;
    p[12] = 4;
    s_put32 (p + 13, my_ipv4);
}

int fb_tor_cell_netinfo_decode (const fb_tor_cell_t *cell, uint32_t *other_ipv4, fb_err_t *err) {
    const uint8_t *p = cell->payload;
    size_t at = 4;
    if (cell->command != FB_TOR_CELL_NETINFO)
        return fb_err_set (err, FB_EINPUT, "tor: expected NETINFO, got cell command %u",
                           cell->command);
    uint8_t atype = p[at], alen = p[at + 1];
    if (at + 2 + alen > FB_TOR_PAYLOAD_LEN)
        return fb_err_set (err, FB_EINPUT, "tor: NETINFO address runs past the cell");
    *other_ipv4 = atype == 4 && alen == 4 ? s_get32 (p + at + 2) : 0;
    at += 2 + alen;
    if (at >= FB_TOR_PAYLOAD_LEN)
        return fb_err_set (err, FB_EINPUT, "tor: NETINFO ends before its own addresses");
    int nmy = p[at++];
    for (int i = 0; i < nmy; i++) {
        if (at + 2 > FB_TOR_PAYLOAD_LEN || at + 2 + p[at + 1] > FB_TOR_PAYLOAD_LEN)
            return fb_err_set (err, FB_EINPUT, "tor: NETINFO address %d runs past the cell", i);
        at += 2 + p[at + 1];
    }
    return 0;
}

/* ---- CREATE2, CREATED2, DESTROY --------------------------------------------------------- */

#define S_HTYPE_NTOR 2

void fb_tor_cell_create2_encode (fb_tor_cell_t *cell, uint32_t circ_id,
                                 const uint8_t onionskin[FB_TOR_ONIONSKIN_LEN]) {
    memset (cell, 0, sizeof *cell);
    cell->circ_id = circ_id;
    cell->command = FB_TOR_CELL_CREATE2;
    s_put16 (cell->payload, S_HTYPE_NTOR);
    s_put16 (cell->payload + 2, FB_TOR_ONIONSKIN_LEN);
    memcpy (cell->payload + 4, onionskin, FB_TOR_ONIONSKIN_LEN);
}

int fb_tor_cell_create2_decode (const fb_tor_cell_t *cell, uint8_t onionskin[FB_TOR_ONIONSKIN_LEN],
                                fb_err_t *err) {
    uint16_t htype = s_get16 (cell->payload), hlen = s_get16 (cell->payload + 2);
    if (htype != S_HTYPE_NTOR)
        return fb_err_set (err, FB_EINPUT, "tor: CREATE2 handshake type %u (only ntor, 2)", htype);
    if (hlen != FB_TOR_ONIONSKIN_LEN)
        return fb_err_set (err, FB_EINPUT, "tor: CREATE2 ntor data of %u bytes (must be %d)", hlen,
                           FB_TOR_ONIONSKIN_LEN);
    memcpy (onionskin, cell->payload + 4, FB_TOR_ONIONSKIN_LEN);
    return 0;
}

void fb_tor_cell_created2_encode (fb_tor_cell_t *cell, uint32_t circ_id,
                                  const uint8_t reply[FB_TOR_REPLY_LEN]) {
    memset (cell, 0, sizeof *cell);
    cell->circ_id = circ_id;
    cell->command = FB_TOR_CELL_CREATED2;
    s_put16 (cell->payload, FB_TOR_REPLY_LEN);
    memcpy (cell->payload + 2, reply, FB_TOR_REPLY_LEN);
}

int fb_tor_cell_created2_decode (const fb_tor_cell_t *cell, uint8_t reply[FB_TOR_REPLY_LEN],
                                 fb_err_t *err) {
    return fb_tor_cell_extended2_decode (cell->payload, FB_TOR_PAYLOAD_LEN, reply, err);
}

void fb_tor_cell_destroy_encode (fb_tor_cell_t *cell, uint32_t circ_id, uint8_t reason) {
    memset (cell, 0, sizeof *cell);
    cell->circ_id = circ_id;
    cell->command = FB_TOR_CELL_DESTROY;
    cell->payload[0] = reason;
}

/* ---- relay cells ------------------------------------------------------------------------ */

void fb_tor_cell_relay_encode (uint8_t body[FB_TOR_PAYLOAD_LEN], uint8_t command,
                               uint16_t stream_id, const uint8_t *data, size_t len) {
    len = len > FB_TOR_RELAY_DATA_LEN ? FB_TOR_RELAY_DATA_LEN : len;
    memset (body, 0,
            FB_TOR_RELAY_HEADER_LEN + len + 4 < FB_TOR_PAYLOAD_LEN
                ? FB_TOR_RELAY_HEADER_LEN + len + 4
                : FB_TOR_PAYLOAD_LEN);
    body[0] = command;
    s_put16 (body + 3, stream_id);
    s_put16 (body + 9, (uint16_t)len);
    if (len)
        memcpy (body + FB_TOR_RELAY_HEADER_LEN, data, len);
    /* tor-spec 6.1: zeros would give a known plaintext to whoever sees the keystream */
    size_t pad = FB_TOR_RELAY_HEADER_LEN + len + 4;
    if (pad < FB_TOR_PAYLOAD_LEN && RAND_bytes (body + pad, (int)(FB_TOR_PAYLOAD_LEN - pad)) != 1)
        memset (body + pad, 0, FB_TOR_PAYLOAD_LEN - pad); /* no randomness: zeros still parse */
}

bool fb_tor_cell_relay_known (uint8_t command) {
    return (command >= FB_TOR_RELAY_BEGIN && command <= FB_TOR_RELAY_DROP) ||
           command == FB_TOR_RELAY_EXTEND2 || command == FB_TOR_RELAY_EXTENDED2;
}

int fb_tor_cell_relay_decode (const uint8_t body[FB_TOR_PAYLOAD_LEN], fb_tor_relay_t *relay,
                              fb_err_t *err) {
    relay->command = body[0];
    relay->stream_id = s_get16 (body + 3);
    relay->length = s_get16 (body + 9);
    relay->data = body + FB_TOR_RELAY_HEADER_LEN;
    if (relay->length > FB_TOR_RELAY_DATA_LEN)
        return fb_err_set (err, FB_EINPUT, "tor: relay cell length %u (at most %d)", relay->length,
                           FB_TOR_RELAY_DATA_LEN);
    return 0;
}

/* EXTEND2: NSPEC, then LSTYPE LSLEN LSPEC each, then HTYPE HLEN HDATA (tor-spec 5.1.2). */
#define S_LS_IPV4 0
#define S_LS_LEGACY_ID 2

size_t fb_tor_cell_extend2_encode (const fb_tor_extend2_t *extend, uint8_t *out, size_t cap) {
    size_t len = 1 + (2 + 6) + (2 + FB_TOR_ID_LEN) + 4 + FB_TOR_ONIONSKIN_LEN;
    if (cap < len)
        return 0;
    uint8_t *p = out;
    *p++ = 2;
    *p++ = S_LS_IPV4;
    *p++ = 6;
    s_put32 (p, extend->ipv4);
    s_put16 (p + 4, extend->port);
    p += 6;
    *p++ = S_LS_LEGACY_ID;
    *p++ = FB_TOR_ID_LEN;
    memcpy (p, extend->id, FB_TOR_ID_LEN);
    p += FB_TOR_ID_LEN;
    s_put16 (p, S_HTYPE_NTOR);
    s_put16 (p + 2, FB_TOR_ONIONSKIN_LEN);
    memcpy (p + 4, extend->onionskin, FB_TOR_ONIONSKIN_LEN);
    return len;
}

int fb_tor_cell_extend2_decode (const uint8_t *data, size_t len, fb_tor_extend2_t *extend,
                                fb_err_t *err) {
    memset (extend, 0, sizeof *extend);
    if (len < 1)
        return fb_err_set (err, FB_EINPUT, "tor: EXTEND2 is empty");
    size_t at = 1;
    bool have_addr = false, have_id = false;
    for (int i = 0, n = data[0]; i < n; i++) {
        if (at + 2 > len || at + 2 + data[at + 1] > len)
            return fb_err_set (err, FB_EINPUT, "tor: EXTEND2 link specifier %d runs past the cell",
                               i);
        uint8_t type = data[at], slen = data[at + 1];
        const uint8_t *spec = data + at + 2;
        if (type == S_LS_IPV4 && slen == 6) {
            extend->ipv4 = s_get32 (spec);
            extend->port = s_get16 (spec + 4);
            have_addr = true;
        } else if (type == S_LS_LEGACY_ID && slen == FB_TOR_ID_LEN) {
            memcpy (extend->id, spec, FB_TOR_ID_LEN);
            have_id = true;
        } else if (type == S_LS_IPV4 || type == S_LS_LEGACY_ID)
            return fb_err_set (err, FB_EINPUT, "tor: EXTEND2 link specifier %u of %u bytes", type,
                               slen);
        at += 2 + slen; /* other types (IPv6, Ed25519) are skipped */
    }
    if (!have_addr || !have_id)
        return fb_err_set (err, FB_EINPUT, "tor: EXTEND2 without an IPv4 address and identity");
    if (at + 4 > len)
        return fb_err_set (err, FB_EINPUT, "tor: EXTEND2 ends before its handshake");
    uint16_t htype = s_get16 (data + at), hlen = s_get16 (data + at + 2);
    if (htype != S_HTYPE_NTOR || hlen != FB_TOR_ONIONSKIN_LEN || at + 4 + hlen > len)
        return fb_err_set (err, FB_EINPUT,
                           "tor: EXTEND2 handshake type %u of %u bytes (ntor: 2, "
                           "%d bytes)",
                           htype, hlen, FB_TOR_ONIONSKIN_LEN);
    memcpy (extend->onionskin, data + at + 4, FB_TOR_ONIONSKIN_LEN);
    return 0;
}

size_t fb_tor_cell_extended2_encode (const uint8_t reply[FB_TOR_REPLY_LEN], uint8_t *out,
                                     size_t cap) {
    if (cap < 2 + FB_TOR_REPLY_LEN)
        return 0;
    s_put16 (out, FB_TOR_REPLY_LEN);
    memcpy (out + 2, reply, FB_TOR_REPLY_LEN);
    return 2 + FB_TOR_REPLY_LEN;
}

int fb_tor_cell_extended2_decode (const uint8_t *data, size_t len, uint8_t reply[FB_TOR_REPLY_LEN],
                                  fb_err_t *err) {
    if (len < 2)
        return fb_err_set (err, FB_EINPUT, "tor: CREATED2/EXTENDED2 of %zu bytes", len);
    uint16_t hlen = s_get16 (data);
    if (hlen != FB_TOR_REPLY_LEN || 2u + hlen > len)
        return fb_err_set (err, FB_EINPUT, "tor: ntor reply of %u bytes (must be %d)", hlen,
                           FB_TOR_REPLY_LEN);
    memcpy (reply, data + 2, FB_TOR_REPLY_LEN);
    return 0;
}

size_t fb_tor_cell_begin_encode (const char *address, uint16_t port, uint8_t *out, size_t cap) {
    int n = snprintf ((char *)out, cap, "%s:%u", address, port);
    if (n < 0 || (size_t)n + 1 + 4 > cap)
        return 0;
    memset (out + n + 1, 0, 4); /* FLAGS */
    return (size_t)n + 1 + 4;
}

int fb_tor_cell_begin_decode (const uint8_t *data, size_t len, char *address, size_t address_cap,
                              uint16_t *port, fb_err_t *err) {
    const uint8_t *nul = memchr (data, '\0', len);
    if (!nul)
        return fb_err_set (err, FB_EINPUT, "tor: BEGIN address is not terminated");
    const uint8_t *colon = NULL;
    for (const uint8_t *p = data; p < nul; p++)
        if (*p == ':')
            colon = p;
    if (!colon || (size_t)(colon - data) + 1 > address_cap || colon + 1 == nul)
        return fb_err_set (err, FB_EINPUT, "tor: BEGIN address is not ADDRESS:PORT");
    unsigned long value = 0;
    for (const uint8_t *p = colon + 1; p < nul; p++) {
        if (*p < '0' || *p > '9' || (value = value * 10 + (unsigned long)(*p - '0')) > 65535)
            return fb_err_set (err, FB_EINPUT, "tor: BEGIN port is not a number up to 65535");
    }
    memcpy (address, data, (size_t)(colon - data));
    address[colon - data] = '\0';
    *port = (uint16_t)value;
    return 0;
}

size_t fb_tor_cell_sendme_encode (const uint8_t *tag, uint8_t *out, size_t cap) {
    if (!tag)
        return 0;
    if (cap < 3 + 20)
        return 0;
    out[0] = 1;
    s_put16 (out + 1, 20);
    memcpy (out + 3, tag, 20);
    return 3 + 20;
}

int fb_tor_cell_sendme_decode (const uint8_t *data, size_t len, uint8_t tag[20], bool *has_tag,
                               fb_err_t *err) {
    *has_tag = false;
    if (len == 0 || data[0] == 0)
        return 0;
    if (data[0] != 1 || len < 3 || s_get16 (data + 1) != 20 || len < 3 + 20)
        return fb_err_set (err, FB_EINPUT, "tor: SENDME version %u of %zu bytes (v1: 23 bytes)",
                           data[0], len);
    memcpy (tag, data + 3, 20);
    *has_tag = true;
    return 0;
}

/* netallow.c: address and port ranges a workload may connect to. Every entry becomes one rule
 * per address block (a name: one per address it resolves to); a connection is allowed when
 * one rule holds its address and port. Entries are few (at most 256), so a linear scan. */
#include "agent/netallow.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TEXT 300 /* "[" + IPv6 + "/128]:65535-65535", or a 253-byte name and ports */
#define S_MAX_NAME 253

typedef struct {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network order; AF_INET uses 4; bits past the prefix are 0 */
    int prefix_bits;
    int port_lo, port_hi; /* 1..65535 when the entry names no port */
    int entry;            /* index in texts */
} s_rule_t;

struct fb_netallow {
    s_rule_t *rules;
    int n_rules, cap_rules;
    char **texts; /* the entries as written, for messages */
    int n_texts;
};

typedef struct {
    const char *text; /* the entry, NUL-terminated copy */
    int *col_p;
    fb_err_t *err;
} s_ctx_t;

/* The fault at byte at of ctx->text: the message, and the offset in *ctx->col_p. */
#define s_fail(ctx, at, ...) fb_err_input_at ((ctx)->err, (ctx)->col_p, (at), __VA_ARGS__)

static bool s_is_digit (char c) { return c >= '0' && c <= '9'; }

/* text[from, to) as a decimal number of at most digits digits; -1 when it is not one. */
static long s_number (const char *text, size_t from, size_t to, size_t digits) {
    if (from == to || to - from > digits)
        return -1;
    long value = 0;
    for (size_t i = from; i < to; i++) {
        if (!s_is_digit (text[i]))
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/* text[from..]: "port" or "lo-hi". */
static int s_ports (s_ctx_t *ctx, size_t from, s_rule_t *rule) {
    const char *text = ctx->text;
    size_t end = strlen (text);
    const char *dash = strchr (text + from, '-');
    size_t lo_to = dash ? (size_t)(dash - text) : end;
    if (from == end)
        return s_fail (ctx, from, "expected a port or a range such as 8000-8999 after :");
    long lo = s_number (text, from, lo_to, 5);
    long hi = dash ? s_number (text, lo_to + 1, end, 5) : lo;
    if (lo < 1 || lo > 65535)
        return s_fail (ctx, from, "expected a port from 1 to 65535 (got \"%.*s\")",
                       (int)(lo_to - from > 12 ? 12 : lo_to - from), text + from);
    if (hi < 1 || hi > 65535)
        return s_fail (ctx, lo_to + 1, "expected a port from 1 to 65535 after - (got \"%.12s\")",
                       text + lo_to + 1);
    if (lo > hi)
        return s_fail (ctx, from, "expected a port range from low to high (got %ld-%ld)", lo, hi);
    rule->port_lo = (int)lo;
    rule->port_hi = (int)hi;
    return 0;
}

/* text[from, to): a host name, labels of A-Z a-z 0-9 - between dots. */
static int s_check_name (s_ctx_t *ctx, size_t from, size_t to) {
    const char *text = ctx->text;
    if (to - from > S_MAX_NAME)
        return s_fail (ctx, from, "expected a host name of at most %d characters (got %zu)",
                       S_MAX_NAME, to - from);
    for (size_t i = from; i < to; i++) {
        char c = text[i];
        bool ok = s_is_digit (c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                  c == '.';
        if (!ok)
            return s_fail (ctx, i,
                           "expected an address, a CIDR block or a host name of A-Z a-z 0-9 . - "
                           "(got \"%.40s\")",
                           text);
        if (c == '.' && (i == from || text[i - 1] == '.' || i + 1 == to))
            return s_fail (ctx, i, "expected a host name without an empty label (got \"%.*s\")",
                           (int)(to - from), text + from);
    }
    return 0;
}

static int s_push (fb_netallow_t *self, const s_rule_t *rule, fb_err_t *err) {
    if (self->n_rules == self->cap_rules) {
        int cap = self->cap_rules ? self->cap_rules * 2 : 16;
        s_rule_t *rules = realloc (self->rules, (size_t)cap * sizeof *rules);
        if (!rules)
            return fb_err_set (err, FB_ENOMEM, "out of memory");
        self->rules = rules;
        self->cap_rules = cap;
    }
    self->rules[self->n_rules++] = *rule;
    return 0;
}

/* rule->addr with rule->prefix_bits: refused when bits past the prefix are set, since what the
 * user meant (the block, or only that address) cannot be told. */
static int s_check_block (s_ctx_t *ctx, size_t at, s_rule_t *rule) {
    int bytes = rule->family == AF_INET ? 4 : 16;
    uint8_t masked[16] = {0};
    for (int i = 0; i < bytes; i++) {
        int keep = rule->prefix_bits - 8 * i;
        uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
        masked[i] = rule->addr[i] & mask;
    }
    if (memcmp (masked, rule->addr, (size_t)bytes) == 0)
        return 0;
    char net[INET6_ADDRSTRLEN];
    inet_ntop (rule->family, masked, net, sizeof net);
    return s_fail (ctx, at, "expected no address bits set past the prefix length (write %s/%d)",
                   net, rule->prefix_bits);
}

/* text[from, to): an IPv6 address (v6 true) or an IPv4 address, then an optional /prefix. */
static int s_address (s_ctx_t *ctx, size_t from, size_t to, bool v6, s_rule_t *rule) {
    const char *text = ctx->text;
    const char *slash = memchr (text + from, '/', to - from);
    size_t addr_to = slash ? (size_t)(slash - text) : to;
    char buf[INET6_ADDRSTRLEN + 1] = "";
    if (addr_to - from < sizeof buf) {
        memcpy (buf, text + from, addr_to - from);
        buf[addr_to - from] = '\0';
    }
    rule->family = v6 ? AF_INET6 : AF_INET;
    int max_bits = v6 ? 128 : 32;
    if (!buf[0] || inet_pton (rule->family, buf, rule->addr) != 1)
        return s_fail (ctx, from,
                       v6 ? "expected an IPv6 address (got \"%.*s\")"
                          : "expected an IPv4 address of four numbers 0 to 255 (got \"%.*s\")",
                       (int)(addr_to - from > 48 ? 48 : addr_to - from), text + from);
    rule->prefix_bits = max_bits;
    if (slash) {
        long bits = s_number (text, addr_to + 1, to, 3);
        if (bits < 0 || bits > max_bits)
            return s_fail (ctx, addr_to + 1,
                           "expected a prefix length of 0 to %d after / (got \"%.*s\")%s", max_bits,
                           (int)(to - addr_to - 1 > 12 ? 12 : to - addr_to - 1), text + addr_to + 1,
                           memchr (text + addr_to, ':', to - addr_to)
                               ? ": with ports, an IPv6 block is written [fd00::/8]:80-90"
                               : "");
        rule->prefix_bits = (int)bits;
    }
    return s_check_block (ctx, from, rule);
}

/* The addresses of the name text[from, to), one rule each. */
static int s_resolve (fb_netallow_t *self, s_ctx_t *ctx, size_t from, size_t to,
                      fb_netallow_resolve_fn *resolve, const s_rule_t *ports) {
    char name[S_MAX_NAME + 1];
    memcpy (name, ctx->text + from, to - from);
    name[to - from] = '\0';
    struct sockaddr_storage addrs[FB_NETALLOW_MAX_ADDRS];
    char why[128] = "no address";
    int n = resolve (name, addrs, FB_NETALLOW_MAX_ADDRS, why, sizeof why);
    if (n < 1)
        return s_fail (ctx, from, "the host name %s does not resolve: %s", name, why);
    for (int i = 0; i < n && i < FB_NETALLOW_MAX_ADDRS; i++) {
        s_rule_t rule = *ports;
        if (addrs[i].ss_family == AF_INET) {
            rule.family = AF_INET;
            rule.prefix_bits = 32;
            memcpy (rule.addr, &((const struct sockaddr_in *)&addrs[i])->sin_addr, 4);
        } else if (addrs[i].ss_family == AF_INET6) {
            rule.family = AF_INET6;
            rule.prefix_bits = 128;
            memcpy (rule.addr, &((const struct sockaddr_in6 *)&addrs[i])->sin6_addr, 16);
        } else {
            continue;
        }
        if (s_push (self, &rule, ctx->err) != 0)
            return -1;
    }
    return 0;
}

/* The entry in ctx->text: its host part is [from, to), its ports start at ports_from (0: none).
 * Checked left to right; a name is resolved last, once the whole entry is known to be good. */
static int s_entry (fb_netallow_t *self, s_ctx_t *ctx, size_t from, size_t to, bool v6,
                    size_t ports_from, fb_netallow_resolve_fn *resolve) {
    const char *text = ctx->text;
    s_rule_t rule = {.port_lo = 1, .port_hi = 65535, .entry = self->n_texts};
    const char *slash = memchr (text + from, '/', to - from);
    size_t name_to = slash ? (size_t)(slash - text) : to;
    if (name_to == from)
        return s_fail (ctx, from,
                       "expected an address, a CIDR block or a host name (got \"%.40s\")", text);
    bool numeric = true;
    for (size_t i = from; i < to && numeric; i++)
        numeric = s_is_digit (text[i]) || text[i] == '.' || text[i] == '/';
    bool name = !v6 && !numeric;
    if (!name && s_address (ctx, from, to, v6, &rule) != 0)
        return -1;
    if (name && s_check_name (ctx, from, name_to) != 0)
        return -1;
    if (name && slash)
        return s_fail (ctx, name_to,
                       "expected a prefix length only after an address, not after a host name");
    if (ports_from && s_ports (ctx, ports_from, &rule) != 0)
        return -1;
    if (name)
        return s_resolve (self, ctx, from, name_to, resolve, &rule);
    return s_push (self, &rule, ctx->err);
}

/* ---- public ---------------------------------------------------------------------------- */

fb_netallow_t *fb_netallow_new (void) { return calloc (1, sizeof (fb_netallow_t)); }

void fb_netallow_destroy (fb_netallow_t **self_p) {
    fb_netallow_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->n_texts; i++)
        free (self->texts[i]);
    free (self->texts);
    free (self->rules);
    free (self);
    *self_p = NULL;
}

/* Splits the entry into host part and ports and checks it; rules are added, the text kept. */
int fb_netallow_add (fb_netallow_t *self, const char *text, size_t len,
                     fb_netallow_resolve_fn *resolve, int *col_p, fb_err_t *err) {
    char buf[S_MAX_TEXT + 1];
    s_ctx_t ctx = {.text = buf, .col_p = col_p, .err = err};
    const char *nul = memchr (text, '\0', len);
    if (nul)
        return s_fail (&ctx, (size_t)(nul - text), "expected an entry without NUL bytes");
    if (len == 0)
        return s_fail (&ctx, 0, "expected an address, a CIDR block or a host name (got nothing)");
    if (len > S_MAX_TEXT)
        return s_fail (&ctx, 0, "expected an entry of at most %d bytes (got %zu)", S_MAX_TEXT, len);
    if (self->n_texts == FB_NETALLOW_MAX_ENTRIES)
        return s_fail (&ctx, 0, "expected at most %d entries (got more)", FB_NETALLOW_MAX_ENTRIES);
    memcpy (buf, text, len);
    buf[len] = '\0';
    size_t from = 0, to = len, ports_from = 0;
    bool v6 = false;
    const char *colon = strchr (buf, ':');
    if (buf[0] == '[') {
        const char *close = strchr (buf, ']');
        if (!close)
            return s_fail (&ctx, 0, "expected ] after the IPv6 address");
        from = 1;
        to = (size_t)(close - buf);
        v6 = true;
        if (close[1] == ':')
            ports_from = to + 2;
        else if (close[1])
            return s_fail (&ctx, to + 1, "expected :port or :low-high after ]");
    } else if (colon && strchr (colon + 1, ':')) {
        v6 = true; /* a bare IPv6 address or block: ports need the [] form */
    } else if (colon) {
        to = (size_t)(colon - buf);
        ports_from = to + 1;
    }
    int n_rules = self->n_rules;
    char *copy = strdup (buf);
    char **texts = copy ? realloc (self->texts, ((size_t)self->n_texts + 1) * sizeof *texts) : NULL;
    if (texts)
        self->texts = texts;
    if (!texts) {
        free (copy);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    if (s_entry (self, &ctx, from, to, v6, ports_from,
                 resolve ? resolve : fb_netallow_resolve_system) != 0) {
        self->n_rules = n_rules; /* nothing of a refused entry stays */
        free (copy);
        return -1;
    }
    self->texts[self->n_texts++] = copy;
    return 0;
}

/* Is addr (4 or 16 bytes, as rule's family) inside rule's block? */
static bool s_in_block (const s_rule_t *rule, const uint8_t *addr) {
    int full = rule->prefix_bits / 8, rest = rule->prefix_bits % 8;
    if (memcmp (rule->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    /* rest > 0: the prefix is shorter than the address, so byte full exists */
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (rule->addr[full] & mask) == (addr[full] & mask);
}

bool fb_netallow_match (const fb_netallow_t *self, const struct sockaddr *addr, int port) {
    if (!self || !addr || port < 1 || port > 65535)
        return false;
    /* Both forms of an IPv4 address: a.b.c.d for the IPv4 entries, ::ffff:a.b.c.d for IPv6. */
    uint8_t v4[4], v6[16];
    bool has_v4 = false, has_v6 = false;
    if (addr->sa_family == AF_INET) {
        memcpy (v4, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy (v6, mapped, 12);
        memcpy (v6 + 12, v4, 4);
        has_v4 = has_v6 = true;
    } else if (addr->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
        memcpy (v6, a6, 16);
        has_v6 = true;
        if (IN6_IS_ADDR_V4MAPPED (a6)) {
            memcpy (v4, v6 + 12, 4);
            has_v4 = true;
        }
    }
    for (int i = 0; i < self->n_rules; i++) {
        const s_rule_t *rule = &self->rules[i];
        if (port < rule->port_lo || port > rule->port_hi)
            continue;
        if (rule->family == AF_INET ? has_v4 && s_in_block (rule, v4)
                                    : has_v6 && s_in_block (rule, v6))
            return true;
    }
    return false;
}

const char *fb_netallow_names (const fb_netallow_t *self, char *buf, size_t size) {
    if (size == 0)
        return buf;
    if (!self || self->n_texts == 0) {
        snprintf (buf, size, "none");
        return buf;
    }
    buf[0] = '\0';
    size_t at = 0;
    for (int i = 0; i < self->n_texts; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen (sep) + strlen (self->texts[i]);
        /* Room for this one and, unless it is the last, a later ", ..." */
        size_t reserve = i + 1 < self->n_texts ? 5 : 0;
        if (at + need + reserve >= size) {
            snprintf (buf + at, size - at, "%s...", sep);
            break;
        }
        at += (size_t)snprintf (buf + at, size - at, "%s%s", sep, self->texts[i]);
    }
    return buf;
}

int fb_netallow_count (const fb_netallow_t *self) { return self ? self->n_texts : 0; }

int fb_netallow_resolve_system (const char *name, struct sockaddr_storage *addrs, int max,
                                char *why, size_t why_size) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (name, NULL, &hints, &found);
    if (rc != 0) {
        snprintf (why, why_size, "%s", gai_strerror (rc));
        return -1;
    }
    int n = 0;
    for (struct addrinfo *ai = found; ai && n < max; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof addrs[n])
            continue;
        memset (&addrs[n], 0, sizeof addrs[n]);
        memcpy (&addrs[n], ai->ai_addr, ai->ai_addrlen);
        n++;
    }
    freeaddrinfo (found);
    if (n == 0)
        snprintf (why, why_size, "no IPv4 or IPv6 address");
    return n ? n : -1;
}

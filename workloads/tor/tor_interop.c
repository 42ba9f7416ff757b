/* tor_interop.c: the model client through a private network of real tor relays. What the client
 * needs of each relay is what a tor client takes from the directory: its OR port, its RSA
 * identity digest (the fingerprint; ntor binds to it) and the curve25519 ntor onion key from its
 * microdescriptor ("ntor-onion-key", base64 without padding, dir-spec 3.3). */
#include "workloads/tor/tor_interop.h"

#include "common/clock.h"
#include "workloads/tor/real/tor_control.h"
#include "workloads/tor/real/tor_sink.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CONTROL_TIMEOUT_NS (10 * FB_NS_PER_S)

struct fb_tor_interop {
    fb_tor_privnet_t *net;
    fb_tor_sink_t *sink;
    fb_tor_client_t *client;
};

int fb_tor_interop_check (const fb_params_t *params, fb_err_t *err) {
    if (fb_tor_privnet_check ((int)fb_params_num (params, "relays"), err) != 0)
        return -1;
    if (fb_params_given (params, "hop_rtt"))
        return fb_err_set (
            err, FB_EINPUT,
            "hop_rtt is the model's link delay: mode interop runs real tor relays on "
            "loopback and adds none (leave hop_rtt out)");
    return 0;
}

static int s_hex_id (const char *hex, uint8_t id[FB_TOR_ID_LEN]) {
    for (int i = 0; i < FB_TOR_ID_LEN; i++) {
        unsigned v;
        if (sscanf (hex + 2 * i, "%2x", &v) != 1)
            return -1;
        id[i] = (uint8_t)v;
    }
    return 0;
}

/* The ntor onion key of the relay with fingerprint fp, from the client tor's microdescriptor. */
static int s_onion_key (fb_tor_control_t *ctl, const char *fp, uint8_t key[FB_TOR_KEY_LEN],
                        fb_err_t *err) {
    char command[128], reply[8192], b64[64] = "";
    snprintf (command, sizeof command, "GETINFO md/id/%s", fp);
    int code =
        fb_tor_control_command (ctl, command, reply, sizeof reply, S_CONTROL_TIMEOUT_NS, err);
    if (code < 0)
        return -1;
    const char *line = strstr (reply, "ntor-onion-key ");
    if (code != 250 || !line || sscanf (line + 15, "%60[A-Za-z0-9+/]", b64) != 1 ||
        strlen (b64) != 43)
        return fb_err_set (err, FB_EINPUT, "no ntor-onion-key in the microdescriptor of %s", fp);
    strcat (b64, "="); /* EVP_DecodeBlock wants whole groups of 4 */
    uint8_t out[48];
    if (EVP_DecodeBlock (out, (const unsigned char *)b64, 44) != 33)
        return fb_err_set (err, FB_EINPUT, "the ntor-onion-key of %s is not base64", fp);
    memcpy (key, out, FB_TOR_KEY_LEN);
    return 0;
}

int fb_tor_interop_directory (const fb_tor_privnet_t *net, fb_tor_relay_info_t *relays,
                              fb_err_t *err) {
    fb_tor_control_t *ctl =
        fb_tor_control_new (fb_tor_privnet_control_port (net), fb_tor_privnet_cookie_path (net),
                            S_CONTROL_TIMEOUT_NS, err);
    int rc = ctl ? 0 : -1;
    for (int i = 0; rc == 0 && i < fb_tor_privnet_size (net); i++) {
        const fb_tor_privnet_relay_t *r = fb_tor_privnet_relay (net, i);
        relays[i].port = r->or_port;
        relays[i].exit = r->exit;
        if (s_hex_id (r->fingerprint, relays[i].id) != 0)
            rc = fb_err_set (err, FB_EINPUT, "relay %s: fingerprint \"%s\" is not hex", r->nickname,
                             r->fingerprint);
        else
            rc = s_onion_key (ctl, r->fingerprint, relays[i].onion_key, err);
    }
    fb_tor_control_destroy (&ctl);
    return rc;
}

fb_tor_interop_t *fb_tor_interop_new (int relays, int64_t bootstrap_timeout_ns, bool nagle,
                                      const char *label, fb_err_t *err) {
    fb_tor_interop_t *self = calloc (1, sizeof *self);
    fb_tor_relay_info_t *infos = calloc ((size_t)(relays > 0 ? relays : 1), sizeof *infos);
    if (!self || !infos) {
        free (self);
        free (infos);
        fb_err_set (err, FB_ENOMEM, "mode interop: out of memory");
        return NULL;
    }
    if (!(self->net = fb_tor_privnet_new (relays, bootstrap_timeout_ns, label, err)) ||
        !(self->sink = fb_tor_sink_new (err)) ||
        fb_tor_interop_directory (self->net, infos, err) != 0)
        goto fail;
    fb_tor_client_config_t config = {
        .relays = infos, .n = relays, .sink_port = fb_tor_sink_port (self->sink), .nagle = nagle};
    if (!(self->client = fb_tor_client_new_config (&config, err)))
        goto fail;
    free (infos);
    return self;
fail:
    fb_err_prefix (err, "mode interop");
    free (infos);
    fb_tor_interop_destroy (&self);
    return NULL;
}

void fb_tor_interop_destroy (fb_tor_interop_t **self_p) {
    fb_tor_interop_t *self = *self_p;
    if (!self)
        return;
    fb_tor_client_destroy (&self->client);
    fb_tor_sink_destroy (&self->sink);
    fb_tor_privnet_destroy (&self->net);
    free (self);
    *self_p = NULL;
}

fb_tor_client_t *fb_tor_interop_client (const fb_tor_interop_t *self) { return self->client; }

int64_t fb_tor_interop_network_rss (const fb_tor_interop_t *self) {
    fb_tor_privnet_memory_t memory;
    fb_tor_privnet_memory (self->net, &memory);
    return memory.network_rss;
}

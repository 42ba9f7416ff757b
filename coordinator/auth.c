/* auth.c: a ZAP handler actor over a czmq certificate store. */
#include "coordinator/auth.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    zsock_t *pipe;
    zsock_t *handler; /* REP on inproc://zeromq.zap.01 */
    zcertstore_t *store;
    zhashx_t *extra; /* public keys allowed for this run only */
    char dir[512];
} s_auth_t;

static void s_reply (s_auth_t *self, const char *request_id, const char *code, const char *text,
                     const char *user) {
    zstr_sendx (self->handler, "1.0", request_id, code, text, user, "", NULL);
}

/* One ZAP request: version, request id, domain, address, identity, mechanism, credentials. */
static void s_on_request (s_auth_t *self) {
    zmsg_t *req = zmsg_recv (self->handler);
    if (!req)
        return;
    char *version = zmsg_popstr (req), *id = zmsg_popstr (req), *domain = zmsg_popstr (req);
    char *address = zmsg_popstr (req), *identity = zmsg_popstr (req);
    char *mechanism = zmsg_popstr (req);
    zframe_t *key = zmsg_pop (req);
    char key_txt[41] = "";
    if (key && zframe_size (key) == 32)
        zmq_z85_encode (key_txt, zframe_data (key), 32);
    bool allowed =
        key_txt[0] && mechanism && streq (mechanism, "CURVE") &&
        (zcertstore_lookup (self->store, key_txt) || zhashx_lookup (self->extra, key_txt));
    if (allowed)
        s_reply (self, id ? id : "", "200", "OK", key_txt);
    else {
        s_reply (self, id ? id : "", "400", "key not allowed", "");
        fprintf (stderr, "coord: refused an agent from %s: its key %s is not in %s\n",
                 address ? address : "?", key_txt[0] ? key_txt : "(none)", self->dir);
    }
    zstr_free (&version);
    zstr_free (&id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zframe_destroy (&key);
    zmsg_destroy (&req);
}

static void s_actor (zsock_t *pipe, void *arg) {
    s_auth_t self = {.pipe = pipe};
    snprintf (self.dir, sizeof self.dir, "%s", (const char *)arg);
    self.handler = zsock_new (ZMQ_REP);
    self.store = zcertstore_new (self.dir);
    self.extra = zhashx_new ();
    if (!self.handler || !self.store || !self.extra ||
        zsock_bind (self.handler, "inproc://zeromq.zap.01") != 0) {
        zsock_signal (pipe, 1);
        goto done;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self.handler, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == self.handler)
            s_on_request (&self);
        else if (which == pipe) {
            char *cmd = NULL, *key = NULL;
            if (zstr_recvx (pipe, &cmd, &key, NULL) < 1 || streq (cmd, "$TERM")) {
                zstr_free (&cmd);
                zstr_free (&key);
                break;
            }
            if (streq (cmd, "ALLOW") && key)
                zhashx_insert (self.extra, key, "");
            zstr_free (&cmd);
            zstr_free (&key);
            zsock_signal (pipe, 0);
        } else
            break; /* interrupted */
    }
    zpoller_destroy (&poller);
done:
    zhashx_destroy (&self.extra);
    zcertstore_destroy (&self.store);
    zsock_destroy (&self.handler);
}

zactor_t *fb_auth_new (const char *keys_dir, fb_err_t *err) {
    struct stat st;
    if (stat (keys_dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        fb_err_set (err, FB_EINPUT, "no agent key folder %s (make one with coord keygen)",
                    keys_dir);
        return NULL;
    }
    zactor_t *auth = zactor_new (s_actor, (void *)keys_dir);
    if (!auth)
        fb_err_set (err, FB_ESYS, "cannot start the authentication handler for %s", keys_dir);
    return auth;
}

void fb_auth_allow (zactor_t *auth, const char *public_txt) {
    zstr_sendx (auth, "ALLOW", public_txt, NULL);
    zsock_wait (auth);
}

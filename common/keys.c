/* keys.c: making and loading CURVE certificates, with the permission check on secrets. */
#include "common/keys.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* NAME.key from NAME.key or NAME.key_secret. */
static int s_public_path (const char *path, char *out, size_t size, fb_err_t *err) {
    size_t len = strlen (path);
    const char *suffix = "_secret";
    size_t slen = strlen (suffix);
    if (len > slen && strcmp (path + len - slen, suffix) == 0)
        len -= slen;
    if (len + slen + 1 > size)
        return fb_err_set (err, FB_EINPUT, "key path too long: %s", path);
    memcpy (out, path, len);
    out[len] = '\0';
    return 0;
}

int fb_keys_generate (const char *dir, const char *name, char public_txt[41], fb_err_t *err) {
    char path[512], secret[520];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0)
        return fb_err_set (err, FB_EINPUT, "%s already exists: keys are never overwritten", path);
    zcert_t *cert = zcert_new ();
    if (!cert)
        return fb_err_set (err, FB_ESYS, "cannot make a key pair");
    zcert_set_meta (cert, "name", "%s", name);
    mode_t old = umask (077); /* the secret is never readable by others, not even briefly */
    int rc = zcert_save (cert, path);
    umask (old);
    if (rc == 0)
        chmod (path, 0644); /* the public half may be shared */
    snprintf (public_txt, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    if (rc != 0)
        return fb_err_set (err, FB_ESYS, "cannot write %s: %s", path, strerror (errno));
    return 0;
}

zcert_t *fb_keys_load_pair (const char *path, fb_err_t *err) {
    char pub[512], secret[520];
    if (s_public_path (path, pub, sizeof pub, err) != 0)
        return NULL;
    snprintf (secret, sizeof secret, "%s_secret", pub);
    struct stat st;
    if (stat (secret, &st) != 0) {
        fb_err_set (err, FB_EINPUT, "no secret key at %s: %s", secret, strerror (errno));
        return NULL;
    }
    if (st.st_mode & 077) {
        fb_err_set (err, FB_EINPUT,
                    "secret key %s is readable by group or others (mode %03o): chmod 600 it",
                    secret, (unsigned)(st.st_mode & 0777));
        return NULL;
    }
    zcert_t *cert = zcert_load (pub);
    if (!cert || strlen (zcert_secret_txt (cert)) != 40 ||
        strcmp (zcert_secret_txt (cert), "0000000000000000000000000000000000000000") == 0) {
        zcert_destroy (&cert);
        fb_err_set (err, FB_EINPUT, "%s is not a key pair made by `coord keygen`", secret);
        return NULL;
    }
    return cert;
}

int fb_keys_load_public (const char *path, char public_txt[41], fb_err_t *err) {
    char pub[512];
    if (s_public_path (path, pub, sizeof pub, err) != 0)
        return -1;
    zcert_t *cert = zcert_load (pub);
    if (!cert)
        return fb_err_set (err, FB_EINPUT, "cannot read a public key from %s", pub);
    snprintf (public_txt, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

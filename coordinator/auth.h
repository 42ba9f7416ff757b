/* auth.h: the coordinator's CURVE gatekeeper: a ZAP handler (ZeroMQ's authentication protocol,
 * RFC 27) that lets in only agents whose public key is in the allow-list folder, and says
 * which key it refused. */
#ifndef FB_AUTH_H
#define FB_AUTH_H

#include "common/err.h"

#include <czmq.h>

/* Starts the handler; keys_dir holds the allowed agents' NAME.key files. */
zactor_t *fb_auth_new (const char *keys_dir, fb_err_t *err);
/* Also allows one public key (Z85), e.g. a local agent's made for this run. */
void fb_auth_allow (zactor_t *auth, const char *public_txt);

#endif

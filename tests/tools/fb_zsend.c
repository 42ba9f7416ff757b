/* fb_zsend.c: a test tool that plays a misbehaving (or well-behaved) agent for the integration
 * fault tests. It connects a DEALER to the coordinator, sends one kind of frame, and prints
 * what came back, so a test can check that bad frames are answered and never crash anything.
 *
 *   fb_zsend ENDPOINT MODE [--id NAME | --anonymous] [--count N] [--wait-ms MS]
 *
 * MODE: garbage (random bytes that do not decode), version (a Hello with protocol version 99),
 * empty (a zero-length frame), hello (a valid Hello), oversize (a 20 MB frame).
 * --anonymous sets no routing id: the coordinator sees the one ZeroMQ makes up (binary).
 * Prints one line per reply ("reply ERROR: <message>", "reply PLAN"), or "no reply".
 * Exit 0 when the frames were sent, 1 when they could not be, 2 for a wrong command line. */
#include "common/fingerprint.h"
#include "common/wire.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_OVERSIZE_BYTES (20 * 1024 * 1024)
#define S_GARBAGE_MAX_BYTES 512

typedef struct {
    const char *endpoint;
    const char *mode;
    const char *id;
    int count;
    int wait_ms;
    bool anonymous;
} s_args_t;

static int s_usage (const char *why) {
    fprintf (
        stderr,
        "fb_zsend: %s\n"
        "usage: fb_zsend ENDPOINT garbage|version|empty|hello|oversize [--id NAME | --anonymous] "
        "[--count N] [--wait-ms MS]\n",
        why);
    return 2;
}

static int s_parse_args (int argc, char **argv, s_args_t *args) {
    *args = (s_args_t){.id = "fb_zsend", .count = 1, .wait_ms = 1000};
    if (argc < 3)
        return s_usage ("ENDPOINT and MODE are required");
    args->endpoint = argv[1];
    args->mode = argv[2];
    for (int i = 3; i < argc; i++) {
        if (strcmp (argv[i], "--anonymous") == 0) {
            args->anonymous = true;
            continue;
        }
        if (i + 1 >= argc)
            return s_usage ("every option takes a value");
        char *end = NULL;
        if (strcmp (argv[i], "--id") == 0)
            args->id = argv[++i];
        else if (strcmp (argv[i], "--count") == 0) {
            args->count = (int)strtol (argv[++i], &end, 10);
            if (*end || args->count < 1)
                return s_usage ("--count must be a whole number of at least 1");
        } else if (strcmp (argv[i], "--wait-ms") == 0) {
            args->wait_ms = (int)strtol (argv[++i], &end, 10);
            if (*end || args->wait_ms < 0)
                return s_usage ("--wait-ms must be a whole number of milliseconds");
        } else
            return s_usage ("unknown option");
    }
    if (!args->id[0] || strlen (args->id) > 255)
        return s_usage ("--id must be 1 to 255 bytes");
    return 0;
}

/* A packed Hello from this host; version != FB_PROTOCOL_VERSION rewrites the envelope's first
 * field (version, the varint 0x08 0x01) the way a build speaking that version would send it. */
static zframe_t *s_hello_frame (const char *id, unsigned version) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    if (!msg)
        return NULL;
    snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "%s", id);
    fb_fingerprint_read (&msg->u.hello.fp);
    uint8_t *buf = NULL;
    size_t len = 0;
    fb_err_t err = {0};
    zframe_t *frame = NULL;
    if (fb_wire_pack (msg, &buf, &len, &err) != 0)
        fprintf (stderr, "fb_zsend: cannot pack a Hello: %s\n", err.msg);
    else if (len < 2 || buf[0] != 0x08 || buf[1] != FB_PROTOCOL_VERSION || version > 127)
        fprintf (stderr, "fb_zsend: the envelope does not start with its version field\n");
    else {
        buf[1] = (uint8_t)version;
        frame = zframe_new (buf, len);
    }
    free (buf);
    fb_wire_msg_destroy (&msg);
    return frame;
}

/* Random bytes that our own decoder refuses, so "garbage" never happens to be a message. */
static zframe_t *s_garbage_frame (void) {
    uint8_t buf[S_GARBAGE_MAX_BYTES];
    for (;;) {
        size_t len = 1 + (size_t)random () % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)random ();
        fb_msg_t *msg = fb_wire_unpack (buf, len, NULL);
        if (!msg)
            return zframe_new (buf, len);
        fb_wire_msg_destroy (&msg);
    }
}

static zframe_t *s_make_frame (const s_args_t *args) {
    if (strcmp (args->mode, "garbage") == 0)
        return s_garbage_frame ();
    if (strcmp (args->mode, "version") == 0)
        return s_hello_frame (args->id, 99);
    if (strcmp (args->mode, "hello") == 0)
        return s_hello_frame (args->id, FB_PROTOCOL_VERSION);
    if (strcmp (args->mode, "empty") == 0)
        return zframe_new (NULL, 0);
    if (strcmp (args->mode, "oversize") == 0) {
        zframe_t *frame = zframe_new (NULL, S_OVERSIZE_BYTES);
        if (frame)
            memset (zframe_data (frame), 0x5a, zframe_size (frame));
        return frame;
    }
    return NULL;
}

/* One line per reply; the Envelope is the last frame (a ROUTER may add a delimiter). */
static void s_print_reply (zmsg_t *reply) {
    zframe_t *frame = zmsg_last (reply);
    fb_err_t err = {0};
    fb_msg_t *msg = frame ? fb_wire_unpack (zframe_data (frame), zframe_size (frame), &err) : NULL;
    if (!msg)
        printf ("reply undecodable: %s\n", frame ? err.msg : "no frames");
    else if (msg->type == FB_MSG_ERROR)
        printf ("reply ERROR: %s\n", msg->u.error.message);
    else if (msg->type == FB_MSG_ABORT)
        printf ("reply ABORT: %s\n", msg->u.abort.reason);
    else
        printf ("reply %s\n", fb_wire_msg_type_name (msg->type));
    fflush (stdout);
    fb_wire_msg_destroy (&msg);
}

/* Waits up to wait_ms in all for as many replies as frames were sent. */
static void s_await_replies (zsock_t *sock, const s_args_t *args) {
    zpoller_t *poller = zpoller_new (sock, NULL);
    if (!poller) {
        printf ("no reply\n");
        return;
    }
    int64_t deadline = zclock_mono () + args->wait_ms;
    int replies = 0;
    while (replies < args->count) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0 || !zpoller_wait (poller, (int)left))
            break;
        zmsg_t *reply = zmsg_recv (sock);
        if (!reply)
            break;
        s_print_reply (reply);
        zmsg_destroy (&reply);
        replies++;
    }
    if (replies == 0)
        printf ("no reply\n");
    zpoller_destroy (&poller);
}

int main (int argc, char **argv) {
    s_args_t args;
    int rc = s_parse_args (argc, argv, &args);
    if (rc)
        return rc;
    static const char *modes[] = {"garbage", "version", "empty", "hello", "oversize"};
    int known = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        known |= strcmp (args.mode, modes[i]) == 0;
    if (!known)
        return s_usage ("MODE must be garbage, version, empty, hello or oversize");
    srandom ((unsigned)time (NULL) ^ (unsigned)getpid ());
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock) {
        fprintf (stderr, "fb_zsend: cannot create a DEALER socket\n");
        return 1;
    }
    if (!args.anonymous)
        zsock_set_identity (sock, args.id);
    zsock_set_linger (sock, 2000); /* let queued frames leave before we close */
    zsock_set_sndtimeo (sock, 5000);
    if (zsock_connect (sock, "%s", args.endpoint) != 0) {
        fprintf (stderr, "fb_zsend: cannot connect to %s\n", args.endpoint);
        zsock_destroy (&sock);
        return 1;
    }
    int sent = 0;
    for (int i = 0; i < args.count; i++) {
        zframe_t *frame = s_make_frame (&args);
        if (!frame || zframe_send (&frame, sock, 0) != 0) {
            zframe_destroy (&frame);
            fprintf (stderr, "fb_zsend: sending frame %d to %s failed\n", i + 1, args.endpoint);
            break;
        }
        sent++;
    }
    fprintf (stderr, "fb_zsend: sent %d %s frame(s) to %s as %s\n", sent, args.mode, args.endpoint,
             args.id);
    if (sent > 0)
        s_await_replies (sock, &args);
    zsock_destroy (&sock);
    return sent == args.count ? 0 : 1;
}

/* fb_hellofuzz.c: a property test driver for the coordinator's front door. It plays N agents,
 * each a DEALER with a random routing id that says Hello with random labels and fingerprint
 * strings (control bytes, ANSI sequences, newlines, "|", "../", bytes that are not UTF-8),
 * and checks each answer: an agent with an unsafe id must be refused (Error, code
 * FB_EREFUSED), one with a safe id must be taken (Ack). What reaches the logs, run.json and
 * report.md is checked by the calling test.
 *
 *   fb_hellofuzz ENDPOINT --seed N --agents N [--wait-ms MS]
 *
 * Prints one line per agent; exit 0 when every answer was the right one, 1 otherwise. */
#include "common/escape.h"
#include "common/fingerprint.h"
#include "common/wire.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_AGENTS 200

/* Pieces a hostile peer would try, mixed with random bytes. */
static const char *const s_nasty[] = {"\033[31mFAKE: run passed\033[0m",
                                      "\nFAKE: run passed\n",
                                      "\r",
                                      "|",
                                      "| x | y |",
                                      "../",
                                      "../../evil",
                                      "<script>alert(1)</script>",
                                      "`code`",
                                      "**bold**",
                                      ("\xc2\x9b"
                                       "31m"), /* split: \x9b31 would be one escape */
                                      "\xff\xfe",
                                      "\x7f",
                                      "\t",
                                      "%s%n",
                                      "\xe2\x80\xae",
                                      "[link](http://x)",
                                      "&amp;"};

static void s_random_text (char *out, size_t size) {
    size_t len = 0, want = (size_t)random () % size;
    while (len < want) {
        const char *piece;
        char byte[2] = {0, 0};
        if (random () % 3 == 0)
            piece = s_nasty[(size_t)random () % (sizeof s_nasty / sizeof s_nasty[0])];
        else {
            byte[0] = (char)(1 + random () % 255); /* never a NUL: it would end the string */
            piece = byte;
        }
        size_t n = strlen (piece);
        if (len + n >= size)
            break;
        memcpy (out + len, piece, n);
        len += n;
    }
    out[len] = '\0';
}

/* Half the agents get a safe id (and must be taken), half a hostile one (refused). */
static void s_random_id (int index, char *out, size_t size, bool *safe) {
    *safe = index % 2 == 0;
    if (*safe) {
        static const char ok[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
        int n = snprintf (out, size, "fz%d-", index);
        int extra = (int)(random () % 20);
        for (int i = 0; i < extra && n + 1 < (int)size && n < FB_NAME_MAX; i++)
            out[n++] = ok[(size_t)random () % (sizeof ok - 1)];
        out[n] = '\0';
        return;
    }
    /* Unique: two peers with one routing id would take it from each other. */
    static const char *const fixed[] = {".", "..", "../../evil", "../../../../../../../tmp/evil"};
    if ((size_t)index / 2 < sizeof fixed / sizeof fixed[0]) {
        snprintf (out, size, "%s", fixed[index / 2]);
        return;
    }
    char text[64];
    s_random_text (text, sizeof text);
    snprintf (out, size, "%s/%d", text, index); /* the "/" makes it unsafe */
}

static void s_random_hello (fb_hello_t *h) {
    h->n_labels = (int)(random () % (FB_MAX_LABELS + 1));
    for (int i = 0; i < h->n_labels; i++) {
        s_random_text (h->labels[i].key, sizeof h->labels[i].key);
        s_random_text (h->labels[i].value, sizeof h->labels[i].value);
    }
    fb_fingerprint_t *fp = &h->fp;
    s_random_text (fp->hostname, sizeof fp->hostname);
    s_random_text (fp->arch, sizeof fp->arch);
    s_random_text (fp->cpu_model, sizeof fp->cpu_model);
    s_random_text (fp->kernel, sizeof fp->kernel);
    s_random_text (fp->libc, sizeof fp->libc);
    s_random_text (fp->openssl, sizeof fp->openssl);
    s_random_text (fp->build, sizeof fp->build);
    s_random_text (fp->clocksource, sizeof fp->clocksource);
    s_random_text (fp->board, sizeof fp->board);
    s_random_text (fp->cpu_flags, sizeof fp->cpu_flags);
    s_random_text (fp->throttling, sizeof fp->throttling);
    fp->cores = (int)(random () % 256);
    h->instance = ((uint64_t)random () << 32) | (uint64_t)random () | 1;
}

static zsock_t *s_agent_say_hello (const char *endpoint, const char *id) {
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_identity (sock, id);
    zsock_set_linger (sock, 0);
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_HELLO);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!msg || zsock_connect (sock, "%s", endpoint) != 0) {
        fb_wire_msg_destroy (&msg);
        zsock_destroy (&sock);
        return NULL;
    }
    snprintf (msg->u.hello.agent_id, sizeof msg->u.hello.agent_id, "%s", id);
    s_random_hello (&msg->u.hello);
    if (fb_wire_pack (msg, &bytes, &len, NULL) == 0)
        zmq_send (zsock_resolve (sock), bytes, len, 0); /* queued until connected */
    free (bytes);
    fb_wire_msg_destroy (&msg);
    return sock;
}

/* The first answer: "ack", "refused" (Error FB_EREFUSED), "error" (another Error), "none". */
static const char *s_answer (zsock_t *sock, int wait_ms) {
    zpoller_t *poller = zpoller_new (sock, NULL);
    const char *answer = "none";
    if (poller && zpoller_wait (poller, wait_ms)) {
        zframe_t *frame = zframe_recv (sock);
        fb_msg_t *msg =
            frame ? fb_wire_unpack (zframe_data (frame), zframe_size (frame), NULL) : NULL;
        if (!msg)
            answer = "undecodable";
        else if (msg->type == FB_MSG_ACK)
            answer = "ack";
        else if (msg->type == FB_MSG_ERROR)
            answer = msg->u.error.code == FB_EREFUSED ? "refused" : "error";
        else
            answer = fb_wire_msg_type_name (msg->type);
        fb_wire_msg_destroy (&msg);
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
    return answer;
}

int main (int argc, char **argv) {
    long seed = -1, agents = 0, wait_ms = 3000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp (argv[i], "--seed") == 0)
            seed = atol (argv[i + 1]);
        else if (strcmp (argv[i], "--agents") == 0)
            agents = atol (argv[i + 1]);
        else if (strcmp (argv[i], "--wait-ms") == 0)
            wait_ms = atol (argv[i + 1]);
    }
    if (argc < 2 || seed < 0 || agents < 1 || agents > S_MAX_AGENTS || argc % 2) {
        fprintf (stderr, "usage: fb_hellofuzz ENDPOINT --seed N --agents 1..%d [--wait-ms MS]\n",
                 S_MAX_AGENTS);
        return 2;
    }
    srandom ((unsigned)seed);
    zsock_t *socks[S_MAX_AGENTS] = {0};
    bool safe[S_MAX_AGENTS];
    char ids[S_MAX_AGENTS][80];
    for (int i = 0; i < agents; i++) {
        s_random_id (i, ids[i], sizeof ids[i], &safe[i]);
        socks[i] = s_agent_say_hello (argv[1], ids[i]);
    }
    int wrong = 0;
    for (int i = 0; i < agents; i++) {
        const char *answer = socks[i] ? s_answer (socks[i], (int)wait_ms) : "no socket";
        bool right = strcmp (answer, safe[i] ? "ack" : "refused") == 0;
        char shown[400];
        fb_escape (ids[i], shown, sizeof shown, FB_ESCAPE_TEXT);
        printf ("%s agent %d id \"%s\" (%s): %s\n", right ? "ok" : "WRONG", i, shown,
                safe[i] ? "safe" : "unsafe", answer);
        wrong += !right;
        zsock_destroy (&socks[i]);
    }
    printf ("seed %ld: %d of %ld answers wrong\n", seed, wrong, agents);
    return wrong ? 1 : 0;
}

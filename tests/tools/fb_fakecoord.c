/* fb_fakecoord.c: a second coordinator for fault tests. Binds a ROUTER, waits for any message
 * from an agent, sends that agent a valid Plan of its own, and prints the agent's answer:
 *   fb_fakecoord ENDPOINT [--wait-ms MS] [--run-id ID]
 * prints "reply ERROR: <message>", "reply READY", or "no agent" / "no reply". Test tool. */
#include "common/clock.h"
#include "common/wire.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next message from any peer within wait_ms: its routing id and decoded body. */
static fb_msg_t *s_recv (zsock_t *router, int wait_ms, char **id) {
    zpoller_t *poller = zpoller_new (router, NULL);
    fb_msg_t *msg = NULL;
    int64_t deadline = fb_clock_now_ns () + (int64_t)wait_ms * FB_NS_PER_MS;
    while (!msg && fb_clock_now_ns () < deadline) {
        if (zpoller_wait (poller, 100) != router)
            continue;
        zmsg_t *zmsg = zmsg_recv (router);
        char *from = zmsg ? zmsg_popstr (zmsg) : NULL;
        zframe_t *frame = zmsg ? zmsg_pop (zmsg) : NULL;
        msg = frame ? fb_wire_unpack (zframe_data (frame), zframe_size (frame), NULL) : NULL;
        if (msg && msg->type != FB_MSG_HEARTBEAT && msg->type != FB_MSG_ERROR &&
            msg->type != FB_MSG_READY && msg->type != FB_MSG_HELLO)
            fb_wire_msg_destroy (&msg); /* reports and the like: not what we wait for */
        if (msg) {
            *id = from;
            from = NULL;
        }
        zstr_free (&from);
        zframe_destroy (&frame);
        zmsg_destroy (&zmsg);
    }
    zpoller_destroy (&poller);
    return msg;
}

static void s_send_plan (zsock_t *router, const char *id, const char *run_id) {
    fb_msg_t *msg = fb_wire_msg_new (FB_MSG_PLAN);
    fb_plan_t *plan = &msg->u.plan;
    snprintf (plan->run_id, sizeof plan->run_id, "%s", run_id);
    snprintf (plan->scenario, sizeof plan->scenario, "intruder");
    plan->heartbeat_timeout_ns = 5 * FB_NS_PER_S;
    plan->n_workloads = 1;
    fb_plan_workload_t *w = &plan->workloads[0];
    snprintf (w->name, sizeof w->name, "bus");
    snprintf (w->kind, sizeof w->kind, "eventbus");
    w->duration_ns = FB_NS_PER_S;
    w->interval_ns = FB_NS_PER_S;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fb_wire_pack (msg, &buf, &len, NULL) == 0) {
        zmsg_t *zmsg = zmsg_new ();
        zmsg_addstr (zmsg, id);
        zmsg_addmem (zmsg, buf, len);
        zmsg_send (&zmsg, router);
    }
    free (buf);
    fb_wire_msg_destroy (&msg);
}

int main (int argc, char **argv) {
    int wait_ms = 5000;
    const char *run_id = "intruder-run";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp (argv[i], "--wait-ms") == 0)
            wait_ms = atoi (argv[i + 1]);
        else if (strcmp (argv[i], "--run-id") == 0)
            run_id = argv[i + 1];
    }
    if (argc < 2 || argc % 2) {
        fprintf (stderr, "usage: fb_fakecoord ENDPOINT [--wait-ms MS] [--run-id ID]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (router, 0);
    if (zsock_bind (router, "%s", argv[1]) < 0) {
        fprintf (stderr, "fb_fakecoord: cannot bind %s\n", argv[1]);
        return 1;
    }
    char *id = NULL;
    fb_msg_t *first = s_recv (router, wait_ms, &id);
    if (!first) {
        printf ("no agent\n");
        zsock_destroy (&router);
        return 0;
    }
    fb_wire_msg_destroy (&first);
    s_send_plan (router, id, run_id);
    char *from = NULL;
    fb_msg_t *reply = NULL;
    int64_t deadline = fb_clock_now_ns () + (int64_t)wait_ms * FB_NS_PER_MS;
    while (!reply && fb_clock_now_ns () < deadline) {
        reply = s_recv (router, 500, &from);
        if (reply && reply->type == FB_MSG_HEARTBEAT)
            fb_wire_msg_destroy (&reply);
        zstr_free (&from);
    }
    if (!reply)
        printf ("no reply\n");
    else if (reply->type == FB_MSG_ERROR)
        printf ("reply ERROR: %s\n", reply->u.error.message);
    else
        printf ("reply %s\n", fb_wire_msg_type_name (reply->type));
    fb_wire_msg_destroy (&reply);
    zstr_free (&id);
    zsock_destroy (&router);
    return 0;
}

/* local.h: agents the coordinator starts on this machine (loopback, no keys needed), so one
 * command shows a whole run. They die with the coordinator (PR_SET_PDEATHSIG). */
#ifndef FB_LOCAL_H
#define FB_LOCAL_H

#include "common/err.h"

typedef struct fb_local fb_local_t;

/* Starts n agents "local-1".."local-n" connecting to endpoint, each with --once; their output
 * goes to run_dir/agents/local-N.log. agent_path "" means the agent next to this program.
 * allow (not NULL or ""): each agent's --allow file. With coordinator_key (CURVE), each agent
 * uses run_dir/agents/local-N.key, made by the caller. */
fb_local_t *fb_local_start (const char *agent_path, const char *allow, const char *endpoint, int n,
                            const char *run_dir, const char *coordinator_key, fb_err_t *err);
/* A local agent that has exited (reaped here): its number (1..n) and exit code (128 + the
 * signal when killed); 0 when every one still runs. Before they join, an exit is a failure to
 * start: a bad --allow file exits 2. */
int fb_local_exited (fb_local_t *self, int *code);
/* Waits a few seconds for them to leave, then terminates those still there; reaps all. */
void fb_local_stop (fb_local_t **self_p);

#endif

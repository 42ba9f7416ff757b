/* agent.h: a long-lived agent: connects to a coordinator, says Hello with its fingerprint,
 * takes Plans, runs them at the shared start instant and streams interval Reports, keeping
 * every unacknowledged one for resending. When the coordinator goes silent past the heartbeat
 * timeout it stops its workloads, keeps its results in a local folder and waits for the next
 * coordinator. */
#ifndef FB_AGENT_H
#define FB_AGENT_H

#include "agent/allow.h"
#include "common/err.h"
#include "common/wire.h"
#include "workloads/workload.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *coordinator; /* "tcp://host:5690" */
    char id[64];             /* routing id; default hostname */
    int n_labels;
    fb_label_t labels[FB_MAX_LABELS];
    bool once;           /* exit after one run (or when the coordinator is lost) */
    char state_dir[512]; /* results kept here when the coordinator is gone */
    bool quiet;
    const char *cert;            /* CURVE: our key pair (NAME.key), NULL for plain TCP */
    const char *coordinator_key; /* CURVE: the only coordinator we take plans from */
    const fb_allow_t *allow;     /* commands the process workload may run (--allow FILE) */
    volatile sig_atomic_t *stop; /* set by the SIGINT/SIGTERM handler (may be NULL) */
} fb_agent_config_t;

typedef struct fb_agent fb_agent_t;

fb_agent_t *fb_agent_new (const fb_agent_config_t *config, fb_err_t *err);
void fb_agent_destroy (fb_agent_t **self_p);
/* Runs until *config->stop is set (SIGINT/SIGTERM) or, with once, until one run ended; a run
 * stopped that way keeps its results in state_dir. 0: ended normally; -1: could not run, or
 * the coordinator refused this agent (err, FB_EREFUSED). */
int fb_agent_run (fb_agent_t *self, fb_err_t *err);

#endif

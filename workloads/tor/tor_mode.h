/* tor_mode.h: one descriptor, two implementations. tor.circuit and tor.stream run either on the
 * loopback model (workloads/tor/model/) or on real tor (workloads/tor/real/); their param
 * `mode` picks one at check and setup, and every later call goes to it through the state, so
 * the choice is made once, as a function table. */
#ifndef FB_TOR_MODE_H
#define FB_TOR_MODE_H

#include "workloads/workload.h"

typedef struct {
    const char *kind; /* for messages */
    /* What holds in both modes (hops <= relays, ...); may be NULL. */
    int (*check) (const fb_params_t *params, const fb_wl_env_t *env, fb_err_t *err);
    const fb_workload_t *model; /* mode: model (index 0 of the enum), and any other but tor
                                   (interop: the model's client through real relays) */
    const fb_workload_t *tor;   /* mode: tor (index 1) */
} fb_tor_mode_t;

/* The shared check, then the chosen mode's own. */
int fb_tor_mode_check (const fb_tor_mode_t *modes, const fb_params_t *params,
                       const fb_wl_env_t *env, fb_err_t *err);
/* The state of a moded workload (its descriptor's state_size): the mode chosen at setup and
 * that mode's own state. */
typedef struct {
    const fb_workload_t *impl;
    void *state;
} fb_tor_mode_state_t;

/* Sets the chosen mode up (fb_workload_setup of it) in state, a fb_tor_mode_state_t. */
int fb_tor_mode_setup (const fb_tor_mode_t *modes, void *state, const fb_params_t *params,
                       const fb_wl_env_t *env, fb_err_t *err);
/* The descriptor's op (or asynchronous operations), interval and teardown: to the mode chosen
 * at setup. */
int fb_tor_mode_op (void *state, fb_wl_op_t *op);
int fb_tor_mode_slots (void *state, int worker);
int fb_tor_mode_start (void *state, fb_wl_op_t *op, uint64_t tag);
int fb_tor_mode_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max);
void fb_tor_mode_cancel (void *state, int worker);
void fb_tor_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters);
void fb_tor_mode_teardown (void *state);

#endif

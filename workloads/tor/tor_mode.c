/* tor_mode.c: the state of a moded workload is the chosen implementation and its own state. */
#include "workloads/tor/tor_mode.h"

#include <stdlib.h>

typedef struct {
    const fb_workload_t *impl;
    void *state;
} s_moded_t;

static const fb_workload_t *s_impl (const fb_tor_mode_t *modes, const fb_params_t *params) {
    return fb_params_num (params, "mode") == 1 ? modes->tor : modes->model;
}

int fb_tor_mode_check (const fb_tor_mode_t *modes, const fb_params_t *params,
                       const fb_wl_env_t *env, fb_err_t *err) {
    if (modes->check && modes->check (params, env, err) != 0)
        return -1;
    const fb_workload_t *impl = s_impl (modes, params);
    return impl->check ? impl->check (params, env, err) : 0;
}

int fb_tor_mode_setup (const fb_tor_mode_t *modes, const fb_params_t *params,
                       const fb_wl_env_t *env, void **state_p, fb_err_t *err) {
    *state_p = NULL;
    s_moded_t *self = calloc (1, sizeof *self);
    if (!self)
        return fb_err_set (err, FB_ENOMEM, "%s: out of memory", modes->kind);
    self->impl = s_impl (modes, params);
    if (fb_tor_mode_check (modes, params, env, err) != 0 ||
        self->impl->setup (params, env, &self->state, err) != 0) {
        free (self);
        return -1;
    }
    *state_p = self;
    return 0;
}

int fb_tor_mode_op (void *state, fb_wl_op_t *op) {
    s_moded_t *self = state;
    return self->impl->op (self->state, op);
}

void fb_tor_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    s_moded_t *self = state;
    self->impl->interval (self->state, metrics, counters);
}

void fb_tor_mode_teardown (void **state_p) {
    s_moded_t *self = *state_p;
    if (!self)
        return;
    self->impl->teardown (&self->state);
    free (self);
    *state_p = NULL;
}

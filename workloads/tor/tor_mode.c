/* tor_mode.c: a moded workload's state holds the chosen implementation and that one's state. */
#include "workloads/tor/tor_mode.h"

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

int fb_tor_mode_setup (const fb_tor_mode_t *modes, void *state, const fb_params_t *params,
                       const fb_wl_env_t *env, fb_err_t *err) {
    fb_tor_mode_state_t *self = state;
    self->impl = s_impl (modes, params);
    return fb_workload_setup (self->impl, params, env, &self->state, err);
}

int fb_tor_mode_op (void *state, fb_wl_op_t *op) {
    fb_tor_mode_state_t *self = state;
    return self->impl->op (self->state, op);
}

int fb_tor_mode_slots (void *state, int worker) {
    fb_tor_mode_state_t *self = state;
    return self->impl->slots (self->state, worker);
}

int fb_tor_mode_start (void *state, fb_wl_op_t *op, uint64_t tag) {
    fb_tor_mode_state_t *self = state;
    return self->impl->start (self->state, op, tag);
}

int fb_tor_mode_poll (void *state, int worker, int64_t until_ns, fb_wl_done_t *done, int max) {
    fb_tor_mode_state_t *self = state;
    return self->impl->poll (self->state, worker, until_ns, done, max);
}

void fb_tor_mode_cancel (void *state, int worker) {
    fb_tor_mode_state_t *self = state;
    self->impl->cancel (self->state, worker);
}

void fb_tor_mode_interval (void *state, fb_hist_t *const *metrics, int64_t *counters) {
    fb_tor_mode_state_t *self = state;
    self->impl->interval (self->state, metrics, counters);
}

void fb_tor_mode_teardown (void *state) {
    fb_tor_mode_state_t *self = state;
    if (self->impl)
        fb_workload_teardown (self->impl, &self->state);
}

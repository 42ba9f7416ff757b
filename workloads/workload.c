/* workload.c: the registry of every workload kind this build knows, found by name, and the
 * runner's own metrics and counters that every kind has. */
#include "workloads/workload.h"

#include <stdlib.h>
#include <string.h>

extern const fb_workload_t fb_workload_eventbus;
extern const fb_workload_t fb_workload_http;
extern const fb_workload_t fb_workload_log;
extern const fb_workload_t fb_workload_process;
extern const fb_workload_t fb_workload_proxy;
extern const fb_workload_t fb_workload_tor_circuit;
extern const fb_workload_t fb_workload_tor_stream;

static const fb_workload_t *const s_all[] = {
    &fb_workload_eventbus, &fb_workload_http,        &fb_workload_log,        &fb_workload_process,
    &fb_workload_proxy,    &fb_workload_tor_circuit, &fb_workload_tor_stream, NULL,
};

const char *const fb_runner_metrics[] = {"latency", "service", "sched_lag", NULL};

const fb_counter_spec_t fb_runner_counters[] = {
    {"ops", FB_COUNTER_SUM, ""},
    {"errors", FB_COUNTER_SUM, ""},
    {"rss", FB_COUNTER_MAX, "B"},
    {"cpu", FB_COUNTER_SUM, "ns"},
    {"steal", FB_COUNTER_MAX, "ppm"},
    {"throttled", FB_COUNTER_MAX, ""},
    {"missed", FB_COUNTER_SUM, ""},
    {"capacity", FB_COUNTER_MAX, "/s"},
    {"capacity_unsure", FB_COUNTER_MAX, ""},
    {NULL, FB_COUNTER_SUM, NULL},
};

bool fb_counter_is_capacity (const char *name) {
    return strcmp (name, FB_COUNTER_CAPACITY) == 0 ||
           strcmp (name, FB_COUNTER_CAPACITY_UNSURE) == 0;
}

const fb_counter_spec_t *fb_workload_counter_spec (const fb_workload_t *wl, const char *name) {
    for (int i = 0; fb_runner_counters[i].name; i++)
        if (strcmp (fb_runner_counters[i].name, name) == 0)
            return &fb_runner_counters[i];
    for (int i = 0; wl && wl->counters && wl->counters[i].name; i++)
        if (strcmp (wl->counters[i].name, name) == 0)
            return &wl->counters[i];
    return NULL;
}

const fb_workload_t *fb_workload_find (const char *kind) {
    for (int i = 0; s_all[i]; i++)
        if (strcmp (s_all[i]->kind, kind) == 0)
            return s_all[i];
    return NULL;
}

const fb_workload_t *const *fb_workload_all (void) { return s_all; }

fb_counter_kind_t fb_workload_counter_kind (const char *name, const void *wl) {
    const fb_counter_spec_t *spec = fb_workload_counter_spec (wl, name);
    return spec ? spec->kind : FB_COUNTER_SUM;
}

int fb_workload_setup (const fb_workload_t *wl, const fb_params_t *params, const fb_wl_env_t *env,
                       void **state_p, fb_err_t *err) {
    *state_p = NULL;
    if (wl->check && wl->check (params, env, err) != 0)
        return -1;
    void *state = calloc (1, wl->state_size ? wl->state_size : 1);
    if (!state)
        return fb_err_set (err, FB_ENOMEM, "%s: out of memory", wl->kind ? wl->kind : "workload");
    if (wl->setup (state, params, env, err) != 0) {
        wl->teardown (state);
        free (state);
        return -1;
    }
    *state_p = state;
    return 0;
}

void fb_workload_teardown (const fb_workload_t *wl, void **state_p) {
    if (!*state_p)
        return;
    wl->teardown (*state_p);
    free (*state_p);
    *state_p = NULL;
}

/* registry.c: every workload kind this build knows, found by name. */
#include "workload.h"

#include <string.h>

extern const fb_workload_t fb_workload_eventbus;
extern const fb_workload_t fb_workload_log;
extern const fb_workload_t fb_workload_process;
extern const fb_workload_t fb_workload_proxy;
extern const fb_workload_t fb_workload_tor_circuit;
extern const fb_workload_t fb_workload_tor_stream;

static const fb_workload_t *const s_all[] = {
    &fb_workload_eventbus,
    &fb_workload_log,
    &fb_workload_process,
    &fb_workload_proxy,
    &fb_workload_tor_circuit,
    &fb_workload_tor_stream,
    NULL,
};

const char *const fb_runner_metrics[] = {"latency", "service", "sched_lag", NULL};

const fb_counter_spec_t fb_runner_counters[] = {
    {"ops", FB_COUNTER_SUM, ""},      {"errors", FB_COUNTER_SUM, ""},
    {"rss", FB_COUNTER_MAX, "B"},     {"cpu", FB_COUNTER_SUM, "ns"},
    {"steal", FB_COUNTER_MAX, "ppm"}, {"throttled", FB_COUNTER_MAX, ""},
    {"missed", FB_COUNTER_SUM, ""},   {NULL, FB_COUNTER_SUM, NULL},
};

const fb_counter_spec_t *fb_counter_spec (const fb_workload_t *wl, const char *name) {
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

/* registry.c: every workload kind this build knows, found by name. */
#include "workload.h"

#include <string.h>

extern const fb_workload_t fb_workload_eventbus;
extern const fb_workload_t fb_workload_proxy;
extern const fb_workload_t fb_workload_tor_circuit;
extern const fb_workload_t fb_workload_tor_stream;

static const fb_workload_t *const s_all[] = {
    &fb_workload_eventbus,
    &fb_workload_proxy,
    &fb_workload_tor_circuit,
    &fb_workload_tor_stream,
    NULL,
};

const fb_workload_t *fb_workload_find (const char *kind) {
    for (int i = 0; s_all[i]; i++)
        if (strcmp (s_all[i]->kind, kind) == 0)
            return s_all[i];
    return NULL;
}

const fb_workload_t *const *fb_workload_all (void) { return s_all; }

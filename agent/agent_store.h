/* agent_store.h: everything one run measured on this agent, merged per workload, so the
 * results survive when the coordinator does not: written as JSON (the same per-host stats
 * format as run.json) into the agent's state folder. */
#ifndef FB_AGENT_STORE_H
#define FB_AGENT_STORE_H

#include "common/err.h"
#include "common/wire.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fb_agent_store fb_agent_store_t;

fb_agent_store_t *fb_agent_store_new (const fb_plan_t *plan, const char *agent_id, fb_err_t *err);
void fb_agent_store_destroy (fb_agent_store_t **self_p);
/* Merges one interval report (measured phase only; warm-up is counted apart). */
void fb_agent_store_add (fb_agent_store_t *self, const fb_report_t *report);
/* Operations of the measured phase, every workload. */
int64_t fb_agent_store_measured_ops (const fb_agent_store_t *self);
/* Writes DIR/<run-id>/<agent-id>.json (temp name, then rename); path receives the file. */
int fb_agent_store_write (const fb_agent_store_t *self, const char *dir, char *path,
                          size_t path_size, fb_err_t *err);

#endif

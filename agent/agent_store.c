/* agent_store.c: an agent's own tally of a run, kept for when the coordinator is gone. */
#include "agent/agent_store.h"

#include "agent/runner.h"
#include "common/files.h"
#include "common/merge.h"
#include "common/stats_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fb_agent_store {
    fb_plan_t plan;
    char agent_id[64];
    int reports;
    fb_stats_t stats[FB_MAX_WORKLOADS];
};

fb_agent_store_t *fb_agent_store_new (const fb_plan_t *plan, const char *agent_id, fb_err_t *err) {
    fb_agent_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        fb_err_set (err, FB_ENOMEM, "out of memory");
        return NULL;
    }
    self->plan = *plan;
    snprintf (self->agent_id, sizeof self->agent_id, "%s", agent_id);
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_init (&self->stats[w]);
    return self;
}

void fb_agent_store_destroy (fb_agent_store_t **self_p) {
    fb_agent_store_t *self = *self_p;
    if (!self)
        return;
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_clear (&self->stats[w]);
    free (self);
    *self_p = NULL;
}

void fb_agent_store_add (fb_agent_store_t *self, const fb_report_t *report) {
    if (report->phase != FB_PHASE_MEASURE || report->workload < 0 ||
        report->workload >= self->plan.n_workloads)
        return;
    fb_stats_t *stats = &self->stats[report->workload];
    const fb_workload_t *wl = fb_workload_find (self->plan.workloads[report->workload].kind);
    fb_err_t err = {0};
    fb_merge_report (stats, report, fb_workload_counter_kind, wl, NULL, NULL, &err);
    stats->measured_ns += report->end_ns - report->start_ns;
    self->reports++;
}

int64_t fb_agent_store_measured_ops (const fb_agent_store_t *self) {
    int64_t ops = 0;
    for (int w = 0; w < self->plan.n_workloads; w++) {
        int i = fb_stats_find_counter (&self->stats[w], FB_COUNTER_OPS);
        ops += i >= 0 ? self->stats[w].counters[i] : 0;
    }
    return ops;
}

int fb_agent_store_write (const fb_agent_store_t *self, const char *dir, char *path,
                          size_t path_size, fb_err_t *err) {
    char folder[512];
    snprintf (folder, sizeof folder, "%s/%s", dir, self->plan.run_id);
    if (fb_files_mkdirs (folder, err) != 0)
        return -1;
    json_t *root = json_pack ("{s:s,s:s,s:s,s:i,s:b}", "run_id", self->plan.run_id, "scenario",
                              self->plan.scenario, "agent", self->agent_id, "reports",
                              self->reports, "complete", 0);
    json_t *workloads = json_array ();
    if (!root || !workloads) {
        json_decref (root);
        json_decref (workloads);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    for (int w = 0; w < self->plan.n_workloads; w++) {
        json_t *wj = fb_stats_json_encode (&self->stats[w]);
        if (wj)
            json_object_set_new (wj, "name", json_string (self->plan.workloads[w].name));
        json_array_append_new (workloads, wj ? wj : json_null ());
    }
    json_object_set_new (root, "workloads", workloads);
    snprintf (path, path_size, "%s/%s.json", folder, self->agent_id);
    int rc = fb_files_write_json (path, root, err);
    json_decref (root);
    return rc;
}

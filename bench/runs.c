/* runs.c: a workload through the runner, for the benches. */
#include "bench/runs.h"

#include "common/clock.h"

#include <stdio.h>
#include <string.h>

fb_plan_workload_t fb_runs_plan (const char *kind, double rate_per_s, int seconds) {
    fb_plan_workload_t plan = {.rate_per_s = rate_per_s,
                               .duration_ns = seconds * FB_NS_PER_S,
                               .warmup_ns = 300 * FB_NS_PER_MS,
                               .interval_ns = FB_NS_PER_S};
    snprintf (plan.name, sizeof plan.name, "%s-bench", kind);
    snprintf (plan.kind, sizeof plan.kind, "%s", kind);
    return plan;
}

void fb_runs_param (fb_plan_workload_t *plan, const char *name, const char *value) {
    fb_plan_param_t *p = &plan->params[plan->n_params++];
    snprintf (p->name, sizeof p->name, "%s", name);
    snprintf (p->value, sizeof p->value, "%s", value);
}

static void s_sink (fb_msg_t **msg_p, void *arg) {
    fb_runs_tally_t *t = arg;
    const fb_report_t *r = &(*msg_p)->u.report;
    for (int m = 0; r->phase == FB_PHASE_MEASURE && m < r->n_metrics; m++) {
        fb_hist_t *into = strcmp (r->metrics[m].name, FB_METRIC_LATENCY) == 0     ? t->latency
                          : strcmp (r->metrics[m].name, FB_METRIC_SCHED_LAG) == 0 ? t->sched_lag
                                                                                  : NULL;
        fb_hist_t *h =
            into ? fb_hist_decode (r->metrics[m].hist, r->metrics[m].hist_len, NULL) : NULL;
        if (h)
            fb_hist_merge (into, h, NULL);
        fb_hist_destroy (&h);
    }
    fb_wire_msg_destroy (msg_p);
}

int fb_runs_workload (const fb_plan_workload_t *plan, const fb_allow_t *allow,
                      fb_runs_tally_t *tally, fb_runner_result_t *result) {
    fb_err_t err = {0};
    fb_runner_args_t args = {
        .run_id = "bench", .plan = plan, .sink = s_sink, .sink_arg = tally, .allow = allow};
    *result = (fb_runner_result_t){0};
    if (fb_runner_run (&args, result, &err) != 0) {
        fprintf (stderr, "bench: %s: %s\n", plan->name, err.msg);
        return -1;
    }
    return 0;
}

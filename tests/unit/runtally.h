/* runtally.h: what the runner's reports add up to, for the runner's tests: a sink that
 * tallies every report's counters and samples, and plan params set by name. Include after
 * cmocka.h. */
#ifndef FB_RUNTALLY_H
#define FB_RUNTALLY_H

#include "agent/runner.h"
#include "common/hist.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    int reports[2];      /* per phase */
    int64_t ops[2];      /* "ops" counters summed per phase */
    int64_t samples[2];  /* latency samples summed per phase */
    int64_t sched_lag;   /* samples of sched_lag, measured phase */
    int64_t last_end_ns; /* of the last measured interval */
    bool ordered;        /* every measured interval starts where the last ended */
    int64_t missed[2];   /* "missed" counters summed per phase */
    int64_t errors[2];   /* "errors" counters summed per phase */
    int64_t dispatch;    /* eventbus dispatch samples, both phases */
    int64_t abandoned;   /* eventbus "abandoned" counters, both phases */
    int late_reports;    /* warm-up reports that came after a measured one */
    int64_t late_cpu;    /* cpu, steal and throttled of those, summed */
    int64_t measured_cpu;
    int n_targets; /* measured reports' target rates, in order */
    double targets[16];
    int64_t capacity;        /* the "capacity" counter of the last measured report, -1: none */
    int64_t capacity_unsure; /* and its "capacity_unsure" (-1: none) */
    const char *watch;       /* a counter of the kind's own to sum over every report, or NULL */
    int64_t watched;
} t_tally_t;

static inline void t_sink (fb_msg_t **msg_p, void *arg) {
    t_tally_t *t = arg;
    fb_report_t *r = &(*msg_p)->u.report;
    assert_true (r->phase == FB_PHASE_WARMUP || r->phase == FB_PHASE_MEASURE);
    t->reports[r->phase]++;
    if (r->phase == FB_PHASE_MEASURE) { /* measured intervals follow each other exactly */
        if (t->last_end_ns && r->start_ns != t->last_end_ns)
            t->ordered = false;
        t->last_end_ns = r->end_ns;
        if (t->n_targets < 16)
            t->targets[t->n_targets++] = r->target_rate_per_s;
    }
    bool late = r->phase == FB_PHASE_WARMUP && t->reports[FB_PHASE_MEASURE] > 0;
    t->late_reports += late;
    for (int c = 0; c < r->n_counters; c++) {
        const char *name = r->counters[c].name;
        int64_t value = r->counters[c].value;
        if (strcmp (name, FB_COUNTER_OPS) == 0)
            t->ops[r->phase] += value;
        if (strcmp (name, FB_COUNTER_MISSED) == 0)
            t->missed[r->phase] += value;
        if (strcmp (name, FB_COUNTER_ERRORS) == 0)
            t->errors[r->phase] += value;
        if (strcmp (name, "abandoned") == 0)
            t->abandoned += value;
        if (t->watch && strcmp (name, t->watch) == 0)
            t->watched += value;
        if (strcmp (name, FB_COUNTER_CAPACITY) == 0 && r->phase == FB_PHASE_MEASURE)
            t->capacity = value;
        if (strcmp (name, FB_COUNTER_CAPACITY_UNSURE) == 0 && r->phase == FB_PHASE_MEASURE)
            t->capacity_unsure = value;
        bool host = strcmp (name, FB_COUNTER_CPU) == 0 || strcmp (name, "steal") == 0 ||
                    strcmp (name, "throttled") == 0;
        if (host && late)
            t->late_cpu += value;
        if (strcmp (name, FB_COUNTER_CPU) == 0 && r->phase == FB_PHASE_MEASURE)
            t->measured_cpu += value;
    }
    for (int m = 0; m < r->n_metrics; m++) {
        fb_hist_t *h = fb_hist_decode (r->metrics[m].hist, r->metrics[m].hist_len, NULL);
        assert_non_null (h);
        if (strcmp (r->metrics[m].name, FB_METRIC_LATENCY) == 0)
            t->samples[r->phase] += fb_hist_count (h);
        if (strcmp (r->metrics[m].name, FB_METRIC_SCHED_LAG) == 0 && r->phase == FB_PHASE_MEASURE)
            t->sched_lag += fb_hist_count (h);
        if (strcmp (r->metrics[m].name, "dispatch") == 0)
            t->dispatch += fb_hist_count (h);
        fb_hist_destroy (&h);
    }
    fb_wire_msg_destroy (msg_p);
}

/* Sets param name of plan (added when absent). */
static inline void t_param (fb_plan_workload_t *plan, const char *name, const char *value) {
    int i = 0;
    while (i < plan->n_params && strcmp (plan->params[i].name, name) != 0)
        i++;
    if (i == plan->n_params)
        plan->n_params++;
    snprintf (plan->params[i].name, sizeof plan->params[i].name, "%s", name);
    snprintf (plan->params[i].value, sizeof plan->params[i].value, "%s", value);
}

/* Sets each name, value pair of a NULL-ended list, as t_param does. */
static inline void t_params (fb_plan_workload_t *plan, const char *const *pairs) {
    for (; pairs[0]; pairs += 2)
        t_param (plan, pairs[0], pairs[1]);
}

#endif

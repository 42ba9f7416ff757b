/* per.c: hosts grouped for per: targets, their stats merged. */
#include "coordinator/per.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_counts (const fb_host_t *host) {
    return host->state != FB_HOST_LOST && host->state != FB_HOST_FAILED;
}

const char *fb_per_key (fb_per_t per, const char *id, const char *board, const char *cpu_model) {
    switch (per) {
    case FB_PER_FLEET:
        return "fleet";
    case FB_PER_HOST:
        return id ? id : "?";
    case FB_PER_BOARD:
        return board && board[0] ? board : "unknown board";
    case FB_PER_CPU:
        return cpu_model && cpu_model[0] ? cpu_model : "unknown CPU";
    }
    return "?";
}

/* The group key of host: what its group is named. */
static const char *s_key (const fb_host_t *host, fb_per_t per) {
    return fb_per_key (per, host->id, host->hello.fp.board, host->hello.fp.cpu_model);
}

static fb_per_group_t *s_group (fb_per_groups_t *self, const char *key, int max) {
    for (int g = 0; g < self->n; g++)
        if (strncmp (self->groups[g].name, key, sizeof self->groups[g].name - 1) == 0)
            return &self->groups[g];
    fb_per_group_t *group = &self->groups[self->n];
    group->hosts = calloc ((size_t)max, sizeof *group->hosts);
    if (!group->hosts)
        return NULL;
    self->n++;
    snprintf (group->name, sizeof group->name, "%s", key);
    fb_stats_init (&group->stats);
    return group;
}

fb_per_groups_t *fb_per_groups_new (const fb_run_t *run, int w, fb_per_t per, int only_host,
                                    fb_err_t *err) {
    fb_per_groups_t *self = calloc (1, sizeof *self);
    if (self)
        self->groups = calloc ((size_t)(run->n_hosts > 0 ? run->n_hosts : 1), sizeof *self->groups);
    if (!self || !self->groups) {
        fb_per_groups_destroy (&self);
        fb_err_set (err, FB_ENOMEM, "out of memory grouping hosts");
        return NULL;
    }
    self->per = per;
    const char *only = only_host >= 0 ? s_key (run->hosts[only_host], per) : NULL;
    for (int i = 0; i < run->n_hosts; i++) {
        const fb_host_t *host = run->hosts[i];
        const char *key = s_key (host, per);
        if (!s_counts (host) || (only && strcmp (key, only) != 0))
            continue;
        fb_per_group_t *group = s_group (self, key, run->n_hosts);
        if (!group) {
            fb_per_groups_destroy (&self);
            fb_err_set (err, FB_ENOMEM, "out of memory grouping hosts");
            return NULL;
        }
        group->hosts[group->n_hosts++] = i;
        if (fb_stats_merge (&group->stats, &host->stats[w], err) != 0) {
            fb_per_groups_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void fb_per_groups_destroy (fb_per_groups_t **self_p) {
    fb_per_groups_t *self = *self_p;
    if (!self)
        return;
    for (int g = 0; self->groups && g < self->n; g++) {
        fb_stats_clear (&self->groups[g].stats);
        free (self->groups[g].hosts);
    }
    free (self->groups);
    free (self);
    *self_p = NULL;
}

const char *fb_per_noun (fb_per_t per, bool plural) {
    switch (per) {
    case FB_PER_FLEET:
        return "fleet";
    case FB_PER_HOST:
        return plural ? "hosts" : "host";
    case FB_PER_BOARD:
        return plural ? "boards" : "board";
    case FB_PER_CPU:
        return plural ? "CPU models" : "CPU model";
    }
    return "?";
}

/* True when a is worse than b for target (further past its limit, or nearer to it). */
static bool s_worse (const fb_target_t *target, double a, double b) {
    return target->cmp == FB_CMP_LT || target->cmp == FB_CMP_LE ? a > b : a < b;
}

static int s_rank (const fb_verdict_group_t *g) {
    return g->why[0] ? 1 : g->state == FB_VERDICT_FAILED ? 2 : 0;
}

/* One group's verdict; its interval when it is one host with intervals of its own. */
static void s_judge_group (const fb_run_t *run, int w, const fb_target_t *target,
                           const fb_per_group_t *group, fb_verdict_group_t *out) {
    snprintf (out->name, sizeof out->name, "%s", group->name);
    out->n_hosts = group->n_hosts;
    out->hosts = calloc ((size_t)group->n_hosts, sizeof *out->hosts);
    if (out->hosts)
        memcpy (out->hosts, group->hosts, (size_t)group->n_hosts * sizeof *out->hosts);
    else
        out->n_hosts = 0;
    bool held = false;
    fb_err_t err = {0};
    if (fb_target_judge (target, &group->stats, &out->actual, &held, &err) != 0) {
        out->state = FB_VERDICT_FAILED;
        snprintf (out->why, sizeof out->why, "not measured: %s", err.msg);
        return;
    }
    out->state = held ? FB_VERDICT_HELD : FB_VERDICT_FAILED;
    /* a host's intervals are of this repetition only, its stats of every one (--repeat) */
    fb_samples_t *own = NULL;
    const fb_samples_t *samples =
        group->n_hosts == 1 && run->n_prior == 0
            ? fb_run_host_samples (run, run->hosts[group->hosts[0]], w, &own)
            : NULL;
    fb_inference_opts_t opts;
    fb_inference_opts_default (&opts);
    out->has_ci =
        samples && fb_inference_ci (samples, &target->measure, &opts, &out->ci, NULL) == 0;
    fb_samples_destroy (&own);
}

/* "b 3.1ms (95% interval 2.9ms..3.3ms)" or "b: not measured: ..." */
static void s_group_text (const fb_target_t *target, const fb_workload_t *wl,
                          const fb_verdict_group_t *g, char *buf, size_t size) {
    if (g->why[0]) {
        snprintf (buf, size, "%s (%s)", g->name, g->why);
        return;
    }
    char value[48], lo[48], hi[48];
    fb_target_measure_format (&target->measure, wl, g->actual, value, sizeof value);
    if (g->has_ci)
        snprintf (buf, size, "%s %s %s (95%% interval %s..%s)", g->name, target->measure.text,
                  value, fb_target_measure_format (&target->measure, wl, g->ci.lo, lo, sizeof lo),
                  fb_target_measure_format (&target->measure, wl, g->ci.hi, hi, sizeof hi));
    else
        snprintf (buf, size, "%s %s %s", g->name, target->measure.text, value);
}

void fb_per_append (char *buf, size_t size, const char *text) {
    size_t len = strlen (buf);
    if (len + strlen (text) + 4 < size)
        snprintf (buf + len, size - len, "%s", text);
    else if (len + 4 < size)
        snprintf (buf + len, size - len, "...");
}

/* failed_on ("host b", "hosts b, c") and the detail of a judged per-group verdict. */
static void s_describe (const fb_target_t *target, const fb_workload_t *wl, fb_verdict_t *v) {
    int failed = 0, worst = -1;
    for (int g = 0; g < v->n_groups; g++) {
        const fb_verdict_group_t *group = &v->groups[g];
        failed += group->state == FB_VERDICT_FAILED;
        /* the worst: a measured failure, then one not measured, then the furthest value */
        int rank = s_rank (group), worst_rank = worst < 0 ? -1 : s_rank (&v->groups[worst]);
        if (rank > worst_rank || (rank == worst_rank && !group->why[0] &&
                                  s_worse (target, group->actual, v->groups[worst].actual)))
            worst = g;
    }
    char text[300];
    v->failed_on[0] = v->detail[0] = '\0';
    if (v->n_groups == 0) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not measured: no host finished the workload");
        return;
    }
    v->state = failed ? FB_VERDICT_FAILED : FB_VERDICT_HELD;
    v->actual = v->groups[worst].actual;
    if (failed == 0) {
        s_group_text (target, wl, &v->groups[worst], text, sizeof text);
        snprintf (v->detail, sizeof v->detail, "held on %s %d %s; the worst: %s",
                  v->n_groups == 1 ? "its" : "each of", v->n_groups,
                  fb_per_noun (v->per, v->n_groups != 1), text);
        return;
    }
    snprintf (v->failed_on, sizeof v->failed_on, "%s ", fb_per_noun (v->per, failed != 1));
    snprintf (v->detail, sizeof v->detail, "failed on %d of %d %s: ", failed, v->n_groups,
              fb_per_noun (v->per, v->n_groups != 1));
    int listed = 0;
    for (int g = 0; g < v->n_groups; g++) {
        if (v->groups[g].state != FB_VERDICT_FAILED)
            continue;
        if (listed == 4) {
            snprintf (text, sizeof text, " and %d more", failed - listed);
            fb_per_append (v->failed_on, sizeof v->failed_on, text);
            fb_per_append (v->detail, sizeof v->detail, text);
            break;
        }
        fb_per_append (v->failed_on, sizeof v->failed_on, listed ? ", " : "");
        fb_per_append (v->failed_on, sizeof v->failed_on, v->groups[g].name);
        s_group_text (target, wl, &v->groups[g], text, sizeof text);
        fb_per_append (v->detail, sizeof v->detail, listed ? "; " : "");
        fb_per_append (v->detail, sizeof v->detail, text);
        listed++;
    }
}

void fb_per_judge (const fb_run_t *run, int w, const fb_target_t *target, fb_verdict_t *v) {
    fb_err_t err = {0};
    fb_per_groups_t *groups = fb_per_groups_new (run, w, target->per, -1, &err);
    v->per = target->per;
    if (groups && groups->n > 0 && !(v->groups = calloc ((size_t)groups->n, sizeof *v->groups)))
        snprintf (err.msg, sizeof err.msg, "out of memory");
    if (!groups || (groups->n > 0 && !v->groups)) {
        v->state = FB_VERDICT_FAILED;
        snprintf (v->detail, sizeof v->detail, "not judged: %s", err.msg);
        fb_per_groups_destroy (&groups);
        return;
    }
    for (int g = 0; g < groups->n; g++)
        s_judge_group (run, w, target, &groups->groups[g], &v->groups[v->n_groups++]);
    s_describe (target, run->sc->workloads[w].wl, v);
    fb_per_groups_destroy (&groups);
}

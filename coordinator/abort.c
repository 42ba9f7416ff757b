/* abort.c: ending a run early when an abort_on_fail target has already failed. */
#include "coordinator/abort.h"

#include "common/clock.h"
#include "coordinator/per.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The shortest measured window of group's hosts: the delay counts on the slowest. */
static int64_t s_measured_ns (const fb_run_t *run, int w, const fb_per_group_t *group) {
    int64_t least = INT64_MAX;
    for (int h = 0; h < group->n_hosts; h++) {
        int64_t ns = run->hosts[group->hosts[h]]->stats[w].measured_ns;
        least = ns < least ? ns : least;
    }
    return group->n_hosts > 0 ? least : 0;
}

static void s_stop (fb_run_t *run, int w, int t, const fb_per_group_t *group, double value,
                    int64_t measured_ns) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    const fb_target_t *target = &sw->targets[t];
    fb_run_stop_t *stop = &run->stop;
    stop->stopped = true;
    stop->workload = w;
    stop->target = t;
    stop->value = value;
    stop->measured_ns = measured_ns;
    stop->wall_ns = fb_clock_wall_ns ();
    if (target->per == FB_PER_FLEET)
        snprintf (stop->where, sizeof stop->where, "the fleet");
    else
        snprintf (stop->where, sizeof stop->where, "%s %s", fb_per_noun (target->per, false),
                  group->name);
    char shown[48];
    fb_target_measure_format (&target->measure, sw->wl, value, shown, sizeof shown);
    snprintf (stop->reason, sizeof stop->reason,
              "target \"%s\" of %s failed on %s %.1f s into the measured window (%s was %s; "
              "abort_on_fail)",
              target->text, sw->name, stop->where, measured_ns / 1e9, target->measure.text, shown);
}

/* Judges target t on the groups; true when one failed past the delay. */
static bool s_check_target (fb_run_t *run, int w, int t, const fb_per_groups_t *groups) {
    const fb_target_t *target = &run->sc->workloads[w].targets[t];
    for (int g = 0; g < groups->n; g++) {
        const fb_per_group_t *group = &groups->groups[g];
        int64_t measured = s_measured_ns (run, w, group);
        double value = 0;
        bool held = true;
        /* not measured yet (no operation, no window) is no reason to stop */
        if (measured <= 0 || measured < target->abort_delay_ns ||
            fb_target_judge (target, &group->stats, &value, &held, NULL) != 0 || held)
            continue;
        s_stop (run, w, t, group, value, measured);
        return true;
    }
    return false;
}

bool fb_abort_check (fb_run_t *run, int w, const fb_host_t *host, int64_t now_ns) {
    const fb_scenario_workload_t *sw = &run->sc->workloads[w];
    if (run->stop.stopped)
        return true;
    bool any = false; /* most workloads have no abort_on_fail target: nothing to look up */
    for (int t = 0; t < sw->n_targets && !any; t++)
        any = sw->targets[t].abort_on_fail;
    if (!any)
        return false;
    int h = 0;
    while (h < run->n_hosts && run->hosts[h] != host)
        h++;
    if (h == run->n_hosts)
        return false;
    bool groups_due =
        run->abort_checked_ns[w] == 0 || now_ns - run->abort_checked_ns[w] >= sw->interval_ns / 2;
    bool checked_groups = false;
    /* Only the group the reporting host is in (the others' data did not change), made once
     * per kind of group, however many targets read it. */
    fb_per_groups_t *by_per[FB_PER_CPU + 1] = {NULL};
    for (int t = 0; t < sw->n_targets && !run->stop.stopped; t++) {
        const fb_target_t *target = &sw->targets[t];
        if (!target->abort_on_fail || (target->per != FB_PER_HOST && !groups_due))
            continue;
        checked_groups = checked_groups || target->per != FB_PER_HOST;
        fb_per_groups_t **groups = &by_per[target->per];
        if (!*groups)
            *groups = fb_per_groups_new (run, w, target->per, h, NULL);
        if (*groups)
            s_check_target (run, w, t, *groups);
    }
    for (int p = 0; p <= FB_PER_CPU; p++)
        fb_per_groups_destroy (&by_per[p]);
    if (checked_groups)
        run->abort_checked_ns[w] = now_ns;
    return run->stop.stopped;
}

bool fb_abort_skipped (const fb_run_t *run, int w) {
    return run->stop.stopped && w > run->stop.workload;
}

void fb_abort_note (const fb_run_t *run, int w, int t, fb_verdict_t *v) {
    const fb_run_stop_t *stop = &run->stop;
    if (!stop->stopped || stop->workload != w || stop->target != t)
        return;
    const fb_target_t *target = &run->sc->workloads[w].targets[t];
    char value[48], tail[400];
    fb_target_measure_format (&target->measure, run->sc->workloads[w].wl, stop->value, value,
                              sizeof value);
    snprintf (tail, sizeof tail,
              "; stopped the run early: %s was %s on %s %.1f s into the "
              "measured window",
              target->measure.text, value, stop->where, stop->measured_ns / 1e9);
    if (v->state == FB_VERDICT_HELD) {
        /* the last reports, after the stop, brought it back: it failed when it was judged */
        v->state = FB_VERDICT_FAILED;
        v->actual = stop->value;
        snprintf (v->failed_on, sizeof v->failed_on, "%s",
                  target->per == FB_PER_FLEET ? "" : stop->where);
    }
    size_t len = strlen (v->detail);
    if (len < sizeof v->detail)
        snprintf (v->detail + len, sizeof v->detail - len, "%s", tail);
}

json_t *fb_abort_json (const fb_run_t *run) {
    const fb_run_stop_t *stop = &run->stop;
    if (!stop->stopped)
        return NULL;
    const fb_scenario_workload_t *sw = &run->sc->workloads[stop->workload];
    char when[40];
    time_t secs = (time_t)(stop->wall_ns / 1000000000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack (
        "{s:s,s:s,s:s,s:s,s:f,s:f,s:s,s:f,s:s}", "workload", sw->name, "target",
        sw->targets[stop->target].text, "per", fb_target_per_name (sw->targets[stop->target].per),
        "on", stop->where, "value", stop->value, "measured_s", stop->measured_ns / 1e9, "at", when,
        "after_s", (stop->wall_ns - run->start_wall_ns) / 1e9, "reason", stop->reason);
}

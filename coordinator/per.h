/* per.h: whose numbers a per: target is judged on. The hosts still in the run are split into
 * groups (one for the fleet, one per host, or one per board or CPU model their fingerprints
 * give), each with its hosts' stats of one workload merged exactly. */
#ifndef FB_PER_H
#define FB_PER_H

#include "common/err.h"
#include "common/stats.h"
#include "coordinator/run.h"

typedef struct {
    char name[160]; /* "fleet", the host id, the board or the CPU model */
    int n_hosts;
    int *hosts;       /* indexes into run->hosts, in run order */
    fb_stats_t stats; /* its hosts' stats merged; measured_ns: the longest window */
} fb_per_group_t;

typedef struct {
    fb_per_t per;
    int n;
    fb_per_group_t *groups; /* in the order their first host joined */
} fb_per_groups_t;

/* The groups of workload w by per, of the hosts not lost or failed; with only_host >= 0 only
 * the group holding run->hosts[only_host]. NULL with err when out of memory. */
fb_per_groups_t *fb_per_groups_new (const fb_run_t *run, int w, fb_per_t per, int only_host,
                                    fb_err_t *err);
void fb_per_groups_destroy (fb_per_groups_t **self_p);

/* Appends text to buf (always terminated; "..." when it did not fit): the failed_on lists and
 * details that name groups. */
void fb_per_append (char *buf, size_t size, const char *text);

/* Judges target on each group of workload w by target->per (not fleet): v gets one entry per
 * group, failed when any group failed or was not measured, actual the worst group's value,
 * failed_on and a detail naming the groups that failed. */
void fb_per_judge (const fb_run_t *run, int w, const fb_target_t *target, fb_verdict_t *v);

/* The name of the group a host (id, board, CPU model) is in by per: "fleet", the id, the
 * board ("unknown board" when none) or the CPU model ("unknown CPU"). */
const char *fb_per_key (fb_per_t per, const char *id, const char *board, const char *cpu_model);

/* How people call one group and several: "host"/"hosts", "board"/"boards", "CPU
 * model"/"CPU models", "fleet". */
const char *fb_per_noun (fb_per_t per, bool plural);

#endif

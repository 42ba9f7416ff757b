/* run.c: small helpers over the coordinator's run state. */
#include "run.h"

#include <stdlib.h>
#include <string.h>

fb_host_t *fb_run_find_host (fb_run_t *run, const char *id) {
    for (int i = 0; i < run->n_hosts; i++)
        if (strcmp (run->hosts[i]->id, id) == 0)
            return run->hosts[i];
    return NULL;
}

int fb_run_count_hosts (const fb_run_t *run, fb_host_state_t state) {
    int n = 0;
    for (int i = 0; i < run->n_hosts; i++)
        n += run->hosts[i]->state == state;
    return n;
}

const char *fb_host_state_name (fb_host_state_t state) {
    static const char *const names[] = {"joined", "planned", "ready", "running",
                                        "done",   "lost",    "failed"};
    return state <= FB_HOST_FAILED ? names[state] : "?";
}

void fb_run_clear (fb_run_t *run) {
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        for (int w = 0; w < FB_MAX_WORKLOADS; w++) {
            fb_stats_clear (&host->stats[w]);
            fb_file_discard (&host->hlog[w]); /* committed by fb_results_write, or lost */
        }
        free (host->seen);
        free (host);
        run->hosts[i] = NULL;
    }
    run->n_hosts = 0;
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_clear (&run->fleet[w]);
}

/* run.c: small helpers over the coordinator's run state. */
#include "coordinator/run.h"

#include "common/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

const char *fb_run_host_state_name (fb_host_state_t state) {
    static const char *const names[] = {"joined", "planned", "ready", "running",
                                        "done",   "lost",    "failed"};
    return state <= FB_HOST_FAILED ? names[state] : "?";
}

void fb_run_clear (fb_run_t *run) {
    for (int i = 0; i < run->n_hosts; i++) {
        fb_host_t *host = run->hosts[i];
        for (int w = 0; w < FB_MAX_WORKLOADS; w++) {
            fb_stats_clear (&host->stats[w]);
            fb_files_discard (&host->hlog[w]); /* committed by fb_results_write, or lost */
        }
        free (host->seen);
        free (host);
        run->hosts[i] = NULL;
    }
    run->n_hosts = 0;
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_clear (&run->fleet[w]);
}

static void s_make_run_id (const fb_scenario_t *sc, char *id, size_t size) {
    time_t now = time (NULL);
    struct tm tm;
    localtime_r (&now, &tm);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* Not randof (): it repeats across processes started in the same second. */
    uint16_t suffix = 0;
    if (getrandom (&suffix, sizeof suffix, GRND_NONBLOCK) != sizeof suffix)
        suffix = (uint16_t)(getpid () ^ fb_clock_now_ns ());
    snprintf (id, size, "%s-%s-%04x", stamp, sc->name, (unsigned)suffix);
}

int fb_run_make_dir (fb_run_t *run, const char *out_dir, fb_err_t *err) {
    if (fb_files_mkdirs (out_dir, err) != 0)
        return -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        s_make_run_id (run->sc, run->run_id, sizeof run->run_id);
        if (snprintf (run->dir, sizeof run->dir, "%s/%s", out_dir, run->run_id) >=
            (int)sizeof run->dir)
            return fb_err_set (err, FB_EINPUT, "--out %s is too long a path", out_dir);
        if (mkdir (run->dir, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return fb_err_set (err, FB_ESYS, "cannot create folder %s: %s", run->dir,
                               strerror (errno));
    }
    return fb_err_set (err, FB_ESYS, "cannot find a free run id in %s", out_dir);
}

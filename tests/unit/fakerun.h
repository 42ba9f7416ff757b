/* fakerun.h: a run state built by hand (hosts, their stats, the fleet merge) for the tests of
 * what the coordinator judges on it. Include after cmocka.h. */
#ifndef FB_FAKERUN_H
#define FB_FAKERUN_H

#include "common/hist_compact.h"
#include "coordinator/run.h"
#include "workloads/workload.h"

#include <stdlib.h>
#include <string.h>

#define T_S 1000000000LL

typedef struct {
    fb_scenario_t sc;
    fb_run_t run;
} t_fake_t;

/* A scenario of n_workloads eventbus workloads (30 s, interval 1 s) and its run, no hosts. */
static inline t_fake_t *t_fake_new (int n_workloads) {
    t_fake_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    f->sc.n_workloads = n_workloads;
    for (int w = 0; w < n_workloads; w++) {
        fb_scenario_workload_t *sw = &f->sc.workloads[w];
        snprintf (sw->name, sizeof sw->name, "w%d", w);
        sw->wl = fb_workload_find ("eventbus");
        assert_non_null (sw->wl);
        sw->duration_ns = 30 * T_S;
        sw->interval_ns = T_S;
    }
    f->run.sc = &f->sc;
    snprintf (f->run.baseline_path, sizeof f->run.baseline_path, "/nonexistent/baseline.json");
    for (int w = 0; w < FB_MAX_WORKLOADS; w++)
        fb_stats_init (&f->run.fleet[w]);
    return f;
}

/* Target text on workload w, judged per per. */
static inline fb_target_t *t_fake_target (t_fake_t *f, int w, const char *text, fb_per_t per) {
    fb_scenario_workload_t *sw = &f->sc.workloads[w];
    fb_target_t *t = &sw->targets[sw->n_targets++];
    fb_err_t err = {0};
    assert_int_equal (fb_target_parse (text, sw->wl, t, &err), 0);
    t->per = per;
    return t;
}

/* A host that finished, with board and CPU model in its fingerprint. */
static inline fb_host_t *t_fake_host (t_fake_t *f, const char *id, const char *board,
                                      const char *cpu) {
    fb_host_t *h = fb_run_add_host (&f->run, id, NULL);
    assert_non_null (h);
    snprintf (h->hello.fp.board, sizeof h->hello.fp.board, "%s", board);
    snprintf (h->hello.fp.cpu_model, sizeof h->hello.fp.cpu_model, "%s", cpu);
    h->state = FB_HOST_DONE;
    return h;
}

/* Adds to host's workload w: n operations of latency_ns each (n > 0), ops counted, and
 * measured_ns more of measured window. */
static inline void t_fake_measure (fb_host_t *h, int w, int64_t n, int64_t latency_ns,
                                   int64_t measured_ns) {
    fb_stats_t *st = &h->stats[w];
    fb_hist_compact_t *compact = fb_stats_metric (st, "latency", NULL);
    fb_hist_t *hist = fb_hist_new_default (NULL);
    assert_non_null (compact);
    assert_non_null (hist);
    assert_true (fb_hist_record_n (hist, latency_ns, n));
    assert_int_equal (fb_hist_compact_merge_hist (compact, hist, NULL), 0);
    fb_hist_destroy (&hist);
    assert_int_equal (fb_stats_add_counter (st, "ops", FB_COUNTER_SUM, n, NULL), 0);
    assert_int_equal (fb_stats_add_counter (st, "errors", FB_COUNTER_SUM, 0, NULL), 0);
    st->measured_ns += measured_ns;
}

/* The fleet merge of every host, as the coordinator makes it at the end. */
static inline void t_fake_merge (t_fake_t *f) {
    for (int w = 0; w < f->sc.n_workloads; w++)
        for (int i = 0; i < f->run.n_hosts; i++)
            assert_int_equal (fb_stats_merge (&f->run.fleet[w], &f->run.hosts[i]->stats[w], NULL),
                              0);
}

static inline void t_fake_destroy (t_fake_t **f_p) {
    fb_run_clear (&(*f_p)->run);
    free (*f_p);
    *f_p = NULL;
}

#endif

/* run.h: the coordinator's picture of one run: the hosts that joined, what each reported, the
 * fleet merge and the verdicts. coord.c fills it; results.c and progress.c read it. */
#ifndef FB_RUN_H
#define FB_RUN_H

#include "common/files.h"
#include "common/stats.h"
#include "common/wire.h"
#include "coordinator/inference.h"
#include "coordinator/samples.h"
#include "coordinator/scenario.h"

#include <stdbool.h>
#include <stdint.h>

/* Up to this many hosts, the summary and report.md list each; past it, the fleet, its groups
 * and the worst hosts (report.h), and run.json every host. */
#define FB_RUN_LISTED_HOSTS 8

typedef enum {
    FB_HOST_JOINED,  /* said Hello, matched the labels */
    FB_HOST_PLANNED, /* got its Plan */
    FB_HOST_READY,   /* accepted it */
    FB_HOST_RUNNING, /* got Start */
    FB_HOST_DONE,    /* sent Done and every report up to its last */
    FB_HOST_LOST,    /* silent past the heartbeat timeout */
    FB_HOST_FAILED,  /* said Error about the run */
} fb_host_state_t;

typedef struct {
    char id[64];
    char address[64]; /* where its Hello came from (ZeroMQ's Peer-Address) */
    fb_hello_t hello;
    fb_host_state_t state;
    int64_t last_seen_ns;
    int64_t lost_wall_ns; /* when it was declared lost or failed (wall clock) */
    char problem[256];    /* why lost or failed, as the report says it */
    char suspect[256];    /* why its numbers may not be the hardware's own ("" when healthy) */
    /* Clock: NTP-style rounds, the sample with the smallest round trip kept. */
    int pings_answered;
    int64_t ping_sent_ns;
    int64_t offset_ns; /* agent clock - coordinator clock */
    int64_t rtt_ns;
    /* Reports */
    uint8_t *seen; /* bitmap of report sequence numbers received */
    uint64_t seen_bits;
    uint64_t reports, duplicates;
    bool done_received;
    fb_done_t done;
    int64_t start_skew_ns; /* its actual start - the shared start, in coordinator time */
    int workload_now;      /* index of the workload it reports on */
    bool warming_up;       /* its last report was of the warm-up */
    int64_t interval_ops;  /* ops of its last measured interval, for progress */
    double interval_s;
    /* Per workload: n_workloads of each (the scenario's), made by fb_run_add_host, so a host
     * costs what its run has, not what a run could have. */
    int n_workloads;
    fb_stats_t *stats;
    int64_t warmup_ops[FB_MAX_WORKLOADS];
    fb_file_t *hlog;                  /* closed between reports: a descriptor only to write */
    bool hlog_lost[FB_MAX_WORKLOADS]; /* a write failed: the file is gone, the run exits 3 */
    fb_samples_t *samples[FB_MAX_WORKLOADS]; /* its measured intervals, for its intervals */
    bool spilled[FB_MAX_WORKLOADS];          /* their histograms are in its .hlog only (run.c) */
    bool have_ci[FB_MAX_WORKLOADS];
    fb_inference_ci_t (*ci)[5]; /* per workload: p50 p95 p99 mean throughput */
} fb_host_t;

typedef enum {
    FB_VERDICT_HELD,
    FB_VERDICT_FAILED,
    FB_VERDICT_SKIPPED,
    FB_VERDICT_INCONCLUSIVE, /* the interval contains the gate's limit (docs/statistics.md) */
    FB_VERDICT_INCOMPARABLE, /* the baseline ran on other hosts, params or build */
} fb_verdict_state_t;

/* The fleet figures every report gives with an interval. */
#define FB_RUN_N_CI 5 /* p50 p95 p99 mean throughput */

/* One host's or group's side of a per: host|board|cpu target. */
typedef struct {
    char name[160]; /* host id, board or CPU model */
    int n_hosts;
    int *hosts; /* indexes into run->hosts */
    fb_verdict_state_t state;
    double actual;
    bool has_ci; /* an interval from its one host's intervals */
    fb_inference_ci_t ci;
    char why[256];     /* not measured: why; a gate's group: what it shows */
    bool has_decision; /* a gate's group judged by the bootstrap against its baseline side */
    fb_inference_decision_t decision;
} fb_verdict_group_t;

typedef struct {
    bool gate;
    bool schedule;  /* the open-loop schedule's verdict: every planned operation started */
    char text[128]; /* "p95 < 120us" or "p95 at most 20% worse than baseline" */
    fb_verdict_state_t state;
    double actual, expected; /* base units; expected: the target's value or the baseline's */
    char detail[640];        /* a sentence for people */
    bool has_ci;             /* gates judged by the bootstrap: */
    fb_inference_decision_t decision; /* intervals of both sides and of the ratio */
    bool counts_as_failed;            /* failed, or inconclusive under on_inconclusive: fail */
    fb_per_t per;                     /* targets: whose numbers were judged */
    char failed_on[200]; /* "host b", "hosts b, c": where it failed ("" on the fleet) */
    int n_groups;
    fb_verdict_group_t *groups; /* per host, board or CPU model; freed by fb_run_clear */
} fb_verdict_t;

/* A run that an abort_on_fail target ended before its planned end. */
typedef struct {
    bool stopped;
    int workload, target;
    char where[200];     /* "the fleet", "host b", "board X" */
    double value;        /* the measure's value on the data so far, base unit */
    int64_t measured_ns; /* how far into the measured window it was */
    int64_t wall_ns;     /* when (wall clock) */
    char reason[400];    /* one sentence: what failed where, when */
} fb_run_stop_t;

typedef struct {
    const fb_scenario_t *sc;
    char run_id[64];
    char dir[512]; /* results/<run-id> */
    char baseline_path[512];
    bool baseline_loaded;
    int64_t started_wall_ns, finished_wall_ns;
    int64_t start_coord_ns; /* the shared start, coordinator clock */
    int64_t start_wall_ns;
    int n_hosts, cap_hosts;
    fb_host_t **hosts; /* grows as hosts join (fb_run_add_host) */
    int expected_hosts;
    fb_stats_t fleet[FB_MAX_WORKLOADS];
    fb_samples_t *samples[FB_MAX_WORKLOADS]; /* the fleet's measured intervals */
    bool have_ci[FB_MAX_WORKLOADS];
    fb_inference_ci_t fleet_ci[FB_MAX_WORKLOADS][FB_RUN_N_CI];
    char allow_different[64]; /* --allow-different: "host,params,build" or part */
    int inconclusive;         /* gates inconclusive and counted as passed */
    int n_prior;              /* earlier repetitions (--repeat) whose intervals count too */
    const char (*prior)[512]; /* their results folders */
    bool intermediate;        /* a repetition before the last: no gate judged */
    int reruns_left;          /* on_inconclusive: rerun may ask for more repetitions */
    bool rerun_wanted;        /* ... and one did */
    int n_verdicts[FB_MAX_WORKLOADS];
    fb_verdict_t verdicts[FB_MAX_WORKLOADS][FB_MAX_TARGETS + FB_MAX_GATES + 1]; /* + schedule */
    fb_run_stop_t stop;                         /* abort_on_fail ended the run early */
    int64_t abort_checked_ns[FB_MAX_WORKLOADS]; /* the last fleet or group abort check */
    int exit_code;     /* 0 held, 1 a verdict failed, 2 plan refused, 3 incomplete */
    char outcome[640]; /* one line for people */
    /* The first result file that could not be written and why ("" while all were); once set,
     * the run is incomplete (exit 3) whatever its verdicts. */
    char results_error[256];
    bool results_error_told; /* outcome and exit code say so */
} fb_run_t;

/* A new host of id (state joined, its stats empty) appended to run->hosts; NULL when out of
 * memory. run->sc must be set: the host has room for its workloads. */
fb_host_t *fb_run_add_host (fb_run_t *run, const char *id, fb_err_t *err);
fb_host_t *fb_run_find_host (fb_run_t *run, const char *id);
int fb_run_count_hosts (const fb_run_t *run, fb_host_state_t state);
const char *fb_run_host_state_name (fb_host_state_t state);
/* Makes <out_dir>/<run-id> and fills run->run_id and run->dir (run->sc set). The id is
 * <date>-<time>-<scenario>-<4 hex digits>, and mkdir is the arbiter: two runs started in the
 * same second into one folder never share it. */
int fb_run_make_dir (fb_run_t *run, const char *out_dir, fb_err_t *err);
/* The p99 of metric in a host's stats of workload w so far (ns), -1 when it has none. */
int64_t fb_run_host_p99 (const fb_host_t *host, int w, const char *metric);
/* The at most k hosts of highest p99 of metric in workload w, highest first, into out (indexes
 * into run->hosts) and their p99s into p99; with running, only the hosts running w now. Hosts
 * without the metric are left out. Returns how many. */
int fb_run_slowest_hosts (const fb_run_t *run, int w, const char *metric, bool running, int k,
                          int *out, int64_t *p99);
/* Does a host keep its own intervals of metric in workload w? Latency always; another
 * metric when a target, or a gate per host, board or CPU, is on it. */
bool fb_run_host_keeps (const fb_run_t *run, int w, const char *metric);
/* Adds a host's measured interval (its report at wall_start_ns) to the fleet's samples of
 * workload w: one metric's histogram, or the counters. */
void fb_run_sample_metric (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           const char *metric, const fb_hist_compact_t *hist);
void fb_run_sample_counts (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           int64_t ops, int64_t errors, int64_t length_ns);
/* Adds a host's offered rate of a measured interval (open loop) to the fleet's samples and
 * its own. */
void fb_run_sample_target (fb_run_t *run, fb_host_t *host, int w, int64_t wall_start_ns,
                           double rate_per_s);
/* A workload a host has ended: its intervals' histograms are in its .hlog, so the run keeps
 * their counts only (fb_samples_drop_hists) and reads them back when asked. Nothing when the
 * .hlog was lost: then they stay. */
void fb_run_host_spill (fb_run_t *run, fb_host_t *host, int w);
/* A host's intervals of workload w, whole: host->samples[w] itself, or for a spilled workload
 * a copy read back from its .hlog into *own (the caller destroys it). NULL when it has none or
 * the file cannot be read. */
const fb_samples_t *fb_run_host_samples (const fb_run_t *run, const fb_host_t *host, int w,
                                         fb_samples_t **own);
/* Frees a verdict's groups. */
void fb_run_clear_verdict (fb_verdict_t *v);
/* Frees hosts, stats and verdicts' groups. */
void fb_run_clear (fb_run_t *run);

#endif

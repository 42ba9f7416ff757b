/* samples.h: what the statistics resample: one workload's measured intervals, grouped in runs
 * (or repetitions), each interval a compact histogram per metric (hist_compact.h: the buckets
 * that hold samples) with its ops, errors and length. Hosts' reports of one interval are merged
 * into one fleet interval. Stored in run.json and baselines as HdrHistogram V2 per interval. */
#ifndef FB_SAMPLES_H
#define FB_SAMPLES_H

#include "common/err.h"
#include "common/hist.h"
#include "common/hist_compact.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct fb_samples fb_samples_t; /* opaque */

/* One metric of one interval, read-only, valid until the samples change. */
typedef struct {
    const fb_hist_compact_t *hist; /* NULL when the interval has no such metric */
    int n;                         /* buckets (fb_hist_compact_bucket reads them) */
    int64_t total;                 /* samples */
    double sum;                    /* sum of bucket medians x counts (as fb_hist_mean) */
} fb_samples_hist_t;

typedef struct {
    int64_t ops, errors, length_ns;
    double target_rate_per_s; /* open loop: the offered rate, summed over hosts; 0: none */
} fb_samples_counts_t;

fb_samples_t *fb_samples_new (fb_err_t *err);
void fb_samples_destroy (fb_samples_t **self_p);

/* Starts a new run (or repetition): the intervals added next belong to it. The first add
 * starts one when none was begun. */
int fb_samples_begin_run (fb_samples_t *self, fb_err_t *err);
/* Merges hist into metric of interval slot (its index in the measured window) of the
 * current run. Several hosts add to one slot. */
int fb_samples_add_compact (fb_samples_t *self, int slot, const char *metric,
                            const fb_hist_compact_t *hist, fb_err_t *err);
/* Packs the histograms of interval slot of the current run (fb_hist_compact_pack): a host's
 * interval, complete once its report is in, then costs a few bytes a bucket to the run's end. */
int fb_samples_pack_slot (fb_samples_t *self, int slot, fb_err_t *err);
/* The same from a full histogram (its used buckets). */
int fb_samples_add_hist (fb_samples_t *self, int slot, const char *metric, const fb_hist_t *hist,
                         fb_err_t *err);
/* Adds ops and errors to interval slot; its length is the longest any host reported. */
int fb_samples_add_counts (fb_samples_t *self, int slot, int64_t ops, int64_t errors,
                           int64_t length_ns, fb_err_t *err);

/* Adds a host's offered (target) rate to interval slot: the fleet's is the sum of its hosts'. */
int fb_samples_add_target (fb_samples_t *self, int slot, double rate_per_s, fb_err_t *err);

int fb_samples_runs (const fb_samples_t *self);
int fb_samples_intervals (const fb_samples_t *self, int run);
/* Intervals of every run. */
int fb_samples_total_intervals (const fb_samples_t *self);
/* Index of metric, -1 when no interval has it. */
int fb_samples_metric_index (const fb_samples_t *self, const char *metric);
/* Interval i of run (in time order); an interval without that metric gives n = 0. */
void fb_samples_hist (const fb_samples_t *self, int run, int i, int metric, fb_samples_hist_t *out);
void fb_samples_counts (const fb_samples_t *self, int run, int i, fb_samples_counts_t *out);
/* The slot (index in the measured window) that interval i of run was added at. */
int fb_samples_slot (const fb_samples_t *self, int run, int i);

/* {"runs":[{"intervals":[{"ops":N,"errors":N,"length_ns":N,"metrics":{"latency":"HISTF.."}}]}]}
 * and "target_rate_per_s" in an interval that has one. NULL when out of memory. */
json_t *fb_samples_json_encode (const fb_samples_t *self);
/* As fb_samples_json_encode with only the metrics named in only (n_only of them; every
 * metric when n_only < 0); ops, errors and lengths always. */
json_t *fb_samples_json_encode_only (const fb_samples_t *self, const char *const *only, int n_only);
/* Adds from to self run by run (run i to run i) and interval by interval (same slot): the
 * merge of several hosts' samples, as the fleet's are merged. */
int fb_samples_merge (fb_samples_t *self, const fb_samples_t *from, fb_err_t *err);
/* Adds the intervals of an interval log (a host's .hlog as the coordinator writes it: latency
 * rows untagged, the other metrics tagged with their names) to the current run: a row's slot
 * is its start over interval_ns (the nominal interval; 0: the row's own length), its length
 * at most interval_ns, its ops the latency row's samples (one per operation), errors 0.
 * -1 with err when the file cannot be opened or a row does not parse. */
int fb_samples_add_hlog (fb_samples_t *self, const char *path, int64_t interval_ns, fb_err_t *err);
/* Frees every histogram, keeping the intervals (slots, ops, errors, lengths): what a host's
 * intervals come to once its .hlog holds them (fb_samples_add_hlog_hists reads them back). */
void fb_samples_drop_hists (fb_samples_t *self);
/* Does a reader want metric? arg is the caller's. */
typedef bool (fb_samples_keep_fn) (const char *metric, const void *arg);
/* Adds the histograms of the rows of an interval log (as fb_samples_add_hlog reads it) whose
 * metric keep wants, to the current run, in the slot the coordinator gave their reports (start
 * over interval_ns, rounded; 0: 1 s); no counts. Decoded straight into the compact form. */
int fb_samples_add_hlog_hists (fb_samples_t *self, const char *path, int64_t interval_ns,
                               fb_samples_keep_fn *keep, const void *arg, fb_err_t *err);
/* Appends the runs of json (as encoded) to self. Error text says what is wrong. */
int fb_samples_json_decode (fb_samples_t *self, const json_t *json, fb_err_t *err);

#endif

/* inference.c: two-stage bootstrap (runs, then blocks of adjacent intervals) over compact
 * interval histograms, percentile intervals widened for few runs, and the gate's rule. */
#include "coordinator/inference.h"

#include "common/rng.h"
#include "coordinator/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One side prepared for resampling: every distinct bucket of the metric in one table, every
 * interval a list of (table index, count). */
typedef struct {
    const fb_measure_t *measure;
    int n_runs;
    int *run_first; /* n_runs + 1 entries: interval index where each run starts */
    int n_iv;
    int *off, *len; /* per interval: its (idx, cnt) entries */
    double *sum;
    int64_t *total, *ops, *errors, *length;
    int32_t *idx;
    int64_t *cnt;
    int n_table;
    int64_t *hi, *lo; /* per table entry: highest and lowest equivalent value */
} s_prep_t;

typedef struct {
    int64_t *dense; /* n_table counts */
    int64_t total, ops, errors, length;
    double sum;
} s_acc_t;

void fb_inference_opts_default (fb_inference_opts_t *opts) {
    *opts = (fb_inference_opts_t){.resamples = FB_INFERENCE_RESAMPLES,
                                  .confidence = FB_INFERENCE_CONFIDENCE,
                                  .seed = 0x5eedf1ee7be7c4ULL};
}

static void s_prep_free (s_prep_t *p) {
    free (p->run_first);
    free (p->off);
    free (p->len);
    free (p->sum);
    free (p->total);
    free (p->ops);
    free (p->errors);
    free (p->length);
    free (p->idx);
    free (p->cnt);
    free (p->hi);
    free (p->lo);
}

static int s_cmp_i64 (const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int s_table_index (const s_prep_t *p, int64_t value) {
    int a = 0, b = p->n_table - 1;
    while (a < b) {
        int mid = (a + b) / 2;
        if (p->hi[mid] < value)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* Fills the table and the per-interval lists; metric -1 (throughput, errors) keeps counts. */
static int s_prep_fill (s_prep_t *p, const fb_samples_t *s, int metric) {
    size_t n_pairs = 0;
    for (int r = 0, g = 0; r < p->n_runs; r++)
        for (int i = 0; i < fb_samples_intervals (s, r); i++, g++) {
            fb_samples_hist_t h = {0};
            if (metric >= 0)
                fb_samples_hist (s, r, i, metric, &h);
            p->off[g] = (int)n_pairs;
            p->len[g] = h.n;
            p->sum[g] = h.sum;
            p->total[g] = h.total;
            n_pairs += (size_t)h.n;
        }
    int64_t *values = malloc ((n_pairs + 1) * sizeof *values);
    p->idx = malloc ((n_pairs + 1) * sizeof *p->idx);
    p->cnt = malloc ((n_pairs + 1) * sizeof *p->cnt);
    p->hi = malloc ((n_pairs + 1) * sizeof *p->hi);
    p->lo = malloc ((n_pairs + 1) * sizeof *p->lo);
    if (!values || !p->idx || !p->cnt || !p->hi || !p->lo) {
        free (values);
        return -1;
    }
    for (int r = 0, g = 0; metric >= 0 && r < p->n_runs; r++)
        for (int i = 0; i < fb_samples_intervals (s, r); i++, g++) {
            fb_samples_hist_t h;
            fb_samples_hist (s, r, i, metric, &h);
            fb_hist_compact_iter_t it;
            fb_hist_compact_bucket_t b;
            if (h.hist)
                fb_hist_compact_iter_init (h.hist, &it);
            for (int k = 0; k < h.n && fb_hist_compact_iter_next (&it, &b); k++) {
                values[p->off[g] + k] = b.value;
                p->cnt[p->off[g] + k] = b.count;
            }
        }
    qsort (values, n_pairs, sizeof *values, s_cmp_i64);
    for (size_t k = 0; k < n_pairs; k++)
        if (p->n_table == 0 || p->hi[p->n_table - 1] != values[k])
            p->hi[p->n_table++] = values[k];
    free (values);
    for (int r = 0, g = 0; metric >= 0 && r < p->n_runs; r++)
        for (int i = 0; i < fb_samples_intervals (s, r); i++, g++) {
            fb_samples_hist_t h;
            fb_samples_hist (s, r, i, metric, &h);
            fb_hist_compact_iter_t it;
            fb_hist_compact_bucket_t b;
            if (h.hist)
                fb_hist_compact_iter_init (h.hist, &it);
            for (int k = 0; k < h.n && fb_hist_compact_iter_next (&it, &b); k++) {
                int t = s_table_index (p, b.value);
                p->idx[p->off[g] + k] = t;
                p->lo[t] = b.value_lowest;
            }
        }
    return 0;
}

static int s_prep (s_prep_t *p, const fb_samples_t *s, const fb_measure_t *measure, fb_err_t *err) {
    memset (p, 0, sizeof *p);
    p->measure = measure;
    if (measure->stat == FB_STAT_COUNTER)
        return fb_err_set (err, FB_EINPUT, "%s: a counter has no intervals to resample",
                           measure->text);
    bool hist = measure->stat != FB_STAT_THROUGHPUT && measure->stat != FB_STAT_ERRORS;
    int metric = hist ? fb_samples_metric_index (s, measure->metric) : -1;
    if (hist && metric < 0)
        return fb_err_set (err, FB_EINPUT, "%s: no intervals of metric \"%s\"", measure->text,
                           measure->metric);
    p->n_runs = fb_samples_runs (s);
    p->n_iv = fb_samples_total_intervals (s);
    if (p->n_iv == 0)
        return fb_err_set (err, FB_EINPUT, "%s: no measured interval", measure->text);
    size_t n = (size_t)p->n_iv;
    p->run_first = calloc ((size_t)p->n_runs + 1, sizeof *p->run_first);
    p->off = calloc (n, sizeof *p->off);
    p->len = calloc (n, sizeof *p->len);
    p->sum = calloc (n, sizeof *p->sum);
    p->total = calloc (n, sizeof *p->total);
    p->ops = calloc (n, sizeof *p->ops);
    p->errors = calloc (n, sizeof *p->errors);
    p->length = calloc (n, sizeof *p->length);
    if (!p->run_first || !p->off || !p->len || !p->sum || !p->total || !p->ops || !p->errors ||
        !p->length || s_prep_fill (p, s, metric) != 0) {
        s_prep_free (p);
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    }
    for (int r = 0, g = 0; r < p->n_runs; r++) {
        p->run_first[r] = g;
        for (int i = 0; i < fb_samples_intervals (s, r); i++, g++) {
            fb_samples_counts_t c;
            fb_samples_counts (s, r, i, &c);
            p->ops[g] = c.ops;
            p->errors[g] = c.errors;
            p->length[g] = c.length_ns;
        }
    }
    p->run_first[p->n_runs] = p->n_iv;
    return 0;
}

static void s_acc_reset (s_acc_t *a, const s_prep_t *p) {
    memset (a->dense, 0, (size_t)p->n_table * sizeof *a->dense);
    a->total = a->ops = a->errors = a->length = 0;
    a->sum = 0;
}

static void s_acc_add (s_acc_t *a, const s_prep_t *p, int g) {
    for (int k = p->off[g]; k < p->off[g] + p->len[g]; k++)
        a->dense[p->idx[k]] += p->cnt[k];
    a->total += p->total[g];
    a->sum += p->sum[g];
    a->ops += p->ops[g];
    a->errors += p->errors[g];
    a->length += p->length[g];
}

/* Measure m's value of what a holds, NAN when it has none; percentiles as
 * fb_hist_value_at_percentile, so the merge of every interval gives the fleet's number. */
static double s_acc_stat_of (const s_acc_t *a, const s_prep_t *p, const fb_measure_t *m) {
    if (m->stat == FB_STAT_THROUGHPUT)
        return a->length > 0 ? (double)a->ops * 1e9 / (double)a->length : NAN;
    if (m->stat == FB_STAT_ERRORS)
        return a->ops > 0 ? (double)a->errors / (double)a->ops : NAN;
    if (a->total == 0)
        return NAN;
    if (m->stat == FB_STAT_MEAN)
        return a->sum / (double)a->total;
    int first = 0, last = p->n_table - 1;
    while (first < last && a->dense[first] == 0)
        first++;
    while (last > first && a->dense[last] == 0)
        last--;
    if (m->stat == FB_STAT_MIN)
        return (double)p->lo[first];
    if (m->stat == FB_STAT_MAX)
        return (double)p->hi[last];
    double pct = m->percentile > 0 ? m->percentile : 0;
    pct = pct > 100 ? 100 : pct;
    double wanted = pct / 100.0 * (double)a->total + 0.5;
    int64_t count_at = wanted >= (double)a->total ? a->total : (int64_t)wanted;
    count_at = count_at < 1 ? 1 : count_at;
    int64_t cumulative = 0;
    for (int t = first; t <= last; t++) {
        cumulative += a->dense[t];
        if (cumulative >= count_at)
            return pct == 0 ? (double)p->lo[t] : (double)p->hi[t];
    }
    return (double)p->hi[last];
}

static double s_acc_stat (const s_acc_t *a, const s_prep_t *p) {
    return s_acc_stat_of (a, p, p->measure);
}

/* The statistic of intervals [from, to). */
static double s_stat_of (const s_prep_t *p, s_acc_t *a, int from, int to) {
    s_acc_reset (a, p);
    for (int g = from; g < to; g++)
        s_acc_add (a, p, g);
    return s_acc_stat (a, p);
}

/* One bootstrap replicate into a: runs drawn with replacement, then within each drawn run
 * blocks of `block` adjacent intervals from random starts until the run's length is reached. */
static void s_replicate (const s_prep_t *p, s_acc_t *a, int block, bool runs_fixed, uint64_t *rng) {
    s_acc_reset (a, p);
    for (int k = 0; k < p->n_runs; k++) {
        int r = runs_fixed ? k : p->n_runs > 1 ? (int)fb_rng_below (rng, (uint64_t)p->n_runs) : 0;
        int first = p->run_first[r], n = p->run_first[r + 1] - first;
        if (n == 0)
            continue;
        int len = block > 0 ? block : (int)lround (cbrt ((double)n));
        len = len < 1 ? 1 : len > n ? n : len;
        for (int taken = 0; taken < n;) {
            int start = (int)fb_rng_below (rng, (uint64_t)(n - len + 1));
            for (int j = 0; j < len && taken < n; j++, taken++)
                s_acc_add (a, p, first + start + j);
        }
    }
}

/* Fills out[k * resamples + b] with replicate b of measures[k], every measure read from the same
 * draws; false when out of memory. runs_fixed: every run once, only intervals resampled (the
 * within-run part of the variance). */
static bool s_replicates_of (const s_prep_t *p, const fb_inference_opts_t *o, bool runs_fixed,
                             uint64_t *rng, const fb_measure_t *measures, int n, double *out) {
    s_acc_t a = {.dense = calloc ((size_t)p->n_table + 1, sizeof (int64_t))};
    if (!a.dense)
        return false;
    for (int b = 0; b < o->resamples; b++) {
        s_replicate (p, &a, o->block, runs_fixed, rng);
        for (int k = 0; k < n; k++)
            out[(size_t)k * (size_t)o->resamples + (size_t)b] = s_acc_stat_of (&a, p, &measures[k]);
    }
    free (a.dense);
    return true;
}

/* The same for p's own measure: out[resamples]. */
static bool s_replicates (const s_prep_t *p, const fb_inference_opts_t *o, bool runs_fixed,
                          uint64_t *rng, double *out) {
    return s_replicates_of (p, o, runs_fixed, rng, p->measure, 1, out);
}

static int s_cmp_double (const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the finite values of v to its front; returns how many. */
static int s_finite_sorted (double *v, int n) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite (v[i]))
            v[k++] = v[i];
    qsort (v, (size_t)k, sizeof *v, s_cmp_double);
    return k;
}

/* Quantile q of sorted v[n], linear between order statistics. */
static double s_quantile (const double *v, int n, double q) {
    double at = q * (n - 1);
    int i = (int)floor (at);
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (at - i) * (v[i + 1] - v[i]);
}

/* Two-sided P(|T| <= t) for Student's t with df degrees of freedom (Abramowitz and Stegun
 * 26.7.3 and 26.7.4: finite series in theta = atan (t / sqrt (df))). */
static double s_t_two_sided (double t, int df) {
    double theta = atan (t / sqrt ((double)df)), c2 = cos (theta) * cos (theta);
    double term = 1, sum = 1;
    if (df % 2 == 0) {
        for (int k = 2; k <= df - 2; k += 2)
            sum += term *= (k - 1.0) / k * c2;
        return sin (theta) * sum;
    }
    if (df == 1)
        return 2 * theta / M_PI;
    for (int k = 3; k <= df - 2; k += 2)
        sum += term *= (k - 1.0) / k * c2;
    return 2 / M_PI * (theta + sin (theta) * cos (theta) * sum);
}

double fb_inference_t_quantile (double q, int df) {
    if (q <= 0.5)
        return q == 0.5 ? 0 : -fb_inference_t_quantile (1 - q, df);
    double want = 2 * q - 1, a = 0, b = 1e6;
    for (int i = 0; i < 200; i++) {
        double mid = (a + b) / 2;
        double got = df <= 0 || df > 400 ? erf (mid / M_SQRT2) : s_t_two_sided (mid, df);
        if (got < want)
            a = mid;
        else
            b = mid;
    }
    return (a + b) / 2;
}

/* How much wider than the bootstrap's interval an honest one is with few runs: the bootstrap
 * over k runs underestimates the run-to-run variance by (k-1)/k and uses normal, not t,
 * tails. Only the run-to-run part (total - within) is widened: the within-run part rests on
 * many intervals. */
static double s_widen (int df, int runs, double level, double var_total, double var_within) {
    if (df <= 0 || runs < 2 || !(var_total > 0))
        return 1;
    double q = (1 + level) / 2;
    double w = fb_inference_t_quantile (q, df) / fb_inference_t_quantile (q, 0) *
               sqrt ((double)runs / (runs - 1));
    double between = var_total - var_within > 0 ? var_total - var_within : 0;
    double within = var_within < var_total ? var_within : var_total;
    return sqrt ((within + w * w * between) / var_total);
}

/* Variance of the finite values of v (of their logs when all are positive). */
static double s_var (const double *v, int n) {
    bool positive = true;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite (v[i])) {
            positive = positive && v[i] > 0;
            k++;
        }
    if (k < 2)
        return 0;
    double mean = 0, sq = 0;
    for (int i = 0; i < n; i++)
        if (isfinite (v[i]))
            mean += positive ? log (v[i]) : v[i];
    mean /= k;
    for (int i = 0; i < n; i++)
        if (isfinite (v[i])) {
            double d = (positive ? log (v[i]) : v[i]) - mean;
            sq += d * d;
        }
    return sq / (k - 1);
}

/* lo, hi moved away from point by factor w, on the log scale when everything is positive. */
static void s_widen_around (double point, double *lo, double *hi, double w) {
    if (point > 0 && *lo > 0) {
        *lo = point * pow (*lo / point, w);
        *hi = point * pow (*hi / point, w);
    } else {
        *lo = point - w * (point - *lo);
        *hi = point + w * (*hi - point);
    }
}

static int s_check_opts (const fb_inference_opts_t *o, fb_err_t *err) {
    if (o->resamples < 100 || o->resamples > 100000 || !(o->confidence >= 0.5) ||
        !(o->confidence <= 0.999) || o->block < 0)
        return fb_err_set (err, FB_EINPUT,
                           "bootstrap: expected 100..100000 resamples and a confidence in "
                           "50%%..99.9%% (got %d, %g)",
                           o->resamples, o->confidence);
    return 0;
}

/* ci from a side's replicates (sorted in place): the percentile interval around the exact
 * point, widened for few runs. */
static int s_side_ci (const s_prep_t *p, double *rep, double var_within,
                      const fb_inference_opts_t *o, fb_inference_ci_t *ci, fb_err_t *err) {
    double var_total = s_var (rep, o->resamples);
    s_acc_t a = {.dense = calloc ((size_t)p->n_table + 1, sizeof (int64_t))};
    if (!a.dense)
        return fb_err_set (err, FB_ENOMEM, "out of memory");
    *ci = (fb_inference_ci_t){.point = s_stat_of (p, &a, 0, p->n_iv),
                              .runs = p->n_runs,
                              .intervals = p->n_iv,
                              .between_runs = p->n_runs >= 2};
    free (a.dense);
    ci->lo = ci->hi = ci->point;
    if (!isfinite (ci->point))
        return fb_err_set (err, FB_EINPUT, "%s: nothing was measured", p->measure->text);
    int n = s_finite_sorted (rep, o->resamples);
    if (n >= o->resamples / 2) {
        double alpha = 1 - o->confidence;
        ci->lo = fmin (ci->point, s_quantile (rep, n, alpha / 2));
        ci->hi = fmax (ci->point, s_quantile (rep, n, 1 - alpha / 2));
        s_widen_around (ci->point, &ci->lo, &ci->hi,
                        s_widen (p->n_runs - 1, p->n_runs, o->confidence, var_total, var_within));
    }
    return 0;
}

/* The variances of a side's replicates with its runs fixed, var[k] of measures[k], all read
 * from the same draws (0 for one run). */
static int s_within_var (const s_prep_t *p, const fb_inference_opts_t *o, uint64_t *rng,
                         const fb_measure_t *measures, int n, double *var) {
    for (int k = 0; k < n; k++)
        var[k] = 0;
    if (p->n_runs < 2)
        return 0;
    double *rep = malloc ((size_t)n * (size_t)o->resamples * sizeof *rep);
    bool ok = rep && s_replicates_of (p, o, true, rng, measures, n, rep);
    for (int k = 0; ok && k < n; k++)
        var[k] = s_var (rep + (size_t)k * (size_t)o->resamples, o->resamples);
    free (rep);
    return ok ? 0 : -1;
}

/* The intervals of measures[n] (at most FB_INFERENCE_MANY_MAX) from prep p, one set of draws
 * for them all. The draws do not depend on the measure, so each interval is the one the
 * measure would get alone. p is freed. */
static int s_cis_of (s_prep_t *p, const fb_measure_t *measures, int n,
                     const fb_inference_opts_t *opts, fb_inference_ci_t *cis, fb_err_t *err) {
    double *rep = malloc ((size_t)n * (size_t)opts->resamples * sizeof *rep);
    double within[FB_INFERENCE_MANY_MAX];
    uint64_t rng = opts->seed;
    int rc = rep && s_replicates_of (p, opts, false, &rng, measures, n, rep) &&
                     s_within_var (p, opts, &rng, measures, n, within) == 0
                 ? 0
                 : fb_err_set (err, FB_ENOMEM, "out of memory");
    for (int k = 0; rc == 0 && k < n; k++) {
        p->measure = &measures[k];
        rc =
            s_side_ci (p, rep + (size_t)k * (size_t)opts->resamples, within[k], opts, &cis[k], err);
    }
    free (rep);
    s_prep_free (p);
    return rc;
}

int fb_inference_ci (const fb_samples_t *samples, const fb_measure_t *measure,
                     const fb_inference_opts_t *opts, fb_inference_ci_t *ci, fb_err_t *err) {
    s_prep_t p;
    if (s_check_opts (opts, err) != 0 || s_prep (&p, samples, measure, err) != 0)
        return -1;
    return s_cis_of (&p, measure, 1, opts, ci, err);
}

static bool s_has_hist (const fb_measure_t *m) {
    return m->stat != FB_STAT_THROUGHPUT && m->stat != FB_STAT_ERRORS;
}

int fb_inference_ci_many (const fb_samples_t *samples, const fb_measure_t *measures, int n,
                          const fb_inference_opts_t *opts, fb_inference_ci_t *cis, fb_err_t *err) {
    const fb_measure_t *lead = NULL; /* the measure whose metric the table is made of */
    bool shared = n <= FB_INFERENCE_MANY_MAX;
    for (int k = 0; k < n; k++) {
        if (measures[k].stat == FB_STAT_COUNTER)
            shared = false; /* refused by fb_inference_ci, which says why */
        if (!s_has_hist (&measures[k]))
            continue;
        shared = shared && (!lead || strcmp (lead->metric, measures[k].metric) == 0);
        lead = lead ? lead : &measures[k];
    }
    if (!shared) { /* measures of several metrics: one by one */
        for (int k = 0; k < n; k++)
            if (fb_inference_ci (samples, &measures[k], opts, &cis[k], err) != 0)
                return -1;
        return 0;
    }
    s_prep_t p;
    if (n < 1)
        return fb_err_set (err, FB_EINPUT, "no measure to give an interval of");
    if (s_check_opts (opts, err) != 0 || s_prep (&p, samples, lead ? lead : &measures[0], err) != 0)
        return -1;
    return s_cis_of (&p, measures, n, opts, cis, err);
}

/* Each run's own statistic into v[p->n_runs]; false when a run has no positive value. */
static bool s_run_stats (const s_prep_t *p, double *v) {
    s_acc_t a = {.dense = calloc ((size_t)p->n_table + 1, sizeof (int64_t))};
    bool ok = a.dense != NULL;
    for (int r = 0; ok && r < p->n_runs; r++) {
        v[r] = s_stat_of (p, &a, p->run_first[r], p->run_first[r + 1]);
        ok = v[r] > 0 && isfinite (v[r]);
    }
    free (a.dense);
    return ok;
}

/* Log residuals of each run's own statistic around their mean, scaled by sqrt (k / (k - 1))
 * so their spread estimates the run-to-run deviation without the small-sample shrink.
 * Returns how many (0 when the side has one run or a run has no positive value). */
static int s_run_residuals (const s_prep_t *p, double *out) {
    int k = p->n_runs;
    if (k < 2 || !s_run_stats (p, out))
        return 0;
    double mean = 0;
    for (int r = 0; r < k; r++)
        mean += out[r] = log (out[r]);
    mean /= k;
    for (int r = 0; r < k; r++)
        out[r] = (out[r] - mean) * sqrt ((double)k / (k - 1));
    return k;
}

/* Gives the replicates of a one-run side the run-to-run variation the other side shows: each
 * is moved by a residual drawn from the other side's runs. */
static bool s_borrow (const s_prep_t *from, double *rep, int n, uint64_t *rng) {
    double *res = malloc ((size_t)from->n_runs * sizeof *res);
    int k = res ? s_run_residuals (from, res) : 0;
    for (int b = 0; k > 0 && b < n; b++)
        rep[b] *= exp (res[fb_rng_below (rng, (uint64_t)k)]);
    free (res);
    return k > 0;
}

static void s_decide (fb_inference_decision_t *d, bool higher_is_better, bool known, double level) {
    const fb_inference_ci_t *r = &d->ratio;
    bool past = higher_is_better ? r->hi < d->limit : r->lo > d->limit;
    bool within = higher_is_better ? r->lo >= d->limit : r->hi <= d->limit;
    const char *side = higher_is_better ? "below" : "above";
    char how[64] = "";
    if (d->by_rank)
        snprintf (how, sizeof how, " (%d runs ranked against %d%s)",
                  d->current.runs - d->set_aside[0], d->baseline.runs - d->set_aside[1],
                  d->set_aside[0] + d->set_aside[1] ? ", far runs set aside" : "");
    if (!known) {
        d->verdict = FB_INFERENCE_INCONCLUSIVE;
        snprintf (d->why, sizeof d->why,
                  "one run on each side: run-to-run variance is unknown, so %.2fx..%.2fx (the "
                  "spread within these runs) cannot separate a level shift from a regression; "
                  "save more runs in the baseline (coord baseline save RUN_DIR... --add)",
                  r->lo, r->hi);
    } else if (past) {
        d->verdict = FB_INFERENCE_FAILED;
        snprintf (d->why, sizeof d->why,
                  "the whole %.0f%% interval %.2fx..%.2fx%s is %s the limit %.2fx", level * 100,
                  r->lo, r->hi, how, side, d->limit);
    } else if (within) {
        d->verdict = FB_INFERENCE_HELD;
        snprintf (d->why, sizeof d->why,
                  "the whole %.0f%% interval %.2fx..%.2fx%s is within the limit %.2fx", level * 100,
                  r->lo, r->hi, how, d->limit);
    } else {
        d->verdict = FB_INFERENCE_INCONCLUSIVE;
        snprintf (d->why, sizeof d->why,
                  "the %.0f%% interval %.2fx..%.2fx%s contains the limit %.2fx: the data cannot "
                  "tell",
                  level * 100, r->lo, r->hi, how, d->limit);
    }
}

/* Replicates of both sides: [0] current, [1] baseline; all (runs resampled) and within (runs
 * fixed). */
typedef struct {
    double *all[2], *within[2];
} s_reps_t;

static void s_reps_free (s_reps_t *r) {
    for (int i = 0; i < 2; i++) {
        free (r->all[i]);
        free (r->within[i]);
    }
}

static bool s_reps_fill (s_reps_t *r, const s_prep_t *const sides[2],
                         const fb_inference_opts_t *o) {
    uint64_t rng[2] = {o->seed, o->seed ^ 0x9e3779b97f4a7c15ULL};
    for (int i = 0; i < 2; i++) {
        r->all[i] = malloc ((size_t)o->resamples * sizeof (double));
        r->within[i] = malloc ((size_t)o->resamples * sizeof (double));
        if (!r->all[i] || !r->within[i] || !s_replicates (sides[i], o, false, &rng[i], r->all[i]) ||
            !s_replicates (sides[i], o, true, &rng[i], r->within[i]))
            return false;
    }
    return true;
}

/* ratio[i] = a[i] / b[i] (NAN when b[i] is not positive), into a. */
static void s_divide (double *a, const double *b, int n) {
    for (int i = 0; i < n; i++)
        a[i] = b[i] > 0 ? a[i] / b[i] : NAN;
}

/* The ratio's interval from the two sides' replicates (independent draws), widened for the
 * run-to-run part; known: some side has two runs, so that part could be estimated. */
static void s_ratio_ci (const s_prep_t *const sides[2], s_reps_t *r, const fb_inference_opts_t *o,
                        fb_inference_decision_t *d, bool *known) {
    int n = o->resamples;
    uint64_t rng = o->seed + 1;
    const s_prep_t *c = sides[0], *b = sides[1];
    *known = c->n_runs >= 2 || b->n_runs >= 2;
    if (c->n_runs == 1 && b->n_runs >= 2)
        *known = s_borrow (b, r->all[0], n, &rng);
    else if (b->n_runs == 1 && c->n_runs >= 2)
        *known = s_borrow (c, r->all[1], n, &rng);
    int df = 0, runs = 0;
    for (int s = 0; s < 2; s++)
        if (sides[s]->n_runs >= 2) {
            df += sides[s]->n_runs - 1;
            runs = runs == 0 || sides[s]->n_runs < runs ? sides[s]->n_runs : runs;
        }
    s_divide (r->all[0], r->all[1], n);
    s_divide (r->within[0], r->within[1], n);
    double var_total = s_var (r->all[0], n), var_within = s_var (r->within[0], n);
    int k = s_finite_sorted (r->all[0], n);
    d->ratio.lo = d->ratio.hi = d->ratio.point;
    if (k >= n / 2) {
        double alpha = 1 - o->confidence;
        d->ratio.lo = fmin (d->ratio.point, s_quantile (r->all[0], k, alpha / 2));
        d->ratio.hi = fmax (d->ratio.point, s_quantile (r->all[0], k, 1 - alpha / 2));
        if (*known)
            s_widen_around (d->ratio.point, &d->ratio.lo, &d->ratio.hi,
                            s_widen (df, runs, o->confidence, var_total, var_within));
    }
}

/* With FB_INFERENCE_RANK_RUNS runs or more on each side, the ratio's interval is the rank
 * interval of the runs' own statistics (rank.h), around the exact point, once the runs far
 * from the rest of their side are set aside. */
static bool s_rank_ci (const s_prep_t *c, const s_prep_t *b, const fb_inference_opts_t *o,
                       fb_inference_decision_t *d) {
    if (c->n_runs < FB_INFERENCE_RANK_RUNS || b->n_runs < FB_INFERENCE_RANK_RUNS)
        return false;
    double *x = malloc ((size_t)(c->n_runs + b->n_runs) * sizeof *x), *y = x + c->n_runs;
    double lo, mid, hi;
    bool ok = x && s_run_stats (c, x) && s_run_stats (b, y);
    int nc = ok ? fb_rank_set_aside (x, c->n_runs) : 0;
    int nb = ok ? fb_rank_set_aside (y, b->n_runs) : 0;
    ok = ok && fb_rank_ratio_ci (x, nc, y, nb, o->confidence, &lo, &mid, &hi);
    free (x);
    if (ok) {
        d->ratio.lo = fmin (d->ratio.point, lo);
        d->ratio.hi = fmax (d->ratio.point, hi);
        d->by_rank = true;
        d->set_aside[0] = c->n_runs - nc;
        d->set_aside[1] = b->n_runs - nb;
    }
    return ok;
}

static int s_ratio (const s_prep_t *c, const s_prep_t *b, const fb_inference_opts_t *o,
                    fb_inference_decision_t *d, bool *known, fb_err_t *err) {
    int n = o->resamples;
    const s_prep_t *const sides[2] = {c, b};
    fb_inference_ci_t *cis[2] = {&d->current, &d->baseline};
    s_reps_t r = {{NULL, NULL}, {NULL, NULL}};
    double *copy = malloc ((size_t)n * sizeof *copy);
    int rc = copy && s_reps_fill (&r, sides, o) ? 0 : fb_err_set (err, FB_ENOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < 2; i++) {
        memcpy (copy, r.all[i], (size_t)n * sizeof *copy);
        if ((rc = s_side_ci (sides[i], copy, s_var (r.within[i], n), o, cis[i], err)) != 0 && i)
            fb_err_prefix (err, "baseline");
    }
    free (copy);
    if (rc == 0 && !(d->baseline.point > 0))
        rc = fb_err_set (err, FB_EINPUT, "%s is 0 in the baseline: no ratio to judge",
                         c->measure->text);
    if (rc == 0) {
        d->ratio = (fb_inference_ci_t){.point = d->current.point / d->baseline.point,
                                       .runs = d->current.runs,
                                       .intervals = d->current.intervals,
                                       .between_runs = c->n_runs >= 2 || b->n_runs >= 2};
        if (s_rank_ci (c, b, o, d))
            *known = true;
        else
            s_ratio_ci (sides, &r, o, d, known);
    }
    s_reps_free (&r);
    return rc;
}

int fb_inference_compare (const fb_samples_t *current, const fb_samples_t *baseline,
                          const fb_measure_t *measure, double max_regression,
                          const fb_inference_opts_t *opts, fb_inference_decision_t *d,
                          fb_err_t *err) {
    memset (d, 0, sizeof *d);
    if (s_check_opts (opts, err) != 0)
        return -1;
    bool higher = fb_target_measure_higher_is_better (measure);
    d->limit = higher ? 1 - max_regression : 1 + max_regression;
    s_prep_t c, b;
    if (s_prep (&c, current, measure, err) != 0)
        return -1;
    if (s_prep (&b, baseline, measure, err) != 0) {
        fb_err_prefix (err, "baseline");
        s_prep_free (&c);
        return -1;
    }
    bool known = false;
    int rc = s_ratio (&c, &b, opts, d, &known, err);
    s_prep_free (&c);
    s_prep_free (&b);
    if (rc == 0)
        s_decide (d, higher, known, opts->confidence);
    return rc;
}

/* target.c: targets ("p95 < 120us") and regression gates ({ metric: p95, max_regression: 20% }):
 * parsed against a workload kind's metric and counter names, judged against merged stats. */
#include "coordinator/target.h"

#include "common/units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_is_metric (const char *name, const fb_workload_t *wl) {
    for (int i = 0; fb_runner_metrics[i]; i++)
        if (strcmp (fb_runner_metrics[i], name) == 0)
            return true;
    for (int i = 0; wl && wl->metrics && wl->metrics[i]; i++)
        if (strcmp (wl->metrics[i], name) == 0)
            return true;
    return false;
}

static const fb_counter_spec_t *s_counter (const char *name, const fb_workload_t *wl) {
    return fb_workload_counter_spec (wl, name);
}

/* "a, b, c" of every metric (counters when counters is set), for messages. */
static const char *s_names (const fb_workload_t *wl, bool counters, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
#define S_ADD(name)                                                                                \
    if (at < size)                                                                                 \
    at += (size_t)snprintf (buf + at, size - at, "%s%s", at ? ", " : "", name)
    if (counters) {
        for (int i = 0; fb_runner_counters[i].name; i++)
            if (strcmp (fb_runner_counters[i].name, "errors") != 0 && /* a measure of its own */
                !fb_counter_is_capacity (fb_runner_counters[i].name)) /* capacity: only */
                S_ADD (fb_runner_counters[i].name);
        for (int i = 0; wl && wl->counters && wl->counters[i].name; i++)
            S_ADD (wl->counters[i].name);
    } else {
        for (int i = 0; fb_runner_metrics[i]; i++)
            S_ADD (fb_runner_metrics[i]);
        for (int i = 0; wl && wl->metrics && wl->metrics[i]; i++)
            S_ADD (wl->metrics[i]);
    }
#undef S_ADD
    return buf;
}

/* "p99.9" -> 99.9; "mean", "min", "max". False when text is none of these. */
static bool s_latency_stat (const char *text, fb_measure_t *measure) {
    static const struct {
        const char *name;
        fb_stat_t stat;
    } simple[] = {{"mean", FB_STAT_MEAN}, {"min", FB_STAT_MIN}, {"max", FB_STAT_MAX}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp (text, simple[i].name) == 0) {
            measure->stat = simple[i].stat;
            return true;
        }
    if (text[0] != 'p' || !isdigit ((unsigned char)text[1]))
        return false;
    double p = 0;
    if (fb_units_number (text + 1, &p, NULL) != 0 || strpbrk (text + 1, "eE+-") || p <= 0 ||
        p > 100)
        return false;
    measure->stat = FB_STAT_PERCENTILE;
    measure->percentile = p;
    return true;
}

/* "p101", "p-1", "pnan", "p1e2": meant as a percentile, but not one in (0, 100] written
 * plainly. (A plain one reaching here had an unknown metric before it.) */
static bool s_bad_percentile (const char *stat) {
    if (stat[0] != 'p' || !stat[1] || isspace ((unsigned char)stat[1]))
        return false;
    char *end;
    double p = strtod (stat + 1, &end); /* reads nan, inf, -1, 1e2: all meant as a number */
    bool plain = !strpbrk (stat + 1, "eE+-") && p > 0 && p <= 100; /* NaN fails too */
    return *end == '\0' && !plain;
}

static int s_unknown_measure (const char *text, const fb_workload_t *wl, fb_err_t *err) {
    const char *dot = strrchr (text, '.');
    /* NAME.pNN: the statistic after the last dot, unless that dot is the number's (p100.5) */
    const char *stat = dot && !isdigit ((unsigned char)dot[1]) ? dot + 1 : text;
    if (s_bad_percentile (stat))
        return fb_err_set (err, FB_EINPUT,
                           "percentile \"%.40s\" must be a number above 0 and at most 100, "
                           "written plainly (p50, p99.9; min for the lowest)",
                           stat);
    char metrics[160], counters[200];
    return fb_err_set (err, FB_EINPUT,
                       "unknown measure \"%.40s\" (expected pNN, mean, min, max, NAME.pNN for "
                       "NAME in %s; throughput, errors or a counter: %s)",
                       text, s_names (wl, false, metrics, sizeof metrics),
                       s_names (wl, true, counters, sizeof counters));
}

int fb_target_measure_parse (const char *text, const fb_workload_t *wl, fb_measure_t *measure,
                             fb_err_t *err) {
    memset (measure, 0, sizeof *measure);
    if (!text || !*text)
        return fb_err_set (err, FB_EINPUT,
                           "expected a measure such as p95 or throughput, got nothing");
    if (strlen (text) >= sizeof measure->text)
        return s_unknown_measure (text, wl, err);
    snprintf (measure->text, sizeof measure->text, "%s", text);
    snprintf (measure->metric, sizeof measure->metric, "latency");
    if (s_latency_stat (text, measure))
        return 0;
    const char *dot = strchr (text, '.');
    if (dot && (size_t)(dot - text) < sizeof measure->metric) {
        snprintf (measure->metric, sizeof measure->metric, "%.*s", (int)(dot - text), text);
        if (s_is_metric (measure->metric, wl) && s_latency_stat (dot + 1, measure))
            return 0;
    }
    if (s_is_metric (text, wl))
        return fb_err_set (err, FB_EINPUT,
                           "\"%s\" is a latency metric: expected a statistic of it such as "
                           "%s.p99 or %s.mean",
                           text, text, text);
    if (strcmp (text, "throughput") == 0 || strcmp (text, "errors") == 0) {
        measure->stat = text[0] == 't' ? FB_STAT_THROUGHPUT : FB_STAT_ERRORS;
        snprintf (measure->metric, sizeof measure->metric, "%s", text[0] == 't' ? "ops" : "errors");
        return 0;
    }
    if (s_counter (text, wl)) {
        measure->stat = FB_STAT_COUNTER;
        snprintf (measure->metric, sizeof measure->metric, "%s", text);
        return 0;
    }
    return s_unknown_measure (text, wl, err);
}

/* The right side of a target, parsed in the unit the measure is in. */
static int s_parse_limit (const fb_measure_t *measure, const fb_workload_t *wl, const char *text,
                          double *value, fb_err_t *err) {
    int64_t i64 = 0;
    const char *unit = "ns";
    if (measure->stat == FB_STAT_THROUGHPUT)
        return fb_units_rate_per_s (text, value, err);
    if (measure->stat == FB_STAT_ERRORS)
        return fb_units_percent (text, value, err);
    if (measure->stat == FB_STAT_COUNTER)
        unit = s_counter (measure->metric, wl)->unit;
    if (strcmp (unit, "/s") == 0) /* a rate counter: "capacity > 20000/s" */
        return fb_units_rate_per_s (text, value, err);
    if (strcmp (unit, "B") == 0) {
        if (fb_units_size_bytes (text, &i64, err) != 0)
            return -1;
    } else if (strcmp (unit, "ns") == 0) {
        if (fb_units_duration_ns (text, &i64, err) != 0)
            return -1;
    } else if (strcmp (unit, "ppm") == 0) { /* a share, written in percent: "steal < 5%" */
        if (fb_units_percent (text, value, err) != 0)
            return -1;
        *value *= 1e6;
        return 0;
    } else {
        if (fb_units_number (text, value, err) != 0)
            return -1;
        if (*value < 0)
            return fb_err_set (err, FB_EINPUT, "expected a count that is not negative, got \"%s\"",
                               text);
        return 0;
    }
    *value = (double)i64;
    return 0;
}

/* Copies text[from, to) without the blanks around it. */
static void s_trim (const char *from, const char *to, char *buf, size_t size) {
    while (from < to && isspace ((unsigned char)*from))
        from++;
    while (to > from && isspace ((unsigned char)to[-1]))
        to--;
    snprintf (buf, size, "%.*s", (int)(to - from), from);
}

int fb_target_parse (const char *text, const fb_workload_t *wl, fb_target_t *target,
                     fb_err_t *err) {
    memset (target, 0, sizeof *target);
    if (strlen (text) >= sizeof target->text)
        return fb_err_set (err, FB_EINPUT,
                           "expected a target such as \"p95 < 120us\", got %zu "
                           "characters (at most %zu)",
                           strlen (text), sizeof target->text - 1);
    snprintf (target->text, sizeof target->text, "%s", text);
    target->per = FB_PER_HOST;
    const char *op = strpbrk (text, "<>");
    if (!op)
        return fb_err_set (err, FB_EINPUT,
                           "target \"%s\": expected MEASURE OP LIMIT such as "
                           "\"p95 < 120us\" with OP one of <, <=, >, >= (got no operator)",
                           text);
    bool equal = op[1] == '=';
    target->cmp = *op == '<' ? (equal ? FB_CMP_LE : FB_CMP_LT) : (equal ? FB_CMP_GE : FB_CMP_GT);
    char left[sizeof target->text], right[sizeof target->text];
    s_trim (text, op, left, sizeof left);
    s_trim (op + (equal ? 2 : 1), text + strlen (text), right, sizeof right);
    if (fb_target_measure_parse (left, wl, &target->measure, err) != 0 ||
        s_parse_limit (&target->measure, wl, right, &target->value, err) != 0) {
        fb_err_prefix (err, "target \"%s\"", text);
        return -1;
    }
    return 0;
}

static int s_counter_value (const fb_stats_t *stats, const char *name, int64_t *value,
                            fb_err_t *err) {
    int i = fb_stats_find_counter (stats, name);
    if (i < 0)
        return fb_err_set (err, FB_EINPUT, "no counter \"%s\" in the results", name);
    *value = stats->counters[i];
    return 0;
}

int fb_target_measure_value (const fb_measure_t *measure, const fb_stats_t *stats, double *value,
                             fb_err_t *err) {
    int64_t ops = 0, errors = 0, counter = 0;
    switch (measure->stat) {
    case FB_STAT_THROUGHPUT:
        if (s_counter_value (stats, "ops", &ops, err) != 0)
            return -1;
        if (stats->measured_ns <= 0)
            return fb_err_set (err, FB_EINPUT, "throughput: no measured time in the results");
        *value = (double)ops / (double)stats->measured_ns * 1e9;
        return 0;
    case FB_STAT_ERRORS:
        if (s_counter_value (stats, "ops", &ops, err) != 0)
            return -1;
        if (ops <= 0)
            return fb_err_set (err, FB_EINPUT, "errors: no operation was measured");
        if (fb_stats_find_counter (stats, "errors") >= 0)
            s_counter_value (stats, "errors", &errors, NULL);
        *value = (double)errors / (double)ops;
        return 0;
    case FB_STAT_COUNTER:
        if (s_counter_value (stats, measure->metric, &counter, err) != 0)
            return -1;
        *value = (double)counter;
        return 0;
    default:
        break;
    }
    const fb_hist_compact_t *hist = fb_stats_find_metric (stats, measure->metric);
    if (!hist)
        return fb_err_set (err, FB_EINPUT, "%s: no metric \"%s\" in the results", measure->text,
                           measure->metric);
    if (fb_hist_compact_count (hist) == 0)
        return fb_err_set (err, FB_EINPUT, "%s: no operation was measured", measure->text);
    if (measure->stat == FB_STAT_PERCENTILE)
        *value = (double)fb_hist_compact_value_at_percentile (hist, measure->percentile);
    else if (measure->stat == FB_STAT_MEAN)
        *value = fb_hist_compact_mean (hist);
    else if (measure->stat == FB_STAT_MIN)
        *value = (double)fb_hist_compact_min (hist);
    else
        *value = (double)fb_hist_compact_max (hist);
    return 0;
}

bool fb_target_measure_higher_is_better (const fb_measure_t *measure) {
    return measure->stat == FB_STAT_THROUGHPUT ||
           (measure->stat == FB_STAT_COUNTER && strcmp (measure->metric, FB_COUNTER_CAPACITY) == 0);
}

int fb_target_judge (const fb_target_t *target, const fb_stats_t *stats, double *actual, bool *held,
                     fb_err_t *err) {
    if (fb_target_measure_value (&target->measure, stats, actual, err) != 0)
        return -1;
    switch (target->cmp) {
    case FB_CMP_LT:
        *held = *actual < target->value;
        break;
    case FB_CMP_LE:
        *held = *actual <= target->value;
        break;
    case FB_CMP_GT:
        *held = *actual > target->value;
        break;
    case FB_CMP_GE:
        *held = *actual >= target->value;
        break;
    }
    return 0;
}

int fb_target_gate_judge (const fb_gate_t *gate, const fb_stats_t *current,
                          const fb_stats_t *baseline, double *actual, double *base_value,
                          bool *held, fb_err_t *err) {
    if (fb_target_measure_value (&gate->measure, current, actual, err) != 0)
        return -1;
    if (fb_target_measure_value (&gate->measure, baseline, base_value, err) != 0) {
        fb_err_prefix (err, "baseline");
        return -1;
    }
    if (fb_target_measure_higher_is_better (&gate->measure))
        *held = *actual >= (1.0 - gate->max_regression) * *base_value;
    else
        *held = *actual <= (1.0 + gate->max_regression) * *base_value;
    return 0;
}

int fb_target_gate_confidence (const char *text, double *confidence, fb_err_t *err) {
    if (fb_units_percent (text, confidence, err) != 0)
        return -1;
    if (!(*confidence >= 0.5 && *confidence <= 0.999))
        return fb_err_set (err, FB_EINPUT, "expected a level from 50%% to 99.9%% (got %s)", text);
    return 0;
}

int fb_target_gate_on_inconclusive (const char *text, fb_on_inconclusive_t *on, fb_err_t *err) {
    static const char *const names[] = {"pass", "fail", "rerun"};
    for (int i = 0; i < 3; i++)
        if (strcmp (text, names[i]) == 0) {
            *on = (fb_on_inconclusive_t)i;
            return 0;
        }
    return fb_err_set (err, FB_EINPUT, "expected pass, fail or rerun (got \"%s\")", text);
}

static const char *const s_per_names[] = {"fleet", "host", "board", "cpu"};

int fb_target_per_parse (const char *text, fb_per_t *per, fb_err_t *err) {
    for (int i = 0; i < 4; i++)
        if (strcmp (text, s_per_names[i]) == 0) {
            *per = (fb_per_t)i;
            return 0;
        }
    return fb_err_set (err, FB_EINPUT, "expected fleet, host, board or cpu (got \"%.40s\")", text);
}

const char *fb_target_per_name (fb_per_t per) { return per <= FB_PER_CPU ? s_per_names[per] : "?"; }

const char *fb_target_measure_format (const fb_measure_t *measure, const fb_workload_t *wl,
                                      double value, char *buf, size_t size) {
    const char *unit = "ns";
    if (measure->stat == FB_STAT_THROUGHPUT) {
        snprintf (buf, size, value >= 100 ? "%.0f/s" : "%.3g/s", value);
        return buf;
    }
    if (measure->stat == FB_STAT_ERRORS) {
        snprintf (buf, size, "%.3g%%", value * 100.0);
        return buf;
    }
    if (measure->stat == FB_STAT_COUNTER) {
        const fb_counter_spec_t *spec = s_counter (measure->metric, wl);
        unit = spec ? spec->unit : "";
    }
    if (strcmp (unit, "B") == 0)
        return fb_units_format_bytes (value, buf, size);
    if (strcmp (unit, "ns") == 0)
        return fb_units_format_ns (value, buf, size);
    if (strcmp (unit, "ppm") == 0)
        snprintf (buf, size, "%.3g%%", value / 1e4);
    else if (strcmp (unit, "/s") == 0)
        snprintf (buf, size, "%.0f/s", value);
    else
        snprintf (buf, size, "%.0f", value);
    return buf;
}

void fb_target_name (const fb_target_t *target, char *buf, size_t size) {
    snprintf (buf, size, "%s (per %s)", target->text, fb_target_per_name (target->per));
}

void fb_target_gate_name (const fb_gate_t *gate, char *buf, size_t size) {
    bool fleet = gate->per == FB_PER_FLEET;
    snprintf (buf, size, "%s at most %.0f%% worse than the baseline%s%s%s", gate->measure.text,
              gate->max_regression * 100, fleet ? "" : " (per ",
              fleet ? "" : fb_target_per_name (gate->per), fleet ? "" : ")");
}

const char *fb_target_measure_format_interval (const fb_measure_t *measure, const fb_workload_t *wl,
                                               double point, double lo, double hi, char *buf,
                                               size_t size) {
    char p[48], l[48], h[48];
    fb_target_measure_format (measure, wl, point, p, sizeof p);
    fb_target_measure_format (measure, wl, lo, l, sizeof l);
    fb_target_measure_format (measure, wl, hi, h, sizeof h);
    snprintf (buf, size, "%s (%s..%s)", p, l, h);
    return buf;
}

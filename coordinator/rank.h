/* rank.h: a distribution-free interval for the ratio of two sides' levels, from one value
 * per run on each side (the Mann-Whitney / Hodges-Lehmann interval of the shift of the logs).
 * It asks only that runs on a side are exchangeable, so one run in five landing at another
 * level moves it by an order statistic, where it would stretch a bootstrap's variance.
 * docs/statistics.md says when the gate uses it. */
#ifndef FB_RANK_H
#define FB_RANK_H

#include <stdbool.h>

#define FB_RANK_OUTLIER_SDS 3.5 /* how far from its side a run's level is set aside */
#define FB_RANK_MIN_SD 0.02     /* the least robust deviation assumed (log scale) */

/* Sets aside the values whose log lies more than FB_RANK_OUTLIER_SDS robust deviations from
 * the centre of the values: the median of the shortest stretch holding more than half of
 * them, so runs at another level do not pull it while they are fewer than half. The deviation
 * is 1.4826 times the median distance from that centre, at least FB_RANK_MIN_SD. Keeps the
 * others, in order, at the front of v and returns how many; at least half stay. v's values
 * must be positive. */
int fb_rank_set_aside (double *v, int n);

/* The largest c with P(U <= c) <= tail for the Mann-Whitney U of samples of n and m values
 * without ties (exact up to n + m = 200, the normal approximation past it); -1 when even
 * U = 0 is likelier than tail. */
int fb_rank_critical (int n, int m, double tail);

/* The confidence interval of x / y's level: the (c+1)-th smallest and largest of the n * m
 * ratios x[i] / y[j], c = fb_rank_critical (n, m, (1 - confidence) / 2); and their median
 * (the Hodges-Lehmann estimate) in *mid. Every value must be positive and finite. False when
 * such an interval does not exist for these counts, or out of memory. */
bool fb_rank_ratio_ci (const double *x, int n, const double *y, int m, double confidence,
                       double *lo, double *mid, double *hi);

#endif

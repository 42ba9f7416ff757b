/* rank.c: the Mann-Whitney interval of a shift of logs, with the exact null distribution of
 * U from the Gaussian binomial coefficient. */
#include "coordinator/rank.h"

#include <math.h>
#include <stdlib.h>

#define S_EXACT_MAX                                                                                \
    200 /* n + m up to which U's distribution is counted exactly: past it the                      \
         * alternating product loses digits, and the normal is close */

/* coef[0..n*m] (n*m + n + 1 entries of room) := the number of orderings of n x's and m y's with U =
 * u: the coefficients of the Gaussian binomial [n+m choose n]_q, built as prod_{i=1..n} (1 -
 * q^(m+i)) / (1 - q^i). After each step the polynomial is [m+i choose i]_q, so every coefficient
 * stays positive. */
static void s_counts (int n, int m, double *coef) {
    int len = n * m + n + 1;
    for (int u = 0; u < len; u++)
        coef[u] = u == 0;
    for (int i = 1, deg = 0; i <= n; i++) {
        int top = deg + m + i;
        for (int u = top; u >= m + i; u--)
            coef[u] -= coef[u - m - i];
        for (int u = i; u <= top; u++)
            coef[u] += coef[u - i];
        deg += m;
        for (int u = deg + 1; u <= top; u++)
            coef[u] = 0; /* rounding's leftovers past the degree, once counts pass 2^53 */
    }
}

int fb_rank_critical (int n, int m, double tail) {
    if (n < 1 || m < 1 || !(tail > 0))
        return -1;
    if (n + m > S_EXACT_MAX) {
        double mean = n * (double)m / 2, sd = sqrt (n * (double)m * (n + m + 1) / 12.0);
        /* the normal quantile of tail by bisection on erfc */
        double a = -40, b = 0;
        for (int k = 0; k < 200; k++) {
            double z = (a + b) / 2;
            if (0.5 * erfc (-z / M_SQRT2) < tail)
                a = z;
            else
                b = z;
        }
        int c = (int)floor (mean + a * sd - 0.5);
        return c < 0 ? -1 : c;
    }
    double *coef = malloc ((size_t)(n * m + n + 1) * sizeof *coef);
    if (!coef)
        return -1;
    s_counts (n, m, coef);
    double total = 0;
    for (int u = 0; u <= n * m; u++)
        total += coef[u];
    int c = -1;
    double below = 0;
    for (int u = 0; u <= n * m / 2; u++) {
        below += coef[u];
        if (below / total > tail)
            break;
        c = u;
    }
    free (coef);
    return c;
}

static int s_cmp (const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[n] (sorted in place). */
static double s_median (double *v, int n) {
    qsort (v, (size_t)n, sizeof *v, s_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of the shortest stretch of sorted l[n] that holds more than half of it: a centre
 * that the other level's runs cannot pull while they are fewer than half. */
static double s_shorth_centre (const double *l, int n) {
    int h = n / 2 + 1, best = 0;
    for (int i = 1; i + h <= n; i++)
        if (l[i + h - 1] - l[i] < l[best + h - 1] - l[best])
            best = i;
    return h % 2 ? l[best + h / 2] : (l[best + h / 2 - 1] + l[best + h / 2]) / 2;
}

int fb_rank_set_aside (double *v, int n) {
    double *logs = malloc ((size_t)n * 2 * sizeof *logs), *dev = logs + n;
    if (n < 3 || !logs) {
        free (logs);
        return n;
    }
    for (int i = 0; i < n; i++)
        dev[i] = logs[i] = log (v[i]);
    qsort (dev, (size_t)n, sizeof *dev, s_cmp);
    double mid = s_shorth_centre (dev, n);
    for (int i = 0; i < n; i++)
        dev[i] = fabs (logs[i] - mid);
    double sd = 1.4826 * s_median (dev, n);
    double limit = FB_RANK_OUTLIER_SDS * (sd > FB_RANK_MIN_SD ? sd : FB_RANK_MIN_SD);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (fabs (logs[i] - mid) <= limit)
            v[kept++] = v[i];
    free (logs);
    return kept;
}

bool fb_rank_ratio_ci (const double *x, int n, const double *y, int m, double confidence,
                       double *lo, double *mid, double *hi) {
    int c = fb_rank_critical (n, m, (1 - confidence) / 2);
    if (c < 0)
        return false;
    size_t k = (size_t)n * (size_t)m;
    double *d = malloc (k * sizeof *d);
    if (!d)
        return false;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            d[(size_t)i * (size_t)m + (size_t)j] = log (x[i]) - log (y[j]);
    qsort (d, k, sizeof *d, s_cmp);
    *lo = exp (d[c]);
    *hi = exp (d[k - 1 - (size_t)c]);
    *mid = exp (k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2);
    free (d);
    return true;
}

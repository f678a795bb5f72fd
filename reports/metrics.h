/* Selection metrics: how well an estimator's numbers pick and order
 * candidates whose true values are known (simulators). In the manner of DOPE
 * (Fu et al. 2021, "Benchmarks for Deep Off-Policy Evaluation", sec. 5,
 * "Metrics") and COBS (Voloshin et al. 2021):
 *   spearman     Pearson correlation of the average ranks (ties share the
 *                mean of their positions) of estimates and truths
 *                (Spearman 1904);
 *   kendall      Kendall's tau-b, (C - D) / sqrt((n0 - n1)(n0 - n2)) with
 *                n0 = n(n-1)/2 and n1, n2 the tied pairs (Kendall 1945);
 *   regret@k     (max_i V_i - max_{j in top k by estimate} V_j)
 *                / (max_i V_i - min_i V_i): DOPE's regret@k with the true
 *                values normalized to [0, 1] over the candidate set (0 when
 *                every truth is equal);
 *   abs_error    mean_i |estimate_i - V_i|;
 *   coverage     the share of candidates whose interval contains V_i.
 * Candidates whose estimate is not a number are left out of every metric;
 * a metric with too few candidates (rank correlations need 2 with distinct
 * values) is NaN. */
#ifndef OPE_REPORTS_METRICS_H
#define OPE_REPORTS_METRICS_H

#include <stddef.h>

/* Rank correlations of est[0..n-1] with truth[0..n-1]; NaN when fewer
 * than 2 usable candidates or one side is constant. */
double ope_metric_spearman(const double *est, const double *truth, size_t n);
double ope_metric_kendall(const double *est, const double *truth, size_t n);
/* Normalized regret of picking the top k by est (equal estimates: the one
 * listed first is taken first); NaN when no candidate is usable or k = 0. */
double ope_metric_regret_at(const double *est, const double *truth, size_t n,
                            size_t k);
/* Mean absolute error; NaN when no candidate is usable. */
double ope_metric_abs_error(const double *est, const double *truth, size_t n);
/* Share of intervals [lo, hi] holding the truth; lo/hi NaN: that candidate
 * has no interval and is left out (NaN when none has one). */
double ope_metric_coverage(const double *lo, const double *hi,
                           const double *truth, size_t n);

/* Mean and a (1 - alpha) Student t interval of x[0..n-1], NaNs left out;
 * *m receives the count used. With fewer than 2 values lo = hi = mean. */
void ope_metric_mean_ci(const double *x, size_t n, double alpha, double *mean,
                        double *lo, double *hi, size_t *m);

#endif

/* Confidence intervals for estimates; episodes are the unit of resampling.
 *
 *   bootstrap  percentile bootstrap (Efron & Tibshirani 1993, ch. 13.3):
 *              B replicates, replicate b draws n episodes with replacement
 *              from RNG stream b of the seed, so the result does not depend
 *              on the thread count. All estimators of one policy share the
 *              replicates: their stats matrices are multiplied by one block
 *              of counts (R, n) at a time. Quantiles interpolate linearly
 *              between order statistics (Hyndman & Fan 1996, type 7).
 *              From OPE_EST_F32_MIN_EPISODES episodes on, the products run
 *              in single precision over blocks of episodes accumulated in
 *              double (relative error about 1e-6 of a replicate's sum of
 *              magnitudes; ci.c says why that is enough); below, in double.
 *   t          Student t on the per-episode contributions of a mean
 *              estimator: mean +- t_{1-a/2, n-1} s / sqrt(n).
 *   hoeffding  mean +- (b - a) sqrt(ln(2/alpha) / (2n)) (Hoeffding 1963,
 *              Theorem 2), for contributions known to lie in [a, b].
 *   bernstein  empirical Bernstein (Thomas, Theocharous & Ghavamzadeh 2015,
 *              HCOPE, Theorem 1 with no truncation, i.e. Maurer & Pontil
 *              2009, Theorem 4) at alpha/2 per side:
 *              mean +- sqrt(2 V ln(4/alpha) / n) + 7 (b - a) ln(4/alpha) / (3 (n - 1)),
 *              V the unbiased sample variance.
 * Hoeffding and Bernstein intervals are cut to the bound [a, b], which
 * holds the mean too.
 * The last three need a mean estimator (is_mean); the last two need a bound
 * (ope_estimator.range: --reward-range and --clip). Otherwise the interval is
 * refused with the reason. */
#ifndef OPE_ESTIMATORS_CI_H
#define OPE_ESTIMATORS_CI_H

#include <stdint.h>

#include "estimators/estimators.h"

typedef enum ope_ci_method {
  OPE_CI_NONE = 0,
  OPE_CI_BOOTSTRAP,
  OPE_CI_T,
  OPE_CI_HOEFFDING,
  OPE_CI_BERNSTEIN,
} ope_ci_method;

/* "none", "bootstrap", "t", "hoeffding", "bernstein" <-> method; -1 if unknown. */
int ope_ci_method_parse(const char *name);
const char *ope_ci_method_name(ope_ci_method m);

typedef struct ope_ci_config {
  ope_ci_method method;
  double alpha;       /* 0.05 for a 95% interval; in (0, 1) */
  int n_boot;         /* bootstrap replicates B (default 2000) */
  uint64_t seed;
  int threads;        /* worker threads (>= 1); results do not depend on it */
} ope_ci_config;

/* Defaults: bootstrap, alpha 0.05, B 2000, seed 0, 1 thread. */
void ope_ci_config_default(ope_ci_config *cfg);

/* 0 when cfg->method applies to est on in; otherwise 1 and why. */
int ope_ci_check(const ope_ci_config *cfg, const ope_estimator *est,
                 const ope_est_input *in, char *why, size_t why_size);

/* Fill the interval fields of out[k] (whose point estimates are already
 * there) for n_est estimators of one policy: est[k] with stats[k], all over
 * the same n episodes. Methods that do not apply leave has_ci = 0 and write
 * the reason into out[k].note. Undefined bootstrap replicates (a zero
 * denominator in a resample) are left out and counted in the note; when
 * fewer than half are defined there is no interval.
 * replicates, when non-NULL, receives (n_boot, n_est) replicate values
 * (NaN where undefined) for inspection. */
ope_status ope_ci_compute(const ope_ci_config *cfg,
                          const ope_estimator *const *est,
                          const ope_est_stats *stats, const ope_est_input *in,
                          size_t n_est, ope_estimate *out,
                          double *replicates, ope_error *err);

/* The bootstrap counts of replicate b: count[i] = how often episode i is
 * drawn among n draws from stream b of seed. */
void ope_ci_boot_counts(uint64_t seed, uint64_t b, size_t n, double *count);

/* Quantile p in [0, 1] of sorted[0..n-1] (type 7); NaN when n = 0. */
double ope_ci_quantile(const double *sorted, size_t n, double p);

/* Quantile of Student's t distribution with df degrees of freedom. */
double ope_ci_t_quantile(double p, double df);

#endif

/* Confidence intervals (ci.h): percentile bootstrap over episodes, Student
 * t, Hoeffding and empirical Bernstein.
 *
 * Bootstrap layout: replicates are processed in blocks of R (block_rows():
 * up to 128, fewer for many episodes so that a block's counts stay within
 * 64 MB; R depends on n only). For a block
 * the counts form a matrix C (R, n) whose row b holds replicate b's
 * episode multiplicities; each estimator's column sums for the whole block
 * are one product C x (ope_gemm_d), after which its value function maps each
 * row of sums to a replicate value. Blocks are fixed by replicate number and
 * handed to threads round-robin, and each replicate's counts come from its
 * own RNG stream, so every replicate value is the same for any thread count.
 * Large datasets take the fast path of boot_fast.c instead (byte counts,
 * single-precision products over blocks of episodes). */
#include "estimators/ci.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "estimators/boot_draws.h"
#include "estimators/boot_fast.h"
#include "nn/gemm.h"

enum { BLOCK = 128, BLOCK_CELLS = 1 << 23 };

/* Replicates per product: larger blocks reuse x better; the counts of a
 * block hold at most BLOCK_CELLS doubles. */
static size_t block_rows(size_t n) {
  size_t r = n ? BLOCK_CELLS / n : BLOCK;
  return r < 1 ? 1 : r > BLOCK ? BLOCK : r;
}

static const char *const method_names[] = {"none", "bootstrap", "t", "hoeffding",
                                           "bernstein"};

int ope_ci_method_parse(const char *name) {
  for (int k = 0; k < 5; k++)
    if (strcmp(name, method_names[k]) == 0) return k;
  return -1;
}

const char *ope_ci_method_name(ope_ci_method m) {
  return (unsigned)m < 5 ? method_names[m] : "?";
}

void ope_ci_config_default(ope_ci_config *cfg) {
  cfg->method = OPE_CI_BOOTSTRAP;
  cfg->alpha = 0.05;
  cfg->n_boot = 2000;
  cfg->seed = 0;
  cfg->threads = 1;
}

double ope_ci_quantile(const double *sorted, size_t n, double p) {
  if (n == 0) return NAN;
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  double f = h - (double)lo;
  return sorted[lo] + f * (sorted[lo + 1] - sorted[lo]);
}

double ope_ci_t_quantile(double p, double df) { return gsl_cdf_tdist_Pinv(p, df); }


void ope_ci_boot_counts(uint64_t seed, uint64_t b, size_t n, double *count) {
  ope_boot_draws d;
  ope_boot_draws_init(&d, seed, b, n);
  memset(count, 0, n * sizeof(double));
  for (size_t k = 0; k < n; k++) count[ope_boot_draws_next(&d)] += 1.0;
}


int ope_ci_check(const ope_ci_config *cfg, const ope_estimator *est,
                 const ope_est_input *in, char *why, size_t why_size) {
  double lo, hi;
  switch (cfg->method) {
  case OPE_CI_NONE:
  case OPE_CI_BOOTSTRAP:
    return 0;
  case OPE_CI_T:
  case OPE_CI_HOEFFDING:
  case OPE_CI_BERNSTEIN:
    if (!est->is_mean) {
      snprintf(why, why_size,
               "%s is not a mean of independent per-episode terms (a ratio of "
               "sums, or a value from one model fitted on all episodes), so "
               "the %s interval does not apply (use --ci bootstrap)",
               est->name, method_names[cfg->method]);
      return 1;
    }
    if (cfg->method == OPE_CI_T) return 0;
    if (est->range == NULL) {
      snprintf(why, why_size, "%s has no known bound on an episode's term",
               est->name);
      return 1;
    }
    if (!est->range(in, &lo, &hi, why, why_size)) return 1;
    return 0;
  }
  snprintf(why, why_size, "unknown interval method");
  return 1;
}

/* ---- closed-form intervals on a mean estimator's contributions ---- */

static int mean_sd(const ope_est_stats *s, double *mean, double *sd,
                   char *why, size_t why_size) {
  size_t n = s->n;
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double c = ope_est_contribution(s, i);
    if (!isfinite(c)) {
      snprintf(why, why_size, "an episode's term is beyond the double range");
      return 0;
    }
    m += c;
  }
  m /= (double)n;
  double ss = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = ope_est_contribution(s, i) - m;
    ss += d * d;
  }
  *mean = m;
  *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
  return 1;
}

static void closed_form(const ope_ci_config *cfg, const ope_estimator *est,
                        const ope_est_stats *s, const ope_est_input *in,
                        ope_estimate *out) {
  double mean, sd, lo = 0, hi = 0, half;
  double n = (double)s->n, a = cfg->alpha;
  if (s->n < 2) {
    snprintf(out->note, sizeof out->note, "an interval needs at least 2 episodes");
    return;
  }
  if (!mean_sd(s, &mean, &sd, out->note, sizeof out->note)) return;
  if (cfg->method != OPE_CI_T &&
      !est->range(in, &lo, &hi, out->note, sizeof out->note))
    return;
  switch (cfg->method) {
  case OPE_CI_T: /* Student 1908 */
    half = ope_ci_t_quantile(1.0 - a / 2.0, n - 1.0) * sd / sqrt(n);
    break;
  case OPE_CI_HOEFFDING: /* Hoeffding 1963, Theorem 2, two-sided */
    half = (hi - lo) * sqrt(log(2.0 / a) / (2.0 * n));
    break;
  default: /* empirical Bernstein, Maurer & Pontil 2009 Thm 4, delta = a/2 */
    half = sqrt(2.0 * sd * sd * log(4.0 / a) / n) +
           7.0 * (hi - lo) * log(4.0 / a) / (3.0 * (n - 1.0));
    break;
  }
  out->has_ci = 1;
  out->ci_low = mean - half;
  out->ci_high = mean + half;
  if (cfg->method != OPE_CI_T) { /* the mean itself lies in [lo, hi] */
    out->ci_low = fmax(out->ci_low, lo);
    out->ci_high = fmin(out->ci_high, hi);
  }
  out->ci_method = method_names[cfg->method];
}

/* ---- bootstrap ---- */

typedef struct boot_job {
  const ope_ci_config *cfg;
  const ope_estimator *const *est;
  const ope_est_stats *stats;
  size_t n_est, n, kmax;
  int tid, n_threads;
  double *rep;   /* (B, n_est) */
  int failed;
} boot_job;

static void *boot_worker(void *arg) {
  boot_job *j = arg;
  size_t B = (size_t)j->cfg->n_boot, n = j->n;
  size_t RB = block_rows(n);
  double *C = malloc(RB * (n ? n : 1) * sizeof(double));
  double *S = malloc(RB * (j->kmax ? j->kmax : 1) * sizeof(double));
  if (C == NULL || S == NULL) {
    j->failed = 1;
    goto done;
  }
  for (size_t b0 = (size_t)j->tid * RB; b0 < B; b0 += (size_t)j->n_threads * RB) {
    size_t R = B - b0 < RB ? B - b0 : RB;
    for (size_t r = 0; r < R; r++)
      ope_ci_boot_counts(j->cfg->seed, b0 + r, n, C + r * n);
    for (size_t e = 0; e < j->n_est; e++) {
      const ope_est_stats *s = &j->stats[e];
      if (s->k == 0) continue;
      /* S (R, k) = C (R, n) x (n, k) */
      ope_gemm_d(0, 0, (int)R, (int)s->k, (int)n, 1.0, C, (int)n, s->x,
                 (int)s->k, 0.0, S, (int)s->k);
      for (size_t r = 0; r < R; r++) {
        double v = NAN;
        if (j->est[e]->value(s, S + r * s->k, (double)n, &v) != OPE_EST_DEFINED)
          v = NAN;
        j->rep[(b0 + r) * j->n_est + e] = v;
      }
    }
  }
done:
  free(C);
  free(S);
  return NULL;
}


static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static ope_status bootstrap(const ope_ci_config *cfg,
                            const ope_estimator *const *est,
                            const ope_est_stats *stats, size_t n_est,
                            ope_estimate *out, double *rep_out, ope_error *err) {
  ope_status st = OPE_OK;
  size_t B = (size_t)cfg->n_boot, n = stats[0].n, kmax = 0;
  for (size_t e = 0; e < n_est; e++) {
    if (stats[e].n != n)
      return ope_error_set(err, OPE_EINTERNAL, NULL,
                           "bootstrap: estimators disagree on the episode count");
    if (stats[e].k > kmax) kmax = stats[e].k;
    if (n > 0 && stats[e].k > (size_t)2147483647 / (n > BLOCK ? n : BLOCK))
      return ope_error_set(err, OPE_EINTERNAL, NULL, "bootstrap: statistics too large");
  }
  int fast = ope_boot_fast_applies(n);
  for (size_t e = 0; e < n_est; e++)
    if (stats[e].x == NULL && stats[e].k > 0 && !fast)
      return ope_error_set(err, OPE_EINTERNAL, NULL,
                           "bootstrap: single-precision statistics of a small dataset");
  /* no more threads than blocks: an idle thread would only hold buffers */
  size_t rows = fast ? ope_boot_fast_rows(n) : block_rows(n);
  size_t n_blocks = (B + rows - 1) / rows;
  int T = cfg->threads < 1 ? 1 : cfg->threads;
  if ((size_t)T > n_blocks) T = (int)n_blocks;
  double *rep = rep_out ? rep_out : malloc(B * n_est * sizeof(double));
  double *sorted = malloc((B ? B : 1) * sizeof(double));
  boot_job *jobs = calloc((size_t)T, sizeof *jobs);
  /* each fast-path worker runs its products on one BLAS thread */
  int blas_threads = fast ? ope_gemm_threads() : 1;
  if (blas_threads != 1) ope_gemm_set_threads(1);
  if (rep == NULL || sorted == NULL || jobs == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  if (fast && (st = ope_boot_fast_replicates(cfg, est, stats, n_est, T, rep, err)) != OPE_OK)
    goto done;
  for (int t = 0; t < T && !fast; t++)
    jobs[t] = (boot_job){cfg, est, stats, n_est, n, kmax, t, T, rep, 0};
  if (!fast) ope_parallel_run(boot_worker, jobs, sizeof *jobs, T);
  for (int t = 0; t < T && !fast; t++)
    if (jobs[t].failed) {
      st = ope_error_nomem(err);
      goto done;
    }
  for (size_t e = 0; e < n_est; e++) {
    ope_estimate *o = &out[e];
    if (o->flag != OPE_EST_DEFINED) {
      ope_est_note_add(o, "no interval for an undefined estimate");
      continue;
    }
    size_t m = 0;
    for (size_t b = 0; b < B; b++) {
      double v = rep[b * n_est + e];
      if (!isnan(v)) sorted[m++] = v;
    }
    if (m < B)
      ope_est_note_add(o, "%zu of %zu bootstrap resamples were undefined and left out", B - m,
                       B);
    if (m == 0 || m * 2 < B) continue;
    qsort(sorted, m, sizeof(double), cmp_double);
    o->has_ci = 1;
    o->ci_low = ope_ci_quantile(sorted, m, cfg->alpha / 2.0);
    o->ci_high = ope_ci_quantile(sorted, m, 1.0 - cfg->alpha / 2.0);
    o->ci_method = method_names[OPE_CI_BOOTSTRAP];
  }
done:
  if (blas_threads != 1) ope_gemm_set_threads(blas_threads);
  if (rep != rep_out) free(rep);
  free(sorted);
  free(jobs);
  return st;
}

ope_status ope_ci_compute(const ope_ci_config *cfg,
                          const ope_estimator *const *est,
                          const ope_est_stats *stats, const ope_est_input *in,
                          size_t n_est, ope_estimate *out,
                          double *replicates, ope_error *err) {
  if (!(cfg->alpha > 0 && cfg->alpha < 1))
    return ope_error_set(err, OPE_EUSAGE, NULL, "alpha must be in (0, 1), not %g",
                         cfg->alpha);
  if (cfg->method == OPE_CI_NONE || n_est == 0) return OPE_OK;
  if (cfg->method == OPE_CI_BOOTSTRAP) {
    if (cfg->n_boot < 1)
      return ope_error_set(err, OPE_EUSAGE, NULL, "the bootstrap needs B >= 1 resamples");
    if (stats[0].n == 0) return OPE_OK;
    return bootstrap(cfg, est, stats, n_est, out, replicates, err);
  }
  for (size_t e = 0; e < n_est; e++) {
    char why[200];
    if (out[e].flag != OPE_EST_DEFINED) continue;
    if (ope_ci_check(cfg, est[e], in, why, sizeof why)) {
      snprintf(out[e].note, sizeof out[e].note, "no %s interval: %s",
               method_names[cfg->method], why);
      continue;
    }
    closed_form(cfg, est[e], &stats[e], in, &out[e]);
  }
  return OPE_OK;
}

/* The estimator scorecard (`ope bench`): which estimator to trust on data
 * like the user's, in the manner of DOPE (Fu et al. 2021) and COBS
 * (Voloshin et al. 2021).
 *
 * For an environment and a behavior regime: K datasets are simulated (seed
 * s, s+1, ..., s+K-1); every candidate (a reference policy) gets its true
 * value once (exact dynamic programming on the tabular environments,
 * rollouts otherwise); on each dataset every estimator estimates every
 * candidate; metrics.h scores each estimator on each dataset (Spearman,
 * Kendall, regret@1, regret@5, absolute error, interval coverage); the
 * scorecard is the mean over datasets with a Student t interval. */
#ifndef OPE_REPORTS_BENCH_H
#define OPE_REPORTS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "estimators/evaluate.h"
#include "reports/report.h"

typedef struct ope_bench_config {
  const char *env;                 /* environment spec, e.g. "gridworld" */
  const char *regime;              /* behavior regime, e.g. "medium" */
  size_t episodes;                 /* per dataset */
  int seeds;                       /* datasets K >= 1 */
  uint64_t seed;                   /* the first dataset's seed */
  const char *const *candidates;   /* reference policy names; NULL: defaults */
  size_t n_candidates;
  int horizon;                     /* <= 0: the environment's */
  size_t truth_rollouts;           /* non-tabular environments */
  int gamma_given;                 /* 0: the environment's discount */
  ope_eval_config eval;            /* estimators, intervals, FQE, ... */
} ope_bench_config;

/* Defaults: 200 episodes, 5 seeds from 0, the environment's horizon and
 * discount, 2000 truth rollouts, bootstrap intervals with B = 500. */
void ope_bench_config_default(ope_bench_config *cfg);

/* The default candidates for an environment: its reference policies under
 * expert, medium, random and three epsilon (discrete) or noise
 * (continuous) levels. Writes up to 8 names of at most 160 bytes into
 * names; returns the count, or 0 for an unknown environment. */
size_t ope_bench_default_candidates(const char *env, char names[][160]);

/* Run the scorecard into out (a bench report; zeroed first, owns its
 * arrays). */
ope_status ope_bench_run(const ope_bench_config *cfg, ope_report *out,
                         ope_error *err);

#endif

/* Weight and support diagnostics: can these logs answer the question?
 *
 * Computed once per (dataset, policy) from the importance weights:
 *   ess          Kish effective sample size of the final trajectory weights,
 *                (sum w)^2 / sum w^2 (Kish 1965), and ess_frac = ess / n;
 *   ess_step     the same per horizon step (carry-forward for ended episodes),
 *                ess_step_min its minimum;
 *   max_share    the largest final weight over their sum;
 *   zero_frac    the fraction of episodes whose final weight is 0;
 *   quantiles    of the final weights at 0, 5, 25, 50, 75, 95, 100% (values
 *                beyond the double range are +inf);
 *   support      discrete: the logged rows where pi_e puts >= support_x on
 *                an action the behavior policy gives < support_y (needs the
 *                behavior distribution); continuous deterministic policies:
 *                the policy's action's distance from the logged one in
 *                kernel bandwidths (median, and the fraction beyond 3).
 * A result is flagged unreliable, with the reason, when ess_frac < the
 * configured minimum, when one episode holds more than max_share_limit of the
 * weight, when every weight is 0, or when most of the target's mass leaves
 * the support. All numbers are computed in log space. */
#ifndef OPE_ESTIMATORS_DIAGNOSTICS_H
#define OPE_ESTIMATORS_DIAGNOSTICS_H

#include "data/dataset.h"
#include "estimators/weights.h"
#include "policy/policy.h"

#define OPE_DIAG_N_QUANTILES 7
extern const double ope_diag_quantile_levels[OPE_DIAG_N_QUANTILES];

typedef struct ope_diag_config {
  double support_x;        /* target mass threshold (default 0.05) */
  double support_y;        /* behavior probability threshold (default 0.01) */
  double ess_min_frac;     /* unreliable below this ESS / n (default 0.01) */
  double max_share_limit;  /* unreliable above this share (default 0.5) */
  double support_limit;    /* unreliable when this fraction of rows leaves the support (0.5) */
} ope_diag_config;

void ope_diag_config_default(ope_diag_config *cfg);

typedef struct ope_diagnostics {
  size_t n_episodes;
  size_t horizon;
  double ess, ess_frac;
  double *ess_step;        /* (horizon) */
  double ess_step_min;
  double max_share;
  double zero_frac;
  double quantiles[OPE_DIAG_N_QUANTILES];
  size_t n_clipped;        /* rows whose ratio hit the cap */
  double clip;
  int support_kind;        /* 0 none, 1 discrete, 2 continuous (bandwidths) */
  size_t support_rows;     /* discrete: rows out of support; continuous: rows beyond 3 bandwidths */
  double support_frac;     /* support_rows / n_steps */
  double support_median_bw;/* continuous: median distance in bandwidths */
  char support_note[160];  /* why support is not computed, if so */
  int unreliable;
  char reason[256];        /* why unreliable; "; "-separated */
} ope_diagnostics;

/* Diagnostics of w for ds. pe: the evaluation policy's scores (dist used for
 * discrete support, act/bandwidth for continuous). pb_dist: the behavior
 * distribution (n_steps, A) or NULL (then discrete support is not
 * computed). out owns ess_step (free with ope_diag_clear). */
ope_status ope_diag_compute(const ope_dataset *ds, const ope_weights *w,
                            const ope_policy_scores *pe, const double *pb_dist,
                            const ope_diag_config *cfg, ope_diagnostics *out,
                            ope_error *err);
void ope_diag_clear(ope_diagnostics *d);

#endif

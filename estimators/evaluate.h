/* One evaluation: every selected estimator on every candidate policy of one
 * dataset, with intervals and diagnostics, and its record in the store.
 *
 * The command line resolves policies and scores them; this module turns
 * scores into weights (with the log's pscore or estimated propensities),
 * runs the estimators, fits Q when an estimator needs it, computes the
 * intervals and the diagnostics, and flags weight-based results whose
 * diagnostics are bad as unreliable. ope_eval_store() writes a finished run
 * (tables of data/schema/003_evaluations.sql) in one transaction. */
#ifndef OPE_ESTIMATORS_EVALUATE_H
#define OPE_ESTIMATORS_EVALUATE_H

#include <stdint.h>

#include "estimators/ci.h"
#include "estimators/diagnostics.h"
#include "estimators/estimators.h"
#include "fqe/fqe.h"
#include "policy/behavior.h"
#include "store/store.h"

typedef struct ope_eval_config {
  const ope_estimator *const *est; /* the estimators to run; NULL: all that apply */
  size_t n_est;
  double gamma;
  double clip;                     /* 0: no cap */
  double bandwidth;                /* kernel bandwidth for deterministic continuous policies; 0: default rule */
  int has_reward_range;
  double reward_lo, reward_hi;
  ope_ci_config ci;
  ope_diag_config diag;
  ope_fqe_config fqe;              /* for estimators that need Q */
} ope_eval_config;

/* Defaults: all estimators, gamma 1, no clip, bootstrap 95% with B 2000. */
void ope_eval_config_default(ope_eval_config *cfg);

/* The default kernel bandwidth: Silverman's rule of thumb on the logged
 * actions, h = (4 / (m + 2))^(1 / (m + 4)) n^(-1 / (m + 4)) s, s the mean
 * per-dimension standard deviation (Silverman 1986, eq. 4.14), floored at
 * 1e-3. */
double ope_eval_default_bandwidth(const ope_dataset *ds);

/* The behavior side of a run, shared by every policy. */
typedef struct ope_eval_behavior {
  int estimated;               /* 0: the log's pscore */
  const double *prob;          /* (n_steps) pi_b of the logged action */
  const double *dist;          /* (n_steps, A) or NULL */
  const ope_behavior_fit *fit; /* when estimated, else NULL */
} ope_eval_behavior;

typedef struct ope_eval_policy_result {
  char *name;
  char source[16];             /* reference, scores, checkpoint */
  char sha256[65];             /* scores file's SHA-256, or empty */
  double bandwidth;            /* kernel bandwidth used, 0 if none */
  ope_diagnostics diag;
  size_t n_est;
  ope_estimate *est;           /* (n_est) */
  char note[256];              /* a run-level caveat for this policy, or empty */
} ope_eval_policy_result;

/* Evaluate one policy given its scores on ds. pi may be NULL (scores-only
 * policies: FQE then needs the scores' full distribution). out owns its
 * arrays (ope_eval_policy_result_clear). OPE_EUSAGE when an estimator the
 * caller asked for by name cannot run, with the reason. */
ope_status ope_eval_policy(const ope_dataset *ds, const ope_eval_behavior *beh,
                           const ope_policy *pi, const ope_policy_scores *pe,
                           const ope_eval_config *cfg,
                           ope_eval_policy_result *out, ope_error *err);
/* The same for a caller that has no further use for pe->prob: it is freed
 * (and set to NULL) as soon as the weights exist, unless a selected
 * estimator fits Q (which reads it). This lowers the peak memory on large
 * datasets; the results are the same. */
ope_status ope_eval_policy_consume(const ope_dataset *ds, const ope_eval_behavior *beh,
                                   const ope_policy *pi, ope_policy_scores *pe,
                                   const ope_eval_config *cfg,
                                   ope_eval_policy_result *out, ope_error *err);
void ope_eval_policy_result_clear(ope_eval_policy_result *r);

/* Whether estimate k of r counts as unreliable: its estimator uses weights
 * and r's diagnostics are bad. */
int ope_eval_unreliable(const ope_eval_policy_result *r, size_t k);

/* Store a run: the evaluation row, every estimate and the diagnostics, in
 * one transaction; *run_id receives the new id. settings_json and
 * behavior_json (may be NULL) are stored as given; detail_json[p] is policy
 * p's diagnostics detail. Nothing is stored on failure. */
ope_status ope_eval_store(ope_store *s, const ope_dataset *ds,
                          const ope_eval_config *cfg,
                          const ope_eval_behavior *beh,
                          const ope_eval_policy_result *res, size_t n_pol,
                          const char *estimator_list,
                          const char *settings_json, const char *behavior_json,
                          const char *const *detail_json, int64_t *run_id,
                          ope_error *err);

#endif

/* Estimated behavior propensities, for logs without a `pscore` column.
 *
 * Models (the behavior policy pi_b(a|s) is Markov in the observation):
 *   counts    discrete actions, tabular observations (a state is a distinct
 *             observation vector): action frequencies per state, shrunk
 *             towards the marginal action frequencies,
 *             (n_sa + p(a)) / (n_s + 1), so an unseen state gets p(a);
 *   logistic  discrete actions: multinomial logistic regression on the
 *             standardized observation with an intercept and an L2 penalty
 *             (Bishop 2006, eq. 4.104-4.109), fitted by BFGS (GSL multimin);
 *   gaussian  continuous actions: a_j = b_j . [1, obs] + N(0, s_j^2) per
 *             action dimension, least squares (GSL multifit), s_j^2 the
 *             residual variance.
 * Cross-fitting: episodes with an even index form one half, odd ones the
 * other; each half is scored by the model fitted on the other half, so no
 * episode is scored by a model that saw it. Calibration is measured on those
 * held-out scores: the mean log-likelihood of the logged actions and, for
 * discrete actions, a reliability table of predicted probabilities against
 * observed frequencies (10 bins) with its expected calibration error. */
#ifndef OPE_POLICY_BEHAVIOR_H
#define OPE_POLICY_BEHAVIOR_H

#include "core/error.h"
#include "data/dataset.h"

typedef enum ope_behavior_kind {
  OPE_BEHAVIOR_AUTO = 0,   /* counts when tabular, else logistic / gaussian */
  OPE_BEHAVIOR_COUNTS,
  OPE_BEHAVIOR_LOGISTIC,
  OPE_BEHAVIOR_GAUSSIAN,
} ope_behavior_kind;

#define OPE_BEHAVIOR_BINS 10

typedef struct ope_behavior_fit {
  ope_behavior_kind kind;     /* the model used */
  size_t n_steps;
  int n_actions;              /* discrete A, else 0 */
  double *prob;               /* (n_steps) held-out pi_b of the logged action */
  double *dist;               /* (n_steps, A) held-out distribution, or NULL */
  double heldout_loglik;      /* mean log pi_b(a_t|s_t) over held-out steps */
  double ece;                 /* discrete: expected calibration error; else NaN */
  double bin_pred[OPE_BEHAVIOR_BINS];  /* mean predicted probability per bin */
  double bin_freq[OPE_BEHAVIOR_BINS];  /* observed frequency per bin */
  size_t bin_n[OPE_BEHAVIOR_BINS];
  double coverage95;          /* continuous: fraction of logged action values
                                 within 1.96 s of the mean; else NaN */
  size_t n_states;            /* counts: distinct observations */
} ope_behavior_fit;

/* "auto", "counts", "logistic", "gaussian" <-> kind; -1 if unknown. */
int ope_behavior_kind_parse(const char *name);
const char *ope_behavior_kind_name(ope_behavior_kind k);

/* Fit by cross-fitting and score every row of ds. Needs at least 2
 * episodes (OPE_EDATA otherwise); OPE_EUSAGE when kind does not fit the
 * action kind. out is zeroed first; free with ope_behavior_fit_clear. */
ope_status ope_behavior_estimate(const ope_dataset *ds, ope_behavior_kind kind,
                                 ope_behavior_fit *out, ope_error *err);
void ope_behavior_fit_clear(ope_behavior_fit *f);

/* Whether ds's observations look tabular: at most 1000 distinct vectors and
 * at most a tenth as many as steps. */
int ope_behavior_is_tabular(const ope_dataset *ds);

#endif

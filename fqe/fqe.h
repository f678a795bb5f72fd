/* Fitted-Q evaluation (Le, Voloshin & Yue 2019, "Batch Policy Learning under
 * Constraints", Algorithm 3): Q^pi_e from logged transitions, by iterating
 * Q_{k+1} = argmin_Q sum_t (Q(s_t,a_t) - r_t - g (1-term_t) V_k(s'_t))^2 with
 * V_k(s) = E_{a~pi_e} Q_k(s,a).
 *
 * Three function classes share this interface:
 *   tabular  the exact fixed point of ARCHITECTURE.md (a state is a distinct
 *            observation vector), solved as one sparse linear system;
 *   linear   least-squares FQE / LSTD-Q on observation features (GSL);
 *   neural   an MLP with a target network (src/nn).
 * A model is fitted on one dataset and can predict on another (cross-fitting:
 * fit on one half of the episodes, predict on the other). */
#ifndef OPE_FQE_FQE_H
#define OPE_FQE_FQE_H

#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"
#include "policy/policy.h"

typedef enum ope_fqe_kind {
  OPE_FQE_AUTO = 0,  /* tabular when observations are few and discrete, else neural */
  OPE_FQE_TABULAR,
  OPE_FQE_LINEAR,
  OPE_FQE_NEURAL,
} ope_fqe_kind;

typedef struct ope_fqe_config {
  ope_fqe_kind kind;
  double gamma;
  uint64_t seed;
  double ridge;          /* linear: L2 penalty (>= 0) */
  int hidden;            /* neural: units per hidden layer */
  int layers;            /* neural: hidden layers */
  int iterations;        /* neural: outer FQE iterations (target refreshes);
                            0 = as many as the discount needs (fqe_neural.h) */
  int steps_per_iter;    /* neural: gradient steps per iteration */
  int batch;             /* neural: minibatch size */
  double lr;             /* neural: Adam learning rate */
  int action_samples;    /* neural, continuous: samples for E_{a~pi} Q(s',a) */
  double sample_table_mb;/* neural, continuous: most memory (MiB) for the
                            actions drawn once at every row; beyond it a
                            policy without history draws them afresh at
                            every use (slower for network policies) */
  int refits;            /* neural: refits on episode resamples, each with
                            its own seed, for FQE's interval (estimators,
                            ope_dr_refit_intervals); < 2: none, the interval
                            then holds the one fitted Q fixed */
  int threads;           /* 0 = leave BLAS threading as it is */
  int crossfit;          /* estimators (ope_dr_fit_q): fit on one half of
                            the episodes, predict the other, then swap;
                            ope_fqe_fit itself always fits one model */
} ope_fqe_config;

/* Defaults for every field (kind AUTO, gamma 0.99, ...). */
void ope_fqe_config_default(ope_fqe_config *cfg);

/* Name <-> kind ("tabular", "linear", "neural", "auto"); -1 if unknown. */
int ope_fqe_kind_parse(const char *name);
const char *ope_fqe_kind_name(ope_fqe_kind kind);

typedef struct ope_fqe_model ope_fqe_model;

/* Row-aligned predictions on a dataset. */
typedef struct ope_qfit {
  size_t n_steps;
  double *q;        /* (n_steps) Q(s_t, a_t) at the logged action */
  double *v;        /* (n_steps) V(s_t) = E_{a~pi_e(.|h_t)} Q(s_t, a) */
  double value;     /* DM: mean over episodes of V(s_0) */
  int defined;      /* 0: no fixed point / diverged; value is not a number */
  char warning[256];/* why undefined, or a caveat; empty if none */
} ope_qfit;

/* Fit Q for the evaluation policy on ds. `scores` are pi's numbers on ds
 * (from ope_policy_score_dataset); `pi` may be NULL when the policy exists
 * only as scores (then continuous next-state expectations are not possible
 * and neural FQE on continuous actions fails with OPE_EUSAGE). */
ope_status ope_fqe_fit(const ope_dataset *ds, const ope_policy *pi,
                       const ope_policy_scores *scores,
                       const ope_fqe_config *cfg, ope_fqe_model **out,
                       ope_error *err);

/* Q and V on every row of ds (which may differ from the fitting data). */
ope_status ope_fqe_predict(const ope_fqe_model *m, const ope_dataset *ds,
                           const ope_policy *pi,
                           const ope_policy_scores *scores, ope_qfit *out,
                           ope_error *err);

void ope_fqe_model_free(ope_fqe_model *m);
void ope_qfit_clear(ope_qfit *q);

/* Allocate the row-aligned arrays of out for n rows (zeroed), with
 * defined = 1 and no warning. Returns OPE_OK or an out-of-memory error. */
ope_status ope_qfit_alloc(ope_qfit *out, size_t n, ope_error *err);

/* Set out->value to the mean over episodes of V at each episode's first row
 * (out->v must be filled). */
void ope_qfit_finish_value(ope_qfit *out, const ope_dataset *ds);

/* The kind AUTO resolves to on ds: tabular when actions are discrete, every
 * observation value is an integer and there are at most 4096 distinct
 * observation vectors; neural otherwise. */
ope_fqe_kind ope_fqe_auto_kind(const ope_dataset *ds);

/* The g^H caveat (ARCHITECTURE.md): when ds has a truncated episode and
 * gamma^H > 1% for its longest episode H, FQE and DM estimate the value with
 * the time limit ignored. Then writes the sentence into buf (when non-NULL)
 * and returns 1; otherwise returns 0. ope_fqe_predict puts it in
 * ope_qfit.warning when there is no other warning. */
int ope_fqe_horizon_warning(const ope_dataset *ds, double gamma, char *buf,
                            size_t size);

#endif

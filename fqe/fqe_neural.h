/* Neural fitted-Q evaluation (Le, Voloshin & Yue 2019, Algorithm 3, with a
 * Q-network as the function class).
 *
 * Q network: an MLP on normalized inputs (src/nn), ReLU, cfg->layers hidden
 * layers of cfg->hidden units. Discrete actions: input s, A outputs, one per
 * action. Continuous actions: input [s, a], one output. The network predicts
 * Q / q_scale with q_scale = rms(r) / (1 - g) (rms(r) times the longest
 * episode when g = 1), so targets are of order one whatever the rewards.
 * Hidden layers start from He initialization, the output layer from zero
 * (Q_0 = 0).
 *
 * Iteration k (k = 1 .. cfg->iterations): the target network is a copy of
 * the online network (hard refresh); regression targets are
 *   y = r + g (1 - terminal) V_target(s'),
 * with V(s') = sum_a pi(a|s') Q(s',a) under the next row's distribution
 * (discrete, exact) or the mean of Q(s',a') over cfg->action_samples actions
 * drawn from pi->ops->sample at s' (continuous; one action for
 * deterministic policies). Then cfg->steps_per_iter Adam steps (lr cfg->lr,
 * global-norm clip 10) on minibatches of cfg->batch transitions drawn
 * uniformly with replacement minimize the mean squared error
 * (Q(s,a) - y)^2 / q_scale^2. Targets are computed once per iteration for
 * all training transitions when that is cheaper than per minibatch.
 *
 * Transitions: a terminal row is absorbing (y = r); a truncated episode's
 * last row is bootstrapped from next_obs_* when the log has it (the policy is
 * asked at that state after walking the episode's history) and gives no
 * target otherwise (ope_dataset_next).
 *
 * Early stopping: when the dataset has at least 10 episodes, 10% of them
 * (at least one, chosen with the seed) are held out. After each iteration
 * k >= k_min the held-out Bellman residual of the online network,
 *   mean (Q(s,a) - r - g (1 - terminal) V_Q(s'))^2,
 * is measured (at most OPE_FQE_NEURAL_HOLDOUT_MAX transitions); the
 * parameters with the lowest residual are kept, and fitting stops after
 * OPE_FQE_NEURAL_PATIENCE iterations without a 0.1% improvement. k_min is
 * the first k with g^k < 1% (capped at cfg->iterations): earlier iterates
 * still carry the start Q_0 = 0, which a small residual does not reveal.
 *
 * Everything random (initialization, held-out split, minibatches, action
 * samples) comes from cfg->seed through separate ope_rng streams, so a fit
 * is reproducible bit for bit for a fixed BLAS thread count. */
#ifndef OPE_FQE_FQE_NEURAL_H
#define OPE_FQE_FQE_NEURAL_H

#include "fqe/fqe.h"

#define OPE_FQE_NEURAL_PATIENCE 5
#define OPE_FQE_NEURAL_HOLDOUT_MAX 8192
#define OPE_FQE_NEURAL_MAX_SAMPLES 1024

typedef struct ope_fqe_neural ope_fqe_neural;

/* What a fit did. */
typedef struct ope_fqe_neural_stats {
  int iterations_run;      /* iterations completed */
  int best_iteration;      /* 1-based iteration whose parameters are kept */
  double holdout_residual; /* its held-out Bellman residual; NaN: no holdout */
  double train_loss;       /* last minibatch loss (scaled units) */
  size_t n_train, n_holdout; /* transitions with a target in each part */
} ope_fqe_neural_stats;

/* Fit on ds. Discrete actions need scores->dist; continuous actions need pi
 * (pi->ops->sample), or scores->act for a deterministic policy (then a
 * truncated episode's next_obs_* gives no target). Bad settings or a missing
 * policy: OPE_EUSAGE. On success *out owns the network. */
ope_status ope_fqe_neural_fit(const ope_dataset *ds, const ope_policy *pi,
                              const ope_policy_scores *scores,
                              const ope_fqe_config *cfg, ope_fqe_neural **out,
                              ope_error *err);

/* Q at the logged action and V on every row of ds (which may differ from
 * the fitting data but must have the same widths); out is allocated here
 * (ope_qfit_clear frees it). V uses the row's own distribution (discrete) or
 * cfg->action_samples fresh samples from pi (continuous). out->defined is 0
 * when the network produced non-finite values. */
ope_status ope_fqe_neural_predict(const ope_fqe_neural *m,
                                  const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *scores,
                                  ope_qfit *out, ope_error *err);

const ope_fqe_neural_stats *ope_fqe_neural_get_stats(const ope_fqe_neural *m);

void ope_fqe_neural_free(ope_fqe_neural *m);

#endif

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
 * deterministic policies). They are drawn once, walking each episode
 * through pi's context, and kept (n x K x m numbers); when that table would
 * exceed cfg->sample_table_mb MiB and pi has no history, they are drawn
 * afresh every time a target is computed instead (nothing stored per
 * transition, but one policy call per use rather than per row). Then cfg->steps_per_iter Adam steps (lr cfg->lr,
 * global-norm clip 10) on minibatches of cfg->batch transitions drawn
 * uniformly with replacement minimize the mean squared error
 * (Q(s,a) - y)^2 / q_scale^2. Targets are computed once per iteration for
 * all training transitions when that is cheaper than per minibatch.
 *
 * Number of iterations. From Q_0 = 0 the k-th iterate still carries
 * g^k of the start's error, so cfg->iterations = 0 (the default) runs
 * k_min + 2 OPE_FQE_NEURAL_PATIENCE iterations, k_min the first k with
 * g^k < 1% (90 at g = 0.95, 459 at g = 0.99; with g = 1 the longest
 * episode's length), at most OPE_FQE_NEURAL_AUTO_MAX.
 *
 * Defaults (fqe.c) and why: 2 x 128 ReLU, batch 256, lr 1e-3, 50 steps per
 * iteration, 4 action samples. Each iteration's regression starts from the
 * previous iterate, whose targets moved by only g^k of the start's error,
 * so 50 steps fit it; the number of iterations, not the steps per
 * iteration, is what bounds the bias. On 200-episode cartpole and pendulum
 * logs at g = 0.95 these give estimates within 6% of the simulated truth
 * (man/ope-eval.1) in a few seconds. With lr 3e-4 the 50 steps left each
 * regression short of its target and cartpole estimates 3-6% low; 2 x 256
 * units or 100 steps per iteration did no better than lr 1e-3 at 2 to 3
 * times the cost; 16 action samples instead of 4 moved pendulum estimates
 * by less than 1% at 3.5 times the cost (the regression averages the
 * draws' noise). An
 * interval for the estimate comes from refitting (cfg->refits fits on
 * episode resamples, each with its own seed; estimators/dr.h).
 *
 * Transitions: a terminal row is absorbing (y = r); a truncated episode's
 * last row is bootstrapped from next_obs_* when the log has it (the policy is
 * asked at that state after walking the episode's history) and gives no
 * target otherwise (ope_dataset_next).
 *
 * Early stopping: when the dataset has at least 10 distinct episodes, 10%
 * of them (at least one, chosen with the seed) are held out
 * (ope_fqe_neural_split). After each iteration
 * k >= k_min the held-out Bellman residual of the online network,
 *   mean (Q(s,a) - r - g (1 - terminal) V_Q(s'))^2,
 * is measured (at most OPE_FQE_NEURAL_HOLDOUT_MAX transitions; fresh
 * action draws repeat the same stream at every check); the
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
#define OPE_FQE_NEURAL_AUTO_MAX 1000
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

/* The iterations a fit on ds runs at most: cfg->iterations, or when that
 * is 0 the automatic count described above. */
int ope_fqe_neural_iterations(const ope_dataset *ds, const ope_fqe_config *cfg);

/* The held-out split: ds's episode indices in a random order drawn from
 * seed, the *n_hold held-out ones first. Episodes with equal labels are
 * copies of one logged episode (an episode resample repeats episodes with
 * their labels; labels are unique in a log) and fall on the same side, so
 * that a refit on a resample never holds out what it trains on. No
 * holdout (*n_hold = 0) below 10 distinct episodes. NULL: out of memory. */
size_t *ope_fqe_neural_split(const ope_dataset *ds, uint64_t seed,
                             size_t *n_hold);

const ope_fqe_neural_stats *ope_fqe_neural_get_stats(const ope_fqe_neural *m);

void ope_fqe_neural_free(ope_fqe_neural *m);

#endif

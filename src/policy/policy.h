/* Policies: the one interface through which everything asks "what would the
 * evaluation policy do here?".
 *
 * A policy answers, at a step of an episode (its history is available through
 * a per-episode context, so history-conditioned policies such as the Decision
 * Transformer are first-class):
 *   - discrete actions: the full action distribution (ops->dist);
 *   - continuous actions: a sampled action (ops->sample) and, when it has
 *     one, the density of a given action (ops->density). Deterministic
 *     continuous policies have no density: they set `deterministic` and
 *     return their action from ops->sample whatever the RNG; importance
 *     weights then use a Gaussian kernel of width `bandwidth` around it.
 * Offline scoring of a whole logged dataset goes through
 * ope_policy_score_dataset(), which walks each episode through a context and
 * feeds back the logged action and reward (ops->observe). A policy that only
 * exists as precomputed numbers (a policy-scores CSV) implements ops->score
 * and nothing online.
 *
 * Implementations: simulator reference policies (src/sim), trained
 * checkpoints (src/train), policy-scores CSV (src/policy/scores_csv). */
#ifndef OPE_POLICY_POLICY_H
#define OPE_POLICY_POLICY_H

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"

typedef struct ope_policy ope_policy;
typedef struct ope_policy_scores ope_policy_scores;

typedef struct ope_policy_ops {
  /* Create the per-episode context (history). May be NULL for Markov
   * policies, in which case ctx is always NULL. */
  ope_status (*ctx_new)(const ope_policy *p, void **ctx, ope_error *err);
  void (*ctx_free)(void *ctx);
  /* Discrete: probs[0..A-1] at obs, given the history in ctx. */
  ope_status (*dist)(const ope_policy *p, void *ctx, const double *obs,
                     double *probs, ope_error *err);
  /* Continuous: write an action (action_dim values). Deterministic policies
   * ignore rng (it may be NULL for them). */
  ope_status (*sample)(const ope_policy *p, void *ctx, const double *obs,
                       ope_rng *rng, double *action, ope_error *err);
  /* Continuous, stochastic only: density of `action` at obs. */
  ope_status (*density)(const ope_policy *p, void *ctx, const double *obs,
                        const double *action, double *dens, ope_error *err);
  /* After acting: the action taken (discrete: action[0] holds the index) and
   * the reward received, appended to the history in ctx. NULL for Markov
   * policies. */
  void (*observe)(const ope_policy *p, void *ctx, const double *obs,
                  const double *action, double reward);
  /* Optional fast path for a whole dataset (batched networks, precomputed
   * scores). When NULL, ope_policy_score_dataset() uses the ops above. */
  ope_status (*score)(const ope_policy *p, const ope_dataset *ds,
                      ope_policy_scores *out, ope_error *err);
  void (*destroy)(ope_policy *p); /* frees impl; not p itself */
} ope_policy_ops;

struct ope_policy {
  const ope_policy_ops *ops;
  char *name;                  /* e.g. "cartpole:expert", owned */
  ope_action_kind action_kind;
  int obs_dim;                 /* 0 when unknown (scores CSV) */
  int n_actions;               /* discrete: A */
  int action_dim;              /* continuous: m; discrete: 1 */
  int deterministic;           /* continuous policy without a density */
  double bandwidth;            /* kernel bandwidth for deterministic ones; 0 = not set */
  void *impl;                  /* owned, freed by ops->destroy */
};

/* A policy's numbers on every row of a dataset. */
struct ope_policy_scores {
  size_t n_steps;
  int n_actions;      /* discrete: A, else 0 */
  int action_dim;     /* continuous: m */
  double *prob;       /* (n_steps) pi_e(a_t | h_t) of the LOGGED action:
                         probability, density, or for a deterministic policy
                         the Gaussian kernel density with `bandwidth` */
  double *dist;       /* (n_steps, A) full distribution, or NULL (discrete
                         only; a scores CSV without prob_* columns) */
  double *act;        /* (n_steps, m) the policy's own action at each row
                         (deterministic continuous policies), or NULL */
  int deterministic;
  double bandwidth;   /* kernel bandwidth used for prob, or 0 */
};

/* Allocate an empty policy shell; impl and ops are set by the caller.
 * Returns NULL on out-of-memory. */
ope_policy *ope_policy_new(const ope_policy_ops *ops, const char *name,
                           ope_action_kind kind, int obs_dim, int n_actions,
                           int action_dim, void *impl, ope_error *err);
/* Destroy p (ops->destroy, then the shell). NULL is a no-op. */
void ope_policy_free(ope_policy *p);

/* Score every row of ds. For continuous deterministic policies `bandwidth`
 * > 0 overrides p->bandwidth (0: use p->bandwidth, which must be > 0).
 * out is filled with freshly allocated arrays (free with
 * ope_policy_scores_clear). Fails with OPE_EDATA when the policy and the
 * dataset do not fit (action kind, counts, widths). */
ope_status ope_policy_score_dataset(const ope_policy *p, const ope_dataset *ds,
                                    double bandwidth, ope_policy_scores *out,
                                    ope_error *err);
void ope_policy_scores_clear(ope_policy_scores *s);

/* Gaussian kernel density at x of an isotropic normal around mu with std h
 * in m dimensions. Computed in log space; never overflows to inf for h > 0. */
double ope_gaussian_kernel(const double *x, const double *mu, int m, double h);

#endif

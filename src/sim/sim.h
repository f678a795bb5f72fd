/* The built-in simulators as seen from the rest of ope: reference policies
 * by name, logged datasets generated under a behavior regime, and the true
 * value of a policy (exact dynamic programming on the tabular environments,
 * rollouts with a confidence interval on all of them).
 *
 * Names. An environment is `ENV[:OPT=VAL]...`, e.g. `cartpole`,
 * `chain:length=100`, `gridworld:slip=0.2`. A reference policy is an
 * environment followed by exactly one regime field, in any position after
 * the environment's name: `cartpole:expert`, `chain:length=50:eps=0.3`,
 * `pendulum:noise=0.2`. Regimes: random, medium, expert, medium-replay,
 * medium-expert, eps=X (discrete actions), noise=X (continuous actions).
 * medium-replay and medium-expert draw one component policy per episode;
 * as evaluation policies their probabilities are those of the per-episode
 * mixture given the episode's history (exact, history-conditioned).
 *
 * Everything samples from explicit RNG streams: episode i of a run with
 * seed S always uses stream (S, i), so results never depend on how many
 * threads did the work. The environments themselves live in env.h. */
#ifndef OPE_SIM_SIM_H
#define OPE_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"
#include "policy/policy.h"

/* Create the reference policy called `name` (see above). *out is owned by
 * the caller (ope_policy_free). OPE_ENOINPUT when the environment is not a
 * built-in one, OPE_EUSAGE when the regime or an option is malformed. */
ope_status ope_sim_policy_new(const char *name, ope_policy **out,
                              ope_error *err);

/* Whether `name` starts with a built-in environment's name followed by ':'
 * (so that callers can tell a reference policy from a stored one). */
int ope_sim_is_reference_name(const char *name);

/* Generate n_episodes episodes of environment `env_spec` under `regime`
 * (e.g. "medium-replay"), seed `seed`; horizon <= 0 means the
 * environment's default time limit. Every row's pscore is the exact
 * probability (discrete) or density (continuous) of the logged action under
 * the policy that generated that episode. *out is owned by the caller. */
ope_status ope_sim_generate(const char *env_spec, const char *regime,
                            size_t n_episodes, uint64_t seed, int horizon,
                            ope_dataset **out, ope_error *err);

/* The same, and with next_obs != 0 the dataset also holds every row's
 * next observation (the state after the step, also after the last step of
 * a truncated episode, so value methods can bootstrap it). */
ope_status ope_sim_generate_ex(const char *env_spec, const char *regime,
                               size_t n_episodes, uint64_t seed, int horizon,
                               int next_obs, ope_dataset **out, ope_error *err);

/* A policy's value under an environment. */
typedef struct ope_sim_value {
  double value;       /* exact value, or the mean discounted return */
  double ci_low;      /* 95% interval (normal approximation over episodes); */
  double ci_high;     /*   equal to value for exact results */
  double std_err;     /* standard error of the mean (0 for exact) */
  size_t episodes;    /* rollouts (0 for exact) */
  double gamma;
  int horizon;
  int exact;          /* 1: dynamic programming, 0: rollouts */
} ope_sim_value;

/* Exact value of policy `p` on the tabular environment `env_spec` from its
 * start state: finite-horizon backward induction over `horizon` steps
 * (<= 0: the environment's default) with discount gamma (< 0: the
 * environment's default). p must be Markov or one of the reference
 * mixtures (a mixture's value is the weighted mean of its components'
 * values). A reference policy acts with its own controller.
 * OPE_EUSAGE when the environment is not tabular. */
ope_status ope_sim_truth_exact(const char *env_spec, const ope_policy *p,
                               double gamma, int horizon, ope_sim_value *out,
                               ope_error *err);

/* Value of p by `episodes` rollouts on `env_spec` with `threads` threads
 * (>= 1); the result is the same for any number of threads. gamma < 0 and
 * horizon <= 0 select the environment's defaults. p must be safe to call
 * from several threads at once (every built-in policy is). */
ope_status ope_sim_truth_rollout(const char *env_spec, const ope_policy *p,
                                 size_t episodes, double gamma, int horizon,
                                 uint64_t seed, int threads, ope_sim_value *out,
                                 ope_error *err);

/* The same with one policy object per thread (per_thread[0..threads-1]),
 * for policies whose calls keep scratch state (e.g. networks with work
 * buffers): thread k only ever calls per_thread[k]. The objects must
 * compute the same numbers; the result is the same for any thread count. */
ope_status ope_sim_truth_rollout_each(const char *env_spec,
                                      const ope_policy *const *per_thread, int threads,
                                      size_t episodes, double gamma, int horizon,
                                      uint64_t seed, ope_sim_value *out,
                                      ope_error *err);

typedef struct ope_store ope_store;

/* Record v as the truth of `policy` on `env_spec` in the store (table
 * truth, with this build's version and the time), seed < 0 when there is
 * none (exact values). A reference policy also gets its row in the policies
 * table (kind 'reference') if it has none. One transaction. */
ope_status ope_sim_truth_put(ope_store *s, const char *policy,
                             const char *env_spec, const ope_sim_value *v,
                             long long seed, ope_error *err);

/* Split a reference policy name into its environment spec (canonical, e.g.
 * "chain:length=100") and its regime ("eps=0.3"). Buffers hold at least
 * 128 bytes. */
ope_status ope_sim_split_name(const char *name, char *env_spec,
                              char *regime, ope_error *err);

#endif

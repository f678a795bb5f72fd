/* Ground truth (sim.h): exact values by backward induction on the tabular
 * environments and rollout means with a confidence interval everywhere.
 *
 * Rollouts: episode i draws from RNG stream (seed, i); the threads fill a
 * per-episode array of discounted returns, summed afterwards in episode
 * order, so the result does not depend on the number of threads. */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "sim/regime.h"

/* A policy's action distribution at every state of a tabular environment,
 * (n_states, A). Only Markov policies qualify. */
static ope_status markov_table(const ope_env *env, const ope_policy *p,
                               const sim_component *c, double *pi, ope_error *err) {
  const sim_refpolicy *rp = sim_refpolicy_of(p);
  double obs[OPE_ENV_MAX_OBS], state[OPE_ENV_MAX_STATE] = {0};
  int A = env->n_actions;
  for (int s = 0; s < env->n_states; s++) {
    state[0] = s;
    env->ops->observe(env, state, obs);
    double *row = pi + (size_t)s * A;
    if (c) {
      sim_component_dist(rp->env, c, obs, row); /* the policy's own controller */
    } else {
      ope_status st = p->ops->dist(p, NULL, obs, row, err);
      if (st != OPE_OK) return st;
    }
  }
  return OPE_OK;
}

ope_status ope_sim_truth_exact(const char *env_spec, const ope_policy *p,
                               double gamma, int horizon, ope_sim_value *out,
                               ope_error *err) {
  ope_env *env = NULL;
  double *pi = NULL;
  memset(out, 0, sizeof *out);
  ope_status st = ope_env_new(env_spec, &env, err);
  if (st != OPE_OK) return st;
  const sim_refpolicy *rp = sim_refpolicy_of(p);
  if (env->n_states == 0) {
    st = ope_error_set(err, OPE_EUSAGE, env_spec,
                       "no exact value: %s is not tabular (use rollouts)", env->name);
    goto done;
  }
  if (p->action_kind != OPE_ACTION_DISCRETE || p->n_actions != env->n_actions ||
      (p->obs_dim && p->obs_dim != env->obs_dim)) {
    st = ope_error_set(err, OPE_EDATA, p->name, "policy does not fit %s", env->spec);
    goto done;
  }
  if (rp == NULL && p->ops->ctx_new) {
    st = ope_error_set(err, OPE_EUSAGE, p->name,
                       "no exact value for a history-dependent policy (use rollouts)");
    goto done;
  }
  if (gamma < 0) gamma = env->gamma;
  if (horizon <= 0) horizon = env->horizon;
  pi = malloc((size_t)env->n_states * env->n_actions * sizeof *pi);
  if (pi == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  /* A per-episode mixture is worth the mean of its components' values. */
  double v = 0.0;
  int n = rp ? rp->regime.n : 1;
  for (int k = 0; k < n && st == OPE_OK; k++) {
    st = markov_table(env, p, rp ? &rp->regime.c[k] : NULL, pi, err);
    double vk = ope_env_tabular_value(env, pi, gamma, horizon);
    if (st == OPE_OK && isnan(vk)) st = ope_error_nomem(err);
    v += (rp ? rp->regime.w[k] : 1.0) * vk;
  }
  if (st != OPE_OK) goto done;
  *out = (ope_sim_value){.value = v, .ci_low = v, .ci_high = v, .gamma = gamma,
                         .horizon = horizon, .exact = 1};
done:
  free(pi);
  ope_env_free(env);
  return st;
}

typedef struct job {
  const ope_env *env;
  const ope_policy *p;
  double gamma;
  int horizon;
  uint64_t seed;
  size_t first, last;  /* episodes [first, last) */
  double *returns;
  ope_status st;
  ope_error err;
} job;

static ope_status rollout(const job *j, size_t e, double *ret, ope_error *err) {
  const ope_env *env = j->env;
  const ope_policy *p = j->p;
  ope_rng rng;
  ope_rng_seed(&rng, j->seed, e);
  double state[OPE_ENV_MAX_STATE], obs[OPE_ENV_MAX_OBS];
  double act[OPE_ENV_MAX_ACTIONS];
  double probs[OPE_ENV_MAX_ACTIONS];
  void *ctx = NULL;
  ope_status st = OPE_OK;
  if (p->ops->ctx_new && (st = p->ops->ctx_new(p, &ctx, err)) != OPE_OK) return st;
  env->ops->reset(env, &rng, state);
  double g = 1.0, total = 0.0;
  for (int t = 0; t < j->horizon; t++) {
    env->ops->observe(env, state, obs);
    int a = 0;
    if (env->action_kind == OPE_ACTION_DISCRETE) {
      if ((st = p->ops->dist(p, ctx, obs, probs, err)) != OPE_OK) break;
      a = ope_rng_categorical(&rng, probs, env->n_actions);
      act[0] = a;
    } else if ((st = p->ops->sample(p, ctx, obs, &rng, act, err)) != OPE_OK) {
      break;
    }
    double r;
    int term = env->ops->step(env, state, a, act, &rng, &r);
    if (p->ops->observe) p->ops->observe(p, ctx, obs, act, r);
    total += g * r;
    g *= j->gamma;
    if (term) break;
  }
  if (p->ops->ctx_free) p->ops->ctx_free(ctx);
  *ret = total;
  return st;
}

static void *run_job(void *arg) {
  job *j = arg;
  for (size_t e = j->first; e < j->last && j->st == OPE_OK; e++)
    j->st = rollout(j, e, &j->returns[e], &j->err);
  return NULL;
}

#define MAX_THREADS 256

ope_status ope_sim_truth_rollout(const char *env_spec, const ope_policy *p,
                                 size_t episodes, double gamma, int horizon,
                                 uint64_t seed, int threads, ope_sim_value *out,
                                 ope_error *err) {
  const ope_policy *same[MAX_THREADS];
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  for (int k = 0; k < threads; k++) same[k] = p;
  return ope_sim_truth_rollout_each(env_spec, same, threads, episodes, gamma, horizon,
                                    seed, out, err);
}

ope_status ope_sim_truth_rollout_each(const char *env_spec,
                                      const ope_policy *const *per_thread, int threads,
                                      size_t episodes, double gamma, int horizon,
                                      uint64_t seed, ope_sim_value *out,
                                      ope_error *err) {
  const ope_policy *p = per_thread[0];
  ope_env *env = NULL;
  double *returns = NULL;
  job *jobs = NULL;
  memset(out, 0, sizeof *out);
  ope_status st = ope_env_new(env_spec, &env, err);
  if (st != OPE_OK) return st;
  if (p->action_kind != env->action_kind ||
      (env->action_kind == OPE_ACTION_DISCRETE ? p->n_actions != env->n_actions
                                               : p->action_dim != env->action_dim) ||
      (p->obs_dim && p->obs_dim != env->obs_dim)) {
    st = ope_error_set(err, OPE_EDATA, p->name, "policy does not fit %s", env->spec);
    goto done;
  }
  if (episodes < 2) {
    st = ope_error_set(err, OPE_EUSAGE, NULL, "rollouts need at least 2 episodes");
    goto done;
  }
  if (gamma < 0) gamma = env->gamma;
  if (horizon <= 0) horizon = env->horizon;
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if ((size_t)threads > episodes) threads = (int)episodes;
  returns = malloc(episodes * sizeof *returns);
  jobs = calloc((size_t)threads, sizeof *jobs);
  if (returns == NULL || jobs == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (int k = 0; k < threads; k++)
    jobs[k] = (job){.env = env, .p = per_thread[k], .gamma = gamma, .horizon = horizon,
                    .seed = seed, .returns = returns,
                    .first = episodes * (size_t)k / (size_t)threads,
                    .last = episodes * (size_t)(k + 1) / (size_t)threads};
  ope_parallel_run(run_job, jobs, sizeof *jobs, threads);
  for (int k = 0; k < threads; k++)
    if (jobs[k].st != OPE_OK) {
      st = jobs[k].st;
      if (err) *err = jobs[k].err;
      goto done;
    }
  /* Mean and unbiased variance in episode order (Welford's update). */
  double mean = 0.0, m2 = 0.0;
  for (size_t e = 0; e < episodes; e++) {
    double d = returns[e] - mean;
    mean += d / (double)(e + 1);
    m2 += d * (returns[e] - mean);
  }
  double se = sqrt(m2 / (double)(episodes - 1) / (double)episodes);
  *out = (ope_sim_value){.value = mean, .ci_low = mean - 1.959963984540054 * se,
                         .ci_high = mean + 1.959963984540054 * se, .std_err = se,
                         .episodes = episodes, .gamma = gamma, .horizon = horizon};
done:
  free(jobs);
  free(returns);
  ope_env_free(env);
  return st;
}

/* `chain`: a corridor of `length` states (default 10) where the optimal
 * policy must walk right for many steps before any reward arrives, in the
 * spirit of the n-chain of Strens (2000). With its long time limit it is
 * the stress case of importance sampling: a trajectory's weight is a
 * product of 100 ratios.
 *
 * States 0..L-1, start 0, observation = the state index. Action 1 (right)
 * moves to s+1 with probability 1 - slip (default 0.1), else stays; in the
 * last state it stays and pays 1. Action 0 (left) returns to state 0 and
 * pays 0.1. No terminal state: episodes end at the time limit, 100 by
 * default. Discount 0.99. The reference controller is the optimal policy
 * for that discount (value iteration): always right. */
#include "sim/env.h"

#include <stdlib.h>

typedef struct chain {
  int *greedy;
} chain;

static void reset(const ope_env *env, ope_rng *rng, double *state) { state[0] = 0; }

static void observe(const ope_env *env, const double *state, double *obs) {
  obs[0] = state[0];
}

static int step(const ope_env *env, double *state, int action, const double *avec,
                ope_rng *rng, double *reward) {
  int s = (int)state[0], last = env->length - 1;
  if (action == 0) {
    state[0] = 0;
    *reward = 0.1;
  } else {
    *reward = s == last ? 1.0 : 0.0;
    if (s < last && !(env->slip > 0 && ope_rng_uniform(rng) < env->slip)) state[0] = s + 1;
  }
  return 0;
}

static int outcomes(const ope_env *env, int s, int action, ope_env_outcome *out) {
  int last = env->length - 1;
  if (action == 0) {
    out[0] = (ope_env_outcome){.next = 0, .prob = 1.0, .reward = 0.1, .terminal = 0};
    return 1;
  }
  if (s == last) {
    out[0] = (ope_env_outcome){.next = s, .prob = 1.0, .reward = 1.0, .terminal = 0};
    return 1;
  }
  out[0] = (ope_env_outcome){.next = s + 1, .prob = 1.0 - env->slip, .reward = 0.0, .terminal = 0};
  out[1] = (ope_env_outcome){.next = s, .prob = env->slip, .reward = 0.0, .terminal = 0};
  return 2;
}

static int state_of(const ope_env *env, const double *obs) {
  int s = (int)obs[0];
  return (s < 0 || s >= env->length || s != obs[0]) ? -1 : s;
}

static int control(const ope_env *env, const double *obs, double *avec) {
  int s = state_of(env, obs);
  return s < 0 ? 1 : ((const chain *)env->impl)->greedy[s];
}

static void destroy(ope_env *env) {
  chain *c = env->impl;
  if (c) free(c->greedy);
  free(c);
}

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
  .outcomes = outcomes, .state_of = state_of, .destroy = destroy,
};

ope_status ope_env_chain_init(ope_env *env, ope_error *err) {
  chain *c = calloc(1, sizeof *c);
  if (c == NULL || (c->greedy = calloc((size_t)env->length, sizeof *c->greedy)) == NULL) {
    free(c);
    return ope_error_nomem(err);
  }
  env->ops = &ops;
  env->impl = c;
  env->action_kind = OPE_ACTION_DISCRETE;
  env->state_dim = 1;
  env->obs_dim = 1;
  env->n_actions = 2;
  env->action_dim = 1;
  env->horizon = 100;
  env->gamma = 0.99;
  env->n_states = env->length;
  env->start_state = 0;
  env->expert_knob = 0.05;
  env->medium_knob = 0.4;
  ope_env_tabular_optimal(env, c->greedy);
  return OPE_OK;
}

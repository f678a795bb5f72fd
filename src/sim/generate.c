/* Logged datasets from the simulators (sim.h: ope_sim_generate).
 *
 * Episode i uses RNG stream (seed, i) for everything: the mixture
 * component, the initial state, the actions and the dynamics, in that
 * order. Rows grow in plain arrays (doubling) and are copied once into the
 * ope_dataset at the end, when the number of steps is known. */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"
#include "sim/regime.h"

typedef struct rows {
  size_t n, cap;
  int obs_dim, action_dim, with_next;
  double *obs, *next_obs, *avec, *reward, *pscore;
  int32_t *action;
  uint8_t *terminal;
} rows;

static int rows_grow(rows *r, int discrete) {
  size_t cap = r->cap ? 2 * r->cap : 4096;
  double *obs = realloc(r->obs, cap * (size_t)r->obs_dim * sizeof *obs);
  if (obs) r->obs = obs;
  double *reward = realloc(r->reward, cap * sizeof *reward);
  if (reward) r->reward = reward;
  double *pscore = realloc(r->pscore, cap * sizeof *pscore);
  if (pscore) r->pscore = pscore;
  uint8_t *terminal = realloc(r->terminal, cap);
  if (terminal) r->terminal = terminal;
  int ok = obs && reward && pscore && terminal;
  if (r->with_next) {
    double *next = realloc(r->next_obs, cap * (size_t)r->obs_dim * sizeof *next);
    if (next) r->next_obs = next;
    ok = ok && next;
  }
  if (discrete) {
    int32_t *action = realloc(r->action, cap * sizeof *action);
    if (action) r->action = action;
    ok = ok && action;
  } else {
    double *avec = realloc(r->avec, cap * (size_t)r->action_dim * sizeof *avec);
    if (avec) r->avec = avec;
    ok = ok && avec;
  }
  if (ok) r->cap = cap;
  return ok;
}

static void rows_free(rows *r) {
  free(r->obs);
  free(r->next_obs);
  free(r->avec);
  free(r->reward);
  free(r->pscore);
  free(r->action);
  free(r->terminal);
}

/* One episode appended to r; returns 0 when out of memory. */
static int run_episode(const ope_env *env, const sim_regime *reg, int horizon,
                       ope_rng *rng, rows *r) {
  int discrete = env->action_kind == OPE_ACTION_DISCRETE;
  int d = env->obs_dim, m = env->action_dim;
  int k = reg->n == 1 ? 0 : ope_rng_categorical(rng, reg->w, reg->n);
  const sim_component *c = &reg->c[k];
  double state[OPE_ENV_MAX_STATE], mean[OPE_ENV_MAX_ACTIONS], probs[OPE_ENV_MAX_ACTIONS];
  int target = -1;
  int maze = strcmp(env->name, "pointmaze") == 0;
  if (maze) {
    /* Start anywhere but the goal; aim at most half the corridor away. */
    int n = ope_pointmaze_n_cells(env), half = n / 2;
    int start = (int)ope_rng_below(rng, (uint64_t)(n - 1));
    int lo = start - half < 0 ? 0 : start - half;
    int hi = start + half > n - 1 ? n - 1 : start + half;
    target = lo + (int)ope_rng_below(rng, (uint64_t)(hi - lo));
    if (target >= start) target++;
    ope_pointmaze_reset_at(env, start, rng, state);
  } else {
    env->ops->reset(env, rng, state);
  }
  for (int t = 0; t < horizon; t++) {
    if (r->n == r->cap && !rows_grow(r, discrete)) return 0;
    size_t i = r->n++;
    double *obs = r->obs + i * (size_t)d;
    env->ops->observe(env, state, obs);
    int a = 0;
    double *av = discrete ? NULL : r->avec + i * (size_t)m;
    if (discrete) {
      sim_component_dist(env, c, obs, probs);
      a = ope_rng_categorical(rng, probs, env->n_actions);
      r->action[i] = a;
      r->pscore[i] = probs[a];
    } else {
      if (maze) ope_pointmaze_control_to(env, obs, target, mean);
      else env->ops->control(env, obs, mean);
      r->pscore[i] = sim_component_sample(env, c, mean, rng, av);
    }
    int term = env->ops->step(env, state, a, av, rng, &r->reward[i]);
    r->terminal[i] = (uint8_t)term;
    if (r->with_next) env->ops->observe(env, state, r->next_obs + i * (size_t)d);
    if (term) break;
  }
  return 1;
}

ope_status ope_sim_generate(const char *env_spec, const char *regime,
                            size_t n_episodes, uint64_t seed, int horizon,
                            ope_dataset **out, ope_error *err) {
  return ope_sim_generate_ex(env_spec, regime, n_episodes, seed, horizon, 0, out, err);
}

ope_status ope_sim_generate_ex(const char *env_spec, const char *regime,
                               size_t n_episodes, uint64_t seed, int horizon,
                               int next_obs, ope_dataset **out, ope_error *err) {
  *out = NULL;
  ope_env *env = NULL;
  rows r = {0};
  size_t *ep_end = NULL;
  ope_dataset *ds = NULL;
  sim_regime reg;
  ope_status st = ope_env_new(env_spec, &env, err);
  if (st != OPE_OK) return st;
  /* Every field after the name must be an option of this environment. */
  for (const char *f = strchr(env_spec, ':'); f; f = strchr(f + 1, ':'))
    if (!ope_env_is_option(env, f + 1)) {
      st = ope_error_set(err, OPE_EUSAGE, env_spec, "'%.*s' is not an option of %s",
                         (int)strcspn(f + 1, ":"), f + 1, env->name);
      goto done;
    }
  if ((st = sim_regime_parse(env, regime, &reg, err)) != OPE_OK) goto done;
  if (horizon <= 0) horizon = env->horizon;
  int discrete = env->action_kind == OPE_ACTION_DISCRETE;
  r.obs_dim = env->obs_dim;
  r.action_dim = env->action_dim;
  r.with_next = next_obs != 0;
  ep_end = malloc((n_episodes + 1) * sizeof *ep_end);
  if (ep_end == NULL) goto nomem;
  for (size_t e = 0; e < n_episodes; e++) {
    ope_rng rng;
    ope_rng_seed(&rng, seed, e);
    if (!run_episode(env, &reg, horizon, &rng, &r)) goto nomem;
    ep_end[e] = r.n;
  }
  ds = ope_dataset_alloc(n_episodes, r.n, env->obs_dim, env->action_kind,
                         env->n_actions, env->action_dim, r.with_next, 1, err);
  if (ds == NULL) {
    st = err ? err->status : OPE_EINTERNAL;
    goto done;
  }
  size_t n = r.n;
  memcpy(ds->obs, r.obs, n * (size_t)env->obs_dim * sizeof *ds->obs);
  if (r.with_next) memcpy(ds->next_obs, r.next_obs, n * (size_t)env->obs_dim * sizeof *ds->next_obs);
  if (discrete) memcpy(ds->action, r.action, n * sizeof *ds->action);
  else memcpy(ds->action_vec, r.avec, n * (size_t)env->action_dim * sizeof *ds->action_vec);
  memcpy(ds->reward, r.reward, n * sizeof *ds->reward);
  memcpy(ds->pscore, r.pscore, n * sizeof *ds->pscore);
  memcpy(ds->terminal, r.terminal, n);
  ds->ep_offset[0] = 0;
  for (size_t e = 0; e < n_episodes; e++) {
    char label[OPE_NUMFMT_MAX];
    ds->ep_offset[e + 1] = ep_end[e];
    ope_numfmt_int(label, (long long)e);
    if ((ds->ep_label[e] = strdup(label)) == NULL) goto nomem;
  }
  *out = ds;
  ds = NULL;
  goto done;
nomem:
  st = ope_error_nomem(err);
done:
  ope_dataset_free(ds);
  free(ep_end);
  rows_free(&r);
  ope_env_free(env);
  return st;
}

/* Reference policies of the simulators (sim.h, regime.h): regimes parsed
 * from names, their components' exact probabilities and densities, and the
 * ope_policy implementation.
 *
 * A per-episode mixture sum_k w_k pi_k evaluated as a policy is history
 * dependent: given the episode so far h_t, the probability of a_t is
 * sum_k w_k(h_t) pi_k(a_t | s_t) with posterior weights
 * w_k(h_t) proportional to w_k prod_{u<t} pi_k(a_u | s_u) (Bayes' rule).
 * The per-episode context holds the log of those products. Sampling from
 * the posterior predictive at every step draws the same episodes as
 * drawing one component up front. */
#include "sim/regime.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static ope_status parse_knob(const char *name, const char *val, double lo,
                             double hi, int lo_open, double *out, ope_error *err) {
  char *end;
  errno = 0;
  double x = strtod(val, &end);
  if (errno || end == val || *end || !(lo_open ? x > lo : x >= lo) || !(x <= hi))
    return ope_error_set(err, OPE_EUSAGE, name, "'%s' is not in %s%g, %g]", val,
                         lo_open ? "(" : "[", lo, hi);
  *out = x;
  return OPE_OK;
}

ope_status sim_regime_parse(const ope_env *env, const char *name,
                            sim_regime *out, ope_error *err) {
  int discrete = env->action_kind == OPE_ACTION_DISCRETE;
  double m = env->medium_knob, e = env->expert_knob;
  memset(out, 0, sizeof *out);
  out->n = 1;
  out->w[0] = 1.0;
  if (strcmp(name, "random") == 0) {
    out->c[0].random = 1;
    out->c[0].knob = 1.0;
  } else if (strcmp(name, "medium") == 0) {
    out->c[0].knob = m;
  } else if (strcmp(name, "expert") == 0) {
    out->c[0].knob = e;
  } else if (strcmp(name, "medium-replay") == 0) {
    /* The random-to-medium stretch of a learner's replay buffer. */
    out->n = 3;
    out->c[0] = (sim_component){.random = 1, .knob = 1.0};
    out->c[1].knob = discrete ? (1.0 + m) / 2.0 : 2.0 * m;
    out->c[2].knob = m;
    out->w[0] = out->w[1] = out->w[2] = 1.0 / 3.0;
  } else if (strcmp(name, "medium-expert") == 0) {
    out->n = 2;
    out->c[0].knob = m;
    out->c[1].knob = e;
    out->w[0] = out->w[1] = 0.5;
  } else if (strncmp(name, "eps=", 4) == 0) {
    if (!discrete)
      return ope_error_set(err, OPE_EUSAGE, name,
                           "%s has continuous actions: use noise=X", env->name);
    ope_status st = parse_knob(name, name + 4, 0.0, 1.0, 0, &out->c[0].knob, err);
    if (st != OPE_OK) return st;
    out->c[0].random = out->c[0].knob == 1.0;
  } else if (strncmp(name, "noise=", 6) == 0) {
    if (discrete)
      return ope_error_set(err, OPE_EUSAGE, name,
                           "%s has discrete actions: use eps=X", env->name);
    /* Below 1e-6 the density of a logged action could overflow. */
    return parse_knob(name, name + 6, 1e-6, 100.0, 0, &out->c[0].knob, err);
  } else {
    return ope_error_set(err, OPE_EUSAGE, name,
                         "unknown regime (random, medium, expert, medium-replay, "
                         "medium-expert, %s)", discrete ? "eps=X" : "noise=X");
  }
  return OPE_OK;
}

void sim_component_dist(const ope_env *env, const sim_component *c,
                        const double *obs, double *probs) {
  int A = env->n_actions;
  double eps = c->random ? 1.0 : c->knob;
  int best = c->random ? 0 : env->ops->control(env, obs, NULL);
  for (int a = 0; a < A; a++) probs[a] = eps / A;
  if (!c->random) probs[best] += 1.0 - eps;
}

static double box_density(const ope_env *env, const double *a) {
  double w = env->action_high - env->action_low, d = 1.0;
  for (int j = 0; j < env->action_dim; j++) {
    if (a[j] < env->action_low || a[j] > env->action_high) return 0.0;
    d /= w;
  }
  return d;
}

double sim_component_density(const ope_env *env, const sim_component *c,
                             const double *mean, const double *a) {
  if (c->random) return box_density(env, a);
  double s = c->knob, q = 0.0;
  for (int j = 0; j < env->action_dim; j++) {
    double z = (a[j] - mean[j]) / s;
    q += z * z;
  }
  return exp(-0.5 * q - env->action_dim * log(s * sqrt(2.0 * M_PI)));
}

double sim_component_sample(const ope_env *env, const sim_component *c,
                            const double *mean, ope_rng *rng, double *a) {
  for (int j = 0; j < env->action_dim; j++)
    a[j] = c->random ? env->action_low + (env->action_high - env->action_low) *
                                             ope_rng_uniform(rng)
                     : mean[j] + c->knob * ope_rng_normal(rng);
  return sim_component_density(env, c, mean, a);
}

/* ---- the ope_policy implementation ---- */

typedef struct mix_ctx {
  double logw[SIM_MAX_COMPONENTS]; /* log prod_u pi_k(a_u | s_u) */
} mix_ctx;

static const ope_policy_ops refpolicy_ops;

const sim_refpolicy *sim_refpolicy_of(const ope_policy *p) {
  return p && p->ops == &refpolicy_ops ? p->impl : NULL;
}

/* Posterior component weights given ctx (prior weights when ctx is NULL). */
static void posterior(const sim_refpolicy *rp, const mix_ctx *ctx, double *w) {
  const sim_regime *r = &rp->regime;
  double top = -HUGE_VAL, sum = 0.0;
  for (int k = 0; k < r->n; k++)
    if (ctx && ctx->logw[k] > top) top = ctx->logw[k];
  for (int k = 0; k < r->n; k++) {
    w[k] = r->w[k] * (ctx && isfinite(top) ? exp(ctx->logw[k] - top) : 1.0);
    sum += w[k];
  }
  for (int k = 0; k < r->n; k++) w[k] /= sum;
}

static ope_status ctx_new(const ope_policy *p, void **ctx, ope_error *err) {
  const sim_refpolicy *rp = p->impl;
  *ctx = NULL;
  if (rp->regime.n == 1) return OPE_OK;
  if ((*ctx = calloc(1, sizeof(mix_ctx))) == NULL) return ope_error_nomem(err);
  return OPE_OK;
}

static void ctx_free(void *ctx) { free(ctx); }

static ope_status dist(const ope_policy *p, void *ctx, const double *obs,
                       double *probs, ope_error *err) {
  const sim_refpolicy *rp = p->impl;
  double w[SIM_MAX_COMPONENTS], pk[OPE_ENV_MAX_ACTIONS];
  int A = rp->env->n_actions;
  posterior(rp, ctx, w);
  for (int a = 0; a < A; a++) probs[a] = 0.0;
  for (int k = 0; k < rp->regime.n; k++) {
    sim_component_dist(rp->env, &rp->regime.c[k], obs, pk);
    for (int a = 0; a < A; a++) probs[a] += w[k] * pk[a];
  }
  return OPE_OK;
}

static ope_status sample(const ope_policy *p, void *ctx, const double *obs,
                         ope_rng *rng, double *action, ope_error *err) {
  const sim_refpolicy *rp = p->impl;
  double w[SIM_MAX_COMPONENTS], mean[OPE_ENV_MAX_ACTIONS];
  posterior(rp, ctx, w);
  int k = rp->regime.n == 1 ? 0 : ope_rng_categorical(rng, w, rp->regime.n);
  rp->env->ops->control(rp->env, obs, mean);
  sim_component_sample(rp->env, &rp->regime.c[k], mean, rng, action);
  return OPE_OK;
}

static ope_status density(const ope_policy *p, void *ctx, const double *obs,
                          const double *action, double *dens, ope_error *err) {
  const sim_refpolicy *rp = p->impl;
  double w[SIM_MAX_COMPONENTS], mean[OPE_ENV_MAX_ACTIONS];
  posterior(rp, ctx, w);
  rp->env->ops->control(rp->env, obs, mean);
  *dens = 0.0;
  for (int k = 0; k < rp->regime.n; k++)
    *dens += w[k] * sim_component_density(rp->env, &rp->regime.c[k], mean, action);
  return OPE_OK;
}

static void observe(const ope_policy *p, void *ctx, const double *obs,
                    const double *action, double reward) {
  const sim_refpolicy *rp = p->impl;
  mix_ctx *mc = ctx;
  if (mc == NULL) return;
  double lik[SIM_MAX_COMPONENTS], any = 0.0;
  if (rp->env->action_kind == OPE_ACTION_DISCRETE) {
    double pk[OPE_ENV_MAX_ACTIONS];
    int a = (int)action[0];
    for (int k = 0; k < rp->regime.n; k++) {
      sim_component_dist(rp->env, &rp->regime.c[k], obs, pk);
      lik[k] = a >= 0 && a < rp->env->n_actions ? pk[a] : 0.0;
    }
  } else {
    double mean[OPE_ENV_MAX_ACTIONS];
    rp->env->ops->control(rp->env, obs, mean);
    for (int k = 0; k < rp->regime.n; k++)
      lik[k] = sim_component_density(rp->env, &rp->regime.c[k], mean, action);
  }
  for (int k = 0; k < rp->regime.n; k++) any += lik[k];
  if (!(any > 0)) return; /* impossible under every component: no evidence */
  for (int k = 0; k < rp->regime.n; k++) mc->logw[k] += log(lik[k]);
}

static void destroy(ope_policy *p) {
  sim_refpolicy *rp = p->impl;
  if (rp) ope_env_free(rp->env);
  free(rp);
}

static const ope_policy_ops refpolicy_ops = {
  .ctx_new = ctx_new, .ctx_free = ctx_free, .dist = dist, .sample = sample,
  .density = density, .observe = observe, .destroy = destroy,
};

/* ---- names ---- */

int ope_sim_is_reference_name(const char *name) {
  size_t n = strcspn(name, ":");
  if (name[n] != ':') return 0;
  for (int i = 0; ope_env_names[i]; i++)
    if (strlen(ope_env_names[i]) == n && strncmp(name, ope_env_names[i], n) == 0) return 1;
  return 0;
}

/* Create the environment of name and find its single regime field. */
static ope_status split(const char *name, ope_env **env, char *regime,
                        ope_error *err) {
  ope_status st = ope_env_new(name, env, err);
  if (st != OPE_OK) return st;
  int found = 0;
  for (const char *f = name + strcspn(name, ":"); *f == ':';) {
    f++;
    size_t len = strcspn(f, ":");
    char field[128];
    if (len == 0 || len >= sizeof field) {
      found = -1;
      break;
    }
    memcpy(field, f, len);
    field[len] = '\0';
    if (!ope_env_is_option(*env, field)) {
      if (found++) break;
      memcpy(regime, field, len + 1);
    }
    f += len;
  }
  if (found != 1) {
    ope_env_free(*env);
    *env = NULL;
    return ope_error_set(err, OPE_EUSAGE, name,
                         found == 0 ? "no regime (e.g. %s:expert)"
                                    : "a reference policy is ENV[:OPTION=VALUE]...:REGIME "
                                      "with exactly one regime (%s)",
                         name);
  }
  return OPE_OK;
}

ope_status ope_sim_split_name(const char *name, char *env_spec, char *regime,
                              ope_error *err) {
  ope_env *env = NULL;
  ope_status st = split(name, &env, regime, err);
  if (st != OPE_OK) return st;
  memcpy(env_spec, env->spec, sizeof env->spec);
  ope_env_free(env);
  return OPE_OK;
}

ope_status ope_sim_policy_new(const char *name, ope_policy **out, ope_error *err) {
  *out = NULL;
  char regime[128];
  sim_refpolicy *rp = calloc(1, sizeof *rp);
  if (rp == NULL) return ope_error_nomem(err);
  ope_status st = split(name, &rp->env, regime, err);
  if (st == OPE_OK) st = sim_regime_parse(rp->env, regime, &rp->regime, err);
  if (st != OPE_OK) goto fail;
  const ope_env *env = rp->env;
  *out = ope_policy_new(&refpolicy_ops, name, env->action_kind, env->obs_dim,
                        env->n_actions, env->action_dim, rp, err);
  if (*out == NULL) {
    st = OPE_EINTERNAL;
    goto fail;
  }
  return OPE_OK;
fail:
  ope_env_free(rp->env);
  free(rp);
  return st;
}

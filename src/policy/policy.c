/* Policy shells and the generic dataset scorer (policy.h). */
#include "policy/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ope_policy *ope_policy_new(const ope_policy_ops *ops, const char *name,
                           ope_action_kind kind, int obs_dim, int n_actions,
                           int action_dim, void *impl, ope_error *err) {
  ope_policy *p = calloc(1, sizeof *p);
  if (p == NULL || (p->name = strdup(name ? name : "")) == NULL) {
    free(p);
    ope_error_nomem(err);
    return NULL;
  }
  p->ops = ops;
  p->action_kind = kind;
  p->obs_dim = obs_dim;
  p->n_actions = kind == OPE_ACTION_DISCRETE ? n_actions : 0;
  p->action_dim = kind == OPE_ACTION_DISCRETE ? 1 : action_dim;
  p->impl = impl;
  return p;
}

void ope_policy_free(ope_policy *p) {
  if (p == NULL) return;
  if (p->ops && p->ops->destroy) p->ops->destroy(p);
  free(p->name);
  free(p);
}

void ope_policy_scores_clear(ope_policy_scores *s) {
  if (s == NULL) return;
  free(s->prob);
  free(s->dist);
  free(s->act);
  memset(s, 0, sizeof *s);
}

double ope_gaussian_kernel(const double *x, const double *mu, int m, double h) {
  double q = 0.0;
  for (int j = 0; j < m; j++) {
    double z = (x[j] - mu[j]) / h;
    q += z * z;
  }
  double logd = -0.5 * q - m * (log(h) + 0.5 * log(2.0 * M_PI));
  return exp(logd);
}

static ope_status check_fit(const ope_policy *p, const ope_dataset *ds,
                            ope_error *err) {
  if (p->action_kind != ds->action_kind)
    return ope_error_set(err, OPE_EDATA, p->name,
                         "policy has %s actions but dataset has %s actions",
                         p->action_kind == OPE_ACTION_DISCRETE ? "discrete" : "continuous",
                         ds->action_kind == OPE_ACTION_DISCRETE ? "discrete" : "continuous");
  if (p->action_kind == OPE_ACTION_DISCRETE && p->n_actions != ds->n_actions)
    return ope_error_set(err, OPE_EDATA, p->name,
                         "policy has %d actions but dataset has %d",
                         p->n_actions, ds->n_actions);
  if (p->action_kind == OPE_ACTION_CONTINUOUS && p->action_dim != ds->action_dim)
    return ope_error_set(err, OPE_EDATA, p->name,
                         "policy has action width %d but dataset has %d",
                         p->action_dim, ds->action_dim);
  if (p->obs_dim != 0 && p->obs_dim != ds->obs_dim)
    return ope_error_set(err, OPE_EDATA, p->name,
                         "policy expects %d observation columns but dataset has %d",
                         p->obs_dim, ds->obs_dim);
  return OPE_OK;
}

ope_status ope_policy_score_dataset(const ope_policy *p, const ope_dataset *ds,
                                    double bandwidth, ope_policy_scores *out,
                                    ope_error *err) {
  memset(out, 0, sizeof *out);
  ope_status st = check_fit(p, ds, err);
  if (st != OPE_OK) return st;
  if (p->ops->score) {
    st = p->ops->score(p, ds, out, err);
    /* A fast path scores with the policy's own bandwidth; a caller's
     * bandwidth re-derives the kernel densities from its actions. */
    if (st == OPE_OK && out->deterministic && out->act && bandwidth > 0 &&
        bandwidth != out->bandwidth) {
      int m = ds->action_dim;
      for (size_t t = 0; t < ds->n_steps; t++)
        out->prob[t] = ope_gaussian_kernel(ds->action_vec + t * (size_t)m,
                                           out->act + t * (size_t)m, m, bandwidth);
      out->bandwidth = bandwidth;
    }
    return st;
  }

  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  int A = ds->n_actions, m = ds->action_dim, d = ds->obs_dim;
  double h = bandwidth > 0 ? bandwidth : p->bandwidth;
  if (!discrete && p->deterministic && !(h > 0))
    return ope_error_set(err, OPE_EUSAGE, p->name,
                         "deterministic policy needs a kernel bandwidth > 0");
  out->n_steps = ds->n_steps;
  out->n_actions = discrete ? A : 0;
  out->action_dim = m;
  out->deterministic = !discrete && p->deterministic;
  out->bandwidth = out->deterministic ? h : 0.0;
  size_t n = ds->n_steps ? ds->n_steps : 1;
  out->prob = malloc(n * sizeof(double));
  if (discrete) out->dist = malloc(n * (size_t)A * sizeof(double));
  else out->act = malloc(n * (size_t)m * sizeof(double));
  if (out->prob == NULL || (discrete ? out->dist == NULL : out->act == NULL)) {
    ope_policy_scores_clear(out);
    return ope_error_nomem(err);
  }
  if (!discrete && !p->deterministic) {
    free(out->act);
    out->act = NULL;
  }
  for (size_t e = 0; e < ds->n_episodes && st == OPE_OK; e++) {
    void *ctx = NULL;
    if (p->ops->ctx_new && (st = p->ops->ctx_new(p, &ctx, err)) != OPE_OK) break;
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      const double *obs = ds->obs + t * (size_t)d;
      double a_d;
      const double *a;
      if (discrete) {
        double *pr = out->dist + t * (size_t)A;
        if ((st = p->ops->dist(p, ctx, obs, pr, err)) != OPE_OK) break;
        out->prob[t] = pr[ds->action[t]];
        a_d = ds->action[t];
        a = &a_d;
      } else {
        a = ds->action_vec + t * (size_t)m;
        if (p->deterministic) {
          double *mu = out->act + t * (size_t)m;
          if ((st = p->ops->sample(p, ctx, obs, NULL, mu, err)) != OPE_OK) break;
          out->prob[t] = ope_gaussian_kernel(a, mu, m, h);
        } else if ((st = p->ops->density(p, ctx, obs, a, &out->prob[t], err)) != OPE_OK) {
          break;
        }
      }
      if (p->ops->observe) p->ops->observe(p, ctx, obs, a, ds->reward[t]);
    }
    if (p->ops->ctx_free) p->ops->ctx_free(ctx);
  }
  if (st != OPE_OK) ope_policy_scores_clear(out);
  return st;
}

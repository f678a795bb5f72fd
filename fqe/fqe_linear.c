/* Linear FQE / LSTD-Q (fqe_linear.h): features, the policy's expected
 * features at current and next states, the normal equations and their
 * solve. */
#include "fqe/fqe_linear.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fqe/fqe_model.h"

struct ope_fqe_linear {
  ope_action_kind kind;
  int d, A, m, k;      /* obs width, actions, action width, features */
  double *w;           /* (k) weights */
  int samples;         /* draws per mean action (stochastic continuous) */
  uint64_t seed;
  int defined;
  char why[256];
};

void ope_fqe_linear_free(ope_fqe_linear *m) {
  if (m == NULL) return;
  free(m->w);
  free(m);
}

const double *ope_fqe_linear_weights(const ope_fqe_linear *m, int *k) {
  if (k) *k = m->k;
  return m->w;
}

/* phi(s, .) into f (k values). Discrete: `u` is a probability vector over
 * actions (one-hot for a logged action), giving E_u phi(s,a). Continuous:
 * `u` is an action vector (the mean action for an expectation). */
static void features(const ope_fqe_linear *m, const double *s, const double *u,
                     double *f) {
  if (m->kind == OPE_ACTION_DISCRETE) {
    size_t blk = (size_t)m->d + 1;
    for (int a = 0; a < m->A; a++) {
      double *fa = f + (size_t)a * blk;
      fa[0] = u[a];
      for (int j = 0; j < m->d; j++) fa[1 + j] = u[a] * s[j];
    }
    return;
  }
  size_t o = 0;
  f[o++] = 1.0;
  for (int j = 0; j < m->d; j++) f[o++] = s[j];
  for (int c = 0; c < m->m; c++) f[o++] = u[c];
  for (int j = 0; j < m->d; j++)
    for (int c = 0; c < m->m; c++) f[o++] = s[j] * u[c];
}

/* Mean of m->samples actions of pi at obs (one for deterministic ones). */
static ope_status mean_action(const ope_fqe_linear *m, const ope_policy *pi,
                              void *ctx, const double *obs, uint64_t stream,
                              double *tmp, double *out, ope_error *err) {
  ope_rng rng;
  ope_rng_seed(&rng, m->seed, stream);
  int K = pi->deterministic ? 1 : m->samples;
  for (int c = 0; c < m->m; c++) out[c] = 0.0;
  for (int s = 0; s < K; s++) {
    ope_status st = pi->ops->sample(pi, ctx, obs, &rng, tmp, err);
    if (st != OPE_OK) return st;
    for (int c = 0; c < m->m; c++) out[c] += tmp[c] / K;
  }
  return OPE_OK;
}

/* The policy's "u" (see features) at every row's state (cur, n_steps x U)
 * and at every row's next state (nxt, n_steps x U; untouched where the row
 * has no next state), walking each episode through the policy's history
 * context where the policy is needed. U = A (discrete) or m. */
static ope_status policy_u(const ope_fqe_linear *m, const ope_dataset *ds,
                           const ope_policy *pi, const ope_policy_scores *sc,
                           double *cur, double *nxt, ope_error *err) {
  const int discrete = m->kind == OPE_ACTION_DISCRETE;
  const size_t U = discrete ? (size_t)m->A : (size_t)m->m, N = ds->n_steps;
  const size_t d = (size_t)m->d;
  int have_pi = pi != NULL && pi->ops != NULL &&
                (discrete ? pi->ops->dist != NULL : pi->ops->sample != NULL);
  double tmp[OPE_MAX_ACTION_DIM];
  ope_status st = OPE_OK;
  for (size_t e = 0; e < ds->n_episodes && st == OPE_OK; e++) {
    void *ctx = NULL;
    if (have_pi && pi->ops->ctx_new && (st = pi->ops->ctx_new(pi, &ctx, err)) != OPE_OK)
      break;
    size_t end = ds->ep_offset[e + 1];
    for (size_t t = ds->ep_offset[e]; t < end && st == OPE_OK; t++) {
      const double *s = ds->obs + t * d;
      double *c = cur + t * U, *n = nxt + t * U;
      if (discrete) memcpy(c, sc->dist + t * U, U * sizeof *c);
      else if (sc->act) memcpy(c, sc->act + t * U, U * sizeof *c);
      else if ((st = mean_action(m, pi, ctx, s, t, tmp, c, err)) != OPE_OK) break;
      if (have_pi && pi->ops->observe) {
        double a = discrete ? (double)ds->action[t] : 0.0;
        pi->ops->observe(pi, ctx, s, discrete ? &a : ds->action_vec + t * U,
                         ds->reward[t]);
      }
      const double *nx = NULL;
      if (!ope_dataset_next(ds, e, t, &nx)) continue;
      if (t + 1 < end && (discrete || sc->act)) {
        memcpy(n, (discrete ? sc->dist : sc->act) + (t + 1) * U, U * sizeof *n);
      } else if (have_pi) {
        st = discrete ? pi->ops->dist(pi, ctx, nx, n, err)
                      : mean_action(m, pi, ctx, nx, N + t, tmp, n, err);
      } else {
        memcpy(n, c, U * sizeof *n); /* stand-in: the row's own */
      }
    }
    if (ctx && pi->ops->ctx_free) pi->ops->ctx_free(ctx);
  }
  return st;
}

static ope_status check_policy(const ope_dataset *ds, const ope_policy *pi,
                               const ope_policy_scores *sc, ope_error *err) {
  if (sc == NULL || sc->n_steps != ds->n_steps)
    return ope_error_set(err, OPE_EUSAGE, "fqe linear",
                         "the evaluation policy's scores do not match the dataset");
  if (ds->action_kind == OPE_ACTION_DISCRETE && sc->dist == NULL)
    return ope_error_set(err, OPE_EUSAGE, "fqe linear",
                         "FQE needs the evaluation policy's full action "
                         "distribution on every row (prob_* columns)");
  if (ds->action_kind == OPE_ACTION_CONTINUOUS && sc->act == NULL &&
      (pi == NULL || pi->ops == NULL || pi->ops->sample == NULL))
    return ope_error_set(err, OPE_EUSAGE, "fqe linear",
                         "linear FQE with continuous actions needs a policy "
                         "that can sample actions");
  return OPE_OK;
}

ope_status ope_fqe_linear_fit(const ope_dataset *ds, const ope_policy *pi,
                              const ope_policy_scores *sc,
                              const ope_fqe_config *cfg, ope_fqe_linear **out,
                              ope_error *err) {
  *out = NULL;
  ope_status st = check_policy(ds, pi, sc, err);
  if (st != OPE_OK) return st;
  if (!(cfg->ridge >= 0.0) || !(cfg->gamma >= 0.0 && cfg->gamma <= 1.0))
    return ope_error_set(err, OPE_EUSAGE, "fqe linear",
                         "ridge must be >= 0 and the discount in [0, 1]");
  ope_fqe_linear *m = calloc(1, sizeof *m);
  if (m == NULL) return ope_error_nomem(err);
  m->kind = ds->action_kind;
  m->d = ds->obs_dim;
  m->A = ds->n_actions;
  m->m = ds->action_dim;
  m->samples = cfg->action_samples > 0 ? cfg->action_samples : 16;
  m->seed = cfg->seed;
  m->defined = 1;
  const int discrete = m->kind == OPE_ACTION_DISCRETE;
  m->k = discrete ? m->A * (m->d + 1) : 1 + m->d + m->m + m->d * m->m;
  const size_t k = (size_t)m->k, N = ds->n_steps;
  const size_t U = discrete ? (size_t)m->A : (size_t)m->m, d = (size_t)m->d;
  double *cur = calloc(N * U + 1, sizeof *cur), *nxt = calloc(N * U + 1, sizeof *nxt);
  double *A = calloc(k * k, sizeof *A), *b = calloc(k, sizeof *b);
  double *f = malloc(k * sizeof *f), *fn = malloc(k * sizeof *fn);
  double *onehot = calloc(U, sizeof *onehot);
  gsl_permutation *perm = gsl_permutation_alloc(k);
  m->w = calloc(k, sizeof *m->w);
  if (!cur || !nxt || !A || !b || !f || !fn || !onehot || !perm || !m->w) {
    st = ope_error_nomem(err);
    goto done;
  }
  if ((st = policy_u(m, ds, pi, sc, cur, nxt, err)) != OPE_OK) goto done;

  /* LSTD-Q accumulation (Lagoudakis & Parr 2003, Fig. 5) over the rows
   * that give a target (the last row of a truncated episode without
   * next_obs gives none). */
  size_t n_target = 0;
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++)
      n_target += ds->terminal[t] || ope_dataset_next(ds, e, t, NULL);
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      const double *nx = NULL;
      int has_next = ope_dataset_next(ds, e, t, &nx);
      if (!has_next && !ds->terminal[t]) continue;
      const double *s = ds->obs + t * d;
      if (discrete) {
        onehot[ds->action[t]] = 1.0;
        features(m, s, onehot, f);
        onehot[ds->action[t]] = 0.0;
      } else {
        features(m, s, ds->action_vec + t * U, f);
      }
      if (has_next && cfg->gamma > 0.0) {
        features(m, nx, nxt + t * U, fn);
        for (size_t j = 0; j < k; j++) fn[j] = f[j] - cfg->gamma * fn[j];
      } else {
        memcpy(fn, f, k * sizeof *fn);
      }
      for (size_t i = 0; i < k; i++) {
        if (f[i] == 0.0) continue;
        b[i] += f[i] * ds->reward[t] / (double)n_target;
        for (size_t j = 0; j < k; j++) A[i * k + j] += f[i] * fn[j] / (double)n_target;
      }
    }
  for (size_t i = 0; i < k; i++) A[i * k + i] += cfg->ridge;

  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_matrix_view Av = gsl_matrix_view_array(A, k, k);
  int signum = 0;
  gsl_linalg_LU_decomp(&Av.matrix, perm, &signum);
  double umax = 0.0, umin = INFINITY;
  for (size_t i = 0; i < k; i++) {
    umax = fmax(umax, fabs(A[i * k + i]));
    umin = fmin(umin, fabs(A[i * k + i]));
  }
  if (n_target == 0 || !(umin > 1e-12 * umax)) {
    m->defined = 0;
    snprintf(m->why, sizeof m->why,
             "FQE is undefined: the linear FQE system is singular (add "
             "ridge, or some actions are never logged)");
  } else {
    gsl_vector_view bv = gsl_vector_view_array(b, k);
    gsl_vector_view wv = gsl_vector_view_array(m->w, k);
    gsl_linalg_LU_solve(&Av.matrix, perm, &bv.vector, &wv.vector);
  }
  gsl_set_error_handler(old);
done:
  free(cur);
  free(nxt);
  free(A);
  free(b);
  free(f);
  free(fn);
  free(onehot);
  if (perm) gsl_permutation_free(perm);
  if (st != OPE_OK) ope_fqe_linear_free(m);
  else *out = m;
  return st;
}

ope_status ope_fqe_linear_predict(const ope_fqe_linear *m,
                                  const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *sc, ope_qfit *out,
                                  ope_error *err) {
  memset(out, 0, sizeof *out);
  if (ds->action_kind != m->kind || ds->obs_dim != m->d ||
      ds->n_actions != m->A || ds->action_dim != m->m)
    return ope_error_set(err, OPE_EUSAGE, "fqe linear",
                         "dataset does not match the fitted model's sizes");
  ope_status st = check_policy(ds, pi, sc, err);
  if (st != OPE_OK) return st;
  if ((st = ope_qfit_alloc(out, ds->n_steps, err)) != OPE_OK) return st;
  if (!m->defined) {
    out->defined = 0;
    snprintf(out->warning, sizeof out->warning, "%s", m->why);
    return OPE_OK;
  }
  const int discrete = m->kind == OPE_ACTION_DISCRETE;
  const size_t k = (size_t)m->k, N = ds->n_steps, d = (size_t)m->d;
  const size_t U = discrete ? (size_t)m->A : (size_t)m->m;
  double *cur = calloc(N * U + 1, sizeof *cur), *nxt = calloc(N * U + 1, sizeof *nxt);
  double *f = malloc(k * sizeof *f), *onehot = calloc(U, sizeof *onehot);
  if (!cur || !nxt || !f || !onehot) {
    st = ope_error_nomem(err);
    goto done;
  }
  if ((st = policy_u(m, ds, pi, sc, cur, nxt, err)) != OPE_OK) goto done;
  for (size_t t = 0; t < N; t++) {
    const double *s = ds->obs + t * d;
    if (discrete) {
      onehot[ds->action[t]] = 1.0;
      features(m, s, onehot, f);
      onehot[ds->action[t]] = 0.0;
    } else {
      features(m, s, ds->action_vec + t * U, f);
    }
    double q = 0.0, v = 0.0;
    for (size_t j = 0; j < k; j++) q += m->w[j] * f[j];
    features(m, s, cur + t * U, f);
    for (size_t j = 0; j < k; j++) v += m->w[j] * f[j];
    out->q[t] = q;
    out->v[t] = v;
  }
  ope_qfit_finish_value(out, ds);
done:
  free(cur);
  free(nxt);
  free(f);
  free(onehot);
  if (st != OPE_OK) ope_qfit_clear(out);
  return st;
}

/* Behavior propensity models and their cross-fitting (behavior.h). */
#include "policy/behavior.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multimin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"auto", "counts", "logistic", "gaussian"};

int ope_behavior_kind_parse(const char *name) {
  for (int k = 0; k < 4; k++)
    if (strcmp(name, kind_names[k]) == 0) return k;
  return -1;
}

const char *ope_behavior_kind_name(ope_behavior_kind k) {
  return (unsigned)k < 4 ? kind_names[k] : "?";
}

void ope_behavior_fit_clear(ope_behavior_fit *f) {
  if (f == NULL) return;
  free(f->prob);
  free(f->dist);
  memset(f, 0, sizeof *f);
}

/* ---- distinct observations ---- */

static uint64_t hash_obs(const double *x, int d) {
  uint64_t h = 1469598103934665603ULL;
  for (int j = 0; j < d; j++) {
    double v = x[j] == 0 ? 0.0 : x[j]; /* -0 and 0 are one state */
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    h ^= b;
    h *= 1099511628211ULL;
    h ^= h >> 29;
  }
  return h;
}

/* state[r] = index of row r's observation among the distinct ones; returns
 * their count, or 0 when there are more than `limit` (state then invalid),
 * or SIZE_MAX when out of memory. */
static size_t index_states(const ope_dataset *ds, size_t limit, size_t *state) {
  size_t cap = 1;
  while (cap < 2 * limit + 2) cap <<= 1;
  size_t *slot = malloc(cap * sizeof(size_t)); /* row of the state's first visit + 1 */
  size_t *id = malloc(cap * sizeof(size_t));
  if (slot == NULL || id == NULL) {
    free(slot);
    free(id);
    return SIZE_MAX;
  }
  memset(slot, 0, cap * sizeof(size_t));
  size_t n = 0;
  int d = ds->obs_dim;
  for (size_t r = 0; r < ds->n_steps; r++) {
    const double *x = ds->obs + r * (size_t)d;
    size_t h = (size_t)hash_obs(x, d) & (cap - 1);
    for (;;) {
      if (slot[h] == 0) {
        if (n == limit) {
          free(slot);
          free(id);
          return 0;
        }
        slot[h] = r + 1;
        id[h] = n++;
        break;
      }
      const double *y = ds->obs + (slot[h] - 1) * (size_t)d;
      int same = 1;
      for (int j = 0; j < d && same; j++) same = x[j] == y[j];
      if (same) break;
      h = (h + 1) & (cap - 1);
    }
    state[r] = id[h];
  }
  free(slot);
  free(id);
  return n;
}

int ope_behavior_is_tabular(const ope_dataset *ds) {
  size_t limit = ds->n_steps / 10 < 1000 ? ds->n_steps / 10 : 1000;
  if (limit == 0) return 0;
  size_t *state = malloc((ds->n_steps ? ds->n_steps : 1) * sizeof(size_t));
  if (state == NULL) return 0;
  size_t n = index_states(ds, limit, state);
  free(state);
  return n != 0 && n != SIZE_MAX;
}

/* The half row r belongs to: its episode's index parity. */
static int fold_of(size_t r, const size_t *ep_of_row) {
  return (int)(ep_of_row[r] & 1);
}

/* ---- counts ---- */

static ope_status fit_counts(const ope_dataset *ds, const size_t *ep_of_row,
                             ope_behavior_fit *out, ope_error *err) {
  size_t T = ds->n_steps;
  int A = ds->n_actions;
  size_t *state = malloc((T ? T : 1) * sizeof(size_t));
  if (state == NULL) return ope_error_nomem(err);
  size_t S = index_states(ds, T ? T : 1, state);
  if (S == SIZE_MAX) {
    free(state);
    return ope_error_nomem(err);
  }
  out->n_states = S;
  double *cnt = calloc(2 * (S ? S : 1) * (size_t)A, sizeof(double));
  double *marg = calloc(2 * (size_t)A, sizeof(double));
  if (cnt == NULL || marg == NULL) {
    free(state);
    free(cnt);
    free(marg);
    return ope_error_nomem(err);
  }
  for (size_t r = 0; r < T; r++) {
    int f = fold_of(r, ep_of_row);
    cnt[((size_t)f * S + state[r]) * (size_t)A + (size_t)ds->action[r]] += 1.0;
    marg[(size_t)f * (size_t)A + (size_t)ds->action[r]] += 1.0;
  }
  for (int f = 0; f < 2; f++) { /* add-one-half smoothed marginals */
    double tot = 0.0;
    for (int a = 0; a < A; a++) tot += marg[f * A + a] + 0.5;
    for (int a = 0; a < A; a++) marg[f * A + a] = (marg[f * A + a] + 0.5) / tot;
  }
  for (size_t r = 0; r < T; r++) {
    int g = 1 - fold_of(r, ep_of_row); /* the other half's model */
    const double *c = cnt + ((size_t)g * S + state[r]) * (size_t)A;
    double ns = 0.0;
    for (int a = 0; a < A; a++) ns += c[a];
    double *p = out->dist + r * (size_t)A;
    for (int a = 0; a < A; a++) p[a] = (c[a] + marg[g * A + a]) / (ns + 1.0);
  }
  free(state);
  free(cnt);
  free(marg);
  return OPE_OK;
}

/* ---- multinomial logistic regression ---- */

typedef struct logit_data {
  const ope_dataset *ds;
  const size_t *rows;   /* training rows */
  size_t n;
  const double *mu, *sd;/* standardization (d) */
  int A, p;             /* p = d + 1 features */
  double lambda;
  double *x, *z;        /* scratch (p), (A) */
} logit_data;

static void features(const logit_data *L, size_t r, double *x) {
  int d = L->ds->obs_dim;
  x[0] = 1.0;
  for (int j = 0; j < d; j++)
    x[j + 1] = (L->ds->obs[r * (size_t)d + j] - L->mu[j]) / L->sd[j];
}

/* z = W x, then log-softmax in place; W is (A, p) row-major. */
static void log_softmax(const double *W, const double *x, int A, int p, double *z) {
  double m = -INFINITY;
  for (int a = 0; a < A; a++) {
    double s = 0.0;
    for (int j = 0; j < p; j++) s += W[a * p + j] * x[j];
    z[a] = s;
    if (s > m) m = s;
  }
  double t = 0.0;
  for (int a = 0; a < A; a++) t += exp(z[a] - m);
  double lse = m + log(t);
  for (int a = 0; a < A; a++) z[a] -= lse;
}

/* Negative mean log-likelihood + lambda/2 |W without intercepts|^2 and its
 * gradient (Bishop 2006, eq. 4.108-4.109). */
static void logit_fdf(const gsl_vector *v, void *params, double *f, gsl_vector *g) {
  logit_data *L = params;
  int A = L->A, p = L->p;
  const double *W = v->data;
  double nll = 0.0;
  if (g) gsl_vector_set_zero(g);
  for (size_t k = 0; k < L->n; k++) {
    size_t r = L->rows[k];
    features(L, r, L->x);
    log_softmax(W, L->x, A, p, L->z);
    int y = L->ds->action[r];
    nll -= L->z[y];
    if (g)
      for (int a = 0; a < A; a++) {
        double e = exp(L->z[a]) - (a == y);
        for (int j = 0; j < p; j++) g->data[a * p + j] += e * L->x[j];
      }
  }
  double inv = 1.0 / (double)L->n, pen = 0.0;
  for (int a = 0; a < A; a++)
    for (int j = 1; j < p; j++) pen += W[a * p + j] * W[a * p + j];
  if (f) *f = nll * inv + 0.5 * L->lambda * pen;
  if (g)
    for (int a = 0; a < A; a++)
      for (int j = 0; j < p; j++) {
        g->data[a * p + j] *= inv;
        if (j > 0) g->data[a * p + j] += L->lambda * W[a * p + j];
      }
}
static double logit_f(const gsl_vector *v, void *params) {
  double f;
  logit_fdf(v, params, &f, NULL);
  return f;
}
static void logit_df(const gsl_vector *v, void *params, gsl_vector *g) {
  logit_fdf(v, params, NULL, g);
}

static ope_status fit_logistic(const ope_dataset *ds, const size_t *ep_of_row,
                               ope_behavior_fit *out, ope_error *err) {
  ope_status st = OPE_OK;
  size_t T = ds->n_steps;
  int A = ds->n_actions, d = ds->obs_dim, p = d + 1;
  size_t *rows = malloc((T ? T : 1) * sizeof(size_t));
  double *mu = calloc((size_t)d, sizeof(double)), *sd = calloc((size_t)d, sizeof(double));
  double *x = malloc((size_t)p * sizeof(double)), *z = malloc((size_t)A * sizeof(double));
  gsl_vector *v = gsl_vector_alloc((size_t)A * (size_t)p);
  gsl_multimin_fdfminimizer *mz =
      gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, (size_t)A * (size_t)p);
  if (!rows || !mu || !sd || !x || !z || !v || !mz) {
    st = ope_error_nomem(err);
    goto done;
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (int f = 0; f < 2; f++) {
    size_t n = 0;
    for (size_t r = 0; r < T; r++)
      if (fold_of(r, ep_of_row) != f) rows[n++] = r; /* train on the other half */
    for (int j = 0; j < d; j++) {
      double m = 0.0, s = 0.0;
      for (size_t k = 0; k < n; k++) m += ds->obs[rows[k] * (size_t)d + j];
      m = n ? m / (double)n : 0.0;
      for (size_t k = 0; k < n; k++) {
        double e = ds->obs[rows[k] * (size_t)d + j] - m;
        s += e * e;
      }
      s = n > 1 ? sqrt(s / (double)(n - 1)) : 0.0;
      mu[j] = m;
      sd[j] = s > 1e-12 ? s : 1.0;
    }
    logit_data L = {ds, rows, n, mu, sd, A, p, 1e-4, x, z};
    gsl_multimin_function_fdf fn = {logit_f, logit_df, logit_fdf, (size_t)A * (size_t)p, &L};
    gsl_vector_set_zero(v);
    if (n > 0) {
      gsl_multimin_fdfminimizer_set(mz, &fn, v, 0.1, 0.1);
      for (int it = 0; it < 500; it++) {
        if (gsl_multimin_fdfminimizer_iterate(mz) != GSL_SUCCESS) break;
        if (gsl_multimin_test_gradient(mz->gradient, 1e-7) == GSL_SUCCESS) break;
      }
      gsl_vector_memcpy(v, mz->x);
    }
    for (size_t r = 0; r < T; r++) {
      if (fold_of(r, ep_of_row) != f) continue;
      features(&L, r, x);
      log_softmax(v->data, x, A, p, z);
      double *pr = out->dist + r * (size_t)A;
      for (int a = 0; a < A; a++) pr[a] = exp(z[a]);
    }
  }
  gsl_set_error_handler(old);
done:
  free(rows);
  free(mu);
  free(sd);
  free(x);
  free(z);
  if (v) gsl_vector_free(v);
  if (mz) gsl_multimin_fdfminimizer_free(mz);
  return st;
}

/* ---- Gaussian with a linear mean ---- */

static ope_status fit_gaussian(const ope_dataset *ds, const size_t *ep_of_row,
                               ope_behavior_fit *out, ope_error *err) {
  ope_status st = OPE_OK;
  size_t T = ds->n_steps;
  int d = ds->obs_dim, m = ds->action_dim, p = d + 1;
  double *logp = calloc(T ? T : 1, sizeof(double));
  size_t inside = 0, total = 0;
  if (logp == NULL) return ope_error_nomem(err);
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (int f = 0; f < 2 && st == OPE_OK; f++) {
    size_t n = 0;
    for (size_t r = 0; r < T; r++) n += fold_of(r, ep_of_row) != f;
    if (n <= (size_t)p) {
      st = ope_error_set(err, OPE_EDATA, ds->name,
                         "a half of the episodes has %zu steps; fitting the "
                         "behavior policy needs more than %d", n, p);
      break;
    }
    gsl_matrix *X = gsl_matrix_alloc(n, (size_t)p), *cov = gsl_matrix_alloc((size_t)p, (size_t)p);
    gsl_vector *y = gsl_vector_alloc(n), *b = gsl_vector_alloc((size_t)p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, (size_t)p);
    if (!X || !cov || !y || !b || !ws) st = ope_error_nomem(err);
    for (int j = 0; j < m && st == OPE_OK; j++) {
      size_t k = 0;
      for (size_t r = 0; r < T; r++) {
        if (fold_of(r, ep_of_row) == f) continue;
        gsl_matrix_set(X, k, 0, 1.0);
        for (int c = 0; c < d; c++) gsl_matrix_set(X, k, (size_t)c + 1, ds->obs[r * (size_t)d + c]);
        gsl_vector_set(y, k, ds->action_vec[r * (size_t)m + j]);
        k++;
      }
      double chisq;
      if (gsl_multifit_linear(X, y, b, cov, &chisq, ws) != GSL_SUCCESS) {
        st = ope_error_set(err, OPE_EDATA, ds->name, "the behavior regression failed");
        break;
      }
      double s2 = chisq / (double)(n - (size_t)p);
      double s = sqrt(s2 > 1e-24 ? s2 : 1e-24);
      for (size_t r = 0; r < T; r++) {
        if (fold_of(r, ep_of_row) != f) continue;
        double mean = gsl_vector_get(b, 0);
        for (int c = 0; c < d; c++) mean += gsl_vector_get(b, (size_t)c + 1) * ds->obs[r * (size_t)d + c];
        double zz = (ds->action_vec[r * (size_t)m + j] - mean) / s;
        logp[r] += -0.5 * zz * zz - log(s) - 0.5 * log(2.0 * M_PI);
        inside += fabs(zz) <= 1.96;
        total++;
      }
    }
    if (ws) gsl_multifit_linear_free(ws);
    if (X) gsl_matrix_free(X);
    if (cov) gsl_matrix_free(cov);
    if (y) gsl_vector_free(y);
    if (b) gsl_vector_free(b);
  }
  gsl_set_error_handler(old);
  if (st == OPE_OK) {
    for (size_t r = 0; r < T; r++) out->prob[r] = exp(logp[r]);
    out->coverage95 = total ? (double)inside / (double)total : NAN;
    double ll = 0.0;
    for (size_t r = 0; r < T; r++) ll += logp[r];
    out->heldout_loglik = T ? ll / (double)T : NAN;
  }
  free(logp);
  return st;
}

/* Reliability of held-out discrete distributions (see behavior.h). */
static void calibrate(const ope_dataset *ds, ope_behavior_fit *out) {
  int A = ds->n_actions;
  double ll = 0.0, tot = 0.0;
  for (size_t r = 0; r < ds->n_steps; r++) {
    const double *p = out->dist + r * (size_t)A;
    out->prob[r] = p[ds->action[r]];
    ll += log(out->prob[r]);
    for (int a = 0; a < A; a++) {
      int b = (int)(p[a] * OPE_BEHAVIOR_BINS);
      if (b >= OPE_BEHAVIOR_BINS) b = OPE_BEHAVIOR_BINS - 1;
      out->bin_pred[b] += p[a];
      out->bin_freq[b] += a == ds->action[r];
      out->bin_n[b]++;
      tot += 1.0;
    }
  }
  out->heldout_loglik = ds->n_steps ? ll / (double)ds->n_steps : NAN;
  out->ece = 0.0;
  for (int b = 0; b < OPE_BEHAVIOR_BINS; b++) {
    if (out->bin_n[b] == 0) continue;
    out->bin_pred[b] /= (double)out->bin_n[b];
    out->bin_freq[b] /= (double)out->bin_n[b];
    out->ece += (double)out->bin_n[b] / tot * fabs(out->bin_pred[b] - out->bin_freq[b]);
  }
}

ope_status ope_behavior_estimate(const ope_dataset *ds, ope_behavior_kind kind,
                                 ope_behavior_fit *out, ope_error *err) {
  memset(out, 0, sizeof *out);
  ope_status st = OPE_OK;
  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  if (ds->n_episodes < 2)
    return ope_error_set(err, OPE_EDATA, ds->name,
                         "estimating the behavior policy by cross-fitting needs "
                         "at least 2 episodes");
  if (kind == OPE_BEHAVIOR_AUTO)
    kind = !discrete ? OPE_BEHAVIOR_GAUSSIAN
                     : ope_behavior_is_tabular(ds) ? OPE_BEHAVIOR_COUNTS : OPE_BEHAVIOR_LOGISTIC;
  if (discrete == (kind == OPE_BEHAVIOR_GAUSSIAN))
    return ope_error_set(err, OPE_EUSAGE, NULL,
                         "behavior model '%s' does not fit %s actions",
                         kind_names[kind], discrete ? "discrete" : "continuous");
  size_t T = ds->n_steps;
  out->kind = kind;
  out->n_steps = T;
  out->n_actions = discrete ? ds->n_actions : 0;
  out->ece = NAN;
  out->coverage95 = NAN;
  size_t *ep_of_row = malloc((T ? T : 1) * sizeof(size_t));
  out->prob = malloc((T ? T : 1) * sizeof(double));
  if (discrete) out->dist = malloc((T ? T : 1) * (size_t)ds->n_actions * sizeof(double));
  if (!ep_of_row || !out->prob || (discrete && !out->dist)) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t i = 0; i < ds->n_episodes; i++)
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) ep_of_row[r] = i;
  if (kind == OPE_BEHAVIOR_COUNTS) st = fit_counts(ds, ep_of_row, out, err);
  else if (kind == OPE_BEHAVIOR_LOGISTIC) st = fit_logistic(ds, ep_of_row, out, err);
  else st = fit_gaussian(ds, ep_of_row, out, err);
  if (st == OPE_OK && discrete) calibrate(ds, out);
  for (size_t r = 0; r < T && st == OPE_OK; r++)
    if (!(out->prob[r] > 0))
      out->prob[r] = 1e-300; /* a density that underflowed: keep the ratio finite */
done:
  free(ep_of_row);
  if (st != OPE_OK) ope_behavior_fit_clear(out);
  return st;
}

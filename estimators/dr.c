/* DM, FQE, DR, WDR and MAGIC (dr.h), and fitting the Q they read.
 *
 * Statistics layouts (estimators.h: value = f(column sums, count)):
 *   DM, FQE  one column V(s_0^i)                       (a mean)
 *   DR       one column sum_t g^t [w_t (r_t - Q_t) + w_{t-1} V_t], scaled
 *            by the largest log(g^t w) of its terms      (a mean)
 *   WDR      3H columns: N_t = c_t w_t (r_t - Q_t), M_t = c'_t w_{t-1} V_t
 *            and D_t = w_t (carried forward after an episode ends), so that
 *            value = sum_t N_t / D_t + M_t / D_{t-1} with D_{-1} = count.
 *            N_t and D_t share the log scale of step t, M_t that of step
 *            t-1, so every ratio is scale-free. WDR folds c_t = c'_t = g^t
 *            into the columns (Thomas & Brunskill 2016, eq. 10).
 *   MAGIC    the WDR columns with c_t = g^t sum_{j in J, j >= t} x_j and
 *            c'_t = c_t + g^t x_{t-1}: the blend sum_j x_j g^(j) of the
 *            off-policy j-step returns
 *              g^(j) = sum_{t<=j} g^t sum_i [wn_t (r_t - Q_t) + wn_{t-1} V_t]
 *                      + g^(j+1) sum_i wn_j V_{j+1}
 *            (Thomas & Brunskill 2016, the returns MAGIC blends, with wn the
 *            normalized
 *            weights; g^(-1) is DM and g^(H-1) is WDR) is linear in the same
 *            ratios, so MAGIC reuses WDR's value function. */
#include "estimators/dr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "estimators/ci.h"
#include "nn/gemm.h"

#define MAGIC_MAX_J 16

/* log scale for one column whose largest log term is m: none unless the
 * terms would leave the comfortable double range. */
static double pick_scale(double m) {
  return isfinite(m) && fabs(m) > 600.0 ? m : 0.0;
}

/* Q without a fixed point (FQE undefined): every estimator here is then
 * undefined too. Its stats are one zero column with aux[3] = 1, which the
 * value functions read as "undefined" (reported as null with FQE's
 * warning, never as a number). */
static int q_undefined(const ope_est_input *in, ope_est_stats *out,
                       ope_status *st, ope_error *err) {
  if (in->q->defined) return 0;
  *st = ope_est_stats_alloc(out, in->ds->n_episodes, 1, err);
  if (*st == OPE_OK) out->aux[3] = 1.0;
  return 1;
}

/* ---- DM and FQE ------------------------------------------------------- */

static ope_status dm_stats(const ope_est_input *in, ope_est_stats *out,
                           ope_error *err) {
  const ope_dataset *ds = in->ds;
  ope_status st;
  if (q_undefined(in, out, &st, err)) return st;
  st = ope_est_stats_alloc(out, ds->n_episodes, 1, err);
  if (st != OPE_OK) return st;
  for (size_t i = 0; i < ds->n_episodes; i++)
    if (ope_dataset_ep_len(ds, i) > 0) out->x[i] = in->q->v[ds->ep_offset[i]];
  return OPE_OK;
}

static ope_est_flag mean_value(const ope_est_stats *s, const double *sum,
                               double count, double *out) {
  if (!(count > 0) || s->aux[3] != 0.0) return OPE_EST_UNDEFINED;
  return ope_est_scaled(sum[0] / count, s->lscale[0], out);
}

/* ---- DR ---------------------------------------------------------------- */

/* Jiang & Li 2016, eq. 8, unrolled over t (as Thomas & Brunskill 2016
 * write it; WDR, eq. 10, normalizes the same weights): per episode
 * sum_t g^t [w_t (r_t - Q_t) + w_{t-1} V_t]. */
static ope_status dr_stats(const ope_est_input *in, ope_est_stats *out,
                           ope_error *err) {
  const ope_dataset *ds = in->ds;
  const ope_weights *w = in->w;
  const double lg = log(in->gamma);
  ope_status st;
  if (q_undefined(in, out, &st, err)) return st;
  st = ope_est_stats_alloc(out, ds->n_episodes, 1, err);
  if (st != OPE_OK) return st;
  double m = -INFINITY;
  for (size_t i = 0; i < ds->n_episodes; i++)
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
      double lt = (double)(r - ds->ep_offset[i]) * lg;
      double prev = r > ds->ep_offset[i] ? w->log_w[r - 1] : 0.0;
      m = fmax(m, fmax(lt + w->log_w[r], lt + prev));
    }
  double L = pick_scale(m);
  out->lscale[0] = L;
  const double e0 = exp(-L);
  for (size_t i = 0; i < ds->n_episodes; i++) {
    double acc = 0.0, eprev = e0; /* g^t w_{t-1} / e^L, w_{-1} = 1 */
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
      double lt = (double)(r - ds->ep_offset[i]) * lg;
      double e = exp(lt + w->log_w[r] - L); /* g^t w_t / e^L */
      acc += e * (ds->reward[r] - in->q->q[r]) + eprev * in->q->v[r];
      eprev = e * in->gamma;
    }
    out->x[i] = acc;
  }
  return OPE_OK;
}

/* ---- WDR columns -------------------------------------------------------- */

/* Raw WDR columns (no discount folded): N_t, M_t, D_t as in the file
 * comment, with their log scales; s->horizon = H. */
static ope_status wdr_columns(const ope_est_input *in, ope_est_stats *s,
                              ope_error *err) {
  const ope_dataset *ds = in->ds;
  const ope_weights *w = in->w;
  const size_t n = ds->n_episodes, H = w->horizon;
  if (H > 0 && n > ((size_t)1 << 30) / H)
    return ope_error_set(err, OPE_EUSAGE, "wdr",
                         "%zu episodes x horizon %zu is too large for the "
                         "per-step statistics", n, H);
  ope_status st = ope_est_stats_alloc(s, n, 3 * H, err);
  if (st != OPE_OK) return st;
  s->horizon = H;
  double *L = s->lscale + 2 * H; /* the D_t scales, L_t */
  for (size_t t = 0; t < H; t++) L[t] = -INFINITY;
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < H; t++) L[t] = fmax(L[t], ope_weights_log_w_at(w, i, (long)t));
  for (size_t t = 0; t < H; t++) {
    if (isinf(L[t])) L[t] = 0.0; /* every weight is 0: D_t = 0, undefined */
    s->lscale[t] = L[t];
    s->lscale[H + t] = t > 0 ? L[t - 1] : 0.0;
  }
  for (size_t i = 0; i < n; i++) {
    double *row = s->x + i * 3 * H;
    size_t a = ds->ep_offset[i], len = ope_dataset_ep_len(ds, i);
    double eprev = 1.0; /* w_{t-1} / e^{L_{t-1}}; w_{-1} = 1 at scale 0 */
    for (size_t t = 0; t < H; t++) {
      double e = exp(ope_weights_log_w_at(w, i, (long)t) - L[t]);
      row[2 * H + t] = e;
      if (t >= len) continue; /* ended: r = Q = V = 0 */
      row[t] = e * (ds->reward[a + t] - in->q->q[a + t]);
      row[H + t] = eprev * in->q->v[a + t];
      eprev = e;
    }
  }
  return OPE_OK;
}

/* Multiply column N_t by c[t] and M_t by cp[t] (the discount and blend). */
static void fold(ope_est_stats *s, const double *c, const double *cp) {
  const size_t H = s->horizon;
  for (size_t i = 0; i < s->n; i++) {
    double *row = s->x + i * s->k;
    for (size_t t = 0; t < H; t++) {
      row[t] *= c[t];
      row[H + t] *= cp[t];
    }
  }
}

static ope_status wdr_stats(const ope_est_input *in, ope_est_stats *out,
                            ope_error *err) {
  ope_status st;
  if (q_undefined(in, out, &st, err)) return st;
  st = wdr_columns(in, out, err);
  if (st != OPE_OK) return st;
  const size_t H = out->horizon;
  double *c = malloc((H ? H : 1) * sizeof *c);
  if (c == NULL) {
    ope_est_stats_clear(out);
    return ope_error_nomem(err);
  }
  double d = 1.0;
  for (size_t t = 0; t < H; t++, d *= in->gamma) c[t] = d;
  fold(out, c, c);
  free(c);
  return OPE_OK;
}

/* sum_t N_t / D_t + M_t / D_{t-1}, D_{-1} = count; undefined when any
 * D_t is 0 (ARCHITECTURE.md). */
static ope_est_flag wdr_value(const ope_est_stats *s, const double *sum,
                              double count, double *out) {
  const size_t H = s->horizon;
  if (!(count > 0) || s->aux[3] != 0.0) return OPE_EST_UNDEFINED;
  double v = 0.0;
  for (size_t t = 0; t < H; t++) {
    double D = sum[2 * H + t], Dp = t > 0 ? sum[2 * H + t - 1] : count;
    if (!(D > 0)) return OPE_EST_UNDEFINED;
    v += sum[t] / D + sum[H + t] / Dp;
  }
  *out = v;
  return isfinite(v) ? OPE_EST_DEFINED : OPE_EST_OVERFLOW;
}

/* ---- MAGIC --------------------------------------------------------------- */

/* J = {-1, 0, 1, 3, 7, ..., 2^k - 1 < H - 1, H - 1}. */
static size_t magic_returns(size_t H, long *J) {
  size_t k = 0;
  J[k++] = -1;
  for (long j = 0; j + 1 < (long)H && k + 1 < MAGIC_MAX_J; j = 2 * j + 1) J[k++] = j;
  if (H > 0) J[k++] = (long)H - 1;
  return k;
}

/* Euclidean projection onto the probability simplex (sort-based). */
static void project_simplex(double *v, size_t k) {
  double u[MAGIC_MAX_J];
  memcpy(u, v, k * sizeof *u);
  for (size_t a = 1; a < k; a++) /* insertion sort, descending */
    for (size_t b = a; b > 0 && u[b] > u[b - 1]; b--) {
      double tmp = u[b];
      u[b] = u[b - 1];
      u[b - 1] = tmp;
    }
  double css = 0.0, theta = 0.0;
  for (size_t j = 0; j < k; j++) {
    css += u[j];
    double t = (css - 1.0) / (double)(j + 1);
    if (u[j] - t > 0) theta = t;
  }
  for (size_t j = 0; j < k; j++) v[j] = fmax(v[j] - theta, 0.0);
}

/* argmin over the simplex of x^T M x (Algorithm 1, line 5), by
 * accelerated projected gradient (FISTA) with step 1 / (2 trace M). */
static void simplex_qp(const double *M, size_t k, double *x) {
  double tr = 0.0;
  for (size_t j = 0; j < k; j++) tr += M[j * k + j];
  for (size_t j = 0; j < k; j++) x[j] = 0.0;
  if (!(tr > 0) || !isfinite(tr)) {
    x[k - 1] = 1.0; /* nothing to trade off: WDR */
    return;
  }
  double y[MAGIC_MAX_J], xn[MAGIC_MAX_J], tk = 1.0, step = 1.0 / (2.0 * tr);
  for (size_t j = 0; j < k; j++) x[j] = y[j] = 1.0 / (double)k;
  for (int it = 0; it < 5000; it++) {
    for (size_t j = 0; j < k; j++) {
      double gj = 0.0;
      for (size_t l = 0; l < k; l++) gj += 2.0 * M[j * k + l] * y[l];
      xn[j] = y[j] - step * gj;
    }
    project_simplex(xn, k);
    double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk * tk)), diff = 0.0;
    for (size_t j = 0; j < k; j++) {
      y[j] = xn[j] + (tk - 1.0) / tn * (xn[j] - x[j]);
      diff = fmax(diff, fabs(xn[j] - x[j]));
      x[j] = xn[j];
    }
    tk = tn;
    if (diff < 1e-15) break;
  }
}

/* Percentile bootstrap interval of WDR at OPE_MAGIC_CI_LEVEL from the
 * folded WDR stats s (Algorithm 1, line 3). Replicates are formed R at a
 * time as one product: sums (R, k) = counts (R, n) x stats (n, k). */
static ope_status wdr_interval(const ope_est_stats *s, double *l, double *u,
                               ope_error *err) {
  enum { R = 32 };
  const size_t n = s->n, k = s->k;
  double *cnt = malloc(R * (n ? n : 1) * sizeof *cnt);
  double *sum = malloc(R * (k ? k : 1) * sizeof *sum);
  double *rep = malloc(OPE_MAGIC_BOOT * sizeof *rep);
  if (!cnt || !sum || !rep) {
    free(cnt);
    free(sum);
    free(rep);
    return ope_error_nomem(err);
  }
  size_t m = 0;
  for (uint64_t b0 = 0; b0 < OPE_MAGIC_BOOT; b0 += R) {
    size_t nr = OPE_MAGIC_BOOT - b0 < R ? OPE_MAGIC_BOOT - b0 : R;
    for (size_t r = 0; r < nr; r++) ope_ci_boot_counts(OPE_MAGIC_SEED, b0 + r, n, cnt + r * n);
    ope_gemm_d(0, 0, (int)nr, (int)k, (int)n, 1.0, cnt, (int)n, s->x, (int)k, 0.0, sum,
               (int)k);
    for (size_t r = 0; r < nr; r++) {
      double v;
      if (wdr_value(s, sum + r * k, (double)n, &v) == OPE_EST_DEFINED) rep[m++] = v;
    }
  }
  for (size_t a = 1; a < m; a++) /* insertion sort: m is small */
    for (size_t b = a; b > 0 && rep[b] < rep[b - 1]; b--) {
      double tmp = rep[b];
      rep[b] = rep[b - 1];
      rep[b - 1] = tmp;
    }
  double tail = 0.5 * (1.0 - OPE_MAGIC_CI_LEVEL);
  *l = m ? ope_ci_quantile(rep, m, tail) : NAN;
  *u = m ? ope_ci_quantile(rep, m, 1.0 - tail) : NAN;
  free(cnt);
  free(sum);
  free(rep);
  return OPE_OK;
}

/* The blend of Algorithm 1 on the WDR stats s (discount folded) of in:
 * per-episode returns y_i^(j), Omega = n/(n-1) sum_i (y_i - ybar)(..)^T,
 * bias b_j = distance from g^(j) to the WDR interval, x = argmin x^T
 * (Omega + b b^T) x on the simplex. */
static size_t blend(const ope_est_stats *s, long *J, double *g, double *x,
                    double *l, double *u, int *undefined, ope_error *err) {
  const size_t n = s->n, H = s->horizon, k3 = s->k;
  size_t nj = magic_returns(H, J);
  double *sum = malloc((k3 ? k3 : 1) * sizeof *sum);
  double *y = calloc((n ? n : 1) * nj, sizeof *y);
  double M[MAGIC_MAX_J * MAGIC_MAX_J] = {0};
  *undefined = 0;
  if (!sum || !y) {
    free(sum);
    free(y);
    ope_error_nomem(err);
    return 0;
  }
  ope_est_stats_sum(s, NULL, sum);
  double wdr;
  if (n == 0 || wdr_value(s, sum, (double)n, &wdr) != OPE_EST_DEFINED) {
    *undefined = 1;
    free(sum);
    free(y);
    return 0;
  }
  /* y_i^(j): prefix sums of the normalized, discounted per-step terms. */
  for (size_t i = 0; i < n; i++) {
    const double *row = s->x + i * k3;
    double P = 0.0;
    size_t c = 0;
    if (J[c] == -1) y[i * nj + c++] = row[H] / (double)n;
    for (size_t t = 0; t < H && c < nj; t++) {
      double Dp = t > 0 ? sum[2 * H + t - 1] : (double)n;
      P += row[t] / sum[2 * H + t] + row[H + t] / Dp;
      if ((long)t == J[c]) {
        double tail = t + 1 < H ? row[H + t + 1] / sum[2 * H + t] : 0.0;
        y[i * nj + c++] = P + tail;
      }
    }
  }
  for (size_t c = 0; c < nj; c++) {
    g[c] = 0.0;
    for (size_t i = 0; i < n; i++) g[c] += y[i * nj + c];
  }
  ope_status st = wdr_interval(s, l, u, err);
  if (st != OPE_OK) {
    free(sum);
    free(y);
    return 0;
  }
  if (!isnan(*l)) { /* the interval always holds WDR itself */
    *l = fmin(*l, wdr);
    *u = fmax(*u, wdr);
  }
  for (size_t a = 0; a < nj && n > 1; a++)
    for (size_t b = 0; b < nj; b++) {
      double acc = 0.0, ma = g[a] / (double)n, mb = g[b] / (double)n;
      for (size_t i = 0; i < n; i++) acc += (y[i * nj + a] - ma) * (y[i * nj + b] - mb);
      M[a * nj + b] = (double)n / (double)(n - 1) * acc;
    }
  double bias[MAGIC_MAX_J];
  for (size_t c = 0; c < nj; c++)
    bias[c] = isnan(*l) ? 0.0 : g[c] < *l ? *l - g[c] : g[c] > *u ? g[c] - *u : 0.0;
  for (size_t a = 0; a < nj; a++)
    for (size_t b = 0; b < nj; b++) M[a * nj + b] += bias[a] * bias[b];
  simplex_qp(M, nj, x);
  free(sum);
  free(y);
  return nj;
}

static ope_status magic_stats(const ope_est_input *in, ope_est_stats *out,
                              ope_error *err) {
  ope_status st = wdr_stats(in, out, err);
  if (st != OPE_OK || out->aux[3] != 0.0) return st;
  const size_t H = out->horizon;
  long J[MAGIC_MAX_J];
  double g[MAGIC_MAX_J], x[MAGIC_MAX_J], l, u;
  int undefined;
  size_t nj = blend(out, J, g, x, &l, &u, &undefined, err);
  if (nj == 0) {
    if (undefined) return OPE_OK; /* WDR's zero denominator: value says so */
    ope_est_stats_clear(out);
    return err ? err->status : OPE_EINTERNAL;
  }
  /* Columns already carry g^t; scale N_t by sum_{j>=t} x_j and M_t by that
   * plus x_{t-1}. */
  double *c = malloc(2 * (H ? H : 1) * sizeof *c);
  if (c == NULL) {
    ope_est_stats_clear(out);
    return ope_error_nomem(err);
  }
  double *cp = c + H;
  for (size_t t = 0; t < H; t++) {
    double tailx = 0.0, prevx = 0.0;
    for (size_t k = 0; k < nj; k++) {
      if (J[k] >= (long)t) tailx += x[k];
      if (J[k] == (long)t - 1) prevx = x[k];
    }
    c[t] = tailx;
    cp[t] = tailx + prevx;
  }
  fold(out, c, cp);
  free(c);
  return OPE_OK;
}

size_t ope_magic_blend(const ope_est_input *in, long *J, double *g, double *x,
                       double *l, double *u, ope_error *err) {
  ope_est_stats s;
  if (wdr_stats(in, &s, err) != OPE_OK) return 0;
  int undefined;
  size_t nj = blend(&s, J, g, x, l, u, &undefined, err);
  ope_est_stats_clear(&s);
  return nj;
}

/* ---- the table entries ---------------------------------------------------- */

/* DM and FQE are not marked as means of independent per-episode terms:
 * every V(s_0^i) comes from one Q fitted on all episodes, so Student t and
 * the concentration bounds do not apply; their interval is the bootstrap
 * (refitting Q where that is cheap, ope_dr_refit_intervals). */
const ope_estimator ope_est_dm = {
  "dm", "direct method (value of the fitted Q at the start states)",
  "Le, Voloshin & Yue 2019, Alg. 3 (Q); the approximate-model estimate of Thomas & Brunskill 2016",
  OPE_EST_NEEDS_Q, 0, dm_stats, mean_value, NULL,
};
const ope_estimator ope_est_fqe = {
  "fqe", "fitted-Q evaluation",
  "Le, Voloshin & Yue 2019, Alg. 3", OPE_EST_NEEDS_Q, 0, dm_stats, mean_value,
  NULL,
};
const ope_estimator ope_est_dr = {
  "dr", "doubly robust (per-decision)",
  "Jiang & Li 2016, eq. 8; Thomas & Brunskill 2016",
  OPE_EST_NEEDS_WEIGHTS | OPE_EST_NEEDS_Q, 1, dr_stats, mean_value, NULL,
};
const ope_estimator ope_est_wdr = {
  "wdr", "weighted doubly robust",
  "Thomas & Brunskill 2016, eq. 10", OPE_EST_NEEDS_WEIGHTS | OPE_EST_NEEDS_Q, 0,
  wdr_stats, wdr_value, NULL,
};
const ope_estimator ope_est_magic = {
  "magic", "model and guided importance sampling combining (MAGIC)",
  "Thomas & Brunskill 2016, Algorithm 1",
  OPE_EST_NEEDS_WEIGHTS | OPE_EST_NEEDS_Q, 0, magic_stats, wdr_value, NULL,
};

/* ---- fitting Q ---------------------------------------------------------- */

/* The rows of `episodes` of ds in sc, as a new scores record. */
static ope_status scores_subset(const ope_policy_scores *sc,
                                const ope_dataset *ds, const size_t *episodes,
                                size_t n, ope_policy_scores *out,
                                ope_error *err) {
  memset(out, 0, sizeof *out);
  size_t rows = 0;
  for (size_t k = 0; k < n; k++) rows += ope_dataset_ep_len(ds, episodes[k]);
  *out = *sc;
  out->prob = out->dist = out->act = NULL;
  out->n_steps = rows;
  size_t A = sc->dist ? (size_t)sc->n_actions : 0;
  size_t m = sc->act ? (size_t)sc->action_dim : 0;
  out->prob = malloc((rows ? rows : 1) * sizeof(double));
  if (A) out->dist = malloc((rows ? rows : 1) * A * sizeof(double));
  if (m) out->act = malloc((rows ? rows : 1) * m * sizeof(double));
  if (!out->prob || (A && !out->dist) || (m && !out->act)) {
    ope_policy_scores_clear(out);
    return ope_error_nomem(err);
  }
  size_t r = 0;
  for (size_t k = 0; k < n; k++) {
    size_t a = ds->ep_offset[episodes[k]], len = ope_dataset_ep_len(ds, episodes[k]);
    if (sc->prob) memcpy(out->prob + r, sc->prob + a, len * sizeof(double));
    if (A) memcpy(out->dist + r * A, sc->dist + a * A, len * A * sizeof(double));
    if (m) memcpy(out->act + r * m, sc->act + a * m, len * m * sizeof(double));
    r += len;
  }
  return OPE_OK;
}

/* Fit on the episodes `fit` and predict the episodes `pred`, writing Q and
 * V into out's rows of those episodes. */
static ope_status cross_half(const ope_dataset *ds, const ope_policy *pi,
                             const ope_policy_scores *sc,
                             const ope_fqe_config *cfg, const size_t *fit,
                             size_t nf, const size_t *pred, size_t np,
                             ope_qfit *out, ope_error *err) {
  ope_dataset *dfit = NULL, *dpred = NULL;
  ope_policy_scores sfit = {0}, spred = {0};
  ope_fqe_model *m = NULL;
  ope_qfit q = {0};
  ope_status st = OPE_EINTERNAL;
  if ((dfit = ope_dataset_subset(ds, fit, nf, err)) == NULL) goto done;
  if ((dpred = ope_dataset_subset(ds, pred, np, err)) == NULL) goto done;
  if ((st = scores_subset(sc, ds, fit, nf, &sfit, err)) != OPE_OK) goto done;
  if ((st = scores_subset(sc, ds, pred, np, &spred, err)) != OPE_OK) goto done;
  if ((st = ope_fqe_fit(dfit, pi, &sfit, cfg, &m, err)) != OPE_OK) goto done;
  if ((st = ope_fqe_predict(m, dpred, pi, &spred, &q, err)) != OPE_OK) goto done;
  if (!q.defined) out->defined = 0;
  if (q.warning[0] && !out->warning[0])
    snprintf(out->warning, sizeof out->warning, "%s", q.warning);
  for (size_t k = 0, r = 0; k < np; k++) {
    size_t a = ds->ep_offset[pred[k]], len = ope_dataset_ep_len(ds, pred[k]);
    memcpy(out->q + a, q.q + r, len * sizeof(double));
    memcpy(out->v + a, q.v + r, len * sizeof(double));
    r += len;
  }
done:
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  ope_policy_scores_clear(&sfit);
  ope_policy_scores_clear(&spred);
  ope_dataset_free(dfit);
  ope_dataset_free(dpred);
  return st;
}

ope_status ope_dr_fit_q(const ope_dataset *ds, const ope_policy *pi,
                        const ope_policy_scores *sc, const ope_fqe_config *cfg,
                        int crossfit, ope_qfit *out, ope_error *err) {
  memset(out, 0, sizeof *out);
  if (!crossfit) {
    ope_fqe_model *m = NULL;
    ope_status st = ope_fqe_fit(ds, pi, sc, cfg, &m, err);
    if (st == OPE_OK) st = ope_fqe_predict(m, ds, pi, sc, out, err);
    ope_fqe_model_free(m);
    return st;
  }
  const size_t n = ds->n_episodes;
  if (n < 2)
    return ope_error_set(err, OPE_EUSAGE, "fqe",
                         "cross-fitting needs at least 2 episodes");
  size_t *half = malloc(n * sizeof *half);
  if (half == NULL) return ope_error_nomem(err);
  size_t ne = 0, no = (n + 1) / 2; /* even positions first, then odd */
  for (size_t i = 0; i < n; i += 2) half[ne++] = i;
  for (size_t i = 1; i < n; i += 2) half[ne++] = i;
  ope_status st = ope_qfit_alloc(out, ds->n_steps, err);
  if (st == OPE_OK)
    st = cross_half(ds, pi, sc, cfg, half, no, half + no, n - no, out, err);
  if (st == OPE_OK)
    st = cross_half(ds, pi, sc, cfg, half + no, n - no, half, no, out, err);
  free(half);
  if (st != OPE_OK) {
    ope_qfit_clear(out);
    return st;
  }
  if (out->defined) ope_qfit_finish_value(out, ds);
  return OPE_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One worker's share of refit_values: resamples b = first, first + stride,
 * ... < B, each written to val[b] / def[b]; stops at its first failure
 * (its index in *failed, its error in err). */
typedef struct refit_job {
  const ope_dataset *ds;
  const ope_policy *pi;
  const ope_policy_scores *sc;
  const ope_fqe_config *cfg;
  uint64_t seed;
  int new_seeds, first, stride, B, failed;
  double *val;
  unsigned char *def;
  ope_status st;
  ope_error err;
} refit_job;

static void *refit_worker(void *arg) {
  refit_job *j = arg;
  const ope_dataset *ds = j->ds;
  const size_t n = ds->n_episodes;
  double *cnt = malloc(n * sizeof *cnt);
  size_t *eps = malloc(n * sizeof *eps);
  ope_fqe_config fc = *j->cfg;
  if (!cnt || !eps) {
    j->st = ope_error_nomem(&j->err);
    j->failed = j->first;
  }
  for (int b = j->first; b < j->B && j->st == OPE_OK; b += j->stride) {
    if (j->new_seeds) fc.seed = j->cfg->seed + (uint64_t)(b + 1) * 0x9e3779b97f4a7c15ull;
    ope_ci_boot_counts(j->seed, (uint64_t)b, n, cnt);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      for (double c = cnt[i]; c > 0; c -= 1.0) eps[m++] = i;
    ope_policy_scores ss = {0};
    ope_qfit q = {0};
    ope_dataset *sub = ope_dataset_subset(ds, eps, m, &j->err);
    ope_status st = sub ? scores_subset(j->sc, ds, eps, m, &ss, &j->err) : j->err.status;
    if (st == OPE_OK) st = ope_dr_fit_q(sub, j->pi, &ss, &fc, fc.crossfit, &q, &j->err);
    if (st == OPE_OK && q.defined) {
      j->val[b] = q.value;
      j->def[b] = 1;
    }
    if (st != OPE_OK) {
      j->st = st;
      j->failed = b;
    }
    ope_qfit_clear(&q);
    ope_policy_scores_clear(&ss);
    ope_dataset_free(sub);
  }
  free(cnt);
  free(eps);
  return NULL;
}

/* FQE's value refitted on B episode resamples (stream b of seed for
 * resample b, as in ci.h) into vals[0..*n_defined) (the defined ones, in
 * resample order). With new_seeds, fit b also draws its own model seed
 * from cfg->seed, so the values vary with the fit's randomness as well as
 * with the data. The fits run on up to `threads` threads, each fit on one
 * BLAS thread (cfg->threads is overridden); nothing depends on how many. */
static ope_status refit_values(const ope_dataset *ds, const ope_policy *pi,
                               const ope_policy_scores *sc,
                               const ope_fqe_config *cfg, int B, uint64_t seed,
                               int new_seeds, int threads, double *vals,
                               int *n_defined, ope_error *err) {
  int T = threads < 1 ? 1 : threads > B ? B : threads;
  refit_job *jobs = calloc((size_t)T, sizeof *jobs);
  unsigned char *def = calloc((size_t)B, 1);
  ope_fqe_config fc = *cfg;
  ope_status st = OPE_OK;
  *n_defined = 0;
  if (!jobs || !def) {
    st = ope_error_nomem(err);
    goto done;
  }
  fc.threads = 1;
  int before = ope_gemm_threads();
  ope_gemm_set_threads(1);
  for (int t = 0; t < T; t++)
    jobs[t] = (refit_job){ds, pi, sc, &fc, seed, new_seeds, t, T, B, B, vals, def,
                          OPE_OK, {0}};
  ope_parallel_run(refit_worker, jobs, sizeof *jobs, T);
  ope_gemm_set_threads(before);
  int first = B; /* report the failure of the earliest resample */
  for (int t = 0; t < T; t++)
    if (jobs[t].st != OPE_OK && jobs[t].failed < first) {
      first = jobs[t].failed;
      st = jobs[t].st;
      if (err) *err = jobs[t].err;
    }
  if (st != OPE_OK) goto done;
  for (int b = 0; b < B; b++)
    if (def[b]) vals[(*n_defined)++] = vals[b];
done:
  free(jobs);
  free(def);
  return st;
}

ope_status ope_dr_fqe_refit_interval(const ope_dataset *ds,
                                     const ope_policy *pi,
                                     const ope_policy_scores *sc,
                                     const ope_fqe_config *cfg, int B,
                                     uint64_t seed, int threads, double alpha,
                                     double *lo, double *hi, int *n_defined,
                                     ope_error *err) {
  *lo = *hi = NAN;
  *n_defined = 0;
  if (B < 1 || !(alpha > 0 && alpha < 1) || ds->n_episodes == 0)
    return ope_error_set(err, OPE_EUSAGE, "fqe",
                         "refit interval needs B >= 1, alpha in (0, 1) and episodes");
  double *vals = malloc((size_t)B * sizeof *vals);
  if (vals == NULL) return ope_error_nomem(err);
  ope_status st = refit_values(ds, pi, sc, cfg, B, seed, 0, threads, vals, n_defined, err);
  if (st == OPE_OK && *n_defined > 0) {
    qsort(vals, (size_t)*n_defined, sizeof *vals, cmp_double);
    *lo = ope_ci_quantile(vals, (size_t)*n_defined, alpha / 2);
    *hi = ope_ci_quantile(vals, (size_t)*n_defined, 1 - alpha / 2);
  }
  free(vals);
  return st;
}

ope_status ope_dr_fqe_ensemble_interval(const ope_dataset *ds,
                                        const ope_policy *pi,
                                        const ope_policy_scores *sc,
                                        const ope_fqe_config *cfg, int R,
                                        uint64_t seed, int threads, double alpha,
                                        double estimate, double *lo,
                                        double *hi, int *n_defined,
                                        ope_error *err) {
  *lo = *hi = NAN;
  *n_defined = 0;
  if (R < 2 || !(alpha > 0 && alpha < 1) || ds->n_episodes == 0)
    return ope_error_set(err, OPE_EUSAGE, "fqe",
                         "ensemble interval needs R >= 2, alpha in (0, 1) and episodes");
  double *vals = malloc((size_t)R * sizeof *vals);
  if (vals == NULL) return ope_error_nomem(err);
  ope_status st = refit_values(ds, pi, sc, cfg, R, seed, 1, threads, vals, n_defined, err);
  int m = *n_defined;
  if (st == OPE_OK && m >= 2) {
    double mean = 0, ss = 0;
    for (int b = 0; b < m; b++) mean += vals[b] / m;
    for (int b = 0; b < m; b++) ss += (vals[b] - mean) * (vals[b] - mean);
    // normal bootstrap interval (Efron & Tibshirani 1993, eq. 13.5) with
    // Student t's quantile for an SD estimated from m values
    double half = ope_ci_t_quantile(1 - alpha / 2, m - 1.0) * sqrt(ss / (m - 1));
    *lo = estimate - half;
    *hi = estimate + half;
  }
  free(vals);
  return st;
}

ope_status ope_dr_refit_intervals(const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *pe,
                                  const ope_fqe_config *fqe, double gamma,
                                  const ope_ci_config *ci, ope_estimate *est,
                                  size_t n, ope_error *err) {
  if (ci->method != OPE_CI_BOOTSTRAP) return OPE_OK;
  ope_fqe_config fc = *fqe;
  fc.gamma = gamma;
  if (fc.kind == OPE_FQE_AUTO) fc.kind = ope_fqe_auto_kind(ds);
  int refit = fc.kind == OPE_FQE_TABULAR || fc.kind == OPE_FQE_LINEAR;
  int ensemble = fc.kind == OPE_FQE_NEURAL && fc.refits >= 2;
  double rows = ds->n_steps ? (double)ds->n_steps : 1.0;
  double budget = fmax(50.0, floor(OPE_FQE_REFIT_ROWS / rows));
  int B = ensemble ? fc.refits
                   : (int)fmin(fmin((double)ci->n_boot, OPE_FQE_REFIT_MAX), budget);
  int done = 0, n_def = 0;
  double lo = NAN, hi = NAN;
  for (size_t k = 0; k < n; k++) {
    ope_estimate *e = &est[k];
    if (e->est == &ope_est_magic && e->has_ci)
      ope_est_note_add(e, "interval holds the fitted Q and the blend fixed");
    if ((e->est != &ope_est_dm && e->est != &ope_est_fqe) || e->flag != OPE_EST_DEFINED)
      continue;
    if (!refit && !ensemble) {
      ope_est_note_add(e, "interval resamples start states under the one fitted Q "
                     "(the network is not refitted per resample)");
      continue;
    }
    if (!done) {
      ope_status st =
          ensemble ? ope_dr_fqe_ensemble_interval(ds, pi, pe, &fc, B, ci->seed, ci->threads,
                                                  ci->alpha, e->value, &lo, &hi, &n_def, err)
                   : ope_dr_fqe_refit_interval(ds, pi, pe, &fc, B, ci->seed, ci->threads,
                                               ci->alpha, &lo, &hi, &n_def, err);
      if (st != OPE_OK) return st;
      done = 1;
    }
    if (n_def * 2 < B) {
      e->has_ci = 0;
      ope_est_note_add(e, "no interval: FQE is undefined on most resamples");
      continue;
    }
    e->has_ci = 1;
    e->ci_low = lo;
    e->ci_high = hi;
    e->ci_method = "bootstrap";
    if (ensemble)
      ope_est_note_add(e, "value +- t sd of %d neural FQE refits on episode resamples, each "
                       "with its own network seed", n_def);
    else
      ope_est_note_add(e, "bootstrap refits %s FQE on each of %d resamples",
                       ope_fqe_kind_name(fc.kind), B);
  }
  return OPE_OK;
}

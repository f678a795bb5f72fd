/* The importance-sampling family: IS, PDIS, WIS, WPDIS (estimators.h).
 *
 * Formulas (ARCHITECTURE.md; episodes i, steps t, w_t cumulative weight):
 *   IS    mean_i w_{H-1} G                 trajectory-wise IS
 *   PDIS  mean_i sum_t g^t w_t r_t         Precup, Sutton & Singh 2000, sec. 2
 *                                          ("per-decision importance sampling")
 *   WIS   sum_i w_{H-1} G / sum_i w_{H-1}  weighted IS; Precup et al. 2000, sec. 2
 *   WPDIS sum_t g^t sum_i w_t r_t / sum_i w_t
 *                                          weighted per-decision IS; Thomas &
 *                                          Brunskill 2016 (ICML), sec. 3
 * WPDIS carries an ended episode's last weight forward with reward 0.
 *
 * Every column is stored divided by exp(max log weight) of the terms that
 * feed it (its lscale), so nothing overflows; WIS and WPDIS give their
 * numerator and denominator the same scale, so the ratio is exact.
 *
 * WPDIS has 2H columns: from OPE_EST_F32_MIN_EPISODES episodes on they are
 * kept in single precision (xf) with their exact double sums, which halves
 * the largest array of an evaluation; the point estimate uses the exact
 * sums (estimators.h), bootstrap replicates the floats (ci.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimators.h"

/* Discounted return of episode i. */
static double ep_return(const ope_dataset *ds, size_t i, double g) {
  double G = 0.0, d = 1.0;
  for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
    G += d * ds->reward[r];
    d *= g;
  }
  return G;
}

/* Largest finite... or -inf: the maximum of the final log weights. */
static double max_final(const ope_weights *w) {
  double m = -INFINITY;
  for (size_t i = 0; i < w->n_episodes; i++) {
    double lw = ope_weights_log_final(w, i);
    if (lw > m) m = lw;
  }
  return m;
}

/* IS (k = 1) and WIS (k = 2): column 0 = w G, column 1 = w. */
static ope_status traj_stats(const ope_est_input *in, size_t k,
                             ope_est_stats *out, ope_error *err) {
  const ope_weights *w = in->w;
  ope_status st = ope_est_stats_alloc(out, w->n_episodes, k, err);
  if (st != OPE_OK) return st;
  double m = max_final(w);
  double ls = isinf(m) ? 0.0 : m;
  for (size_t j = 0; j < k; j++) out->lscale[j] = ls;
  for (size_t i = 0; i < w->n_episodes; i++) {
    double lw = ope_weights_log_final(w, i);
    double sw = isinf(m) ? 0.0 : exp(lw - m); /* lw = -inf gives 0 */
    out->x[i * k] = sw * ep_return(in->ds, i, in->gamma);
    if (k > 1) out->x[i * k + 1] = sw;
  }
  return OPE_OK;
}

static ope_status is_stats(const ope_est_input *in, ope_est_stats *out,
                           ope_error *err) {
  return traj_stats(in, 1, out, err);
}

static ope_status wis_stats(const ope_est_input *in, ope_est_stats *out,
                            ope_error *err) {
  return traj_stats(in, 2, out, err);
}

static ope_est_flag mean_value(const ope_est_stats *s, const double *sum,
                               double count, double *out) {
  if (!(count > 0)) return OPE_EST_UNDEFINED;
  return ope_est_scaled(sum[0] / count, s->lscale[0], out);
}

static ope_est_flag wis_value(const ope_est_stats *s, const double *sum,
                              double count, double *out) {
  if (!(sum[1] > 0)) return OPE_EST_UNDEFINED;
  *out = sum[0] / sum[1]; /* same scale on both columns */
  return isfinite(*out) ? OPE_EST_DEFINED : OPE_EST_OVERFLOW;
}

/* PDIS: one column sum_t g^t w_t r_t, scaled by the largest log(g^t w_t). */
static ope_status pdis_stats(const ope_est_input *in, ope_est_stats *out,
                             ope_error *err) {
  const ope_weights *w = in->w;
  const ope_dataset *ds = in->ds;
  ope_status st = ope_est_stats_alloc(out, w->n_episodes, 1, err);
  if (st != OPE_OK) return st;
  double lg = log(in->gamma);
  double m = -INFINITY;
  for (size_t i = 0; i < w->n_episodes; i++)
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
      double l = w->log_w[r] + (double)(r - ds->ep_offset[i]) * lg;
      if (l > m) m = l;
    }
  out->lscale[0] = isinf(m) ? 0.0 : m;
  if (isinf(m)) return OPE_OK; /* every term is 0 */
  for (size_t i = 0; i < w->n_episodes; i++) {
    double acc = 0.0;
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
      double l = w->log_w[r] + (double)(r - ds->ep_offset[i]) * lg;
      acc += exp(l - m) * ds->reward[r];
    }
    out->x[i] = acc;
  }
  return OPE_OK;
}

/* Row i of the WPDIS stats: row[t] = w_t r_t, row[H + t] = w_t, scaled by
 * exp(-m[t]). */
static void wpdis_row(const ope_weights *w, const ope_dataset *ds, size_t i,
                      const double *m, size_t H, double *row) {
  size_t len = ds->ep_offset[i + 1] - ds->ep_offset[i];
  for (size_t t = 0; t < H; t++) {
    double sw = exp(ope_weights_log_w_at(w, i, (long)t) - m[t]);
    row[H + t] = sw;
    row[t] = t < len ? sw * ds->reward[ds->ep_offset[i] + t] : 0.0;
  }
}

/* The single-precision layout (estimators.h) of large datasets: xf and the
 * exact sums. 0 when some value would lose accuracy as a float (the caller
 * then keeps double). */
static int wpdis_f32(const ope_est_input *in, const double *m, ope_est_stats *out,
                     ope_status *st, ope_error *err) {
  const ope_weights *w = in->w;
  size_t H = w->horizon, n = w->n_episodes, k = 2 * H;
  double *row = malloc((k ? k : 1) * sizeof(double));
  if (row == NULL || (*st = ope_est_stats_alloc_f32(out, n, k, err)) != OPE_OK) {
    if (row == NULL) *st = ope_error_nomem(err);
    free(row);
    return 1;
  }
  int ok = 1;
  for (size_t i = 0; i < n && ok; i++) {
    wpdis_row(w, in->ds, i, m, H, row);
    float *f = out->xf + i * k;
    for (size_t j = 0; j < k; j++) {
      out->sum[j] += row[j];
      ok &= ope_est_f32_ok(row[j]);
      f[j] = (float)row[j];
    }
  }
  free(row);
  if (!ok) ope_est_stats_clear(out);
  return ok;
}

/* WPDIS: columns t (numerator sum_i w_t r_t) and H + t (denominator
 * sum_i w_t, carried forward), both scaled by the step's max log weight. */
static ope_status wpdis_stats(const ope_est_input *in, ope_est_stats *out,
                              ope_error *err) {
  const ope_weights *w = in->w;
  const ope_dataset *ds = in->ds;
  size_t H = w->horizon, n = w->n_episodes;
  if (H > 0 && n > ((size_t)1 << 31) / H)
    return ope_error_set(err, OPE_EUSAGE, "wpdis",
                         "%zu episodes x horizon %zu is too large for the "
                         "per-step statistics", n, H);
  double *m = malloc((H ? 2 * H : 1) * sizeof(double));
  if (m == NULL) return ope_error_nomem(err);
  ope_status st = OPE_OK;
  /* m[t] for t < H; copied to H + t below */
  for (size_t t = 0; t < H; t++) m[t] = -INFINITY;
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < H; t++) {
      double lw = ope_weights_log_w_at(w, i, (long)t);
      if (lw > m[t]) m[t] = lw;
    }
  for (size_t t = 0; t < H; t++) {
    if (isinf(m[t])) m[t] = 0.0; /* every weight is 0: columns stay 0 */
    m[H + t] = m[t];
  }
  if (n >= OPE_EST_F32_MIN_EPISODES && n < ((size_t)1 << 24) &&
      wpdis_f32(in, m, out, &st, err)) {
    if (st != OPE_OK) goto done;
  } else {
    if ((st = ope_est_stats_alloc(out, n, 2 * H, err)) != OPE_OK) goto done;
    for (size_t i = 0; i < n; i++) wpdis_row(w, ds, i, m, H, out->x + i * 2 * H);
  }
  out->horizon = H;
  memcpy(out->lscale, m, 2 * H * sizeof(double));
done:
  free(m);
  return st;
}

static ope_est_flag wpdis_value(const ope_est_stats *s, const double *sum,
                                double count, double *out) {
  size_t H = s->horizon;
  double v = 0.0, d = 1.0, g = s->aux[0];
  for (size_t t = 0; t < H; t++) {
    if (!(sum[H + t] > 0)) return OPE_EST_UNDEFINED;
    v += d * sum[t] / sum[H + t];
    d *= g;
  }
  *out = v;
  return isfinite(v) ? OPE_EST_DEFINED : OPE_EST_OVERFLOW;
}

static ope_status wpdis_stats_g(const ope_est_input *in, ope_est_stats *out,
                                ope_error *err) {
  ope_status st = wpdis_stats(in, out, err);
  if (st == OPE_OK) out->aux[0] = in->gamma;
  return st;
}

/* sum_{t<H} g^t */
static double disc_sum(double g, size_t H) {
  double s = 0.0, d = 1.0;
  for (size_t t = 0; t < H; t++) {
    s += d;
    d *= g;
  }
  return s;
}

static int need_bounds(const ope_est_input *in, char *why, size_t n) {
  if (!in->has_reward_range) {
    snprintf(why, n, "rewards have no known bound: give --reward-range LO,HI");
    return 0;
  }
  if (!(in->w->clip > 0)) {
    snprintf(why, n, "importance weights are unbounded without --clip "
                     "(a cap on the per-step ratio)");
    return 0;
  }
  return 1;
}

/* IS: w_{H-1} in [0, max(c, c^H)], G in [min(lo, lo S_H), max(hi, hi S_H)]. */
static int is_range(const ope_est_input *in, double *lo, double *hi,
                    char *why, size_t n) {
  if (!need_bounds(in, why, n)) return 0;
  double c = in->w->clip;
  size_t H = in->w->horizon;
  double wmax = fmax(c, pow(c, (double)H));
  double S = disc_sum(in->gamma, H);
  double glo = fmin(in->reward_lo, in->reward_lo * S);
  double ghi = fmax(in->reward_hi, in->reward_hi * S);
  *lo = fmin(0.0, wmax * glo);
  *hi = fmax(0.0, wmax * ghi);
  if (!isfinite(*lo) || !isfinite(*hi)) {
    snprintf(why, n, "the bound clip^H = %g^%zu is beyond the double range", c, H);
    return 0;
  }
  return 1;
}

/* PDIS: sum_t g^t w_t r_t with w_t in [0, c^(t+1)]. */
static int pdis_range(const ope_est_input *in, double *lo, double *hi,
                      char *why, size_t n) {
  if (!need_bounds(in, why, n)) return 0;
  double c = in->w->clip, g = in->gamma, s = 0.0, d = 1.0, cw = c;
  for (size_t t = 0; t < in->w->horizon; t++) {
    s += d * cw;
    d *= g;
    cw *= c;
  }
  *lo = s * fmin(in->reward_lo, 0.0);
  *hi = s * fmax(in->reward_hi, 0.0);
  if (!isfinite(*lo) || !isfinite(*hi)) {
    snprintf(why, n, "the bound on the weights is beyond the double range");
    return 0;
  }
  return 1;
}

const ope_estimator ope_est_is = {
  "is", "trajectory-wise importance sampling",
  "Precup, Sutton & Singh 2000, sec. 2", OPE_EST_NEEDS_WEIGHTS, 1,
  is_stats, mean_value, is_range,
};
const ope_estimator ope_est_pdis = {
  "pdis", "per-decision importance sampling",
  "Precup, Sutton & Singh 2000, sec. 2", OPE_EST_NEEDS_WEIGHTS, 1,
  pdis_stats, mean_value, pdis_range,
};
const ope_estimator ope_est_wis = {
  "wis", "weighted importance sampling",
  "Precup, Sutton & Singh 2000, sec. 2", OPE_EST_NEEDS_WEIGHTS, 0,
  wis_stats, wis_value, NULL,
};
const ope_estimator ope_est_wpdis = {
  "wpdis", "weighted per-decision importance sampling",
  "Thomas & Brunskill 2016, sec. 3", OPE_EST_NEEDS_WEIGHTS, 0,
  wpdis_stats_g, wpdis_value, NULL,
};

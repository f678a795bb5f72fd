/* Weight and support diagnostics (diagnostics.h). Kish's effective sample
 * size, (sum w)^2 / sum w^2 (Kish 1965, "Survey Sampling", sec. 11.7), is
 * computed as exp(2 lse(lw) - lse(2 lw)) so that weights beyond the double
 * range still give the right ESS. */
#include "estimators/diagnostics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double ope_diag_quantile_levels[OPE_DIAG_N_QUANTILES] = {
  0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0};

void ope_diag_config_default(ope_diag_config *cfg) {
  cfg->support_x = 0.05;
  cfg->support_y = 0.01;
  cfg->ess_min_frac = 0.01;
  cfg->max_share_limit = 0.5;
  cfg->support_limit = 0.5;
}

void ope_diag_clear(ope_diagnostics *d) {
  if (d == NULL) return;
  free(d->ess_step);
  memset(d, 0, sizeof *d);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Kish ESS of the weights exp(lw[0..n-1]); 0 when all are 0. */
static double kish(const double *lw, double *tmp, size_t n) {
  double l1 = ope_logsumexp(lw, n);
  if (isinf(l1)) return 0.0;
  for (size_t i = 0; i < n; i++) tmp[i] = 2.0 * lw[i];
  return exp(2.0 * l1 - ope_logsumexp(tmp, n));
}

/* kish() of every horizon step at once, ess[t] for t < H: the same sums in
 * the same order (episodes ascending) as kish() on each step's column, so
 * the same numbers, but reading the weights row by row. 0 when out of
 * memory. */
static int kish_steps(const ope_weights *w, double *ess) {
  size_t n = w->n_episodes, H = w->horizon;
  double *m1 = malloc((H ? 4 * H : 1) * sizeof(double));
  if (m1 == NULL) return 0;
  double *m2 = m1 + H, *s1 = m1 + 2 * H, *s2 = m1 + 3 * H;
  for (size_t t = 0; t < H; t++) {
    m1[t] = m2[t] = -INFINITY;
    s1[t] = s2[t] = 0.0;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < H; t++) {
      double x = ope_weights_log_w_at(w, i, (long)t), x2 = 2.0 * x;
      if (x > m1[t]) m1[t] = x;
      if (x2 > m2[t]) m2[t] = x2;
    }
  for (size_t i = 0; i < n; i++)
    for (size_t t = 0; t < H; t++) {
      double x = ope_weights_log_w_at(w, i, (long)t);
      if (!isinf(m1[t])) s1[t] += exp(x - m1[t]);
      if (!isinf(m2[t])) s2[t] += exp(2.0 * x - m2[t]);
    }
  for (size_t t = 0; t < H; t++) {
    double l1 = isinf(m1[t]) ? m1[t] : m1[t] + log(s1[t]);
    double l2 = isinf(m2[t]) ? m2[t] : m2[t] + log(s2[t]);
    ess[t] = isinf(l1) ? 0.0 : exp(2.0 * l1 - l2);
  }
  free(m1);
  return 1;
}

static void add_reason(ope_diagnostics *d, const char *why) {
  size_t len = strlen(d->reason);
  snprintf(d->reason + len, sizeof d->reason - len, "%s%s", len ? "; " : "", why);
  d->unreliable = 1;
}

static void support_discrete(const ope_dataset *ds, const ope_policy_scores *pe,
                             const double *pb, const ope_diag_config *cfg,
                             ope_diagnostics *d) {
  int A = ds->n_actions;
  size_t bad = 0;
  for (size_t r = 0; r < ds->n_steps; r++) {
    const double *e = pe->dist + r * (size_t)A, *b = pb + r * (size_t)A;
    for (int a = 0; a < A; a++)
      if (e[a] >= cfg->support_x && b[a] < cfg->support_y) {
        bad++;
        break;
      }
  }
  d->support_kind = 1;
  d->support_rows = bad;
  d->support_frac = ds->n_steps ? (double)bad / (double)ds->n_steps : 0.0;
}

static int support_continuous(const ope_dataset *ds,
                              const ope_policy_scores *pe, ope_diagnostics *d) {
  size_t T = ds->n_steps;
  int m = ds->action_dim;
  double *dist = malloc((T ? T : 1) * sizeof(double));
  if (dist == NULL) return 0;
  size_t far = 0;
  for (size_t r = 0; r < T; r++) {
    double q = 0.0;
    for (int j = 0; j < m; j++) {
      double z = ds->action_vec[r * (size_t)m + j] - pe->act[r * (size_t)m + j];
      q += z * z;
    }
    dist[r] = sqrt(q) / pe->bandwidth;
    if (dist[r] > 3.0) far++;
  }
  qsort(dist, T, sizeof(double), cmp_double);
  d->support_kind = 2;
  d->support_rows = far;
  d->support_frac = T ? (double)far / (double)T : 0.0;
  d->support_median_bw = T ? (T % 2 ? dist[T / 2] : 0.5 * (dist[T / 2 - 1] + dist[T / 2])) : 0.0;
  free(dist);
  return 1;
}

ope_status ope_diag_compute(const ope_dataset *ds, const ope_weights *w,
                            const ope_policy_scores *pe, const double *pb_dist,
                            const ope_diag_config *cfg, ope_diagnostics *out,
                            ope_error *err) {
  ope_status st = OPE_OK;
  memset(out, 0, sizeof *out);
  size_t n = w->n_episodes, H = w->horizon;
  out->n_episodes = n;
  out->horizon = H;
  out->clip = w->clip;
  out->n_clipped = w->n_clipped;
  double *lw = calloc(n ? n : 1, sizeof(double));
  double *tmp = malloc((n ? n : 1) * sizeof(double));
  out->ess_step = calloc(H ? H : 1, sizeof(double));
  if (lw == NULL || tmp == NULL || out->ess_step == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  /* final weights */
  size_t zeros = 0;
  for (size_t i = 0; i < n; i++) {
    lw[i] = ope_weights_log_final(w, i);
    if (isinf(lw[i]) && lw[i] < 0) zeros++;
  }
  out->ess = kish(lw, tmp, n);
  out->ess_frac = n ? out->ess / (double)n : 0.0;
  out->zero_frac = n ? (double)zeros / (double)n : 0.0;
  double l1 = ope_logsumexp(lw, n), lmax = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (lw[i] > lmax) lmax = lw[i];
  out->max_share = isinf(l1) ? 0.0 : exp(lmax - l1);
  memcpy(tmp, lw, n * sizeof(double));
  qsort(tmp, n, sizeof(double), cmp_double);
  for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++) {
    if (n == 0) {
      out->quantiles[q] = NAN;
      continue;
    }
    double h = (double)(n - 1) * ope_diag_quantile_levels[q];
    size_t lo = (size_t)floor(h), hi = lo + 1 < n ? lo + 1 : lo;
    double f = h - (double)lo;
    /* interpolate the weights themselves, not their logs */
    double a = exp(tmp[lo]), b = exp(tmp[hi]);
    out->quantiles[q] = f == 0 ? a : a + f * (b - a);
  }
  /* per step, carry-forward */
  out->ess_step_min = H ? INFINITY : 0.0;
  if (!kish_steps(w, out->ess_step)) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t t = 0; t < H; t++)
    if (out->ess_step[t] < out->ess_step_min) out->ess_step_min = out->ess_step[t];
  /* support */
  if (ds->action_kind == OPE_ACTION_DISCRETE) {
    if (pe->dist && pb_dist)
      support_discrete(ds, pe, pb_dist, cfg, out);
    else
      snprintf(out->support_note, sizeof out->support_note, "%s",
               pb_dist == NULL ? "the behavior policy's full distribution is unknown"
                               : "the evaluation policy's full distribution is unknown");
  } else if (pe->deterministic && pe->act && pe->bandwidth > 0) {
    if (!support_continuous(ds, pe, out)) {
      st = ope_error_nomem(err);
      goto done;
    }
  } else {
    snprintf(out->support_note, sizeof out->support_note,
             "support distance is measured for deterministic policies only");
  }
  /* verdict */
  char why[128];
  if (n > 0 && out->ess == 0) {
    add_reason(out, "every trajectory weight is 0");
  } else if (n > 0) {
    if (out->ess_frac < cfg->ess_min_frac) {
      snprintf(why, sizeof why, "ESS %.3g is below %.3g%% of the episodes",
               out->ess, 100.0 * cfg->ess_min_frac);
      add_reason(out, why);
    }
    if (out->max_share > cfg->max_share_limit && n > 1) {
      snprintf(why, sizeof why, "one episode holds %.3g%% of the weight (limit %.3g%%)",
               100.0 * out->max_share, 100.0 * cfg->max_share_limit);
      add_reason(out, why);
    }
  }
  if (out->support_kind && out->support_frac > cfg->support_limit) {
    snprintf(why, sizeof why,
             "%.3g%% of the logged steps leave the behavior's support (limit %.3g%%)",
             100.0 * out->support_frac, 100.0 * cfg->support_limit);
    add_reason(out, why);
  }
done:
  free(lw);
  free(tmp);
  if (st != OPE_OK) ope_diag_clear(out);
  return st;
}

/* Importance weights in log space (weights.h).
 *
 * Per-decision importance sampling (Precup, Sutton & Singh 2000, eq. 2)
 * multiplies per-step ratios; here the logs are summed so that the product
 * never overflows or underflows on the way, whatever the horizon. */
#include "estimators/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double ope_logsumexp(const double *x, size_t n) {
  double m = -INFINITY;
  for (size_t k = 0; k < n; k++)
    if (x[k] > m) m = x[k];
  if (isinf(m)) return m; /* all -inf (or some +inf) */
  double s = 0.0;
  for (size_t k = 0; k < n; k++) s += exp(x[k] - m);
  return m + log(s);
}

void ope_weights_clear(ope_weights *w) {
  if (w == NULL) return;
  free(w->ep_offset);
  free(w->log_w);
  memset(w, 0, sizeof *w);
}

void ope_weights_release_rows(ope_weights *w) {
  free(w->ep_offset);
  free(w->log_w);
  w->ep_offset = NULL;
  w->log_w = NULL;
}

/* Row r of ds as "row N (episode LABEL, step T)" for messages. */
static void row_where(const ope_dataset *ds, size_t r, char *buf, size_t size) {
  size_t e = 0;
  while (e + 1 < ds->n_episodes && ds->ep_offset[e + 1] <= r) e++;
  snprintf(buf, size, "row %zu (episode %s, step %zu)", r,
           ds->ep_label && ds->ep_label[e] ? ds->ep_label[e] : "?",
           r - ds->ep_offset[e]);
}

ope_status ope_weights_compute(const ope_dataset *ds, const double *pe,
                               const double *pb, double clip,
                               ope_weights *out, ope_error *err) {
  memset(out, 0, sizeof *out);
  if (!(clip >= 0) || isinf(clip))
    return ope_error_set(err, OPE_EUSAGE, NULL,
                         "the ratio cap must be a finite number >= 0, not %g", clip);
  size_t n = ds->n_episodes, T = ds->n_steps;
  out->n_episodes = n;
  out->n_steps = T;
  out->clip = clip;
  out->ep_offset = malloc((n + 1) * sizeof(size_t));
  out->log_w = malloc((T ? T : 1) * sizeof(double));
  if (!out->ep_offset || !out->log_w) {
    ope_weights_clear(out);
    return ope_error_nomem(err);
  }
  memcpy(out->ep_offset, ds->ep_offset, (n + 1) * sizeof(size_t));
  double log_clip = clip > 0 ? log(clip) : INFINITY;
  char where[128];
  for (size_t i = 0; i < n; i++) {
    size_t len = ds->ep_offset[i + 1] - ds->ep_offset[i];
    if (len > out->horizon) out->horizon = len;
    double acc = 0.0;
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++) {
      if (!(pb[r] > 0) || !isfinite(pb[r])) {
        row_where(ds, r, where, sizeof where);
        ope_weights_clear(out);
        return ope_error_set(err, OPE_EDATA, where,
                             "behavior probability %g is not > 0", pb[r]);
      }
      if (!(pe[r] >= 0) || !isfinite(pe[r])) {
        row_where(ds, r, where, sizeof where);
        ope_weights_clear(out);
        return ope_error_set(err, OPE_EDATA, where,
                             "evaluation probability %g is not a number >= 0", pe[r]);
      }
      double lr;
      if (pe[r] == 0) {
        lr = -INFINITY;
        out->n_zero++;
      } else {
        lr = log(pe[r]) - log(pb[r]);
        if (lr > log_clip) {
          lr = log_clip;
          out->n_clipped++;
        }
      }
      acc += lr; /* -inf stays -inf: the weight is exactly 0 from here */
      out->log_w[r] = acc;
    }
  }
  return OPE_OK;
}

void ope_weights_step_lse(const ope_weights *w, const double *count,
                          double *lse) {
  size_t H = w->horizon;
  /* Two passes per step would cost n*H; instead keep a running maximum per
   * step, then accumulate exp(lw - max). Active rows and carried weights are
   * visited per episode: an episode contributes its row weights for t < H_i
   * and its last weight for H_i <= t < H. */
  for (size_t t = 0; t < H; t++) lse[t] = -INFINITY;
  for (size_t i = 0; i < w->n_episodes; i++) {
    if (count && !(count[i] > 0)) continue;
    for (size_t t = 0; t < H; t++) {
      double lw = ope_weights_log_w_at(w, i, (long)t);
      if (lw > lse[t]) lse[t] = lw;
    }
  }
  double *acc = calloc(H ? H : 1, sizeof(double));
  if (acc == NULL) { /* fall back to a slower, allocation-free order */
    for (size_t t = 0; t < H; t++) {
      if (isinf(lse[t])) continue;
      double s = 0.0, m = lse[t];
      for (size_t i = 0; i < w->n_episodes; i++) {
        double c = count ? count[i] : 1.0;
        if (c > 0) s += c * exp(ope_weights_log_w_at(w, i, (long)t) - m);
      }
      lse[t] = m + log(s);
    }
    return;
  }
  for (size_t i = 0; i < w->n_episodes; i++) {
    double c = count ? count[i] : 1.0;
    if (!(c > 0)) continue;
    for (size_t t = 0; t < H; t++)
      if (!isinf(lse[t]))
        acc[t] += c * exp(ope_weights_log_w_at(w, i, (long)t) - lse[t]);
  }
  for (size_t t = 0; t < H; t++)
    if (!isinf(lse[t])) lse[t] += log(acc[t]);
  free(acc);
}

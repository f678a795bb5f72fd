/* Importance weights: per-step ratios and cumulative per-decision weights.
 *
 * For every logged row t of episode i the per-step ratio is
 *   rho_t = pi_e(a_t|h_t) / pi_b(a_t|h_t)        (optionally min(rho_t, clip))
 * and the cumulative weight is w_t = rho_0 ... rho_t (w_{-1} = 1). Both are
 * kept as natural logarithms, so a horizon of 1,000 with ratios of 10 (w up
 * to 1e1000) or of 1e-6 (w down to 1e-6000) stays exact: a product of
 * ratios becomes a sum of logs, and every consumer rescales by a maximum
 * before leaving log space (log-sum-exp). A zero target probability gives
 * log rho = -inf and w = 0 from that step on, which is exact too.
 *
 * Ended episodes and per-step denominators: the weighted per-step
 * estimators (WPDIS, WDR) divide by sum_i w_t^i at every step t up to the
 * longest horizon H. An episode of length H_i < H has ended (terminal or
 * truncated) and carries its last weight w_{H_i-1} forward into every later
 * step's denominator, with reward, Q and V equal to 0 (ARCHITECTURE.md).
 * ope_weights_log_w_at() gives that carried value, and
 * ope_weights_step_lse() gives log sum_i c_i w_t^i for every t.
 *
 * The weights borrow nothing: they copy the episode offsets they need. */
#ifndef OPE_ESTIMATORS_WEIGHTS_H
#define OPE_ESTIMATORS_WEIGHTS_H

#include <math.h>
#include <stddef.h>

#include "core/error.h"
#include "data/dataset.h"

typedef struct ope_weights {
  size_t n_episodes;
  size_t n_steps;
  size_t horizon;       /* H: the longest episode's length */
  size_t *ep_offset;    /* (n_episodes + 1) copy of the dataset's offsets */
  double *log_w;        /* (n_steps) log w_t, cumulative within the episode */
  double clip;          /* per-step ratio cap; 0 = no clipping */
  size_t n_clipped;     /* rows whose ratio was capped */
  size_t n_zero;        /* rows with pi_e(a_t) = 0 (log rho_t = -inf) */
} ope_weights;

/* Compute weights for ds from the evaluation policy's probability (or
 * density) of each logged action, pe[n_steps], and the behavior policy's,
 * pb[n_steps] (the log's pscore or estimated propensities). clip > 0 caps
 * every per-step ratio at clip (truncated IS, Ionides 2008); clip = 0 means
 * none. Fails with OPE_EDATA naming the row when pb is not > 0 or either is
 * not finite, or pe < 0; OPE_EUSAGE for clip < 0. out is zeroed first and
 * owns fresh arrays (free with ope_weights_clear). */
ope_status ope_weights_compute(const ope_dataset *ds, const double *pe,
                               const double *pb, double clip,
                               ope_weights *out, ope_error *err);
/* Free the arrays and zero w. NULL is a no-op. */
void ope_weights_clear(ope_weights *w);
/* Free the per-row arrays (log_w, ep_offset) but keep the sizes, horizon,
 * clip and counts, for a caller that reads only those afterwards (the
 * interval checks); lowers peak memory on large datasets. */
void ope_weights_release_rows(ope_weights *w);

/* log w_t^i for step t of episode i, with the carry-forward rule: for t at
 * or after the episode's end, the episode's last log weight. t = -1 gives
 * log 1 = 0. */
static inline double ope_weights_log_w_at(const ope_weights *w, size_t i,
                                          long t) {
  if (t < 0) return 0.0;
  size_t len = w->ep_offset[i + 1] - w->ep_offset[i];
  if (len == 0) return 0.0;
  size_t tt = (size_t)t < len ? (size_t)t : len - 1;
  return w->log_w[w->ep_offset[i] + tt];
}

/* Log of the final (trajectory) weight of episode i: log w_{H_i-1}. */
static inline double ope_weights_log_final(const ope_weights *w, size_t i) {
  return ope_weights_log_w_at(w, i, (long)w->horizon);
}

/* The per-step denominators of the weighted per-decision estimators:
 * lse[t] = log sum_i c_i w_t^i for t = 0..horizon-1, with carry-forward for
 * ended episodes; count[i] >= 0 is episode i's multiplicity (NULL: all 1).
 * lse[t] = -inf when every weight at step t is 0 (the estimator is then
 * undefined at t). lse must hold horizon values. */
void ope_weights_step_lse(const ope_weights *w, const double *count,
                          double *lse);

/* Normalized weight of episode i at step t: w_t^i / sum_j w_t^j given the
 * step's lse from ope_weights_step_lse (0 when lse[t] = -inf). */
static inline double ope_weights_norm_at(const ope_weights *w, size_t i,
                                         long t, const double *lse) {
  if (t < 0 || isinf(lse[t]) || isnan(lse[t])) return 0.0;
  return exp(ope_weights_log_w_at(w, i, t) - lse[t]);
}

/* log(sum_k exp(x[k])) over n values, exact for any magnitudes; -inf for
 * n = 0 or all -inf. */
double ope_logsumexp(const double *x, size_t n);

#endif

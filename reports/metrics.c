/* Selection metrics against ground truth (metrics.h). */
#include "reports/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "estimators/ci.h"

/* Indices of the candidates with a finite estimate and truth. */
static size_t usable(const double *est, const double *truth, size_t n,
                     size_t *idx) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(est[i]) && isfinite(truth[i])) idx[m++] = i;
  return m;
}

/* Average ranks (1-based) of x[idx[0..m-1]] into r[0..m-1]. */
static void average_ranks(const double *x, const size_t *idx, size_t m,
                          double *r) {
  for (size_t a = 0; a < m; a++) {
    double less = 0, same = 0;
    for (size_t b = 0; b < m; b++) {
      if (x[idx[b]] < x[idx[a]]) less += 1;
      else if (x[idx[b]] == x[idx[a]]) same += 1;
    }
    r[a] = less + (same + 1.0) / 2.0;
  }
}

double ope_metric_spearman(const double *est, const double *truth, size_t n) {
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  double *re = malloc((n ? n : 1) * sizeof *re);
  double *rt = malloc((n ? n : 1) * sizeof *rt);
  double out = NAN;
  if (!idx || !re || !rt) goto done;
  size_t m = usable(est, truth, n, idx);
  if (m < 2) goto done;
  average_ranks(est, idx, m, re);
  average_ranks(truth, idx, m, rt);
  double me = 0, mt = 0, see = 0, stt = 0, set = 0;
  for (size_t a = 0; a < m; a++) { me += re[a]; mt += rt[a]; }
  me /= (double)m;
  mt /= (double)m;
  for (size_t a = 0; a < m; a++) {
    see += (re[a] - me) * (re[a] - me);
    stt += (rt[a] - mt) * (rt[a] - mt);
    set += (re[a] - me) * (rt[a] - mt);
  }
  if (see > 0 && stt > 0) out = set / sqrt(see * stt);
done:
  free(idx);
  free(re);
  free(rt);
  return out;
}

double ope_metric_kendall(const double *est, const double *truth, size_t n) {
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  double out = NAN;
  if (!idx) return NAN;
  size_t m = usable(est, truth, n, idx);
  double c = 0, d = 0, te = 0, tt = 0, n0 = (double)m * ((double)m - 1) / 2;
  for (size_t a = 0; a < m; a++)
    for (size_t b = a + 1; b < m; b++) {
      double de = est[idx[a]] - est[idx[b]], dt = truth[idx[a]] - truth[idx[b]];
      if (de == 0) te += 1;
      if (dt == 0) tt += 1;
      if (de * dt > 0) c += 1;
      else if (de * dt < 0) d += 1;
    }
  if (m >= 2 && n0 - te > 0 && n0 - tt > 0) out = (c - d) / sqrt((n0 - te) * (n0 - tt));
  free(idx);
  return out;
}

double ope_metric_regret_at(const double *est, const double *truth, size_t n,
                            size_t k) {
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  double out = NAN;
  if (!idx) return NAN;
  size_t m = usable(est, truth, n, idx);
  if (m == 0 || k == 0) goto done;
  double vmax = -INFINITY, vmin = INFINITY;
  for (size_t a = 0; a < m; a++) {
    if (truth[idx[a]] > vmax) vmax = truth[idx[a]];
    if (truth[idx[a]] < vmin) vmin = truth[idx[a]];
  }
  /* The top k by estimate: a candidate is in when fewer than k others have a
   * strictly larger estimate or an equal one earlier in the list. */
  double best = -INFINITY;
  for (size_t a = 0; a < m; a++) {
    size_t above = 0;
    for (size_t b = 0; b < m; b++)
      if (est[idx[b]] > est[idx[a]] || (est[idx[b]] == est[idx[a]] && b < a)) above++;
    if (above < k && truth[idx[a]] > best) best = truth[idx[a]];
  }
  out = vmax > vmin ? (vmax - best) / (vmax - vmin) : 0.0;
done:
  free(idx);
  return out;
}

double ope_metric_abs_error(const double *est, const double *truth, size_t n) {
  double s = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(est[i]) && isfinite(truth[i])) {
      s += fabs(est[i] - truth[i]);
      m++;
    }
  return m ? s / (double)m : NAN;
}

double ope_metric_coverage(const double *lo, const double *hi,
                           const double *truth, size_t n) {
  size_t m = 0, in = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(lo[i]) || !isfinite(hi[i]) || !isfinite(truth[i])) continue;
    m++;
    in += lo[i] <= truth[i] && truth[i] <= hi[i];
  }
  return m ? (double)in / (double)m : NAN;
}

void ope_metric_mean_ci(const double *x, size_t n, double alpha, double *mean,
                        double *lo, double *hi, size_t *m) {
  double s = 0, ss = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i])) { s += x[i]; k++; }
  *m = k;
  *mean = k ? s / (double)k : NAN;
  *lo = *hi = *mean;
  if (k < 2) return;
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i])) ss += (x[i] - *mean) * (x[i] - *mean);
  double half = ope_ci_t_quantile(1.0 - alpha / 2.0, (double)k - 1.0) *
                sqrt(ss / ((double)k - 1.0)) / sqrt((double)k);
  *lo = *mean - half;
  *hi = *mean + half;
}

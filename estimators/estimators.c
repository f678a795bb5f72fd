/* The estimator table and the machinery every estimator shares
 * (estimators.h): stats matrices, sums, shard merging, point estimates. */
#include "estimators/estimators.h"
#include "estimators/dr.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const ope_estimator *const ope_estimator_table[] = {
  &ope_est_is,
  &ope_est_pdis,
  &ope_est_wis,
  &ope_est_wpdis,
  &ope_est_dm,
  &ope_est_fqe,
  &ope_est_dr,
  &ope_est_wdr,
  &ope_est_magic,
  NULL,
};

const ope_estimator *ope_estimator_find(const char *name) {
  for (size_t k = 0; ope_estimator_table[k]; k++)
    if (strcmp(ope_estimator_table[k]->name, name) == 0) return ope_estimator_table[k];
  return NULL;
}

int ope_est_check(const ope_estimator *est, const ope_est_input *in,
                  char *why, size_t why_size) {
  if ((est->needs & OPE_EST_NEEDS_WEIGHTS) && in->w == NULL) {
    snprintf(why, why_size, "%s needs importance weights", est->name);
    return 1;
  }
  /* A Q without a fixed point is not refused: those estimators report
   * null with FQE's warning (ARCHITECTURE.md). */
  if ((est->needs & OPE_EST_NEEDS_Q) && in->q == NULL) {
    snprintf(why, why_size, "%s needs a fitted Q function (FQE)%s%s", est->name,
             in->q && in->q->warning[0] ? ": " : "",
             in->q ? in->q->warning : "");
    return 1;
  }
  if ((est->needs & OPE_EST_NEEDS_DIST) &&
      (in->pe == NULL || (in->ds->action_kind == OPE_ACTION_DISCRETE && in->pe->dist == NULL))) {
    snprintf(why, why_size,
             "%s needs the evaluation policy's full action distribution "
             "(prob_0.. columns in a scores file)", est->name);
    return 1;
  }
  if (!(in->gamma > 0 && in->gamma <= 1)) {
    snprintf(why, why_size, "the discount must be in (0, 1], not %g", in->gamma);
    return 1;
  }
  return 0;
}

ope_status ope_est_stats_alloc(ope_est_stats *s, size_t n, size_t k,
                               ope_error *err) {
  memset(s, 0, sizeof *s);
  if (k != 0 && n > SIZE_MAX / sizeof(double) / k)
    return ope_error_set(err, OPE_EINTERNAL, NULL, "statistics of %zu x %zu are too large", n, k);
  s->x = calloc(n * k > 0 ? n * k : 1, sizeof(double));
  s->lscale = calloc(k ? k : 1, sizeof(double));
  if (!s->x || !s->lscale) {
    ope_est_stats_clear(s);
    return ope_error_nomem(err);
  }
  s->n = n;
  s->k = k;
  return OPE_OK;
}

ope_status ope_est_stats_alloc_f32(ope_est_stats *s, size_t n, size_t k,
                                   ope_error *err) {
  memset(s, 0, sizeof *s);
  if (k != 0 && n > SIZE_MAX / sizeof(float) / k)
    return ope_error_set(err, OPE_EINTERNAL, NULL, "statistics of %zu x %zu are too large", n, k);
  s->xf = malloc((n * k > 0 ? n * k : 1) * sizeof(float));
  s->sum = calloc(k ? k : 1, sizeof(double));
  s->lscale = calloc(k ? k : 1, sizeof(double));
  if (!s->xf || !s->sum || !s->lscale) {
    ope_est_stats_clear(s);
    return ope_error_nomem(err);
  }
  s->n = n;
  s->k = k;
  return OPE_OK;
}

void ope_est_stats_clear(ope_est_stats *s) {
  if (s == NULL) return;
  free(s->x);
  free(s->xf);
  free(s->sum);
  free(s->lscale);
  memset(s, 0, sizeof *s);
}

int ope_est_f32_ok(double v) {
  double a = fabs(v);
  return v == 0 || (a >= FLT_MIN && a <= OPE_EST_F32_MAX);
}

void ope_est_stats_sum(const ope_est_stats *s, const double *count,
                       double *sum) {
  if (s->x == NULL && count == NULL) {
    memcpy(sum, s->sum, s->k * sizeof(double));
    return;
  }
  for (size_t j = 0; j < s->k; j++) sum[j] = 0.0;
  for (size_t i = 0; i < s->n; i++) {
    double c = count ? count[i] : 1.0;
    if (c == 0) continue;
    if (s->x == NULL) {
      const float *row = s->xf + i * s->k;
      for (size_t j = 0; j < s->k; j++) sum[j] += c * (double)row[j];
      continue;
    }
    const double *row = s->x + i * s->k;
    for (size_t j = 0; j < s->k; j++) sum[j] += c * row[j];
  }
}

double ope_est_contribution(const ope_est_stats *s, size_t i) {
  double v;
  ope_est_scaled(s->x ? s->x[i * s->k] : (double)s->xf[i * s->k], s->lscale[0], &v);
  return v;
}

ope_est_flag ope_est_scaled(double x, double ls, double *out) {
  if (x == 0 || isinf(ls)) { /* a -inf scale means every term was 0 */
    *out = 0.0;
    return OPE_EST_DEFINED;
  }
  double lx = log(fabs(x)) + ls;
  if (lx > log(DBL_MAX)) {
    *out = x > 0 ? INFINITY : -INFINITY;
    return OPE_EST_OVERFLOW;
  }
  /* exp(ls) alone may overflow while the product does not. An underflow
   * to zero is written +0, never -0. */
  double v = exp(lx);
  *out = v == 0 ? 0.0 : x > 0 ? v : -v;
  return OPE_EST_DEFINED;
}

void ope_est_merge(size_t k, const double *sum_a, const double *ls_a,
                   const double *sum_b, const double *ls_b, double *sum_out,
                   double *ls_out) {
  for (size_t j = 0; j < k; j++) {
    double la = sum_a[j] == 0 ? -INFINITY : ls_a[j];
    double lb = sum_b[j] == 0 ? -INFINITY : ls_b[j];
    double m = la > lb ? la : lb;
    if (isinf(m)) {
      sum_out[j] = 0.0;
      ls_out[j] = 0.0;
      continue;
    }
    double s = (isinf(la) ? 0.0 : sum_a[j] * exp(la - m)) +
               (isinf(lb) ? 0.0 : sum_b[j] * exp(lb - m));
    sum_out[j] = s;
    ls_out[j] = m;
  }
}

void ope_est_note_add(ope_estimate *e, const char *fmt, ...) {
  size_t len = strlen(e->note);
  if (len > 0 && len + 2 < sizeof e->note) {
    memcpy(e->note + len, "; ", 3);
    len += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->note + len, sizeof e->note - len, fmt, ap);
  va_end(ap);
}

void ope_est_point(const ope_estimator *est, const ope_est_stats *s,
                   ope_estimate *out) {
  memset(out, 0, sizeof *out);
  out->est = est;
  out->n_episodes = s->n;
  double *sum = malloc((s->k ? s->k : 1) * sizeof(double));
  if (sum == NULL) { /* cannot happen for sane k; report as undefined */
    out->flag = OPE_EST_UNDEFINED;
    snprintf(out->note, sizeof out->note, "out of memory");
    return;
  }
  ope_est_stats_sum(s, NULL, sum);
  out->flag = s->n ? est->value(s, sum, (double)s->n, &out->value)
                   : OPE_EST_UNDEFINED;
  free(sum);
  if (out->flag == OPE_EST_UNDEFINED)
    snprintf(out->note, sizeof out->note,
             s->n ? "undefined: a denominator is 0 (every weight is 0 at some step)"
                  : "undefined: no episodes");
  else if (out->flag == OPE_EST_OVERFLOW)
    snprintf(out->note, sizeof out->note,
             "the value is beyond the range of a double");
  if (out->flag != OPE_EST_DEFINED) out->value = NAN;
}

ope_status ope_est_run(const ope_estimator *est, const ope_est_input *in,
                       ope_est_stats *s, ope_estimate *out, ope_error *err) {
  char why[256];
  memset(s, 0, sizeof *s);
  if (ope_est_check(est, in, why, sizeof why))
    return ope_error_set(err, OPE_EUSAGE, est->name, "%s", why);
  ope_status st = est->stats(in, s, err);
  if (st != OPE_OK) return st;
  ope_est_point(est, s, out);
  return OPE_OK;
}

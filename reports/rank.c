/* Ranking with rank intervals, P(best) and pairwise P(A beats B) from the
 * joint episode bootstrap (rank.h). */
#include "reports/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ope_rank_result_clear(ope_rank_result *out) {
  if (out == NULL) return;
  free(out->row);
  free(out->beats);
  memset(out, 0, sizeof *out);
}

/* Group of a candidate in the order: 0 reliable, 1 gated, 2 undefined. */
static int group_of(const ope_rank_row *r) {
  if (!r->defined) return 2;
  return r->gated ? 1 : 0;
}

/* Insertion sort keeps ties in input order and needs no context pointer. */
static void order_rows(ope_rank_row *row, size_t n) {
  for (size_t i = 1; i < n; i++) {
    ope_rank_row x = row[i];
    size_t j = i;
    while (j > 0) {
      const ope_rank_row *y = &row[j - 1];
      int gx = group_of(&x), gy = group_of(y);
      int before = gx < gy || (gx == gy && gx < 2 && x.score > y->score);
      if (!before) break;
      row[j] = row[j - 1];
      j--;
    }
    row[j] = x;
  }
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Type 1 quantile of sorted integers. */
static int quantile_int(const int *sorted, size_t n, double p) {
  size_t k = (size_t)ceil(p * (double)n);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return sorted[k - 1];
}

/* Ranks, P(best) and pairwise wins from the replicates. */
static ope_status resample_stats(const ope_rank_input *in, ope_rank_result *out,
                                 ope_error *err) {
  size_t P = in->n_pol, B = in->n_boot;
  int *ranks = malloc(B * P * sizeof(int));
  int *grp = malloc(P * sizeof(int));
  double *best = calloc(P, sizeof(double));
  double *wins = calloc(P * P, sizeof(double));
  double *both = calloc(P * P, sizeof(double));
  int *col = malloc(B * sizeof(int));
  ope_status st = OPE_OK;
  if (!ranks || !grp || !best || !wins || !both || !col) {
    st = ope_error_nomem(err);
    goto done;
  }
  /* group of each input index, the size of the groups before each, and the
   * group that can hold the best */
  int before[3] = {0, 0, 0}, size[3] = {0, 0, 0};
  for (size_t k = 0; k < P; k++) {
    grp[out->row[k].policy] = group_of(&out->row[k]);
    size[group_of(&out->row[k])]++;
  }
  before[1] = size[0];
  before[2] = size[0] + size[1];
  int lead = size[0] ? 0 : size[1] ? 1 : 2;
  for (size_t b = 0; b < B; b++) {
    const double *v = in->rep + b * P;
    double top = -INFINITY;
    size_t n_top = 0;
    for (size_t i = 0; i < P; i++) {
      int r = before[grp[i]] + 1;
      for (size_t j = 0; j < P; j++) {
        if (j == i) continue;
        if (!isnan(v[i]) && !isnan(v[j])) {
          both[i * P + j] += 1.0;
          wins[i * P + j] += v[i] > v[j] ? 1.0 : v[i] == v[j] ? 0.5 : 0.0;
        }
        if (grp[j] != grp[i]) continue;
        if (isnan(v[i])) r += !isnan(v[j]) || j < i;  /* undefined ranks last */
        else if (!isnan(v[j]) && v[j] > v[i]) r++;
      }
      ranks[i * B + b] = r;
      if (grp[i] == lead && !isnan(v[i])) {
        if (v[i] > top) { top = v[i]; n_top = 1; }
        else if (v[i] == top) n_top++;
      }
    }
    for (size_t i = 0; i < P && n_top; i++)
      if (grp[i] == lead && v[i] == top) best[i] += 1.0 / (double)n_top;
  }
  for (size_t k = 0; k < P; k++) {
    ope_rank_row *r = &out->row[k];
    size_t i = r->policy;
    memcpy(col, ranks + i * B, B * sizeof(int));
    qsort(col, B, sizeof(int), cmp_int);
    r->has_rank_ci = 1;
    r->rank_lo = quantile_int(col, B, in->alpha / 2.0);
    r->rank_hi = quantile_int(col, B, 1.0 - in->alpha / 2.0);
    r->p_best = grp[i] == lead ? best[i] / (double)B : NAN;
  }
  for (size_t i = 0; i < P; i++)
    for (size_t j = 0; j < P; j++)
      out->beats[i * P + j] = (i != j && both[i * P + j] > 0)
                                  ? wins[i * P + j] / both[i * P + j] : NAN;
done:
  free(ranks);
  free(grp);
  free(best);
  free(wins);
  free(both);
  free(col);
  return st;
}

ope_status ope_rank_compute(const ope_rank_input *in, ope_rank_result *out,
                            ope_error *err) {
  size_t P = in->n_pol;
  memset(out, 0, sizeof *out);
  if (!(in->alpha > 0 && in->alpha < 1))
    return ope_error_set(err, OPE_EUSAGE, NULL, "alpha must be in (0, 1), not %g",
                         in->alpha);
  out->n_pol = P;
  out->row = calloc(P ? P : 1, sizeof *out->row);
  out->beats = malloc((P ? P * P : 1) * sizeof(double));
  if (!out->row || !out->beats) {
    ope_rank_result_clear(out);
    return ope_error_nomem(err);
  }
  for (size_t i = 0; i < P * P; i++) out->beats[i] = NAN;
  for (size_t i = 0; i < P; i++) {
    ope_rank_row *r = &out->row[i];
    r->policy = i;
    r->score = in->by_lower ? in->ci_low[i] : in->value[i];
    r->defined = isfinite(in->value[i]) && isfinite(r->score);
    if (!r->defined) r->score = NAN;
    r->gated = in->unreliable && in->unreliable[i];
    r->p_best = NAN;
  }
  order_rows(out->row, P);
  if (in->rep && in->n_boot > 0) {
    ope_status st = resample_stats(in, out, err);
    if (st != OPE_OK) {
      ope_rank_result_clear(out);
      return st;
    }
  }
  if (P == 0 || !out->row[0].defined) return OPE_OK;
  size_t first = out->row[0].policy;
  for (size_t k = 0; k < P; k++) {
    ope_rank_row *r = &out->row[k];
    size_t i = r->policy;
    if (!r->defined || group_of(r) != group_of(&out->row[0])) continue;
    if (k == 0) {
      r->top_set = 1;
    } else if (in->rep && in->n_boot > 0) {
      double p = out->beats[first * P + i];
      r->top_set = !(p >= 1.0 - in->alpha / 2.0);
    } else {
      double lo = in->ci_low[first];
      r->top_set = isfinite(in->ci_high[i]) && isfinite(lo) && in->ci_high[i] >= lo;
    }
  }
  return OPE_OK;
}

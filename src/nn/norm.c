/* Per-feature normalization; see norm.h. */
#include "nn/norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ope_status ope_norm_new(int dim, ope_norm **out, ope_error *err) {
  *out = NULL;
  if (dim < 1 || dim > 65536)
    return ope_error_set(err, OPE_EUSAGE, "normalization",
                         "width %d out of range", dim);
  ope_norm *nm = calloc(1, sizeof *nm);
  if (nm == NULL) return ope_error_nomem(err);
  nm->dim = dim;
  nm->mean = calloc((size_t)dim, sizeof(double));
  nm->std = malloc((size_t)dim * sizeof(double));
  nm->m2 = calloc((size_t)dim, sizeof(double));
  if (nm->mean == NULL || nm->std == NULL || nm->m2 == NULL) {
    ope_norm_free(nm);
    return ope_error_nomem(err);
  }
  for (int j = 0; j < dim; j++) nm->std[j] = 1.0;
  *out = nm;
  return OPE_OK;
}

void ope_norm_free(ope_norm *nm) {
  if (nm == NULL) return;
  free(nm->mean);
  free(nm->std);
  free(nm->m2);
  free(nm);
}

static void refresh_std(ope_norm *nm) {
  for (int j = 0; j < nm->dim; j++) {
    double var = nm->count > 0 ? nm->m2[j] / nm->count : 1.0;
    nm->std[j] = sqrt(var > 0 ? var : 0);
  }
}

void ope_norm_fit(ope_norm *nm, const double *x, size_t n, size_t stride) {
  nm->count = 0;
  memset(nm->mean, 0, (size_t)nm->dim * sizeof(double));
  memset(nm->m2, 0, (size_t)nm->dim * sizeof(double));
  ope_norm_update(nm, x, n, stride);
}

void ope_norm_update(ope_norm *nm, const double *x, size_t n, size_t stride) {
  if (n == 0) return;
  // batch mean / M2, then the pairwise merge (Chan, Golub & LeVeque 1983)
  for (int j = 0; j < nm->dim; j++) {
    double mb = 0, m2b = 0;
    for (size_t i = 0; i < n; i++) mb += x[i * stride + j];
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
      double d = x[i * stride + j] - mb;
      m2b += d * d;
    }
    double na = nm->count, nb = (double)n, tot = na + nb;
    double delta = mb - nm->mean[j];
    nm->mean[j] += delta * nb / tot;
    nm->m2[j] += m2b + delta * delta * na * nb / tot;
  }
  nm->count += (double)n;
  refresh_std(nm);
}

void ope_norm_apply(const ope_norm *nm, const double *x, size_t n,
                    size_t stride, float *out, size_t out_stride) {
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < nm->dim; j++) {
      double s = nm->std[j] >= OPE_NORM_MIN_STD ? nm->std[j] : 1.0;
      out[i * out_stride + j] = (float)((x[i * stride + j] - nm->mean[j]) / s);
    }
}

/* Input and reward normalization stored with a model.
 *
 * An ope_norm holds a per-feature mean and standard deviation, either
 * computed once from a dataset (ope_norm_fit) or kept as running statistics
 * (ope_norm_update: Chan, Golub & LeVeque's pairwise update of count, mean
 * and M2, in double). Networks see (x - mean) / std in float; features with
 * std below OPE_NORM_MIN_STD are only centred. Reward normalization is a
 * 1-wide ope_norm. Checkpoints save mean and std (nn/checkpoint.h). */
#ifndef OPE_NN_NORM_H
#define OPE_NN_NORM_H

#include <stddef.h>

#include "core/error.h"

#define OPE_NORM_MIN_STD 1e-6

typedef struct ope_norm {
  int dim;
  double count;     /* rows seen (running statistics) */
  double *mean;     /* (dim) */
  double *std;      /* (dim) used by apply; 1 after ope_norm_new */
  double *m2;       /* (dim) running sum of squared deviations */
} ope_norm;

/* Identity normalization (mean 0, std 1) of width dim (1..65536). */
ope_status ope_norm_new(int dim, ope_norm **out, ope_error *err);
void ope_norm_free(ope_norm *n);

/* Set mean/std from n rows of x (n, stride), the first dim columns (the
 * population std). Replaces running statistics. */
void ope_norm_fit(ope_norm *nm, const double *x, size_t n, size_t stride);

/* Fold n more rows of x (n, stride) into running mean/std. */
void ope_norm_update(ope_norm *nm, const double *x, size_t n, size_t stride);

/* out (n, out_stride) first dim columns = (x - mean) / std, in float. */
void ope_norm_apply(const ope_norm *nm, const double *x, size_t n,
                    size_t stride, float *out, size_t out_stride);

#endif

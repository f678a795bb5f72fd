/* The fast path of the percentile bootstrap (ci.h) for large datasets:
 * n >= OPE_EST_F32_MIN_EPISODES episodes (and fewer than 2^24). There the
 * product dominates (B n k multiply-adds: 4e9 for the 10,000 x 100-step
 * WPDIS case), so it runs in single precision, which doubles the
 * throughput of the BLAS and halves the memory of the statistics. Counts
 * are drawn as bytes (the same draws as ope_ci_boot_counts; a replicate
 * whose byte would wrap is redrawn wide), and episodes are taken in blocks
 * of EP_BLOCK: each block's product (R, kb) x (kb, k) is one sgemm, and the
 * block results are accumulated in double. A replicate's sums then carry a
 * relative error of about 1e-6 of the sum of the magnitudes of their terms
 * (float rounding of the statistics, 2^-24, and of sums of at most EP_BLOCK
 * terms), far below the Monte Carlo error of a percentile from B = 2000
 * replicates (about 1e-2 of the interval's width); point estimates use
 * the exact double sums. Statistics whose values lose accuracy as floats
 * (ope_est_f32_ok) stay double, with a double product per block. Every
 * block size depends on n alone, and the BLAS runs on one thread inside
 * each worker, so replicates stay identical for any thread count. */
#ifndef OPE_ESTIMATORS_BOOT_FAST_H
#define OPE_ESTIMATORS_BOOT_FAST_H

#include <stddef.h>

#include "estimators/ci.h"

/* Whether n episodes take the fast path. */
static inline int ope_boot_fast_applies(size_t n) {
  return n >= OPE_EST_F32_MIN_EPISODES && n < ((size_t)1 << 24);
}

/* Replicates per block on the fast path (a function of n alone). */
size_t ope_boot_fast_rows(size_t n);

/* All cfg->n_boot replicates of the n_est estimators into rep (B, n_est),
 * NaN where undefined, on `threads` threads (at most one per block of
 * ope_boot_fast_rows(n) replicates); the same bytes for any thread count.
 * The caller has set the BLAS to one thread. */
ope_status ope_boot_fast_replicates(const ope_ci_config *cfg,
                                    const ope_estimator *const *est,
                                    const ope_est_stats *stats, size_t n_est,
                                    int threads, double *rep, ope_error *err);

#endif

/* Ranking candidates with uncertainty about the ranking itself.
 *
 * Input: for one estimator, each candidate's point estimate, interval and
 * reliability flag, and optionally the joint bootstrap replicates: replicate
 * b of every candidate comes from the same resample of episodes (ci.h draws
 * replicate b's episode counts from RNG stream b of the seed, whatever the
 * policy), so differences between candidates are resampled together.
 *
 * Output, per candidate:
 *   order        reliable defined candidates first, by score (the estimate,
 *                or the interval's lower end with by_lower), then the
 *                unreliable ones ("gated": never silently first), then the
 *                undefined ones; ties keep the input order;
 *   rank_lo/hi   the alpha/2 and 1 - alpha/2 quantiles (inverse of the
 *                empirical CDF, Hyndman & Fan 1996 type 1) of the candidate's
 *                rank across replicates. Ranks are taken within the
 *                candidate's group (reliable, gated, undefined) and offset by
 *                the sizes of the groups before it, so gating holds in every
 *                replicate: the rank is (candidates of earlier groups) + 1 +
 *                (candidates of its group with a larger value); an undefined
 *                replicate value ranks last in its group;
 *   p_best       the share of replicates where it has the largest value
 *                among the candidates of the first group (ties split the
 *                credit); NaN for the other groups, which cannot be best;
 *   top_set      in the first candidate's group and indistinguishable from
 *                it: the 1 - alpha percentile interval of the replicate
 *                differences (first - it) contains 0, i.e.
 *                P(first beats it) < 1 - alpha/2 (without replicates: its
 *                interval reaches the first's lower end);
 * and the matrix beats[i][j] = P(candidate i beats j): the share of
 * replicates, where both are defined, with i's value above j's (ties count
 * one half). */
#ifndef OPE_REPORTS_RANK_H
#define OPE_REPORTS_RANK_H

#include <stddef.h>

#include "core/error.h"

typedef struct ope_rank_input {
  size_t n_pol;
  const double *value;     /* (n_pol) point estimate; NaN when undefined */
  const double *ci_low;    /* (n_pol) NaN when there is no interval */
  const double *ci_high;   /* (n_pol) */
  const int *unreliable;   /* (n_pol) 1 when diagnostics are bad */
  size_t n_boot;           /* 0: no replicates */
  const double *rep;       /* (n_boot, n_pol) joint replicates; NaN undefined */
  int by_lower;            /* order by ci_low instead of value */
  double alpha;            /* in (0, 1) */
} ope_rank_input;

typedef struct ope_rank_row {
  size_t policy;           /* index into the input arrays */
  double score;            /* what the order used (NaN when undefined) */
  int gated;               /* unreliable: placed after the reliable ones */
  int defined;
  int has_rank_ci;
  int rank_lo, rank_hi;    /* 1-based */
  double p_best;           /* NaN without replicates */
  int top_set;
} ope_rank_row;

typedef struct ope_rank_result {
  size_t n_pol;
  ope_rank_row *row;       /* (n_pol) in rank order */
  double *beats;           /* (n_pol, n_pol) by input index, NaN on the
                              diagonal or without replicates */
} ope_rank_result;

/* Rank in's candidates into out (zeroed first, owns its arrays).
 * OPE_EUSAGE for alpha outside (0, 1). */
ope_status ope_rank_compute(const ope_rank_input *in, ope_rank_result *out,
                            ope_error *err);
/* Free out's arrays and zero it. NULL is a no-op. */
void ope_rank_result_clear(ope_rank_result *out);

#endif

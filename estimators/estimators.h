/* The estimator table and the estimate result type.
 *
 * Every estimator is split in two so that bootstraps and shards are cheap:
 *
 *   stats  turns the logged data (weights, rewards, Q/V) into a dense matrix
 *          of per-episode statistics x (n, k): row i belongs to episode i,
 *          columns are the estimator's own layout (IS: one column w G; WIS:
 *          numerator and denominator; WPDIS: one numerator and one
 *          denominator column per horizon step, carry-forward included).
 *   value  maps the column sums S_j = sum_i c_i x_ij and the total count
 *          C = sum_i c_i to the estimate.
 *
 * The point estimate uses c_i = 1. A bootstrap replicate draws episode
 * multiplicities c_i and needs only the sums, so all replicates of all
 * estimators are one matrix product (counts (B, n) times x (n, k)). Shards of
 * episodes merge by adding sums (ope_est_merge), which is what a distributed
 * run reduces.
 *
 * Precision: large per-step layouts (WPDIS) of at least
 * OPE_EST_F32_MIN_EPISODES episodes keep x in single precision (xf) with
 * their exact column sums in double (sum), which halves their memory; the
 * point estimate uses the exact sums, only bootstrap replicates use xf
 * (ci.h states the precision). Every other x is double.
 *
 * Magnitudes: weights can exceed the double range (horizon 1,000, ratio 10).
 * Each column j carries a log scale lscale[j]; the statistic is
 * x_ij * exp(lscale[j]). Columns that are divided by each other share a
 * scale, so ratios never leave the double range; only a final value beyond
 * it is OPE_EST_OVERFLOW (reported as null with a warning).
 *
 * Adding an estimator (DM, DR, WDR, MAGIC, ...): define a const
 * ope_estimator in its own file, declare it below, and add one line to the
 * table in estimators.c. Its value function must be a function of the sums
 * and the count alone. */
#ifndef OPE_ESTIMATORS_ESTIMATORS_H
#define OPE_ESTIMATORS_ESTIMATORS_H

#include <stddef.h>

#include "core/error.h"
#include "data/dataset.h"
#include "estimators/weights.h"
#include "fqe/fqe.h"
#include "policy/policy.h"

/* Everything an estimator may read. Fields an estimator does not need may
 * be NULL (ope_est_check says which are missing). */
typedef struct ope_est_input {
  const ope_dataset *ds;
  const ope_weights *w;            /* importance weights (IS and DR families) */
  const ope_policy_scores *pe;     /* evaluation policy on ds (dist for DM/DR) */
  const ope_qfit *q;               /* Q and V from FQE, row-aligned, or NULL */
  double gamma;                    /* discount in (0, 1] */
  int has_reward_range;            /* 1 when [reward_lo, reward_hi] is known */
  double reward_lo, reward_hi;
} ope_est_input;

/* What an estimator needs from the input. */
enum {
  OPE_EST_NEEDS_WEIGHTS = 1u << 0,
  OPE_EST_NEEDS_Q = 1u << 1,       /* in->q */
  OPE_EST_NEEDS_DIST = 1u << 2,    /* in->pe->dist (discrete) */
};

/* Datasets of at least this many episodes may keep large statistics in
 * single precision and bootstrap them with single-precision products
 * (ci.h); smaller ones are exact double throughout. */
#define OPE_EST_F32_MIN_EPISODES 4096

/* Per-episode statistics (see the file comment). Exactly one of x and xf is
 * set; sum is set with xf. */
typedef struct ope_est_stats {
  size_t n;         /* episodes (rows of x) */
  size_t k;         /* columns */
  double *x;        /* (n, k) row-major, or NULL when xf holds the stats */
  double *lscale;   /* (k) column log scales; 0 when unscaled */
  size_t horizon;   /* H for per-step layouts, else 0 */
  double aux[4];    /* estimator-specific constants */
  float *xf;        /* (n, k) row-major single precision, or NULL */
  double *sum;      /* (k) with xf: the exact column sums (c_i = 1) */
} ope_est_stats;

typedef enum ope_est_flag {
  OPE_EST_DEFINED = 0,
  OPE_EST_UNDEFINED,   /* a denominator is 0 (e.g. every weight is 0) */
  OPE_EST_OVERFLOW,    /* the value is beyond the double range */
} ope_est_flag;

typedef struct ope_estimator {
  const char *name;    /* lower-case id used on the command line: "wpdis" */
  const char *title;   /* "weighted per-decision importance sampling" */
  const char *cite;    /* paper and equation */
  unsigned needs;      /* OPE_EST_NEEDS_* */
  /* 1 when the value is the plain mean over episodes of column 0 (the
   * per-episode contribution), so Student t, Hoeffding and empirical
   * Bernstein intervals apply; 0 for self-normalized estimators. */
  int is_mean;
  ope_status (*stats)(const ope_est_input *in, ope_est_stats *out,
                      ope_error *err);
  ope_est_flag (*value)(const ope_est_stats *s, const double *sum,
                        double count, double *out);
  /* Mean estimators: the range [lo, hi] one episode's contribution can take
   * given in->reward_range and the weights' clip. Returns 0 and writes why
   * there is none ("weights are unbounded without --clip") otherwise. NULL:
   * never bounded. */
  int (*range)(const ope_est_input *in, double *lo, double *hi, char *why,
               size_t why_size);
} ope_estimator;

/* The estimators defined so far (is.c). */
extern const ope_estimator ope_est_is, ope_est_pdis, ope_est_wis, ope_est_wpdis;

/* The table in command-line order; NULL-terminated. */
extern const ope_estimator *const ope_estimator_table[];

/* Look up by name (case-sensitive); NULL when unknown. */
const ope_estimator *ope_estimator_find(const char *name);

/* 0 when in has what est needs; otherwise 1 and a reason in why. */
int ope_est_check(const ope_estimator *est, const ope_est_input *in,
                  char *why, size_t why_size);

/* Allocate s for n episodes and k columns (zeroed, lscale 0). */
ope_status ope_est_stats_alloc(ope_est_stats *s, size_t n, size_t k,
                               ope_error *err);
/* The same with single-precision xf and a zeroed sum instead of x: the
 * stats function fills xf and adds every row, in double and in episode
 * order, into sum. */
ope_status ope_est_stats_alloc_f32(ope_est_stats *s, size_t n, size_t k,
                                   ope_error *err);
/* Free the arrays and zero s. NULL is a no-op. */
void ope_est_stats_clear(ope_est_stats *s);

/* Whether v keeps its full single-precision accuracy as a float and sums
 * of fewer than 2^24 multiples of such values stay finite: v is 0 or
 * FLT_MIN <= |v| <= OPE_EST_F32_MAX. */
#define OPE_EST_F32_MAX 1e30
int ope_est_f32_ok(double v);

/* sum[j] = sum_i c_i x_ij (count NULL: c_i = 1), in episode order. With xf,
 * count NULL gives the exact sums; otherwise the sums of xf in double. */
void ope_est_stats_sum(const ope_est_stats *s, const double *count,
                       double *sum);

/* The contribution of episode i for a mean estimator (column 0, scaled);
 * may be +-inf when beyond the double range. Mean estimators keep x. */
double ope_est_contribution(const ope_est_stats *s, size_t i);

/* Merge two shards' sums of the same estimator: sums a and b with their
 * column log scales into out (out may alias a). k columns. */
void ope_est_merge(size_t k, const double *sum_a, const double *ls_a,
                   const double *sum_b, const double *ls_b, double *sum_out,
                   double *ls_out);

/* The outcome of one estimator on one policy, with its interval. */
typedef struct ope_estimate {
  const ope_estimator *est;
  ope_est_flag flag;       /* value is a number only when OPE_EST_DEFINED */
  double value;
  int has_ci;              /* 0: no interval (refused or undefined) */
  double ci_low, ci_high;
  const char *ci_method;   /* "bootstrap", "t", "hoeffding", "bernstein", or NULL */
  size_t n_episodes;
  char note[256];          /* a warning or why there is no interval; may be empty */
} ope_estimate;

/* Append to e->note, after "; " when it is not empty (cut at its size). */
void ope_est_note_add(ope_estimate *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Point estimate of est from its stats (c_i = 1) into out (the interval
 * fields are cleared). */
void ope_est_point(const ope_estimator *est, const ope_est_stats *s,
                   ope_estimate *out);

/* Run est: stats then point estimate. s receives the stats (caller clears
 * them) so that intervals can reuse them. */
ope_status ope_est_run(const ope_estimator *est, const ope_est_input *in,
                       ope_est_stats *s, ope_estimate *out, ope_error *err);

/* exp(ls) * x as a flag and a number: OVERFLOW when beyond the double
 * range, the (possibly 0 by underflow) number otherwise. Helpers for value
 * functions. */
ope_est_flag ope_est_scaled(double x, double ls, double *out);

#endif

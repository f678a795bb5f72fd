/* Rank and audit reports from a dataset and candidate policies: every
 * policy is evaluated (estimators/evaluate.h) and, beside it, its bootstrap
 * replicates are recomputed with the same seed so that replicate b of every
 * policy and every estimator uses the same resample of episodes (ci.h draws
 * replicate b's counts from RNG stream b of the seed). That joint bootstrap
 * is what rank.h turns into rank intervals, P(best) and P(A beats B).
 * The replicates of DM, FQE and the doubly robust estimators hold the
 * fitted Q model fixed (the "bootstrap over episodes of the fitted model" of
 * dr.h), even where the reported interval refits it; ranking by them
 * therefore leaves the model's own estimation error out.
 *
 * The audit adds the behavior policy's own value (the on-policy mean of the
 * logged discounted returns, Student t interval) and the per-step
 * contributions g^t mean_i w_t r_t of the per-decision IS decomposition
 * (Precup, Sutton & Singh 2000, eq. 5) next to the logged g^t mean_i r_t.
 *
 * Reproducibility: the data's own SHA-256 is taken over the loaded arrays
 * (sizes, episode offsets, observations, actions, rewards, terminal flags,
 * propensities, next observations; integers as little-endian 64-bit,
 * numbers as IEEE-754 doubles), so it identifies the exact steps whatever
 * file or simulator they came from. Each policy's SHA-256 is its stored blob's or scores
 * file's (policies.sha256) when the store has one, else the SHA-256 of its
 * reference name (a built-in policy is fully defined by its name and the ope
 * version, which the report records). */
#ifndef OPE_REPORTS_JOINT_H
#define OPE_REPORTS_JOINT_H

#include "estimators/evaluate.h"
#include "policy/behavior.h"
#include "reports/report.h"
#include "store/store.h"

typedef struct ope_joint_config {
  ope_eval_config eval;           /* estimators, gamma, clip, intervals, ... */
  const char *rank_estimator;     /* NULL: the first of wdr, dr, wpdis, wis,
                                     pdis, is, fqe, dm that ran */
  int by_lower;                   /* rank by the interval's lower end */
  ope_behavior_kind behavior;     /* model when the log has no pscore */
} ope_joint_config;

void ope_joint_config_default(ope_joint_config *cfg);

/* Evaluate pol[0..n_pol-1] on ds and fill out as a report of `kind`
 * (OPE_REPORT_RANK or OPE_REPORT_AUDIT, which uses pol[0] only). store
 * (may be NULL) supplies policies' algorithm, settings and SHA-256; info
 * (may be NULL) the dataset's source and its SHA-256. out is zeroed first
 * and owns its arrays (ope_report_clear). OPE_EUSAGE when the ranking
 * estimator did not run. */
ope_status ope_joint_report(ope_store *store, const ope_dataset *ds,
                            const ope_dataset_info *info,
                            ope_policy *const *pol, size_t n_pol,
                            const ope_joint_config *cfg, ope_report_kind kind,
                            ope_report *out, ope_error *err);

/* The joint bootstrap replicates of the estimators in res (which
 * ope_eval_policy computed with the same cfg) into rep (cfg->ci.n_boot,
 * res->n_est), whatever cfg->ci.method is. NaN where undefined. */
ope_status ope_joint_replicates(const ope_dataset *ds,
                                const ope_eval_behavior *beh,
                                const ope_policy *pi,
                                const ope_policy_scores *pe,
                                const ope_eval_config *cfg,
                                const ope_eval_policy_result *res, double *rep,
                                ope_error *err);

/* The on-policy value of the logs: mean over episodes of the discounted
 * return, with a (1 - alpha) Student t interval. */
void ope_joint_behavior_value(const ope_dataset *ds, double gamma, double alpha,
                              double *value, double *lo, double *hi);

#endif

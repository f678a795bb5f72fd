/* The value-based and doubly robust estimators: DM, FQE, DR, WDR, MAGIC,
 * and the fitting of the Q function they read (with optional
 * cross-fitting).
 *
 *   DM     mean_i V(s_0^i)                              the direct method
 *   FQE    the same number (Le, Voloshin & Yue 2019): FQE's value is DM's
 *   DR     mean_i sum_t g^t [w_t (r_t - Q_t) + w_{t-1} V_t]
 *          Jiang & Li 2016, eq. 8 (unrolled); Thomas & Brunskill 2016
 *   WDR    DR with w_t -> w_t / sum_j w_t^j and w_{-1} -> 1/n
 *          Thomas & Brunskill 2016 (ICML), eq. 10
 *   MAGIC  the convex blend of off-policy j-step returns g^(j) minimizing
 *          estimated MSE (Thomas & Brunskill 2016, Algorithm 1)
 *
 * Q_t = Q(s_t, a_t) and V_t = E_{a~pi_e} Q(s_t, a) come row-aligned in
 * ope_est_input.q (ope_dr_fit_q). The per-step denominators of WDR follow
 * ARCHITECTURE.md: an ended episode carries its last weight forward with
 * r = Q = V = 0, and a zero denominator at any step makes the estimate
 * undefined.
 *
 * Intervals. DM and FQE are means over episodes of V(s_0) with the fitted
 * model held fixed, so the shared episode bootstrap (ci.h) resamples start
 * states under that one model ("bootstrap over episodes of the fitted
 * model"): it is cheap for every FQE kind, neural included, and
 * deterministic, but it leaves out the model's own estimation error, so it
 * is narrower than the refit interval. ope_dr_fqe_refit_interval refits
 * FQE on every resample for the kinds where a fit is cheap (tabular and
 * linear) and gives the wider, honest interval. A neural fit costs seconds,
 * so neural FQE refits only cfg->refits times (default 5), each on an
 * episode resample and with its own network seed (an ensemble over both
 * data and seeds: a network's training noise is part of its error, and
 * the resample carries the data's), and reports value +- t sd
 * (ope_dr_fqe_ensemble_interval); with refits < 2 it keeps the start-state
 * bootstrap and says so. MAGIC's blend weights are chosen once on the full
 * data and held fixed in its bootstrap. */
#ifndef OPE_ESTIMATORS_DR_H
#define OPE_ESTIMATORS_DR_H

#include "estimators/ci.h"
#include "estimators/estimators.h"
#include "fqe/fqe.h"

extern const ope_estimator ope_est_dm, ope_est_fqe, ope_est_dr, ope_est_wdr,
    ope_est_magic;

/* Resamples and confidence of MAGIC's bias interval (Algorithm 1: a
 * percentile bootstrap interval of WDR, widened to contain WDR itself;
 * the level is a setting of the algorithm: with the covariance of the
 * n-episode sums, i.e. n times the per-episode sample covariance, a 50%
 * interval is a good default), and the seed of its resamples. */
#define OPE_MAGIC_BOOT 200
#define OPE_MAGIC_CI_LEVEL 0.5
#define OPE_MAGIC_SEED 0x4d41474943ull

/* Fit Q for the evaluation policy (scores on ds; pi optional, see fqe.h)
 * and predict on ds into out. With crossfit, the episodes are split into
 * two halves (even and odd positions); a model fitted on each half predicts
 * the rows of the other, so no episode's Q and V come from a model that saw
 * it. out->value is DM's value on ds. out->warning carries FQE's caveat
 * (undefined fixed point, or the g^H note). */
ope_status ope_dr_fit_q(const ope_dataset *ds, const ope_policy *pi,
                        const ope_policy_scores *scores,
                        const ope_fqe_config *cfg, int crossfit,
                        ope_qfit *out, ope_error *err);

/* FQE's interval by refitting on B episode resamples (RNG stream b of seed
 * for resample b, as in ci.h; cross-fitted when cfg->crossfit), percentile
 * at level 1 - alpha. Writes
 * lo/hi; *n_defined counts the resamples whose fit had a value. The fits
 * run side by side on up to `threads` threads (one BLAS thread each); the
 * result does not depend on how many. */
ope_status ope_dr_fqe_refit_interval(const ope_dataset *ds,
                                     const ope_policy *pi,
                                     const ope_policy_scores *scores,
                                     const ope_fqe_config *cfg, int B,
                                     uint64_t seed, int threads, double alpha,
                                     double *lo, double *hi, int *n_defined,
                                     ope_error *err);

/* Neural FQE's interval from R >= 2 refits (ensemble members): fit r on
 * episode resample r (stream r of seed, as in ci.h) with network seed
 * cfg->seed + (r + 1) * 0x9e3779b97f4a7c15; with sd the refits' standard
 * deviation, [estimate - h, estimate + h] with
 * h = t_{m-1}(1 - alpha/2) sd (the normal bootstrap interval, Efron &
 * Tibshirani 1993, eq. 13.5, with Student t for an sd from m values).
 * *n_defined counts the refits with a value (lo/hi stay NaN below 2).
 * Threads as for ope_dr_fqe_refit_interval. */
ope_status ope_dr_fqe_ensemble_interval(const ope_dataset *ds,
                                        const ope_policy *pi,
                                        const ope_policy_scores *scores,
                                        const ope_fqe_config *cfg, int R,
                                        uint64_t seed, int threads, double alpha,
                                        double estimate, double *lo,
                                        double *hi, int *n_defined,
                                        ope_error *err);

/* Resamples of the refit interval in ope_eval: at most OPE_FQE_REFIT_MAX
 * and the bootstrap's B, and about OPE_FQE_REFIT_ROWS fitted rows in all
 * (never fewer than 50 resamples). */
#define OPE_FQE_REFIT_MAX 500
#define OPE_FQE_REFIT_ROWS 2e7

/* For the DM and FQE estimates among est[0..n) with a bootstrap interval:
 * when the FQE kind (fqe->kind, AUTO resolved on ds) is tabular or linear,
 * replace the interval by ope_dr_fqe_refit_interval with ci's seed and
 * alpha (the same resample streams as the shared bootstrap) and say so in
 * the note; for the neural kind, the ensemble interval of fqe->refits
 * refits when it is >= 2, else say in the note that the interval holds
 * the fitted Q fixed; MAGIC's note says that its interval holds Q and the
 * blend fixed (it can be as narrow as DM's with one start state). gamma
 * overrides fqe->gamma. */
ope_status ope_dr_refit_intervals(const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *pe,
                                  const ope_fqe_config *fqe, double gamma,
                                  const ope_ci_config *ci, ope_estimate *est,
                                  size_t n, ope_error *err);

/* MAGIC's choices on in (for reports and tests): the returns J (|J| <= 16,
 * -1 = DM, horizon-1 = WDR), their values g^(j), the blend x and the bias
 * interval [l, u]. Returns the count |J|, or 0 when WDR is undefined. */
size_t ope_magic_blend(const ope_est_input *in, long *J, double *g, double *x,
                       double *l, double *u, ope_error *err);

#endif

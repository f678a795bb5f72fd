/* Linear fitted-Q evaluation: least-squares FQE / LSTD-Q.
 *
 * Q(s,a) = w . phi(s,a) with fixed features:
 *   discrete    phi(s,a) = e_a (x) [1, s]   (one affine function of the
 *               observation per action; k = A (d + 1));
 *   continuous  phi(s,a) = [1, s, a, s (x) a] (k = 1 + d + m + d m), so
 *               E_{a~pi} phi(s,a) = phi(s, E_pi[a]).
 * Least-squares FQE with a linear class converges (when it converges) to the
 * LSTD-Q fixed point of Lagoudakis & Parr 2003 (JMLR 4, sec. 5.1, the
 * A~ and b~ updates of Fig. 5):
 *   A = (1/N) sum_t phi_t (phi_t - g (1 - term_t) phibar(s'_t))^T,
 *   b = (1/N) sum_t phi_t r_t,   (A + ridge I) w = b,
 * over the N rows that give a target (terminal, or with a next state),
 * where phibar(s') = E_{a'~pi_e} phi(s',a') uses the next row's
 * distribution (discrete) or the policy's mean action at s' (continuous:
 * the deterministic action, or the mean of `action_samples` seeded draws
 * from a stochastic policy given the episode's history). The last row of a
 * truncated episode gives a target only when the log gives next_obs; then the
 * policy is asked at next_obs when it is available, else the row's own
 * distribution or action stands in for it (an approximation, stated here).
 * The solve is an LU factorization (GSL); a singular system makes the model
 * undefined rather than failing. */
#ifndef OPE_FQE_FQE_LINEAR_H
#define OPE_FQE_FQE_LINEAR_H

#include "fqe/fqe.h"

typedef struct ope_fqe_linear ope_fqe_linear;

/* Fit on ds. Continuous actions need either scores->act (deterministic
 * policy) or a stochastic pi with ops->sample. Errors: OPE_EUSAGE for
 * missing policy information or bad settings (ridge < 0, discount outside
 * [0, 1]); OPE_EINTERNAL when out of memory. */
ope_status ope_fqe_linear_fit(const ope_dataset *ds, const ope_policy *pi,
                              const ope_policy_scores *scores,
                              const ope_fqe_config *cfg, ope_fqe_linear **out,
                              ope_error *err);

/* Q at the logged action and V on every row of ds; out is allocated here
 * (ope_qfit_clear frees it). */
ope_status ope_fqe_linear_predict(const ope_fqe_linear *m,
                                  const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *scores,
                                  ope_qfit *out, ope_error *err);

/* The fitted weights (k of them, in the layout above). */
const double *ope_fqe_linear_weights(const ope_fqe_linear *m, int *k);

void ope_fqe_linear_free(ope_fqe_linear *m);

#endif

/* Tabular fitted-Q evaluation: the exact fixed point of ARCHITECTURE.md.
 *
 * A state is a distinct observation vector (compared bit for bit, with -0
 * equal to 0). Q is defined on the logged state-action pairs as the fixed
 * point of
 *   Q(s,a) = mean over rows t logged at (s,a) of
 *            r_t + g (1 - terminal_t) sum_a' pi_e(a'|s'_t) Q(s'_t, a'),
 * the empirical Bellman evaluation operator of Le, Voloshin & Yue 2019
 * (Algorithm 3) with a table as the function class, whose iteration
 * converges to exactly this point. pi_e(.|s') is the next row's action
 * distribution; the last row of a truncated episode gives no target (it is
 * left out of the mean) unless the log gives next_obs, and then pi_e(.|s')
 * comes from the policy itself
 * when it is available (replaying the episode's history) or else from the
 * first logged row whose observation is s' (the same numbers for a Markov
 * policy; when no row has s', every Q(s',.) is 0 and the distribution does
 * not matter). A pair never logged with a target has Q = 0.
 *
 * The fixed point is one linear system (I - g M) q = b over the P logged
 * pairs, M row-substochastic. It is solved exactly by LU (GSL) when P is at
 * most OPE_FQE_TABULAR_DENSE_MAX, by GMRES (gsl_splinalg) to 1e-13 relative
 * residual beyond that, and by Jacobi iteration only if GMRES fails. With
 * g = 1 the system has a unique solution exactly when every pair can reach,
 * through transitions of positive probability, a pair that leaks mass
 * (a terminal row, a next state never logged, or mass on a pair never
 * logged); otherwise the model is fitted as undefined (no fixed point). */
#ifndef OPE_FQE_FQE_TABULAR_H
#define OPE_FQE_FQE_TABULAR_H

#include "fqe/fqe.h"

#define OPE_FQE_TABULAR_DENSE_MAX 2000
/* S x A above this is refused (use linear or neural FQE). */
#define OPE_FQE_TABULAR_MAX_CELLS ((size_t)1 << 26)

typedef struct ope_fqe_tabular ope_fqe_tabular;

/* Fit on ds (discrete actions) with scores->dist present. On success *out
 * owns the table; a model without a fixed point is still returned, and
 * predict reports it as undefined with the reason. Errors: OPE_EUSAGE for
 * continuous actions, a missing distribution, a discount outside [0, 1] or
 * too many state-action cells; OPE_EINTERNAL when out of memory. */
ope_status ope_fqe_tabular_fit(const ope_dataset *ds, const ope_policy *pi,
                               const ope_policy_scores *scores,
                               const ope_fqe_config *cfg,
                               ope_fqe_tabular **out, ope_error *err);

/* Q at the logged action and V under the row's own distribution on every
 * row of ds (states unseen while fitting have Q = 0). out is allocated
 * here; clear it with ope_qfit_clear. */
ope_status ope_fqe_tabular_predict(const ope_fqe_tabular *m,
                                   const ope_dataset *ds,
                                   const ope_policy_scores *scores,
                                   ope_qfit *out, ope_error *err);

/* Q(obs, a) of the fitted table (0 for a pair never logged). */
double ope_fqe_tabular_q(const ope_fqe_tabular *m, const double *obs, int a);

/* Number of distinct observation vectors in ds, counting stops above
 * limit (returns limit + 1 then). */
size_t ope_fqe_tabular_count_states(const ope_dataset *ds, size_t limit);

/* Whether the fitted model has a fixed point; if not, why (may be NULL). */
int ope_fqe_tabular_defined(const ope_fqe_tabular *m, const char **why);

void ope_fqe_tabular_free(ope_fqe_tabular *m);

#endif

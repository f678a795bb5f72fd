/* DR and WDR on the tabular simulators against exact dynamic programming.
 *
 * Gridworld, behavior eps=0.5, evaluation eps=0.1, 200 datasets of 100
 * episodes (seeds 1000..1199): DR with the exact time-dependent Q
 * (backward induction on the environment's model, computed here) has a
 * mean within 3 standard errors of the exact value, and DR / WDR have a
 * smaller variance over the datasets than PDIS / WPDIS.
 * (Tabular FQE's convergence to the DP value is test_fqe_sim.c.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "estimators/dr.h"
#include "estimators/estimators.h"
#include "estimators/weights.h"
#include "fqe/fqe.h"
#include "sim/env.h"
#include "sim/sim.h"

#define N_DATASETS 200
#define N_EPISODES 100

/* Q_t(s,a) for t = 0..H-1 under pi (S x A table) by backward induction:
 * Q_t = sum_o p_o (r_o + g (1 - term_o) V_{t+1}(next_o)), V_H = 0.
 * Returns (H, S, A). */
static double *exact_q(const ope_env *env, const double *pi, double g, int H) {
  int S = env->n_states, A = env->n_actions;
  double *Q = calloc((size_t)H * (size_t)S * (size_t)A, sizeof *Q);
  double *v = calloc((size_t)S, sizeof *v), *vn = calloc((size_t)S, sizeof *vn);
  for (int t = H - 1; t >= 0; t--) {
    for (int s = 0; s < S; s++) {
      vn[s] = 0.0;
      for (int a = 0; a < A; a++) {
        ope_env_outcome o[OPE_ENV_MAX_OUTCOMES];
        int n = env->ops->outcomes(env, s, a, o);
        double q = 0.0;
        for (int k = 0; k < n; k++)
          q += o[k].prob * (o[k].reward + (o[k].terminal ? 0.0 : g * v[o[k].next]));
        Q[((size_t)t * (size_t)S + (size_t)s) * (size_t)A + (size_t)a] = q;
        vn[s] += pi[s * A + a] * q;
      }
    }
    memcpy(v, vn, (size_t)S * sizeof *v);
  }
  free(v);
  free(vn);
  return Q;
}

/* pi's table on every state of a tabular env (pi is Markov). */
static double *policy_table(const ope_env *env, const ope_policy *pi) {
  int S = env->n_states, A = env->n_actions;
  double *tab = calloc((size_t)S * (size_t)A, sizeof *tab);
  ope_error err = {0};
  for (int s = 0; s < S; s++) {
    double state = s, obs[OPE_ENV_MAX_OBS];
    env->ops->observe(env, &state, obs);
    assert_int_equal(pi->ops->dist(pi, NULL, obs, tab + s * A, &err), OPE_OK);
  }
  return tab;
}

static double var(const double *x, size_t n, double *mean) {
  double m = 0.0, v = 0.0;
  for (size_t i = 0; i < n; i++) m += x[i] / (double)n;
  for (size_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m) / (double)(n - 1);
  *mean = m;
  return v;
}

static double estimate(const ope_estimator *est, const ope_est_input *in) {
  ope_est_stats s;
  ope_estimate e;
  ope_error err = {0};
  assert_int_equal(ope_est_run(est, in, &s, &e, &err), OPE_OK);
  ope_est_stats_clear(&s);
  assert_int_equal(e.flag, OPE_EST_DEFINED);
  return e.value;
}

static void dr_unbiased_and_lower_variance(void **state) {
  (void)state;
  ope_error err = {0};
  ope_env *env = NULL;
  ope_policy *pi = NULL;
  assert_int_equal(ope_env_new("gridworld", &env, &err), OPE_OK);
  assert_int_equal(ope_sim_policy_new("gridworld:eps=0.1", &pi, &err), OPE_OK);
  const double g = env->gamma;
  const int H = env->horizon, S = env->n_states, A = env->n_actions;
  ope_sim_value truth;
  assert_int_equal(ope_sim_truth_exact("gridworld", pi, g, H, &truth, &err), OPE_OK);
  double *tab = policy_table(env, pi);
  double *Q = exact_q(env, tab, g, H);
  enum { PDIS, WPDIS, DR, WDR, MAGIC, N_EST };
  const ope_estimator *ests[N_EST] = {&ope_est_pdis, &ope_est_wpdis, &ope_est_dr,
                                      &ope_est_wdr, &ope_est_magic};
  const char *names[N_EST] = {"pdis", "wpdis", "dr", "wdr", "magic"};
  double *val = malloc(N_EST * N_DATASETS * sizeof *val);
  for (int k = 0; k < N_DATASETS; k++) {
    ope_dataset *ds = NULL;
    assert_int_equal(ope_sim_generate("gridworld", "eps=0.5", N_EPISODES,
                                      1000 + (uint64_t)k, 0, &ds, &err), OPE_OK);
    ope_policy_scores sc;
    assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
    ope_weights w;
    assert_int_equal(ope_weights_compute(ds, sc.prob, ds->pscore, 0, &w, &err), OPE_OK);
    double *q = malloc(ds->n_steps * sizeof *q), *v = malloc(ds->n_steps * sizeof *v);
    for (size_t e = 0; e < ds->n_episodes; e++)
      for (size_t r = ds->ep_offset[e]; r < ds->ep_offset[e + 1]; r++) {
        size_t t = r - ds->ep_offset[e];
        int s = env->ops->state_of(env, ds->obs + r * (size_t)ds->obs_dim);
        const double *Qts = Q + (t * (size_t)S + (size_t)s) * (size_t)A;
        q[r] = Qts[ds->action[r]];
        v[r] = 0.0;
        for (int a = 0; a < A; a++) v[r] += sc.dist[r * (size_t)A + (size_t)a] * Qts[a];
      }
    ope_qfit qf = {.n_steps = ds->n_steps, .q = q, .v = v, .defined = 1};
    ope_est_input in = {.ds = ds, .w = &w, .pe = &sc, .q = &qf, .gamma = g};
    for (int j = 0; j < N_EST; j++) val[j * N_DATASETS + k] = estimate(ests[j], &in);
    free(q);
    free(v);
    ope_weights_clear(&w);
    ope_policy_scores_clear(&sc);
    ope_dataset_free(ds);
  }
  double mean[N_EST], vr[N_EST];
  for (int j = 0; j < N_EST; j++) {
    vr[j] = var(val + j * N_DATASETS, N_DATASETS, &mean[j]);
    print_message("%-6s mean %.6f  sd %.6f  (truth %.6f, %d datasets x %d episodes)\n",
                  names[j], mean[j], sqrt(vr[j]), truth.value, N_DATASETS, N_EPISODES);
  }
  double se = sqrt(vr[DR] / N_DATASETS);
  assert_true(fabs(mean[DR] - truth.value) <= 3 * se);
  assert_true(vr[DR] < vr[PDIS]);
  assert_true(vr[WDR] < vr[WPDIS]);
  free(val);
  free(Q);
  free(tab);
  ope_policy_free(pi);
  ope_env_free(env);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dr_unbiased_and_lower_variance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

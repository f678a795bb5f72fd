/* Linear FQE / LSTD-Q: with full-rank indicator features (reference coding
 * of the states) it must equal the tabular fixed point; with discount 0
 * and continuous actions it is least squares on [1, s, a, s a] and must
 * recover an exactly linear reward. Tolerance 1e-9 relative. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "fqe/fqe.h"
#include "fqe/fqe_linear.h"
#include "sim/sim.h"

static void assert_rel(double got, double want, double tol) {
  double scale = fmax(1.0, fabs(want));
  if (!(fabs(got - want) <= tol * scale)) {
    print_error("got %.17g want %.17g (rel tol %g)\n", got, want, tol);
    fail();
  }
}

/* S states coded as S-1 indicator columns (state 0 = all zeros), A
 * actions, every pair logged; the same log once with integer observations
 * for the tabular fit. */
static void linear_equals_tabular(void **state) {
  (void)state;
  const int S = 5, A = 2;
  const size_t n_ep = 120, len = 8, N = n_ep * len;
  ope_error err = {0};
  ope_dataset *lin = ope_dataset_alloc(n_ep, N, S - 1, OPE_ACTION_DISCRETE, A, 1, 0, 0, &err);
  ope_dataset *tab = ope_dataset_alloc(n_ep, N, 1, OPE_ACTION_DISCRETE, A, 1, 0, 0, &err);
  assert_non_null(lin);
  assert_non_null(tab);
  double pi[5][2] = {{0.2, 0.8}, {0.5, 0.5}, {0.9, 0.1}, {0.3, 0.7}, {0.6, 0.4}};
  double *dist = malloc(N * (size_t)A * sizeof *dist);
  ope_rng rng;
  ope_rng_seed(&rng, 7, 0);
  for (size_t e = 0, r = 0; e < n_ep; e++) {
    lin->ep_offset[e] = tab->ep_offset[e] = r;
    int s = (int)(e % (size_t)S);
    for (size_t t = 0; t < len; t++, r++) {
      int a = (int)ope_rng_below(&rng, (uint64_t)A);
      tab->obs[r] = s;
      if (s > 0) lin->obs[r * (size_t)(S - 1) + (size_t)(s - 1)] = 1.0;
      tab->action[r] = lin->action[r] = a;
      tab->reward[r] = lin->reward[r] = s - 2.0 * a + ope_rng_uniform(&rng);
      memcpy(dist + r * (size_t)A, pi[s], sizeof pi[s]);
      s = (s + 1 + a * (int)ope_rng_below(&rng, 3)) % S;
    }
    if (e % 3 == 0) tab->terminal[r - 1] = lin->terminal[r - 1] = 1;
    lin->ep_offset[e + 1] = tab->ep_offset[e + 1] = r;
  }
  ope_policy_scores sc = {.n_steps = N, .n_actions = A, .dist = dist};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.gamma = 0.9;
  cfg.ridge = 0.0;
  cfg.kind = OPE_FQE_LINEAR;
  ope_fqe_model *ml = NULL, *mt = NULL;
  assert_int_equal(ope_fqe_fit(lin, NULL, &sc, &cfg, &ml, &err), OPE_OK);
  cfg.kind = OPE_FQE_TABULAR;
  assert_int_equal(ope_fqe_fit(tab, NULL, &sc, &cfg, &mt, &err), OPE_OK);
  ope_qfit ql, qt;
  assert_int_equal(ope_fqe_predict(ml, lin, NULL, &sc, &ql, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(mt, tab, NULL, &sc, &qt, &err), OPE_OK);
  assert_true(ql.defined && qt.defined);
  double maxd = 0.0;
  for (size_t t = 0; t < N; t++) {
    assert_rel(ql.q[t], qt.q[t], 1e-9);
    assert_rel(ql.v[t], qt.v[t], 1e-9);
    maxd = fmax(maxd, fabs(ql.q[t] - qt.q[t]));
  }
  assert_rel(ql.value, qt.value, 1e-9);
  print_message("linear vs tabular: max |dQ| %.3g, value %.12g\n", maxd, ql.value);
  ope_qfit_clear(&ql);
  ope_qfit_clear(&qt);
  ope_fqe_model_free(ml);
  ope_fqe_model_free(mt);
  ope_dataset_free(lin);
  ope_dataset_free(tab);
  free(dist);
}

/* Continuous, g = 0: r = 2 + 3 s - a + 0.5 s a exactly, so w = (2, 3, -1,
 * 0.5) and V(s) = Q(s, mu(s)) for the deterministic policy mu(s) = -s. */
static void continuous_least_squares(void **state) {
  (void)state;
  const size_t N = 50;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(5, N, 1, OPE_ACTION_CONTINUOUS, 0, 1, 0, 0, &err);
  assert_non_null(ds);
  double *act = malloc(N * sizeof *act);
  double *prob = malloc(N * sizeof *prob);
  ope_rng rng;
  ope_rng_seed(&rng, 3, 0);
  for (size_t r = 0; r < N; r++) {
    double s = ope_rng_normal(&rng), a = ope_rng_normal(&rng);
    ds->obs[r] = s;
    ds->action_vec[r] = a;
    ds->reward[r] = 2 + 3 * s - a + 0.5 * s * a;
    act[r] = -s;
    prob[r] = 1.0;
  }
  for (size_t e = 0; e <= 5; e++) ds->ep_offset[e] = e * 10;
  ope_policy_scores sc = {.n_steps = N, .action_dim = 1, .prob = prob, .act = act,
                          .deterministic = 1, .bandwidth = 0.1};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_LINEAR;
  cfg.gamma = 0.0;
  cfg.ridge = 0.0;
  ope_fqe_model *m = NULL;
  assert_int_equal(ope_fqe_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  ope_qfit q;
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &q, &err), OPE_OK);
  assert_true(q.defined);
  for (size_t r = 0; r < N; r++) {
    double s = ds->obs[r];
    assert_rel(q.q[r], ds->reward[r], 1e-9);
    assert_rel(q.v[r], 2 + 3 * s + s - 0.5 * s * s, 1e-9);
  }
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  ope_dataset_free(ds);
  free(act);
  free(prob);
}

/* Continuous actions with a stochastic policy (pendulum, noise 0.2): the
 * mean next action comes from seeded samples walked through the episode,
 * so two fits give the same bits, and the value is a finite number. */
static void continuous_stochastic(void **state) {
  (void)state;
  ope_error err = {0};
  ope_dataset *ds = NULL;
  ope_policy *pi = NULL;
  assert_int_equal(ope_sim_generate("pendulum", "noise=0.5", 4, 3, 50, &ds, &err), OPE_OK);
  assert_int_equal(ope_sim_policy_new("pendulum:noise=0.2", &pi, &err), OPE_OK);
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_LINEAR;
  cfg.gamma = 0.9;
  cfg.seed = 11;
  ope_fqe_model *m1 = NULL, *m2 = NULL;
  ope_qfit q1, q2;
  assert_int_equal(ope_fqe_fit(ds, pi, &sc, &cfg, &m1, &err), OPE_OK);
  assert_int_equal(ope_fqe_fit(ds, pi, &sc, &cfg, &m2, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(m1, ds, pi, &sc, &q1, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(m2, ds, pi, &sc, &q2, &err), OPE_OK);
  assert_true(q1.defined && isfinite(q1.value));
  assert_memory_equal(q1.q, q2.q, ds->n_steps * sizeof(double));
  assert_memory_equal(q1.v, q2.v, ds->n_steps * sizeof(double));
  print_message("pendulum linear FQE value %.6g\n", q1.value);
  ope_qfit_clear(&q1);
  ope_qfit_clear(&q2);
  ope_fqe_model_free(m1);
  ope_fqe_model_free(m2);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(linear_equals_tabular),
    cmocka_unit_test(continuous_least_squares),
    cmocka_unit_test(continuous_stochastic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

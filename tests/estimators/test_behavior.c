/* Estimated behavior propensities: cross-fitting never lets an episode be
 * scored by a model that saw it (checked by hand on a log whose halves
 * disagree), each model recovers a known behavior policy, and on a
 * simulator estimated propensities give nearly the estimate of the exact
 * ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"
#include "estimators/estimators.h"
#include "policy/behavior.h"
#include "sim/sim.h"

/* 4 episodes of 5 steps, A = 2; even episodes always take action 0, odd
 * ones action 1. obs is 0 everywhere (tabular) or distinct per row. */
static ope_dataset *split_log(int tabular) {
  ope_dataset *ds = ope_dataset_alloc(4, 20, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 0, NULL);
  for (size_t i = 0; i < 4; i++) {
    ds->ep_offset[i] = 5 * i;
    ds->ep_label[i] = strdup(i % 2 ? "odd" : "even");
    for (size_t t = 0; t < 5; t++) {
      size_t r = 5 * i + t;
      ds->obs[r] = tabular ? 0.0 : (double)r / 20.0;
      ds->action[r] = (int32_t)(i % 2);
    }
  }
  ds->ep_offset[4] = 20;
  return ds;
}

/* Counts, by hand. The odd half (10 rows, all action 1) scores the even
 * rows: marginal with add-one-half smoothing p(0) = 0.5/11, p(1) = 10.5/11;
 * at the one state n_s0 = 0, n_s1 = 10, so
 *   pi_b(0|s) = (0 + 0.5/11) / (10 + 1) = 1/242, pi_b(1|s) = (10 + 10.5/11) / 11.
 * By symmetry odd rows get pi_b(1|s) = 1/242. */
static void test_counts_crossfit(void **state) {
  (void)state;
  ope_dataset *ds = split_log(1);
  ope_behavior_fit f;
  assert_int_equal(ope_behavior_estimate(ds, OPE_BEHAVIOR_AUTO, &f, NULL), OPE_OK);
  assert_int_equal(f.kind, OPE_BEHAVIOR_COUNTS);
  assert_int_equal(f.n_states, 1);
  for (size_t r = 0; r < 20; r++) {
    assert_true(fabs(f.prob[r] - 1.0 / 242.0) <= 1e-12 / 242.0);
    int a = ds->action[r];
    assert_true(fabs(f.dist[r * 2 + (1 - a)] - (10.0 + 10.5 / 11.0) / 11.0) <= 1e-12);
  }
  assert_true(fabs(f.heldout_loglik - log(1.0 / 242.0)) <= 1e-12);
  ope_behavior_fit_clear(&f);
  ope_dataset_free(ds);
}

/* Logistic on distinct observations: the held-out half never took the
 * logged action, so its probability must be small. */
static void test_logistic_crossfit(void **state) {
  (void)state;
  ope_dataset *ds = split_log(0);
  ope_behavior_fit f;
  assert_int_equal(ope_behavior_estimate(ds, OPE_BEHAVIOR_AUTO, &f, NULL), OPE_OK);
  assert_int_equal(f.kind, OPE_BEHAVIOR_LOGISTIC);
  for (size_t r = 0; r < 20; r++) assert_true(f.prob[r] < 0.05);
  ope_behavior_fit_clear(&f);
  ope_dataset_free(ds);
}

/* Logistic recovers pi_b(a|x) = softmax(b_a x + c_a) with A = 3. */
static void test_logistic_recovers(void **state) {
  (void)state;
  enum { N_EP = 400, LEN = 10, A = 3 };
  const double b[A] = {0.0, 1.5, -1.0}, c[A] = {0.0, 0.2, -0.3};
  ope_dataset *ds = ope_dataset_alloc(N_EP, N_EP * LEN, 1, OPE_ACTION_DISCRETE, A, 1, 0, 0, NULL);
  double *truth = malloc(N_EP * LEN * A * sizeof(double));
  ope_rng rng;
  ope_rng_seed(&rng, 5, 0);
  for (size_t i = 0; i < N_EP; i++) {
    ds->ep_offset[i] = i * LEN;
    ds->ep_label[i] = strdup("e");
    for (size_t t = 0; t < LEN; t++) {
      size_t r = i * LEN + t;
      double x = 2.0 * ope_rng_uniform(&rng) - 1.0, z = 0.0, *p = truth + r * A;
      for (int a = 0; a < A; a++) z += p[a] = exp(b[a] * x + c[a]);
      for (int a = 0; a < A; a++) p[a] /= z;
      ds->obs[r] = x;
      ds->action[r] = ope_rng_categorical(&rng, p, A);
    }
  }
  ds->ep_offset[N_EP] = N_EP * LEN;
  ope_behavior_fit f;
  assert_int_equal(ope_behavior_estimate(ds, OPE_BEHAVIOR_LOGISTIC, &f, NULL), OPE_OK);
  double worst = 0.0;
  for (size_t k = 0; k < N_EP * LEN * A; k++) worst = fmax(worst, fabs(f.dist[k] - truth[k]));
  print_message("logistic: largest probability error %.4f, ECE %.4f\n", worst, f.ece);
  assert_true(worst < 0.06);
  assert_true(f.ece < 0.03);
  ope_behavior_fit_clear(&f);
  ope_dataset_free(ds);
  free(truth);
}

/* Gaussian with linear mean: a = 2 + 3x + N(0, 0.5^2); the held-out mean
 * log-density approaches -log(0.5) - log(2 pi)/2 - 1/2 and 95% of the
 * actions lie within 1.96 s. */
static void test_gaussian(void **state) {
  (void)state;
  enum { N_EP = 200, LEN = 20 };
  ope_dataset *ds = ope_dataset_alloc(N_EP, N_EP * LEN, 1, OPE_ACTION_CONTINUOUS, 0, 1, 0, 0, NULL);
  ope_rng rng;
  ope_rng_seed(&rng, 6, 0);
  for (size_t i = 0; i < N_EP; i++) {
    ds->ep_offset[i] = i * LEN;
    ds->ep_label[i] = strdup("e");
    for (size_t t = 0; t < LEN; t++) {
      size_t r = i * LEN + t;
      double x = ope_rng_uniform(&rng);
      ds->obs[r] = x;
      ds->action_vec[r] = 2.0 + 3.0 * x + 0.5 * ope_rng_normal(&rng);
    }
  }
  ds->ep_offset[N_EP] = N_EP * LEN;
  ope_behavior_fit f;
  assert_int_equal(ope_behavior_estimate(ds, OPE_BEHAVIOR_AUTO, &f, NULL), OPE_OK);
  assert_int_equal(f.kind, OPE_BEHAVIOR_GAUSSIAN);
  double want = -log(0.5) - 0.5 * log(2.0 * M_PI) - 0.5;
  print_message("gaussian: held-out log-likelihood %.4f (ideal %.4f), coverage %.4f\n",
                f.heldout_loglik, want, f.coverage95);
  assert_true(fabs(f.heldout_loglik - want) < 0.05);
  assert_true(fabs(f.coverage95 - 0.95) < 0.02);
  ope_behavior_fit_clear(&f);
  ope_dataset_free(ds);
}

/* gridworld, eps=0.5 logs of 1000 episodes, target eps=0.2: WIS with
 * estimated (counts) propensities within 5% of WIS with the exact ones. */
static void test_sim_estimated(void **state) {
  (void)state;
  ope_dataset *ds;
  ope_policy *pi;
  ope_policy_scores sc;
  assert_int_equal(ope_sim_generate("gridworld", "eps=0.5", 1000, 3, 10, &ds, NULL), OPE_OK);
  assert_int_equal(ope_sim_policy_new("gridworld:eps=0.2", &pi, NULL), OPE_OK);
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, NULL), OPE_OK);
  ope_behavior_fit f;
  assert_int_equal(ope_behavior_estimate(ds, OPE_BEHAVIOR_AUTO, &f, NULL), OPE_OK);
  assert_int_equal(f.kind, OPE_BEHAVIOR_COUNTS);
  double v[2];
  const double *pb[2] = {ds->pscore, f.prob};
  for (int k = 0; k < 2; k++) {
    ope_weights w;
    ope_est_stats s;
    ope_estimate o;
    assert_int_equal(ope_weights_compute(ds, sc.prob, pb[k], 0, &w, NULL), OPE_OK);
    ope_est_input in = {.ds = ds, .w = &w, .gamma = 0.95};
    assert_int_equal(ope_est_run(&ope_est_wis, &in, &s, &o, NULL), OPE_OK);
    v[k] = o.value;
    ope_est_stats_clear(&s);
    ope_weights_clear(&w);
  }
  print_message("wis: exact propensities %.5f, estimated %.5f (ECE %.4f)\n", v[0], v[1], f.ece);
  assert_true(fabs(v[1] - v[0]) <= 0.05 * fabs(v[0]));
  ope_behavior_fit_clear(&f);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_counts_crossfit),
    cmocka_unit_test(test_logistic_crossfit),
    cmocka_unit_test(test_logistic_recovers),
    cmocka_unit_test(test_gaussian),
    cmocka_unit_test(test_sim_estimated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

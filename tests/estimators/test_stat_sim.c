/* Statistical behavior on a tabular simulator with an exact truth.
 *
 * Bed: gridworld (5x5, slippery), time limit 10, discount 0.95; logs from
 * the eps=0.5 regime, target policy eps=0.2; truth by exact backward
 * induction over the same 10 steps. With 200 seeded datasets of 200
 * episodes:
 *   - IS and PDIS are unbiased: their mean over the datasets lies within 3
 *     standard errors of the truth;
 *   - 95% percentile-bootstrap intervals of WIS and PDIS cover the truth in
 *     90% to 99% of the datasets (B = 300 resamples per interval, fewer than
 *     the default 2000 to keep the test short; percentile endpoints at 2.5%
 *     and 97.5% are stable at that B);
 *   - WIS and WPDIS converge: over 20 datasets each, the root mean squared
 *     error at n = 1600 episodes is below half of that at n = 50 (the
 *     expected ratio is about 1/sqrt(32)).
 * A second bed where rewards arrive at every step (chain of 4 states, same
 * regimes, 200 datasets of 50 episodes) checks IS and PDIS unbiasedness
 * where the two differ. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "estimators/ci.h"
#include "sim/sim.h"

#define ENV "gridworld"
#define HORIZON 10
#define GAMMA 0.95

static const char *env = ENV;
static ope_policy *target;
static double truth;

static int setup(void **state) {
  (void)state;
  ope_sim_value v;
  if (ope_sim_policy_new(ENV ":eps=0.2", &target, NULL) != OPE_OK) return -1;
  if (ope_sim_truth_exact(ENV, target, GAMMA, HORIZON, &v, NULL) != OPE_OK) return -1;
  truth = v.value;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ope_policy_free(target);
  return 0;
}

/* Estimates (and, when cfg is given, intervals) of est[0..k-1] on one
 * generated dataset. */
static void one(size_t n, uint64_t seed, const ope_estimator *const *est, size_t k,
                const ope_ci_config *cfg, ope_estimate *out) {
  ope_dataset *ds = NULL;
  ope_policy_scores sc;
  ope_weights w;
  ope_est_stats s[4];
  assert_int_equal(ope_sim_generate(env, "eps=0.5", n, seed, HORIZON, &ds, NULL), OPE_OK);
  assert_int_equal(ope_policy_score_dataset(target, ds, 0, &sc, NULL), OPE_OK);
  assert_int_equal(ope_weights_compute(ds, sc.prob, ds->pscore, 0, &w, NULL), OPE_OK);
  ope_est_input in = {.ds = ds, .w = &w, .pe = &sc, .gamma = GAMMA};
  for (size_t j = 0; j < k; j++) {
    assert_int_equal(ope_est_run(est[j], &in, &s[j], &out[j], NULL), OPE_OK);
    assert_int_equal(out[j].flag, OPE_EST_DEFINED);
  }
  if (cfg) assert_int_equal(ope_ci_compute(cfg, est, s, &in, k, out, NULL, NULL), OPE_OK);
  for (size_t j = 0; j < k; j++) ope_est_stats_clear(&s[j]);
  ope_weights_clear(&w);
  ope_policy_scores_clear(&sc);
  ope_dataset_free(ds);
}

static void test_unbiased_and_coverage(void **state) {
  (void)state;
  enum { R = 200, N = 200 };
  const ope_estimator *est[3] = {&ope_est_is, &ope_est_pdis, &ope_est_wis};
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  cfg.n_boot = 300;
  cfg.threads = 2;
  double sum[3] = {0}, sq[3] = {0};
  int cover_pdis = 0, cover_wis = 0;
  for (int r = 0; r < R; r++) {
    ope_estimate o[3];
    cfg.seed = 1000 + (uint64_t)r;
    one(N, 1 + (uint64_t)r, est, 3, &cfg, o);
    for (int j = 0; j < 3; j++) {
      sum[j] += o[j].value;
      sq[j] += o[j].value * o[j].value;
    }
    cover_pdis += o[1].has_ci && o[1].ci_low <= truth && truth <= o[1].ci_high;
    cover_wis += o[2].has_ci && o[2].ci_low <= truth && truth <= o[2].ci_high;
  }
  for (int j = 0; j < 2; j++) {
    double mean = sum[j] / R, var = (sq[j] - R * mean * mean) / (R - 1);
    double se = sqrt(var / R);
    print_message("%s: mean %.6g truth %.6g se %.3g (%.2f se)\n", est[j]->name, mean, truth,
                  se, (mean - truth) / se);
    assert_true(fabs(mean - truth) <= 3 * se);
  }
  print_message("coverage: pdis %d/%d, wis %d/%d\n", cover_pdis, R, cover_wis, R);
  assert_in_range(cover_pdis, 180, 198);
  assert_in_range(cover_wis, 180, 198);
}

static double rmse(const ope_estimator *e, size_t n, int reps) {
  double s = 0.0;
  for (int r = 0; r < reps; r++) {
    ope_estimate o;
    const ope_estimator *one_est[1] = {e};
    one(n, 5000 + (uint64_t)r * 7 + n, one_est, 1, NULL, &o);
    s += (o.value - truth) * (o.value - truth);
  }
  return sqrt(s / reps);
}

static void test_convergence(void **state) {
  (void)state;
  const ope_estimator *est[2] = {&ope_est_wis, &ope_est_wpdis};
  for (int j = 0; j < 2; j++) {
    double small = rmse(est[j], 50, 20), large = rmse(est[j], 1600, 20);
    print_message("%s: rmse %.4g at n=50, %.4g at n=1600\n", est[j]->name, small, large);
    assert_true(large < 0.5 * small);
  }
}

/* The same unbiasedness check where rewards arrive at every step, so that
 * PDIS differs from IS: chain of 4 states, 200 datasets of 50 episodes. */
static void test_unbiased_chain(void **state) {
  (void)state;
  enum { R = 200, N = 50 };
  ope_policy *p;
  ope_sim_value v;
  assert_int_equal(ope_sim_policy_new("chain:length=4:eps=0.2", &p, NULL), OPE_OK);
  assert_int_equal(ope_sim_truth_exact("chain:length=4", p, GAMMA, HORIZON, &v, NULL), OPE_OK);
  ope_policy *saved = target;
  double saved_truth = truth;
  target = p;
  truth = v.value;
  env = "chain:length=4";
  const ope_estimator *est[2] = {&ope_est_is, &ope_est_pdis};
  double sum[2] = {0}, sq[2] = {0};
  for (int r = 0; r < R; r++) {
    ope_estimate o[2];
    one(N, 77 + (uint64_t)r, est, 2, NULL, o);
    for (int j = 0; j < 2; j++) {
      sum[j] += o[j].value;
      sq[j] += o[j].value * o[j].value;
    }
  }
  for (int j = 0; j < 2; j++) {
    double mean = sum[j] / R, var = (sq[j] - R * mean * mean) / (R - 1);
    double se = sqrt(var / R);
    print_message("chain %s: mean %.6g truth %.6g se %.3g (%.2f se)\n", est[j]->name, mean,
                  truth, se, (mean - truth) / se);
    assert_true(fabs(mean - truth) <= 3 * se);
  }
  env = ENV;
  target = saved;
  truth = saved_truth;
  ope_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unbiased_and_coverage),
    cmocka_unit_test(test_convergence),
    cmocka_unit_test(test_unbiased_chain),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

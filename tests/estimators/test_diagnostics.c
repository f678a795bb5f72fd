/* Weight and support diagnostics on the hand-computed log of test_is.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "estimators/diagnostics.h"
#include "tiny_log.h"

#define REL 1e-12

static void assert_rel(double got, double want) {
  double d = fabs(got - want), tol = REL * fmax(fabs(want), 1e-300);
  if (!(d <= tol)) {
    print_error("got %.17g want %.17g\n", got, want);
    fail();
  }
}

static const size_t LEN[] = {2, 1, 3};
static const double R[] = {1, 2, 4, 0, 1, -2};
static const double PE[] = {0.5, 0.9, 0.2, 1.0, 0.5, 0.3};
static const double PB[] = {0.25, 0.6, 0.8, 0.5, 1.0, 0.6};

/* Final weights 3, 0.25, 0.5: sum 3.75, sum of squares 9.3125,
 *   ESS = 3.75^2 / 9.3125, max share 3 / 3.75 = 0.8 (> 0.5: unreliable),
 *   quantiles (type 7 on 0.25, 0.5, 3): 5% 0.275, 25% 0.375, 50% 0.5,
 *   75% 1.75, 95% 0.5 + 0.9 * 2.5 = 2.75.
 * Per step (ended episodes carried): t=0 {2, 0.25, 2}, t=1 {3, 0.25, 1},
 *   t=2 {3, 0.25, 0.5}: ESS 4.25^2/8.0625, 4.25^2/10.0625, 3.75^2/9.3125.
 * Support (x = 0.05, y = 0.01): the target's distribution is (pe, 1 - pe)
 *   for action 0 logged; the behavior's (pb, 1 - pb) except on rows 1 and
 *   4, where action 1 gets 0.005 and 0 (rows 1: target 0.1 on it, row 4:
 *   0.5): 2 of 6 rows are outside. */
static void test_discrete(void **state) {
  (void)state;
  ope_dataset *ds = tiny_dataset(3, LEN, R);
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, PE, PB, 0, &w, NULL), OPE_OK);
  double ped[12], pbd[12];
  for (int r = 0; r < 6; r++) {
    ped[2 * r] = PE[r];
    ped[2 * r + 1] = 1 - PE[r];
    pbd[2 * r] = PB[r];
    pbd[2 * r + 1] = 1 - PB[r];
  }
  pbd[2 * 1 + 0] = 0.995;
  pbd[2 * 1 + 1] = 0.005;
  /* row 4: PB = 1, so action 1 already has 0 */
  ope_policy_scores sc = {.n_steps = 6, .n_actions = 2, .prob = (double *)PE, .dist = ped};
  ope_diag_config cfg;
  ope_diag_config_default(&cfg);
  ope_diagnostics d;
  assert_int_equal(ope_diag_compute(ds, &w, &sc, pbd, &cfg, &d, NULL), OPE_OK);
  assert_rel(d.ess, 3.75 * 3.75 / 9.3125);
  assert_rel(d.ess_frac, 3.75 * 3.75 / 9.3125 / 3);
  assert_rel(d.max_share, 0.8);
  assert_true(d.zero_frac == 0);
  const double q[7] = {0.25, 0.275, 0.375, 0.5, 1.75, 2.75, 3};
  for (int k = 0; k < 7; k++) assert_rel(d.quantiles[k], q[k]);
  assert_rel(d.ess_step[0], 4.25 * 4.25 / 8.0625);
  assert_rel(d.ess_step[1], 4.25 * 4.25 / 10.0625);
  assert_rel(d.ess_step[2], 3.75 * 3.75 / 9.3125);
  assert_rel(d.ess_step_min, 3.75 * 3.75 / 9.3125);
  assert_int_equal(d.support_kind, 1);
  assert_int_equal(d.support_rows, 2);
  assert_rel(d.support_frac, 2.0 / 6.0);
  assert_true(d.unreliable);
  assert_non_null(strstr(d.reason, "one episode holds 80% of the weight"));
  ope_diag_clear(&d);
  /* without the behavior distribution, no support and a note */
  assert_int_equal(ope_diag_compute(ds, &w, &sc, NULL, &cfg, &d, NULL), OPE_OK);
  assert_int_equal(d.support_kind, 0);
  assert_non_null(strstr(d.support_note, "behavior"));
  ope_diag_clear(&d);
  ope_weights_clear(&w);
  ope_dataset_free(ds);
}

/* Every weight 0: ESS 0 and unreliable. */
static void test_all_zero(void **state) {
  (void)state;
  ope_dataset *ds = tiny_dataset(3, LEN, R);
  const double pe0[] = {0, 0.9, 0, 0, 0.5, 0.3};
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, pe0, PB, 0, &w, NULL), OPE_OK);
  ope_policy_scores sc = {.n_steps = 6, .prob = (double *)pe0};
  ope_diag_config cfg;
  ope_diag_config_default(&cfg);
  ope_diagnostics d;
  assert_int_equal(ope_diag_compute(ds, &w, &sc, NULL, &cfg, &d, NULL), OPE_OK);
  assert_true(d.ess == 0);
  assert_true(d.zero_frac == 1);
  assert_true(d.unreliable);
  assert_non_null(strstr(d.reason, "every trajectory weight is 0"));
  ope_diag_clear(&d);
  ope_weights_clear(&w);
  ope_dataset_free(ds);
}

/* Continuous, deterministic target with bandwidth 0.5: logged actions
 * (1-d) 0, 1, 2, 3 against policy actions 0, 0, 0, 0 are 0, 2, 4, 6
 * bandwidths away: median 3, and 2 rows (4 and 6) beyond 3 bandwidths,
 * half of the steps (the unreliable limit is "more than half"). Two
 * episodes of 2 steps; ratios 1 everywhere, so ESS = n = 2. */
static void test_continuous(void **state) {
  (void)state;
  ope_dataset *ds = ope_dataset_alloc(2, 4, 1, OPE_ACTION_CONTINUOUS, 0, 1, 0, 0, NULL);
  ds->ep_offset[0] = 0;
  ds->ep_offset[1] = 2;
  ds->ep_offset[2] = 4;
  for (int r = 0; r < 4; r++) ds->action_vec[r] = r;
  double one[4] = {1, 1, 1, 1}, act[4] = {0, 0, 0, 0};
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, one, one, 0, &w, NULL), OPE_OK);
  ope_policy_scores sc = {.n_steps = 4, .action_dim = 1, .prob = one, .act = act,
                          .deterministic = 1, .bandwidth = 0.5};
  ope_diag_config cfg;
  ope_diag_config_default(&cfg);
  ope_diagnostics d;
  assert_int_equal(ope_diag_compute(ds, &w, &sc, NULL, &cfg, &d, NULL), OPE_OK);
  assert_rel(d.ess, 2.0);
  assert_int_equal(d.support_kind, 2);
  assert_rel(d.support_median_bw, 3.0);
  assert_int_equal(d.support_rows, 2);
  assert_rel(d.support_frac, 0.5);
  assert_false(d.unreliable);
  ope_diag_clear(&d);
  ope_weights_clear(&w);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_discrete),
    cmocka_unit_test(test_all_zero),
    cmocka_unit_test(test_continuous),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

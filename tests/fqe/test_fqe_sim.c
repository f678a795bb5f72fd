/* Tabular FQE converges to the exact dynamic-programming value of the
 * tabular simulators as episodes grow (gridworld and a short chain). The
 * truth for FQE is the value with the time limit ignored (horizon 3000,
 * where g^H is negligible), since FQE bootstraps truncated steps
 * (ARCHITECTURE.md); the chain's logs also carry the g^H warning. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "estimators/dr.h"
#include "fqe/fqe.h"
#include "sim/sim.h"

/* Tabular FQE on growing logs: the mean |FQE - truth| over 3 seeds shrinks
 * from the smallest to the largest size, and at the largest is within tol
 * of the DP value with the time limit ignored. */
static void fqe_converges(const char *env_spec, const char *behavior,
                          const char *target, double tol) {
  ope_error err = {0};
  ope_policy *pi = NULL;
  assert_int_equal(ope_sim_policy_new(target, &pi, &err), OPE_OK);
  ope_sim_value truth;
  assert_int_equal(ope_sim_truth_exact(env_spec, pi, -1, 3000, &truth, &err), OPE_OK);
  const size_t sizes[] = {30, 300, 3000};
  double errs[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++)
    for (uint64_t seed = 1; seed <= 3; seed++) {
      ope_dataset *ds = NULL;
      assert_int_equal(ope_sim_generate(env_spec, behavior, sizes[k], seed, 0, &ds, &err),
                       OPE_OK);
      ope_policy_scores sc;
      assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
      ope_fqe_config cfg;
      ope_fqe_config_default(&cfg);
      cfg.gamma = truth.gamma;
      assert_int_equal(ope_fqe_auto_kind(ds), OPE_FQE_TABULAR);
      ope_qfit q;
      assert_int_equal(ope_dr_fit_q(ds, pi, &sc, &cfg, 0, &q, &err), OPE_OK);
      assert_true(q.defined);
      errs[k] += fabs(q.value - truth.value) / 3.0;
      print_message("%s, %s -> %s: %4zu episodes, seed %d: FQE %.6f (truth %.6f)%s%s\n",
                    env_spec, behavior, target, sizes[k], (int)seed, q.value,
                    truth.value, q.warning[0] ? "\n  warning: " : "", q.warning);
      ope_qfit_clear(&q);
      ope_policy_scores_clear(&sc);
      ope_dataset_free(ds);
    }
  print_message("mean |FQE - truth|: %.6f, %.6f, %.6f\n", errs[0], errs[1], errs[2]);
  assert_true(errs[2] < tol);
  assert_true(errs[2] < errs[0]);
  ope_policy_free(pi);
}

static void fqe_converges_gridworld(void **state) {
  (void)state;
  fqe_converges("gridworld", "eps=0.5", "gridworld:eps=0.1", 0.01);
}

static void fqe_converges_chain(void **state) {
  (void)state;
  fqe_converges("chain:length=5", "eps=0.5", "chain:length=5:eps=0.2", 0.05);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(fqe_converges_gridworld),
    cmocka_unit_test(fqe_converges_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

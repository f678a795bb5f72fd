/* The ranking's uncertainty against the truth on a tabular simulator: over
 * 40 seeded gridworld logs, whenever the truly best candidate's estimate is
 * not gated as unreliable, the set the logs cannot tell from the top (joint
 * bootstrap, 95%) holds it in at least 90% of the logs (nominally 97.5% or
 * more: the set misses it only when it is significantly beaten); and the
 * truly best candidate has the largest mean P(best). Candidates are
 * reference policies whose exact values come from dynamic programming. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reports/joint.h"
#include "sim/sim.h"

#define SEEDS 40
#define N_POL 3

static void top_set_covers_best(void **state) {
  (void)state;
  const char *names[N_POL] = {"gridworld:eps=0.1", "gridworld:eps=0.3", "gridworld:eps=0.6"};
  ope_policy *pol[N_POL];
  double truth[N_POL], pbest[N_POL] = {0};
  const double gamma = 0.95;
  size_t best = 0;
  for (int p = 0; p < N_POL; p++) {
    ope_sim_value v;
    assert_int_equal(ope_sim_policy_new(names[p], &pol[p], NULL), OPE_OK);
    assert_int_equal(ope_sim_truth_exact("gridworld", pol[p], gamma, 0, &v, NULL), OPE_OK);
    truth[p] = v.value;
    if (truth[p] > truth[best]) best = (size_t)p;
  }
  const ope_estimator *est[] = {&ope_est_wpdis};
  ope_joint_config c;
  ope_joint_config_default(&c);
  c.eval.est = est;
  c.eval.n_est = 1;
  c.eval.gamma = gamma;
  c.eval.ci.n_boot = 200;
  c.eval.ci.threads = 1;
  int covered = 0, gated = 0;
  for (int s = 0; s < SEEDS; s++) {
    ope_dataset *ds = NULL;
    ope_report r;
    assert_int_equal(ope_sim_generate("gridworld", "medium", 150, 1000 + (uint64_t)s, 0, &ds,
                                      NULL), OPE_OK);
    c.eval.ci.seed = (uint64_t)s;
    assert_int_equal(ope_joint_report(NULL, ds, NULL, pol, N_POL, &c, OPE_REPORT_RANK, &r, NULL),
                     OPE_OK);
    for (size_t k = 0; k < r.n_pol; k++) {
      int p = 0;
      while (p < N_POL && strcmp(r.pol[k].name, names[p]) != 0) p++;
      assert_true(p < N_POL);
      if ((size_t)p == best && r.pol[k].top_set) covered++;
      if ((size_t)p == best && r.pol[k].gated) gated++;
      if (isfinite(r.pol[k].p_best)) pbest[p] += r.pol[k].p_best / SEEDS;
    }
    ope_report_clear(&r);
    ope_dataset_free(ds);
  }
  print_message("truths %.4f %.4f %.4f; best gated in %d logs, in the top set in %d of the "
                "other %d; mean P(best) %.3f %.3f %.3f\n", truth[0], truth[1], truth[2], gated,
                covered, SEEDS - gated, pbest[0], pbest[1], pbest[2]);
  assert_true(SEEDS - gated >= 25);
  assert_true(covered >= (int)ceil(0.9 * (SEEDS - gated)));
  for (int p = 0; p < N_POL; p++)
    if ((size_t)p != best) assert_true(pbest[best] > pbest[p]);
  for (int p = 0; p < N_POL; p++) ope_policy_free(pol[p]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(top_set_covers_best),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Offline RL improves on its data: on gridworld logs of an epsilon-greedy
 * behavior (eps = 0.6, exact value about 0.03), short runs of discrete CQL,
 * IQL and BCQ must give policies whose exact value (dynamic programming) is
 * clearly above the behavior's. The margin, 0.15, is a fifth of the gap
 * between the behavior and the optimal value (about 0.6). BCQ runs with
 * threshold 0.5 instead of the paper's 0.3: the behavior gives every
 * non-greedy action 0.15 / 0.55 = 0.27 of the greedy one's probability,
 * so at 0.3 the learned imitation model's noise lets some through and the
 * short run's Q (plain double DQN there) decides among them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/gemm.h"
#include "sim/sim.h"
#include "train/ckpt_policy.h"
#include "train/train.h"

static double exact_value(const ope_policy *p) {
  ope_error err = {0};
  ope_sim_value v;
  assert_int_equal(ope_sim_truth_exact("gridworld", p, -1, 0, &v, &err), OPE_OK);
  return v.value;
}

static double trained_value(const ope_dataset *ds, const char *algo, int steps,
                            const char *key, const char *val) {
  ope_error err = {0};
  const ope_train_algo *a = ope_train_algo_find(algo);
  ope_train_settings set;
  ope_train_settings_init(&set, a, 1, 1);
  ope_train_settings_set(&set, a, "hidden", "32", &err);
  ope_train_settings_set(&set, a, "tau", "0.02", &err);
  if (key) assert_int_equal(ope_train_settings_set(&set, a, key, val, &err), OPE_OK);
  ope_train_run *r = NULL;
  assert_int_equal(ope_train_run_new(a, ds, &set, 1, &r, &err), OPE_OK);
  for (int i = 0; i < steps; i++) assert_int_equal(ope_train_step(r, &err), OPE_OK);
  uint8_t *blob;
  size_t len;
  char *settings, *summary;
  assert_int_equal(ope_train_checkpoint(r, &blob, &len, &settings, &summary, &err), OPE_OK);
  ope_ckpt *ck = NULL;
  ope_policy *p = NULL;
  assert_int_equal(ope_ckpt_load(blob, len, &ck, &err), OPE_OK);
  assert_int_equal(ope_train_policy_from_ckpt(ck, algo, &p, &err), OPE_OK);
  double v = exact_value(p);
  ope_policy_free(p);
  ope_train_run_free(r);
  free(blob);
  free(settings);
  free(summary);
  return v;
}

static void test_improve(void **state) {
  (void)state;
  ope_error err = {0};
  ope_gemm_set_threads(1);
  ope_dataset *ds = NULL;
  assert_int_equal(ope_sim_generate("gridworld", "eps=0.6", 200, 11, 0, &ds, &err), OPE_OK);
  ope_policy *beh = NULL;
  assert_int_equal(ope_sim_policy_new("gridworld:eps=0.6", &beh, &err), OPE_OK);
  double vb = exact_value(beh);
  ope_policy_free(beh);
  double bc = trained_value(ds, "bc", 600, NULL, NULL);
  printf("behavior %.4f, bc %.4f\n", vb, bc);
  const char *algos[] = {"cql", "iql", "bcq"};
  for (int k = 0; k < 3; k++) {
    double v = k == 2 ? trained_value(ds, algos[k], 1500, "bcq_threshold", "0.5")
                      : trained_value(ds, algos[k], 1500, NULL, NULL);
    printf("%s %.4f\n", algos[k], v);
    assert_true(v > vb + 0.15);
  }
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_improve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Ground truth on the tabular environments: the exact value by backward
 * induction equals a closed form by hand (deterministic chain) and the
 * rollout mean within its 95% interval (every regime of gridworld and
 * chain; at a fixed seed); rollouts give identical bits for 1, 2 and 3
 * threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "sim/sim.h"

static ope_policy *policy(const char *name) {
  ope_policy *p = NULL;
  ope_error err;
  if (ope_sim_policy_new(name, &p, &err) != OPE_OK) fail_msg("%s: %s", name, err.msg);
  return p;
}

static void test_chain_by_hand(void **state) {
  (void)state;
  /* No slip, always right: state 9 is reached after 9 moves, then every
   * step pays 1: V = sum_{t=9}^{99} 0.99^t = (0.99^9 - 0.99^100) / 0.01. */
  ope_policy *p = policy("chain:slip=0:eps=0");
  ope_sim_value v;
  ope_error err;
  assert_int_equal(ope_sim_truth_exact("chain:slip=0", p, -1, 0, &v, &err), OPE_OK);
  double want = (pow(0.99, 9) - pow(0.99, 100)) / 0.01;
  assert_true(fabs(v.value - want) <= 1e-12 * want);
  assert_int_equal(v.horizon, 100);
  assert_true(v.exact);
  /* Uniform random on a 2-state chain with horizon 1: 0.5 * 0.1. */
  ope_policy *q = policy("chain:length=2:random");
  assert_int_equal(ope_sim_truth_exact("chain:length=2", q, 0.9, 1, &v, &err), OPE_OK);
  assert_true(fabs(v.value - 0.05) <= 1e-15);
  /* Horizon 2, gamma 0.9: t=0 pays 0.05; at t=1 the chain is in state 1
   * with probability 0.5 * 0.9 (right, no slip), where right pays 1:
   * 0.05 + 0.9 * (0.05 + 0.45 * 0.5 * 1). */
  assert_int_equal(ope_sim_truth_exact("chain:length=2", q, 0.9, 2, &v, &err), OPE_OK);
  assert_true(fabs(v.value - (0.05 + 0.9 * (0.05 + 0.45 * 0.5))) <= 1e-15);
  ope_policy_free(p);
  ope_policy_free(q);
}

static void test_dp_matches_rollouts(void **state) {
  (void)state;
  const char *names[] = {
    "gridworld:expert", "gridworld:medium", "gridworld:random", "gridworld:medium-replay",
    "gridworld:medium-expert", "gridworld:slip=0.3:eps=0.2", "chain:expert", "chain:medium",
    "chain:random", "chain:medium-replay", "chain:medium-expert", "chain:length=5:eps=0.3",
  };
  int misses = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char env[128], regime[128];
    ope_error err;
    assert_int_equal(ope_sim_split_name(names[i], env, regime, &err), OPE_OK);
    ope_policy *p = policy(names[i]);
    ope_sim_value exact, roll;
    assert_int_equal(ope_sim_truth_exact(env, p, -1, 0, &exact, &err), OPE_OK);
    assert_int_equal(ope_sim_truth_rollout(env, p, 4000, -1, 0, 7, 2, &roll, &err), OPE_OK);
    int in = exact.value >= roll.ci_low && exact.value <= roll.ci_high;
    print_message("%-28s exact %.6f  rollout %.6f [%.6f, %.6f]%s\n", names[i], exact.value,
                  roll.value, roll.ci_low, roll.ci_high, in ? "" : "  OUTSIDE");
    /* A widened interval (3.5 standard errors) must always hold. */
    assert_true(fabs(exact.value - roll.value) <= 3.5 * roll.std_err + 1e-12);
    misses += !in;
    ope_policy_free(p);
  }
  /* 95% intervals: at most 2 of 12 may miss at this fixed seed. */
  assert_true(misses <= 2);
}

static void test_threads_do_not_matter(void **state) {
  (void)state;
  const char *names[] = {"cartpole:medium", "pendulum:medium-replay", "gridworld:medium"};
  for (size_t i = 0; i < 3; i++) {
    char env[128], regime[128];
    ope_error err;
    assert_int_equal(ope_sim_split_name(names[i], env, regime, &err), OPE_OK);
    ope_policy *p = policy(names[i]);
    ope_sim_value v[3];
    for (int k = 0; k < 3; k++)
      assert_int_equal(ope_sim_truth_rollout(env, p, 101, -1, 0, 42, k + 1, &v[k], &err), OPE_OK);
    for (int k = 1; k < 3; k++) {
      assert_memory_equal(&v[0].value, &v[k].value, sizeof(double));
      assert_memory_equal(&v[0].ci_low, &v[k].ci_low, sizeof(double));
    }
    ope_sim_value w;
    assert_int_equal(ope_sim_truth_rollout(env, p, 101, -1, 0, 43, 2, &w, &err), OPE_OK);
    assert_true(w.value != v[0].value);
    ope_policy_free(p);
  }
}

static void test_errors(void **state) {
  (void)state;
  ope_policy *p = NULL;
  ope_error err;
  assert_int_equal(ope_sim_policy_new("moonlander:expert", &p, &err), OPE_ENOINPUT);
  assert_int_equal(ope_sim_policy_new("cartpole", &p, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_policy_new("cartpole:noise=0.2", &p, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_policy_new("pendulum:eps=0.2", &p, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_policy_new("cartpole:eps=1.5", &p, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_policy_new("cartpole:expert:medium", &p, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_policy_new("chain:length=1:expert", &p, &err), OPE_EUSAGE);
  assert_null(p);
  p = policy("cartpole:expert");
  ope_sim_value v;
  assert_int_equal(ope_sim_truth_exact("cartpole", p, -1, 0, &v, &err), OPE_EUSAGE);
  assert_int_equal(ope_sim_truth_rollout("pendulum", p, 10, -1, 0, 1, 1, &v, &err), OPE_EDATA);
  ope_policy_free(p);
  assert_true(ope_sim_is_reference_name("chain:length=5:expert"));
  assert_false(ope_sim_is_reference_name("cql-alpha1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_chain_by_hand),
    cmocka_unit_test(test_dp_matches_rollouts),
    cmocka_unit_test(test_threads_do_not_matter),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

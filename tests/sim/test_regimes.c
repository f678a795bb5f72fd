/* On every environment the expert reference policy is clearly better than
 * medium, which is clearly better than random: their 95% rollout
 * intervals do not overlap (fixed seed). The values are those quoted in
 * ope-sim(1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "sim/sim.h"

static ope_sim_value value(const char *env, const char *regime, size_t episodes) {
  char name[128];
  snprintf(name, sizeof name, "%s:%s", env, regime);
  ope_policy *p = NULL;
  ope_error err;
  ope_sim_value v;
  if (ope_sim_policy_new(name, &p, &err) != OPE_OK) fail_msg("%s: %s", name, err.msg);
  if (ope_sim_truth_rollout(env, p, episodes, -1, 0, 2026, 2, &v, &err) != OPE_OK)
    fail_msg("%s: %s", name, err.msg);
  ope_policy_free(p);
  return v;
}

static void test_order(void **state) {
  (void)state;
  const char *envs[] = {"gridworld", "chain", "cartpole", "mountaincar", "pendulum", "pointmaze"};
  for (int i = 0; i < 6; i++) {
    ope_sim_value e = value(envs[i], "expert", 400);
    ope_sim_value m = value(envs[i], "medium", 400);
    ope_sim_value r = value(envs[i], "random", 400);
    print_message("%-12s expert %9.4f [%9.4f, %9.4f]  medium %9.4f [%9.4f, %9.4f]  "
                  "random %9.4f [%9.4f, %9.4f]\n", envs[i], e.value, e.ci_low, e.ci_high,
                  m.value, m.ci_low, m.ci_high, r.value, r.ci_low, r.ci_high);
    assert_true(e.ci_low > m.ci_high);
    assert_true(m.ci_low > r.ci_high);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Physics of cartpole, mountaincar, pendulum and pointmaze against steps
 * computed by hand from the published equations: one step of cartpole
 * from rest done with exact fractions, three steps of each of the first
 * three environments evaluated independently at 40 digits (mpmath) from
 * the equations quoted in the environments' sources, and pointmaze's
 * drag, walls and goal by hand. Relative tolerance 1e-12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "sim/env.h"

#define RTOL 1e-12

static void near(double got, double want) {
  double tol = RTOL * fmax(1.0, fabs(want));
  if (!(fabs(got - want) <= tol))
    fail_msg("got %.17g, want %.17g (difference %.3g)", got, want, got - want);
}

static ope_env *make(const char *spec) {
  ope_env *env = NULL;
  ope_error err;
  assert_int_equal(ope_env_new(spec, &env, &err), OPE_OK);
  return env;
}

static void test_cartpole_from_rest(void **state) {
  (void)state;
  ope_env *env = make("cartpole");
  double s[4] = {0, 0, 0, 0}, r;
  /* F = +10: tmp = 10/1.1 = 100/11; thddot = -(100/11) / (0.5 (4/3 - 0.1/1.1))
   * = -600/41; xddot = 100/11 + 0.05 (600/41) / 1.1 = 4400/451. Euler with
   * tau = 0.02 from rest moves only the velocities. */
  int term = env->ops->step(env, s, 1, NULL, NULL, &r);
  assert_int_equal(term, 0);
  near(s[0], 0.0);
  near(s[1], 0.02 * 4400.0 / 451.0);
  near(s[2], 0.0);
  near(s[3], -0.02 * 600.0 / 41.0);
  near(r, 1.0);
  ope_env_free(env);
}

static void test_cartpole_steps(void **state) {
  (void)state;
  ope_env *env = make("cartpole");
  double s[4] = {0.01, -0.02, 0.03, 0.04}, r;
  const int actions[3] = {1, 0, 0};
  const double want[3][4] = {
    {0.0096, 0.17467919574755523909, 0.0308, -0.24306871796000815502},
    {0.013093583914951104782, -0.020868848948191987408, 0.0259386256407998369,
     0.059167999939416530212},
    {0.012676206935987265034, -0.21635292104612766536, 0.027121985639588167504,
     0.35992057137841376994},
  };
  for (int t = 0; t < 3; t++) {
    assert_int_equal(env->ops->step(env, s, actions[t], NULL, NULL, &r), 0);
    for (int i = 0; i < 4; i++) near(s[i], want[t][i]);
  }
  /* Past 12 degrees the episode ends. */
  double fall[4] = {0, 0, 0.2, 1.0};
  assert_int_equal(env->ops->step(env, fall, 1, NULL, NULL, &r), 1);
  ope_env_free(env);
}

static void test_mountaincar_steps(void **state) {
  (void)state;
  ope_env *env = make("mountaincar");
  double s[2] = {-0.5, 0.0}, r;
  const int actions[3] = {2, 2, 0};
  const double want[3][2] = {
    {-0.49917684300416925728, 0.00082315699583074272478},
    {-0.49753668667935323295, 0.0016401563248160243204},
    {-0.49709179693234737082, 0.00044488974700586213434},
  };
  for (int t = 0; t < 3; t++) {
    assert_int_equal(env->ops->step(env, s, actions[t], NULL, NULL, &r), 0);
    near(s[0], want[t][0]);
    near(s[1], want[t][1]);
    near(r, 0.0);
  }
  /* The left wall stops the car; the goal pays 1 and ends the episode. */
  double wall[2] = {-1.19, -0.05};
  env->ops->step(env, wall, 0, NULL, NULL, &r);
  near(wall[0], -1.2);
  near(wall[1], 0.0);
  double goal[2] = {0.49, 0.05};
  assert_int_equal(env->ops->step(env, goal, 2, NULL, NULL, &r), 1);
  near(r, 1.0);
  ope_env_free(env);
}

static void test_pendulum_steps(void **state) {
  (void)state;
  ope_env *env = make("pendulum");
  double s[2] = {1.0, 0.5}, r;
  const double u[3] = {0.7, -3.0, 2.0}; /* -3 is clipped to -2 */
  const double want[3][3] = {
    {1.061805161930296119, 1.23610323860592238, -1.02549},
    {1.1413566946282450767, 1.5910306539589791539, -1.2842253235510273503},
    {1.2700031976238645675, 2.5729300599123898164, -1.5598329585564267708},
  };
  for (int t = 0; t < 3; t++) {
    assert_int_equal(env->ops->step(env, s, 0, &u[t], NULL, &r), 0);
    near(s[0], want[t][0]);
    near(s[1], want[t][1]);
    near(r, want[t][2]);
  }
  double obs[3];
  env->ops->observe(env, s, obs);
  near(obs[0], cos(s[0]));
  near(obs[1], sin(s[0]));
  near(obs[2], s[1]);
  ope_env_free(env);
}

static void test_pointmaze_steps(void **state) {
  (void)state;
  ope_env *env = make("pointmaze");
  double s[4] = {0.5, 0.5, 0.0, 0.0}, r;
  const double push[2] = {1.0, 0.0}, down[2] = {0.0, 3.0};
  /* v <- v + 0.2 (a - v): 0.2, then 0.2 + 0.2 * 0.8 = 0.36; p += 0.25 v. */
  assert_int_equal(env->ops->step(env, s, 0, push, NULL, &r), 0);
  near(s[0], 0.55);
  near(s[2], 0.2);
  assert_int_equal(env->ops->step(env, s, 0, push, NULL, &r), 0);
  near(s[0], 0.64);
  near(s[1], 0.5);
  near(s[2], 0.36);
  near(s[3], 0.0);
  near(r, 0.0);
  /* Moving down from (0.64, 0.9) at vy = 1 (force clipped to 1) would end
   * in the wall below: the x part alone is free, so y stops. */
  double w[4] = {0.64, 0.9, 0.0, 1.0};
  env->ops->step(env, w, 0, down, NULL, &r);
  near(w[0], 0.64);
  near(w[1], 0.9);
  near(w[3], 0.0);
  /* Entering the goal cell (row 3, column 0) pays 1 and ends. */
  double g[4] = {0.5, 2.95, 0.0, 1.0};
  assert_int_equal(env->ops->step(env, g, 0, down, NULL, &r), 1);
  near(r, 1.0);
  ope_env_free(env);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cartpole_from_rest),
    cmocka_unit_test(test_cartpole_steps),
    cmocka_unit_test(test_mountaincar_steps),
    cmocka_unit_test(test_pendulum_steps),
    cmocka_unit_test(test_pointmaze_steps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* `mountaincar`: the under-powered car of Moore (1990) in the form of
 * Sutton & Barto (2018, sec. 10.1): with action a in {0, 1, 2} (full
 * throttle left, none, right),
 *
 *   v <- clip(v + 0.001 (a - 1) - 0.0025 cos(3 x), -0.07, 0.07)
 *   x <- clip(x + v, -1.2, 0.6); at x = -1.2 the velocity is reset to 0
 *
 * State = observation = (x, v); x starts uniform on [-0.6, -0.4], v = 0.
 * The reward is sparse: 1 on the step that reaches x >= 0.5 (terminal),
 * 0 otherwise (instead of the book's -1 per step), so that a policy that
 * never reaches the goal is worth exactly 0. Time limit 200, discount
 * 0.99. Reference controller: push in the direction of motion (right when
 * v >= 0), which pumps energy and reaches the goal in about 100 steps. */
#include "sim/env.h"

#include <math.h>

static void reset(const ope_env *env, ope_rng *rng, double *state) {
  state[0] = -0.6 + 0.2 * ope_rng_uniform(rng);
  state[1] = 0.0;
}

static void observe(const ope_env *env, const double *state, double *obs) {
  obs[0] = state[0];
  obs[1] = state[1];
}

static int step(const ope_env *env, double *s, int action, const double *avec,
                ope_rng *rng, double *reward) {
  double x = s[0], v = s[1];
  v += 0.001 * (action - 1) - 0.0025 * cos(3.0 * x);
  v = fmin(fmax(v, -0.07), 0.07);
  x += v;
  x = fmin(fmax(x, -1.2), 0.6);
  if (x == -1.2 && v < 0) v = 0.0;
  s[0] = x;
  s[1] = v;
  int done = x >= 0.5;
  *reward = done ? 1.0 : 0.0;
  return done;
}

static int control(const ope_env *env, const double *obs, double *avec) {
  return obs[1] >= 0.0 ? 2 : 0;
}

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
};

ope_status ope_env_mountaincar_init(ope_env *env, ope_error *err) {
  env->ops = &ops;
  env->action_kind = OPE_ACTION_DISCRETE;
  env->state_dim = 2;
  env->obs_dim = 2;
  env->n_actions = 3;
  env->action_dim = 1;
  env->horizon = 200;
  env->gamma = 0.99;
  env->expert_knob = 0.05;
  env->medium_knob = 0.5;
  return OPE_OK;
}

/* `pendulum`: torque-limited swing-up of a rigid pendulum (the task of
 * Atkeson & Schaal 1997 and Doya 2000; the constants and cost are those of
 * the Pendulum task in OpenAI Gym, Brockman et al. 2016): g = 10, m = 1,
 * l = 1, dt = 0.05, torque |u| <= 2, speed |thdot| <= 8, th = 0 upright.
 *
 *   thdot <- clip(thdot + (3 g / (2 l) sin th + 3 u / (m l^2)) dt, -8, 8)
 *   th    <- th + thdot dt                      (semi-implicit Euler)
 *   reward = -(wrap(th)^2 + 0.1 thdot^2 + 0.001 u^2), using th, thdot, u
 *            before the step, wrap() into [-pi, pi)
 *
 * State (th, thdot), th uniform on [-pi, pi], thdot on [-1, 1];
 * observation (cos th, sin th, thdot); action u (1-D, clipped to [-2, 2]
 * by the environment, so the logged action is the unclipped one). No
 * terminal state; time limit 200, discount 0.99. Reference controller:
 * energy pumping far from upright, a PD law near it (see control()). */
#include "sim/env.h"

#include <math.h>

#define G 10.0
#define DT 0.05
#define MAX_TORQUE 2.0
#define MAX_SPEED 8.0

static double wrap(double th) {
  return fmod(fmod(th + M_PI, 2.0 * M_PI) + 2.0 * M_PI, 2.0 * M_PI) - M_PI;
}

static void reset(const ope_env *env, ope_rng *rng, double *state) {
  state[0] = -M_PI + 2.0 * M_PI * ope_rng_uniform(rng);
  state[1] = -1.0 + 2.0 * ope_rng_uniform(rng);
}

static void observe(const ope_env *env, const double *state, double *obs) {
  obs[0] = cos(state[0]);
  obs[1] = sin(state[0]);
  obs[2] = state[1];
}

static int step(const ope_env *env, double *s, int action, const double *avec,
                ope_rng *rng, double *reward) {
  double th = s[0], thdot = s[1];
  double u = fmin(fmax(avec[0], -MAX_TORQUE), MAX_TORQUE);
  double a = wrap(th);
  *reward = -(a * a + 0.1 * thdot * thdot + 0.001 * u * u);
  thdot += (3.0 * G / 2.0 * sin(th) + 3.0 * u) * DT;
  thdot = fmin(fmax(thdot, -MAX_SPEED), MAX_SPEED);
  s[0] = th + thdot * DT;
  s[1] = thdot;
  return 0;
}

/* Near upright (|th| < 0.6): PD, u = -(8 th + 1.5 thdot). Elsewhere:
 * raise the energy E = thdot^2 / 2 + 15 (cos th - 1) toward 0 (upright at
 * rest), dE/dt = 3 u thdot, so u = 2 sign(thdot) when E < 0. */
static int control(const ope_env *env, const double *obs, double *avec) {
  double th = atan2(obs[1], obs[0]), thdot = obs[2];
  double u;
  if (fabs(th) < 0.6) {
    u = -(8.0 * th + 1.5 * thdot);
  } else {
    double e = 0.5 * thdot * thdot + 15.0 * (obs[0] - 1.0);
    double dir = thdot >= 0 ? 1.0 : -1.0;
    u = e < 0 ? 2.0 * dir : -0.5 * dir;
  }
  avec[0] = fmin(fmax(u, -MAX_TORQUE), MAX_TORQUE);
  return 0;
}

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
};

ope_status ope_env_pendulum_init(ope_env *env, ope_error *err) {
  env->ops = &ops;
  env->action_kind = OPE_ACTION_CONTINUOUS;
  env->state_dim = 2;
  env->obs_dim = 3;
  env->n_actions = 0;
  env->action_dim = 1;
  env->action_low = -MAX_TORQUE;
  env->action_high = MAX_TORQUE;
  env->horizon = 200;
  env->gamma = 0.99;
  env->expert_knob = 0.1;
  env->medium_knob = 2.0;
  return OPE_OK;
}

/* `cartpole`: the pole-balancing task of Barto, Sutton & Anderson (1983),
 * with their equations of motion for the cart and the pole (friction
 * terms set to zero) and the standard constants: g = 9.8, cart mass 1.0, pole
 * mass 0.1, pole half-length 0.5, force +-10 N, Euler step tau = 0.02 s.
 *
 *   tmp    = (F + m_p l thdot^2 sin th) / (m_c + m_p)
 *   thddot = (g sin th - cos th tmp) / (l (4/3 - m_p cos^2 th / (m_c + m_p)))
 *   xddot  = tmp - m_p l thddot cos th / (m_c + m_p)
 *   x += tau xdot; xdot += tau xddot; th += tau thdot; thdot += tau thddot
 *
 * State = observation = (x, xdot, th, thdot), initial state uniform on
 * [-0.05, 0.05]^4. Actions 0 (push left) and 1 (push right). Reward 1 on
 * every step, including the one that ends the episode; the episode ends
 * (terminal) when |x| > 2.4 or |th| > 12 degrees. Time limit 200,
 * discount 0.99. Reference controller: push toward the side the pole is
 * falling to, u = th + 0.5 thdot + 0.05 x + 0.1 xdot > 0 -> right. */
#include "sim/env.h"

#include <math.h>

#define GRAVITY 9.8
#define MASS_CART 1.0
#define MASS_POLE 0.1
#define HALF_LENGTH 0.5
#define FORCE 10.0
#define TAU 0.02
#define X_LIMIT 2.4
#define THETA_LIMIT (12.0 * 2.0 * M_PI / 360.0)

static void reset(const ope_env *env, ope_rng *rng, double *state) {
  for (int i = 0; i < 4; i++) state[i] = -0.05 + 0.1 * ope_rng_uniform(rng);
}

static void observe(const ope_env *env, const double *state, double *obs) {
  for (int i = 0; i < 4; i++) obs[i] = state[i];
}

static int step(const ope_env *env, double *s, int action, const double *avec,
                ope_rng *rng, double *reward) {
  double x = s[0], xdot = s[1], th = s[2], thdot = s[3];
  double f = action == 1 ? FORCE : -FORCE;
  double total = MASS_CART + MASS_POLE, pml = MASS_POLE * HALF_LENGTH;
  double sn = sin(th), cs = cos(th);
  double tmp = (f + pml * thdot * thdot * sn) / total;
  double thacc = (GRAVITY * sn - cs * tmp) /
                 (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cs * cs / total));
  double xacc = tmp - pml * thacc * cs / total;
  s[0] = x + TAU * xdot;
  s[1] = xdot + TAU * xacc;
  s[2] = th + TAU * thdot;
  s[3] = thdot + TAU * thacc;
  *reward = 1.0;
  return fabs(s[0]) > X_LIMIT || fabs(s[2]) > THETA_LIMIT;
}

static int control(const ope_env *env, const double *obs, double *avec) {
  return obs[2] + 0.5 * obs[3] + 0.05 * obs[0] + 0.1 * obs[1] > 0.0;
}

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
};

ope_status ope_env_cartpole_init(ope_env *env, ope_error *err) {
  env->ops = &ops;
  env->action_kind = OPE_ACTION_DISCRETE;
  env->state_dim = 4;
  env->obs_dim = 4;
  env->n_actions = 2;
  env->action_dim = 1;
  env->horizon = 200;
  env->gamma = 0.99;
  env->expert_knob = 0.05;
  env->medium_knob = 0.6;
  return OPE_OK;
}

/* Dynamic programming on the tabular environments (env.h): the optimal
 * policy their reference controllers follow, and the exact finite-horizon
 * value of any Markov policy, which is the ground truth of `ope truth`. */
#include "sim/env.h"

#include <math.h>
#include <stdlib.h>

/* Q(s,a) = sum_o p_o (r_o + g (1 - term_o) V(next_o)). */
static double q_value(const ope_env *env, int s, int a, const double *v, double g) {
  ope_env_outcome o[OPE_ENV_MAX_OUTCOMES];
  int n = env->ops->outcomes(env, s, a, o);
  double q = 0.0;
  for (int i = 0; i < n; i++)
    q += o[i].prob * (o[i].reward + (o[i].terminal ? 0.0 : g * v[o[i].next]));
  return q;
}

void ope_env_tabular_optimal(const ope_env *env, int *greedy) {
  int S = env->n_states, A = env->n_actions;
  double *v = calloc((size_t)S, sizeof *v);
  for (int s = 0; s < S; s++) greedy[s] = 0;
  if (v == NULL) return;
  /* Value iteration (Sutton & Barto 2018, sec. 4.4), Gauss-Seidel order;
   * stops when a sweep changes no value by more than 1e-12. */
  for (int sweep = 0; sweep < 100000; sweep++) {
    double delta = 0.0;
    for (int s = 0; s < S; s++) {
      double best = -HUGE_VAL;
      for (int a = 0; a < A; a++) {
        double q = q_value(env, s, a, v, env->gamma);
        if (q > best + 1e-12) {
          best = q;
          greedy[s] = a;
        }
      }
      delta = fmax(delta, fabs(best - v[s]));
      v[s] = best;
    }
    if (delta <= 1e-12) break;
  }
  free(v);
}

double ope_env_tabular_value(const ope_env *env, const double *pi, double gamma,
                             int horizon) {
  int S = env->n_states, A = env->n_actions;
  double *v = calloc((size_t)S, sizeof *v);      /* V_{t+1} */
  double *vn = calloc((size_t)S, sizeof *vn);    /* V_t */
  double value = NAN;
  if (v == NULL || vn == NULL) goto done;
  /* V_H = 0; V_t(s) = sum_a pi(a|s) Q_t(s,a) with Q_t using V_{t+1}. */
  for (int t = horizon - 1; t >= 0; t--) {
    for (int s = 0; s < S; s++) {
      double acc = 0.0;
      for (int a = 0; a < A; a++)
        if (pi[(size_t)s * A + a] != 0.0)
          acc += pi[(size_t)s * A + a] * q_value(env, s, a, v, gamma);
      vn[s] = acc;
    }
    double *tmp = v;
    v = vn;
    vn = tmp;
  }
  value = v[env->start_state];
done:
  free(v);
  free(vn);
  return value;
}

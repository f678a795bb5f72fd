/* Logged propensities are exact and the logged actions follow them:
 * every pscore equals the generating policy's probability (or density) of
 * the logged action, the action counts pass a chi-square test against the
 * summed probabilities (fixed seed, 0.1% critical values), continuous
 * noise passes a chi-square test of normality on ten equiprobable bins,
 * and mixture regimes log the probability of the episode's own component. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

/* Chi-square 0.999 quantiles for 1..9 degrees of freedom. */
static const double chi2_crit[10] = {0, 10.828, 13.816, 16.266, 18.467, 20.515,
                                     22.458, 24.322, 26.124, 27.877};

static ope_dataset *generate(const char *env, const char *regime, size_t n, uint64_t seed) {
  ope_dataset *ds = NULL;
  ope_error err;
  if (ope_sim_generate(env, regime, n, seed, 0, &ds, &err) != OPE_OK)
    fail_msg("%s %s: %s", env, regime, err.msg);
  return ds;
}

static ope_policy *policy(const char *env, const char *regime) {
  char name[256];
  snprintf(name, sizeof name, "%s:%s", env, regime);
  ope_policy *p = NULL;
  ope_error err;
  if (ope_sim_policy_new(name, &p, &err) != OPE_OK) fail_msg("%s: %s", name, err.msg);
  return p;
}

static void discrete_case(const char *env, const char *regime, size_t episodes) {
  ope_dataset *ds = generate(env, regime, episodes, 11);
  ope_policy *p = policy(env, regime);
  ope_policy_scores sc;
  ope_error err;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &sc, &err), OPE_OK);
  int A = ds->n_actions;
  double obs_n[8] = {0}, exp_n[8] = {0};
  for (size_t t = 0; t < ds->n_steps; t++) {
    if (sc.prob[t] != ds->pscore[t])
      fail_msg("%s %s row %zu: pscore %.17g, policy %.17g", env, regime, t, ds->pscore[t],
               sc.prob[t]);
    obs_n[ds->action[t]] += 1;
    for (int a = 0; a < A; a++) exp_n[a] += sc.dist[t * (size_t)A + a];
  }
  double chi2 = 0;
  for (int a = 0; a < A; a++) chi2 += (obs_n[a] - exp_n[a]) * (obs_n[a] - exp_n[a]) / exp_n[a];
  print_message("%-12s %-8s rows %zu chi2 %.3f (df %d, critical %.3f)\n", env, regime,
                ds->n_steps, chi2, A - 1, chi2_crit[A - 1]);
  assert_true(chi2 < chi2_crit[A - 1]);
  ope_policy_scores_clear(&sc);
  ope_policy_free(p);
  ope_dataset_free(ds);
}

static void test_discrete(void **state) {
  (void)state;
  discrete_case("cartpole", "eps=0.3", 300);
  discrete_case("mountaincar", "medium", 100);
  discrete_case("gridworld", "medium", 2000);
  discrete_case("chain", "random", 200);
  discrete_case("chain:length=20", "eps=0.7", 200);
}

/* Normal CDF. */
static double phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static void test_continuous(void **state) {
  (void)state;
  const double sigma = 0.5;
  ope_dataset *ds = generate("pendulum", "noise=0.5", 100, 3);
  ope_policy *p = policy("pendulum", "noise=0.5");
  double bins[10] = {0};
  ope_error err;
  for (size_t t = 0; t < ds->n_steps; t++) {
    const double *obs = ds->obs + t * 3;
    double dens;
    /* The density of N(mu, sigma^2) at a gives |z| = |a - mu| / sigma. */
    assert_int_equal(p->ops->density(p, NULL, obs, &ds->action_vec[t], &dens, &err), OPE_OK);
    assert_true(fabs(dens - ds->pscore[t]) <= 1e-13 * dens);
    double z2 = -2.0 * (log(dens) + log(sigma * sqrt(2.0 * M_PI)));
    /* Sign of z from a second density evaluation slightly to the right. */
    double a2 = ds->action_vec[t] + 1e-6, d2;
    p->ops->density(p, NULL, obs, &a2, &d2, &err);
    double z = (d2 < dens ? 1.0 : -1.0) * sqrt(fmax(z2, 0.0));
    int b = (int)(phi(z) * 10.0);
    bins[b > 9 ? 9 : b] += 1;
  }
  double n = (double)ds->n_steps, chi2 = 0;
  for (int b = 0; b < 10; b++) chi2 += (bins[b] - n / 10) * (bins[b] - n / 10) / (n / 10);
  print_message("pendulum noise=0.5 rows %zu normality chi2 %.3f (df 9, critical %.3f)\n",
                ds->n_steps, chi2, chi2_crit[9]);
  assert_true(chi2 < chi2_crit[9]);
  ope_policy_free(p);
  ope_dataset_free(ds);
}

/* Mixtures: every episode's pscores are all those of one component. */
static void mixture_case(const char *env, const char *regime, const char **components,
                         int nc, size_t episodes) {
  ope_dataset *ds = generate(env, regime, episodes, 5);
  ope_policy *p[4];
  ope_policy_scores sc[4];
  ope_error err;
  int used[4] = {0};
  for (int k = 0; k < nc; k++) {
    p[k] = policy(env, components[k]);
    assert_int_equal(ope_policy_score_dataset(p[k], ds, 0, &sc[k], &err), OPE_OK);
  }
  for (size_t e = 0; e < ds->n_episodes; e++) {
    int match = -1;
    for (int k = 0; k < nc && match < 0; k++) {
      int all = 1;
      for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1] && all; t++)
        all = fabs(sc[k].prob[t] - ds->pscore[t]) <= 1e-13 * ds->pscore[t];
      if (all) match = k;
    }
    if (match < 0) fail_msg("%s %s episode %zu matches no component", env, regime, e);
    used[match]++;
  }
  for (int k = 0; k < nc; k++) assert_true(used[k] > 0);
  /* As an evaluation policy the mixture's distribution is a distribution. */
  ope_policy *mix = policy(env, regime);
  ope_policy_scores ms;
  assert_int_equal(ope_policy_score_dataset(mix, ds, 0, &ms, &err), OPE_OK);
  for (size_t t = 0; t < ds->n_steps && ms.dist; t++) {
    double s = 0;
    for (int a = 0; a < ds->n_actions; a++) s += ms.dist[t * (size_t)ds->n_actions + a];
    assert_true(fabs(s - 1.0) < 1e-12);
  }
  for (size_t t = 0; t < ds->n_steps; t++) assert_true(ms.prob[t] > 0);
  ope_policy_scores_clear(&ms);
  ope_policy_free(mix);
  for (int k = 0; k < nc; k++) {
    ope_policy_scores_clear(&sc[k]);
    ope_policy_free(p[k]);
  }
  ope_dataset_free(ds);
}

static void test_mixtures(void **state) {
  (void)state;
  const char *chain_mr[] = {"random", "eps=0.7", "medium"};
  mixture_case("chain", "medium-replay", chain_mr, 3, 60);
  const char *cart_me[] = {"medium", "expert"};
  mixture_case("cartpole", "medium-expert", cart_me, 2, 40);
  const char *pend_mr[] = {"random", "noise=4", "medium"};
  mixture_case("pendulum", "medium-replay", pend_mr, 3, 30);
}

static void test_pointmaze_pieces(void **state) {
  (void)state;
  /* No logged episode starts in the start cell and reaches the goal; some
   * reach the goal. Densities are Gaussian (noise 2 for medium) or 1/4. */
  ope_dataset *ds = generate("pointmaze", "medium-replay", 300, 9);
  int reached = 0;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    size_t first = ds->ep_offset[e], last = ds->ep_offset[e + 1] - 1;
    const double *o = ds->obs + first * (size_t)ds->obs_dim;
    int from_start = o[0] < 1.0 && o[1] < 1.0;
    if (ds->terminal[last]) {
      reached++;
      assert_false(from_start);
    }
    for (size_t t = first; t <= last; t++) assert_true(ds->pscore[t] > 0);
  }
  print_message("pointmaze: %d of %zu episodes reach the goal\n", reached, ds->n_episodes);
  assert_true(reached > 0);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_discrete),
    cmocka_unit_test(test_continuous),
    cmocka_unit_test(test_mixtures),
    cmocka_unit_test(test_pointmaze_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

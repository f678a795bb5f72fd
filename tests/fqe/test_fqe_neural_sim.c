/* Neural FQE with its default settings, but 2 x 64 units and batch 64 to
 * keep the sanitizer build fast, against the simulated truth on small
 * cartpole (discrete actions, exact next-state expectation) and pendulum
 * (continuous actions; next actions drawn once into a table, and drawn
 * afresh at every use as for logs too large for the table) logs: within 10% of the
 * rollout value at discount 0.9 (cartpole) or 0.85 (pendulum), where g^H
 * is negligible for the horizons used. Also the ensemble interval of
 * neural FQE (refits on episode resamples with their own seeds): it
 * brackets the estimate, has a width, and is reproducible. The defaults
 * themselves are checked on 200-episode logs at discount 0.95 by the
 * benchmark tests/bench/bench_fqe_truth.py (release build), which prints
 * the table of man/ope-eval.1. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "estimators/dr.h"
#include "fqe/fqe.h"
#include "sim/sim.h"

#define TRUTH_EPISODES 2000
#define TOL 0.10

/* FQE of target on a log of `episodes` episodes of env under behavior
 * (horizon 0: the environment's), with the default neural settings
 * (narrower, smaller batches: see above), seed 3 and at most table_mb MiB
 * of drawn next actions; *truth gets the rollout value of target with the
 * same horizon. */
static double fqe_value(const char *env, const char *behavior, size_t episodes,
                        int horizon, double gamma, double table_mb,
                        const char *target, double *truth) {
  ope_error err = {0};
  ope_policy *pi = NULL;
  assert_int_equal(ope_sim_policy_new(target, &pi, &err), OPE_OK);
  ope_dataset *ds = NULL;
  assert_int_equal(ope_sim_generate(env, behavior, episodes, 1, horizon, &ds, &err), OPE_OK);
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_NEURAL;
  cfg.gamma = gamma;
  cfg.seed = 3;
  cfg.threads = 1;
  cfg.hidden = 64;
  cfg.batch = 64;
  cfg.sample_table_mb = table_mb;
  ope_qfit q;
  assert_int_equal(ope_dr_fit_q(ds, pi, &sc, &cfg, 0, &q, &err), OPE_OK);
  assert_true(q.defined);
  ope_sim_value tv;
  assert_int_equal(ope_sim_truth_rollout(env, pi, TRUTH_EPISODES, gamma, horizon, 0, 1,
                                         &tv, &err), OPE_OK);
  *truth = tv.value;
  double v = q.value;
  print_message("%s log %s x %zu -> %s: FQE %.4f, truth %.4f +- %.4f (rel err %.3f)\n",
                env, behavior, episodes, target, v, tv.value, tv.value - tv.ci_low,
                fabs(v - tv.value) / fabs(tv.value));
  ope_qfit_clear(&q);
  ope_policy_scores_clear(&sc);
  ope_dataset_free(ds);
  ope_policy_free(pi);
  return v;
}

/* Cartpole: the balancing controller and the random policy from a
 * medium-expert log; each within 10%, and ranked as the truth ranks them. */
static void neural_fqe_cartpole(void **state) {
  (void)state;
  double t_exp, t_rnd;
  double f_exp = fqe_value("cartpole", "medium-expert", 60, 0, 0.9, 256, "cartpole:expert",
                           &t_exp);
  double f_rnd = fqe_value("cartpole", "medium-expert", 60, 0, 0.9, 256, "cartpole:random",
                           &t_rnd);
  assert_true(fabs(f_exp - t_exp) < TOL * fabs(t_exp));
  assert_true(fabs(f_rnd - t_rnd) < TOL * fabs(t_rnd));
  assert_true(t_exp > t_rnd);
  assert_true(f_exp > f_rnd);
}

/* Pendulum at horizon 50 (0.85^50 < 0.1%): more episodes, hence start
 * states, for the same number of transitions. */
static void neural_fqe_pendulum(void **state) {
  (void)state;
  double t_med;
  double f_tab = fqe_value("pendulum", "medium-expert", 120, 50, 0.85, 256, "pendulum:medium",
                           &t_med);
  double f_new = fqe_value("pendulum", "medium-expert", 120, 50, 0.85, 0, "pendulum:medium",
                           &t_med);
  assert_true(fabs(f_tab - t_med) < TOL * fabs(t_med));
  assert_true(fabs(f_new - t_med) < TOL * fabs(t_med));
  assert_true(f_tab != f_new); /* the two ways draw different actions */
}

/* The ensemble interval on a short fit: it contains the estimate, is wider
 * than nothing, counts its refits, and repeats bit for bit. */
static void neural_fqe_ensemble_interval(void **state) {
  (void)state;
  ope_error err = {0};
  ope_policy *pi = NULL;
  assert_int_equal(ope_sim_policy_new("cartpole:expert", &pi, &err), OPE_OK);
  ope_dataset *ds = NULL;
  assert_int_equal(ope_sim_generate("cartpole", "medium", 30, 2, 0, &ds, &err), OPE_OK);
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_NEURAL;
  cfg.gamma = 0.5;
  cfg.hidden = 16;
  cfg.iterations = 8;
  cfg.steps_per_iter = 20;
  cfg.threads = 1;
  ope_qfit q;
  assert_int_equal(ope_dr_fit_q(ds, pi, &sc, &cfg, 0, &q, &err), OPE_OK);
  double lo, hi, lo2, hi2;
  int n_def, n_def2;
  assert_int_equal(ope_dr_fqe_ensemble_interval(ds, pi, &sc, &cfg, 4, 11, 2, 0.05, q.value,
                                                &lo, &hi, &n_def, &err), OPE_OK);
  // one thread gives the same bits as two
  assert_int_equal(ope_dr_fqe_ensemble_interval(ds, pi, &sc, &cfg, 4, 11, 1, 0.05, q.value,
                                                &lo2, &hi2, &n_def2, &err), OPE_OK);
  print_message("FQE %.4f, ensemble interval [%.4f, %.4f] from %d refits\n", q.value, lo,
                hi, n_def);
  assert_int_equal(n_def, 4);
  assert_true(lo < q.value && q.value < hi);
  assert_true(hi - lo > 1e-6 * fabs(q.value));
  assert_true(lo == lo2 && hi == hi2 && n_def2 == n_def);
  // fewer than two refits cannot give a spread
  assert_int_equal(ope_dr_fqe_ensemble_interval(ds, pi, &sc, &cfg, 1, 11, 2, 0.05, q.value,
                                                &lo, &hi, &n_def, &err), OPE_EUSAGE);
  ope_qfit_clear(&q);
  ope_policy_scores_clear(&sc);
  ope_dataset_free(ds);
  ope_policy_free(pi);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(neural_fqe_cartpole),
    cmocka_unit_test(neural_fqe_pendulum),
    cmocka_unit_test(neural_fqe_ensemble_interval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

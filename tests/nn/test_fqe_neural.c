/* Neural FQE against closed-form answers.
 *
 * Discrete: a 5-state chain (move left / right, reward 1 on reaching the
 * terminal state 4), logged by a uniform behavior policy, evaluated for a
 * policy that goes right with probability 0.8; the truth comes from solving
 * the Bellman equations of the known model. Continuous: a linear-quadratic
 * system s' = 0.9 s + a, r = -(s^2 + 0.1 a^2), evaluated for the
 * deterministic policy a = -0.5 s, whose value is V(s) = -c s^2 with
 * c = 1.025 / (1 - 0.16 g); logs carry next_obs_* so the truncated last
 * rows are bootstrapped. The chain fit must land within 5% of the truth
 * (it lands within 1e-6), the linear-quadratic one within 8% (a quadratic
 * fitted by a small ReLU network, with regression noise amplified by up to
 * 1/(1-g); seeds 17-20 land within 2-6%), and the same seed must give the
 * same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fqe/fqe_neural.h"

#define GAMMA 0.9

/* ---- test policies ---- */
static ope_status chain_dist(const ope_policy *p, void *ctx, const double *obs,
                             double *probs, ope_error *err) {
  (void)p, (void)ctx, (void)obs, (void)err;
  probs[0] = 0.2;
  probs[1] = 0.8;
  return OPE_OK;
}
static const ope_policy_ops chain_ops = {.dist = chain_dist};

static ope_status lq_sample(const ope_policy *p, void *ctx, const double *obs,
                            ope_rng *rng, double *action, ope_error *err) {
  (void)p, (void)ctx, (void)rng, (void)err;
  action[0] = -0.5 * obs[0];
  return OPE_OK;
}
static const ope_policy_ops lq_ops = {.sample = lq_sample};

/* ---- the chain ---- */
static void chain_truth(double V[5]) {
  memset(V, 0, 5 * sizeof(double));
  for (int it = 0; it < 5000; it++)
    for (int s = 0; s < 4; s++) {
      double right = s + 1 == 4 ? 1.0 : GAMMA * V[s + 1];
      double left = GAMMA * V[s > 0 ? s - 1 : 0];
      V[s] = 0.8 * right + 0.2 * left;
    }
}

static ope_dataset *chain_data(size_t n_eps, uint64_t seed) {
  const int H = 30;
  ope_dataset *ds = ope_dataset_alloc(n_eps, n_eps * H, 1, OPE_ACTION_DISCRETE,
                                      2, 1, 0, 0, NULL);
  ope_rng rng;
  ope_rng_seed(&rng, seed, 0);
  size_t t = 0;
  for (size_t e = 0; e < n_eps; e++) {
    ds->ep_offset[e] = t;
    int s = (int)ope_rng_below(&rng, 4);
    for (int h = 0; h < H; h++, t++) {
      int a = (int)ope_rng_below(&rng, 2);
      int s2 = a ? s + 1 : (s > 0 ? s - 1 : 0);
      ds->obs[t] = s / 3.0;
      ds->action[t] = a;
      ds->reward[t] = s2 == 4 ? 1.0 : 0.0;
      if (s2 == 4) {
        ds->terminal[t++] = 1;
        break;
      }
      s = s2;
    }
  }
  ds->ep_offset[n_eps] = t;
  ds->n_steps = t;
  return ds;
}

static void small_config(ope_fqe_config *cfg) {
  ope_fqe_config_default(cfg);
  cfg->kind = OPE_FQE_NEURAL;
  cfg->gamma = GAMMA;
  cfg->seed = 17;
  cfg->hidden = 32;
  cfg->layers = 2;
  cfg->iterations = 60;
  cfg->steps_per_iter = 100;
  cfg->batch = 64;
  cfg->lr = 1e-3;
  cfg->action_samples = 4;
}

static void test_chain(void **state) {
  (void)state;
  double V[5];
  chain_truth(V);
  ope_dataset *ds = chain_data(300, 3);
  ope_policy *pi = ope_policy_new(&chain_ops, "right80", OPE_ACTION_DISCRETE,
                                  1, 2, 1, NULL, NULL);
  ope_policy_scores sc;
  ope_error err;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
  ope_fqe_config cfg;
  small_config(&cfg);
  ope_fqe_neural *m = NULL;
  ope_status st = ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err);
  if (st != OPE_OK) printf("fit: %s\n", err.msg);
  assert_int_equal(st, OPE_OK);
  ope_qfit fit;
  assert_int_equal(ope_fqe_neural_predict(m, ds, pi, &sc, &fit, &err), OPE_OK);
  assert_true(fit.defined);
  double truth = 0, worst_q = 0;
  for (size_t e = 0; e < ds->n_episodes; e++)
    truth += V[(int)lround(ds->obs[ds->ep_offset[e]] * 3)];
  truth /= (double)ds->n_episodes;
  for (size_t t = 0; t < ds->n_steps; t++) {
    int s = (int)lround(ds->obs[t] * 3), a = ds->action[t];
    int s2 = a ? s + 1 : (s > 0 ? s - 1 : 0);
    double q = s2 == 4 ? 1.0 : GAMMA * V[s2];
    worst_q = fmax(worst_q, fabs(fit.q[t] - q));
  }
  const ope_fqe_neural_stats *S = ope_fqe_neural_get_stats(m);
  printf("  chain: FQE %.5f truth %.5f (rel err %.3g), max |Q - Q*| %.3g, "
         "iterations %d (best %d), held-out residual %.3g\n",
         fit.value, truth, fabs(fit.value - truth) / truth, worst_q,
         S->iterations_run, S->best_iteration, S->holdout_residual);
  assert_true(fabs(fit.value - truth) < 0.05 * truth);
  assert_true(worst_q < 0.05);
  assert_true(S->n_holdout > 0);

  // same seed -> same bytes, with 1 or 2 threads (a short fit is enough)
  ope_fqe_neural *m2 = NULL, *m3 = NULL;
  ope_qfit fit2, fit3;
  cfg.iterations = 3;
  cfg.threads = 1;
  assert_int_equal(ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m2, &err), OPE_OK);
  cfg.threads = 2;
  assert_int_equal(ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m3, &err), OPE_OK);
  assert_int_equal(ope_fqe_neural_predict(m2, ds, pi, &sc, &fit2, &err), OPE_OK);
  assert_int_equal(ope_fqe_neural_predict(m3, ds, pi, &sc, &fit3, &err), OPE_OK);
  assert_memory_equal(fit2.q, fit3.q, ds->n_steps * sizeof(double));
  assert_memory_equal(fit2.v, fit3.v, ds->n_steps * sizeof(double));
  ope_qfit_clear(&fit3);
  ope_fqe_neural_free(m3);

  ope_qfit_clear(&fit);
  ope_qfit_clear(&fit2);
  ope_fqe_neural_free(m);
  ope_fqe_neural_free(m2);
  ope_fqe_neural_free(NULL);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
}

/* ---- linear-quadratic, continuous ---- */
static ope_dataset *lq_data(size_t n_eps, uint64_t seed) {
  const int H = 20;
  ope_dataset *ds = ope_dataset_alloc(n_eps, n_eps * H, 1,
                                      OPE_ACTION_CONTINUOUS, 0, 1, 1, 0, NULL);
  ope_rng rng;
  ope_rng_seed(&rng, seed, 0);
  size_t t = 0;
  for (size_t e = 0; e < n_eps; e++) {
    ds->ep_offset[e] = t;
    double s = 0.55 * ope_rng_normal(&rng); /* ~ the stationary spread */
    for (int h = 0; h < H; h++, t++) {
      double a = -0.5 * s + 0.5 * ope_rng_normal(&rng);
      double s2 = 0.9 * s + a;
      ds->obs[t] = s;
      ds->action_vec[t] = a;
      ds->reward[t] = -(s * s + 0.1 * a * a);
      ds->next_obs[t] = s2;
      s = s2;
    }
  }
  ds->ep_offset[n_eps] = t;
  return ds;
}

static void test_linear_quadratic(void **state) {
  (void)state;
  double c = 1.025 / (1 - 0.16 * GAMMA);
  ope_dataset *ds = lq_data(200, 4);
  ope_policy *pi = ope_policy_new(&lq_ops, "lq", OPE_ACTION_CONTINUOUS, 1, 0,
                                  1, NULL, NULL);
  pi->deterministic = 1;
  pi->bandwidth = 0.3;
  ope_policy_scores sc;
  ope_error err;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, &err), OPE_OK);
  ope_fqe_config cfg;
  small_config(&cfg);
  // a smooth target fitted from few states: longer regressions per iteration
  // keep the minibatch noise (amplified by up to 1/(1-g)) small
  cfg.steps_per_iter = 300;
  cfg.batch = 128;
  ope_fqe_neural *m = NULL;
  ope_status st = ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err);
  if (st != OPE_OK) printf("fit: %s\n", err.msg);
  assert_int_equal(st, OPE_OK);
  ope_qfit fit;
  assert_int_equal(ope_fqe_neural_predict(m, ds, pi, &sc, &fit, &err), OPE_OK);
  double truth = 0;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    double s0 = ds->obs[ds->ep_offset[e]];
    truth += -c * s0 * s0;
  }
  truth /= (double)ds->n_episodes;
  const ope_fqe_neural_stats *S = ope_fqe_neural_get_stats(m);
  printf("  linear-quadratic: FQE %.5f truth %.5f (rel err %.3g), "
         "iterations %d (best %d)\n",
         fit.value, truth, fabs(fit.value - truth) / fabs(truth),
         S->iterations_run, S->best_iteration);
  assert_true(fit.defined);
  assert_true(fabs(fit.value - truth) < 0.08 * fabs(truth));
  ope_qfit_clear(&fit);
  ope_fqe_neural_free(m);

  // without the policy, the scores' own actions still allow a fit
  cfg.iterations = 1;
  cfg.steps_per_iter = 5;
  assert_int_equal(ope_fqe_neural_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  ope_fqe_neural_free(m);
  // but a stochastic policy known only by scores cannot be evaluated
  free(sc.act);
  sc.act = NULL;
  assert_int_equal(ope_fqe_neural_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_EUSAGE);
  assert_null(m);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
}

static void test_bad_settings(void **state) {
  (void)state;
  ope_dataset *ds = chain_data(5, 1);
  ope_policy *pi = ope_policy_new(&chain_ops, "right80", OPE_ACTION_DISCRETE,
                                  1, 2, 1, NULL, NULL);
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(pi, ds, 0, &sc, NULL), OPE_OK);
  ope_fqe_config cfg;
  small_config(&cfg);
  ope_fqe_neural *m = NULL;
  ope_error err;
  cfg.batch = 0;
  assert_int_equal(ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err), OPE_EUSAGE);
  small_config(&cfg);
  cfg.lr = -1;
  assert_int_equal(ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err), OPE_EUSAGE);
  assert_null(m);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
}

/* The held-out split keeps every copy of a logged episode on one side: on
 * unique episodes it holds out 10%; on a resample of them (repeated
 * episodes carry their label), no label is both held out and trained on,
 * and every episode appears exactly once in the order. */
static void test_split_groups(void **state) {
  (void)state;
  ope_dataset *ds = chain_data(40, 3);
  char lab[16];
  for (size_t e = 0; e < 40; e++) {
    snprintf(lab, sizeof lab, "ep%zu", e);
    ds->ep_label[e] = strdup(lab);
  }
  size_t n_hold, *ord = ope_fqe_neural_split(ds, 5, &n_hold);
  assert_non_null(ord);
  assert_int_equal(n_hold, 4);
  free(ord);

  size_t pick[60];
  ope_rng rng;
  ope_rng_seed(&rng, 9, 0);
  for (size_t k = 0; k < 60; k++) pick[k] = (size_t)ope_rng_below(&rng, 40);
  ope_dataset *sub = ope_dataset_subset(ds, pick, 60, NULL);
  assert_non_null(sub);
  int repeats = 0; /* 60 draws of 40: many labels repeat */
  for (size_t a = 0; a < 60; a++)
    for (size_t b = a + 1; b < 60; b++) repeats += pick[a] == pick[b];
  assert_true(repeats > 10);
  for (uint64_t seed = 0; seed < 20; seed++) {
    ord = ope_fqe_neural_split(sub, seed, &n_hold);
    assert_non_null(ord);
    assert_true(n_hold >= 6 && n_hold < 60);
    int seen[60] = {0};
    for (size_t k = 0; k < 60; k++) seen[ord[k]]++;
    for (size_t k = 0; k < 60; k++) assert_int_equal(seen[k], 1);
    for (size_t a = 0; a < n_hold; a++)
      for (size_t b = n_hold; b < 60; b++)
        assert_string_not_equal(sub->ep_label[ord[a]], sub->ep_label[ord[b]]);
    free(ord);
  }
  ope_dataset_free(sub);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_split_groups),
    cmocka_unit_test(test_chain),
    cmocka_unit_test(test_linear_quadratic),
    cmocka_unit_test(test_bad_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The dataset fast path of trained checkpoints (ops->score) against the
 * one-row path (dist / sample / density through ope_policy_score_dataset
 * with the fast path switched off), for every head the trainer writes:
 * softmax, q, bcq_discrete, gaussian, tanh_gaussian, deterministic, bcq.
 * The datasets span several blocks of rows.
 *
 * Tolerance: the fast path runs each network on a block of rows, the
 * one-row path on one row. OpenBLAS (0.3.21) uses a different sgemm kernel
 * for a single row than for a block, which sums the products of a hidden
 * layer in another order, so network outputs may differ in their last
 * float bits (about 1e-7 of the layer's magnitude, compounded over the
 * layers; which kernel runs depends on the compiler and the CPU: up to
 * 1.3e-6 has been seen). Probabilities, distributions and actions are
 * therefore compared with a relative tolerance of 1e-5 (actions relative
 * to the larger of their size and the largest logged action: an action
 * near 0 keeps the absolute error of its layer), about a hundred float
 * epsilons, far below anything an estimate could notice. Densities of
 * Gaussian heads are compared by their logs: a log density is a sum of
 * terms -u^2/2 whose relative error is that of u, so |log f - log g| <=
 * 1e-5 (1 + |log g|). The kernel density of a deterministic head is a function of
 * its action, so it must equal the kernel at the fast path's own action
 * exactly. The largest difference is printed. Heads that pick an action by
 * argmax give the same numbers unless two values tie to the last bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "sim/sim.h"
#include "train/ckpt_policy.h"
#include "train/train.h"

static ope_dataset *disc, *cont;

static int setup(void **state) {
  (void)state;
  ope_error err = {0};
  ope_gemm_set_threads(1);
  if (ope_sim_generate("cartpole", "medium-replay", 24, 5, 40, &disc, &err) != OPE_OK) return -1;
  if (ope_sim_generate("pendulum", "medium", 9, 5, 40, &cont, &err) != OPE_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ope_dataset_free(disc);
  ope_dataset_free(cont);
  return 0;
}

/* A checkpoint of a trained for a few steps with tiny networks, as a
 * policy; settings (key, value) pairs may pick the head's options. */
static ope_policy *trained(const ope_train_algo *a, const ope_dataset *ds,
                           const char *const (*kv)[2], size_t n_kv) {
  ope_error err = {0};
  ope_train_settings set;
  ope_train_settings_init(&set, a, ds->action_kind == OPE_ACTION_DISCRETE, 1);
  const char *sizes[][2] = {{"batch", "16"}, {"hidden", "24"}, {"cql_samples", "2"},
                            {"vae_hidden", "16"}, {"bcq_candidates", "5"}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    ope_train_settings_set(&set, a, sizes[i][0], sizes[i][1], NULL); /* unknown: skipped */
  for (size_t i = 0; i < n_kv; i++)
    assert_int_equal(ope_train_settings_set(&set, a, kv[i][0], kv[i][1], &err), OPE_OK);
  ope_train_run *r = NULL;
  assert_int_equal(ope_train_run_new(a, ds, &set, 3, &r, &err), OPE_OK);
  for (int i = 0; i < 20; i++) assert_int_equal(ope_train_step(r, &err), OPE_OK);
  uint8_t *blob = NULL;
  size_t len = 0;
  char *settings = NULL, *summary = NULL;
  assert_int_equal(ope_train_checkpoint(r, &blob, &len, &settings, &summary, &err), OPE_OK);
  ope_train_run_free(r);
  ope_ckpt *ck = NULL;
  assert_int_equal(ope_ckpt_load(blob, len, &ck, &err), OPE_OK);
  ope_policy *p = NULL;
  assert_int_equal(ope_train_policy_from_ckpt(ck, a->name, &p, &err), OPE_OK);
  free(blob);
  free(settings);
  free(summary);
  return p;
}

/* Largest relative difference of a and b (n values), of their logs when
 * logs != 0 (positive values); differences are relative to at least floor.
 * Fails beyond tol. */
static double close_all(const char *what, const double *a, const double *b,
                        size_t n, double tol, int logs, double floor) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    double rel;
    if (logs) {
      assert_true(a[i] > 0 && b[i] > 0);
      rel = fabs(log(a[i]) - log(b[i])) / (1.0 + fabs(log(b[i])));
    } else {
      double scale = fmax(fmax(fabs(a[i]), fabs(b[i])), floor);
      rel = scale > 0 ? fabs(a[i] - b[i]) / scale : 0.0;
    }
    if (rel > worst) worst = rel;
    if (!(rel <= tol)) {
      printf("%s[%zu]: fast %.17g, one-row %.17g\n", what, i, a[i], b[i]);
      fail();
    }
  }
  return worst;
}

/* Score ds with p's fast path and with the one-row path; compare. */
static void compare(const char *label, const ope_policy *p,
                    const ope_dataset *ds, double bandwidth) {
  ope_error err = {0};
  assert_non_null(p->ops->score);
  ope_policy_ops slow_ops = *p->ops;
  slow_ops.score = NULL;
  ope_policy slow = *p;
  slow.ops = &slow_ops;
  ope_policy_scores f, s;
  assert_int_equal(ope_policy_score_dataset(p, ds, bandwidth, &f, &err), OPE_OK);
  assert_int_equal(ope_policy_score_dataset(&slow, ds, bandwidth, &s, &err), OPE_OK);
  assert_true(f.n_steps == ds->n_steps && s.n_steps == ds->n_steps);
  assert_int_equal(f.n_actions, s.n_actions);
  assert_int_equal(f.action_dim, s.action_dim);
  assert_int_equal(f.deterministic, s.deterministic);
  assert_true(f.bandwidth == s.bandwidth);
  assert_true((f.dist == NULL) == (s.dist == NULL));
  assert_true((f.act == NULL) == (s.act == NULL));
  int dens = ds->action_kind == OPE_ACTION_CONTINUOUS;
  double wp = 0;
  if (f.deterministic) {
    int m = ds->action_dim;
    for (size_t t = 0; t < ds->n_steps; t++)
      assert_true(f.prob[t] == ope_gaussian_kernel(ds->action_vec + t * m,
                                                   f.act + t * m, m, f.bandwidth));
  } else {
    wp = close_all("prob", f.prob, s.prob, ds->n_steps, 1e-5, dens, 0);
  }
  double wd = 0, wa = 0;
  if (f.dist)
    wd = close_all("dist", f.dist, s.dist, ds->n_steps * (size_t)ds->n_actions, 1e-5, 0, 0);
  if (f.act) {
    double amax = 0;
    for (size_t k = 0; k < ds->n_steps * (size_t)ds->action_dim; k++)
      amax = fmax(amax, fabs(ds->action_vec[k]));
    wa = close_all("act", f.act, s.act, ds->n_steps * (size_t)ds->action_dim, 1e-5, 0, amax);
  }
  printf("%-22s %5zu rows: max relative difference %sprob %.3g dist %.3g act %.3g\n",
         label, ds->n_steps, f.deterministic ? "(kernel: exact) " : dens ? "log " : "", wp, wd, wa);
  ope_policy_scores_clear(&f);
  ope_policy_scores_clear(&s);
}

static void test_discrete_heads(void **state) {
  (void)state;
  const char *const soft[][2] = {{"eval_temp", "0.5"}};
  ope_policy *p = trained(ope_train_algo_find("bc"), disc, NULL, 0);
  compare("bc (softmax)", p, disc, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("iql"), disc, NULL, 0);
  compare("iql (softmax)", p, disc, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("cql"), disc, NULL, 0);
  compare("cql (q, greedy)", p, disc, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("cql"), disc, soft, 1);
  compare("cql (q, softmax)", p, disc, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("bcq"), disc, NULL, 0);
  compare("bcq (bcq_discrete)", p, disc, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("bcq"), disc, soft, 1);
  compare("bcq (discrete, soft)", p, disc, 0);
  ope_policy_free(p);
}

/* A discrete BCQ checkpoint whose threshold is outside [0, 1] (which the
 * trainer never writes) is refused: above 1 no action would pass, and the
 * distribution would not sum to one (found by fuzz_checkpoint). */
static void test_bcq_threshold_range(void **state) {
  (void)state;
  const ope_train_algo *a = ope_train_algo_find("bcq");
  ope_error err = {0};
  ope_train_settings set;
  ope_train_settings_init(&set, a, 1, 1);
  assert_int_equal(ope_train_settings_set(&set, a, "hidden", "8", &err), OPE_OK);
  ope_train_run *r = NULL;
  assert_int_equal(ope_train_run_new(a, disc, &set, 3, &r, &err), OPE_OK);
  uint8_t *blob = NULL;
  size_t len = 0;
  char *settings = NULL, *summary = NULL;
  assert_int_equal(ope_train_checkpoint(r, &blob, &len, &settings, &summary, &err), OPE_OK);
  ope_train_run_free(r);
  const char *bad[] = {"1.3", "-0.1", "1", "0"};
  for (int i = 0; i < 4; i++) {
    ope_ckpt *ck = NULL;
    assert_int_equal(ope_ckpt_load(blob, len, &ck, &err), OPE_OK);
    char *at = strstr(ck->settings, "\"bcq_threshold\":");
    assert_non_null(at);
    char *end = strpbrk(at + 16, ",}");
    assert_non_null(end);
    char *text = malloc(strlen(ck->settings) + 16);
    sprintf(text, "%.*s\"bcq_threshold\":%s%s", (int)(at - ck->settings), ck->settings,
            bad[i], end);
    free(ck->settings);
    ck->settings = text;
    ope_policy *p = NULL;
    ope_status want = i < 2 ? OPE_EDATA : OPE_OK; /* 1 and 0 are in range */
    assert_int_equal(ope_train_policy_from_ckpt(ck, "bcq", &p, &err), want);
    if (want == OPE_EDATA) assert_non_null(strstr(err.msg, "bcq_threshold"));
    ope_policy_free(p);
  }
  free(blob);
  free(settings);
  free(summary);
}

static void test_continuous_heads(void **state) {
  (void)state;
  ope_policy *p = trained(ope_train_algo_find("bc"), cont, NULL, 0);
  compare("bc (gaussian)", p, cont, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("iql"), cont, NULL, 0);
  compare("iql (gaussian)", p, cont, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("cql"), cont, NULL, 0);
  compare("cql (tanh_gaussian)", p, cont, 0);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("td3bc"), cont, NULL, 0);
  assert_true(p->deterministic);
  compare("td3bc (deterministic)", p, cont, 0);
  /* a caller's bandwidth: densities re-derived from the actions */
  compare("td3bc, bandwidth 0.7", p, cont, 0.7);
  ope_policy_free(p);
  p = trained(ope_train_algo_find("bcq"), cont, NULL, 0);
  assert_true(p->deterministic);
  compare("bcq (surrogate)", p, cont, 0);
  compare("bcq, bandwidth 0.7", p, cont, 0.7);
  ope_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_discrete_heads),
    cmocka_unit_test(test_bcq_threshold_range),
    cmocka_unit_test(test_continuous_heads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Decision Transformer training and policy on small synthetic logs.
 *
 * - History: in the discrete log each action is the previous one plus 1
 *   (mod 3) and observations are noise, so only a history-conditioned
 *   policy can predict it. After training, the policy's mean probability
 *   of the logged action from the second step on must exceed 0.9 (a Markov
 *   policy cannot beat 1/3 there).
 * - The fast dataset scorer equals the step-by-step history path to 1e-5.
 * - A checkpoint round trip gives the same numbers; the same seed gives the
 *   same checkpoint bytes, another seed other bytes.
 * - The bytes do not depend on the number of threads (1, 2 or 3), with
 *   dropout on.
 * - Continuous actions: a = 2 tanh(obs); the deterministic policy's action
 *   is within 0.2 of it on average, densities use the recorded bandwidth.
 * - Damaged settings or parameters are refused with OPE_EDATA.
 * - Through the trainer (train.h): DT's own defaults replace the shared
 *   batch and lr, and its checkpoints load back as DT policies. */
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
#include "nn/checkpoint.h"
#include "nn/gemm.h"
#include "train/ckpt_policy.h"
#include "train/dt.h"
#include "train/train.h"

#define NEP 30
#define LEN 12

static ope_dataset *make_log(int discrete, uint64_t seed) {
  ope_error err;
  ope_dataset *ds = ope_dataset_alloc(NEP, NEP * LEN, 2,
                                      discrete ? OPE_ACTION_DISCRETE : OPE_ACTION_CONTINUOUS,
                                      discrete ? 3 : 0, 1, 0, 0, &err);
  assert_non_null(ds);
  ope_rng rng;
  ope_rng_seed(&rng, seed, 0);
  for (size_t e = 0; e <= NEP; e++) ds->ep_offset[e] = e * LEN;
  for (size_t e = 0; e < NEP; e++) {
    int a = (int)ope_rng_below(&rng, 3);
    for (size_t t = 0; t < LEN; t++) {
      size_t r = e * LEN + t;
      ds->obs[2 * r] = ope_rng_normal(&rng);
      ds->obs[2 * r + 1] = ope_rng_normal(&rng);
      if (discrete) {
        ds->action[r] = a;
        ds->reward[r] = a == 2;
        a = (a + 1) % 3;
      } else {
        ds->action_vec[r] = 2 * tanh(ds->obs[2 * r]);
        ds->reward[r] = -fabs(ds->action_vec[r]);
      }
    }
    ds->terminal[e * LEN + LEN - 1] = 1;
  }
  return ds;
}

static void tiny_config(ope_dt_config *c) {
  ope_dt_config_default(c, 1);
  c->n_layer = 1;
  c->n_embd = 16;
  c->n_head = 2;
  c->context = 4;
  c->batch = 16;
  c->lr = 3e-3;
  c->warmup = 10;
  c->dropout = 0.0;
}

/* Train, export and serialize; the caller frees *blob. */
static void train_blob(const ope_dataset *ds, const ope_dt_config *c,
                       uint64_t seed, int steps, uint8_t **blob, size_t *len,
                       double *first, double *last) {
  ope_error err;
  ope_dt *m = NULL;
  assert_int_equal(ope_dt_new(ds, c, seed, &m, &err), OPE_OK);
  double l0 = 0, l = 0, tail = 0;
  for (int s = 0; s < steps; s++) {
    assert_int_equal(ope_dt_step(m, &l, &err), OPE_OK);
    if (s < 10) l0 += l / 10;
    if (s >= steps - 10) tail += l / 10;
  }
  if (first) *first = l0;
  if (last) *last = tail;
  ope_ckpt ck = {0};
  char body[4096] = "", settings[4200];
  assert_int_equal(ope_dt_config_json(c, body, sizeof body), 0);
  assert_int_equal(ope_dt_data_json(m, body, sizeof body), 0);
  assert_int_equal(ope_dt_export(m, &ck, body, sizeof body, &err), OPE_OK);
  snprintf(settings, sizeof settings, "{%s}", body);
  ck.settings = settings;
  ck.reward_scale = 1.0;
  assert_int_equal(ope_ckpt_save(&ck, blob, len, &err), OPE_OK);
  ope_dt_free(m);
}

static ope_policy *load(const uint8_t *blob, size_t len) {
  ope_error err;
  ope_ckpt *ck = NULL;
  ope_policy *p = NULL;
  assert_int_equal(ope_ckpt_load(blob, len, &ck, &err), OPE_OK);
  assert_int_equal(ope_dt_policy_from_ckpt(ck, "dt-test", &p, &err), OPE_OK);
  return p;
}

static void test_discrete_history(void **state) {
  (void)state;
  ope_dataset *ds = make_log(1, 3);
  ope_dt_config c;
  tiny_config(&c);
  uint8_t *blob = NULL, *blob2 = NULL, *blob3 = NULL;
  size_t len = 0, len2 = 0, len3 = 0;
  double l0, l1;
  train_blob(ds, &c, 7, 250, &blob, &len, &l0, &l1);
  printf("  cross-entropy: first 10 steps %.4f, last 10 steps %.4f\n", l0, l1);
  assert_true(l1 < 0.5 * l0);

  ope_policy *p = load(blob, len);
  ope_error err;
  ope_policy_scores fast, slow;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &fast, &err), OPE_OK);
  // the same numbers through the per-episode history path
  const ope_policy_ops *ops = p->ops;
  ope_policy_ops plain = *ops;
  plain.score = NULL;
  p->ops = &plain;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &slow, &err), OPE_OK);
  p->ops = ops;
  double worst = 0, later = 0, first_step = 0;
  for (size_t r = 0; r < ds->n_steps; r++) {
    for (int a = 0; a < 3; a++)
      worst = fmax(worst, fabs(fast.dist[3 * r + a] - slow.dist[3 * r + a]));
    if (r % LEN == 0) first_step += fast.prob[r] / NEP;
    else later += fast.prob[r] / (NEP * (LEN - 1));
  }
  printf("  fast vs history path: max diff %.3g; mean prob of the logged "
         "action: first step %.3f, later %.3f\n", worst, first_step, later);
  assert_true(worst < 1e-5);
  assert_true(later > 0.9);

  // deterministic bytes; the seed matters
  train_blob(ds, &c, 7, 250, &blob2, &len2, NULL, NULL);
  train_blob(ds, &c, 8, 250, &blob3, &len3, NULL, NULL);
  assert_true(len == len2 && memcmp(blob, blob2, len) == 0);
  assert_true(len != len3 || memcmp(blob, blob3, len) != 0);

  // round trip: a second load gives the same probabilities
  ope_policy *q = load(blob2, len2);
  ope_policy_scores again;
  assert_int_equal(ope_policy_score_dataset(q, ds, 0, &again, &err), OPE_OK);
  assert_memory_equal(again.dist, fast.dist, ds->n_steps * 3 * sizeof(double));
  // the target return is the best logged return, and it can be changed
  double best = 0;
  for (size_t e = 0; e < NEP; e++) best = fmax(best, ope_dataset_return(ds, e, 1.0));
  assert_true(fabs(ope_dt_policy_target(q) - best) < 1e-12);
  assert_int_equal(ope_dt_policy_set_target(q, best + 3, &err), OPE_OK);
  assert_true(ope_dt_policy_target(q) == best + 3);

  ope_policy_scores_clear(&again);
  ope_policy_scores_clear(&fast);
  ope_policy_scores_clear(&slow);
  ope_policy_free(p);
  ope_policy_free(q);
  free(blob), free(blob2), free(blob3);
  ope_dataset_free(ds);
}

static void test_continuous(void **state) {
  (void)state;
  ope_dataset *ds = make_log(0, 4);
  ope_dt_config c;
  tiny_config(&c);
  c.kernel_bw = 0.25;
  uint8_t *blob = NULL;
  size_t len = 0;
  double l0, l1;
  train_blob(ds, &c, 1, 300, &blob, &len, &l0, &l1);
  printf("  scaled-action MSE: first 10 steps %.4f, last 10 steps %.4f\n", l0, l1);
  assert_true(l1 < 0.5 * l0);
  ope_policy *p = load(blob, len);
  assert_int_equal(p->action_kind, OPE_ACTION_CONTINUOUS);
  assert_true(p->deterministic);
  assert_true(p->bandwidth == c.kernel_bw);
  ope_error err;
  ope_policy_scores s;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &s, &err), OPE_OK);
  double mae = 0;
  for (size_t r = 0; r < ds->n_steps; r++) {
    mae += fabs(s.act[r] - ds->action_vec[r]) / (double)ds->n_steps;
    double k = ope_gaussian_kernel(&ds->action_vec[r], &s.act[r], 1, c.kernel_bw);
    assert_true(s.prob[r] == k);
  }
  printf("  mean |policy action - logged action| = %.4f (actions in [-2, 2])\n", mae);
  assert_true(mae < 0.2);
  assert_true(s.bandwidth == c.kernel_bw);
  ope_policy_scores_clear(&s);
  ope_policy_free(p);
  free(blob);
  ope_dataset_free(ds);
}

static void test_damaged(void **state) {
  (void)state;
  ope_dataset *ds = make_log(1, 5);
  ope_dt_config c;
  tiny_config(&c);
  ope_error err;
  ope_dt *m = NULL;
  assert_int_equal(ope_dt_new(ds, &c, 1, &m, &err), OPE_OK);
  const char *bodies[] = {
    "\"head\":\"dt\",\"obs_dim\":2,\"target_return\":1,\"rtg_scale\":1,\"n_actions\":3",
    "\"head\":\"dt\",\"dt_arch\":[1,2,16,4,12],\"obs_dim\":2,\"rtg_scale\":1,\"n_actions\":3",
    "\"head\":\"dt\",\"dt_arch\":[1,2,32,4,12],\"obs_dim\":2,\"target_return\":1,\"rtg_scale\":1,\"n_actions\":3",
    "\"head\":\"dt\",\"dt_arch\":[1,3,16,4,12],\"obs_dim\":2,\"target_return\":1,\"rtg_scale\":1,\"n_actions\":3",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
    ope_ckpt ck = {0};
    char body[4096] = "", settings[4200];
    assert_int_equal(ope_dt_export(m, &ck, body, sizeof body, &err), OPE_OK);
    snprintf(settings, sizeof settings, "{%s}", bodies[i]);
    ck.settings = settings;
    ck.reward_scale = 1.0;
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(ope_ckpt_save(&ck, &blob, &len, &err), OPE_OK);
    ope_ckpt *lk = NULL;
    ope_policy *p = NULL;
    assert_int_equal(ope_ckpt_load(blob, len, &lk, &err), OPE_OK);
    assert_int_equal(ope_dt_policy_from_ckpt(lk, "bad", &p, &err), OPE_EDATA);
    printf("  refused: %s\n", err.msg);
    assert_null(p);
    free(blob);
  }
  ope_dt_free(m);
  // settings that cannot train
  c.n_head = 3;
  assert_int_equal(ope_dt_new(ds, &c, 1, &m, &err), OPE_EUSAGE);
  assert_null(m);
  ope_dataset_free(ds);
}

/* Same seed, 1, 2 and 3 threads: the same checkpoint bytes. */
static void test_threads(void **state) {
  (void)state;
  ope_dataset *ds = make_log(0, 9);
  ope_dt_config c;
  tiny_config(&c);
  c.dropout = 0.1;
  c.batch = 11;  // shards of unequal size
  int saved = ope_gemm_threads();
  uint8_t *blob[3] = {NULL, NULL, NULL};
  size_t len[3] = {0, 0, 0};
  for (int t = 0; t < 3; t++) {
    ope_gemm_set_threads(t + 1);
    train_blob(ds, &c, 5, 30, &blob[t], &len[t], NULL, NULL);
  }
  ope_gemm_set_threads(saved);
  for (int t = 1; t < 3; t++) {
    assert_int_equal(len[t], len[0]);
    assert_memory_equal(blob[t], blob[0], len[0]);
    free(blob[t]);
  }
  free(blob[0]);
  ope_dataset_free(ds);
}

static void test_trainer_path(void **state) {
  (void)state;
  ope_dataset *ds = make_log(1, 6);
  const ope_train_algo *algo = ope_train_algo_find("dt");
  assert_non_null(algo);
  ope_train_settings set;
  ope_train_settings_init(&set, algo, 1, 0);
  assert_true(ope_train_get(&set, "batch") == 64 && ope_train_get(&set, "lr") == 1e-4);
  ope_train_settings_init(&set, algo, 1, 1);
  assert_true(ope_train_get(&set, "batch") == 32 && ope_train_get(&set, "lr") == 3e-4);
  ope_error err;
  assert_int_equal(ope_train_settings_set(&set, algo, "n_embd", "16", &err), OPE_OK);
  assert_int_equal(ope_train_settings_set(&set, algo, "context", "4", &err), OPE_OK);
  assert_int_equal(ope_train_settings_set(&set, algo, "n_head", "3", &err), OPE_OK);
  ope_train_run *run = NULL;
  assert_int_equal(ope_train_run_new(algo, ds, &set, 3, &run, &err), OPE_EUSAGE);
  assert_int_equal(ope_train_settings_set(&set, algo, "n_head", "2", &err), OPE_OK);
  assert_int_equal(ope_train_run_new(algo, ds, &set, 3, &run, &err), OPE_OK);
  for (int s = 0; s < 20; s++) assert_int_equal(ope_train_step(run, &err), OPE_OK);
  uint8_t *blob = NULL;
  size_t len = 0;
  char *js = NULL, *summary = NULL;
  assert_int_equal(ope_train_checkpoint(run, &blob, &len, &js, &summary, &err), OPE_OK);
  printf("  settings: %s\n", js);
  assert_non_null(strstr(js, "\"head\":\"dt\""));
  ope_ckpt *ck = NULL;
  ope_policy *p = NULL;
  assert_int_equal(ope_ckpt_load(blob, len, &ck, &err), OPE_OK);
  assert_int_equal(ope_train_policy_from_ckpt(ck, "dt-run", &p, &err), OPE_OK);
  assert_true(!isnan(ope_dt_policy_target(p)));
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &sc, &err), OPE_OK);
  for (size_t r = 0; r < ds->n_steps; r++) assert_true(sc.prob[r] > 0 && sc.prob[r] < 1);
  ope_policy_scores_clear(&sc);
  ope_policy_free(p);
  free(blob), free(js), free(summary);
  ope_train_run_free(run);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_discrete_history),
    cmocka_unit_test(test_continuous),
    cmocka_unit_test(test_damaged),
    cmocka_unit_test(test_threads),
    cmocka_unit_test(test_trainer_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Every algorithm, on a small discrete and a small continuous simulated
 * dataset: the same seed gives byte-identical checkpoints with 1 and 2
 * threads, another seed different ones; every checkpoint loads back as a
 * policy that answers queries (probabilities summing to one, positive
 * densities, a kernel bandwidth for deterministic policies), also through
 * the store and the policy resolver. Tiny networks and few steps keep it fast. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/gemm.h"
#include "policy/resolve.h"
#include "sim/sim.h"
#include "store/store.h"
#include "train/ckpt_policy.h"
#include "train/train.h"

static ope_dataset *disc, *cont;

static int setup(void **state) {
  (void)state;
  ope_error err = {0};
  ope_gemm_set_threads(1);
  if (ope_sim_generate("cartpole", "medium-replay", 6, 3, 40, &disc, &err) != OPE_OK) return -1;
  if (ope_sim_generate("pendulum", "medium", 4, 3, 40, &cont, &err) != OPE_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ope_dataset_free(disc);
  ope_dataset_free(cont);
  return 0;
}

static void tiny(ope_train_settings *set, const ope_train_algo *a) {
  const char *kv[][2] = {{"batch", "16"}, {"hidden", "16"}, {"cql_samples", "2"},
                         {"vae_hidden", "16"}, {"bcq_candidates", "3"},
                         {"policy_freq", "2"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    ope_train_settings_set(set, a, kv[i][0], kv[i][1], NULL); /* unknown keys: skipped */
}

/* Train a for `steps` steps with seed; return the checkpoint BLOB. */
static uint8_t *train(const ope_train_algo *a, const ope_dataset *ds,
                      uint64_t seed, int steps, size_t *len, char **settings) {
  ope_error err = {0};
  ope_train_settings set;
  ope_train_settings_init(&set, a, ds->action_kind == OPE_ACTION_DISCRETE, 1);
  tiny(&set, a);
  ope_train_run *r = NULL;
  assert_int_equal(ope_train_run_new(a, ds, &set, seed, &r, &err), OPE_OK);
  for (int i = 0; i < steps; i++) assert_int_equal(ope_train_step(r, &err), OPE_OK);
  uint8_t *blob = NULL;
  char *summary = NULL;
  assert_int_equal(ope_train_checkpoint(r, &blob, len, settings, &summary, &err), OPE_OK);
  assert_non_null(strstr(summary, "\"curve\""));
  free(summary);
  ope_train_run_free(r);
  return blob;
}

/* Ask the policy about the first rows of ds. */
static void check_policy(const ope_policy *p, const ope_dataset *ds) {
  ope_error err = {0};
  ope_rng rng;
  ope_rng_seed(&rng, 1, 0);
  for (size_t t = 0; t < 5; t++) {
    const double *obs = ds->obs + t * ds->obs_dim;
    if (ds->action_kind == OPE_ACTION_DISCRETE) {
      double pr[8], sum = 0;
      assert_int_equal(p->ops->dist(p, NULL, obs, pr, &err), OPE_OK);
      for (int a = 0; a < ds->n_actions; a++) {
        assert_true(pr[a] >= 0);
        sum += pr[a];
      }
      assert_true(fabs(sum - 1) < 1e-9);
    } else {
      double a[4], dens;
      assert_int_equal(p->ops->sample(p, NULL, obs, &rng, a, &err), OPE_OK);
      assert_true(isfinite(a[0]));
      if (p->deterministic) {
        assert_true(p->bandwidth > 0);
      } else {
        assert_int_equal(p->ops->density(p, NULL, obs, ds->action_vec + t, &dens, &err), OPE_OK);
        assert_true(dens > 0 && isfinite(dens));
      }
    }
  }
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0, &sc, &err), OPE_OK);
  for (size_t t = 0; t < ds->n_steps; t++) assert_true(sc.prob[t] >= 0 && isfinite(sc.prob[t]));
  ope_policy_scores_clear(&sc);
}

static void run_algo(const ope_train_algo *a, const ope_dataset *ds) {
  size_t l1, l2, l3;
  char *s1, *s2, *s3;
  uint8_t *b1 = train(a, ds, 7, 12, &l1, &s1);
  ope_gemm_set_threads(2); /* the same bytes for any thread count */
  uint8_t *b2 = train(a, ds, 7, 12, &l2, &s2);
  ope_gemm_set_threads(1);
  uint8_t *b3 = train(a, ds, 8, 12, &l3, &s3);
  printf("%s (%s): %zu bytes\n", a->name,
         ds->action_kind == OPE_ACTION_DISCRETE ? "discrete" : "continuous", l1);
  assert_true(l1 == l2 && memcmp(b1, b2, l1) == 0);
  assert_true(l1 == l3 && memcmp(b1, b3, l1) != 0);
  ope_error err = {0};
  ope_ckpt *ck = NULL;
  assert_int_equal(ope_ckpt_load(b1, l1, &ck, &err), OPE_OK);
  ope_policy *p = NULL;
  assert_int_equal(ope_train_policy_from_ckpt(ck, "x", &p, &err), OPE_OK);
  check_policy(p, ds);
  ope_policy_free(p);

  /* through the store and the resolver */
  char path[] = "/tmp/ope-train-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  ope_store *st = NULL;
  assert_int_equal(ope_store_open(path, 1, &st, &err), OPE_OK);
  ope_train_row row = {.name = "fam-s7@12", .algo = a->name, .family = "fam",
                       .settings = s1, .seed = 7, .step = 12, .summary = "{}",
                       .blob = b1, .blob_len = l1};
  assert_int_equal(ope_train_row_put(st, &row, &err), OPE_OK);
  assert_int_equal(ope_train_row_put(st, &row, &err), OPE_EUSAGE); /* name taken */
  assert_int_equal(ope_policy_resolve(st, "fam-s7@12", &p, &err), OPE_OK);
  check_policy(p, ds);
  ope_policy_free(p);
  assert_int_equal(ope_train_policy_load(st, "nope", &p, &err), OPE_ENOINPUT);
  int64_t n = 0;
  assert_int_equal(ope_train_family_delete(st, "fam", 7, &n, &err), OPE_OK);
  assert_int_equal(n, 1);
  ope_store_close(st);
  unlink(path);
  char wal[64];
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
  free(b1), free(b2), free(b3);
  free(s1), free(s2), free(s3);
}

/* The value-based and cloning algorithms; the Decision Transformer has
 * tests of its own. */
static const char *const names[] = {"bc", "cql", "iql", "td3bc", "bcq"};

static void test_discrete(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const ope_train_algo *a = ope_train_algo_find(names[i]);
    assert_non_null(a);
    if (a->discrete) run_algo(a, disc);
  }
}

static void test_continuous(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const ope_train_algo *a = ope_train_algo_find(names[i]);
    assert_non_null(a);
    if (a->continuous) run_algo(a, cont);
  }
}

static void test_refusals(void **state) {
  (void)state;
  ope_error err = {0};
  const ope_train_algo *td3 = ope_train_algo_find("td3bc");
  assert_non_null(td3);
  assert_null(ope_train_algo_find("ppo"));
  ope_train_settings set;
  ope_train_settings_init(&set, td3, 1, 0);
  ope_train_run *r = NULL;
  assert_int_equal(ope_train_run_new(td3, disc, &set, 0, &r, &err), OPE_EUSAGE);
  assert_non_null(strstr(err.msg, "discrete"));
  assert_int_equal(ope_train_settings_set(&set, td3, "alpha", "x", &err), OPE_EUSAGE);
  assert_int_equal(ope_train_settings_set(&set, td3, "expectile", "0.7", &err), OPE_EUSAGE);
  assert_int_equal(ope_train_settings_set(&set, td3, "batch", "2.5", &err), OPE_EUSAGE);
  assert_int_equal(ope_train_settings_set(&set, td3, "alpha", "4", &err), OPE_OK);
  assert_true(ope_train_get(&set, "alpha") == 4.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_discrete),
    cmocka_unit_test(test_continuous),
    cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

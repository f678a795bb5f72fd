/* Same seed, same bytes: a generated dataset written as log CSV is
 * byte-identical across runs and changes with the seed, for every
 * environment; `ope sim` writes identical files twice, `ope truth --json`
 * prints the same bytes for 1 and 2 threads, and a dataset loaded with
 * --dataset exports to the same CSV as -o writes. With next observations
 * the rows are the same and next_obs repeats the next row's obs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csvwrite.h"
#include "sim/sim.h"

/* The CSV bytes of a generated dataset (malloc'd), length in *len. */
static char *csv_of(const char *env, const char *regime, uint64_t seed, size_t *len) {
  ope_dataset *ds = NULL;
  ope_error err;
  if (ope_sim_generate(env, regime, 25, seed, 0, &ds, &err) != OPE_OK)
    fail_msg("%s: %s", env, err.msg);
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  assert_int_equal(ope_log_csv_write(ds, f, "mem", &err), OPE_OK);
  fclose(f);
  ope_dataset_free(ds);
  return buf;
}

static void test_same_seed_same_bytes(void **state) {
  (void)state;
  const char *envs[] = {"gridworld", "chain:length=30", "cartpole", "mountaincar",
                        "pendulum", "pointmaze"};
  for (int i = 0; i < 6; i++) {
    size_t n1, n2, n3;
    char *a = csv_of(envs[i], "medium-replay", 99, &n1);
    char *b = csv_of(envs[i], "medium-replay", 99, &n2);
    char *c = csv_of(envs[i], "medium-replay", 100, &n3);
    assert_true(n1 > 100);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_true(n1 != n3 || memcmp(a, c, n1) != 0);
    free(a);
    free(b);
    free(c);
  }
}

static void test_next_obs(void **state) {
  (void)state;
  /* next_obs is the next row's obs inside an episode, and exists after the
   * last step of a truncated episode too. */
  const char *envs[] = {"chain", "cartpole", "pointmaze"};
  for (int i = 0; i < 3; i++) {
    ope_dataset *ds = NULL, *plain = NULL;
    ope_error err;
    assert_int_equal(ope_sim_generate_ex(envs[i], "medium", 20, 4, 0, 1, &ds, &err), OPE_OK);
    assert_int_equal(ope_sim_generate(envs[i], "medium", 20, 4, 0, &plain, &err), OPE_OK);
    assert_non_null(ds->next_obs);
    assert_null(plain->next_obs);
    size_t d = (size_t)ds->obs_dim;
    assert_int_equal(ds->n_steps, plain->n_steps);
    assert_memory_equal(ds->obs, plain->obs, ds->n_steps * d * sizeof(double));
    for (size_t e = 0; e < ds->n_episodes; e++)
      for (size_t t = ds->ep_offset[e]; t + 1 < ds->ep_offset[e + 1]; t++)
        assert_memory_equal(ds->next_obs + t * d, ds->obs + (t + 1) * d, d * sizeof(double));
    ope_dataset_free(ds);
    ope_dataset_free(plain);
  }
}

static char scratch[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

static void test_cli(void **state) {
  (void)state;
  const char *ope = getenv("OPE");
  if (ope == NULL || access(ope, X_OK) != 0) skip();
  strcpy(scratch, "/tmp/ope-sim-XXXXXX");
  assert_non_null(mkdtemp(scratch));
  const char *d = scratch;
  assert_int_equal(sh("'%s' sim --env pendulum --behavior medium-expert --episodes 20 --seed 3"
                      " -o %s/a.csv 2>/dev/null", ope, d), 0);
  assert_int_equal(sh("'%s' sim --env pendulum --behavior medium-expert --episodes 20 --seed 3"
                      " -o %s/b.csv 2>/dev/null", ope, d), 0);
  assert_int_equal(sh("cmp -s %s/a.csv %s/b.csv", d, d), 0);
  assert_int_equal(sh("'%s' sim --env pendulum --behavior medium-expert --episodes 20 --seed 3"
                      " --dataset p --db %s/s.db 2>/dev/null", ope, d), 0);
  assert_int_equal(sh("'%s' export --dataset p --db %s/s.db -o %s/c.csv", ope, d, d), 0);
  assert_int_equal(sh("cmp -s %s/a.csv %s/c.csv", d, d), 0);
  assert_int_equal(sh("'%s' sim --env chain --behavior medium --episodes 5 --next-obs"
                      " -o %s/n.csv 2>/dev/null", ope, d), 0);
  assert_int_equal(sh("'%s' ingest %s/n.csv --dataset n --db %s/s.db >/dev/null 2>&1", ope, d,
                      d), 0);
  assert_int_equal(sh("'%s' export --dataset n --db %s/s.db -o %s/n2.csv", ope, d, d), 0);
  assert_int_equal(sh("cmp -s %s/n.csv %s/n2.csv", d, d), 0);
  assert_int_equal(sh("'%s' truth --policy gridworld:medium --episodes 500 --threads 1 --json"
                      " --db %s/s.db > %s/t1.json", ope, d, d), 0);
  assert_int_equal(sh("'%s' truth --policy gridworld:medium --episodes 500 --threads 2 --json"
                      " --db %s/s.db > %s/t2.json", ope, d, d), 0);
  assert_int_equal(sh("cmp -s %s/t1.json %s/t2.json", d, d), 0);
  assert_int_equal(sh("grep -q '\"method\":\"exact\"' %s/t1.json", d), 0);
  /* Usage errors and a missing simulator. */
  assert_int_equal(WEXITSTATUS(sh("'%s' sim --env cartpole --episodes 5 -o %s/x.csv 2>/dev/null",
                                  ope, d)), 64);
  assert_int_equal(WEXITSTATUS(sh("'%s' sim --env cartpole --behavior noise=0.1 --episodes 5"
                                  " -o %s/x.csv 2>/dev/null", ope, d)), 64);
  assert_int_equal(WEXITSTATUS(sh("'%s' truth --policy moon:expert --db %s/s.db 2>/dev/null",
                                  ope, d)), 66);
  assert_int_equal(sh("test ! -e %s/x.csv", d), 0);
  sh("rm -rf %s", d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_same_seed_same_bytes),
    cmocka_unit_test(test_next_obs),
    cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

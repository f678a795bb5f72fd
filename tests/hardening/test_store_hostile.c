/* Hostile and damaged stores: files that SQLite opens but whose contents lie.
 * Each must be refused with OPE_EDATA and a message, never crash, never ask
 * for an allocation sized by the lie, and a read-only open must leave the
 * file's bytes untouched. (Newer schema versions and foreign files are
 * covered by tests/cli/test_foundation.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/ingest.h"
#include "store/store.h"

/* On tmpfs when there is one: the loops open and sync stores many times. */
static char dir[64];
static char db[128], csv[128];

static void sql(const char *path, const char *text) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(h, text, NULL, NULL, &msg);
  if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", text, msg);
  sqlite3_free(msg);
  sqlite3_close(h);
  assert_int_equal(rc, SQLITE_OK);
}

static unsigned long file_hash(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  unsigned long h = 7;
  int c;
  while ((c = fgetc(f)) != EOF) h = h * 31 + (unsigned long)c;
  fclose(f);
  return h;
}

/* A fresh store with dataset "ex" (2 episodes, 3 steps, obs width 2). */
static int setup(void **state) {
  (void)state;
  char p[160];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
  ope_store *s = NULL;
  ope_error err = {0};
  ope_log_summary sum;
  ope_ingest_options opt = {.name = "ex"};
  ope_status st = ope_store_open(db, 1, &s, &err);
  if (st == OPE_OK) st = ope_ingest_csv(s, csv, &opt, &sum, &err);
  ope_store_close(s);
  return st == OPE_OK ? 0 : -1;
}

static int group_setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s/ope-hostile-XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (mkdtemp(dir) == NULL) return -1;
  snprintf(db, sizeof db, "%s/ope.db", dir);
  snprintf(csv, sizeof csv, "%s/log.csv", dir);
  FILE *f = fopen(csv, "wb");
  if (f == NULL) return -1;
  fputs("episode,step,obs_0,obs_1,action,reward,terminal,pscore\n"
        "0,0,0.10,-0.20,2,1.0,0,0.5\n0,1,0.15,-0.10,0,1.0,1,0.25\n"
        "1,0,0.00,0.30,1,0.0,0,0.25\n", f);
  return fclose(f) == 0 ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  char p[160];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
  unlink(csv);
  rmdir(dir);
  return 0;
}

/* Loading "ex" fails with OPE_EDATA and a message containing want. */
static void expect_load_refused(const char *want) {
  ope_store *s = NULL;
  ope_dataset *ds = NULL;
  ope_error err = {0};
  assert_int_equal(ope_store_open(db, 0, &s, &err), OPE_OK);
  ope_status st = ope_store_dataset_load(s, "ex", &ds, &err);
  ope_store_close(s);
  if (st != OPE_EDATA || strstr(err.msg, want) == NULL)
    fprintf(stderr, "status %d, message: %s\n", (int)st, err.msg);
  assert_int_equal(st, OPE_EDATA);
  assert_null(ds);
  assert_non_null(strstr(err.msg, want));
}

/* PRAGMA user_version is signed: -1 once indexed the migrations at -1. */
static void negative_schema_version(void **state) {
  (void)state;
  sql(db, "PRAGMA user_version = -1");
  unsigned long before = file_hash(db);
  for (int writable = 0; writable <= 1; writable++) {
    ope_store *s = NULL;
    ope_error err = {0};
    assert_int_equal(ope_store_open(db, writable, &s, &err), OPE_EDATA);
    assert_null(s);
    assert_non_null(strstr(err.msg, "not a version ope writes"));
    assert_true(file_hash(db) == before);
  }
}

static void lying_step_count(void **state) {
  (void)state;
  sql(db, "UPDATE datasets SET n_steps = 1000000000000 WHERE name = 'ex'");
  expect_load_refused("records 2 episodes and 1000000000000 steps but holds 2 and 3");
}

static void negative_episode_count(void **state) {
  (void)state;
  sql(db, "UPDATE datasets SET n_episodes = -1 WHERE name = 'ex'");
  expect_load_refused("records -1 episodes");
}

static void huge_episode_count(void **state) {
  (void)state;
  sql(db, "UPDATE datasets SET n_episodes = 4000000000000000000 WHERE name = 'ex'");
  expect_load_refused("records 4000000000000000000 episodes");
}

/* A step row far beyond the others, with totals that agree with it: only
 * the file size shows that the count is a lie. */
static void far_step_row(void **state) {
  (void)state;
  sql(db, "INSERT INTO steps SELECT dataset_id, 99999999999, episode, step, obs, action, "
          "action_vec, reward, terminal, pscore, next_obs FROM steps WHERE row = 2; "
          "UPDATE datasets SET n_steps = 100000000000 WHERE name = 'ex'");
  expect_load_refused("more than the file can hold");
}

static void wide_observation_claim(void **state) {
  (void)state;
  sql(db, "UPDATE datasets SET obs_dim = 4096 WHERE name = 'ex'");
  expect_load_refused("");
}

static void short_observation_blob(void **state) {
  (void)state;
  sql(db, "UPDATE steps SET obs = x'0000' WHERE row = 1");
  expect_load_refused("observation of 2 bytes, expected 16");
}

static void action_out_of_range(void **state) {
  (void)state;
  sql(db, "UPDATE steps SET action = 70000 WHERE row = 0");
  expect_load_refused("action outside 0..2");
}

static void episode_gap(void **state) {
  (void)state;
  sql(db, "UPDATE episodes SET first_row = 5 WHERE idx = 1");
  expect_load_refused("corrupt store");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(negative_schema_version, setup),
    cmocka_unit_test_setup(lying_step_count, setup),
    cmocka_unit_test_setup(negative_episode_count, setup),
    cmocka_unit_test_setup(huge_episode_count, setup),
    cmocka_unit_test_setup(far_step_row, setup),
    cmocka_unit_test_setup(wide_observation_claim, setup),
    cmocka_unit_test_setup(short_observation_blob, setup),
    cmocka_unit_test_setup(action_out_of_range, setup),
    cmocka_unit_test_setup(episode_gap, setup),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

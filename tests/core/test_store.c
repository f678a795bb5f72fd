/* The store: create/migrate, refuse what it must not touch, and datasets
 * that go in and come out bit for bit; plus the core's small pieces
 * (SHA-256 known answers, RNG determinism, dataset subsets). */
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

#include "core/rng.h"
#include "core/sha256.h"
#include "data/ingest.h"
#include "store/store.h"

static char db[256];

static int setup(void **state) {
  (void)state;
  snprintf(db, sizeof db, "/tmp/ope_test_store_%d.db", (int)getpid());
  unlink(db);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char p[300];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
  return 0;
}

/* A small continuous dataset with next_obs and pscores, filled by an RNG. */
static ope_dataset *make_dataset(void) {
  ope_error err;
  ope_dataset *ds = ope_dataset_alloc(3, 7, 2, OPE_ACTION_CONTINUOUS, 0, 2, 1, 1, &err);
  assert_non_null(ds);
  size_t off[] = {0, 3, 4, 7};
  memcpy(ds->ep_offset, off, sizeof off);
  ope_rng r;
  ope_rng_seed(&r, 7, 0);
  for (size_t t = 0; t < 7; t++) {
    for (int j = 0; j < 2; j++) {
      ds->obs[t * 2 + j] = ope_rng_normal(&r);
      ds->next_obs[t * 2 + j] = ope_rng_normal(&r) * 1e-300;
      ds->action_vec[t * 2 + j] = ope_rng_uniform(&r) - 0.5;
    }
    ds->reward[t] = ope_rng_normal(&r) * 1e10;
    ds->pscore[t] = ope_rng_uniform(&r) + 0.01;
  }
  ds->terminal[2] = 1;
  for (size_t e = 0; e < 3; e++) {
    char lab[16];
    snprintf(lab, sizeof lab, "ep-%zu", e);
    ds->ep_label[e] = strdup(lab);
  }
  return ds;
}

static void assert_same_dataset(const ope_dataset *a, const ope_dataset *b) {
  assert_int_equal(a->n_episodes, b->n_episodes);
  assert_int_equal(a->n_steps, b->n_steps);
  assert_int_equal(a->obs_dim, b->obs_dim);
  assert_int_equal(a->action_dim, b->action_dim);
  size_t n = a->n_steps, d = (size_t)a->obs_dim;
  assert_memory_equal(a->ep_offset, b->ep_offset, (a->n_episodes + 1) * sizeof(size_t));
  assert_memory_equal(a->obs, b->obs, n * d * sizeof(double));
  assert_memory_equal(a->next_obs, b->next_obs, n * d * sizeof(double));
  assert_memory_equal(a->action_vec, b->action_vec, n * (size_t)a->action_dim * sizeof(double));
  assert_memory_equal(a->reward, b->reward, n * sizeof(double));
  assert_memory_equal(a->pscore, b->pscore, n * sizeof(double));
  assert_memory_equal(a->terminal, b->terminal, n);
  for (size_t e = 0; e < a->n_episodes; e++) assert_string_equal(a->ep_label[e], b->ep_label[e]);
}

static void test_put_load_round_trip(void **state) {
  (void)state;
  ope_error err;
  ope_store *s;
  assert_int_equal(ope_store_open(db, 1, &s, &err), OPE_OK);
  ope_dataset *ds = make_dataset();
  ope_dataset_info info = {.name = "sim", .source = "test"};
  assert_int_equal(ope_store_dataset_put(s, ds, &info, 0, &err), OPE_OK);
  /* The name is taken now; with replace it is overwritten. */
  assert_int_equal(ope_store_dataset_put(s, ds, &info, 0, &err), OPE_EUSAGE);
  assert_int_equal(ope_store_dataset_put(s, ds, &info, 1, &err), OPE_OK);
  ope_store_close(s);

  assert_int_equal(ope_store_open(db, 0, &s, &err), OPE_OK);
  ope_dataset *back = NULL;
  assert_int_equal(ope_store_dataset_load(s, "sim", &back, &err), OPE_OK);
  assert_same_dataset(ds, back);
  ope_dataset *none = NULL;
  assert_int_equal(ope_store_dataset_load(s, "nope", &none, &err), OPE_ENOINPUT);
  assert_null(none);
  ope_dataset_info *list;
  size_t n;
  assert_int_equal(ope_store_dataset_list(s, &list, &n, &err), OPE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(list[0].n_steps, 7);
  assert_int_equal(list[0].has_next_obs, 1);
  ope_dataset_info_clear(&list[0]);
  free(list);
  ope_store_close(s);

  /* A subset keeps rows and labels of the chosen episodes, in order. */
  size_t pick[] = {2, 0};
  ope_dataset *sub = ope_dataset_subset(ds, pick, 2, &err);
  assert_non_null(sub);
  assert_int_equal(sub->n_steps, 6);
  assert_true(sub->reward[0] == ds->reward[4]);
  assert_true(sub->reward[3] == ds->reward[0]);
  assert_string_equal(sub->ep_label[1], "ep-0");
  assert_int_equal(sub->terminal[5], 1);
  ope_dataset_free(sub);
  ope_dataset_free(back);
  ope_dataset_free(ds);
}

/* A writer that is aborted leaves nothing behind. */
static void test_abort_leaves_nothing(void **state) {
  (void)state;
  ope_error err;
  ope_store *s;
  assert_int_equal(ope_store_open(db, 1, &s, &err), OPE_OK);
  ope_dataset_info info = {.name = "half", .action_kind = OPE_ACTION_DISCRETE,
                           .action_dim = 1, .obs_dim = 1};
  ope_store_writer *w;
  assert_int_equal(ope_store_writer_begin(s, &info, 0, &w, &err), OPE_OK);
  double o = 1.0;
  assert_int_equal(ope_store_writer_step(w, 0, 0, &o, 0, NULL, 1.0, 0, 0, NULL, &err), OPE_OK);
  ope_store_writer_abort(w);
  ope_dataset_info found;
  assert_int_equal(ope_store_dataset_find(s, "half", &found, &err), OPE_ENOINPUT);
  sqlite3_stmt *st;
  assert_int_equal(ope_store_prepare(s, "SELECT count(*) FROM steps", &st, &err), OPE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  ope_store_close(s);
}

/* An old store is migrated forward; a newer one is refused untouched. */
static void test_versions(void **state) {
  (void)state;
  ope_error err;
  ope_store *s;
  assert_int_equal(ope_store_open(db, 1, &s, &err), OPE_OK);
  /* Pretend the store predates version 2: drop every table that a later
   * migration made (they are all but the three of version 1). */
  sqlite3 *h = ope_store_db(s);
  for (;;) {
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                        "AND name NOT IN ('datasets', 'episodes', 'steps')", -1, &q, NULL), SQLITE_OK);
    char drop[256] = "";
    if (sqlite3_step(q) == SQLITE_ROW)
      snprintf(drop, sizeof drop, "DROP TABLE \"%s\"", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    if (!drop[0]) break;
    assert_int_equal(sqlite3_exec(h, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL), SQLITE_OK);
    if (sqlite3_exec(h, drop, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s: %s", drop, sqlite3_errmsg(h));
  }
  assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
  ope_store_close(s);
  assert_int_equal(ope_store_open(db, 0, &s, &err), OPE_EDATA);
  assert_non_null(strstr(err.msg, "older"));
  if (ope_store_open(db, 1, &s, &err) != OPE_OK) fail_msg("migrating: %s", err.msg);
  sqlite3_stmt *st;
  assert_int_equal(ope_store_prepare(s, "PRAGMA user_version", &st, &err), OPE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), ope_store_schema_version());
  sqlite3_finalize(st);
  assert_int_equal(ope_store_prepare(s, "SELECT count(*) FROM policies", &st, &err), OPE_OK);
  sqlite3_finalize(st);
  assert_int_equal(sqlite3_exec(ope_store_db(s), "PRAGMA user_version = 1000", NULL, NULL, NULL), SQLITE_OK);
  ope_store_close(s);
  assert_int_equal(ope_store_open(db, 1, &s, &err), OPE_EDATA);
  assert_non_null(strstr(err.msg, "newer"));
}

static void sha256_known_answers(void);

/* Both block functions (the SHA-NI one when the CPU has it) give the FIPS
 * digests, and the same digest as each other on random data of every length
 * up to 300 bytes fed in random pieces, and on 1 MiB in one call. */
static void test_sha256_known_answers(void **state) {
  (void)state;
  ope_sha256_set_portable(1);
  assert_int_equal(ope_sha256_accelerated(), 0);
  sha256_known_answers();
  ope_sha256_set_portable(0);
  print_message("SHA-NI %s\n", ope_sha256_accelerated() ? "used" : "not available");
  sha256_known_answers();
  size_t big = 1 << 20;
  uint8_t *data = malloc(big);
  assert_non_null(data);
  ope_rng rng;
  ope_rng_seed(&rng, 7, 0);
  for (size_t i = 0; i < big; i++) data[i] = (uint8_t)ope_rng_below(&rng, 256);
  for (size_t len = 0; len <= big; len = len < 300 ? len + 1 : len == big ? big + 1 : big) {
    char hex[2][65];
    for (int portable = 1; portable >= 0; portable--) {
      ope_sha256_set_portable(portable);
      ope_sha256 c;
      ope_sha256_init(&c);
      for (size_t k = 0; k < len;) {
        size_t piece = len == big ? big : 1 + (size_t)ope_rng_below(&rng, 130);
        if (piece > len - k) piece = len - k;
        ope_sha256_update(&c, data + k, piece);
        k += piece;
      }
      ope_sha256_hex(&c, hex[portable]);
    }
    assert_string_equal(hex[0], hex[1]);
  }
  ope_sha256_set_portable(0);
  free(data);
}

static void sha256_known_answers(void) {
  /* FIPS 180-4 examples. */
  static const struct { const char *in, *hex; } kat[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (size_t i = 0; i < 3; i++) {
    ope_sha256 c;
    char hex[65];
    ope_sha256_init(&c);
    /* Feed in uneven pieces to exercise buffering. */
    const char *p = kat[i].in;
    size_t n = strlen(p), k = 0;
    while (k < n) {
      size_t piece = (k % 7) + 1 < n - k ? (k % 7) + 1 : n - k;
      ope_sha256_update(&c, p + k, piece);
      k += piece;
    }
    ope_sha256_hex(&c, hex);
    assert_string_equal(hex, kat[i].hex);
  }
  /* One million 'a' (FIPS 180-2 appendix B.3). */
  ope_sha256 c;
  char hex[65], block[1000];
  memset(block, 'a', sizeof block);
  ope_sha256_init(&c);
  for (int i = 0; i < 1000; i++) ope_sha256_update(&c, block, sizeof block);
  ope_sha256_hex(&c, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_rng(void **state) {
  (void)state;
  ope_rng a, b, c;
  ope_rng_seed(&a, 42, 3);
  ope_rng_seed(&b, 42, 3);
  ope_rng_seed(&c, 42, 4);
  int same = 1, differ = 0;
  double sum = 0.0, sq = 0.0;
  for (int i = 0; i < 100000; i++) {
    uint64_t x = ope_rng_u64(&a);
    same &= x == ope_rng_u64(&b);
    differ |= x != ope_rng_u64(&c);
    double z = ope_rng_normal(&a);
    (void)ope_rng_normal(&b);
    sum += z;
    sq += z * z;
  }
  assert_true(same);
  assert_true(differ);
  /* Mean within 5 standard errors of 0, variance near 1. */
  assert_true(fabs(sum / 100000) < 5.0 / sqrt(100000.0));
  assert_true(fabs(sq / 100000 - 1.0) < 0.03);
  int counts[3] = {0};
  double p[3] = {0.2, 0.5, 0.3};
  for (int i = 0; i < 30000; i++) counts[ope_rng_categorical(&a, p, 3)]++;
  for (int k = 0; k < 3; k++) assert_true(fabs(counts[k] / 30000.0 - p[k]) < 0.015);
  for (int i = 0; i < 1000; i++) assert_true(ope_rng_below(&a, 7) < 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_put_load_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
    cmocka_unit_test(test_sha256_known_answers),
    cmocka_unit_test(test_rng),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

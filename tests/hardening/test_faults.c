/* Injected faults: every allocation, every sqlite3_step and every fwrite of
 * the readers and writers is made to fail in turn, and each path must come
 * back with a clean error, leave nothing allocated, and leave the store as
 * it was (or hold the whole new dataset when the fault was harmless).
 *
 * How: this executable is linked with -Wl,--wrap for malloc, calloc,
 * realloc, strdup, free, sqlite3_step and fwrite, so libope's calls land in
 * the __wrap_ functions below. They count calls and fail the Nth one
 * (fail_at); a pointer set remembers what libope allocated so that a leak
 * on any error path fails the test at once. SQLite's own allocator is
 * replaced through SQLITE_CONFIG_MALLOC to fail inside SQLite too. The loop
 * for each operation runs N = 1, 2, ... until the operation no longer
 * reaches the Nth call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csvlog.h"
#include "data/csvwrite.h"
#include "data/ingest.h"
#include "nn/checkpoint.h"
#include "policy/scores_csv.h"
#include "store/store.h"

/* ---- the wrappers ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
int __real_sqlite3_step(sqlite3_stmt *st);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);
int __wrap_sqlite3_step(sqlite3_stmt *st);
size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f);

enum fault { F_NONE, F_ALLOC, F_SQLITE_ALLOC, F_STEP, F_FWRITE };

static enum fault armed = F_NONE; /* which kind of call fails */
static long fail_at;              /* the 1-based call number that fails */
static long calls;                /* calls of the armed kind so far */
static int step_code = SQLITE_IOERR;

static int hit(enum fault kind) {
  if (armed != kind) return 0;
  return ++calls == fail_at;
}

/* Live blocks allocated by libope (open addressing, no allocation). */
enum { LIVE_CAP = 1 << 16 };
static void *live[LIVE_CAP];
static long n_live;
static int live_overflow;
static void *const TOMB = (void *)&live; /* a deleted slot */

static size_t slot_of(void *p) {
  uintptr_t h = (uintptr_t)p;
  h ^= h >> 17;
  h *= 0x9E3779B97F4A7C15ULL;
  return (size_t)(h >> 40) & (LIVE_CAP - 1);
}

static void live_add(void *p) {
  if (p == NULL) return;
  size_t i = slot_of(p);
  for (size_t k = 0; k < LIVE_CAP; k++, i = (i + 1) & (LIVE_CAP - 1))
    if (live[i] == NULL || live[i] == TOMB) {
      live[i] = p;
      n_live++;
      return;
    }
  live_overflow = 1;
}

static void live_del(void *p) {
  if (p == NULL) return;
  size_t i = slot_of(p);
  for (size_t k = 0; k < LIVE_CAP && live[i] != NULL; k++, i = (i + 1) & (LIVE_CAP - 1))
    if (live[i] == p) {
      live[i] = TOMB;
      n_live--;
      return;
    }
}

void *__wrap_malloc(size_t n) {
  if (hit(F_ALLOC)) return NULL;
  void *p = __real_malloc(n);
  live_add(p);
  return p;
}

void *__wrap_calloc(size_t n, size_t size) {
  if (hit(F_ALLOC)) return NULL;
  void *p = __real_calloc(n, size);
  live_add(p);
  return p;
}

void *__wrap_realloc(void *p, size_t n) {
  if (hit(F_ALLOC)) return NULL;
  void *q = __real_realloc(p, n);
  if (q != NULL || n == 0) {
    live_del(p);
    live_add(q);
  }
  return q;
}

char *__wrap_strdup(const char *s) {
  if (hit(F_ALLOC)) return NULL;
  char *p = __real_strdup(s);
  live_add(p);
  return p;
}

void __wrap_free(void *p) {
  live_del(p);
  __real_free(p);
}

int __wrap_sqlite3_step(sqlite3_stmt *st) {
  if (hit(F_STEP)) return step_code;
  return __real_sqlite3_step(st);
}

size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f) {
  if (hit(F_FWRITE)) return n / 2; /* a short write, as on a full disk */
  return __real_fwrite(p, size, n, f);
}

/* SQLite's allocator with a failing malloc/realloc. */
static sqlite3_mem_methods sqlite_mem;

static void *sq_malloc(int n) {
  if (hit(F_SQLITE_ALLOC)) return NULL;
  return sqlite_mem.xMalloc(n);
}

static void *sq_realloc(void *p, int n) {
  if (hit(F_SQLITE_ALLOC)) return NULL;
  return sqlite_mem.xRealloc(p, n);
}

static void arm(enum fault kind, long n) {
  armed = kind;
  fail_at = n;
  calls = 0;
}

/* Disarm; returns whether the Nth call was reached. */
static int disarm(void) {
  int reached = calls >= fail_at;
  armed = F_NONE;
  return reached;
}

/* ---- fixtures ---- */

/* On tmpfs when there is one: the loops open and sync stores many times. */
static char dir[64];
static char csv_path[128], base_db[128], db_path[128], scores_path[128];

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  assert_non_null(a);
  assert_non_null(b);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(__real_fwrite(buf, 1, n, b), n);
  fclose(a);
  assert_int_equal(fclose(b), 0);
}

static void remove_db(const char *path) {
  char p[160];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-journal", path);
  unlink(p);
}

static const char LOG[] =
  "episode,step,obs_0,obs_1,action,reward,terminal,pscore\n"
  "0,0,0.10,-0.20,2,1.0,0,0.5\n"
  "0,1,0.15,-0.10,0,1.0,1,0.25\n"
  "1,0,0.00,0.30,1,0.0,0,0.25\n"
  "\"a,b\",0,1e-3,2,1,0.5,0,0.5\n";

static int group_setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s/ope-faults-XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (mkdtemp(dir) == NULL) return -1;
  snprintf(csv_path, sizeof csv_path, "%s/log.csv", dir);
  snprintf(base_db, sizeof base_db, "%s/base.db", dir);
  snprintf(db_path, sizeof db_path, "%s/ope.db", dir);
  snprintf(scores_path, sizeof scores_path, "%s/scores.csv", dir);
  write_text(csv_path, LOG);
  write_text(scores_path,
             "episode,step,prob,prob_0,prob_1,prob_2\n"
             "0,0,0.5,0.25,0.25,0.5\n0,1,0.25,0.25,0.5,0.25\n"
             "1,0,1,0,1,0\n\"a,b\",0,0.5,0.25,0.5,0.25\n");
  /* A store that already holds dataset "base". */
  ope_store *s = NULL;
  ope_error err = {0};
  ope_log_summary sum;
  ope_ingest_options opt = {.name = "base"};
  if (ope_store_open(base_db, 1, &s, &err) != OPE_OK ||
      ope_ingest_csv(s, csv_path, &opt, &sum, &err) != OPE_OK) {
    fprintf(stderr, "setup: %s\n", err.msg);
    ope_store_close(s);
    return -1;
  }
  ope_store_close(s);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  unlink(csv_path);
  unlink(scores_path);
  remove_db(base_db);
  remove_db(db_path);
  rmdir(dir);
  return 0;
}

/* An error must carry a status and a message. */
static void assert_clean_error(ope_status st, const ope_error *err) {
  assert_int_not_equal(st, OPE_OK);
  assert_int_equal(err->status, st);
  assert_true(err->msg[0] != '\0');
}

/* The store at path opens, passes integrity_check, still holds "base"
 * whole, and holds "new" whole (4 steps) or not at all. Returns whether
 * "new" is there. */
static int check_store(const char *path) {
  ope_store *s = NULL;
  ope_error err = {0};
  assert_int_equal(ope_store_open(path, 0, &s, &err), OPE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(ope_store_db(s), "PRAGMA integrity_check", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(__real_sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  ope_dataset *ds = NULL;
  assert_int_equal(ope_store_dataset_load(s, "base", &ds, &err), OPE_OK);
  assert_int_equal(ds->n_steps, 4);
  ope_dataset_free(ds);
  ds = NULL;
  ope_status r = ope_store_dataset_load(s, "new", &ds, &err);
  int present = r == OPE_OK;
  if (present) {
    assert_int_equal(ds->n_steps, 4);
    assert_int_equal(ds->n_episodes, 3);
    assert_string_equal(ds->ep_label[2], "a,b");
  } else {
    assert_int_equal(r, OPE_ENOINPUT);
  }
  ope_dataset_free(ds);
  ope_store_close(s);
  return present;
}

/* ---- the operations under faults ---- */

/* SQLite allocates thousands of times to create a store; past the first
 * calls, every 29th is enough to reach each phase and keeps the test short. */
static long next_stride(enum fault kind, long n) {
  return kind == F_SQLITE_ALLOC && n >= 64 ? 29 : 1;
}

static void run_csv_load(enum fault kind) {
  long n;
  for (n = 1; n < 5000; n++) {
    long before = n_live;
    ope_dataset *ds = NULL;
    ope_error err = {0};
    arm(kind, n);
    ope_status st = ope_log_csv_load(csv_path, 0, &ds, &err);
    int reached = disarm();
    if (st == OPE_OK) {
      assert_non_null(ds);
      assert_int_equal(ds->n_steps, 4);
    } else {
      assert_true(reached);
      assert_clean_error(st, &err);
      assert_null(ds);
    }
    ope_dataset_free(ds);
    assert_int_equal(n_live, before);
    if (!reached) break;
  }
  assert_true(n > 3 && n < 5000);
}

static void csv_load_failing_alloc(void **state) {
  (void)state;
  run_csv_load(F_ALLOC);
}

/* Ingest "new" into a copy of the base store (fresh = start from no file,
 * so that creating and migrating the store is under the fault too). */
static void run_ingest(enum fault kind, int fresh) {
  long n;
  int whole = 0, none = 0;
  for (n = 1; n < 20000; n += next_stride(kind, n)) {
    remove_db(db_path);
    if (!fresh) copy_file(base_db, db_path);
    long before = n_live;
    ope_error err = {0};
    ope_store *s = NULL;
    ope_log_summary sum;
    ope_ingest_options opt = {.name = fresh ? "base" : "new"};
    step_code = (n % 3 == 0) ? SQLITE_FULL : (n % 3 == 1) ? SQLITE_IOERR : SQLITE_BUSY;
    arm(kind, n);
    ope_status st = ope_store_open(db_path, 1, &s, &err);
    if (st == OPE_OK) st = ope_ingest_csv(s, csv_path, &opt, &sum, &err);
    ope_store_close(s);
    int reached = disarm();
    if (st != OPE_OK) {
      assert_true(reached);
      assert_clean_error(st, &err);
    }
    assert_int_equal(n_live, before);
    if (fresh) {
      /* The store may not exist or be half-migrated only by whole
       * migrations: opening it writable again must finish the job. */
      ope_store *s2 = NULL;
      if (st != OPE_OK) {
        ope_log_summary sum2;
        ope_ingest_options base = {.name = "base"};
        assert_int_equal(ope_store_open(db_path, 1, &s2, &err), OPE_OK);
        ope_status r2 = ope_ingest_csv(s2, csv_path, &base, &sum2, &err);
        ope_store_close(s2);
        assert_int_equal(r2, OPE_OK);
      }
      assert_int_equal(check_store(db_path), 0);
    } else if (check_store(db_path)) {
      whole++;
      assert_int_equal(st, OPE_OK);
    } else {
      none++;
      assert_int_not_equal(st, OPE_OK);
    }
    if (!reached) break;
  }
  if (getenv("OPE_FAULTS_VERBOSE")) fprintf(stderr, "ingest fault %d: %ld calls\n", (int)kind, n);
  assert_true(n > 3 && n < 20000);
  if (!fresh) assert_true(whole >= 1 && none >= 1);
}

static void ingest_failing_alloc(void **state) {
  (void)state;
  run_ingest(F_ALLOC, 0);
}

static void ingest_failing_step(void **state) {
  (void)state;
  run_ingest(F_STEP, 0);
}

static void ingest_failing_sqlite_alloc(void **state) {
  (void)state;
  run_ingest(F_SQLITE_ALLOC, 0);
}

static void create_store_failing_step(void **state) {
  (void)state;
  run_ingest(F_STEP, 1);
}

static void create_store_failing_sqlite_alloc(void **state) {
  (void)state;
  run_ingest(F_SQLITE_ALLOC, 1);
}

/* Write an in-memory dataset (as `ope sim --dataset` does) under faults. */
static void run_put(enum fault kind) {
  ope_dataset *ds = NULL;
  ope_error err = {0};
  assert_int_equal(ope_log_csv_load(csv_path, 0, &ds, &err), OPE_OK);
  long n;
  int whole = 0, none = 0;
  for (n = 1; n < 20000; n += next_stride(kind, n)) {
    remove_db(db_path);
    copy_file(base_db, db_path);
    long before = n_live;
    ope_store *s = NULL;
    ope_dataset_info info = {0};
    info.name = "new";
    info.source = "sim:test";
    arm(kind, n);
    ope_status st = ope_store_open(db_path, 1, &s, &err);
    if (st == OPE_OK) st = ope_store_dataset_put(s, ds, &info, 0, &err);
    ope_store_close(s);
    int reached = disarm();
    if (st != OPE_OK) {
      assert_true(reached);
      assert_clean_error(st, &err);
    }
    assert_int_equal(n_live, before);
    if (check_store(db_path)) {
      whole++;
      assert_int_equal(st, OPE_OK);
    } else {
      none++;
      assert_int_not_equal(st, OPE_OK);
    }
    if (!reached) break;
  }
  assert_true(n > 3 && n < 20000 && whole >= 1 && none >= 1);
  ope_dataset_free(ds);
}

static void put_failing_alloc(void **state) {
  (void)state;
  run_put(F_ALLOC);
}

static void put_failing_step(void **state) {
  (void)state;
  run_put(F_STEP);
}

static void run_dataset_load(enum fault kind) {
  long n;
  for (n = 1; n < 20000; n += next_stride(kind, n)) {
    long before = n_live;
    ope_error err = {0};
    ope_store *s = NULL;
    ope_dataset *ds = NULL;
    arm(kind, n);
    ope_status st = ope_store_open(base_db, 0, &s, &err);
    if (st == OPE_OK) st = ope_store_dataset_load(s, "base", &ds, &err);
    ope_store_close(s);
    int reached = disarm();
    if (st == OPE_OK) {
      assert_int_equal(ds->n_steps, 4);
    } else {
      assert_true(reached);
      assert_clean_error(st, &err);
      assert_null(ds);
    }
    ope_dataset_free(ds);
    assert_int_equal(n_live, before);
    if (!reached) break;
  }
  assert_true(n > 3 && n < 20000);
}

static void load_failing_alloc(void **state) {
  (void)state;
  run_dataset_load(F_ALLOC);
}

static void load_failing_step(void **state) {
  (void)state;
  run_dataset_load(F_STEP);
}

static void load_failing_sqlite_alloc(void **state) {
  (void)state;
  run_dataset_load(F_SQLITE_ALLOC);
}

/* Export (csvwrite) with a short write at each fwrite, or a failing alloc. */
static void run_export(enum fault kind) {
  ope_dataset *ds = NULL;
  ope_error err = {0};
  assert_int_equal(ope_log_csv_load(csv_path, 0, &ds, &err), OPE_OK);
  long n;
  for (n = 1; n < 1000; n++) {
    long before = n_live;
    FILE *f = fopen("/dev/null", "wb");
    assert_non_null(f);
    arm(kind, n);
    ope_status st = ope_log_csv_write(ds, f, "out.csv", &err);
    int reached = disarm();
    fclose(f);
    if (st != OPE_OK) {
      assert_true(reached);
      assert_clean_error(st, &err);
      assert_true(kind != F_FWRITE || st == OPE_EIO);
    }
    assert_int_equal(n_live, before);
    if (!reached) break;
  }
  assert_true(n > 1 && n < 1000);
  ope_dataset_free(ds);
}

static void export_short_write(void **state) {
  (void)state;
  run_export(F_FWRITE);
}

static void export_failing_alloc(void **state) {
  (void)state;
  run_export(F_ALLOC);
}

static void scores_failing_alloc(void **state) {
  (void)state;
  ope_dataset *ds = NULL;
  ope_error err = {0};
  assert_int_equal(ope_log_csv_load(csv_path, 0, &ds, &err), OPE_OK);
  long n;
  for (n = 1; n < 1000; n++) {
    long before = n_live;
    ope_policy_scores sc;
    arm(F_ALLOC, n);
    ope_status st = ope_scores_csv_read(scores_path, ds, &sc, &err);
    int reached = disarm();
    if (st == OPE_OK) {
      assert_int_equal(sc.n_steps, 4);
      ope_policy_scores_clear(&sc);
    } else {
      assert_true(reached);
      assert_clean_error(st, &err);
    }
    assert_int_equal(n_live, before);
    if (!reached) break;
  }
  assert_true(n > 2 && n < 1000);
  ope_dataset_free(ds);
}

static void checkpoint_failing_alloc(void **state) {
  (void)state;
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, 2, 1, 4, 3, OPE_ACT_TANH);
  ope_mlp *m = NULL;
  ope_norm *nm = NULL;
  ope_error err = {0};
  assert_int_equal(ope_mlp_new(&cfg, &m, &err), OPE_OK);
  assert_int_equal(ope_norm_new(2, &nm, &err), OPE_OK);
  ope_ckpt ck = {0};
  ck.n_nets = 1;
  strcpy(ck.name[0], "q");
  ck.net[0] = m;
  ck.settings = "{\"gamma\":0.99}";
  ck.obs_norm = nm;
  ck.reward_scale = 1.0;
  uint8_t *blob = NULL;
  size_t len = 0;
  assert_int_equal(ope_ckpt_save(&ck, &blob, &len, &err), OPE_OK);
  long n;
  for (n = 1; n < 1000; n++) {
    long before = n_live;
    ope_ckpt *back = NULL;
    uint8_t *b2 = NULL;
    size_t l2 = 0;
    arm(F_ALLOC, n);
    ope_status st = ope_ckpt_load(blob, len, &back, &err);
    if (st == OPE_OK) st = ope_ckpt_save(back, &b2, &l2, &err);
    int reached = disarm();
    if (st == OPE_OK) {
      assert_int_equal(l2, len);
      assert_memory_equal(b2, blob, len);
    } else {
      assert_true(reached);
      assert_clean_error(st, &err);
    }
    free(b2);
    ope_ckpt_free(back);
    assert_int_equal(n_live, before);
    if (!reached) break;
  }
  assert_true(n > 2 && n < 1000);
  free(blob);
  ope_mlp_free(m);
  ope_norm_free(nm);
}

int main(void) {
  /* SQLite's allocator must be replaced before SQLite initializes. */
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_mem) != SQLITE_OK) return 1;
  sqlite3_mem_methods mine = sqlite_mem;
  mine.xMalloc = sq_malloc;
  mine.xRealloc = sq_realloc;
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK) return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(csv_load_failing_alloc),
    cmocka_unit_test(ingest_failing_alloc),
    cmocka_unit_test(ingest_failing_step),
    cmocka_unit_test(ingest_failing_sqlite_alloc),
    cmocka_unit_test(create_store_failing_step),
    cmocka_unit_test(create_store_failing_sqlite_alloc),
    cmocka_unit_test(put_failing_alloc),
    cmocka_unit_test(put_failing_step),
    cmocka_unit_test(load_failing_alloc),
    cmocka_unit_test(load_failing_step),
    cmocka_unit_test(load_failing_sqlite_alloc),
    cmocka_unit_test(export_short_write),
    cmocka_unit_test(export_failing_alloc),
    cmocka_unit_test(scores_failing_alloc),
    cmocka_unit_test(checkpoint_failing_alloc),
  };
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  return rc || live_overflow;
}

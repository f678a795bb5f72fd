/* `ope train` end to end through the built binary ($OPE): checkpoints land
 * in the store with the documented names and are listed by `ope info`,
 * evaluated by `ope eval` and rolled out by `ope truth`; the same command
 * in two stores gives the same checkpoint hashes; usage errors exit 64;
 * an interrupt keeps the checkpoints already written and exits 130. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static const char *ope;

/* Run a shell command line; return its exit status (-1 when killed). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first line of a command's standard output into buf. */
static void out(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void out(char *buf, size_t n, const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  buf[0] = 0;
  if (fgets(buf, (int)n, p) == NULL) buf[0] = 0;
  pclose(p);
  buf[strcspn(buf, "\n")] = 0;
}

/* The first column of the first row of sql on the store at path, as text
 * into buf ("" when there is none or the store cannot be read yet). */
static void query(const char *path, const char *sql, char *buf, size_t n) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  buf[0] = 0;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static int setup(void **state) {
  (void)state;
  ope = getenv("OPE");
  if (ope == NULL) return -1;
  snprintf(dir, sizeof dir, "/tmp/ope-train-cli-XXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  return sh("'%s' sim --env cartpole --behavior medium-replay --episodes 8 --seed 2 "
            "--dataset cp --db %s/a.db >/dev/null 2>&1", ope, dir) ||
         sh("'%s' sim --env cartpole --behavior medium-replay --episodes 8 --seed 2 "
            "--dataset cp --db %s/b.db >/dev/null 2>&1", ope, dir) ||
         sh("'%s' sim --env pendulum --behavior medium --episodes 3 --seed 2 "
            "--dataset pd --db %s/a.db >/dev/null 2>&1", ope, dir);
}

static int teardown(void **state) {
  (void)state;
  sh("rm -rf '%s'", dir);
  return 0;
}

#define TRAIN "'%s' train --db %s/%s --preset small --set hidden=8 --set batch=8 "

static void test_train_and_use(void **state) {
  (void)state;
  char buf[512];
  assert_int_equal(sh(TRAIN "--dataset cp --algo cql --steps 30 --checkpoint-every 10 "
                      "--seed 3 >/dev/null", ope, dir, "a.db"), 0);
  assert_int_equal(sh(TRAIN "--dataset cp --algo cql --steps 30 --checkpoint-every 10 "
                      "--seed 3 >/dev/null", ope, dir, "b.db"), 0);
  const char *name = "cp.cql-hidden=8-batch=8-small-s3@30";
  assert_int_equal(sh("'%s' info --db %s/a.db | grep -q -F '%s'", ope, dir, name), 0);
  assert_int_equal(sh("'%s' info --db %s/a.db | grep -c -F 'cp.cql-hidden=8-batch=8-small-s3@' "
                      "| grep -q '^3$'", ope, dir), 0);
  /* same command, other store: the same bytes */
  char ha[512], hb[512], pa[128], pb[128];
  snprintf(pa, sizeof pa, "%s/a.db", dir);
  snprintf(pb, sizeof pb, "%s/b.db", dir);
  const char *q = "SELECT group_concat(sha256) FROM (SELECT sha256 FROM policies ORDER BY name)";
  query(pa, q, ha, sizeof ha);
  query(pb, q, hb, sizeof hb);
  assert_true(strlen(ha) == 3 * 64 + 2);
  assert_string_equal(ha, hb);
  /* the checkpoint is a policy for eval and truth */
  assert_int_equal(sh("'%s' eval --db %s/a.db --dataset cp --policy '%s' --estimators wis "
                      ">/dev/null 2>&1", ope, dir, name), 0);
  assert_int_equal(sh("'%s' truth --db %s/a.db --env cartpole --policy '%s' --episodes 20 "
                      ">/dev/null 2>&1", ope, dir, name), 0);
  /* the name is taken; --replace retrains */
  assert_int_equal(sh(TRAIN "--dataset cp --algo cql --steps 30 --checkpoint-every 10 "
                      "--seed 3 >/dev/null 2>&1", ope, dir, "a.db"), 64);
  assert_int_equal(sh(TRAIN "--dataset cp --algo cql --steps 30 --checkpoint-every 10 "
                      "--seed 3 --replace >/dev/null", ope, dir, "a.db"), 0);
  /* a grid: one family per value, JSON output */
  out(buf, sizeof buf, TRAIN "--dataset pd --algo td3bc --steps 4 --grid alpha=1,2.5 --json",
      ope, dir, "a.db");
  assert_non_null(strstr(buf, "pd.td3bc-hidden=8-batch=8-alpha=1-small-s0@4"));
  assert_non_null(strstr(buf, "pd.td3bc-hidden=8-batch=8-alpha=2.5-small-s0@4"));
}

static void test_usage_errors(void **state) {
  (void)state;
  assert_int_equal(sh(TRAIN "--dataset cp --algo td3bc >/dev/null 2>&1", ope, dir, "a.db"), 64);
  assert_int_equal(sh(TRAIN "--dataset cp --algo ppo >/dev/null 2>&1", ope, dir, "a.db"), 64);
  assert_int_equal(sh(TRAIN "--dataset cp --algo iql --set nope=1 >/dev/null 2>&1", ope, dir,
                      "a.db"), 64);
  assert_int_equal(sh(TRAIN "--dataset cp --algo iql --grid expectile=0.7,x >/dev/null 2>&1",
                      ope, dir, "a.db"), 64);
  assert_int_equal(sh(TRAIN "--dataset none --algo iql >/dev/null 2>&1", ope, dir, "a.db"), 66);
  assert_int_equal(sh("'%s' train --list | grep -q expectile", ope), 0);
  assert_int_equal(sh("'%s' train --help | grep -q -- --checkpoint-every", ope), 0);
}

/* SIGINT after the first checkpoint: exit 130, checkpoints kept. */
static void test_interrupt(void **state) {
  (void)state;
  char db[128];
  const char *q = "SELECT count(*) FROM policies WHERE seed = 9";
  snprintf(db, sizeof db, "%s/a.db", dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl(ope, ope, "train", "--db", db, "--dataset", "cp", "--algo", "bc", "--preset",
          "small", "--set", "hidden=8", "--steps", "100000000", "--checkpoint-every", "50",
          "--seed", "9", (char *)NULL);
    _exit(127);
  }
  int rows = 0;
  for (int i = 0; i < 3000 && rows == 0; i++) {
    char buf[64];
    usleep(20000);
    query(db, q, buf, sizeof buf);
    rows = atoi(buf);
  }
  assert_true(rows > 0);
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 130);
  char buf[64];
  query(db, q, buf, sizeof buf);
  assert_true(atoi(buf) >= rows);
  assert_int_equal(sh("'%s' info --db %s | grep -q 'cp.bc-hidden=8-small-s9@50'", ope, db), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_train_and_use),
    cmocka_unit_test(test_usage_errors),
    cmocka_unit_test(test_interrupt),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

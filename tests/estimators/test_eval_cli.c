/* `ope eval` end to end: the hand-computed log of test_is.c ingested, its
 * evaluation policy given as a scores CSV, values read back from --json; then
 * bad scores files, an unknown policy and a refused interval: each must exit
 * with its sysexits status, name the place, and store nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static const char *ope;

static void write_file(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Run `ope ARGS` in dir with the store there; stdout and stderr to files;
 * returns the exit status. */
static int run(const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s --db t.db >out.txt 2>err.txt", dir, ope, args);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (f == NULL) return strdup("");
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return strdup(buf);
}

static long count_rows(const char *table) {
  char path[512], sql[128];
  snprintf(path, sizeof path, "%s/t.db", dir);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  sqlite3 *db;
  sqlite3_stmt *st;
  long n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

/* The value of "estimate" in the result object of estimator name. */
static double json_estimate(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"estimator\": \"%s\"", name);
  const char *p = strstr(json, key);
  if (p == NULL) return NAN;
  p = strstr(p, "\"estimate\": ");
  return p ? strtod(p + 12, NULL) : NAN;
}

#define LOG                                               \
  "episode,step,obs_0,action,reward,terminal,pscore\n"    \
  "a,0,0,0,1,0,0.25\n"                                    \
  "a,1,1,0,2,1,0.6\n"                                     \
  "b,0,0,0,4,1,0.8\n"                                     \
  "c,0,0,0,0,0,0.5\n"                                     \
  "c,1,1,0,1,0,1\n"                                       \
  "c,2,2,0,-2,1,0.6\n"
#define HEAD "episode,step,prob,prob_0,prob_1\n"
#define GOOD_ROWS                                                              \
  "a,0,0.5,0.5,0.5\n"                                                          \
  "a,1,0.9,0.9,0.1\n"                                                          \
  "b,0,0.2,0.2,0.8\n"                                                          \
  "c,0,1,1,0\n"                                                                \
  "c,1,0.5,0.5,0.5\n"

static int setup(void **state) {
  (void)state;
  ope = getenv("OPE");
  if (ope == NULL) return -1;
  snprintf(dir, sizeof dir, "/tmp/ope-test-eval-XXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  write_file("log.csv", LOG);
  write_file("good.csv", HEAD GOOD_ROWS "c,2,0.3,0.3,0.7\n");
  if (run("ingest log.csv --dataset tiny --actions 2") != 0) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Values as computed by hand in test_is.c (g = 0.5). */
static void test_good(void **state) {
  (void)state;
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --gamma 0.5 "
                       "--estimators is,pdis,wis,wpdis --json --seed 3"), 0);
  char *out = slurp("out.txt");
  const char *names[] = {"is", "pdis", "wis", "wpdis"};
  const double want[] = {7.0 / 3.0, 25.0 / 12.0, 28.0 / 15.0, 373.0 / 255.0};
  for (int k = 0; k < 4; k++) {
    double v = json_estimate(out, names[k]);
    if (!(fabs(v - want[k]) <= 1e-12 * want[k])) {
      print_error("%s: got %.17g want %.17g\n", names[k], v, want[k]);
      fail();
    }
  }
  assert_non_null(strstr(out, "\"ci_method\": \"bootstrap\""));
  free(out);
  assert_int_equal(count_rows("evaluations"), 1);
  assert_int_equal(count_rows("estimates"), 4);
  assert_int_equal(count_rows("diagnostics"), 1);
  /* the same seed gives the same bytes, whatever the thread count */
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --gamma 0.5 "
                       "--estimators is,wpdis --seed 3 --threads 1 --json"), 0);
  char *a = slurp("out.txt");
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --gamma 0.5 "
                       "--estimators is,wpdis --seed 3 --threads 2 --json"), 0);
  char *b = slurp("out.txt");
  /* skip the evaluation id line, which differs */
  assert_string_equal(strchr(strchr(a, '\n') + 1, '\n'), strchr(strchr(b, '\n') + 1, '\n'));
  free(a);
  free(b);
}

/* The text table widens its policy column to the longest name: every row's
 * estimator column starts where the header's does. */
static void test_long_name(void **state) {
  (void)state;
  write_file("a-candidate-checkpoint-with-a-long-name-step-120000.csv",
             HEAD GOOD_ROWS "c,2,0.3,0.3,0.7\n");
  assert_int_equal(run("eval --dataset tiny --gamma 0.5 --estimators is,wis --seed 3 "
                       "--policy-csv a-candidate-checkpoint-with-a-long-name-step-120000.csv"),
                   0);
  char *out = slurp("out.txt");
  const char *head = strstr(out, "\npolicy ");
  assert_non_null(head);
  head++;
  size_t col = (size_t)(strstr(head, "estimator") - head);
  int rows = 0;
  for (const char *line = strchr(head, '\n') + 1; *line != '\n' && *line != '\0';
       line = strchr(line, '\n') + 1) {
    assert_true(strncmp(line, "a-candidate-checkpoint", 22) == 0);
    assert_true(line[col - 1] == ' ' && line[col - 2] != ' ');
    assert_true(strncmp(line + col, "is ", 3) == 0 || strncmp(line + col, "wis ", 4) == 0);
    rows++;
  }
  assert_int_equal(rows, 2);
  free(out);
}

typedef struct bad_case {
  const char *file;
  const char *text;
  int status;
  const char *where;  /* expected in stderr */
  const char *what;
} bad_case;

static void test_bad(void **state) {
  (void)state;
  const bad_case cases[] = {
    {"missing.csv", HEAD GOOD_ROWS, 65, "missing.csv", "missing step: episode 'c' step 2"},
    {"dup.csv", HEAD GOOD_ROWS "c,1,0.5,0.5,0.5\nc,2,0.3,0.3,0.7\n", 65, "dup.csv:7",
     "duplicate step: episode 'c' step 1 is already scored at line 6"},
    {"extra.csv", HEAD GOOD_ROWS "c,2,0.3,0.3,0.7\nc,3,0.3,0.3,0.7\n", 65, "extra.csv:8",
     "extra step"},
    {"extra_ep.csv", HEAD GOOD_ROWS "c,2,0.3,0.3,0.7\nz,0,0.3,0.3,0.7\n", 65,
     "extra_ep.csv:8", "episode 'z' is not in dataset"},
    {"big.csv", HEAD "a,0,1.5,0.5,0.5\n", 65, "big.csv:2", "column 'prob': 1.5"},
    {"zero.csv", HEAD "a,0,0,0.5,0.5\n", 65, "zero.csv:2", "prob = 0 but prob_0"},
    {"negprob.csv", HEAD "a,0,-0.5,0.5,0.5\n", 65, "negprob.csv:2", "[0, 1]"},
    {"neg.csv", HEAD "a,0,0.5,-0.5,1.5\n", 65, "neg.csv:2", "column 'prob_0'"},
    {"sum.csv", HEAD "a,0,0.5,0.5,0.6\n", 65, "sum.csv:2", "sum to"},
    {"col.csv", "episode,step,prob,weight\n", 65, "col.csv:1", "column 'weight'"},
    {"nan.csv", HEAD "a,0,nan,0.5,0.5\n", 65, "nan.csv:2", "not a finite number"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    write_file(cases[k].file, cases[k].text);
    char args[256];
    snprintf(args, sizeof args, "eval --dataset tiny --policy-csv %s --gamma 0.5", cases[k].file);
    int rc = run(args);
    char *err = slurp("err.txt");
    if (rc != cases[k].status || !strstr(err, cases[k].where) || !strstr(err, cases[k].what)) {
      print_error("%s: status %d, stderr: %s\n", cases[k].file, rc, err);
      fail();
    }
    free(err);
  }
  /* an unknown policy name */
  assert_int_equal(run("eval --dataset tiny --policy no-such-policy"), 66);
  char *err = slurp("err.txt");
  assert_non_null(strstr(err, "no-such-policy"));
  free(err);
  /* a good file with a bad second policy: nothing is stored */
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --policy-csv sum.csv "
                       "--estimators is,wis"), 65);
  /* an interval that does not apply, asked for by name */
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --estimators wis --ci t"), 64);
  err = slurp("err.txt");
  assert_non_null(strstr(err, "ratio of sums"));
  free(err);
  assert_int_equal(run("eval --dataset tiny --policy-csv good.csv --estimators is "
                       "--ci hoeffding"), 64);
  err = slurp("err.txt");
  assert_non_null(strstr(err, "--reward-range"));
  free(err);
  assert_int_equal(run("eval --dataset nope --policy-csv good.csv"), 66);
  assert_int_equal(count_rows("evaluations"), 0);
  assert_int_equal(count_rows("estimates"), 0);
}

/* The object of estimator name in the --json results, or NULL. */
static const char *json_result(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"estimator\": \"%s\"", name);
  return strstr(json, key);
}

/* A policy that never takes some logged actions scores them 0 (spec: prob is
 * a probability): accepted, with weight exactly 0. By hand (gamma 0.5):
 * w_a = 0; w_b = 0.2/0.8 = 0.25, G_b = 4; w_c = 2 * 0.5 * 0.5 = 0.5,
 * G_c = 0 + 0.5 * 1 + 0.25 * -2 = 0; IS = (0 + 1 + 0) / 3, WIS = 1 / 0.75.
 * When every episode's weight is 0 from step 0, the weighted estimators are
 * undefined: null, with a note that says so (ARCHITECTURE.md), also for
 * WDR, whose note also carries FQE's caveat on a truncated episode. */
static void test_zero_prob(void **state) {
  (void)state;
  const double tol = 1e-12; /* relative */
  write_file("z1.csv", HEAD "a,0,0,0,1\na,1,0.9,0.9,0.1\nb,0,0.2,0.2,0.8\n"
                            "c,0,1,1,0\nc,1,0.5,0.5,0.5\nc,2,0.3,0.3,0.7\n");
  assert_int_equal(run("eval --dataset tiny --policy-csv z1.csv --gamma 0.5 "
                       "--estimators is,wis --ci none --json"), 0);
  char *out = slurp("out.txt");
  double is = json_estimate(out, "is"), wis = json_estimate(out, "wis");
  print_message("zero prob: is %.17g (want 1/3), wis %.17g (want 4/3)\n", is, wis);
  assert_true(fabs(is - 1.0 / 3.0) <= tol / 3.0);
  assert_true(fabs(wis - 4.0 / 3.0) <= tol * 4.0 / 3.0);
  free(out);
  write_file("z0.csv", HEAD "a,0,0,0,1\na,1,0.9,0.9,0.1\nb,0,0,0,1\n"
                            "c,0,0,0,1\nc,1,0.5,0.5,0.5\nc,2,0.3,0.3,0.7\n");
  /* episode c truncated, so that FQE adds its discount^horizon caveat */
  write_file("trunc.csv", "episode,step,obs_0,action,reward,terminal,pscore\n"
                          "a,0,0,0,1,0,0.25\na,1,1,0,2,1,0.6\nb,0,0,0,4,1,0.8\n"
                          "c,0,0,0,0,0,0.5\nc,1,1,0,1,0,1\nc,2,2,0,-2,0,0.6\n");
  assert_int_equal(run("ingest trunc.csv --dataset trunc --actions 2"), 0);
  assert_int_equal(run("eval --dataset trunc --policy-csv z0.csv --gamma 0.5 "
                       "--estimators is,wis,wpdis,wdr --ci none --json --fqe tabular"),
                   0);
  out = slurp("out.txt");
  assert_true(json_estimate(out, "is") == 0.0);
  const char *names[] = {"wis", "wpdis", "wdr"};
  for (size_t k = 0; k < 3; k++) {
    const char *r = json_result(out, names[k]);
    assert_non_null(r);
    const char *end = strchr(r, '}');
    const char *est = strstr(r, "\"estimate\": null");
    const char *why = strstr(r, "undefined: a denominator is 0");
    if (!est || est > end || !why || why > end) {
      print_error("%s: not null with its reason: %.*s\n", names[k], (int)(end - r), r);
      fail();
    }
  }
  free(out);
  char *err = slurp("err.txt");
  const char *wdr = strstr(err, "wdr: ");
  assert_non_null(wdr);
  assert_non_null(strstr(wdr, "discount^horizon"));
  assert_non_null(strstr(wdr, "undefined: a denominator is 0"));
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
    cmocka_unit_test_setup_teardown(test_good, setup, teardown),
    cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
    cmocka_unit_test_setup_teardown(test_zero_prob, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The log-CSV reader against every rule of the spec: good files load with
 * the right numbers; each bad file fails with OPE_EDATA, the right line, and
 * a message naming the column and the reason. */
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

#include "data/csvlog.h"

static char path[256];

static void write_file(const char *text, size_t n) {
  snprintf(path, sizeof path, "/tmp/ope_test_csvlog_%d.csv", (int)getpid());
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, n, f), n);
  fclose(f);
}

static ope_status load(const char *text, int A, ope_dataset **ds, ope_error *err) {
  write_file(text, strlen(text));
  ope_error_clear(err);
  return ope_log_csv_load(path, A, ds, err);
}

#define HDR "episode,step,obs_0,obs_1,action,reward,terminal,pscore\n"

static void test_spec_example(void **state) {
  (void)state;
  ope_dataset *ds = NULL;
  ope_error err;
  assert_int_equal(load(HDR "0,0,0.10,-0.20,2,1.0,0,0.5\n0,1,0.15,-0.10,0,1.0,1,0.25\n"
                            "1,0,0.00,0.30,1,0.0,0,0.25\n", 0, &ds, &err), OPE_OK);
  assert_int_equal(ds->n_episodes, 2);
  assert_int_equal(ds->n_steps, 3);
  assert_int_equal(ds->obs_dim, 2);
  assert_int_equal(ds->n_actions, 3);
  assert_int_equal(ds->action[0], 2);
  assert_true(ds->obs[1] == -0.20);
  assert_true(ds->obs[2] == 0.15);
  assert_true(ds->pscore[1] == 0.25);
  assert_int_equal(ds->terminal[1], 1);
  assert_int_equal(ds->terminal[2], 0);
  assert_int_equal(ds->ep_offset[1], 2);
  assert_string_equal(ds->ep_label[1], "1");
  assert_null(ds->next_obs);
  ope_dataset_free(ds);
}

/* Decimal parsing is exact: the fast path and strtod agree on every value. */
static void test_number_exactness(void **state) {
  (void)state;
  static const char *vals[] = {"0.1", "-0.2", "1e-07", "123456789012345678901234",
                               "4.9406564584124654e-324", "1.7976931348623157e308",
                               "2.2250738585072014e-308", "0.30000000000000004",
                               "-0", "+5", ".5", "5.", "1E+22", "9007199254740993",
                               "0.000000000000000000000000000001234567890123456789"};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, "episode,step,obs_0,action,reward\n0,0,%s,0,%s\n", vals[i], vals[i]);
    ope_dataset *ds = NULL;
    ope_error err;
    assert_int_equal(load(text, 0, &ds, &err), OPE_OK);
    double want = strtod(vals[i], NULL);
    assert_memory_equal(&ds->obs[0], &want, sizeof want);
    assert_memory_equal(&ds->reward[0], &want, sizeof want);
    ope_dataset_free(ds);
  }
}

static void test_accepts_bom_crlf_quotes_continuous(void **state) {
  (void)state;
  ope_dataset *ds = NULL;
  ope_error err;
  /* BOM, CRLF, a quoted episode id with an embedded newline and comma,
   * columns in a free order, continuous actions, next_obs. */
  const char *text =
      "\xEF\xBB\xBF" "reward,action_1,action_0,step,episode,obs_0,next_obs_0\r\n"
      "1.5,0.25,-0.5,0,\"a,\nb\",1,2\r\n"
      "2.5,0.5,0.5,1,\"a,\nb\",2,3\r\n";
  assert_int_equal(load(text, 0, &ds, &err), OPE_OK);
  assert_int_equal(ds->action_kind, OPE_ACTION_CONTINUOUS);
  assert_int_equal(ds->action_dim, 2);
  assert_int_equal(ds->n_steps, 2);
  assert_int_equal(ds->n_episodes, 1);
  assert_string_equal(ds->ep_label[0], "a,\nb");
  assert_true(ds->action_vec[0] == -0.5 && ds->action_vec[1] == 0.25);
  assert_true(ds->next_obs[1] == 3.0);
  assert_true(ds->reward[1] == 2.5);
  ope_dataset_free(ds);
}

typedef struct bad_case {
  const char *name;
  const char *text;
  int actions;
  int line;            /* expected line in err.where, 0 = do not check */
  const char *needle;  /* must appear in the message */
  ope_status status;
} bad_case;

static const bad_case bad[] = {
  {"missing column", "episode,step,obs_0,action\n0,0,1,0\n", 0, 1, "'reward' is missing", OPE_EDATA},
  {"unknown column", "episode,step,obs_0,action,rewad\n0,0,1,0,1\n", 0, 1, "'rewad' is not a log column", OPE_EDATA},
  {"duplicate column", "episode,step,obs_0,obs_0,action,reward\n0,0,1,1,0,1\n", 0, 1, "appears twice", OPE_EDATA},
  {"obs gap", "episode,step,obs_0,obs_2,action,reward\n0,0,1,1,0,1\n", 0, 1, "'obs_1' is missing", OPE_EDATA},
  {"no obs", "episode,step,action,reward\n0,0,0,1\n", 0, 1, "'obs_0' is missing", OPE_EDATA},
  {"both action forms", "episode,step,obs_0,action,action_0,reward\n0,0,1,0,0.5,1\n", 0, 1, "both 'action' and 'action_0'", OPE_EDATA},
  {"next_obs width", "episode,step,obs_0,obs_1,next_obs_0,action,reward\n0,0,1,1,1,0,1\n", 0, 1, "next_obs", OPE_EDATA},
  {"empty field", HDR "0,0,0.1,,1,0,0,0.5\n", 0, 2, "column 'obs_1': the field is empty", OPE_EDATA},
  {"quoted empty field", HDR "0,0,0.1,\"\",1,0,0,0.5\n", 0, 2, "column 'obs_1': the field is empty", OPE_EDATA},
  {"not a number", HDR "0,0,0.1,abc,1,0,0,0.5\n", 0, 2, "column 'obs_1': 'abc' is not a number", OPE_EDATA},
  {"comma decimal", HDR "0,0,0.1,\"0,5\",1,0,0,0.5\n", 0, 2, "'0,5' is not a number", OPE_EDATA},
  {"nan", HDR "0,0,0.1,0.2,1,nan,0,0.5\n", 0, 2, "column 'reward': 'nan' is not allowed", OPE_EDATA},
  {"inf", HDR "0,0,-inf,0.2,1,0,0,0.5\n", 0, 2, "column 'obs_0': '-inf' is not allowed", OPE_EDATA},
  {"overflow", HDR "0,0,1e999,0.2,1,0,0,0.5\n", 0, 2, "out of the range", OPE_EDATA},
  {"step gap", HDR "0,0,0,0,1,0,0,0.5\n0,2,0,0,1,0,0,0.5\n", 0, 3, "from step 0 to 2", OPE_EDATA},
  {"step not from 0", HDR "0,1,0,0,1,0,0,0.5\n", 0, 2, "starts at step 1", OPE_EDATA},
  {"negative step", HDR "0,-1,0,0,1,0,0,0.5\n", 0, 2, "column 'step'", OPE_EDATA},
  {"episode split", HDR "0,0,0,0,1,0,0,0.5\n1,0,0,0,1,0,0,0.5\n0,1,0,0,1,0,0,0.5\n", 0, 4, "episode '0' appears again", OPE_EDATA},
  {"terminal before last", HDR "0,0,0,0,1,0,1,0.5\n0,1,0,0,1,0,0,0.5\n", 0, 3, "continues after terminal = 1 at line 2", OPE_EDATA},
  {"terminal not 0/1", HDR "0,0,0,0,1,0,2,0.5\n", 0, 2, "column 'terminal': '2' is not 0 or 1", OPE_EDATA},
  {"pscore zero", HDR "0,0,0,0,1,0,0,0\n", 0, 2, "column 'pscore': 0 is not a probability or density", OPE_EDATA},
  {"pscore negative", HDR "0,0,0,0,1,0,0,-0.1\n", 0, 2, "column 'pscore': -0.1", OPE_EDATA},
  {"pscore above one", HDR "0,0,0,0,1,0,0,0.5\n0,1,0,0,1,0,0,1.7\n", 0, 3, "column 'pscore': 1.7 is not a probability (discrete actions)", OPE_EDATA},
  {"pscore on some rows", HDR "0,0,0,0,1,0,0,0.5\n0,1,0,0,1,0,0\n", 0, 3, "the row has 7 fields but the header has 8", OPE_EDATA},
  {"wider row", HDR "0,0,0,0,1,0,0,0.5,9\n", 0, 2, "the row has 9 fields", OPE_EDATA},
  {"negative action", HDR "0,0,0,0,-1,0,0,0.5\n", 0, 2, "column 'action': -1 is negative", OPE_EDATA},
  {"fractional action", HDR "0,0,0,0,1.5,0,0,0.5\n", 0, 2, "column 'action': '1.5' is not an integer", OPE_EDATA},
  {"action >= A", HDR "0,0,0,0,3,0,0,0.5\n", 3, 2, "column 'action': 3 is not below A = 3", OPE_EDATA},
  {"empty file", "", 0, 1, "the file is empty", OPE_EDATA},
  {"header only", HDR, 0, 2, "no data rows", OPE_EDATA},
  {"unterminated quote", HDR "\"0,0,0,0,1,0,0,0.5\n", 0, 0, "malformed CSV", OPE_EDATA},
  {"NUL byte", "episode,step,obs_0,action,reward\n0,0,1\0002,0,1\n", 0, 2, "NUL", OPE_EDATA},
};

static void test_bad_inputs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const bad_case *c = &bad[i];
    size_t n = strlen(c->text);
    if (strcmp(c->name, "NUL byte") == 0) n = 45; /* 33 header bytes + 12 row bytes with an embedded NUL */
    write_file(c->text, n);
    ope_dataset *ds = NULL;
    ope_error err;
    ope_error_clear(&err);
    ope_status st = ope_log_csv_load(path, c->actions, &ds, &err);
    if (st != c->status || strstr(err.msg, c->needle) == NULL)
      fail_msg("case '%s': status %d, where '%s', message '%s' (wanted '%s')", c->name,
               st, err.where, err.msg, c->needle);
    assert_null(ds);
    if (c->line) {
      char want[300];
      snprintf(want, sizeof want, "%s:%d", path, c->line);
      if (strcmp(err.where, want) != 0)
        fail_msg("case '%s': where '%s', wanted '%s'", c->name, err.where, want);
    }
  }
}

static void test_missing_file(void **state) {
  (void)state;
  ope_dataset *ds = NULL;
  ope_error err;
  assert_int_equal(ope_log_csv_load("/nonexistent/x.csv", 0, &ds, &err), OPE_ENOINPUT);
  assert_string_equal(err.where, "/nonexistent/x.csv");
}

static int teardown(void **state) {
  (void)state;
  unlink(path);
  return 0;
}

/* Plain lines, split without libcsv, give what libcsv gives: the same log
 * with spaces, tabs, CRLF and blank lines, once plain and once with every
 * field quoted (which only libcsv reads), loads to identical arrays; a
 * header and record split by a lone CR go through libcsv too. */
static void test_plain_lines_match_libcsv(void **state) {
  (void)state;
  const char *plain = "episode, step ,obs_0\t,action,reward,pscore\r\n"
                      "0,0, 0.5 ,1,\t1.25,0.5\r\n"
                      "\n"
                      "  \t\n"
                      "0,1,-3e-2,0,2,0.25\n"
                      "ep b,0,0.30000000000000004,1,-0,0.5\n";
  const char *quoted = "\"episode\",\"step\",\"obs_0\",\"action\",\"reward\",\"pscore\"\r\n"
                       "\"0\",\"0\",\"0.5\",\"1\",\"1.25\",\"0.5\"\r\n"
                       "\"0\",\"1\",\"-3e-2\",\"0\",\"2\",\"0.25\"\n"
                       "\"ep b\",\"0\",\"0.30000000000000004\",\"1\",\"-0\",\"0.5\"\n";
  ope_dataset *a = NULL, *b = NULL;
  ope_error err;
  assert_int_equal(load(plain, 2, &a, &err), OPE_OK);
  assert_int_equal(load(quoted, 2, &b, &err), OPE_OK);
  assert_int_equal(a->n_steps, 3);
  assert_int_equal(b->n_steps, 3);
  assert_int_equal(a->n_episodes, b->n_episodes);
  assert_memory_equal(a->obs, b->obs, 3 * sizeof(double));
  assert_memory_equal(a->action, b->action, 3 * sizeof(int32_t));
  assert_memory_equal(a->reward, b->reward, 3 * sizeof(double));
  assert_memory_equal(a->pscore, b->pscore, 3 * sizeof(double));
  assert_string_equal(a->ep_label[1], "ep b");
  assert_string_equal(b->ep_label[1], "ep b");
  assert_true(a->obs[2] == 0.30000000000000004 && signbit(a->reward[2]));
  ope_dataset_free(a);
  ope_dataset_free(b);
  assert_int_equal(load("episode,step,obs_0,action,reward\r0,0,1,0,1\n0,1,2,1,1\n", 2, &a, &err),
                   OPE_OK);
  assert_int_equal(a->n_steps, 2);
  assert_true(a->obs[0] == 1.0 && a->obs[1] == 2.0);
  ope_dataset_free(a);
  /* an empty field on a plain line is named, as libcsv's NULL field is */
  assert_int_equal(load("episode,step,obs_0,action,reward\n0,0, \t,0,1\n", 2, &a, &err),
                   OPE_EDATA);
  assert_non_null(strstr(err.msg, "column 'obs_0': the field is empty"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_spec_example),
    cmocka_unit_test(test_number_exactness),
    cmocka_unit_test(test_accepts_bom_crlf_quotes_continuous),
    cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_missing_file),
    cmocka_unit_test(test_plain_lines_match_libcsv),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}

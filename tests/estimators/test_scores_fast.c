/* The fast paths of a large evaluation against their exact references:
 *   - the scores reader's own line splitting and decimal conversion give
 *     bit for bit what libcsv and strtod give, on numbers written in many
 *     ways and on lines that need libcsv (quotes, CRLF, spaces);
 *   - a duplicate step names the line of its first score; a distribution
 *     that is checked but not kept;
 *   - the single-precision bootstrap of a dataset of 5000 episodes gives
 *     the same bytes on 1 and 2 threads, and replicates within 1e-5
 *     (relative) of the same replicates computed in double (stated
 *     precision: about 1e-6, ci.c), with exact point estimates;
 *   - a statistic beyond the float range falls back to double. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "core/rng.h"
#include "estimators/ci.h"
#include "policy/scores_csv.h"
#include "tiny_log.h"

static char path[64];

static void write_text(const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  snprintf(path, sizeof path, "/tmp/ope-test-scores-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(path);
  return 0;
}

/* Every number is read as strtod reads it, whichever path converts it. */
static void test_numbers(void **state) {
  (void)state;
  enum { N = 6000 };
  size_t len[1] = {N};
  double *r = calloc(N, sizeof(double));
  ope_dataset *ds = tiny_dataset(1, len, r);
  assert_non_null(ds);
  char *text = malloc((size_t)N * 80 + 64), *p = text;
  char (*num)[64] = malloc(N * sizeof *num);
  p += sprintf(p, "episode,step,prob\n");
  ope_rng rng;
  ope_rng_seed(&rng, 7, 0);
  for (int t = 0; t < N; t++) {
    double u = ope_rng_uniform(&rng);
    /* spread over many magnitudes, kept in (0, 1] */
    double v = t % 3 == 0 ? u : t % 3 == 1 ? pow(10.0, -12.0 * u) : 1.0 - u * 1e-9;
    if (!(v > 0)) v = 0.5;
    switch (t % 8) { /* the ways a writer may print it */
    case 0: snprintf(num[t], sizeof num[t], "%.17g", v); break;
    case 1: snprintf(num[t], sizeof num[t], "%.16g", v); break;
    case 2: snprintf(num[t], sizeof num[t], "%.15g", v); break;
    case 3: snprintf(num[t], sizeof num[t], "%.19f", v); break;
    case 4: snprintf(num[t], sizeof num[t], "%.6e", v); break;
    case 5: snprintf(num[t], sizeof num[t], "%.18e", v); break;
    case 6: snprintf(num[t], sizeof num[t], "%.3g", v); break;
    default: snprintf(num[t], sizeof num[t], "%.25f", v); break;
    }
    if (t % 50 == 0) snprintf(num[t], sizeof num[t], "0.%017d", 1 + t); /* leading zeros */
    if (t % 77 == 0) snprintf(num[t], sizeof num[t], "+%.17g", v);
    if (t % 91 == 0) snprintf(num[t], sizeof num[t], "%.17fE+0", v);
    if (t == 1) snprintf(num[t], sizeof num[t], "1");
    if (t == 2) snprintf(num[t], sizeof num[t], "1.");
    if (t == 3) snprintf(num[t], sizeof num[t], ".5");
    if (t == 4) snprintf(num[t], sizeof num[t], "0.30000000000000000000001");
    if (t == 5) snprintf(num[t], sizeof num[t], "5e-1");
    if (t == 6) snprintf(num[t], sizeof num[t], "0x1p-2"); /* strtod's hex form */
    /* more digits than the exact conversion takes */
    if (t == 7) snprintf(num[t], sizeof num[t], "0.5000000000000000555111512312578270211815834");
    p += sprintf(p, "0,%d,%s\n", t, num[t]);
  }
  write_text(text);
  ope_policy_scores sc;
  ope_error err;
  if (ope_scores_csv_read(path, ds, &sc, &err) != OPE_OK) {
    print_error("%s: %s\n", err.where, err.msg);
    fail();
  }
  for (int t = 0; t < N; t++) {
    double want = strtod(num[t], NULL);
    if (memcmp(&sc.prob[t], &want, sizeof want) != 0) {
      print_error("'%s': got %.17g want %.17g\n", num[t], sc.prob[t], want);
      fail();
    }
  }
  ope_policy_scores_clear(&sc);
  free(text);
  free(num);
  free(r);
  ope_dataset_free(ds);
}

/* Lines that libcsv must read (quotes, CRLF, blank lines, spaces) give the
 * same scores as plain ones; a duplicate names its first line. */
static void test_lines(void **state) {
  (void)state;
  size_t len[2] = {2, 1};
  double r[3] = {0, 0, 0};
  ope_dataset *ds = tiny_dataset(2, len, r);
  assert_non_null(ds);
  ope_policy_scores sc;
  ope_error err;
  write_text("episode, step ,prob,prob_0,prob_1\r\n"
             "\"0\",0,0.25,0.25,0.75\r\n"
             "\n"
             "  \t\n"
             " 0 ,\t1, 0.5 ,0.5,0.5\n"
             "\"1\",\"0\",\"1\",1,0");
  assert_int_equal(ope_scores_csv_read(path, ds, &sc, &err), OPE_OK);
  assert_true(sc.prob[0] == 0.25 && sc.prob[1] == 0.5 && sc.prob[2] == 1.0);
  assert_non_null(sc.dist);
  assert_true(sc.dist[0] == 0.25 && sc.dist[1] == 0.75 && sc.dist[5] == 0.0);
  ope_policy_scores_clear(&sc);
  /* without keeping the distribution: the same probabilities, no dist, and
   * the columns are still checked */
  assert_int_equal(ope_scores_csv_read_ex(path, ds, OPE_SCORES_DROP_DIST, &sc, NULL, &err), OPE_OK);
  assert_true(sc.prob[0] == 0.25 && sc.prob[1] == 0.5 && sc.prob[2] == 1.0);
  assert_null(sc.dist);
  ope_policy_scores_clear(&sc);
  write_text("episode,step,prob,prob_0,prob_1\n0,0,0.25,0.25,0.7\n");
  assert_int_equal(ope_scores_csv_read_ex(path, ds, OPE_SCORES_DROP_DIST, &sc, NULL, &err),
                   OPE_EDATA);
  assert_non_null(strstr(err.msg, "sum to"));
  write_text("episode,step,prob\n0,0,0.5\n\n0,1,0.5\n1,0,1\n0,1,0.5\n");
  assert_int_equal(ope_scores_csv_read(path, ds, &sc, &err), OPE_EDATA);
  assert_non_null(strstr(err.msg, "already scored at line 4"));
  assert_non_null(strstr(err.where, ":6"));
  /* an empty field, even made of spaces, is an error naming its column */
  write_text("episode,step,prob\n0,0,  \n");
  assert_int_equal(ope_scores_csv_read(path, ds, &sc, &err), OPE_EDATA);
  assert_non_null(strstr(err.msg, "column 'prob' is empty"));
  /* a record on the header's physical line (after a lone CR) keeps its
   * distribution like any other (found by fuzz_scores_csv) */
  write_text("episode,step,prob,prob_0,prob_1\r0,0,0.25,0.25,0.75\n0,1,0.5,0.5,0.5\n1,0,1,1,0\n");
  assert_int_equal(ope_scores_csv_read(path, ds, &sc, &err), OPE_OK);
  assert_non_null(sc.dist);
  assert_true(sc.dist[0] == 0.25 && sc.dist[1] == 0.75);
  assert_true(sc.dist[2] == 0.5 && sc.dist[4] == 1.0 && sc.dist[5] == 0.0);
  ope_policy_scores_clear(&sc);
  ope_dataset_free(ds);
}

/* n episodes of H steps with ratios around 1 (ESS well above 1%), as the
 * benchmark's but smaller. */
static ope_dataset *make(size_t n, size_t H, double **pe, double **pb) {
  size_t *len = malloc(n * sizeof(size_t));
  double *r = malloc(n * H * sizeof(double));
  *pe = malloc(n * H * sizeof(double));
  *pb = malloc(n * H * sizeof(double));
  ope_rng rng;
  ope_rng_seed(&rng, 3, 0);
  for (size_t i = 0; i < n; i++) len[i] = H - (i % 7 == 0 ? 2 : 0); /* some end early */
  for (size_t k = 0; k < n * H; k++) {
    r[k] = ope_rng_uniform(&rng) - 0.3;
    (*pb)[k] = 0.4 + 0.2 * ope_rng_uniform(&rng);
    (*pe)[k] = 0.4 + 0.2 * ope_rng_uniform(&rng);
  }
  ope_dataset *ds = tiny_dataset(n, len, r);
  free(len);
  free(r);
  return ds;
}

static void test_boot_f32(void **state) {
  (void)state;
  enum { N = 5000, H = 6, B = 300 };
  double *pe, *pb;
  ope_dataset *ds = make(N, H, &pe, &pb);
  assert_non_null(ds);
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, pe, pb, 0, &w, NULL), OPE_OK);
  ope_est_input in = {.ds = ds, .w = &w, .gamma = 0.9};
  const ope_estimator *list[] = {&ope_est_is, &ope_est_pdis, &ope_est_wis, &ope_est_wpdis};
  ope_est_stats s[4];
  ope_estimate o1[4], o2[4];
  for (int k = 0; k < 4; k++)
    assert_int_equal(ope_est_run(list[k], &in, &s[k], &o1[k], NULL), OPE_OK);
  assert_non_null(s[3].xf); /* WPDIS is kept in single precision */
  assert_null(s[3].x);
  memcpy(o2, o1, sizeof o1);
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  cfg.n_boot = B;
  cfg.seed = 11;
  double *rep1 = malloc(B * 4 * sizeof(double)), *rep2 = malloc(B * 4 * sizeof(double));
  cfg.threads = 1;
  assert_int_equal(ope_ci_compute(&cfg, list, s, &in, 4, o1, rep1, NULL), OPE_OK);
  cfg.threads = 2;
  assert_int_equal(ope_ci_compute(&cfg, list, s, &in, 4, o2, rep2, NULL), OPE_OK);
  assert_memory_equal(rep1, rep2, B * 4 * sizeof(double));
  for (int k = 0; k < 4; k++) {
    assert_memory_equal(&o1[k].ci_low, &o2[k].ci_low, sizeof(double));
    assert_memory_equal(&o1[k].ci_high, &o2[k].ci_high, sizeof(double));
  }
  /* each replicate against its sums computed in double: IS, PDIS and WIS
   * keep double stats; WPDIS's are rebuilt here from the weights */
  double *c = malloc(N * sizeof(double)), sum[2 * H], worst = 0.0;
  double *wt = malloc(N * H * sizeof(double)), *rt = malloc(N * H * sizeof(double));
  for (size_t i = 0; i < N; i++)
    for (size_t t = 0; t < H; t++) {
      wt[i * H + t] = exp(ope_weights_log_w_at(&w, i, (long)t) - s[3].lscale[t]);
      rt[i * H + t] = t < ope_dataset_ep_len(ds, i) ? ds->reward[ds->ep_offset[i] + t] : 0.0;
    }
  for (int b = 0; b < B; b++) {
    ope_ci_boot_counts(11, (uint64_t)b, N, c);
    for (int k = 0; k < 4; k++) {
      double want;
      if (k < 3) {
        ope_est_stats_sum(&s[k], c, sum);
      } else {
        for (int j = 0; j < 2 * H; j++) sum[j] = 0.0;
        for (size_t i = 0; i < N; i++)
          for (size_t t = 0; t < H; t++) {
            sum[t] += c[i] * wt[i * H + t] * rt[i * H + t];
            sum[H + t] += c[i] * wt[i * H + t];
          }
      }
      assert_int_equal(list[k]->value(&s[k], sum, (double)N, &want), OPE_EST_DEFINED);
      double rel = fabs(rep1[b * 4 + k] - want) / fabs(want);
      if (rel > worst) worst = rel;
    }
  }
  print_message("largest relative difference of a replicate: %.3g\n", worst);
  assert_true(worst < 1e-5);
  /* the point estimate is exact: the double sums, whatever the storage */
  double exact[2 * H];
  for (int j = 0; j < 2 * H; j++) exact[j] = s[3].sum[j];
  double v;
  assert_int_equal(list[3]->value(&s[3], exact, (double)N, &v), OPE_EST_DEFINED);
  assert_memory_equal(&v, &o1[3].value, sizeof v);
  free(c);
  free(wt);
  free(rt);
  free(rep1);
  free(rep2);
  for (int k = 0; k < 4; k++) ope_est_stats_clear(&s[k]);
  ope_weights_clear(&w);
  /* rewards beyond the float range: WPDIS stays double, intervals exist */
  for (size_t k = 0; k < ds->n_steps; k++) ds->reward[k] *= 1e35;
  assert_int_equal(ope_weights_compute(ds, pe, pb, 0, &w, NULL), OPE_OK);
  assert_int_equal(ope_est_run(&ope_est_wpdis, &in, &s[0], &o1[0], NULL), OPE_OK);
  assert_non_null(s[0].x);
  assert_null(s[0].xf);
  cfg.n_boot = 50;
  assert_int_equal(ope_ci_compute(&cfg, list + 3, s, &in, 1, o1, NULL, NULL), OPE_OK);
  assert_true(o1[0].has_ci && isfinite(o1[0].ci_low));
  ope_est_stats_clear(&s[0]);
  ope_weights_clear(&w);
  free(pe);
  free(pb);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
    cmocka_unit_test(test_boot_f32),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

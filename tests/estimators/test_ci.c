/* Intervals on the hand-computed log of test_is.c: Student t, Hoeffding and
 * empirical Bernstein to 1e-12, refusals with their reasons, and the
 * bootstrap checked replicate by replicate against a direct computation,
 * identical for any thread count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"
#include "estimators/ci.h"
#include "tiny_log.h"

#define REL 1e-12

static void assert_rel(double got, double want, double rel) {
  double d = fabs(got - want), tol = rel * fmax(fabs(want), 1e-300);
  if (!(d <= tol)) {
    print_error("got %.17g want %.17g (difference %.3g)\n", got, want, d);
    fail();
  }
}

/* The log of test_is.c (g = 0.5): per-episode terms
 *   IS:   w G = 6, 1, 0        mean 7/3
 *   PDIS: 5, 1, 0.25           mean 25/12, deviations 35/12, -13/12, -22/12,
 *         sum of squares 1878/144, unbiased variance V = 1878/288. */
static const size_t LEN[] = {2, 1, 3};
static const double R[] = {1, 2, 4, 0, 1, -2};
static const double PE[] = {0.5, 0.9, 0.2, 1.0, 0.5, 0.3};
static const double PB[] = {0.25, 0.6, 0.8, 0.5, 1.0, 0.6};

typedef struct fixture {
  ope_dataset *ds;
  ope_weights w;
  ope_est_input in;
} fixture;

static int setup_clip(void **state, double clip, int range) {
  fixture *f = calloc(1, sizeof *f);
  f->ds = tiny_dataset(3, LEN, R);
  if (f->ds == NULL || ope_weights_compute(f->ds, PE, PB, clip, &f->w, NULL) != OPE_OK)
    return -1;
  f->in = (ope_est_input){.ds = f->ds, .w = &f->w, .gamma = 0.5,
                          .has_reward_range = range, .reward_lo = -2, .reward_hi = 4};
  *state = f;
  return 0;
}
static int setup(void **state) { return setup_clip(state, 0, 0); }
/* clip 2 changes no ratio here (the largest is 2) */
static int setup_bounded(void **state) { return setup_clip(state, 2, 1); }

static int teardown(void **state) {
  fixture *f = *state;
  ope_weights_clear(&f->w);
  ope_dataset_free(f->ds);
  free(f);
  return 0;
}

static ope_estimate interval(fixture *f, const ope_estimator *e, ope_ci_method m) {
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  cfg.method = m;
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(e, &f->in, &s, &out, NULL), OPE_OK);
  const ope_estimator *list[] = {e};
  assert_int_equal(ope_ci_compute(&cfg, list, &s, &f->in, 1, &out, NULL, NULL), OPE_OK);
  ope_est_stats_clear(&s);
  return out;
}

/* t_{0.975, 2}: for 2 degrees of freedom F(t) = 1/2 + t / (2 sqrt(2 + t^2)),
 * so t^2 = 2 * 0.95^2 / (1 - 0.95^2) = 1.805 / 0.0975. */
static void test_t(void **state) {
  fixture *f = *state;
  ope_estimate o = interval(f, &ope_est_pdis, OPE_CI_T);
  assert_true(o.has_ci);
  double half = sqrt(1.805 / 0.0975) * sqrt(1878.0 / 288.0) / sqrt(3.0);
  assert_rel(o.ci_low, 25.0 / 12.0 - half, REL);
  assert_rel(o.ci_high, 25.0 / 12.0 + half, REL);
  assert_string_equal(o.ci_method, "t");
  assert_rel(ope_ci_t_quantile(0.975, 2), sqrt(1.805 / 0.0975), REL);
}

/* Hoeffding and empirical Bernstein need more than 3 episodes to be
 * narrower than the bound itself: the log repeated 200 times (n = 600) has
 * the same means, and the unbiased variance of the PDIS terms is
 * V = 200 * (1878/144) / 599. With clip 2 and rewards in [-2, 4] (H = 3,
 * g = 0.5):
 *   IS term in [-28, 56] (w <= max(2, 2^3) = 8, G in [-3.5, 7]);
 *   Hoeffding half width 84 sqrt(ln(2/0.05) / (2*600));
 *   PDIS term in (2 + 0.5*4 + 0.25*8) [-2, 4] = [-12, 24], b - a = 36;
 *   Bernstein half width sqrt(2 V ln(80) / 600) + 7*36 ln(80) / (3*599).
 * On the 3-episode log both intervals are wider than the bound and are cut
 * to it. */
static fixture *replicated(int copies) {
  size_t n = 3 * (size_t)copies, T = 6 * (size_t)copies;
  size_t *len = malloc(n * sizeof(size_t));
  double *r = malloc(T * sizeof(double)), *pe = malloc(T * sizeof(double)),
         *pb = malloc(T * sizeof(double));
  for (int c = 0; c < copies; c++) {
    memcpy(len + 3 * c, LEN, sizeof LEN);
    memcpy(r + 6 * c, R, sizeof R);
    memcpy(pe + 6 * c, PE, sizeof PE);
    memcpy(pb + 6 * c, PB, sizeof PB);
  }
  fixture *f = calloc(1, sizeof *f);
  f->ds = tiny_dataset(n, len, r);
  assert_int_equal(ope_weights_compute(f->ds, pe, pb, 2, &f->w, NULL), OPE_OK);
  f->in = (ope_est_input){.ds = f->ds, .w = &f->w, .gamma = 0.5,
                          .has_reward_range = 1, .reward_lo = -2, .reward_hi = 4};
  free(len);
  free(r);
  free(pe);
  free(pb);
  return f;
}

static void test_hoeffding(void **state) {
  fixture *f = *state;
  ope_estimate o = interval(f, &ope_est_is, OPE_CI_HOEFFDING);
  assert_true(o.has_ci);
  assert_rel(o.ci_low, -28, REL);
  assert_rel(o.ci_high, 56, REL);
  void *big = replicated(200);
  o = interval(big, &ope_est_is, OPE_CI_HOEFFDING);
  double half = 84.0 * sqrt(log(40.0) / 1200.0);
  assert_rel(o.ci_low, 7.0 / 3.0 - half, REL);
  assert_rel(o.ci_high, 7.0 / 3.0 + half, REL);
  teardown(&big);
}

static void test_bernstein(void **state) {
  fixture *f = *state;
  ope_estimate o = interval(f, &ope_est_pdis, OPE_CI_BERNSTEIN);
  assert_true(o.has_ci);
  assert_rel(o.ci_low, -12, REL);
  assert_rel(o.ci_high, 24, REL);
  void *big = replicated(200);
  o = interval(big, &ope_est_pdis, OPE_CI_BERNSTEIN);
  double V = 200.0 * (1878.0 / 144.0) / 599.0;
  double half = sqrt(2.0 * V * log(80.0) / 600.0) + 7.0 * 36.0 * log(80.0) / (3.0 * 599.0);
  assert_rel(o.ci_low, 25.0 / 12.0 - half, REL);
  assert_rel(o.ci_high, 25.0 / 12.0 + half, REL);
  teardown(&big);
}

static void test_refusals(void **state) {
  fixture *f = *state;
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  char why[256];
  cfg.method = OPE_CI_T;
  assert_int_equal(ope_ci_check(&cfg, &ope_est_wis, &f->in, why, sizeof why), 1);
  assert_non_null(strstr(why, "ratio of sums"));
  cfg.method = OPE_CI_HOEFFDING;
  assert_int_equal(ope_ci_check(&cfg, &ope_est_is, &f->in, why, sizeof why), 1);
  assert_non_null(strstr(why, "--reward-range"));
  f->in.has_reward_range = 1;
  assert_int_equal(ope_ci_check(&cfg, &ope_est_is, &f->in, why, sizeof why), 1);
  assert_non_null(strstr(why, "--clip"));
  ope_estimate o = interval(f, &ope_est_wpdis, OPE_CI_BERNSTEIN);
  assert_false(o.has_ci);
  assert_non_null(strstr(o.note, "ratio of sums"));
}

static void test_quantile(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4};
  assert_rel(ope_ci_quantile(x, 4, 0.25), 1.75, REL);
  assert_rel(ope_ci_quantile(x, 4, 0.5), 2.5, REL);
  assert_rel(ope_ci_quantile(x, 4, 1.0), 4.0, REL);
  assert_rel(ope_ci_quantile(x, 4, 0.0), 1.0, REL);
  assert_true(isnan(ope_ci_quantile(x, 0, 0.5)));
}

/* WPDIS with multiplicities c, written out directly: at each step the
 * weights of active and ended (carried) episodes. */
static double wpdis_direct(const double *c) {
  /* w per episode and step, carried; r 0 after the end */
  const double w[3][3] = {{2, 3, 3}, {0.25, 0.25, 0.25}, {2, 1, 0.5}};
  const double r[3][3] = {{1, 2, 0}, {4, 0, 0}, {0, 1, -2}};
  double v = 0.0, g = 1.0;
  for (int t = 0; t < 3; t++) {
    double num = 0.0, den = 0.0;
    for (int i = 0; i < 3; i++) {
      num += c[i] * w[i][t] * r[i][t];
      den += c[i] * w[i][t];
    }
    if (den == 0) return NAN;
    v += g * num / den;
    g *= 0.5;
  }
  return v;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_bootstrap(void **state) {
  fixture *f = *state;
  enum { B = 300 };
  const ope_estimator *list[] = {&ope_est_wpdis, &ope_est_is};
  ope_est_stats s[2];
  ope_estimate o1[2], o3[2];
  for (int k = 0; k < 2; k++)
    assert_int_equal(ope_est_run(list[k], &f->in, &s[k], &o1[k], NULL), OPE_OK);
  memcpy(o3, o1, sizeof o1);
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  cfg.n_boot = B;
  cfg.seed = 42;
  double *rep1 = malloc(B * 2 * sizeof(double)), *rep3 = malloc(B * 2 * sizeof(double));
  cfg.threads = 1;
  assert_int_equal(ope_ci_compute(&cfg, list, s, &f->in, 2, o1, rep1, NULL), OPE_OK);
  cfg.threads = 3;
  assert_int_equal(ope_ci_compute(&cfg, list, s, &f->in, 2, o3, rep3, NULL), OPE_OK);
  assert_memory_equal(rep1, rep3, B * 2 * sizeof(double));
  assert_memory_equal(&o1[0].ci_low, &o3[0].ci_low, sizeof(double));
  /* every replicate against the direct formula */
  double c[3], sorted[B];
  size_t m = 0;
  for (int b = 0; b < B; b++) {
    ope_ci_boot_counts(42, (uint64_t)b, 3, c);
    assert_rel(c[0] + c[1] + c[2], 3.0, 0);
    double want = wpdis_direct(c);
    if (isnan(want)) {
      assert_true(isnan(rep1[b * 2]));
    } else {
      assert_rel(rep1[b * 2], want, REL);
      sorted[m++] = want;
    }
    double is_want = (c[0] * 6 + c[1] * 1 + c[2] * 0) / 3.0;
    assert_rel(rep1[b * 2 + 1], is_want, REL);
  }
  qsort(sorted, m, sizeof(double), cmp);
  assert_true(o1[0].has_ci);
  assert_rel(o1[0].ci_low, ope_ci_quantile(sorted, m, 0.025), REL);
  assert_rel(o1[0].ci_high, ope_ci_quantile(sorted, m, 0.975), REL);
  free(rep1);
  free(rep3);
  for (int k = 0; k < 2; k++) ope_est_stats_clear(&s[k]);
}

/* The inlined counting draws exactly what ope_rng_below draws. */
static void test_counts_stream(void **state) {
  (void)state;
  enum { N = 1000 };
  double c[N], want[N] = {0};
  ope_rng rng;
  ope_rng_seed(&rng, 9, 17);
  for (int k = 0; k < N; k++) want[ope_rng_below(&rng, N)] += 1.0;
  ope_ci_boot_counts(9, 17, N, c);
  assert_memory_equal(c, want, sizeof c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_t, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hoeffding, setup_bounded, teardown),
    cmocka_unit_test_setup_teardown(test_bernstein, setup_bounded, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    cmocka_unit_test(test_quantile),
    cmocka_unit_test(test_counts_stream),
    cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Selection metrics (reports/metrics.h) against values computed by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports/metrics.h"

#define REL 1e-12

static void assert_rel(double got, double want) {
  if (!(fabs(got - want) <= REL * fmax(fabs(want), 1.0))) {
    print_error("got %.17g want %.17g\n", got, want);
    fail();
  }
}

/* truth 1 2 3 4 5; estimates 2 1 4 3 5 (two adjacent swaps):
 *   Spearman: d = 1,1,1,1,0 -> 1 - 6*4/(5*24) = 0.8
 *   Kendall: 10 pairs, 2 discordant -> (8 - 2)/10 = 0.6
 *   regret@1: top estimate is candidate 4 (truth 5) -> 0
 *   regret@k with estimates reversed: top 1 is truth 1 -> (5-1)/(5-1) = 1;
 *   top 2 holds truths 1, 2 -> (5-2)/4 = 0.75 */
static void correlations_and_regret(void **state) {
  (void)state;
  double t[] = {1, 2, 3, 4, 5}, e[] = {2, 1, 4, 3, 5}, rev[] = {5, 4, 3, 2, 1};
  assert_rel(ope_metric_spearman(e, t, 5), 0.8);
  assert_rel(ope_metric_kendall(e, t, 5), 0.6);
  assert_rel(ope_metric_spearman(rev, t, 5), -1.0);
  assert_rel(ope_metric_kendall(rev, t, 5), -1.0);
  assert_rel(ope_metric_regret_at(e, t, 5, 1), 0.0);
  assert_rel(ope_metric_regret_at(rev, t, 5, 1), 1.0);
  assert_rel(ope_metric_regret_at(rev, t, 5, 2), 0.75);
  assert_rel(ope_metric_regret_at(rev, t, 5, 5), 0.0);
  /* a NaN estimate leaves its candidate out: truths 1..4 remain, and the
   * top estimate (4) belongs to truth 3 */
  double en[] = {2, 1, 4, 3, NAN};
  assert_rel(ope_metric_regret_at(en, t, 5, 1), 1.0 / 3.0); /* picks truth 3 of 1..4 */
  assert_rel(ope_metric_kendall(en, t, 5), (4.0 - 2.0) / 6.0);
  /* fewer than two usable: NaN */
  assert_true(isnan(ope_metric_spearman(t, t, 1)));
}

/* Ties: estimates 1 1 2 against truth 1 2 3.
 *   average ranks 1.5 1.5 3 vs 1 2 3: Spearman = Pearson of those
 *     = (sum (r-2)(s-2)) / sqrt(sum (r-2)^2 sum (s-2)^2)
 *     = (0.5 + 0 + 1... computed: (-0.5)(-1) + (-0.5)(0) + (1)(1) = 1.5;
 *       sum (r-2)^2 = 0.25 + 0.25 + 1 = 1.5; sum (s-2)^2 = 2 -> 1.5/sqrt(3)
 *   Kendall tau-b: pairs (0,1) tied in est; (0,2), (1,2) concordant:
 *     (2 - 0) / sqrt((3 - 1)(3 - 0)) = 2/sqrt(6) */
static void ties(void **state) {
  (void)state;
  double e[] = {1, 1, 2}, t[] = {1, 2, 3};
  assert_rel(ope_metric_spearman(e, t, 3), 1.5 / sqrt(3.0));
  assert_rel(ope_metric_kendall(e, t, 3), 2.0 / sqrt(6.0));
  /* equal estimates: the top 1 is the first listed */
  double flat[] = {0, 0, 0};
  assert_rel(ope_metric_regret_at(flat, t, 3, 1), 1.0);
  assert_rel(ope_metric_regret_at(e, flat, 3, 1), 0.0);
}

static void error_and_coverage(void **state) {
  (void)state;
  double t[] = {1, 2, 3}, e[] = {1.5, 2, 2};
  assert_rel(ope_metric_abs_error(e, t, 3), 0.5);
  double lo[] = {0, 2.1, NAN}, hi[] = {2, 3, NAN};
  assert_rel(ope_metric_coverage(lo, hi, t, 3), 0.5);
  double x[] = {1, 2, 3, NAN}, m, l, h;
  size_t n;
  ope_metric_mean_ci(x, 4, 0.05, &m, &l, &h, &n);
  assert_int_equal(n, 3);
  assert_rel(m, 2.0);
  /* t_{0.975, 2} = 4.302652729911275; sd 1; half = 4.3026527 / sqrt(3) */
  assert_true(fabs(h - (2.0 + 4.302652729911275 / sqrt(3.0))) < 1e-9);
  assert_rel(l, 4.0 - h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(correlations_and_regret),
    cmocka_unit_test(ties),
    cmocka_unit_test(error_and_coverage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

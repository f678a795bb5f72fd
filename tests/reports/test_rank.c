/* Ranking with uncertainty (reports/rank.h) on hand-made replicates whose
 * rank intervals, P(best), pairwise wins and top set are counted by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports/rank.h"

#define REL 1e-15

static void assert_rel(double got, double want) {
  if (!(fabs(got - want) <= REL * fmax(fabs(want), 1.0))) {
    print_error("got %.17g want %.17g\n", got, want);
    fail();
  }
}

/* Replicates (B = 4, three candidates):
 *   b0: 3 2 1     ranks 1 2 3   best 0
 *   b1: 3 1 2     ranks 1 3 2   best 0
 *   b2: 2 3 1     ranks 2 1 3   best 1
 *   b3: 3 2 NaN   ranks 1 2 3   best 0 (NaN ranks last)
 * Ranks sorted: c0 {1,1,1,2}, c1 {1,2,2,3}, c2 {2,3,3,3}. With alpha 0.5 the
 * type 1 quantiles at 0.25 and 0.75 are the 1st and 3rd order statistics.
 * P(0 beats 1) = 3/4; P(0 beats 2) = 3/3 (b3 left out); P(1 beats 2) = 2/3. */
static const double REP[] = {3, 2, 1, 3, 1, 2, 2, 3, 1, 3, 2, NAN};
static const double VAL[] = {3, 2, 1};
static const double LO[] = {2.5, 1.5, 0.5};
static const double HI[] = {3.5, 2.5, 1.5};

static void hand_counts(void **state) {
  (void)state;
  int unrel[3] = {0, 0, 0};
  ope_rank_input in = {3, VAL, LO, HI, unrel, 4, REP, 0, 0.5};
  ope_rank_result r;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  for (size_t k = 0; k < 3; k++) assert_int_equal(r.row[k].policy, k);
  assert_int_equal(r.row[0].rank_lo, 1);
  assert_int_equal(r.row[0].rank_hi, 1);
  assert_int_equal(r.row[1].rank_lo, 1);
  assert_int_equal(r.row[1].rank_hi, 2);
  assert_int_equal(r.row[2].rank_lo, 2);
  assert_int_equal(r.row[2].rank_hi, 3);
  assert_rel(r.row[0].p_best, 0.75);
  assert_rel(r.row[1].p_best, 0.25);
  assert_rel(r.row[2].p_best, 0.0);
  assert_rel(r.beats[0 * 3 + 1], 0.75);
  assert_rel(r.beats[1 * 3 + 0], 0.25);
  assert_rel(r.beats[0 * 3 + 2], 1.0);
  assert_rel(r.beats[1 * 3 + 2], 2.0 / 3.0);
  assert_true(isnan(r.beats[0]));
  /* alpha 0.5: beaten with P >= 0.75 is distinguishable */
  assert_int_equal(r.row[0].top_set, 1);
  assert_int_equal(r.row[1].top_set, 0);
  assert_int_equal(r.row[2].top_set, 0);
  ope_rank_result_clear(&r);
  /* alpha 0.05: 0.75 < 0.975, so candidate 1 joins the top set */
  in.alpha = 0.05;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  assert_int_equal(r.row[1].top_set, 1);
  assert_int_equal(r.row[2].top_set, 0);
  assert_int_equal(r.row[0].rank_lo, 1);
  assert_int_equal(r.row[0].rank_hi, 2);
  ope_rank_result_clear(&r);
}

/* An unreliable candidate is never first, whatever its value; undefined
 * ones come last; ties keep the input order. */
static void gating_and_ties(void **state) {
  (void)state;
  double val[] = {1, 5, 3, NAN, 3};
  double lo[] = {0, 4, 2, NAN, 1};
  double hi[] = {2, 6, 4, NAN, 5};
  int unrel[] = {0, 1, 0, 0, 0};
  ope_rank_input in = {5, val, lo, hi, unrel, 0, NULL, 0, 0.05};
  ope_rank_result r;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  size_t want[] = {2, 4, 0, 1, 3};
  for (size_t k = 0; k < 5; k++) assert_int_equal(r.row[k].policy, want[k]);
  assert_true(r.row[3].gated);
  assert_false(r.row[4].defined);
  assert_true(isnan(r.row[0].p_best));
  /* without replicates the top set is interval overlap with the first's
   * lower end (2): candidate 4 [1, 5] overlaps, candidate 0 [0, 2] touches */
  assert_int_equal(r.row[0].top_set, 1);
  assert_int_equal(r.row[1].top_set, 1);
  assert_int_equal(r.row[2].top_set, 1);
  assert_int_equal(r.row[3].top_set, 0); /* gated: never in the top set */
  assert_int_equal(r.row[4].top_set, 0);
  ope_rank_result_clear(&r);
  /* by the lower end: 2 (lo 2) before 4 (lo 1) before 0 (lo 0) */
  in.by_lower = 1;
  val[2] = 0.5;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  assert_int_equal(r.row[0].policy, 2);
  assert_rel(r.row[0].score, 2.0);
  assert_int_equal(r.row[1].policy, 4);
  ope_rank_result_clear(&r);
}

/* With replicates, gating holds in every replicate: the gated candidate
 * always ranks after the reliable ones and cannot be best.
 *   b0: 1 5 0.5    reliable {0, 2}: ranks 1, 2; gated 1: rank 3
 *   b1: 0.4 6 0.6  reliable ranks 2, 1; gated 3 */
static void gating_with_replicates(void **state) {
  (void)state;
  double rep[] = {1, 5, 0.5, 0.4, 6, 0.6};
  double val[] = {1, 5, 0.5}, lo[] = {0.5, 4, 0}, hi[] = {1.5, 6, 1};
  int unrel[] = {0, 1, 0};
  ope_rank_input in = {3, val, lo, hi, unrel, 2, rep, 0, 0.5};
  ope_rank_result r;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  assert_int_equal(r.row[0].policy, 0);
  assert_int_equal(r.row[1].policy, 2);
  assert_int_equal(r.row[2].policy, 1);
  assert_int_equal(r.row[0].rank_lo, 1);
  assert_int_equal(r.row[0].rank_hi, 2);
  assert_int_equal(r.row[2].rank_lo, 3);
  assert_int_equal(r.row[2].rank_hi, 3);
  assert_rel(r.row[0].p_best, 0.5);
  assert_rel(r.row[1].p_best, 0.5);
  assert_true(isnan(r.row[2].p_best));
  assert_int_equal(r.row[1].top_set, 1);
  assert_int_equal(r.row[2].top_set, 0);
  /* the raw pairwise comparison still shows the gated one ahead */
  assert_rel(r.beats[1 * 3 + 0], 1.0);
  ope_rank_result_clear(&r);
}

/* Identical candidates: every pairwise probability is one half, P(best)
 * splits evenly, and nobody is distinguishable from the top. */
static void identical(void **state) {
  (void)state;
  double rep[3 * 2] = {1, 1, 2, 2, 0.5, 0.5};
  double val[] = {1, 1}, lo[] = {0, 0}, hi[] = {2, 2};
  ope_rank_input in = {2, val, lo, hi, NULL, 3, rep, 0, 0.05};
  ope_rank_result r;
  assert_int_equal(ope_rank_compute(&in, &r, NULL), OPE_OK);
  assert_rel(r.beats[1], 0.5);
  assert_rel(r.beats[2], 0.5);
  assert_rel(r.row[0].p_best, 0.5);
  assert_rel(r.row[1].p_best, 0.5);
  assert_int_equal(r.row[1].top_set, 1);
  ope_rank_result_clear(&r);
  in.alpha = 1.5;
  ope_error err;
  assert_int_equal(ope_rank_compute(&in, &r, &err), OPE_EUSAGE);
  ope_rank_result_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(hand_counts),
    cmocka_unit_test(gating_and_ties),
    cmocka_unit_test(gating_with_replicates),
    cmocka_unit_test(identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

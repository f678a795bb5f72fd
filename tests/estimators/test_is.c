/* IS, PDIS, WIS, WPDIS against values computed by hand, shard merging, and
 * long-horizon weights that leave the double range on the way. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "estimators/estimators.h"
#include "tiny_log.h"

#define REL 1e-12

static void assert_rel(double got, double want, double rel) {
  double d = fabs(got - want), tol = rel * fmax(fabs(want), 1e-300);
  if (!(d <= tol)) {
    print_error("got %.17g want %.17g (difference %.3g, tolerance %.3g)\n",
                got, want, d, tol);
    fail();
  }
}

/* The three-episode log, g = 0.5:
 *   ep 0: rho = 0.5/0.25 = 2, 0.9/0.6 = 1.5  -> w = 2, 3;        r = 1, 2
 *   ep 1: rho = 0.2/0.8 = 0.25               -> w = 0.25;        r = 4
 *   ep 2: rho = 1/0.5 = 2, 0.5/1 = 0.5, 0.3/0.6 = 0.5
 *                                            -> w = 2, 1, 0.5;   r = 0, 1, -2
 * Returns: G0 = 1 + 0.5*2 = 2, G1 = 4, G2 = 0 + 0.5*1 + 0.25*(-2) = 0.
 *   IS    = (3*2 + 0.25*4 + 0.5*0) / 3                       = 7/3
 *   WIS   = 7 / (3 + 0.25 + 0.5)                             = 28/15
 *   PDIS  = ((2*1 + 0.5*3*2) + 0.25*4 + (0 + 0.5*1*1 + 0.25*0.5*(-2))) / 3
 *         = (5 + 1 + 0.25) / 3                               = 25/12
 *   WPDIS: t=0 num 2+1+0 = 3,   den 4.25  -> 12/17
 *          t=1 num 6+0+1 = 7,   den 3+0.25(carried)+1 = 4.25 -> 28/17
 *          t=2 num 0+0-1 = -1,  den 3+0.25+0.5 = 3.75 (both carried) -> -4/15
 *          12/17 + 0.5*28/17 - 0.25*4/15                     = 373/255 */
static const size_t LEN[] = {2, 1, 3};
static const double R[] = {1, 2, 4, 0, 1, -2};
static const double PE[] = {0.5, 0.9, 0.2, 1.0, 0.5, 0.3};
static const double PB[] = {0.25, 0.6, 0.8, 0.5, 1.0, 0.6};

typedef struct fixture {
  ope_dataset *ds;
  ope_weights w;
  ope_est_input in;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->ds = tiny_dataset(3, LEN, R);
  if (f->ds == NULL || ope_weights_compute(f->ds, PE, PB, 0, &f->w, NULL) != OPE_OK)
    return -1;
  f->in = (ope_est_input){.ds = f->ds, .w = &f->w, .gamma = 0.5};
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  ope_weights_clear(&f->w);
  ope_dataset_free(f->ds);
  free(f);
  return 0;
}

static double run(const fixture *f, const char *name) {
  const ope_estimator *e = ope_estimator_find(name);
  assert_non_null(e);
  ope_est_stats s;
  ope_estimate out;
  ope_error err;
  assert_int_equal(ope_est_run(e, &f->in, &s, &out, &err), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_DEFINED);
  assert_int_equal(out.n_episodes, 3);
  ope_est_stats_clear(&s);
  return out.value;
}

static void test_weights(void **state) {
  fixture *f = *state;
  const double want[] = {2, 3, 0.25, 2, 1, 0.5};
  for (int r = 0; r < 6; r++) assert_rel(exp(f->w.log_w[r]), want[r], REL);
  assert_int_equal(f->w.horizon, 3);
  double lse[3];
  ope_weights_step_lse(&f->w, NULL, lse);
  assert_rel(exp(lse[0]), 4.25, REL);
  assert_rel(exp(lse[1]), 4.25, REL);
  assert_rel(exp(lse[2]), 3.75, REL);
  assert_rel(ope_weights_norm_at(&f->w, 1, 2, lse), 0.25 / 3.75, REL);
}

static void test_values(void **state) {
  fixture *f = *state;
  assert_rel(run(f, "is"), 7.0 / 3.0, REL);
  assert_rel(run(f, "wis"), 28.0 / 15.0, REL);
  assert_rel(run(f, "pdis"), 25.0 / 12.0, REL);
  assert_rel(run(f, "wpdis"), 373.0 / 255.0, REL);
}

/* Clipping at 1.25: ep 0 rho = 1.25, 1.25 -> w = 1.25, 1.5625; ep 2 rho =
 * 1.25, 0.5, 0.5. IS = (1.5625*2 + 1 + 0) / 3 = 4.125/3; 3 rows capped. */
static void test_clip(void **state) {
  fixture *f = *state;
  ope_weights w;
  assert_int_equal(ope_weights_compute(f->ds, PE, PB, 1.25, &w, NULL), OPE_OK);
  assert_int_equal(w.n_clipped, 3);
  ope_est_input in = f->in;
  in.w = &w;
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(&ope_est_is, &in, &s, &out, NULL), OPE_OK);
  assert_rel(out.value, 4.125 / 3.0, REL);
  ope_est_stats_clear(&s);
  ope_weights_clear(&w);
}

/* Counts (2, 0, 1) reweight episodes: WIS = (2*6 + 0) / (2*3 + 0.5) = 24/13. */
static void test_counts(void **state) {
  fixture *f = *state;
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(&ope_est_wis, &f->in, &s, &out, NULL), OPE_OK);
  double c[3] = {2, 0, 1}, sum[2], v;
  ope_est_stats_sum(&s, c, sum);
  assert_int_equal(ope_est_wis.value(&s, sum, 3, &v), OPE_EST_DEFINED);
  assert_rel(v, 24.0 / 13.0, REL);
  ope_est_stats_clear(&s);
}

/* Shards {0, 1} and {2} merged give the whole dataset's sums. */
static void test_merge(void **state) {
  fixture *f = *state;
  size_t a_ep[] = {0, 1}, b_ep[] = {2};
  ope_dataset *a = ope_dataset_subset(f->ds, a_ep, 2, NULL);
  ope_dataset *b = ope_dataset_subset(f->ds, b_ep, 1, NULL);
  const double pea[] = {0.5, 0.9, 0.2}, pba[] = {0.25, 0.6, 0.8};
  const double peb[] = {1.0, 0.5, 0.3}, pbb[] = {0.5, 1.0, 0.6};
  ope_weights wa, wb;
  assert_int_equal(ope_weights_compute(a, pea, pba, 0, &wa, NULL), OPE_OK);
  assert_int_equal(ope_weights_compute(b, peb, pbb, 0, &wb, NULL), OPE_OK);
  const ope_estimator *list[] = {&ope_est_is, &ope_est_wis, &ope_est_pdis};
  const double want[] = {7.0 / 3.0, 28.0 / 15.0, 25.0 / 12.0};
  for (int k = 0; k < 3; k++) {
    ope_est_input ia = {.ds = a, .w = &wa, .gamma = 0.5};
    ope_est_input ib = {.ds = b, .w = &wb, .gamma = 0.5};
    ope_est_stats sa, sb;
    assert_int_equal(list[k]->stats(&ia, &sa, NULL), OPE_OK);
    assert_int_equal(list[k]->stats(&ib, &sb, NULL), OPE_OK);
    double suma[2], sumb[2], sum[2], ls[2], v;
    ope_est_stats_sum(&sa, NULL, suma);
    ope_est_stats_sum(&sb, NULL, sumb);
    ope_est_merge(sa.k, suma, sa.lscale, sumb, sb.lscale, sum, ls);
    ope_est_stats m = sa;
    m.lscale = ls;
    assert_int_equal(list[k]->value(&m, sum, 3, &v), OPE_EST_DEFINED);
    assert_rel(v, want[k], REL);
    ope_est_stats_clear(&sa);
    ope_est_stats_clear(&sb);
  }
  ope_weights_clear(&wa);
  ope_weights_clear(&wb);
  ope_dataset_free(a);
  ope_dataset_free(b);
}

/* Every weight 0: WIS and WPDIS are undefined (null), IS is 0. */
static void test_all_zero(void **state) {
  fixture *f = *state;
  const double pe0[] = {0, 0.9, 0, 0, 0.5, 0.3};
  ope_weights w;
  assert_int_equal(ope_weights_compute(f->ds, pe0, PB, 0, &w, NULL), OPE_OK);
  ope_est_input in = f->in;
  in.w = &w;
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(&ope_est_wis, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_UNDEFINED);
  assert_true(isnan(out.value));
  ope_est_stats_clear(&s);
  assert_int_equal(ope_est_run(&ope_est_wpdis, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_UNDEFINED);
  ope_est_stats_clear(&s);
  assert_int_equal(ope_est_run(&ope_est_is, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_DEFINED);
  assert_true(out.value == 0.0);
  ope_est_stats_clear(&s);
  ope_weights_clear(&w);
}

/* A bad behavior probability names the row. */
static void test_bad_pb(void **state) {
  fixture *f = *state;
  const double pb[] = {0.25, 0.6, 0.8, 0.5, 0.0, 0.6};
  ope_weights w;
  ope_error err;
  assert_int_equal(ope_weights_compute(f->ds, PE, pb, 0, &w, &err), OPE_EDATA);
  assert_non_null(strstr(err.where, "row 4 (episode 2, step 1)"));
}

/* Horizon 1000, g = 1, rewards 1 on episode A and 0 on B.
 * Ratios 10 (pe 1, pb 0.1): w_A = 1e1000, w_B = 1e999 (its last step has
 * ratio 1). IS = (1e1000 * 1000) / 2 is beyond the double range: overflow.
 * WIS = (10 * 1000 + 1 * 0) / 11 exactly = 10000/11.
 * WPDIS: at steps t < 999 the two weights are equal, so each term is 1/2;
 * at t = 999, 10/11: 999/2 + 10/11.
 * Ratios 1e-6 (pe 1e-6, pb 1): PDIS = mean of sum_t 1e-6^(t+1) r_t
 *   = (1/2) 1e-6 (1 - 1e-6000)/(1 - 1e-6) ~ 0.5e-6 / (1 - 1e-6); finite. */
static void test_long_horizon(void **state) {
  (void)state;
  size_t len[2] = {1000, 1000};
  double *r = calloc(2000, sizeof(double)), *pe = malloc(2000 * sizeof(double)),
         *pb = malloc(2000 * sizeof(double));
  for (int k = 0; k < 1000; k++) r[k] = 1.0;
  ope_dataset *ds = tiny_dataset(2, len, r);
  for (int k = 0; k < 2000; k++) {
    pe[k] = 1.0;
    pb[k] = 0.1;
  }
  pb[1999] = 1.0;
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, pe, pb, 0, &w, NULL), OPE_OK);
  assert_rel(w.log_w[999], 1000 * log(10.0), 1e-12);
  ope_est_input in = {.ds = ds, .w = &w, .gamma = 1.0};
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(&ope_est_is, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_OVERFLOW);
  ope_est_stats_clear(&s);
  assert_int_equal(ope_est_run(&ope_est_wis, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_DEFINED);
  assert_rel(out.value, 10000.0 / 11.0, 1e-12);
  ope_est_stats_clear(&s);
  assert_int_equal(ope_est_run(&ope_est_wpdis, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_DEFINED);
  assert_rel(out.value, 999.0 / 2.0 + 10.0 / 11.0, 1e-12);
  ope_est_stats_clear(&s);
  ope_weights_clear(&w);

  for (int k = 0; k < 2000; k++) {
    pe[k] = 1e-6;
    pb[k] = 1.0;
  }
  assert_int_equal(ope_weights_compute(ds, pe, pb, 0, &w, NULL), OPE_OK);
  assert_true(isfinite(w.log_w[1999]));
  in.w = &w;
  assert_int_equal(ope_est_run(&ope_est_pdis, &in, &s, &out, NULL), OPE_OK);
  assert_int_equal(out.flag, OPE_EST_DEFINED);
  assert_rel(out.value, 0.5e-6 / (1.0 - 1e-6), 1e-12);
  ope_est_stats_clear(&s);
  /* WIS: equal weights 1e-6000 on both: (1000 + 0) / 2 */
  assert_int_equal(ope_est_run(&ope_est_wis, &in, &s, &out, NULL), OPE_OK);
  assert_rel(out.value, 500.0, 1e-12);
  ope_est_stats_clear(&s);
  ope_weights_clear(&w);
  ope_dataset_free(ds);
  free(r);
  free(pe);
  free(pb);
}

/* Kernel IS for a deterministic continuous policy mu(s) = s with
 * bandwidth h = 0.5: two one-step episodes, obs 0 and 1, logged actions 0.3
 * and 1.0, behavior densities 0.4 and 0.8, rewards 1 and 2.
 *   K_h(x) = exp(-x^2 / (2 h^2)) / (h sqrt(2 pi)); IS = (K(0.3)/0.4 * 1 +
 *   K(0)/0.8 * 2) / 2 = K(0)/2 * (exp(-0.18)/0.4 + 2.5). */
static ope_status det_sample(const ope_policy *p, void *ctx, const double *obs,
                             ope_rng *rng, double *action, ope_error *err) {
  action[0] = obs[0];
  return OPE_OK;
}

static void test_kernel(void **state) {
  (void)state;
  static const ope_policy_ops ops = {.sample = det_sample};
  ope_dataset *ds = ope_dataset_alloc(2, 2, 1, OPE_ACTION_CONTINUOUS, 0, 1, 0, 1, NULL);
  ds->ep_offset[1] = 1;
  ds->ep_offset[2] = 2;
  ds->obs[0] = 0;
  ds->obs[1] = 1;
  ds->action_vec[0] = 0.3;
  ds->action_vec[1] = 1.0;
  ds->pscore[0] = 0.4;
  ds->pscore[1] = 0.8;
  ds->reward[0] = 1;
  ds->reward[1] = 2;
  ope_policy *p = ope_policy_new(&ops, "det", OPE_ACTION_CONTINUOUS, 1, 0, 1, NULL, NULL);
  p->deterministic = 1;
  ope_policy_scores sc;
  assert_int_equal(ope_policy_score_dataset(p, ds, 0.5, &sc, NULL), OPE_OK);
  assert_rel(sc.bandwidth, 0.5, 0);
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, sc.prob, ds->pscore, 0, &w, NULL), OPE_OK);
  ope_est_input in = {.ds = ds, .w = &w, .pe = &sc, .gamma = 1.0};
  ope_est_stats s;
  ope_estimate out;
  assert_int_equal(ope_est_run(&ope_est_is, &in, &s, &out, NULL), OPE_OK);
  double k0 = 1.0 / (0.5 * sqrt(2.0 * M_PI));
  assert_rel(out.value, k0 / 2.0 * (exp(-0.18) / 0.4 + 2.5), 1e-12);
  ope_est_stats_clear(&s);
  ope_weights_clear(&w);
  ope_policy_scores_clear(&sc);
  ope_policy_free(p);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
    cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_all_zero, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_pb, setup, teardown),
    cmocka_unit_test(test_long_horizon),
    cmocka_unit_test(test_kernel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

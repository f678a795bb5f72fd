/* DM, FQE, DR, WDR and MAGIC on a hand-computed log of three episodes
 * (lengths 2, 1, 3; g = 0.9) with Q and V given, to 1e-12 relative; WDR
 * and DR at horizon 1,000 with weights up to 1e1000; cross-fitting against
 * fits on the halves; the refit interval is deterministic. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "estimators/dr.h"
#include "estimators/estimators.h"
#include "estimators/weights.h"
#include "fqe/fqe.h"

static void assert_rel(double got, double want, double tol) {
  double scale = fmax(1e-300, fabs(want));
  if (!(fabs(got - want) <= tol * scale)) {
    print_error("got %.17g want %.17g (rel tol %g)\n", got, want, tol);
    fail();
  }
}

/* Episode A: rho = 0.5/0.25, 0.3/0.6 -> w = 2, 1;      r 1, 2;  Q .5, 1.5; V .8, 1.2
 * Episode B: rho = 0.2/0.5 -> w = 0.4;                 r 3;     Q 2;       V 1
 * Episode C: rho = 0.9/0.3, 0.1/0.5, 0.6/0.4 -> w = 3, 0.6, 0.9;
 *                                          r 0, 1, -1;  Q .2, .7, -.4; V .3, .6, -.2 */
static const double pe[] = {0.5, 0.3, 0.2, 0.9, 0.1, 0.6};
static const double pb[] = {0.25, 0.6, 0.5, 0.3, 0.5, 0.4};
static const double rw[] = {1, 2, 3, 0, 1, -1};
static double qv[] = {0.5, 1.5, 2, 0.2, 0.7, -0.4};
static double vv[] = {0.8, 1.2, 1, 0.3, 0.6, -0.2};

typedef struct fixture {
  ope_dataset *ds;
  ope_weights w;
  ope_qfit q;
  ope_est_input in;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  ope_error err = {0};
  f->ds = ope_dataset_alloc(3, 6, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 1, &err);
  if (f->ds == NULL) return -1;
  size_t off[] = {0, 2, 3, 6};
  memcpy(f->ds->ep_offset, off, sizeof off);
  for (int t = 0; t < 6; t++) {
    f->ds->reward[t] = rw[t];
    f->ds->pscore[t] = pb[t];
  }
  f->ds->terminal[5] = 1;
  if (ope_weights_compute(f->ds, pe, pb, 0.0, &f->w, &err) != OPE_OK) return -1;
  f->q = (ope_qfit){.n_steps = 6, .q = qv, .v = vv, .defined = 1};
  f->in = (ope_est_input){.ds = f->ds, .w = &f->w, .q = &f->q, .gamma = 0.9};
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

static double run(const ope_estimator *est, const ope_est_input *in,
                  ope_est_flag *flag) {
  ope_est_stats s;
  ope_estimate e;
  ope_error err = {0};
  assert_int_equal(ope_est_run(est, in, &s, &e, &err), OPE_OK);
  ope_est_stats_clear(&s);
  if (flag) *flag = e.flag;
  else assert_int_equal(e.flag, OPE_EST_DEFINED);
  return e.value;
}

static void dm_fqe(void **state) {
  fixture *f = *state;
  assert_rel(run(&ope_est_dm, &f->in, NULL), (0.8 + 1 + 0.3) / 3, 1e-12);
  assert_rel(run(&ope_est_fqe, &f->in, NULL), (0.8 + 1 + 0.3) / 3, 1e-12);
}

static void dr(void **state) {
  fixture *f = *state;
  double A = 1 * (2 * (1 - 0.5) + 1 * 0.8) + 0.9 * (1 * (2 - 1.5) + 2 * 1.2);
  double B = 0.4 * (3 - 2) + 1 * 1;
  double C = (3 * (0 - 0.2) + 1 * 0.3) + 0.9 * (0.6 * (1 - 0.7) + 3 * 0.6) +
             0.81 * (0.9 * (-1 + 0.4) + 0.6 * (-0.2));
  assert_rel(run(&ope_est_dr, &f->in, NULL), (A + B + C) / 3, 1e-12);
}

static double wdr_by_hand(void) {
  /* Denominators with episode B's weight carried forward. */
  double D0 = 2 + 0.4 + 3, D1 = 1 + 0.4 + 0.6, D2 = 1 + 0.4 + 0.9;
  double N0 = 2 * 0.5 + 0.4 * 1 + 3 * -0.2, M0 = 0.8 + 1 + 0.3;
  double N1 = 1 * 0.5 + 0.6 * 0.3, M1 = 2 * 1.2 + 3 * 0.6;
  double N2 = 0.9 * -0.6, M2 = 0.6 * -0.2;
  return N0 / D0 + M0 / 3 + 0.9 * (N1 / D1 + M1 / D0) + 0.81 * (N2 / D2 + M2 / D1);
}

static void wdr(void **state) {
  fixture *f = *state;
  assert_rel(run(&ope_est_wdr, &f->in, NULL), wdr_by_hand(), 1e-12);
}

/* MAGIC: g^(-1) is DM, g^(H-1) is WDR, the blend is on the simplex and
 * the estimate is that blend of the g^(j). */
static void magic(void **state) {
  fixture *f = *state;
  long J[16];
  double g[16], x[16], l, u;
  ope_error err = {0};
  size_t nj = ope_magic_blend(&f->in, J, g, x, &l, &u, &err);
  assert_int_equal(nj, 4); /* -1, 0, 1, 2 */
  assert_int_equal(J[0], -1);
  assert_int_equal(J[nj - 1], 2);
  assert_rel(g[0], 0.7, 1e-12);
  assert_rel(g[nj - 1], wdr_by_hand(), 1e-12);
  double D0 = 5.4, N0 = 0.8, M0 = 2.1, M1 = 4.2;
  assert_rel(g[1], N0 / D0 + M0 / 3 + 0.9 * M1 / D0, 1e-12);
  double sx = 0.0, blend = 0.0;
  for (size_t k = 0; k < nj; k++) {
    assert_true(x[k] >= 0.0);
    sx += x[k];
    blend += x[k] * g[k];
  }
  assert_rel(sx, 1.0, 1e-12);
  assert_true(l <= u);
  assert_rel(run(&ope_est_magic, &f->in, NULL), blend, 1e-12);
}

/* Q without a fixed point: DM, FQE, DR, WDR and MAGIC are all undefined
 * (null with FQE's warning), never a number. */
static void undefined_q(void **state) {
  fixture *f = *state;
  ope_qfit q = f->q;
  q.defined = 0;
  ope_est_input in = f->in;
  in.q = &q;
  const ope_estimator *list[] = {&ope_est_dm, &ope_est_fqe, &ope_est_dr, &ope_est_wdr,
                                 &ope_est_magic};
  for (size_t k = 0; k < 5; k++) {
    ope_est_stats s;
    ope_estimate e;
    ope_error err = {0};
    assert_int_equal(list[k]->stats(&in, &s, &err), OPE_OK);
    ope_est_point(list[k], &s, &e);
    assert_int_equal(e.flag, OPE_EST_UNDEFINED);
    ope_est_stats_clear(&s);
  }
}

/* Kind names and the AUTO choice. */
static void kinds(void **state) {
  fixture *f = *state;
  assert_int_equal(ope_fqe_kind_parse("tabular"), OPE_FQE_TABULAR);
  assert_int_equal(ope_fqe_kind_parse("neural"), OPE_FQE_NEURAL);
  assert_int_equal(ope_fqe_kind_parse("tab"), -1);
  assert_string_equal(ope_fqe_kind_name(OPE_FQE_LINEAR), "linear");
  assert_int_equal(ope_fqe_auto_kind(f->ds), OPE_FQE_TABULAR); /* integer obs */
  f->ds->obs[0] = 0.5;
  assert_int_equal(ope_fqe_auto_kind(f->ds), OPE_FQE_NEURAL);
  f->ds->obs[0] = 0.0;
}

/* Horizon 1,000, two episodes with ratios 10 and 0.1 at every step, r = 1,
 * Q = V = 0: WDR = sum_t g^t exactly (normalized weights sum to 1); DR's
 * value is beyond the double range and flagged, never NaN or inf. */
static void long_horizon(void **state) {
  (void)state;
  const size_t H = 1000, N = 2 * H;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(2, N, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 1, &err);
  assert_non_null(ds);
  double *p_e = malloc(N * sizeof *p_e), *p_b = malloc(N * sizeof *p_b);
  double *zero = calloc(N, sizeof *zero);
  for (size_t t = 0; t < N; t++) {
    ds->reward[t] = 1.0;
    p_b[t] = ds->pscore[t] = t < H ? 0.05 : 0.5;
    p_e[t] = t < H ? 0.5 : 0.05;
  }
  ds->ep_offset[1] = H;
  ds->ep_offset[2] = N;
  ope_weights w;
  assert_int_equal(ope_weights_compute(ds, p_e, p_b, 0.0, &w, &err), OPE_OK);
  ope_qfit q = {.n_steps = N, .q = zero, .v = zero, .defined = 1};
  ope_est_input in = {.ds = ds, .w = &w, .q = &q, .gamma = 0.99};
  assert_rel(run(&ope_est_wdr, &in, NULL), (1 - pow(0.99, 1000)) / (1 - 0.99), 1e-12);
  ope_est_flag flag;
  double v = run(&ope_est_dr, &in, &flag);
  assert_int_equal(flag, OPE_EST_OVERFLOW);
  (void)v;
  ope_weights_clear(&w);
  ope_dataset_free(ds);
  free(p_e);
  free(p_b);
  free(zero);
}

/* A small tabular log: cross-fitted Q on the even episodes equals a fit on
 * the odd ones, and vice versa; the refit interval is reproducible and
 * brackets the point value here. */
static void crossfit_and_refit(void **state) {
  (void)state;
  const size_t n = 6, len = 4, N = n * len;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(n, N, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 0, &err);
  assert_non_null(ds);
  double *dist = malloc(N * 2 * sizeof *dist);
  for (size_t r = 0; r < N; r++) {
    ds->obs[r] = (double)((r * 7) % 3);
    ds->action[r] = (int)((r * 5) % 2);
    ds->reward[r] = (double)((r * 3) % 4) - 1.0;
    dist[2 * r] = ds->obs[r] == 1 ? 0.25 : 0.75;
    dist[2 * r + 1] = 1.0 - dist[2 * r];
  }
  for (size_t e = 0; e <= n; e++) ds->ep_offset[e] = e * len;
  ope_policy_scores sc = {.n_steps = N, .n_actions = 2, .dist = dist};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = 0.8;
  ope_qfit cq;
  assert_int_equal(ope_dr_fit_q(ds, NULL, &sc, &cfg, 1, &cq, &err), OPE_OK);
  assert_true(cq.defined);
  size_t odd[] = {1, 3, 5};
  ope_dataset *dodd = ope_dataset_subset(ds, odd, 3, &err);
  double *dodd_dist = malloc(3 * len * 2 * sizeof *dodd_dist);
  for (size_t k = 0; k < 3; k++)
    memcpy(dodd_dist + k * len * 2, dist + odd[k] * len * 2, len * 2 * sizeof(double));
  ope_policy_scores sodd = {.n_steps = 3 * len, .n_actions = 2, .dist = dodd_dist};
  ope_fqe_model *m = NULL;
  assert_int_equal(ope_fqe_fit(dodd, NULL, &sodd, &cfg, &m, &err), OPE_OK);
  ope_qfit full;
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &full, &err), OPE_OK);
  for (size_t e = 0; e < n; e += 2)
    for (size_t r = e * len; r < (e + 1) * len; r++) {
      assert_rel(cq.q[r], full.q[r], 1e-12);
      assert_rel(cq.v[r], full.v[r], 1e-12);
    }
  double lo1, hi1, lo2, hi2;
  int nd1, nd2;
  assert_int_equal(ope_dr_fqe_refit_interval(ds, NULL, &sc, &cfg, 50, 9, 1, 0.1,
                                             &lo1, &hi1, &nd1, &err), OPE_OK);
  /* the same interval with the refits spread over three threads */
  assert_int_equal(ope_dr_fqe_refit_interval(ds, NULL, &sc, &cfg, 50, 9, 3, 0.1,
                                             &lo2, &hi2, &nd2, &err), OPE_OK);
  assert_int_equal(nd1, 50);
  assert_int_equal(nd2, 50);
  assert_true(lo1 == lo2 && hi1 == hi2 && lo1 <= hi1);
  /* ope_eval's hook: DM and FQE get the refit interval (B = 50 here, the
   * bootstrap's B being the smallest cap), other estimates are untouched. */
  ope_ci_config ci;
  ope_ci_config_default(&ci);
  ci.n_boot = 50;
  ci.seed = 9;
  ci.alpha = 0.1;
  ope_estimate est[3] = {{.est = &ope_est_dm}, {.est = &ope_est_fqe}, {.est = &ope_est_dr}};
  assert_int_equal(ope_dr_refit_intervals(ds, NULL, &sc, &cfg, 0.8, &ci, est, 3, &err), OPE_OK);
  for (int k = 0; k < 2; k++) {
    assert_true(est[k].has_ci);
    assert_true(est[k].ci_low == lo1 && est[k].ci_high == hi1);
    assert_non_null(strstr(est[k].note, "refits tabular FQE"));
  }
  assert_false(est[2].has_ci);
  ope_qfit_clear(&full);
  ope_qfit_clear(&cq);
  ope_fqe_model_free(m);
  ope_dataset_free(dodd);
  ope_dataset_free(ds);
  free(dodd_dist);
  free(dist);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dm_fqe),
    cmocka_unit_test(dr),
    cmocka_unit_test(wdr),
    cmocka_unit_test(magic),
    cmocka_unit_test(undefined_q),
    cmocka_unit_test(kinds),
  };
  const struct CMUnitTest solo[] = {
    cmocka_unit_test(long_horizon),
    cmocka_unit_test(crossfit_and_refit),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  return rc + cmocka_run_group_tests(solo, NULL, NULL);
}

/* The Decision Transformer network's backward against central finite
 * differences in double precision, with and without dropout (the masks are
 * redrawn from the same seed at every evaluation, so they are fixed), its
 * causality, and the float passes against the double ones. The layer-norm
 * kernels it uses (nn/layers.h, summed in lanes) are checked on their own
 * against finite differences and against the plain formula, on a width
 * that is not a multiple of the lane count.
 *
 * L = sum(R * y) with fixed random R; every parameter is perturbed by
 * h = 1e-6 and the figure is max |analytic - numeric| / (|analytic| +
 * |numeric| + 1e-4) (the floor absorbs round-off of ~1e-10 on
 * gradients that are exactly zero, such as the key biases, which softmax
 * ignores); it must stay below 1e-5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/layers.h"
#include "train/dt_model.h"

#define NB 2
#define NK 3

static ope_dt_layout L;
static double *P, *G, *R;
static double RTG[NB * NK], OBS[NB * NK * 3], ACT[NB * NK * 2];
static int32_t TS[NB * NK];
static ope_dt_ws_d *WS;
static double DROP;

static double loss(void) {
  ope_rng rng;
  ope_rng_seed(&rng, 99, 0);
  const double *y = ope_dt_forward_d(&L, P, WS, RTG, OBS, ACT, TS, NB, NK,
                                     DROP, DROP > 0 ? &rng : NULL);
  double s = 0;
  for (int i = 0; i < NB * NK * L.a.out; i++) s += R[i] * y[i];
  return s;
}

static int setup(void **state) {
  (void)state;
  ope_dt_arch a = {3, 2, 2, 2, 2, 8, NK, 5};
  assert_null(ope_dt_arch_check(&a));
  ope_dt_layout_make(&L, &a);
  P = malloc(L.n_params * sizeof(double));
  G = malloc(L.n_params * sizeof(double));
  R = malloc((size_t)NB * NK * a.out * sizeof(double));
  ope_rng rng;
  ope_rng_seed(&rng, 1, 0);
  // random parameters of order 0.3, gains around 1, so no term vanishes
  for (size_t i = 0; i < L.n_params; i++) P[i] = 0.3 * ope_rng_normal(&rng);
  for (int i = 0; i < NB * NK * a.out; i++) R[i] = ope_rng_normal(&rng);
  for (int i = 0; i < NB * NK; i++) {
    RTG[i] = ope_rng_normal(&rng);
    TS[i] = (int32_t)ope_rng_below(&rng, 5);
  }
  for (int i = 0; i < NB * NK * 3; i++) OBS[i] = ope_rng_normal(&rng);
  for (int i = 0; i < NB * NK * 2; i++) ACT[i] = ope_rng_normal(&rng);
  assert_int_equal(ope_dt_ws_new_d(&L, NB, &WS, NULL), OPE_OK);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ope_dt_ws_free_d(WS);
  free(P), free(G), free(R);
  return 0;
}

static double fd_check(double dropout) {
  DROP = dropout;
  memset(G, 0, L.n_params * sizeof(double));
  loss();
  ope_dt_backward_d(&L, P, G, WS, R);
  const double h = 1e-6;
  double worst = 0, gmax = 0;
  size_t zero = 0, wi = 0;
  double wa = 0, wn = 0;
  for (size_t i = 0; i < L.n_params; i++) {
    double p0 = P[i];
    P[i] = p0 + h;
    double lp = loss();
    P[i] = p0 - h;
    double lm = loss();
    P[i] = p0;
    double num = (lp - lm) / (2 * h);
    double d = fabs(G[i] - num) / (fabs(G[i]) + fabs(num) + 1e-4);
    if (d > worst) {
      worst = d;
      wi = i, wa = G[i], wn = num;
    }
    gmax = fmax(gmax, fabs(G[i]));
    zero += G[i] == 0;
  }
  printf("  dropout %.2f: %zu parameters, max rel diff %.3g (parameter %zu:"
         " %.9g vs %.9g), max |grad| %.3g, %zu exact zeros\n", dropout,
         L.n_params, worst, wi, wa, wn, gmax, zero);
  assert_true(gmax > 1e-3);
  return worst;
}

static void test_finite_differences(void **state) {
  (void)state;
  assert_true(fd_check(0.0) < 1e-5);
}

static void test_finite_differences_dropout(void **state) {
  (void)state;
  DROP = 0;
  double plain = loss();
  DROP = 0.3;
  double dropped = loss();
  assert_true(fabs(plain - dropped) > 1e-6);  // the masks do act
  assert_true(fd_check(0.3) < 1e-5);
}

/* The prediction at step k does not depend on anything after its state
 * token: not on a_k, nor on steps k+1... */
static void test_causal(void **state) {
  (void)state;
  int out = L.a.out;
  size_t ny = (size_t)NB * NK * out;
  double *y0 = malloc(ny * sizeof(double));
  memcpy(y0, ope_dt_forward_d(&L, P, WS, RTG, OBS, ACT, TS, NB, NK, 0, NULL),
         ny * sizeof(double));
  double a_saved = ACT[2], o_saved = OBS[3 * 2];
  ACT[2] += 1.0;        // a_1 of window 0 (step index 1)
  OBS[3 * 2] += 1.0;    // s_2 of window 0
  const double *y = ope_dt_forward_d(&L, P, WS, RTG, OBS, ACT, TS, NB, NK, 0, NULL);
  for (int j = 0; j < out; j++) {
    assert_true(y[0 * out + j] == y0[0 * out + j]);   // step 0 unchanged
    assert_true(y[1 * out + j] == y0[1 * out + j]);   // step 1 sees s_1, not a_1
  }
  assert_true(fabs(y[2 * out] - y0[2 * out]) > 1e-9); // step 2 sees both
  ACT[2] = a_saved, OBS[3 * 2] = o_saved;
  // a shorter window equals the prefix of the longer one
  double rtg2[2], obs2[6], act2[4];
  int32_t ts2[2];
  memcpy(rtg2, RTG, sizeof rtg2), memcpy(obs2, OBS, sizeof obs2);
  memcpy(act2, ACT, sizeof act2), memcpy(ts2, TS, sizeof ts2);
  y = ope_dt_forward_d(&L, P, WS, rtg2, obs2, act2, ts2, 1, 2, 0, NULL);
  for (int j = 0; j < 2 * out; j++) assert_true(fabs(y[j] - y0[j]) < 1e-12);
  free(y0);
}

/* The float passes agree with the double ones. */
static void test_float_matches_double(void **state) {
  (void)state;
  int out = L.a.out;
  size_t n = L.n_params, ny = (size_t)NB * NK * out;
  float *pf = malloc(n * sizeof(float)), *gf = calloc(n, sizeof(float));
  float *rf = malloc(ny * sizeof(float));
  float rtg[NB * NK], obs[NB * NK * 3], act[NB * NK * 2];
  for (size_t i = 0; i < n; i++) P[i] = pf[i] = (float)P[i];
  for (size_t i = 0; i < ny; i++) rf[i] = (float)R[i];
  for (int i = 0; i < NB * NK; i++) rtg[i] = (float)(RTG[i] = (float)RTG[i]);
  for (int i = 0; i < NB * NK * 3; i++) obs[i] = (float)(OBS[i] = (float)OBS[i]);
  for (int i = 0; i < NB * NK * 2; i++) act[i] = (float)(ACT[i] = (float)ACT[i]);
  ope_dt_ws_f *wf = NULL;
  assert_int_equal(ope_dt_ws_new_f(&L, NB, &wf, NULL), OPE_OK);
  const float *yf = ope_dt_forward_f(&L, pf, wf, rtg, obs, act, TS, NB, NK, 0, NULL);
  ope_dt_backward_f(&L, pf, gf, wf, rf);
  const double *yd = ope_dt_forward_d(&L, P, WS, RTG, OBS, ACT, TS, NB, NK, 0, NULL);
  memset(G, 0, n * sizeof(double));
  ope_dt_backward_d(&L, P, G, WS, R);
  double wy = 0, wg = 0, gs = 0;
  for (size_t i = 0; i < ny; i++) wy = fmax(wy, fabs(yf[i] - yd[i]));
  for (size_t i = 0; i < n; i++) {
    wg = fmax(wg, fabs(gf[i] - G[i]));
    gs = fmax(gs, fabs(G[i]));
  }
  printf("  float vs double: output %.3g, gradient %.3g (largest %.3g)\n", wy,
         wg, gs);
  assert_true(wy < 1e-4);
  assert_true(wg < 1e-4 * (1 + gs));
  ope_dt_ws_free_f(wf);
  free(pf), free(gf), free(rf);
}

/* Layer norm: L = sum(Rl * y) over 3 rows of width 13. */
enum { LR = 3, LC = 13 };

static double ln_loss(const double *x, const double *g, const double *b,
                      const double *rl) {
  double y[LR * LC], mu[LR], rs[LR], s = 0;
  ope_nn_layernorm_forward_d(y, mu, rs, x, g, b, LR, LC);
  for (int i = 0; i < LR * LC; i++) s += rl[i] * y[i];
  return s;
}

/* The textbook layer norm, one running sum per row: the reference for the
 * kernels' interleaved sums. */
static void ln_plain(double *y, double *dx, double *dg, double *db, const double *x,
                     const double *g, const double *b, const double *dy) {
  for (int i = 0; i < LR; i++) {
    const double *xi = x + i * LC;
    double mu = 0, var = 0, mg = 0, mgx = 0;
    for (int j = 0; j < LC; j++) mu += xi[j];
    mu /= LC;
    for (int j = 0; j < LC; j++) var += (xi[j] - mu) * (xi[j] - mu);
    double r = 1 / sqrt(var / LC + OPE_NN_LAYERNORM_EPS);
    for (int j = 0; j < LC; j++) {
      double xh = (xi[j] - mu) * r;
      y[i * LC + j] = xh * g[j] + b[j];
      mg += dy[i * LC + j] * g[j] / LC;
      mgx += dy[i * LC + j] * g[j] * xh / LC;
      dg[j] += dy[i * LC + j] * xh;
      db[j] += dy[i * LC + j];
    }
    for (int j = 0; j < LC; j++)
      dx[i * LC + j] += r * (dy[i * LC + j] * g[j] - mg - (xi[j] - mu) * r * mgx);
  }
}

static void test_layernorm(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 4, 0);
  double x[LR * LC], rl[LR * LC], g[LC], b[LC];
  for (int i = 0; i < LR * LC; i++) {
    x[i] = 2 * ope_rng_normal(&rng) + 0.5;
    rl[i] = ope_rng_normal(&rng);
  }
  for (int j = 0; j < LC; j++) {
    g[j] = 1 + 0.3 * ope_rng_normal(&rng);
    b[j] = 0.3 * ope_rng_normal(&rng);
  }
  // forward and backward against the plain kernels
  double y[LR * LC], mu[LR], rs[LR], y0[LR * LC];
  double dx[LR * LC] = {0}, dg[LC] = {0}, db[LC] = {0};
  double dx0[LR * LC] = {0}, dg0[LC] = {0}, db0[LC] = {0};
  ope_nn_layernorm_forward_d(y, mu, rs, x, g, b, LR, LC);
  ope_nn_layernorm_backward_d(dx, dg, db, rl, x, g, mu, rs, LR, LC);
  ln_plain(y0, dx0, dg0, db0, x, g, b, rl);
  double worst = 0;
  for (int i = 0; i < LR * LC; i++)
    worst = fmax(worst, fmax(fabs(y[i] - y0[i]), fabs(dx[i] - dx0[i])));
  for (int j = 0; j < LC; j++)
    worst = fmax(worst, fmax(fabs(dg[j] - dg0[j]), fabs(db[j] - db0[j])));
  // central differences in x, gamma and beta
  const double h = 1e-6;
  double fd = 0;
  double *vars[3] = {x, g, b}, *grads[3] = {dx, dg, db};
  int sizes[3] = {LR * LC, LC, LC};
  for (int v = 0; v < 3; v++)
    for (int i = 0; i < sizes[v]; i++) {
      double p0 = vars[v][i];
      vars[v][i] = p0 + h;
      double lp = ln_loss(x, g, b, rl);
      vars[v][i] = p0 - h;
      double lm = ln_loss(x, g, b, rl);
      vars[v][i] = p0;
      double num = (lp - lm) / (2 * h);
      fd = fmax(fd, fabs(grads[v][i] - num) / (fabs(grads[v][i]) + fabs(num) + 1e-4));
    }
  // the float kernels against the double ones
  float xf[LR * LC], rf[LR * LC], gf[LC], bf[LC], yf[LR * LC], muf[LR], rsf[LR];
  float dxf[LR * LC] = {0}, dgf[LC] = {0}, dbf[LC] = {0};
  for (int i = 0; i < LR * LC; i++) xf[i] = (float)x[i], rf[i] = (float)rl[i];
  for (int j = 0; j < LC; j++) gf[j] = (float)g[j], bf[j] = (float)b[j];
  ope_nn_layernorm_forward_f(yf, muf, rsf, xf, gf, bf, LR, LC);
  ope_nn_layernorm_backward_f(dxf, dgf, dbf, rf, xf, gf, muf, rsf, LR, LC);
  double wf = 0;
  for (int i = 0; i < LR * LC; i++)
    wf = fmax(wf, fmax(fabs(yf[i] - y[i]), fabs(dxf[i] - dx[i])));
  printf("  layer norm: vs the plain formula %.3g, finite differences %.3g, "
         "float %.3g\n", worst, fd, wf);
  assert_true(worst < 1e-12);
  assert_true(fd < 1e-6);
  assert_true(wf < 1e-4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_finite_differences),
    cmocka_unit_test(test_finite_differences_dropout),
    cmocka_unit_test(test_causal),
    cmocka_unit_test(test_float_matches_double),
    cmocka_unit_test(test_layernorm),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Every layer's backward against central finite differences, in double.
 *
 * For a layer y = f(x; params) the test takes the scalar L = sum(R * y) with
 * fixed random R, runs the backward with dy = R, and compares each gradient
 * entry with (L(x + h) - L(x - h)) / 2h, h = 1e-5. The reported figure is
 * max |analytic - numeric| / (|analytic| + |numeric| + 1e-8); it must stay
 * below 1e-6 (central differences in double are good to ~1e-9 here). */
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

#define H 1e-5
#define TOL 1e-6
#define B 5
#define C 7
#define OC 4

typedef double (*loss_fn)(void);

static ope_rng rng;

static void fill(double *x, size_t n, double scale) {
  for (size_t i = 0; i < n; i++) x[i] = scale * ope_rng_normal(&rng);
}

static double dot(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* Compare grad (n) with central differences of loss() in x (n). */
static double check(const char *what, double *x, const double *grad, size_t n,
                    loss_fn loss) {
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    double x0 = x[i];
    x[i] = x0 + H;
    double lp = loss();
    x[i] = x0 - H;
    double lm = loss();
    x[i] = x0;
    double num = (lp - lm) / (2 * H);
    double d = fabs(grad[i] - num) / (fabs(grad[i]) + fabs(num) + 1e-8);
    if (d > worst) worst = d;
  }
  printf("  %-28s max rel diff %.3g\n", what, worst);
  return worst;
}

/* Shared arrays (sized for the largest case). */
static double X[B * C], W[C * OC], Bv[OC], R[B * C], Y[B * C], R2[B];
static double GX[B * C], GW[C * OC], GB[OC], GAM[C], BET[C], GG[C], GBE[C];
static double MU[B * C], LS[B * C], EPS[B * C], GMU[B * C], GLS[B * C];
static double A[B * C], U[B * C], LP[B], MEAN[B], RSTD[B];

/* ---- dense ---- */
static double dense_loss(void) {
  ope_nn_dense_forward_d(Y, X, W, Bv, B, C, OC);
  return dot(Y, R, B * OC);
}
static void test_dense(void **state) {
  (void)state;
  fill(X, B * C, 1), fill(W, C * OC, 1), fill(Bv, OC, 1), fill(R, B * OC, 1);
  memset(GX, 0, sizeof GX), memset(GW, 0, sizeof GW), memset(GB, 0, sizeof GB);
  ope_nn_dense_forward_d(Y, X, W, Bv, B, C, OC);
  ope_nn_dense_backward_d(GX, GW, GB, R, X, W, B, C, OC);
  assert_true(check("dense d/dx", X, GX, B * C, dense_loss) < TOL);
  assert_true(check("dense d/dW", W, GW, C * OC, dense_loss) < TOL);
  assert_true(check("dense d/db", Bv, GB, OC, dense_loss) < TOL);
  // backward accumulates: a second call doubles the gradients
  double gw0 = GW[3];
  ope_nn_dense_backward_d(GX, GW, GB, R, X, W, B, C, OC);
  assert_true(fabs(GW[3] - 2 * gw0) <= 1e-12 * fabs(gw0) + 1e-15);
}

/* ---- elementwise activations ---- */
static int act_kind;
static double act_loss(void) {
  size_t n = B * C;
  if (act_kind == 0) ope_nn_relu_forward_d(Y, X, n);
  else if (act_kind == 1) ope_nn_tanh_forward_d(Y, X, n);
  else ope_nn_gelu_forward_d(Y, X, n);
  return dot(Y, R, n);
}
static void test_activations(void **state) {
  (void)state;
  const char *names[3] = {"relu d/dx", "tanh d/dx", "gelu d/dx"};
  size_t n = B * C;
  for (act_kind = 0; act_kind < 3; act_kind++) {
    fill(X, n, 1.5), fill(R, n, 1);
    for (size_t i = 0; i < n; i++) // keep ReLU's kink away from x +- h
      if (fabs(X[i]) < 1e-3) X[i] = 0.5;
    memset(GX, 0, sizeof GX);
    act_loss();
    if (act_kind == 0) ope_nn_relu_backward_d(GX, R, X, n);
    else if (act_kind == 1) ope_nn_tanh_backward_d(GX, R, Y, n);
    else ope_nn_gelu_backward_d(GX, R, X, n);
    assert_true(check(names[act_kind], X, GX, n, act_loss) < TOL);
  }
  // GELU(1) with the tanh approximation (Hendrycks & Gimpel 2016)
  double one = 1, g;
  ope_nn_gelu_forward_d(&g, &one, 1);
  assert_true(fabs(g - 0.8411919906082768) < 1e-12);
}

/* ---- layer norm ---- */
static double ln_loss(void) {
  ope_nn_layernorm_forward_d(Y, MEAN, RSTD, X, GAM, BET, B, C);
  return dot(Y, R, B * C);
}
static void test_layernorm(void **state) {
  (void)state;
  fill(X, B * C, 2), fill(GAM, C, 1), fill(BET, C, 1), fill(R, B * C, 1);
  memset(GX, 0, sizeof GX), memset(GG, 0, sizeof GG), memset(GBE, 0, sizeof GBE);
  ln_loss();
  ope_nn_layernorm_backward_d(GX, GG, GBE, R, X, GAM, MEAN, RSTD, B, C);
  assert_true(check("layernorm d/dx", X, GX, B * C, ln_loss) < TOL);
  assert_true(check("layernorm d/dgamma", GAM, GG, C, ln_loss) < TOL);
  assert_true(check("layernorm d/dbeta", BET, GBE, C, ln_loss) < TOL);
}

/* ---- softmax, log-softmax ---- */
static int log_sm;
static double sm_loss(void) {
  if (log_sm) ope_nn_log_softmax_forward_d(Y, X, B, C);
  else ope_nn_softmax_forward_d(Y, X, B, C);
  return dot(Y, R, B * C);
}
static void test_softmax(void **state) {
  (void)state;
  for (log_sm = 0; log_sm < 2; log_sm++) {
    fill(X, B * C, 2), fill(R, B * C, 1);
    X[0] = 800; /* max-shift keeps a huge logit finite */
    memset(GX, 0, sizeof GX);
    sm_loss();
    for (int i = 0; i < B * C; i++) assert_true(isfinite(Y[i]));
    if (log_sm) ope_nn_log_softmax_backward_d(GX, R, Y, B, C);
    else ope_nn_softmax_backward_d(GX, R, Y, B, C);
    assert_true(check(log_sm ? "log_softmax d/dx" : "softmax d/dx", X, GX,
                      B * C, sm_loss) < TOL);
  }
}

/* ---- Gaussian log-density ---- */
static double gauss_loss(void) {
  ope_nn_gaussian_logp_forward_d(LP, X, MU, LS, B, C);
  return dot(LP, R2, B);
}
static void test_gaussian(void **state) {
  (void)state;
  fill(X, B * C, 1), fill(MU, B * C, 1), fill(LS, B * C, 0.5), fill(R2, B, 1);
  memset(GX, 0, sizeof GX), memset(GMU, 0, sizeof GMU), memset(GLS, 0, sizeof GLS);
  gauss_loss();
  ope_nn_gaussian_logp_backward_d(GX, GMU, GLS, R2, X, MU, LS, B, C);
  assert_true(check("gaussian d/dx", X, GX, B * C, gauss_loss) < TOL);
  assert_true(check("gaussian d/dmu", MU, GMU, B * C, gauss_loss) < TOL);
  assert_true(check("gaussian d/dlog_std", LS, GLS, B * C, gauss_loss) < TOL);
  // standard normal at 0 in one dimension: -log(sqrt(2 pi))
  double z = 0, lp;
  ope_nn_gaussian_logp_forward_d(&lp, &z, &z, &z, 1, 1);
  assert_true(fabs(lp + 0.91893853320467274) < 1e-14);
}

/* ---- tanh-Gaussian (SAC appendix C, eq. 21) ---- */
static double tg_loss(void) {
  ope_nn_tanh_gaussian_forward_d(A, U, LP, MU, LS, EPS, B, C);
  return dot(A, R, B * C) + dot(LP, R2, B);
}
static void test_tanh_gaussian(void **state) {
  (void)state;
  fill(MU, B * C, 1), fill(LS, B * C, 0.5), fill(EPS, B * C, 1);
  fill(R, B * C, 1), fill(R2, B, 1);
  MU[0] = 12; /* a saturated action keeps a finite log-density */
  memset(GMU, 0, sizeof GMU), memset(GLS, 0, sizeof GLS);
  tg_loss();
  for (int i = 0; i < B; i++) assert_true(isfinite(LP[i]));
  ope_nn_tanh_gaussian_backward_d(GMU, GLS, R, R2, A, LS, EPS, B, C);
  assert_true(check("tanh-gaussian d/dmu", MU, GMU, B * C, tg_loss) < TOL);
  assert_true(check("tanh-gaussian d/dlog_std", LS, GLS, B * C, tg_loss) < TOL);
  // against the direct formula: N(u) density minus log(1 - tanh(u)^2)
  double mu = 0.3, ls = -0.2, eps = 0.7, a, u, lp;
  ope_nn_tanh_gaussian_forward_d(&a, &u, &lp, &mu, &ls, &eps, 1, 1);
  double direct = -0.5 * eps * eps - ls - 0.91893853320467274 -
                  log(1 - tanh(u) * tanh(u));
  printf("  tanh-gaussian log-density vs direct: %.3g\n", fabs(lp - direct));
  assert_true(fabs(lp - direct) < 1e-12);
}

/* ---- MSE ---- */
static double mse_loss(void) {
  return ope_nn_mse_forward_backward_d(NULL, X, Y, B * C, 1.0);
}
static void test_mse(void **state) {
  (void)state;
  fill(X, B * C, 1), fill(Y, B * C, 1);
  memset(GX, 0, sizeof GX);
  ope_nn_mse_forward_backward_d(GX, X, Y, B * C, 1.0);
  assert_true(check("mse d/dpred", X, GX, B * C, mse_loss) < TOL);
}

/* The float instantiation computes the same numbers to float precision. */
static void test_float_matches_double(void **state) {
  (void)state;
  float xf[B * C], yf[B * C], gf[C], bf[C];
  fill(X, B * C, 1), fill(GAM, C, 1), fill(BET, C, 1);
  for (int i = 0; i < B * C; i++) xf[i] = (float)X[i];
  for (int i = 0; i < C; i++) gf[i] = (float)GAM[i], bf[i] = (float)BET[i];
  float mf[B], rf[B];
  ope_nn_layernorm_forward_f(yf, mf, rf, xf, gf, bf, B, C);
  ope_nn_layernorm_forward_d(Y, MEAN, RSTD, X, GAM, BET, B, C);
  double worst = 0;
  for (int i = 0; i < B * C; i++) {
    double d = fabs(yf[i] - Y[i]) / (1 + fabs(Y[i]));
    worst = d > worst ? d : worst;
  }
  printf("  layernorm float vs double: %.3g\n", worst);
  assert_true(worst < 1e-5);
}

static int setup(void **state) {
  (void)state;
  ope_rng_seed(&rng, 2024, 0);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dense),
    cmocka_unit_test(test_activations),
    cmocka_unit_test(test_layernorm),
    cmocka_unit_test(test_softmax),
    cmocka_unit_test(test_gaussian),
    cmocka_unit_test(test_tanh_gaussian),
    cmocka_unit_test(test_mse),
    cmocka_unit_test(test_float_matches_double),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}

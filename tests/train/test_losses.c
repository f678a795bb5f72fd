/* The trainers' losses: values on tiny hand-computed batches, and every
 * gradient against central finite differences (relative tolerance 2e-3 in
 * float, step 1e-2 on inputs of order 1, where the losses are smooth). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "train/ckpt_policy.h"
#include "train/losses.h"

#define N 12

/* A loss of x (n values) with its analytic gradient added into g. */
typedef double (*loss_fn)(float *x, float *g, void *ctx);

/* Max relative difference between analytic and central-difference
 * gradients of f at x. */
static double fd_check(loss_fn f, float *x, int n, void *ctx) {
  float g[64] = {0}, dummy[64];
  f(x, g, ctx);
  double worst = 0;
  for (int i = 0; i < n; i++) {
    const float h = 1e-2f;
    float keep = x[i];
    x[i] = keep + h;
    double up = f(x, dummy, ctx);
    x[i] = keep - h;
    double dn = f(x, dummy, ctx);
    x[i] = keep;
    double num = (up - dn) / (2.0 * h);
    double rel = fabs(num - g[i]) / fmax(1e-2, fabs(num) + fabs(g[i]));
    if (rel > worst) worst = rel;
  }
  return worst;
}

static void fill(float *x, int n, uint64_t seed) {
  ope_rng r;
  ope_rng_seed(&r, seed, 0);
  for (int i = 0; i < n; i++) x[i] = (float)(ope_rng_uniform(&r) * 2 - 1);
}

static double f_expectile(float *x, float *g, void *ctx) {
  memset(g, 0, N * sizeof(float));
  return ope_loss_expectile(x, g, N, *(double *)ctx, 1.0);
}

static void test_expectile(void **state) {
  (void)state;
  /* u = (1, -2): 0.7 * 1 + 0.3 * 4 = 1.9, mean 0.95 */
  float u[2] = {1, -2}, du[2] = {0, 0};
  assert_true(fabs(ope_loss_expectile(u, du, 2, 0.7, 1.0) - 0.95) < 1e-12);
  assert_true(fabs(du[0] - 0.7) < 1e-6 && fabs(du[1] - (-0.6)) < 1e-6);
  float x[N];
  fill(x, N, 1);
  for (int i = 0; i < N; i++) if (fabsf(x[i]) < 0.05f) x[i] = 0.3f; /* kink */
  double tau = 0.9;
  double e = fd_check(f_expectile, x, N, &tau);
  printf("expectile: max relative gradient error %.3g\n", e);
  assert_true(e < 2e-3);
}

static const int32_t acts[4] = {0, 2, 1, 2};
static const float wts[4] = {1.0f, 0.5f, 2.0f, 1.5f};

static double f_xent(float *x, float *g, void *ctx) {
  memset(g, 0, N * sizeof(float));
  return ope_loss_xent(x, acts, ctx ? wts : NULL, g, 4, 3, 1.0);
}

static void test_xent(void **state) {
  (void)state;
  /* equal logits: -log(1/3) per row */
  float z[3] = {0.5f, 0.5f, 0.5f};
  int32_t a = 1;
  assert_true(fabs(ope_loss_xent(z, &a, NULL, NULL, 1, 3, 1.0) - log(3.0)) < 1e-6);
  float x[N];
  fill(x, N, 2);
  double e1 = fd_check(f_xent, x, N, NULL), e2 = fd_check(f_xent, x, N, (void *)1);
  printf("xent: %.3g, weighted %.3g\n", e1, e2);
  assert_true(e1 < 2e-3 && e2 < 2e-3);
}

static double f_lse(float *x, float *g, void *ctx) {
  memset(g, 0, N * sizeof(float));
  return ope_loss_lse(x, g, 3, 4, 1.0);
}

static void test_lse(void **state) {
  (void)state;
  float z[2] = {0, 0};
  assert_true(fabs(ope_loss_lse(z, NULL, 1, 2, 1.0) - log(2.0)) < 1e-12);
  float x[N];
  fill(x, N, 3);
  double e = fd_check(f_lse, x, N, NULL);
  printf("logsumexp: %.3g\n", e);
  assert_true(e < 2e-3);
}

static double f_huber(float *x, float *g, void *ctx) {
  const float *t = ctx;
  memset(g, 0, N * sizeof(float));
  return ope_loss_huber(x, t, g, N, 1.0);
}

static void test_huber(void **state) {
  (void)state;
  float p[2] = {0.5f, 3.0f}, t[2] = {0, 0};
  /* 0.5 * 0.25 = 0.125 and 3 - 0.5 = 2.5: mean 1.3125 */
  assert_true(fabs(ope_loss_huber(p, t, NULL, 2, 1.0) - 1.3125) < 1e-12);
  float x[N], tt[N];
  fill(x, N, 4);
  for (int i = 0; i < N; i++) {
    x[i] *= 3;
    tt[i] = 0;
    if (fabsf(fabsf(x[i]) - 1) < 0.05f) x[i] = 0.5f; /* kink */
  }
  double e = fd_check(f_huber, x, N, tt);
  printf("huber: %.3g\n", e);
  assert_true(e < 2e-3);
}

/* KL and Gaussian NLL: x holds (mu, log_std) for 3 rows x 2 dimensions. */
static double f_kl(float *x, float *g, void *ctx) {
  memset(g, 0, N * sizeof(float));
  return ope_loss_gauss_kl(x, x + 6, g, g + 6, 3, 2, 1.0);
}

static const float obs_a[6] = {0.1f, -0.4f, 0.8f, 0.0f, -0.9f, 0.3f};

static double f_nll(float *x, float *g, void *ctx) {
  memset(g, 0, N * sizeof(float));
  return ope_loss_gauss_nll(obs_a, x, x + 6, g, g + 6, ctx ? wts : NULL, 3, 2, 1.0);
}

static void test_gaussian(void **state) {
  (void)state;
  float mu = 0, ls = 0, a = 0;
  /* KL(N(0,1) || N(0,1)) = 0; NLL of 0 under N(0,1) = 0.5 log(2 pi) */
  assert_true(fabs(ope_loss_gauss_kl(&mu, &ls, NULL, NULL, 1, 1, 1.0)) < 1e-12);
  assert_true(fabs(ope_loss_gauss_nll(&a, &mu, &ls, NULL, NULL, NULL, 1, 1, 1.0) -
                   0.5 * log(2 * M_PI)) < 1e-7);
  float x[N];
  fill(x, N, 5);
  double e1 = fd_check(f_kl, x, N, NULL), e2 = fd_check(f_nll, x, N, NULL);
  double e3 = fd_check(f_nll, x, N, (void *)1);
  printf("kl %.3g, nll %.3g, weighted nll %.3g\n", e1, e2, e3);
  assert_true(e1 < 2e-3 && e2 < 2e-3 && e3 < 2e-3);
}

/* The Gaussian head composed with the NLL: gradient with respect to the
 * network output y (2 rows x (2 means, 2 log-stds)). */
static double f_head(float *y, float *g, void *ctx) {
  int squash = ctx != NULL;
  float mean[4], ls[4], dmean[4] = {0}, dls[4] = {0};
  ope_head_gauss_forward(y, mean, ls, 2, 2, squash);
  double l = ope_loss_gauss_nll(obs_a, mean, ls, dmean, dls, NULL, 2, 2, 1.0);
  memset(g, 0, 8 * sizeof(float));
  ope_head_gauss_backward(y, mean, dmean, dls, g, 2, 2, squash);
  return l;
}

static void test_head(void **state) {
  (void)state;
  float y[8];
  fill(y, 8, 6);
  double e1 = fd_check(f_head, y, 8, NULL), e2 = fd_check(f_head, y, 8, (void *)1);
  printf("gaussian head: %.3g, with tanh %.3g\n", e1, e2);
  assert_true(e1 < 2e-3 && e2 < 2e-3);
  /* a clipped log-std passes no gradient */
  y[2] = 10.0f;
  float mean[4], ls[4], dmean[4] = {0}, dls[4] = {1, 1, 1, 1}, g[8] = {0};
  ope_head_gauss_forward(y, mean, ls, 2, 2, 1);
  assert_true(ls[0] == (float)OPE_TRAIN_LOG_STD_MAX);
  ope_head_gauss_backward(y, mean, dmean, dls, g, 2, 2, 1);
  assert_true(g[2] == 0.0f && g[3] == 1.0f);
}

/* TD3+BC actor: x = pi (3 rows x 2); q fixed so lambda is a constant. */
static const float q3[3] = {2.0f, -1.0f, 3.0f};

static double f_td3bc(float *x, float *g, void *ctx) {
  float dq[3] = {0};
  memset(g, 0, 6 * sizeof(float));
  return ope_loss_td3bc_actor(q3, x, obs_a, dq, g, 3, 2, 2.5, NULL);
}

static void test_td3bc_actor(void **state) {
  (void)state;
  /* lambda = 2.5 / mean|q| = 2.5 / 2; Q term -lambda mean q = -1.25 * 4/3 */
  float pi[6], dq[3] = {0}, dpi[6] = {0};
  memcpy(pi, obs_a, sizeof pi);
  double lambda;
  double l = ope_loss_td3bc_actor(q3, pi, obs_a, dq, dpi, 3, 2, 2.5, &lambda);
  assert_true(fabs(lambda - 1.25) < 1e-12);
  assert_true(fabs(l - (-1.25 * 4.0 / 3.0)) < 1e-6);
  for (int i = 0; i < 3; i++) assert_true(fabs(dq[i] - (-1.25 / 3)) < 1e-7);
  fill(pi, 6, 7);
  double e = fd_check(f_td3bc, pi, 6, NULL);
  printf("td3bc actor: %.3g\n", e);
  assert_true(e < 2e-3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_expectile),
    cmocka_unit_test(test_xent),
    cmocka_unit_test(test_lse),
    cmocka_unit_test(test_huber),
    cmocka_unit_test(test_gaussian),
    cmocka_unit_test(test_head),
    cmocka_unit_test(test_td3bc_actor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

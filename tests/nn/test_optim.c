/* Optimizers and helpers: Adam fits a small regression problem; AdamW's
 * decoupled decay and clipping do what Algorithm 2 says on a single
 * parameter; Polyak averaging; learning-rate schedules; normalization. */
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
#include "nn/mlp.h"
#include "nn/norm.h"
#include "nn/optim.h"

/* y = sin(2 x0) + 0.5 x1^2 on x ~ U(-1, 1)^2: an MLP trained with Adam
 * must bring the mean squared error well below the target's variance. */
static double fit(int steps, double *initial) {
  const int B = 64, N = 512;
  float *X = malloc(sizeof(float) * N * 2), *Y = malloc(sizeof(float) * N);
  ope_rng rng;
  ope_rng_seed(&rng, 5, 0);
  for (int i = 0; i < N; i++) {
    X[2 * i] = (float)(2 * ope_rng_uniform(&rng) - 1);
    X[2 * i + 1] = (float)(2 * ope_rng_uniform(&rng) - 1);
    Y[i] = sinf(2 * X[2 * i]) + 0.5f * X[2 * i + 1] * X[2 * i + 1];
  }
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, 2, 2, 32, 1, OPE_ACT_TANH);
  ope_mlp *m;
  ope_mlp_ws *ws;
  ope_adam *adam;
  ope_adam_config ac;
  ope_adam_config_default(&ac);
  ac.lr = 3e-3;
  ac.clip_norm = 10;
  assert_int_equal(ope_mlp_new(&cfg, &m, NULL), OPE_OK);
  assert_int_equal(ope_mlp_ws_new(m, N, &ws, NULL), OPE_OK);
  assert_int_equal(ope_adam_new(&ac, m->n_params, &adam, NULL), OPE_OK);
  ope_mlp_init(m, OPE_INIT_HE, &rng);
  *initial = ope_nn_mse_forward_backward_f(NULL, ope_mlp_forward(m, ws, X, N),
                                           Y, (size_t)N, 1);
  float xb[64 * 2], yb[64], dy[64];
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < B; i++) {
      int k = (int)ope_rng_below(&rng, N);
      xb[2 * i] = X[2 * k], xb[2 * i + 1] = X[2 * k + 1], yb[i] = Y[k];
    }
    ope_mlp_zero_grad(m);
    memset(dy, 0, sizeof dy);
    const float *out = ope_mlp_forward(m, ws, xb, B);
    ope_nn_mse_forward_backward_f(dy, out, yb, (size_t)B, 1);
    ope_mlp_backward(m, ws, dy, NULL);
    ope_adam_step(adam, m->params, m->grads, ac.lr);
  }
  double final = ope_nn_mse_forward_backward_f(
      NULL, ope_mlp_forward(m, ws, X, N), Y, (size_t)N, 1);
  ope_adam_free(adam);
  ope_mlp_ws_free(ws);
  ope_mlp_free(m);
  free(X);
  free(Y);
  return final;
}

static void test_adam_regression(void **state) {
  (void)state;
  double initial, final = fit(1500, &initial);
  printf("  regression MSE: initial %.4g -> after 1500 Adam steps %.4g\n",
         initial, final);
  assert_true(final < 0.01);
  assert_true(final < initial / 20);
  // determinism: the same seed gives the same bits
  double again = fit(1500, &initial);
  assert_true(again == final);
}

static void test_adamw_and_clipping(void **state) {
  (void)state;
  ope_adam_config c;
  ope_adam_config_default(&c);
  c.lr = 0.1;
  c.weight_decay = 0.5;
  c.decoupled = 1;
  ope_adam *a;
  assert_int_equal(ope_adam_new(&c, 1, &a, NULL), OPE_OK);
  // zero gradient: AdamW only decays, p <- p (1 - lr wd)
  float p = 2.0f, g = 0.0f;
  ope_adam_step(a, &p, &g, c.lr);
  assert_true(fabs(p - 2.0 * (1 - 0.05)) < 1e-6);
  ope_adam_free(a);
  // first Adam step moves by lr * sign(g) whatever |g| (bias-corrected)
  ope_adam_config_default(&c);
  c.lr = 0.01;
  c.clip_norm = 1.0;
  assert_int_equal(ope_adam_new(&c, 2, &a, NULL), OPE_OK);
  float q[2] = {0, 0}, gq[2] = {30, -40};
  double norm = ope_adam_step(a, q, gq, c.lr);
  assert_true(fabs(norm - 50) < 1e-9);
  assert_true(fabs(q[0] + 0.01) < 1e-6 && fabs(q[1] - 0.01) < 1e-6);
  assert_true(gq[0] == 30); /* the caller's gradient is untouched */
  ope_adam_free(a);
  ope_adam_free(NULL);
  c.beta1 = 1.0;
  assert_int_equal(ope_adam_new(&c, 2, &a, NULL), OPE_EUSAGE);
}

static void test_polyak_and_schedule(void **state) {
  (void)state;
  float t[3] = {1, 2, 3}, s[3] = {3, 2, 1};
  ope_nn_polyak(t, s, 3, 0.25);
  assert_true(fabs(t[0] - 1.5) < 1e-6 && fabs(t[2] - 2.5) < 1e-6);
  ope_lr_schedule sch = {OPE_LR_COSINE, 1e-3, 1e-5, 10, 110};
  assert_true(fabs(ope_lr_at(&sch, 0) - 1e-4) < 1e-15);
  assert_true(fabs(ope_lr_at(&sch, 9) - 1e-3) < 1e-15);
  assert_true(fabs(ope_lr_at(&sch, 10) - 1e-3) < 1e-15);
  assert_true(fabs(ope_lr_at(&sch, 60) - (1e-5 + 0.5 * (1e-3 - 1e-5))) < 1e-12);
  assert_true(fabs(ope_lr_at(&sch, 110) - 1e-5) < 1e-15);
  assert_true(fabs(ope_lr_at(&sch, 500) - 1e-5) < 1e-15);
  sch.kind = OPE_LR_CONSTANT;
  assert_true(ope_lr_at(&sch, 70) == 1e-3);
}

static void test_norm_running_equals_batch(void **state) {
  (void)state;
  double x[40 * 3];
  ope_rng rng;
  ope_rng_seed(&rng, 9, 0);
  for (int i = 0; i < 120; i++) x[i] = 3 + 2 * ope_rng_normal(&rng);
  ope_norm *a, *b;
  assert_int_equal(ope_norm_new(2, &a, NULL), OPE_OK);
  assert_int_equal(ope_norm_new(2, &b, NULL), OPE_OK);
  ope_norm_fit(a, x, 40, 3); /* first 2 of 3 columns */
  ope_norm_update(b, x, 15, 3);
  ope_norm_update(b, x + 45, 25, 3);
  for (int j = 0; j < 2; j++) {
    assert_true(fabs(a->mean[j] - b->mean[j]) < 1e-12 * fabs(a->mean[j]));
    assert_true(fabs(a->std[j] - b->std[j]) < 1e-12 * a->std[j]);
  }
  float out[2];
  ope_norm_apply(a, x, 1, 3, out, 2);
  assert_true(fabs(out[0] - (x[0] - a->mean[0]) / a->std[0]) < 1e-6);
  ope_norm_free(a);
  ope_norm_free(b);
  ope_norm_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_adam_regression),
    cmocka_unit_test(test_adamw_and_clipping),
    cmocka_unit_test(test_polyak_and_schedule),
    cmocka_unit_test(test_norm_running_equals_batch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The MLP: backward against finite differences (float model, so a coarser
 * step and tolerance than the per-layer double checks in test_layers.c; this
 * test catches wiring mistakes between layers), the input-only backward,
 * the same bits with 1 and 2 threads, and workspaces that hold two forward
 * passes at once. */
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
#include "nn/gemm.h"
#include "nn/mlp.h"

#define NB 6

static double loss(const ope_mlp *m, ope_mlp_ws *ws, const float *x,
                   const float *R) {
  const float *y = ope_mlp_forward(m, ws, x, NB);
  double s = 0;
  for (int i = 0; i < NB * m->cfg.out; i++) s += (double)y[i] * R[i];
  return s;
}

/* Returns the fraction of entries whose analytic and numeric gradients
 * disagree beyond 2e-3 + 2e-2 |g| (ReLU kinks may account for a few). */
static double grad_check(ope_nn_act act, int layernorm, double *worst_out) {
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, 5, 2, 8, 3, act);
  cfg.layernorm = layernorm;
  ope_mlp *m = NULL;
  ope_mlp_ws *ws = NULL;
  assert_int_equal(ope_mlp_new(&cfg, &m, NULL), OPE_OK);
  assert_int_equal(ope_mlp_ws_new(m, NB, &ws, NULL), OPE_OK);
  ope_rng rng;
  ope_rng_seed(&rng, 7, (uint64_t)act * 2 + (uint64_t)layernorm);
  ope_mlp_init(m, OPE_INIT_ORTHOGONAL, &rng);
  for (size_t i = 0; i < m->n_params; i++) // non-trivial LN gains and biases
    m->params[i] += (float)(0.1 * ope_rng_normal(&rng));
  float x[NB * 5], R[NB * 3], dx[NB * 5] = {0};
  for (int i = 0; i < NB * 5; i++) x[i] = (float)ope_rng_normal(&rng);
  for (int i = 0; i < NB * 3; i++) R[i] = (float)ope_rng_normal(&rng);
  ope_mlp_zero_grad(m);
  loss(m, ws, x, R);
  ope_mlp_backward(m, ws, R, dx);
  // the input-only backward: the same din, parameter gradients untouched
  float dx2[NB * 5] = {0}, *g_keep = malloc(m->n_params * sizeof(float));
  memcpy(g_keep, m->grads, m->n_params * sizeof(float));
  ope_mlp_backward_input(m, ws, R, dx2);
  assert_memory_equal(dx, dx2, sizeof dx);
  assert_memory_equal(g_keep, m->grads, m->n_params * sizeof(float));
  free(g_keep);
  const float h = 1e-3f;
  size_t bad = 0, total = 0;
  double worst = 0;
  for (size_t i = 0; i < m->n_params + NB * 5; i++) {
    float *p = i < m->n_params ? &m->params[i] : &x[i - m->n_params];
    double g = i < m->n_params ? m->grads[i] : dx[i - m->n_params];
    float p0 = *p;
    *p = p0 + h;
    double lp = loss(m, ws, x, R);
    *p = p0 - h;
    double lm = loss(m, ws, x, R);
    *p = p0;
    double num = (lp - lm) / (2.0 * h);
    double d = fabs(g - num);
    if (d > 2e-3 + 2e-2 * fabs(g)) bad++;
    if (d / (fabs(g) + 1) > worst) worst = d / (fabs(g) + 1);
    total++;
  }
  *worst_out = worst;
  ope_mlp_ws_free(ws);
  ope_mlp_free(m);
  return (double)bad / (double)total;
}

static void test_mlp_backward(void **state) {
  (void)state;
  const char *names[3] = {"relu", "tanh", "gelu"};
  for (int act = 0; act < 3; act++)
    for (int ln = 0; ln < 2; ln++) {
      double worst;
      double frac = grad_check((ope_nn_act)act, ln, &worst);
      printf("  mlp %s layernorm=%d: max |diff|/(1+|g|) %.3g, outliers %.3g\n",
             names[act], ln, worst, frac);
      if (act == OPE_ACT_RELU) assert_true(frac < 0.01);
      else assert_true(frac == 0);
    }
}

/* Forward, backward and input-only backward of a network wide enough for
 * the backward to run on two threads: the same bits as on one. */
static void test_mlp_threads(void **state) {
  (void)state;
  enum { IN = 9, W = 96, OUT = 2, B = 40 };
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, IN, 2, W, OUT, OPE_ACT_RELU);
  float x[B * IN], R[B * OUT], dx[2][B * IN], dxi[2][B * IN], out[2][B * OUT];
  float *grads[2];
  for (int t = 0; t < 2; t++) {
    ope_gemm_set_threads(t + 1);
    ope_mlp *m = NULL;
    ope_mlp_ws *ws = NULL;
    assert_int_equal(ope_mlp_new(&cfg, &m, NULL), OPE_OK);
    assert_int_equal(ope_mlp_ws_new(m, B, &ws, NULL), OPE_OK);
    ope_rng rng;
    ope_rng_seed(&rng, 5, 0);
    ope_mlp_init(m, OPE_INIT_HE, &rng);
    for (int i = 0; i < B * IN; i++) x[i] = (float)ope_rng_normal(&rng);
    for (int i = 0; i < B * OUT; i++) R[i] = (float)ope_rng_normal(&rng);
    memset(dx[t], 0, sizeof dx[t]);
    memset(dxi[t], 0, sizeof dxi[t]);
    memcpy(out[t], ope_mlp_forward(m, ws, x, B), sizeof out[t]);
    ope_mlp_backward(m, ws, R, dx[t]);
    ope_mlp_backward_input(m, ws, R, dxi[t]);
    grads[t] = malloc(m->n_params * sizeof(float));
    memcpy(grads[t], m->grads, m->n_params * sizeof(float));
    if (t == 1) {
      assert_memory_equal(grads[0], grads[1], m->n_params * sizeof(float));
      assert_memory_equal(dx[0], dx[1], sizeof dx[0]);
      assert_memory_equal(dxi[0], dxi[1], sizeof dx[0]);
      assert_memory_equal(dx[0], dxi[0], sizeof dx[0]);
      assert_memory_equal(out[0], out[1], sizeof out[0]);
    }
    ope_mlp_ws_free(ws);
    ope_mlp_free(m);
  }
  ope_gemm_set_threads(1);
  free(grads[0]);
  free(grads[1]);
}

static void test_mlp_two_workspaces_and_limits(void **state) {
  (void)state;
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, 3, 2, 16, 2, OPE_ACT_RELU);
  ope_mlp *m = NULL;
  ope_mlp_ws *w1 = NULL, *w2 = NULL;
  assert_int_equal(ope_mlp_new(&cfg, &m, NULL), OPE_OK);
  assert_int_equal(m->n_params, (size_t)(3 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2));
  assert_int_equal(ope_mlp_ws_new(m, 4, &w1, NULL), OPE_OK);
  assert_int_equal(ope_mlp_ws_new(m, 4, &w2, NULL), OPE_OK);
  ope_rng rng;
  ope_rng_seed(&rng, 1, 0);
  ope_mlp_init(m, OPE_INIT_HE, &rng);
  float a[12], b[12];
  for (int i = 0; i < 12; i++) a[i] = (float)i / 7, b[i] = -(float)i / 5;
  const float *ya = ope_mlp_forward(m, w1, a, 4);
  float keep[8];
  memcpy(keep, ya, sizeof keep);
  ope_mlp_forward(m, w2, b, 4);
  assert_memory_equal(keep, ope_mlp_forward(m, w1, a, 4), sizeof keep);
  ope_mlp_ws_free(w1);
  ope_mlp_ws_free(w2);
  ope_mlp_free(m);
  ope_mlp_free(NULL);
  ope_mlp_ws_free(NULL);

  ope_error err;
  ope_mlp_config_make(&cfg, 3, 1, OPE_MLP_MAX_WIDTH + 1, 2, OPE_ACT_RELU);
  assert_int_equal(ope_mlp_new(&cfg, &m, &err), OPE_EUSAGE);
  assert_null(m);
}

static void test_orthogonal_init(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 3, 0);
  // tall (C > OC): columns orthonormal; wide: rows orthonormal
  int shapes[2][2] = {{12, 5}, {4, 9}};
  for (int s = 0; s < 2; s++) {
    int C = shapes[s][0], OC = shapes[s][1];
    float *w = malloc(sizeof(float) * C * OC);
    ope_nn_init_orthogonal(w, C, OC, 1.0, &rng);
    double worst = 0;
    int cols = C >= OC;
    int nv = cols ? OC : C, len = cols ? C : OC;
    for (int u = 0; u < nv; u++)
      for (int v = 0; v < nv; v++) {
        double d = 0;
        for (int k = 0; k < len; k++)
          d += cols ? (double)w[k * OC + u] * w[k * OC + v]
                    : (double)w[u * OC + k] * w[v * OC + k];
        double e = fabs(d - (u == v));
        worst = e > worst ? e : worst;
      }
    printf("  orthogonal %dx%d: max |W^T W - I| %.3g\n", C, OC, worst);
    assert_true(worst < 1e-5);
    free(w);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mlp_backward),
    cmocka_unit_test(test_mlp_threads),
    cmocka_unit_test(test_mlp_two_workspaces_and_limits),
    cmocka_unit_test(test_orthogonal_init),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

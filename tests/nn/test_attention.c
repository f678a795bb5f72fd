/* Causal self-attention: the backward against central finite differences in
 * double, and both passes (float and double) against the plain-loop
 * reference written directly from the equations.
 *
 * The finite-difference figure is max |analytic - numeric| / (|analytic| +
 * |numeric| + 1e-8) over every entry of qkv, for L = sum(R * out) with fixed
 * random R and h = 1e-5; it must stay below 1e-6. The reference comparisons
 * report the largest absolute difference; tolerances: 1e-12 in double,
 * 1e-5 in float (values are O(1)). */
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
#include "nn/attention.h"

#define NB 2
#define NT 7
#define NC 8
#define NHEAD 2
#define NQKV (NB * NT * 3 * NC)
#define NOUT (NB * NT * NC)
#define NATT (NB * NHEAD * NT * NT)

static double QKV[NQKV], OUT[NOUT], ATT[NATT], R[NOUT];

static void fill(ope_rng *rng, double *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = ope_rng_normal(rng);
}

static double loss(void) {
  ope_nn_attention_forward_d(OUT, ATT, QKV, NB, NT, NC, NHEAD);
  double s = 0;
  for (size_t i = 0; i < NOUT; i++) s += R[i] * OUT[i];
  return s;
}

static double max_abs_diff(const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
  return m;
}

static void test_finite_differences(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 5, 0);
  fill(&rng, QKV, NQKV);
  fill(&rng, R, NOUT);
  static double G[NQKV], S[NT * NT];
  memset(G, 0, sizeof G);
  loss();
  ope_nn_attention_backward_d(G, S, R, QKV, ATT, NB, NT, NC, NHEAD);
  const double h = 1e-5;
  double worst = 0;
  for (size_t i = 0; i < NQKV; i++) {
    double x0 = QKV[i];
    QKV[i] = x0 + h;
    double lp = loss();
    QKV[i] = x0 - h;
    double lm = loss();
    QKV[i] = x0;
    double num = (lp - lm) / (2 * h);
    double d = fabs(G[i] - num) / (fabs(G[i]) + fabs(num) + 1e-8);
    if (d > worst) worst = d;
  }
  printf("  attention d/dqkv: max rel diff %.3g\n", worst);
  assert_true(worst < 1e-6);
  // The gradient is not trivially zero (the check could not pass vacuously).
  double gmax = 0;
  for (size_t i = 0; i < NQKV; i++) gmax = fmax(gmax, fabs(G[i]));
  assert_true(gmax > 1e-3);
}

static void test_causal_mask(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 6, 0);
  fill(&rng, QKV, NQKV);
  ope_nn_attention_forward_d(OUT, ATT, QKV, NB, NT, NC, NHEAD);
  static double OUT2[NOUT];
  memcpy(OUT2, OUT, sizeof OUT);
  // Changing the last token changes no earlier output.
  for (int b = 0; b < NB; b++)
    for (int j = 0; j < 3 * NC; j++) QKV[((size_t)b * NT + NT - 1) * 3 * NC + j] += 1.0;
  ope_nn_attention_forward_d(OUT, ATT, QKV, NB, NT, NC, NHEAD);
  for (int b = 0; b < NB; b++)
    for (int t = 0; t < NT - 1; t++)
      for (int i = 0; i < NC; i++) {
        size_t k = ((size_t)b * NT + t) * NC + i;
        assert_true(OUT[k] == OUT2[k]);
      }
  // Rows of probabilities sum to 1 with zeros above the diagonal.
  for (int r = 0; r < NB * NHEAD * NT; r++) {
    int t = r % NT;
    double s = 0;
    for (int u = 0; u < NT; u++) {
      if (u > t) assert_true(ATT[(size_t)r * NT + u] == 0);
      s += ATT[(size_t)r * NT + u];
    }
    assert_true(fabs(s - 1) < 1e-12);
  }
}

static void test_matches_naive(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 7, 0);
  fill(&rng, QKV, NQKV);
  fill(&rng, R, NOUT);
  static double O1[NOUT], O2[NOUT], A1[NATT], A2[NATT], G1[NQKV], G2[NQKV],
      S[NT * NT];
  memset(G1, 0, sizeof G1);
  memset(G2, 0, sizeof G2);
  ope_nn_attention_forward_d(O1, A1, QKV, NB, NT, NC, NHEAD);
  ope_nn_attention_naive_forward_d(O2, A2, QKV, NB, NT, NC, NHEAD);
  ope_nn_attention_backward_d(G1, S, R, QKV, A1, NB, NT, NC, NHEAD);
  ope_nn_attention_naive_backward_d(G2, R, QKV, A2, NB, NT, NC, NHEAD);
  double dout = max_abs_diff(O1, O2, NOUT), datt = max_abs_diff(A1, A2, NATT);
  double dg = max_abs_diff(G1, G2, NQKV);
  printf("  double vs naive: out %.3g att %.3g dqkv %.3g\n", dout, datt, dg);
  assert_true(dout < 1e-12 && datt < 1e-12 && dg < 1e-12);

  // float kernels against the double reference
  static float Qf[NQKV], Rf[NOUT], Of[NOUT], Af[NATT], Gf[NQKV], Sf[NT * NT];
  for (size_t i = 0; i < NQKV; i++) Qf[i] = (float)QKV[i];
  for (size_t i = 0; i < NOUT; i++) Rf[i] = (float)R[i];
  memset(Gf, 0, sizeof Gf);
  ope_nn_attention_forward_f(Of, Af, Qf, NB, NT, NC, NHEAD);
  ope_nn_attention_backward_f(Gf, Sf, Rf, Qf, Af, NB, NT, NC, NHEAD);
  // the double reference on the float-rounded inputs
  static double Qr[NQKV], Rr[NOUT];
  for (size_t i = 0; i < NQKV; i++) Qr[i] = Qf[i];
  for (size_t i = 0; i < NOUT; i++) Rr[i] = Rf[i];
  memset(G2, 0, sizeof G2);
  ope_nn_attention_naive_forward_d(O2, A2, Qr, NB, NT, NC, NHEAD);
  ope_nn_attention_naive_backward_d(G2, Rr, Qr, A2, NB, NT, NC, NHEAD);
  double wf = 0;
  for (size_t i = 0; i < NOUT; i++) wf = fmax(wf, fabs(Of[i] - O2[i]));
  for (size_t i = 0; i < NQKV; i++) wf = fmax(wf, fabs(Gf[i] - G2[i]));
  printf("  float vs naive double: %.3g\n", wf);
  assert_true(wf < 1e-5);

  // the float naive version agrees with the float fast one
  static float O3[NOUT], A3[NATT], G3[NQKV];
  memset(G3, 0, sizeof G3);
  ope_nn_attention_naive_forward_f(O3, A3, Qf, NB, NT, NC, NHEAD);
  ope_nn_attention_naive_backward_f(G3, Rf, Qf, A3, NB, NT, NC, NHEAD);
  double wff = 0;
  for (size_t i = 0; i < NOUT; i++) wff = fmax(wff, fabs(Of[i] - O3[i]));
  for (size_t i = 0; i < NQKV; i++) wff = fmax(wff, fabs(Gf[i] - G3[i]));
  printf("  float fast vs float naive: %.3g\n", wff);
  assert_true(wff < 1e-5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_finite_differences),
    cmocka_unit_test(test_causal_mask),
    cmocka_unit_test(test_matches_naive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

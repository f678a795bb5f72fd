/* The CBLAS GEMM wrapper against the plain-loop reference, all four
 * transposition cases, float and double, with beta 0 and 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "nn/gemm.h"

static void test_gemm_double_and_float(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 11, 0);
  const int M = 37, N = 29, K = 53;
  double *A = malloc(sizeof(double) * M * K), *B = malloc(sizeof(double) * K * N);
  double *C1 = malloc(sizeof(double) * M * N), *C2 = malloc(sizeof(double) * M * N);
  float *Af = malloc(sizeof(float) * M * K), *Bf = malloc(sizeof(float) * K * N);
  float *F1 = malloc(sizeof(float) * M * N), *F2 = malloc(sizeof(float) * M * N);
  for (int i = 0; i < M * K; i++) Af[i] = (float)(A[i] = ope_rng_normal(&rng));
  for (int i = 0; i < K * N; i++) Bf[i] = (float)(B[i] = ope_rng_normal(&rng));
  double worst_d = 0, worst_f = 0;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int beta = 0; beta < 2; beta++) {
        int lda = ta ? M : K, ldb = tb ? K : N;
        for (int i = 0; i < M * N; i++) {
          C1[i] = C2[i] = 0.5 * i;
          F1[i] = F2[i] = (float)(0.5 * i);
        }
        ope_gemm_d(ta, tb, M, N, K, 0.7, A, lda, B, ldb, beta, C1, N);
        ope_gemm_ref_d(ta, tb, M, N, K, 0.7, A, lda, B, ldb, beta, C2, N);
        ope_gemm_f(ta, tb, M, N, K, 0.7f, Af, lda, Bf, ldb, (float)beta, F1, N);
        ope_gemm_ref_f(ta, tb, M, N, K, 0.7f, Af, lda, Bf, ldb, (float)beta, F2, N);
        for (int i = 0; i < M * N; i++) {
          // absolute scale: entries are sums of K unit normals
          double dd = fabs(C1[i] - C2[i]) / (1 + fabs(C2[i]));
          double df = fabs((double)F1[i] - F2[i]) / (1 + fabs((double)F2[i]));
          worst_d = dd > worst_d ? dd : worst_d;
          worst_f = df > worst_f ? df : worst_f;
        }
      }
  printf("gemm vs reference: max rel diff double %.3g, float %.3g\n", worst_d,
         worst_f);
  assert_true(worst_d < 1e-12);
  assert_true(worst_f < 1e-5);
  free(A), free(B), free(C1), free(C2), free(Af), free(Bf), free(F1), free(F2);
}

static void test_gemm_threads(void **state) {
  (void)state;
  ope_gemm_set_threads(1);
  assert_int_equal(ope_gemm_threads(), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gemm_double_and_float),
    cmocka_unit_test(test_gemm_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The CBLAS GEMM wrapper against the plain-loop reference, all four
 * transposition cases, float and double, with beta 0 and 1; the one-column
 * (GEMV) path; and bitwise-equal float products for every thread count. */
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

/* N = 1 goes through GEMV: check it against the reference, including
 * beta 0 over a C holding NaN. */
static void test_gemm_one_column(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 12, 0);
  enum { M = 41, K = 67 };
  float A[M * K], B[K * 3], F1[M * 2], F2[M * 2];
  for (int i = 0; i < M * K; i++) A[i] = (float)ope_rng_normal(&rng);
  for (int i = 0; i < K * 3; i++) B[i] = (float)ope_rng_normal(&rng);
  double worst = 0;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int beta = 0; beta < 2; beta++) {
        // b is column 1 of a (K,3) matrix, or row 1 of a (3,K) one; C has
        // row stride 2
        const float *b = tb ? B + K : B + 1;
        int lda = ta ? M : K, ldb = tb ? K : 3;
        for (int i = 0; i < M * 2; i++) F1[i] = F2[i] = beta ? (float)(0.25 * i) : NAN;
        ope_gemm_f(ta, tb, M, 1, K, 0.7f, A, lda, b, ldb, (float)beta, F1, 2);
        for (int i = 0; i < M * 2; i += 2) F2[i] = beta ? F2[i] : 0;
        ope_gemm_ref_f(ta, tb, M, 1, K, 0.7f, A, lda, b, ldb, (float)beta, F2, 2);
        for (int i = 0; i < M; i++) {
          double df = fabs((double)F1[2 * i] - F2[2 * i]) / (1 + fabs((double)F2[2 * i]));
          worst = df > worst ? df : worst;
          assert_true(memcmp(&F1[2 * i + 1], &F2[2 * i + 1], sizeof(float)) == 0 ||
                      (isnan(F1[2 * i + 1]) && isnan(F2[2 * i + 1])));
        }
      }
  printf("one-column gemm vs reference: max rel diff %.3g\n", worst);
  assert_true(worst < 1e-5);
}

/* A task for ope_gemm_run2: one product, plus a nested run2 of two more
 * when `nest` is set. */
typedef struct task {
  const float *A, *B;
  float *C;
  int n, nest;
} task;

static void product(void *arg) {
  task *t = arg;
  ope_gemm_f(0, 1, t->n, t->n, t->n, 1.0f, t->A, t->n, t->B, t->n, 0.0f, t->C, t->n);
  if (t->nest) {
    task u = *t, v = *t;
    u.nest = v.nest = 0;
    u.C = t->C + (size_t)t->n * t->n;
    v.C = u.C + (size_t)t->n * t->n;
    v.A = t->B, v.B = t->A;
    ope_gemm_run2(product, &u, product, &v);
  }
}

/* ope_gemm_run2 runs both tasks (and nested calls) with 1 and 2 threads,
 * with the same bits either way. */
static void test_gemm_threads(void **state) {
  (void)state;
  enum { n = 64, per = 3 * n * n };
  ope_rng rng;
  ope_rng_seed(&rng, 13, 0);
  float *A = malloc(sizeof(float) * n * n), *B = malloc(sizeof(float) * n * n);
  float *C[2];
  for (int i = 0; i < n * n; i++) A[i] = (float)ope_rng_normal(&rng);
  for (int i = 0; i < n * n; i++) B[i] = (float)ope_rng_normal(&rng);
  for (int t = 0; t < 2; t++) {
    C[t] = calloc(2 * per, sizeof(float));
    ope_gemm_set_threads(t + 1);
    assert_int_equal(ope_gemm_threads(), t + 1);
    for (int rep = 0; rep < 50; rep++) {
      task x = {A, B, C[t], n, 1}, y = {B, A, C[t] + per, n, 1};
      ope_gemm_run2(product, &x, product, &y);
    }
  }
  for (int i = 0; i < 2 * per; i++) assert_true(C[0][i] != 0);
  assert_memory_equal(C[0], C[1], sizeof(float) * 2 * per);
  ope_gemm_set_threads(1);
  free(A), free(B), free(C[0]), free(C[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gemm_double_and_float),
    cmocka_unit_test(test_gemm_one_column),
    cmocka_unit_test(test_gemm_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* CBLAS-backed GEMM and its plain-loop reference; see gemm.h. */
#include "nn/gemm.h"

#include <cblas.h>

void ope_gemm_f(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
              ldb, beta, C, ldc);
}

void ope_gemm_d(int trans_a, int trans_b, int M, int N, int K, double alpha,
                const double *A, int lda, const double *B, int ldb,
                double beta, double *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
              ldb, beta, C, ldc);
}

/* One body for both element types; sums in double for the reference. */
#define GEMM_REF_BODY(T)                                                     \
  for (int i = 0; i < M; i++) {                                              \
    for (int j = 0; j < N; j++) {                                            \
      double s = 0.0;                                                        \
      for (int k = 0; k < K; k++) {                                          \
        T a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];     \
        T b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];     \
        s += (double)a * (double)b;                                          \
      }                                                                      \
      T *c = &C[(size_t)i * ldc + j];                                        \
      /* beta == 0 overwrites, so C may hold garbage (BLAS semantics). */    \
      *c = (T)(alpha * s + (beta == 0 ? 0.0 : beta * (double)*c));           \
    }                                                                        \
  }

void ope_gemm_ref_f(int trans_a, int trans_b, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc) {
  GEMM_REF_BODY(float)
}

void ope_gemm_ref_d(int trans_a, int trans_b, int M, int N, int K,
                    double alpha, const double *A, int lda, const double *B,
                    int ldb, double beta, double *C, int ldc) {
  GEMM_REF_BODY(double)
}

void ope_gemm_set_threads(int n) {
  openblas_set_num_threads(n < 1 ? 1 : n);
}

int ope_gemm_threads(void) {
  return openblas_get_num_threads();
}

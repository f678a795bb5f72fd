/* The one matrix-multiply wrapper of the neural-network core.
 *
 * Every dense product in src/nn goes through ope_gemm_f / ope_gemm_d, which
 * call the CBLAS (OpenBLAS) sgemm / dgemm on row-major arrays. The plain-loop
 * versions ope_gemm_ref_* compute the same product in the obvious order; tests
 * use them as the reference. BLAS threading is set here and nowhere else.
 *
 * All matrices are row-major. C (M,N) = alpha * op(A) (M,K) * op(B) (K,N)
 * + beta * C, where op(X) is X or its transpose (trans_x != 0). lda, ldb, ldc
 * are the row strides of A, B, C as stored (before transposition). */
#ifndef OPE_NN_GEMM_H
#define OPE_NN_GEMM_H

void ope_gemm_f(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);
void ope_gemm_d(int trans_a, int trans_b, int M, int N, int K, double alpha,
                const double *A, int lda, const double *B, int ldb,
                double beta, double *C, int ldc);

/* Same contract, plain loops, no BLAS. */
void ope_gemm_ref_f(int trans_a, int trans_b, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc);
void ope_gemm_ref_d(int trans_a, int trans_b, int M, int N, int K,
                    double alpha, const double *A, int lda, const double *B,
                    int ldb, double beta, double *C, int ldc);

/* Number of threads the BLAS may use (n >= 1; 0 or less means 1). A
 * different thread count may split a product's sums differently, so
 * bitwise-identical results are promised for a fixed thread count. */
void ope_gemm_set_threads(int n);
/* The current BLAS thread count. */
int ope_gemm_threads(void);

#endif

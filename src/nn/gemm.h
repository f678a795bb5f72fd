/* The one matrix-multiply wrapper of the neural-network core.
 *
 * Every dense product in src/nn goes through ope_gemm_f / ope_gemm_d, which
 * call the CBLAS (OpenBLAS) sgemm / dgemm on row-major arrays. The plain-loop
 * versions ope_gemm_ref_* compute the same product in the obvious order; tests
 * use them as the reference. Threading is set here and nowhere else.
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

/* Number of threads the neural-network code may use (n >= 1; 0 or less
 * means 1). From the first call on, the BLAS itself runs on one thread
 * (each product on its caller's thread, so several threads may run
 * products at once) and n >= 2 lets ope_gemm_run2 run two tasks at once.
 * No result depends on n. Before the first call the BLAS's own threading
 * applies. */
void ope_gemm_set_threads(int n);
/* The thread count last set (before any: the BLAS's own count). */
int ope_gemm_threads(void);

/* Run fa(a) and fb(b), which must not touch each other's data: at the same
 * time on two threads when the thread count is >= 2 and no other
 * ope_gemm_run2 is running (fa on the calling thread), else one after the
 * other. Returns when both are done. Nested calls run sequentially. */
void ope_gemm_run2(void (*fa)(void *), void *a, void (*fb)(void *), void *b);

#endif

/* CBLAS-backed GEMM, the two-task runner and the plain-loop reference;
 * see gemm.h.
 *
 * Threads: once ope_gemm_set_threads(n) has been called the BLAS itself
 * runs on one thread, and with n >= 2 ope_gemm_run2 runs its second task
 * on a persistent worker thread while the caller runs the first (or the
 * caller runs both when the worker has not started by then). Cutting
 * one product into pieces would be faster still, but OpenBLAS's kernels do
 * not give the same bits for a piece as for the whole, and results must
 * not depend on the thread count; whole tasks do not have that problem.
 * Products with one output column go to sgemv, which is much faster than
 * sgemm for them. */
#include "nn/gemm.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

/* Polls of the waiting worker before it sleeps on the condition variable. */
#define WORKER_SPINS 5000

static struct {
  atomic_int threads;             /* 0: never set (the BLAS decides) */
  int started;                    /* the worker runs */
  pthread_mutex_t mu;             /* guards the sleep of the worker */
  pthread_cond_t cv;
  pthread_mutex_t busy;           /* held by the thread using the worker */
  atomic_uint gen;                /* bumped once per handed-out task */
  atomic_uint claimed;            /* generation of the last task taken */
  atomic_uint done;               /* generation of the last task the
                                     worker finished */
  void (*fn)(void *);             /* the worker's task */
  void *arg;
} pool = {
  .mu = PTHREAD_MUTEX_INITIALIZER,
  .cv = PTHREAD_COND_INITIALIZER,
  .busy = PTHREAD_MUTEX_INITIALIZER,
};

static void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *worker(void *arg) {
  unsigned seen = (unsigned)(size_t)arg; /* generation at start */
  for (;;) {
    unsigned g = atomic_load(&pool.gen);
    for (int i = 0; g == seen && i < WORKER_SPINS; i++) {
      relax();
      g = atomic_load(&pool.gen);
    }
    if (g == seen) {
      pthread_mutex_lock(&pool.mu);
      while ((g = atomic_load(&pool.gen)) == seen)
        pthread_cond_wait(&pool.cv, &pool.mu);
      pthread_mutex_unlock(&pool.mu);
    }
    seen = g;
    // the caller runs the task itself when it gets there first
    unsigned expect = g - 1;
    if (atomic_compare_exchange_strong(&pool.claimed, &expect, g)) {
      pool.fn(pool.arg);
      atomic_store(&pool.done, g);
    }
  }
  return NULL;
}

/* A forked child has none of the parent's threads. */
static void pool_after_fork(void) {
  pool.started = 0;
  pthread_mutex_init(&pool.mu, NULL);
  pthread_cond_init(&pool.cv, NULL);
  pthread_mutex_init(&pool.busy, NULL);
}

/* Start the worker if needed (the caller holds busy); 0 when it cannot. */
static int pool_start(void) {
  static int atfork_done;
  if (pool.started) return 1;
  if (!atfork_done) {
    pthread_atfork(NULL, NULL, pool_after_fork);
    atfork_done = 1;
  }
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  unsigned g = atomic_load(&pool.gen);
  pool.started = pthread_create(&t, &at, worker, (void *)(size_t)g) == 0;
  pthread_attr_destroy(&at);
  return pool.started;
}

void ope_gemm_run2(void (*fa)(void *), void *a, void (*fb)(void *), void *b) {
  if (atomic_load(&pool.threads) < 2 || pthread_mutex_trylock(&pool.busy) != 0) {
    fa(a);
    fb(b);
    return;
  }
  if (!pool_start()) {
    pthread_mutex_unlock(&pool.busy);
    fa(a);
    fb(b);
    return;
  }
  pool.fn = fb;
  pool.arg = b;
  pthread_mutex_lock(&pool.mu);
  unsigned g = atomic_fetch_add(&pool.gen, 1) + 1;
  pthread_cond_broadcast(&pool.cv);
  pthread_mutex_unlock(&pool.mu);
  fa(a);
  // a worker that has not started yet (busy machine, or asleep) leaves fb
  // to the caller
  unsigned expect = g - 1;
  if (atomic_compare_exchange_strong(&pool.claimed, &expect, g)) {
    fb(b);
  } else {
    for (long i = 0; atomic_load(&pool.done) != g; i++) {
      if (i > 2000) sched_yield();
      else relax();
    }
  }
  pthread_mutex_unlock(&pool.busy);
}

void ope_gemm_f(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (beta == 0) {
    // zero C here, then add: the same sums, and much faster than the
    // BLAS's own beta pass
    for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
    beta = 1;
  }
  if (N == 1 && K > 0) {
    // C (M,1) = alpha op(A) b + beta C with b the column of op(B)
    cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_a ? K : M, trans_a ? M : K, alpha, A, lda, B,
                trans_b ? 1 : ldb, beta, C, ldc);
    return;
  }
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
  atomic_store(&pool.threads, n < 1 ? 1 : n);
  openblas_set_num_threads(1);
}

int ope_gemm_threads(void) {
  int n = atomic_load(&pool.threads);
  return n > 0 ? n : openblas_get_num_threads();
}

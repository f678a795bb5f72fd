/* The fast path of the percentile bootstrap (boot_fast.h): byte counts
 * (four streams at once in AVX2 lanes where the CPU has them),
 * single-precision products over blocks of episodes, double accumulation. */
#include "estimators/boot_fast.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "estimators/boot_draws.h"
#include "nn/gemm.h"

/* replicates per block (bytes of counts at most FAST_CELLS) and episodes
 * per product */
enum { FAST_BLOCK = 128, FAST_CELLS = 1 << 22, EP_BLOCK = 512 };

/* Whether the byte counts of one replicate add up to n (a wrapped byte lost
 * 256: the replicate is then drawn wide). */
static int counts_total_ok(const uint8_t *count, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += count[i];
  return total == n;
}

/* The counts of replicates b .. b + m - 1 (m <= 2) as bytes, rows n apart;
 * ok[r] = 0 when row r wrapped (its bytes are then garbage). Two streams
 * are drawn side by side: each draw waits on its own stream's previous
 * state, so interleaving two keeps the core busy. */
static void boot_counts_u8(uint64_t seed, uint64_t b, size_t m, size_t n,
                           uint8_t *count, int *ok) {
  ope_boot_draws d0, d1;
  ope_boot_draws_init(&d0, seed, b, n);
  memset(count, 0, m * n);
  if (m == 2) {
    uint8_t *c1 = count + n;
    ope_boot_draws_init(&d1, seed, b + 1, n);
    for (size_t k = 0; k < n; k++) {
      size_t i0 = ope_boot_draws_next(&d0), i1 = ope_boot_draws_next(&d1);
      count[i0]++;
      c1[i1]++;
    }
  } else {
    for (size_t k = 0; k < n; k++) count[ope_boot_draws_next(&d0)]++;
  }
  for (size_t r = 0; r < m; r++) ok[r] = counts_total_ok(count + r * n, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X4 1

#define ROTL4(v, k) _mm256_or_si256(_mm256_slli_epi64(v, k), _mm256_srli_epi64(v, 64 - (k)))

/* The counts of replicates b .. b + 3 as bytes (rows n apart), the four
 * streams in the lanes of AVX2 registers: the same xoshiro256** steps, and
 * Lemire's product x n (n < 2^32 here) as two 32 x 32-bit halves with the
 * carry, so every lane draws exactly what ope_boot_draws_next draws. A lane
 * whose draw is rejected (probability n / 2^64) finishes it in scalar code. */
__attribute__((target("avx2")))
static void counts_x4(uint64_t seed, uint64_t b, size_t n, uint8_t *count) {
  ope_boot_draws d[4];
  for (int r = 0; r < 4; r++) ope_boot_draws_init(&d[r], seed, b + (uint64_t)r, n);
  uint64_t st[4][4] __attribute__((aligned(32))), idx[4] __attribute__((aligned(32)));
  for (int r = 0; r < 4; r++) {
    st[0][r] = d[r].s0;
    st[1][r] = d[r].s1;
    st[2][r] = d[r].s2;
    st[3][r] = d[r].s3;
  }
  __m256i s0 = _mm256_load_si256((const __m256i *)st[0]);
  __m256i s1 = _mm256_load_si256((const __m256i *)st[1]);
  __m256i s2 = _mm256_load_si256((const __m256i *)st[2]);
  __m256i s3 = _mm256_load_si256((const __m256i *)st[3]);
  const __m256i nv = _mm256_set1_epi64x((long long)n);
  const __m256i sign = _mm256_set1_epi64x((long long)0x8000000000000000ull);
  const __m256i th = _mm256_xor_si256(_mm256_set1_epi64x((long long)d[0].thresh), sign);
  memset(count, 0, 4 * n);
  for (size_t k = 0; k < n; k++) {
    __m256i x = _mm256_add_epi64(_mm256_slli_epi64(s1, 2), s1); /* s1 * 5 */
    x = ROTL4(x, 7);
    x = _mm256_add_epi64(_mm256_slli_epi64(x, 3), x);            /* * 9 */
    __m256i t = _mm256_slli_epi64(s1, 17);
    s2 = _mm256_xor_si256(s2, s0);
    s3 = _mm256_xor_si256(s3, s1);
    s1 = _mm256_xor_si256(s1, s2);
    s0 = _mm256_xor_si256(s0, s3);
    s2 = _mm256_xor_si256(s2, t);
    s3 = ROTL4(s3, 45);
    /* x n = a + b 2^32 with a = lo32(x) n, b = hi32(x) n */
    __m256i a = _mm256_mul_epu32(x, nv), bh = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), nv);
    __m256i lo = _mm256_add_epi64(a, _mm256_slli_epi64(bh, 32));
    __m256i carry = _mm256_cmpgt_epi64(_mm256_xor_si256(a, sign), _mm256_xor_si256(lo, sign));
    __m256i hi = _mm256_sub_epi64(_mm256_srli_epi64(bh, 32), carry);
    __m256i rej = _mm256_cmpgt_epi64(th, _mm256_xor_si256(lo, sign)); /* lo < thresh */
    _mm256_store_si256((__m256i *)idx, hi);
    if (__builtin_expect(_mm256_movemask_epi8(rej) != 0, 0)) {
      uint64_t rj[4] __attribute__((aligned(32)));
      _mm256_store_si256((__m256i *)rj, rej);
      _mm256_store_si256((__m256i *)st[0], s0);
      _mm256_store_si256((__m256i *)st[1], s1);
      _mm256_store_si256((__m256i *)st[2], s2);
      _mm256_store_si256((__m256i *)st[3], s3);
      for (int r = 0; r < 4; r++) {
        if (!rj[r]) continue;
        ope_boot_draws e = {st[0][r], st[1][r], st[2][r], st[3][r], n, d[0].thresh};
        idx[r] = ope_boot_draws_next(&e);
        st[0][r] = e.s0;
        st[1][r] = e.s1;
        st[2][r] = e.s2;
        st[3][r] = e.s3;
      }
      s0 = _mm256_load_si256((const __m256i *)st[0]);
      s1 = _mm256_load_si256((const __m256i *)st[1]);
      s2 = _mm256_load_si256((const __m256i *)st[2]);
      s3 = _mm256_load_si256((const __m256i *)st[3]);
    }
    count[idx[0]]++;
    count[n + idx[1]]++;
    count[2 * n + idx[2]]++;
    count[3 * n + idx[3]]++;
  }
}
#endif

/* The byte counts of replicates b .. b + m - 1 (rows n apart) with ok[r]
 * as in boot_counts_u8, four at a time where the CPU has AVX2. */
static void boot_counts_rows(uint64_t seed, uint64_t b, size_t m, size_t n,
                             uint8_t *count, int *ok) {
  size_t r = 0;
#ifdef HAVE_X4
  if (__builtin_cpu_supports("avx2"))
    for (; r + 4 <= m; r += 4) {
      counts_x4(seed, b + r, n, count + r * n);
      for (size_t q = r; q < r + 4; q++) ok[q] = counts_total_ok(count + q * n, n);
    }
#endif
  for (; r < m; r += 2)
    boot_counts_u8(seed, b + r, m - r < 2 ? 1 : 2, n, count + r * n, ok + r);
}

size_t ope_boot_fast_rows(size_t n) {
  size_t r = FAST_CELLS / n;
  return r < 1 ? 1 : r > FAST_BLOCK ? FAST_BLOCK : r;
}

/* One matrix of the product: rows are episodes; its k columns are columns
 * off .. off + k - 1 of the replicate sums S. */
typedef struct fast_src {
  const float *xf;     /* single precision, or NULL: */
  const double *x;     /* double */
  size_t k, off;
} fast_src;

typedef struct fast_job {
  const ope_ci_config *cfg;
  const ope_estimator *const *est;
  const ope_est_stats *stats;
  const fast_src *src;
  const size_t *off;   /* (n_est) first column of estimator e in S */
  size_t n_est, n, n_src, ktot;
  int tid, n_threads;
  double *rep;         /* (B, n_est) */
  int failed;
} fast_job;

static void *fast_worker(void *arg) {
  fast_job *j = arg;
  size_t B = (size_t)j->cfg->n_boot, n = j->n, RB = ope_boot_fast_rows(n), kt = j->ktot;
  size_t kf = 1;
  int any_double = 0;
  for (size_t q = 0; q < j->n_src; q++) {
    if (j->src[q].xf && j->src[q].k > kf) kf = j->src[q].k;
    any_double |= j->src[q].xf == NULL;
  }
  uint8_t *cnt = malloc(RB * n);
  int *ok = malloc(RB * sizeof(int));
  unsigned char *wide_row = calloc(RB, 1);
  float *cf = malloc(RB * EP_BLOCK * sizeof(float));
  double *cd = any_double ? malloc(RB * EP_BLOCK * sizeof(double)) : NULL;
  float *sf = malloc(RB * kf * sizeof(float));
  double *S = malloc(RB * (kt ? kt : 1) * sizeof(double));
  float *wide = NULL;    /* (RB, n) counts of replicates drawn wide */
  double *tmp = NULL;    /* (n) */
  if (!cnt || !ok || !wide_row || !cf || (any_double && !cd) || !sf || !S) {
    j->failed = 1;
    goto done;
  }
  for (size_t b0 = (size_t)j->tid * RB; b0 < B; b0 += (size_t)j->n_threads * RB) {
    size_t R = B - b0 < RB ? B - b0 : RB;
    boot_counts_rows(j->cfg->seed, b0, R, n, cnt, ok);
    for (size_t r = 0; r < R; r++) {
      if (!(wide_row[r] = !ok[r])) continue;
      if (wide == NULL && ((wide = malloc(RB * n * sizeof(float))) == NULL ||
                           (tmp = malloc(n * sizeof(double))) == NULL)) {
        j->failed = 1;
        goto done;
      }
      ope_ci_boot_counts(j->cfg->seed, b0 + r, n, tmp);
      for (size_t i = 0; i < n; i++) wide[r * n + i] = (float)tmp[i];
    }
    memset(S, 0, R * kt * sizeof(double));
    for (size_t i0 = 0; i0 < n; i0 += EP_BLOCK) {
      size_t kb = n - i0 < EP_BLOCK ? n - i0 : EP_BLOCK;
      /* counts of this block of episodes, (R, kb) */
      for (size_t r = 0; r < R; r++) {
        float *o = cf + r * kb;
        if (wide_row[r]) {
          memcpy(o, wide + r * n + i0, kb * sizeof(float));
        } else {
          const uint8_t *c = cnt + r * n + i0;
          for (size_t i = 0; i < kb; i++) o[i] = (float)c[i];
        }
        if (cd)
          for (size_t i = 0; i < kb; i++) cd[r * kb + i] = (double)o[i];
      }
      for (size_t q = 0; q < j->n_src; q++) {
        const fast_src *sc = &j->src[q];
        if (sc->k == 0) continue;
        if (sc->xf == NULL) { /* S (R, k) += C (R, kb) x (kb, k) */
          ope_gemm_d(0, 0, (int)R, (int)sc->k, (int)kb, 1.0, cd, (int)kb,
                     sc->x + i0 * sc->k, (int)sc->k, 1.0, S + sc->off, (int)kt);
          continue;
        }
        ope_gemm_f(0, 0, (int)R, (int)sc->k, (int)kb, 1.0f, cf, (int)kb,
                   sc->xf + i0 * sc->k, (int)sc->k, 0.0f, sf, (int)sc->k);
        for (size_t r = 0; r < R; r++) {
          double *d = S + r * kt + sc->off;
          const float *f = sf + r * sc->k;
          for (size_t c = 0; c < sc->k; c++) d[c] += (double)f[c];
        }
      }
    }
    for (size_t e = 0; e < j->n_est; e++) {
      const ope_est_stats *s = &j->stats[e];
      for (size_t r = 0; r < R; r++) {
        double v = NAN;
        if (s->k == 0 ||
            j->est[e]->value(s, S + r * kt + j->off[e], (double)n, &v) != OPE_EST_DEFINED)
          v = NAN;
        j->rep[(b0 + r) * j->n_est + e] = v;
      }
    }
  }
done:
  free(cnt);
  free(ok);
  free(wide_row);
  free(cf);
  free(cd);
  free(sf);
  free(S);
  free(wide);
  free(tmp);
  return NULL;
}

/* Whether every value of x (n, k) keeps its accuracy as a float. */
static int x_f32_ok(const double *x, size_t nk) {
  for (size_t i = 0; i < nk; i++)
    if (!ope_est_f32_ok(x[i])) return 0;
  return 1;
}

/* Statistics kept double whose values fit a float are copied side by side
 * into one float matrix; the others are multiplied in double. */
ope_status ope_boot_fast_replicates(const ope_ci_config *cfg,
                                    const ope_estimator *const *est,
                                    const ope_est_stats *stats, size_t n_est,
                                    int T, double *rep, ope_error *err) {
  ope_status st = OPE_OK;
  size_t n = stats[0].n, kc = 0, kt = 0, n_src = 0;
  fast_src *src = calloc(n_est + 1, sizeof *src);
  size_t *off = calloc(n_est ? n_est : 1, sizeof *off);
  unsigned char *conv = calloc(n_est ? n_est : 1, 1);
  float *xc = NULL;
  fast_job *jobs = calloc((size_t)T, sizeof *jobs);
  if (!src || !off || !conv || !jobs) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t e = 0; e < n_est; e++)
    if (stats[e].x && (conv[e] = (unsigned char)x_f32_ok(stats[e].x, n * stats[e].k)))
      kc += stats[e].k;
  /* S columns: the converted estimators first, then the others in order */
  if (kc > 0) {
    if ((xc = malloc(n * kc * sizeof(float))) == NULL) {
      st = ope_error_nomem(err);
      goto done;
    }
    for (size_t e = 0; e < n_est; e++) {
      if (!conv[e]) continue;
      size_t k = stats[e].k;
      for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) xc[i * kc + kt + c] = (float)stats[e].x[i * k + c];
      off[e] = kt;
      kt += k;
    }
    src[n_src++] = (fast_src){xc, NULL, kc, 0};
  }
  for (size_t e = 0; e < n_est; e++) {
    if (conv[e] || stats[e].k == 0) continue;
    off[e] = kt;
    src[n_src++] = (fast_src){stats[e].xf, stats[e].xf ? NULL : stats[e].x, stats[e].k, kt};
    kt += stats[e].k;
  }
  for (int t = 0; t < T; t++)
    jobs[t] = (fast_job){cfg, est, stats, src, off, n_est, n, n_src, kt, t, T, rep, 0};
  ope_parallel_run(fast_worker, jobs, sizeof *jobs, T);
  for (int t = 0; t < T; t++)
    if (jobs[t].failed) st = ope_error_nomem(err);
done:
  free(src);
  free(off);
  free(conv);
  free(xc);
  free(jobs);
  return st;
}

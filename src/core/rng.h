/* A small, explicit, reproducible random number generator.
 *
 * xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64. State is
 * always passed by the caller; nothing reads a global seed. Independent
 * streams for threads or bootstrap replicates come from
 * ope_rng_seed(rng, seed, stream): the same (seed, stream) always gives the
 * same sequence, so results do not depend on how work is split over threads. */
#ifndef OPE_CORE_RNG_H
#define OPE_CORE_RNG_H

#include <stdint.h>

typedef struct ope_rng {
  uint64_t s[4];
  double spare_normal;
  int has_spare;
} ope_rng;

/* Seed rng for stream number `stream` of `seed`. */
void ope_rng_seed(ope_rng *rng, uint64_t seed, uint64_t stream);

uint64_t ope_rng_u64(ope_rng *rng);
/* Uniform on [0, 1) with 53 random bits. */
double ope_rng_uniform(ope_rng *rng);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t ope_rng_below(ope_rng *rng, uint64_t n);
/* Standard normal (Marsaglia polar method). */
double ope_rng_normal(ope_rng *rng);
/* Index drawn from the discrete distribution p[0..n-1] (sums to ~1). */
int ope_rng_categorical(ope_rng *rng, const double *p, int n);

#endif

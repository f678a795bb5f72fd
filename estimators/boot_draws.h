/* The episode draws of the percentile bootstrap, shared by its exact path
 * (ci.c) and its fast path (boot_fast.c): replicate b draws n episodes
 * with replacement from RNG stream b of the seed. Private to estimators/. */
#ifndef OPE_ESTIMATORS_BOOT_DRAWS_H
#define OPE_ESTIMATORS_BOOT_DRAWS_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* The draws of ope_rng_below (xoshiro256** and Lemire's nearly-divisionless
 * method) inlined on a local copy of the state: counting 2e7 draws is the
 * bootstrap's second cost after the product, and a call per draw doubles it.
 * The sequence is exactly that of ope_rng_below on the same stream. */
static inline uint64_t ope_boot_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
__extension__ typedef unsigned __int128 ope_boot_u128;

/* One replicate's stream of episode draws. */
typedef struct ope_boot_draws {
  uint64_t s0, s1, s2, s3, n, thresh;
} ope_boot_draws;

static inline void ope_boot_draws_init(ope_boot_draws *d, uint64_t seed, uint64_t b, size_t n) {
  ope_rng rng;
  ope_rng_seed(&rng, seed, b);
  d->s0 = rng.s[0];
  d->s1 = rng.s[1];
  d->s2 = rng.s[2];
  d->s3 = rng.s[3];
  d->n = n;
  d->thresh = n ? -d->n % d->n : 0;
}

static inline size_t ope_boot_draws_next(ope_boot_draws *d) {
  ope_boot_u128 m;
  uint64_t l;
  do {
    uint64_t x = ope_boot_rotl64(d->s1 * 5, 7) * 9, t = d->s1 << 17;
    d->s2 ^= d->s0;
    d->s3 ^= d->s1;
    d->s1 ^= d->s2;
    d->s0 ^= d->s3;
    d->s2 ^= t;
    d->s3 = ope_boot_rotl64(d->s3, 45);
    m = (ope_boot_u128)x * d->n;
    l = (uint64_t)m;
  } while (l < d->thresh);
  return (size_t)(m >> 64);
}

#endif

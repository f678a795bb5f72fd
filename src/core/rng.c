/* xoshiro256** with splitmix64 seeding; see rng.h. */
#include "core/rng.h"

#include <math.h>

__extension__ typedef unsigned __int128 u128;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ope_rng_seed(ope_rng *rng, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (0xd1b54a32d192ed03ULL * (stream + 1));
  /* Mix once more so nearby (seed, stream) pairs land far apart. */
  x = splitmix64(&x) ^ stream;
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
  rng->has_spare = 0;
  rng->spare_normal = 0.0;
}

uint64_t ope_rng_u64(ope_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double ope_rng_uniform(ope_rng *rng) {
  return (double)(ope_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t ope_rng_below(ope_rng *rng, uint64_t n) {
  /* Lemire's nearly-divisionless method. */
  uint64_t x = ope_rng_u64(rng);
  u128 m = (u128)x * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      x = ope_rng_u64(rng);
      m = (u128)x * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double ope_rng_normal(ope_rng *rng) {
  if (rng->has_spare) {
    rng->has_spare = 0;
    return rng->spare_normal;
  }
  double u, v, s;
  do {
    u = 2.0 * ope_rng_uniform(rng) - 1.0;
    v = 2.0 * ope_rng_uniform(rng) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = sqrt(-2.0 * log(s) / s);
  rng->spare_normal = v * f;
  rng->has_spare = 1;
  return u * f;
}

int ope_rng_categorical(ope_rng *rng, const double *p, int n) {
  double u = ope_rng_uniform(rng), c = 0.0;
  for (int i = 0; i < n; i++) {
    c += p[i];
    if (u < c) return i;
  }
  /* Rounding left u above the total: return the last action with mass. */
  for (int i = n - 1; i >= 0; i--)
    if (p[i] > 0.0) return i;
  return n - 1;
}

/* Shortest round-trip double formatting (numfmt.h).
 *
 * The output is the shortest decimal that reads back to x, and among those
 * the nearest to x, spelled like printf's %.Pg with P = max(15, digits):
 * plain notation unless the decimal exponent is < -4 or >= P.
 *
 * Fast path, exact integer arithmetic (no tables beyond powers of 5): for
 * x = m 2^e with 53-bit m, e <= 0 and 1e-11 <= |x| < 2^53 (nearly every
 * number a simulator or estimator writes), pick k with x 10^k in
 * [1e16, 2e17). The doubles that read back to x are those inside the
 * rounding interval (x - ulp_lo/2, x + ulp/2), inclusive when m is even
 * (round-half-to-even). Scaled by 10^k = 5^k 2^k, the interval's ends and x
 * are exact 128-bit integers over a power of two, 4m 5^k / 2^sh, so the
 * integers inside the interval come from shifts. Its width is > 1.1 in
 * those units, so one always exists; dividing both ends by 10 while they
 * still differ finds the shortest length, and rounding x to that length
 * (clamped into the interval) gives the nearest candidate. Everything else
 * (subnormals, tiny or huge magnitudes) takes the slow path: printf with
 * 15, 16, then 17 digits, the first that reads back. */
#include "data/numfmt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

static const uint64_t pow5[28] = {
  1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL, 390625ULL,
  1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL, 1220703125ULL,
  6103515625ULL, 30517578125ULL, 152587890625ULL, 762939453125ULL,
  3814697265625ULL, 19073486328125ULL, 95367431640625ULL, 476837158203125ULL,
  2384185791015625ULL, 11920928955078125ULL, 59604644775390625ULL,
  298023223876953125ULL, 1490116119384765625ULL, 7450580596923828125ULL,
};

static const uint64_t pow10[20] = {
  1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
  100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
  1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
  1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
  1000000000000000000ULL, 10000000000000000000ULL,
};

static int slow(char *buf, double x) {
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, OPE_NUMFMT_MAX, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x) break;
  }
  return n;
}

/* v / 10^j with constant divisors (multiplications, not a divide). */
static uint64_t div_pow10(uint64_t v, int j) {
  switch (j) {
  case 0: return v;
  case 1: return v / 10ULL;
  case 2: return v / 100ULL;
  case 3: return v / 1000ULL;
  case 4: return v / 10000ULL;
  case 5: return v / 100000ULL;
  case 6: return v / 1000000ULL;
  case 7: return v / 10000000ULL;
  case 8: return v / 100000000ULL;
  case 9: return v / 1000000000ULL;
  case 10: return v / 10000000000ULL;
  case 11: return v / 100000000000ULL;
  case 12: return v / 1000000000000ULL;
  case 13: return v / 10000000000000ULL;
  case 14: return v / 100000000000000ULL;
  case 15: return v / 1000000000000000ULL;
  case 16: return v / 10000000000000000ULL;
  case 17: return v / 100000000000000000ULL;
  case 18: return v / 1000000000000000000ULL;
  default: return v / 10000000000000000000ULL;
  }
}

/* Shortest digits of |x| (fast path): *digits and the decimal exponent of
 * its last digit. Returns 0 when x is outside the fast path's range. */
static int shortest(double x, uint64_t *digits, int *exp10) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  int be = (int)((bits >> 52) & 0x7ff);
  uint64_t frac = bits & ((1ULL << 52) - 1);
  if (be == 0) return 0;                     /* zero or subnormal */
  uint64_t m = frac | (1ULL << 52);
  int e = be - 1075;                         /* |x| = m 2^e */
  if (e > 0) return 0;
  int x0 = (int)floor((e + 52) * 0.30102999566398119521); /* 10^x0 <= |x| */
  int k = 16 - x0;
  if (k > 27) return 0;
  int sh = 2 - e - k;                        /* >= 1 for every e <= 0 */
  int accept = (m & 1) == 0;
  uint64_t lo_gap = (frac == 0 && be > 1) ? 1 : 2; /* ulp below is halved */
  u128 p = pow5[k];
  u128 v = (u128)(4 * m) * p, lo = v - lo_gap * p, hi = v + 2 * p;
  u128 mask = ((u128)1 << sh) - 1;
  uint64_t lo_i = (uint64_t)(lo >> sh) + ((lo & mask) != 0 || !accept);
  uint64_t hi_i = (uint64_t)(hi >> sh) - ((hi & mask) == 0 && !accept);
  uint64_t vi = (uint64_t)(v >> sh);
  u128 vf = v & mask, half = (u128)1 << (sh - 1);
  /* Candidates q 10^j with q in (a, b]; shorten while one exists. */
  uint64_t a = lo_i - 1, b = hi_i;
  int j = 0;
  /* "A multiple of 10^j lies in (a, b]" holds for every j below the
   * largest one, so strip digits eight, four, two, then one at a time. */
  while (b / 100000000 > a / 100000000) {
    a /= 100000000;
    b /= 100000000;
    j += 8;
  }
  if (b / 10000 > a / 10000) {
    a /= 10000;
    b /= 10000;
    j += 4;
  }
  if (b / 100 > a / 100) {
    a /= 100;
    b /= 100;
    j += 2;
  }
  if (b / 10 > a / 10) {
    a /= 10;
    b /= 10;
    j++;
  }
  uint64_t q = div_pow10(vi, j), r = vi - q * pow10[j];
  int up, tie;
  if (j == 0) {
    up = vf > half;
    tie = vf == half;
  } else {
    uint64_t h = pow10[j] / 2;
    up = r > h || (r == h && vf != 0);
    tie = r == h && vf == 0;
  }
  if (up || (tie && (q & 1))) q++;
  if (q <= a) q = a + 1;
  if (q > b) q = b;
  *digits = q;
  *exp10 = j - k;
  return 1;
}

int ope_numfmt_double(char *buf, double x) {
  uint64_t q;
  int e10;
  if (x == 0 || (fabs(x) < 1e15 && x == (double)(int64_t)x)) {
    /* Whole numbers below 1e15 print as themselves (and -0 as "-0"). */
    int len = 0;
    if (signbit(x)) buf[len++] = '-';
    return len + ope_numfmt_int(buf + len, (long long)fabs(x));
  }
  if (!shortest(fabs(x), &q, &e10)) return slow(buf, x);
  char dig[20];
  int n = 0;
  while (q >= 10) {
    unsigned two = (unsigned)(q % 100);
    q /= 100;
    dig[19 - n++] = (char)('0' + two % 10);
    dig[19 - n++] = (char)('0' + two / 10);
  }
  if (q) dig[19 - n++] = (char)('0' + q);
  const char *d = dig + 20 - n;
  int X = n - 1 + e10, P = n > 15 ? n : 15, len = 0;
  if (x < 0) buf[len++] = '-';
  if (X < -4 || X >= P) {
    buf[len++] = d[0];
    if (n > 1) {
      buf[len++] = '.';
      memcpy(buf + len, d + 1, (size_t)(n - 1));
      len += n - 1;
    }
    buf[len++] = 'e';
    buf[len++] = X < 0 ? '-' : '+';
    int ax = X < 0 ? -X : X;
    if (ax >= 100) buf[len++] = (char)('0' + ax / 100);
    buf[len++] = (char)('0' + ax / 10 % 10);
    buf[len++] = (char)('0' + ax % 10);
  } else if (X < 0) {
    buf[len++] = '0';
    buf[len++] = '.';
    for (int i = 0; i < -X - 1; i++) buf[len++] = '0';
    memcpy(buf + len, d, (size_t)n);
    len += n;
  } else if (n <= X + 1) {
    memcpy(buf + len, d, (size_t)n);
    len += n;
    for (int i = 0; i < X + 1 - n; i++) buf[len++] = '0';
  } else {
    memcpy(buf + len, d, (size_t)(X + 1));
    len += X + 1;
    buf[len++] = '.';
    memcpy(buf + len, d + X + 1, (size_t)(n - X - 1));
    len += n - X - 1;
  }
  buf[len] = '\0';
  return len;
}

int ope_numfmt_int(char *buf, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  int len = 0;
  if (v < 0) buf[len++] = '-';
  while (n) buf[len++] = tmp[--n];
  buf[len] = '\0';
  return len;
}

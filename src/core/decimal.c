/* Exact conversion of w * 10^p, and the decimal grammar (decimal.h).
 *
 * w < 2^64 and 10^|p| for |p| <= 27 are exact in the x87's 64-bit
 * significand, so w * 10^p (or w / 10^|p|) is one correctly rounded long
 * double operation. Rounding that to double is then correct unless the
 * long double result is exactly half-way between two doubles: rounding is
 * monotonic and every such half-way point is a long double, so a result
 * that is not one lies on the same side of it as the exact value (this is
 * where double rounding can err, and those cases are left to strtod). For
 * w < 2^53 and |p| <= 22 the same holds in double alone (Clinger, "How to
 * read floating point numbers accurately", PLDI 1990), which needs no long
 * double at all. */
#include "core/decimal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const double pow10_d[23] = {
  1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
static const long double pow10_ld[28] = {
  1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
  1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
  1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

/* 1 when long double sums keep a 64-bit significand here; checked once. */
static int ld_exact(void) {
  static atomic_int known; /* 0 unknown, 1 yes, 2 no */
  int k = atomic_load(&known);
  if (k == 0) {
    volatile long double one = 1.0L, tiny = 0x1p-63L;
    k = one + tiny != one ? 1 : 2;
    atomic_store(&known, k);
  }
  return k == 1;
}

static int via_long_double(uint64_t w, int p, double *out) {
  if (p < -27 || p > 27 || !ld_exact()) return 0;
  long double v = p < 0 ? (long double)w / pow10_ld[-p] : (long double)w * pow10_ld[p];
  uint64_t sig; /* the x87 format keeps the 64-bit significand first */
  memcpy(&sig, &v, sizeof sig);
  if ((sig & 0x7FF) == 0x400) return 0;
  *out = (double)v;
  return 1;
}
#else
static int via_long_double(uint64_t w, int p, double *out) {
  (void)w;
  (void)p;
  (void)out;
  return 0;
}
#endif

int ope_decimal_to_double(uint64_t w, int p, int neg, double *out) {
  double v;
  if (w == 0) {
    v = 0.0;
  } else if (w < (UINT64_C(1) << 53) && p >= -22 && p <= 22) {
    v = p >= 0 ? (double)w * pow10_d[p] : (double)w / pow10_d[-p];
  } else if (!via_long_double(w, p, &v)) {
    return 0;
  }
  *out = neg ? -v : v;
  return 1;
}

int ope_decimal_parse(const char *s, double *out) {
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  uint64_t mant = 0;
  int digits = 0, sig = 0, exp10 = 0, dropped = 0;
  int any = 0;
  while (*p >= '0' && *p <= '9') {
    any = 1;
    if (mant == 0 && *p == '0') { p++; continue; }
    if (sig < 19) { mant = mant * 10 + (uint64_t)(*p - '0'); sig++; }
    else { exp10++; if (*p != '0') dropped = 1; }
    p++;
    digits++;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      any = 1;
      if (mant == 0 && *p == '0') { exp10--; p++; continue; }
      if (sig < 19) { mant = mant * 10 + (uint64_t)(*p - '0'); sig++; exp10--; }
      else if (*p != '0') dropped = 1;
      p++;
    }
  }
  if (!any) {
    const char *q = s + (*s == '+' || *s == '-');
    if (strncasecmp(q, "nan", 3) == 0 || strncasecmp(q, "inf", 3) == 0) return 2;
    return 1;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    int eneg = 0, e = 0, edig = 0;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    while (*p >= '0' && *p <= '9') {
      if (e < 100000) e = e * 10 + (*p - '0');
      p++;
      edig++;
    }
    if (!edig) return 1;
    exp10 += eneg ? -e : e;
  }
  if (*p != '\0') return 1;
  if ((mant == 0 || !dropped) && ope_decimal_to_double(mant, exp10, neg, out)) return 0;
  errno = 0;
  double v = strtod(s, NULL);
  if (!isfinite(v)) return 3;
  *out = v;
  return 0;
}

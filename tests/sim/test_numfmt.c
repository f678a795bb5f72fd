/* ope_numfmt_double against strtod and against printf's %.Pg: every
 * output must read back to the same bits, and must be no longer in
 * significant digits than the first of %.15g/%.16g/%.17g that reads back
 * (and identical to it whenever the lengths agree). Millions of doubles:
 * uniform bit patterns (all exponents, subnormals), typical magnitudes,
 * integers, powers of two and of ten, neighbours of both, and signed zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/numfmt.h"

/* Significant digits of a %g-style string. */
static int sig_digits(const char *s) {
  int n = 0, started = 0, zeros = 0;
  for (; *s && *s != 'e'; s++) {
    if (*s < '0' || *s > '9') continue;
    if (*s == '0' && !started) continue;
    started = 1;
    if (*s == '0') {
      zeros++;
    } else {
      n += zeros + 1;
      zeros = 0;
    }
  }
  return n;
}

static long n_checked, n_compared, n_shorter;

/* Round trip always; the comparison with printf (slow) when `compare`. */
static void check_some(double x, int compare) {
  char got[OPE_NUMFMT_MAX + 8], ref[40];
  int len = ope_numfmt_double(got, x);
  n_checked++;
  if (len != (int)strlen(got) || len >= OPE_NUMFMT_MAX) fail_msg("%.17g: length %d", x, len);
  double back = strtod(got, NULL);
  if (memcmp(&back, &x, sizeof x) != 0) fail_msg("%.17g formatted as %s reads back as %.17g", x, got, back);
  if (!compare) return;
  n_compared++;
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(ref, sizeof ref, "%.*g", prec, x);
    if (strtod(ref, NULL) == x) break;
  }
  if (strcmp(got, ref) != 0) {
    if (!(sig_digits(got) < sig_digits(ref))) fail_msg("%.17g: got %s, printf gives %s", x, got, ref);
    n_shorter++;
  }
}

static void check(double x) { check_some(x, 1); }

static void test_special(void **state) {
  (void)state;
  const double v[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e-7, 1e-5, 1e-4, 1e15, 1e16,
                      1e17, 1e22, 1e23, 5e-324, 2.2250738585072014e-308,
                      2.2250738585072009e-308, 1.7976931348623157e308, 9007199254740992.0,
                      9007199254740991.0, 123456789012345678.0, 0.975, 0.025, M_PI,
                      1.0 / 3.0, 2.0 / 3.0, 1e-11, 9.999999999999999e-12, 4.35, 0.3 - 0.1};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    check(v[i]);
    check(-v[i]);
  }
  char buf[OPE_NUMFMT_MAX];
  ope_numfmt_double(buf, -0.0);
  assert_string_equal(buf, "-0");
  ope_numfmt_double(buf, 1e-7);
  assert_string_equal(buf, "1e-07");
  ope_numfmt_double(buf, 0.1);
  assert_string_equal(buf, "0.1");
  ope_numfmt_double(buf, 200);
  assert_string_equal(buf, "200");
  ope_numfmt_double(buf, -0.0001234);
  assert_string_equal(buf, "-0.0001234");
  ope_numfmt_int(buf, -9223372036854775807LL - 1);
  assert_string_equal(buf, "-9223372036854775808");
}

static void test_integers_and_powers(void **state) {
  (void)state;
  for (long i = -100000; i <= 100000; i++) check_some((double)i, i % 16 == 0);
  for (int e = -1074; e <= 1023; e++) {
    double p = ldexp(1.0, e);
    check(p);
    check(nextafter(p, 0));
    check(nextafter(p, INFINITY));
  }
  for (int e = -325; e <= 308; e++) {
    char s[16];
    snprintf(s, sizeof s, "1e%d", e);
    double p = strtod(s, NULL);
    check(p);
    check(nextafter(p, 0));
    check(nextafter(p, INFINITY));
  }
}

static void test_random(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 20261123, 0);
  /* Every number is read back; one in eight is also compared with printf. */
  for (int i = 0; i < 700000; i++) {
    uint64_t bits = ope_rng_u64(&rng);
    double x;
    memcpy(&x, &bits, sizeof x);
    if (isfinite(x)) check_some(x, i % 8 == 0);
  }
  for (int i = 0; i < 1000000; i++) {
    /* Magnitudes a simulator writes: 1e-12 .. 1e6, both signs. */
    double x = (ope_rng_uniform(&rng) - 0.5) * pow(10.0, -12 + 18 * ope_rng_uniform(&rng));
    check_some(x, i % 8 == 0);
  }
  for (int i = 0; i < 100000; i++) {
    /* Short decimals: k / 10^j read back. */
    char s[40];
    snprintf(s, sizeof s, "%llue-%d", (unsigned long long)ope_rng_below(&rng, 100000000),
             (int)ope_rng_below(&rng, 20));
    check(strtod(s, NULL));
  }
  print_message("read back %ld doubles, compared %ld with printf, %ld shorter than printf's\n",
                n_checked, n_compared, n_shorter);
  assert_true(n_shorter * 1000 < n_compared);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_special),
    cmocka_unit_test(test_integers_and_powers),
    cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

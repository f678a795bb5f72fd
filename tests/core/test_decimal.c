/* core/decimal: the grammar reads what strtod reads; every value it converts is the double strtod gives, bit
 * for bit, over mantissas of 1 to 19 digits and powers of ten from -30 to
 * 30 (random, plus edges: 2^53 +- 1, 2^64 - 1, half-way cases); it
 * declines rather than guess, and it handles the common cases itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/rng.h"

static int handled, declined;

static void check(uint64_t w, int p, int neg) {
  char text[64];
  snprintf(text, sizeof text, "%s%" PRIu64 "e%d", neg ? "-" : "", w, p);
  double got, want = strtod(text, NULL);
  if (!ope_decimal_to_double(w, p, neg, &got)) {
    declined++;
    return;
  }
  handled++;
  if (memcmp(&got, &want, sizeof got) != 0) {
    print_error("%s: got %.17g want %.17g\n", text, got, want);
    fail();
  }
}

static void test_random(void **state) {
  (void)state;
  ope_rng rng;
  ope_rng_seed(&rng, 11, 0);
  handled = declined = 0;
  for (int i = 0; i < 300000; i++) {
    int digits = 1 + (int)ope_rng_below(&rng, 19);
    uint64_t w = 0;
    for (int k = 0; k < digits; k++) w = w * 10 + ope_rng_below(&rng, 10);
    int p = (int)ope_rng_below(&rng, 61) - 30;
    check(w, p, (int)(i & 1));
  }
  print_message("handled %d, declined %d\n", handled, declined);
  /* with 64-bit long double (x86, not under valgrind) nearly all of
   * |p| <= 27 is handled; without it, Clinger's range still is */
  assert_true(handled > 300000 / 4);
}

static void test_edges(void **state) {
  (void)state;
  const uint64_t ws[] = {0, 1, 9007199254740991u, 9007199254740992u, 9007199254740993u,
                         18446744073709551615u, 10000000000000000000u,
                         9999999999999999999u, 4503599627370497u, 123456789012345678u};
  for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
    for (int p = -30; p <= 30; p++) {
      check(ws[i], p, 0);
      check(ws[i], p, 1);
    }
  /* 2^53 + 1 is half-way between two doubles: declined, never guessed */
  double v;
  int ok = ope_decimal_to_double(9007199254740993u, 0, 0, &v);
  assert_true(!ok || v == 9007199254740992.0);
  /* zero keeps its sign; out-of-range powers are left to strtod */
  assert_true(ope_decimal_to_double(0, 5, 1, &v) && v == 0.0 && 1 / v < 0);
  assert_false(ope_decimal_to_double(12345678901234567890u, 40, 0, &v));
}

/* The grammar: what it reads equals strtod; what it refuses, it names. */
static void test_parse(void **state) {
  (void)state;
  const char *ok[] = {"0", "-0", "+1.5", "1.", ".5", "0.30000000000000004", "1e-7",
                      "123456789012345678901234", "2.2250738585072014e-308", "4.9e-324",
                      "1.7976931348623157e308", "0.1000000000000000055511151231257827"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double v, want = strtod(ok[i], NULL);
    assert_int_equal(ope_decimal_parse(ok[i], &v), 0);
    assert_memory_equal(&v, &want, sizeof v);
  }
  double v;
  assert_int_equal(ope_decimal_parse("", &v), 1);
  assert_int_equal(ope_decimal_parse("1e", &v), 1);
  assert_int_equal(ope_decimal_parse("0x1p-2", &v), 1);
  assert_int_equal(ope_decimal_parse("1,5", &v), 1);
  assert_int_equal(ope_decimal_parse("-inf", &v), 2);
  assert_int_equal(ope_decimal_parse("NaN", &v), 2);
  assert_int_equal(ope_decimal_parse("1e400", &v), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_random),
    cmocka_unit_test(test_edges),
    cmocka_unit_test(test_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

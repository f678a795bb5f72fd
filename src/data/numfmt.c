/* Shortest round-trip double formatting (numfmt.h).
 *
 * Tries 15, 16, then 17 significant digits and keeps the first that reads
 * back exactly: 17 always does (IEEE-754 binary64). */
#include "data/numfmt.h"

#include <stdio.h>
#include <stdlib.h>

int ope_numfmt_double(char *buf, double x) {
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, OPE_NUMFMT_MAX, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x) break;
  }
  return n;
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

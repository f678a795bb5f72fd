/* Splitting a plain CSV line (csvplain.h). */
#include "data/csvplain.h"

#include <string.h>

int ope_csv_plain_line(const char *q, const char *end, char *scratch,
                       void (*on_field)(void *field, size_t len, void *ctx),
                       void (*on_row)(int c, void *ctx), void *ctx) {
  size_t n = (size_t)(end - q) - 1; /* without the '\n' */
  if (n > 0 && q[n - 1] == '\r') n--;
  if (n >= OPE_CSV_PLAIN_MAX || memchr(q, '"', n) || memchr(q, '\r', n)) return 0;
  memcpy(scratch, q, n);
  char *a = scratch, *stop = scratch + n;
  while (a < stop && (*a == ' ' || *a == '\t')) a++;
  if (a == stop) return 1; /* blank: no record, as in libcsv */
  for (;;) {
    char *b = memchr(a, ',', (size_t)(stop - a));
    int last = b == NULL;
    if (last) b = stop;
    char *f = a, *g = b;
    while (f < g && (*f == ' ' || *f == '\t')) f++;
    while (g > f && (g[-1] == ' ' || g[-1] == '\t')) g--;
    *g = '\0';
    on_field(f == g ? NULL : f, (size_t)(g - f), ctx);
    if (last) break;
    a = b + 1;
  }
  on_row('\n', ctx);
  return 1;
}

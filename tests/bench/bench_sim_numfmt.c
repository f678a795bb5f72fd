/* Number formatting benchmark: ope_numfmt_double (shortest round trip)
 * against printf's %.17g (round trip, not shortest) and against the
 * printf-then-strtod search for the shortest of 15/16/17 digits, on 2
 * million doubles of the kinds the simulators write (state values of
 * magnitude 1e-4..1e2, probabilities, small integers). Prints ns per
 * number (process CPU time, so that other work on the machine does not
 * count) and the ratios. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "data/numfmt.h"

#define N 2000000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  double *x = malloc(N * sizeof *x);
  if (x == NULL) return 1;
  ope_rng rng;
  ope_rng_seed(&rng, 1, 0);
  for (int i = 0; i < N; i++) {
    double u = ope_rng_uniform(&rng);
    int kind = i % 4;
    x[i] = kind == 0 ? (u - 0.5) * 1e-3 * (double)(1 + i % 100000)
         : kind == 1 ? u * 0.1 : kind == 2 ? (double)(i % 7) / 10.0 : (double)(i % 201);
  }
  char buf[64];
  size_t sink = 0;
  double t0 = now();
  for (int i = 0; i < N; i++) sink += (size_t)ope_numfmt_double(buf, x[i]);
  double t_ope = now() - t0;
  t0 = now();
  for (int i = 0; i < N; i++) sink += (size_t)snprintf(buf, sizeof buf, "%.17g", x[i]);
  double t_17g = now() - t0;
  t0 = now();
  for (int i = 0; i < N; i++) {
    int n = 0;
    for (int p = 15; p <= 17; p++) {
      n = snprintf(buf, sizeof buf, "%.*g", p, x[i]);
      if (p == 17 || strtod(buf, NULL) == x[i]) break;
    }
    sink += (size_t)n;
  }
  double t_loop = now() - t0;
  printf("numfmt: %d doubles (simulator-like mix)\n", N);
  printf("  ope_numfmt_double          %7.1f ns/number\n", 1e9 * t_ope / N);
  printf("  snprintf %%.17g             %7.1f ns/number  (%.1fx slower)\n", 1e9 * t_17g / N,
         t_17g / t_ope);
  printf("  snprintf 15/16/17 + strtod %7.1f ns/number  (%.1fx slower)\n", 1e9 * t_loop / N,
         t_loop / t_ope);
  printf("  (checksum %zu)\n", sink);
  free(x);
  return 0;
}

/* ope_parallel_run: every job runs exactly once, for job counts that fit
 * the stack arrays and one that does not, and n <= 0 runs nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "core/parallel.h"

typedef struct job {
  int index;
  int runs;
  long sum;
} job;

static void *work(void *arg) {
  job *j = arg;
  j->runs++;
  for (long i = 0; i <= j->index; i++) j->sum += i;
  return NULL;
}

static void test_every_job_once(void **state) {
  (void)state;
  const int counts[] = {1, 2, 5, 64, 100};
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    int n = counts[c];
    job *jobs = calloc((size_t)n, sizeof *jobs);
    assert_non_null(jobs);
    for (int k = 0; k < n; k++) jobs[k].index = k;
    ope_parallel_run(work, jobs, sizeof *jobs, n);
    for (int k = 0; k < n; k++) {
      assert_int_equal(jobs[k].runs, 1);
      assert_int_equal(jobs[k].sum, (long)k * (k + 1) / 2);
    }
    free(jobs);
  }
  job one = {0, 0, 0};
  ope_parallel_run(work, &one, sizeof one, 0);
  assert_int_equal(one.runs, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_job_once)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

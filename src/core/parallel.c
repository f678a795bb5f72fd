/* Fork-join over a few threads (parallel.h). */
#include "core/parallel.h"

#include <pthread.h>
#include <stdlib.h>

enum { STACK_THREADS = 64 };

void ope_parallel_run(void *(*fn)(void *), void *jobs, size_t job_size, int n) {
  if (n <= 0) return;
  char *job = jobs;
  pthread_t stack_tid[STACK_THREADS];
  int stack_started[STACK_THREADS];
  pthread_t *tid = n <= STACK_THREADS ? stack_tid : malloc((size_t)n * sizeof *tid);
  int *started = n <= STACK_THREADS ? stack_started : calloc((size_t)n, sizeof *started);
  for (int k = 1; k < n; k++) {
    if (tid == NULL || started == NULL) break; /* no memory: all run here */
    started[k] = pthread_create(&tid[k], NULL, fn, job + (size_t)k * job_size) == 0;
  }
  fn(job);
  for (int k = 1; k < n; k++) {
    if (tid != NULL && started != NULL && started[k])
      pthread_join(tid[k], NULL);
    else
      fn(job + (size_t)k * job_size);
  }
  if (tid != stack_tid) free(tid);
  if (started != stack_started) free(started);
}

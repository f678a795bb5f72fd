/* Fork-join over a few threads: the one way ope runs n independent parts
 * side by side (bootstrap blocks, truth rollouts, Decision Transformer batch
 * groups). Results never depend on how many parts got their own thread. */
#ifndef OPE_CORE_PARALLEL_H
#define OPE_CORE_PARALLEL_H

#include <stddef.h>

/* Run fn on each of the n jobs (an array of n items of job_size bytes):
 * job 0 on the calling thread, the others on threads of their own, and
 * return when all are done. A job whose thread cannot be started runs on
 * the calling thread afterwards. n <= 0 does nothing. */
void ope_parallel_run(void *(*fn)(void *), void *jobs, size_t job_size, int n);

#endif

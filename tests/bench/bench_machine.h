/* One line about the machine a benchmark ran on: online CPUs and the load
 * average before the run (call it first), since wall-clock ratios mean little on a machine
 * that other work shares. Included by the C benchmarks only. */
#ifndef OPE_BENCH_MACHINE_H
#define OPE_BENCH_MACHINE_H

#include <stdio.h>
#include <unistd.h>

static void bench_print_machine(void) {
  double l1 = -1, l5 = -1, l15 = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f != NULL) {
    if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) != 3) l1 = -1;
    fclose(f);
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (l1 < 0)
    printf("machine: %ld online CPUs, load average unknown\n", cpus);
  else
    printf("machine: %ld online CPUs, load average %.2f %.2f %.2f before the run "
           "(wall-clock ratios are noisy when it nears the CPU count)\n", cpus, l1, l5, l15);
}

#endif

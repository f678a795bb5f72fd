/* Benchmark of the trainers' update speed: TD3+BC and IQL gradient steps
 * per second at the papers' sizes (observation 17, action 6, 2 x 256 ReLU
 * networks, batch 256, 100,000 synthetic transitions) with 1 and 2
 * threads, side by side with the same updates in PyTorch (bench_train.py,
 * run with /usr/bin/python3 when it has torch). Not a test: figures depend
 * on the machine and its load.
 *
 * usage: bench_train [BENCH_TRAIN_PY|-] [STEPS] [REPEATS] [ALGO]
 *
 * Each setting is timed REPEATS times (default 3) over STEPS updates
 * (default 500) after 20 warm-up updates; the best repeat is kept, both in
 * wall-clock time and in process CPU time. Wall-clock rates of 1 and 2
 * threads are compared with PyTorch's best thread setting; the 1-thread CPU
 * rates are compared with each other, which is the figure that stays put
 * when other processes share the machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "nn/gemm.h"
#include "train/train.h"
#include "bench_machine.h"

#define OBS 17
#define ACT 6
#define ROWS 100000
#define EP_LEN 1000

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ope_dataset *synthetic(void) {
  ope_error err = {0};
  size_t n_ep = ROWS / EP_LEN;
  ope_dataset *ds = ope_dataset_alloc(n_ep, ROWS, OBS, OPE_ACTION_CONTINUOUS, 0, ACT,
                                      0, 0, &err);
  if (ds == NULL) return NULL;
  ope_rng r;
  ope_rng_seed(&r, 42, 0);
  for (size_t e = 0; e <= n_ep; e++) ds->ep_offset[e] = e * EP_LEN;
  for (size_t i = 0; i < (size_t)ROWS * OBS; i++) ds->obs[i] = ope_rng_normal(&r);
  for (size_t i = 0; i < (size_t)ROWS * ACT; i++) ds->action_vec[i] = 2 * ope_rng_uniform(&r) - 1;
  for (size_t i = 0; i < ROWS; i++) ds->reward[i] = ope_rng_normal(&r);
  return ds;
}

/* Best updates/s of algo with `threads` threads over `reps` repeats of
 * `steps` updates: wall[0] by wall clock, cpu[0] by process CPU time. */
static void rate(const ope_dataset *ds, const char *algo, int threads, int steps,
                 int reps, double *wall, double *cpu) {
  ope_error err = {0};
  const ope_train_algo *a = ope_train_algo_find(algo);
  ope_train_settings set;
  ope_train_settings_init(&set, a, 0, 0);
  ope_gemm_set_threads(threads);
  ope_train_run *run = NULL;
  *wall = *cpu = 0;
  if (ope_train_run_new(a, ds, &set, 0, &run, &err) != OPE_OK) {
    fprintf(stderr, "bench_train: %s\n", err.msg);
    return;
  }
  for (int i = 0; i < 20; i++) ope_train_step(run, &err);
  for (int k = 0; k < reps; k++) {
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < steps; i++) ope_train_step(run, &err);
    double w = steps / (clock_s(CLOCK_MONOTONIC) - w0);
    double c = steps / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
    if (w > *wall) *wall = w;
    if (c > *cpu) *cpu = c;
  }
  ope_train_run_free(run);
}

int main(int argc, char **argv) {
  bench_print_machine();
  setvbuf(stdout, NULL, _IOLBF, 0); /* figures show up as they come */
  const char *py = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
  int steps = argc > 2 ? atoi(argv[2]) : 500;
  int reps = argc > 3 ? atoi(argv[3]) : 3;
  const char *only = argc > 4 ? argv[4] : NULL;
  if (steps < 1) steps = 1;
  if (reps < 1) reps = 1;
  ope_dataset *ds = synthetic();
  if (ds == NULL) return 1;
  const char *algos[] = {"td3bc", "iql"};
  /* [algo][threads - 1]: wall and CPU rates of ope (c) and torch (t) */
  double cw[2][2] = {{0}}, cc[2][2] = {{0}}, tw[2][2] = {{0}}, tc[2][2] = {{0}};
  int have_torch = 0;
  printf("trainer updates/s (obs %d, action %d, 2x256, batch 256, best of %d x %d "
         "steps)\n", OBS, ACT, reps, steps);
  for (int k = 0; k < 2; k++)
    for (int th = 1; th <= 2; th++) {
      if (only && strcmp(only, algos[k]) != 0) continue;
      rate(ds, algos[k], th, steps, reps, &cw[k][th - 1], &cc[k][th - 1]);
      printf("  ope   %-6s threads %d: %8.1f updates/s wall, %8.1f per CPU second\n",
             algos[k], th, cw[k][th - 1], cc[k][th - 1]);
    }
  if (py) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %d %d %s 2>&1", py, steps, reps,
             only ? only : "");
    FILE *p = popen(cmd, "r");
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
      char name[32];
      int th;
      double w, c;
      if (sscanf(line, "torch %31s %d %lf %lf", name, &th, &w, &c) == 4 && th >= 1 &&
          th <= 2) {
        for (int k = 0; k < 2; k++)
          if (strcmp(name, algos[k]) == 0)
            tw[k][th - 1] = w, tc[k][th - 1] = c, have_torch = 1;
        printf("  torch %-6s threads %d: %8.1f updates/s wall, %8.1f per CPU second\n",
               name, th, w, c);
      } else {
        fputs(line, stdout);
      }
    }
    if (p) pclose(p);
  }
  if (!have_torch) {
    printf("  (PyTorch comparison skipped: /usr/bin/python3 has no torch)\n");
  } else {
    for (int k = 0; k < 2; k++) {
      double best_t = fmax(tw[k][0], tw[k][1]), best_c = fmax(cw[k][0], cw[k][1]);
      if (best_t > 0 && best_c > 0)
        printf("  %-6s ope / best torch (wall): 1 thread %.2fx, 2 threads %.2fx, "
               "best %.2fx; 1 thread by CPU time %.2fx (goal >= 1.5x)\n",
               algos[k], cw[k][0] / best_t, cw[k][1] / best_t, best_c / best_t,
               tc[k][0] > 0 ? cc[k][0] / tc[k][0] : NAN);
    }
  }
  ope_dataset_free(ds);
  return 0;
}

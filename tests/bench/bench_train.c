/* Benchmark of the trainers' update speed: TD3+BC and IQL gradient steps
 * per second at the papers' sizes (observation 17, action 6, 2 x 256 ReLU
 * networks, batch 256, 100,000 synthetic transitions) with 1 and 2 BLAS
 * threads, side by side with the same updates in PyTorch (bench_train.py,
 * run with /usr/bin/python3 when it has torch). Prints updates/s and the
 * ratio to PyTorch's best thread setting. Not a test: figures depend on
 * the machine and its load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "nn/gemm.h"
#include "train/train.h"

#define OBS 17
#define ACT 6
#define ROWS 100000
#define EP_LEN 1000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
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

/* Updates per second of algo with `threads` BLAS threads. */
static double rate(const ope_dataset *ds, const char *algo, int threads, int steps) {
  ope_error err = {0};
  const ope_train_algo *a = ope_train_algo_find(algo);
  ope_train_settings set;
  ope_train_settings_init(&set, a, 0, 0);
  ope_gemm_set_threads(threads);
  ope_train_run *run = NULL;
  if (ope_train_run_new(a, ds, &set, 0, &run, &err) != OPE_OK) {
    fprintf(stderr, "bench_train: %s\n", err.msg);
    return 0;
  }
  for (int i = 0; i < 20; i++) ope_train_step(run, &err);
  double t0 = now();
  for (int i = 0; i < steps; i++) ope_train_step(run, &err);
  double dt = now() - t0;
  ope_train_run_free(run);
  return steps / dt;
}

int main(int argc, char **argv) {
  int steps = argc > 2 ? atoi(argv[2]) : 1000;
  ope_dataset *ds = synthetic();
  if (ds == NULL) return 1;
  const char *algos[] = {"td3bc", "iql"};
  double c[2][2], t[2][2] = {{0, 0}, {0, 0}};
  int have_torch = 0;
  printf("trainer updates/s (obs %d, action %d, 2x256, batch 256, %d steps; "
         "machine shared, figures under load)\n", OBS, ACT, steps);
  for (int k = 0; k < 2; k++)
    for (int th = 1; th <= 2; th++) {
      c[k][th - 1] = rate(ds, algos[k], th, steps);
      printf("  ope   %-6s threads %d: %8.1f updates/s\n", algos[k], th, c[k][th - 1]);
    }
  if (argc > 1) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %d 2>&1", argv[1], steps);
    FILE *p = popen(cmd, "r");
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
      char name[32];
      int th;
      double v;
      if (sscanf(line, "torch %31s %d %lf", name, &th, &v) == 3 && th >= 1 && th <= 2) {
        for (int k = 0; k < 2; k++)
          if (strcmp(name, algos[k]) == 0) t[k][th - 1] = v, have_torch = 1;
        printf("  torch %-6s threads %d: %8.1f updates/s\n", name, th, v);
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
      double best_t = t[k][0] > t[k][1] ? t[k][0] : t[k][1];
      double best_c = c[k][0] > c[k][1] ? c[k][0] : c[k][1];
      if (best_t > 0)
        printf("  %-6s ope / best torch: 1 thread %.2fx, 2 threads %.2fx, best %.2fx "
               "(goal >= 1.5x)\n", algos[k], c[k][0] / best_t, c[k][1] / best_t,
               best_c / best_t);
    }
  }
  ope_dataset_free(ds);
  return 0;
}

/* Benchmark of Decision Transformer training, against PyTorch doing the same
 * steps (bench_dt.py, run with /usr/bin/python3 when it has torch). Prints
 * training tokens/s and ratios; not a test.
 *
 * usage: bench_dt [BENCH_DT_PY [STEPS]]   (an empty BENCH_DT_PY: ope only)
 *
 * The paper's configuration (Chen et al. 2021, appendix, Gym): 3 blocks, 1
 * head, width 128, context 20 (60 tokens), batch 64, dropout 0.1, GELU MLP
 * of width 512, AdamW 1e-4 with gradient clipping 0.25; observations 17 and
 * actions 6 as in the MuJoCo tasks, 100 episodes of 1000 steps (so a
 * timestep embedding of 1000 rows). A step = drawing 64 windows, forward,
 * MSE of tanh actions, backward, clipped AdamW update. Tokens/s = steps x
 * 64 x 60 / seconds. Both sides run in float32 under the same environment,
 * after 3 warm-up steps. With T threads ope runs the batch's shards on T
 * threads of one BLAS thread each (train/dt.h); PyTorch uses its own
 * intra-op threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "nn/gemm.h"
#include "train/dt.h"
#include "bench_machine.h"

enum { N_EP = 100, H = 1000, D = 17, M = 6, WARM = 3 };

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ope_dataset *make(void) {
  ope_dataset *ds = ope_dataset_alloc(N_EP, (size_t)N_EP * H, D,
                                      OPE_ACTION_CONTINUOUS, 0, M, 0, 0, NULL);
  if (ds == NULL) return NULL;
  ope_rng rng;
  ope_rng_seed(&rng, 5, 0);
  for (size_t e = 0; e <= N_EP; e++) ds->ep_offset[e] = e * H;
  for (size_t r = 0; r < (size_t)N_EP * H; r++) {
    for (int k = 0; k < D; k++) ds->obs[r * D + k] = ope_rng_normal(&rng);
    for (int j = 0; j < M; j++)
      ds->action_vec[r * M + j] = tanh(ds->obs[r * D + j]);
    ds->reward[r] = ope_rng_uniform(&rng);
  }
  return ds;
}

/* Tokens/s of `steps` training steps with the given BLAS threads, by the
 * wall clock; *per_cpu receives tokens per second of process CPU time (the
 * fairer figure when other jobs share the cores). */
static double run(const ope_dataset *ds, int threads, int steps,
                  double *per_cpu) {
  ope_error err;
  ope_dt_config c;
  ope_dt_config_default(&c, 0);
  ope_gemm_set_threads(threads);
  ope_dt *m = NULL;
  if (ope_dt_new(ds, &c, 1, &m, &err) != OPE_OK) {
    fprintf(stderr, "bench_dt: %s\n", err.msg);
    return NAN;
  }
  double loss = 0;
  for (int s = 0; s < WARM; s++) ope_dt_step(m, &loss, &err);
  double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  for (int s = 0; s < steps; s++) ope_dt_step(m, &loss, &err);
  double sec = clock_s(CLOCK_MONOTONIC) - t0;
  double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
  ope_dt_free(m);
  double tokens = (double)steps * c.batch * 3 * c.context;
  *per_cpu = tokens / cpu;
  return tokens / sec;
}

int main(int argc, char **argv) {
  bench_print_machine();
  const char *py = argc > 1 && argv[1][0] ? argv[1] : NULL;
  int steps = argc > 2 ? atoi(argv[2]) : 30;
  if (steps < 1) steps = 30;
  ope_dataset *ds = make();
  if (ds == NULL) return 70;
  printf("Decision Transformer training (3 blocks, width 128, context 20, "
         "batch 64, obs 17, action 6), %d timed steps\n", steps);
  double u1, u2, c1 = run(ds, 1, steps, &u1), c2 = run(ds, 2, steps, &u2);
  printf("  ope   1 thread : %10.0f tokens/s  (%.0f per CPU-second)\n", c1, u1);
  printf("  ope   2 threads: %10.0f tokens/s  (%.0f per CPU-second)\n", c2, u2);
  ope_dataset_free(ds);
  if (py == NULL) return 0;
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %d", py, steps);
  FILE *f = popen(cmd, "r");
  if (f == NULL) {
    printf("  PyTorch comparison skipped (cannot run /usr/bin/python3)\n");
    return 0;
  }
  double best = 0, best_cpu = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    int th;
    double v, vc;
    if (sscanf(line, "torch %d %lf %lf", &th, &v, &vc) == 3 && th >= 1 && th <= 2) {
      printf("  torch %d thread%s: %10.0f tokens/s  (%.0f per CPU-second)\n", th,
             th > 1 ? "s" : " ", v, vc);
      if (v > best) best = v;
      if (vc > best_cpu) best_cpu = vc;
    } else {
      fputs(line, stdout);
    }
  }
  pclose(f);
  if (best > 0) {
    double cb = c1 > c2 ? c1 : c2;
    double ub = u1 > u2 ? u1 : u2;
    printf("  ratio ope best / torch best: %.2f (ope 1t %.2f, 2t %.2f of "
           "torch's best)\n", cb / best, c1 / best, c2 / best);
    printf("  ratio per CPU-second, best / best: %.2f\n", ub / best_cpu);
  }
  return 0;
}

/* Benchmark of the importance-sampling family on 1,000,000 logged steps
 * (10,000 episodes x 100 steps, 4 actions): IS, PDIS, WIS, WPDIS, each with
 * a 2000-resample percentile bootstrap, against NumPy doing the same
 * computation vectorized (bench_eval.py, run with /usr/bin/python3 when it
 * has numpy). Prints wall times, peak memory and ratios; not a test.
 *
 * usage: bench_eval OPE_BINARY BENCH_EVAL_PY [DIR]
 * (DIR: write the store, scores CSV and arrays there and keep them, for
 * profiling `ope eval` by hand; default a temporary directory, removed.)
 *
 * Figures:
 *   compute   weights + statistics + point estimates + bootstrap, in
 *             process, 1 thread and 2 threads (at this size the replicate
 *             products run in single precision, ci.c; NumPy is timed with
 *             float64 and float32 products and its faster variant counts);
 *   ope eval  the whole command on the stored dataset with the target
 *             given as a policy-scores CSV, --threads 1: store load, CSV
 *             read, estimators, bootstrap, storing the run; its peak
 *             resident memory against the dataset's raw size. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/rng.h"
#include "estimators/ci.h"
#include "nn/gemm.h"
#include "store/store.h"
#include "bench_machine.h"

enum { N_EP = 10000, H = 100, A = 4, B = 2000 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the whole process (all threads): less sensitive than wall
 * time to other work on a shared machine. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Behavior and target distributions per row: normalized uniforms (the
 * target tilted towards action 0), the action drawn from the behavior. */
static ope_dataset *make(double **pe_out) {
  size_t T = (size_t)N_EP * H;
  ope_dataset *ds = ope_dataset_alloc(N_EP, T, 1, OPE_ACTION_DISCRETE, A, 1, 0, 1, NULL);
  double *pe = malloc(T * sizeof(double));
  if (ds == NULL || pe == NULL) return NULL;
  ds->name = strdup("bench");
  ope_rng rng;
  ope_rng_seed(&rng, 12345, 0);
  for (size_t i = 0; i < N_EP; i++) {
    char lab[16];
    snprintf(lab, sizeof lab, "%zu", i);
    ds->ep_label[i] = strdup(lab);
    ds->ep_offset[i] = i * H;
    for (size_t t = 0; t < H; t++) {
      size_t r = i * H + t;
      double pb[A], pt[A], sb = 0, st = 0;
      for (int a = 0; a < A; a++) {
        pb[a] = 0.2 + ope_rng_uniform(&rng);
        pt[a] = 0.2 + ope_rng_uniform(&rng) + (a == 0 ? 0.3 : 0.0);
        sb += pb[a];
        st += pt[a];
      }
      for (int a = 0; a < A; a++) {
        pb[a] /= sb;
        pt[a] /= st;
      }
      int a = ope_rng_categorical(&rng, pb, A);
      ds->obs[r] = (double)t;
      ds->action[r] = a;
      ds->reward[r] = ope_rng_uniform(&rng) + (a == 0 ? 0.5 : 0.0);
      ds->pscore[r] = pb[a];
      pe[r] = pt[a];
    }
  }
  ds->ep_offset[N_EP] = T;
  *pe_out = pe;
  return ds;
}

/* The whole computation; returns wall seconds, *cpu its CPU seconds. */
static double compute(const ope_dataset *ds, const double *pe, int threads, double *vals,
                      double *cpu) {
  double t0 = now(), c0 = cpu_now();
  ope_weights w;
  if (ope_weights_compute(ds, pe, ds->pscore, 0, &w, NULL) != OPE_OK) exit(70);
  ope_est_input in = {.ds = ds, .w = &w, .gamma = 0.99};
  const ope_estimator *est[4] = {&ope_est_is, &ope_est_pdis, &ope_est_wis, &ope_est_wpdis};
  ope_est_stats s[4];
  ope_estimate o[4];
  for (int k = 0; k < 4; k++)
    if (ope_est_run(est[k], &in, &s[k], &o[k], NULL) != OPE_OK) exit(70);
  ope_ci_config cfg;
  ope_ci_config_default(&cfg);
  cfg.n_boot = B;
  cfg.threads = threads;
  if (ope_ci_compute(&cfg, est, s, &in, 4, o, NULL, NULL) != OPE_OK) exit(70);
  double dt = now() - t0;
  *cpu = cpu_now() - c0;
  for (int k = 0; k < 4; k++) {
    vals[3 * k] = o[k].value;
    vals[3 * k + 1] = o[k].ci_low;
    vals[3 * k + 2] = o[k].ci_high;
    ope_est_stats_clear(&s[k]);
  }
  ope_weights_clear(&w);
  return dt;
}

static int write_files(const char *dir, const ope_dataset *ds, const double *pe) {
  char path[512];
  snprintf(path, sizeof path, "%s/scores.csv", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL) return 0;
  fprintf(f, "episode,step,prob\n");
  for (size_t r = 0; r < ds->n_steps; r++) fprintf(f, "%zu,%zu,%.17g\n", r / H, r % H, pe[r]);
  fclose(f);
  /* raw arrays for NumPy: reward, pe, pb as float64 */
  snprintf(path, sizeof path, "%s/arrays.f64", dir);
  if ((f = fopen(path, "wb")) == NULL) return 0;
  fwrite(ds->reward, sizeof(double), ds->n_steps, f);
  fwrite(pe, sizeof(double), ds->n_steps, f);
  fwrite(ds->pscore, sizeof(double), ds->n_steps, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/bench.db", dir);
  ope_store *st;
  ope_dataset_info info = {0};
  info.name = "bench";
  info.source = "bench_eval";
  info.action_kind = OPE_ACTION_DISCRETE;
  info.n_actions = A;
  info.action_dim = 1;
  info.obs_dim = 1;
  info.has_pscore = 1;
  if (ope_store_open(path, 1, &st, NULL) != OPE_OK) return 0;
  int ok = ope_store_dataset_put(st, ds, &info, 1, NULL) == OPE_OK;
  ope_store_close(st);
  return ok;
}

/* Run argv, return its wall time; *rss_kb its peak resident set, *cpu its
 * user + system time. */
static double run_child(char *const argv[], const char *out, long *rss_kb, double *cpu) {
  fflush(stdout);
  double t0 = now();
  pid_t pid = fork();
  if (pid == 0) {
    if (out && !freopen(out, "w", stdout)) _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  double dt = now() - t0;
  *rss_kb = ru.ru_maxrss;
  *cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
         (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_eval: %s failed\n", argv[0]);
    return NAN;
  }
  return dt;
}

int main(int argc, char **argv) {
  bench_print_machine();
  if (argc < 3) {
    fprintf(stderr, "usage: bench_eval OPE_BINARY BENCH_EVAL_PY [DIR]\n");
    return 64;
  }
  char tmp[] = "/tmp/ope-bench-eval-XXXXXX";
  const char *dir = argc > 3 ? argv[3] : mkdtemp(tmp);
  if (dir == NULL) return 73;
  double *pe;
  ope_dataset *ds = make(&pe);
  if (ds == NULL || !write_files(dir, ds, pe)) return 70;
  double raw_mb = (double)ds->n_steps * (sizeof(double) * 3 + sizeof(int32_t) + 1) / 1e6;
  printf("dataset: %d episodes x %d steps, %d actions; raw size %.1f MB "
         "(obs, action, reward, terminal, pscore)\n", N_EP, H, A, raw_mb);

  ope_gemm_set_threads(1); /* the bootstrap runs its own threads */
  double v[12], best1 = INFINITY, best2 = INFINITY, cpu1 = INFINITY, cpu2 = INFINITY, c;
  for (int rep = 0; rep < 3; rep++) {
    best1 = fmin(best1, compute(ds, pe, 1, v, &c));
    cpu1 = fmin(cpu1, c);
    best2 = fmin(best2, compute(ds, pe, 2, v, &c));
    cpu2 = fmin(cpu2, c);
  }
  const char *names[4] = {"is", "pdis", "wis", "wpdis"};
  for (int k = 0; k < 4; k++)
    printf("  %-6s %.10g  [%.10g, %.10g]\n", names[k], v[3 * k], v[3 * k + 1], v[3 * k + 2]);
  printf("compute (4 estimators + %d bootstrap resamples): %.3f s wall / %.3f s CPU on 1 "
         "thread, %.3f s wall / %.3f s CPU on 2\n", B, best1, cpu1, best2, cpu2);

  char db[600], scores[600], outp[600];
  snprintf(db, sizeof db, "%s/bench.db", dir);
  snprintf(scores, sizeof scores, "%s/scores.csv", dir);
  snprintf(outp, sizeof outp, "%s/eval.json", dir);
  char *eval_argv[] = {argv[1], "eval", "--db", db, "--dataset", "bench", "--policy-csv",
                       scores, "--estimators", "is,pdis,wis,wpdis", "--threads", "1",
                       "--json", NULL};
  long rss = 0;
  double te = INFINITY, tc = INFINITY;
  for (int rep = 0; rep < 3; rep++) {
    te = fmin(te, run_child(eval_argv, outp, &rss, &c));
    tc = fmin(tc, c);
  }
  printf("ope eval (store load + scores CSV + estimators + bootstrap + store), 1 thread: "
         "%.3f s wall, %.3f s CPU, peak RSS %.1f MB (%.2fx the raw dataset)\n", te, tc,
         rss / 1024.0, rss / 1024.0 / raw_mb);

  /* NumPy */
  char cmd[1400];
  fflush(stdout);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %d %d %d 2>&1", argv[2], dir, N_EP, H, B);
  FILE *p = popen(cmd, "r");
  char line[512], variant[32] = "?";
  double np_time = NAN, np_cpu = NAN;
  while (p && fgets(line, sizeof line, p)) {
    fputs("  numpy: ", stdout);
    fputs(line, stdout);
    if (strncmp(line, "compute_seconds ", 16) == 0) np_time = atof(line + 16);
    if (strncmp(line, "compute_cpu_seconds ", 20) == 0) np_cpu = atof(line + 20);
    if (sscanf(line, "best_variant %31s", variant) != 1) continue;
  }
  if (p) pclose(p);
  if (isfinite(np_time))
    printf("ratio NumPy (its best variant, %s) / ope compute, wall: %.1fx (ope on 1 "
           "thread), %.1fx (2 threads); CPU: %.1fx (1 thread)\n", variant, np_time / best1,
           np_time / best2, np_cpu / cpu1);
  else
    printf("NumPy comparison skipped (/usr/bin/python3 without numpy)\n");

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (argc <= 3 && system(cmd) != 0) fprintf(stderr, "bench_eval: could not remove %s\n", dir);
  ope_dataset_free(ds);
  free(pe);
  return 0;
}

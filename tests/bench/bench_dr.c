/* Benchmark of tabular FQE and the doubly robust family on 1,000,000 logged
 * steps (the chain simulator, length 10, 10,000 episodes x 100 steps,
 * behavior eps=0.5, target eps=0.2), against NumPy doing the same
 * computation vectorized (bench_dr.py, run with /usr/bin/python3 when it has
 * numpy). Prints wall times (best of 3), the values of both sides (they
 * must agree) and ratios; not a test.
 *
 * usage: bench_dr BENCH_DR_PY
 *
 * Figures:
 *   fqe   tabular FQE: state hashing, the fixed-point system, its solve,
 *         and Q/V on every row (ope_dr_fit_q);
 *   dr    DM, DR, WDR from Q: weights in log space, statistics, point
 *         estimates (MAGIC is timed on its own: it adds a 200-resample
 *         bootstrap of WDR that NumPy does not do here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "estimators/dr.h"
#include "estimators/estimators.h"
#include "estimators/weights.h"
#include "fqe/fqe.h"
#include "sim/sim.h"
#include "bench_machine.h"

enum { N_EP = 10000, H = 100, REPS = 3 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int dump(const char *dir, const char *name, const void *p, size_t bytes) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  size_t w = fwrite(p, 1, bytes, f);
  return fclose(f) == 0 && w == bytes;
}

static double point(const ope_estimator *est, const ope_est_input *in) {
  ope_est_stats s;
  ope_estimate e;
  ope_error err = {0};
  if (ope_est_run(est, in, &s, &e, &err) != OPE_OK) return NAN;
  ope_est_stats_clear(&s);
  return e.value;
}

int main(int argc, char **argv) {
  bench_print_machine();
  ope_error err = {0};
  ope_dataset *ds = NULL;
  ope_policy *pi = NULL;
  const char *env = "chain:length=10";
  if (ope_sim_generate(env, "eps=0.5", N_EP, 7, H, &ds, &err) != OPE_OK ||
      ope_sim_policy_new("chain:length=10:eps=0.2", &pi, &err) != OPE_OK) {
    fprintf(stderr, "bench_dr: %s\n", err.msg);
    return 1;
  }
  ope_policy_scores sc;
  if (ope_policy_score_dataset(pi, ds, 0, &sc, &err) != OPE_OK) return 1;
  const double g = 0.99;
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = g;

  double t_fqe = INFINITY, t_dr = INFINITY, t_magic = INFINITY;
  double v_dm = NAN, v_dr = NAN, v_wdr = NAN, v_magic = NAN;
  ope_qfit q = {0};
  for (int r = 0; r < REPS; r++) {
    ope_qfit_clear(&q);
    double t0 = now();
    if (ope_dr_fit_q(ds, NULL, &sc, &cfg, 0, &q, &err) != OPE_OK) return 1;
    t_fqe = fmin(t_fqe, now() - t0);
    t0 = now();
    ope_weights w;
    if (ope_weights_compute(ds, sc.prob, ds->pscore, 0, &w, &err) != OPE_OK) return 1;
    ope_est_input in = {.ds = ds, .w = &w, .pe = &sc, .q = &q, .gamma = g};
    v_dm = point(&ope_est_dm, &in);
    v_dr = point(&ope_est_dr, &in);
    v_wdr = point(&ope_est_wdr, &in);
    t_dr = fmin(t_dr, now() - t0);
    t0 = now();
    v_magic = point(&ope_est_magic, &in);
    t_magic = fmin(t_magic, now() - t0);
    ope_weights_clear(&w);
  }
  printf("bench_dr: %d episodes x %d steps of %s (%zu steps), gamma %g, best of %d\n",
         N_EP, H, env, ds->n_steps, g, REPS);
  printf("  C      fqe %.4f s   dm+dr+wdr %.4f s   magic %.4f s\n", t_fqe, t_dr, t_magic);
  printf("  C      values: dm %.12g  dr %.12g  wdr %.12g  magic %.12g\n", v_dm, v_dr,
         v_wdr, v_magic);

  int rc = 0;
  const char *py = argc > 1 ? argv[1] : NULL;
  char dir[] = "/tmp/ope-bench-dr-XXXXXX";
  if (py == NULL || access("/usr/bin/python3", X_OK) != 0 || mkdtemp(dir) == NULL) {
    printf("  NumPy  comparison skipped (no /usr/bin/python3 or script)\n");
    goto done;
  }
  size_t N = ds->n_steps, A = (size_t)ds->n_actions;
  uint64_t *off = malloc((ds->n_episodes + 1) * sizeof *off);
  for (size_t i = 0; i <= ds->n_episodes; i++) off[i] = ds->ep_offset[i];
  int ok = dump(dir, "obs.f64", ds->obs, N * sizeof(double)) &&
           dump(dir, "action.i32", ds->action, N * sizeof(int32_t)) &&
           dump(dir, "reward.f64", ds->reward, N * sizeof(double)) &&
           dump(dir, "terminal.u8", ds->terminal, N) &&
           dump(dir, "pscore.f64", ds->pscore, N * sizeof(double)) &&
           dump(dir, "prob.f64", sc.prob, N * sizeof(double)) &&
           dump(dir, "dist.f64", sc.dist, N * A * sizeof(double)) &&
           dump(dir, "offsets.u64", off, (ds->n_episodes + 1) * sizeof *off);
  free(off);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %zu %g", py, dir, A, g);
  FILE *p = ok ? popen(cmd, "r") : NULL;
  double np_fqe = NAN, np_dr = NAN, n_dm = NAN, n_dr = NAN, n_wdr = NAN;
  char line[512];
  int got = 0;
  while (p && fgets(line, sizeof line, p)) {
    if (strncmp(line, "skip", 4) == 0) printf("  NumPy  %s", line);
    if (sscanf(line, "numpy %lf %lf %lf %lf %lf", &np_fqe, &np_dr, &n_dm, &n_dr, &n_wdr) == 5)
      got = 1;
  }
  if (p) pclose(p);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) rc = 1;
  if (!got) {
    printf("  NumPy  comparison skipped (numpy not available)\n");
    goto done;
  }
  printf("  NumPy  fqe %.4f s   dm+dr+wdr %.4f s\n", np_fqe, np_dr);
  printf("  NumPy  values: dm %.12g  dr %.12g  wdr %.12g\n", n_dm, n_dr, n_wdr);
  printf("  ratio (NumPy time / C time): fqe %.1fx   dm+dr+wdr %.1fx\n", np_fqe / t_fqe,
         np_dr / t_dr);
  double agree = fmax(fabs(n_dm - v_dm), fmax(fabs(n_dr - v_dr), fabs(n_wdr - v_wdr)));
  printf("  largest difference between the two sides' values: %.3g\n", agree);
done:
  ope_qfit_clear(&q);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
  return rc;
}

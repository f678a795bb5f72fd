/* Benchmark of neural FQE gradient steps, against PyTorch doing the same
 * loop (bench_fqe.py, run with /usr/bin/python3 when it has torch). Prints
 * steps/s and ratios; not a test.
 *
 * usage: bench_fqe [BENCH_FQE_PY|-] [REPEATS]
 *
 * Two problems, each with a 2x256 ReLU Q-network, batch 256, Adam, global
 * gradient-norm clipping, 100,000 logged transitions (so targets are
 * computed per minibatch by the target network, as in the usual PyTorch
 * FQE loop):
 *   continuous  obs 17, action 6, Q(s,a) with one output, a deterministic
 *               tanh-linear evaluation policy (one next action per state);
 *   discrete    obs 4, 2 actions, Q(s,.) with two outputs, a softmax-linear
 *               evaluation policy (exact expectation over next actions).
 * One gradient step = target-network forward on the minibatch's next
 * states + forward, backward and Adam update of the online network.
 * The C figure times ope_fqe_neural_fit with 5 iterations x 200 steps
 * minus the same fit with 5 x 1 step (which has the same fixed costs: data
 * preparation, held-out residual), i.e. 995 steps; the whole call's rate is
 * printed beside it. The PyTorch figure times 1000 steps of its loop. Both
 * run in float32 under the same environment. Every timing is repeated
 * REPEATS times (default 3) and the best kept, by wall clock and by
 * process CPU time; 1-thread CPU rates are the figures that stay put when
 * other processes share the machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "fqe/fqe_neural.h"
#include "nn/gemm.h"
#include "bench_machine.h"

enum { N_EP = 100, H = 1000, ITERS = 5, STEPS = 200 };

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- evaluation policies ---- */
static double W[6][17];

static ope_status cont_sample(const ope_policy *p, void *ctx, const double *obs,
                              ope_rng *rng, double *action, ope_error *err) {
  (void)p, (void)ctx, (void)rng, (void)err;
  for (int j = 0; j < 6; j++) {
    double s = 0;
    for (int k = 0; k < 17; k++) s += W[j][k] * obs[k];
    action[j] = tanh(s);
  }
  return OPE_OK;
}
static const ope_policy_ops cont_ops = {.sample = cont_sample};

static ope_status disc_dist(const ope_policy *p, void *ctx, const double *obs,
                            double *probs, ope_error *err) {
  (void)p, (void)ctx, (void)err;
  double z = obs[0] + 0.5 * obs[1] - obs[2] + 0.3 * obs[3];
  probs[1] = 1 / (1 + exp(-z));
  probs[0] = 1 - probs[1];
  return OPE_OK;
}
static const ope_policy_ops disc_ops = {.dist = disc_dist};

/* Random-walk observations, random behavior actions, rewards from both. */
static ope_dataset *make(int cont) {
  int d = cont ? 17 : 4;
  ope_dataset *ds = ope_dataset_alloc(N_EP, (size_t)N_EP * H, d,
                                      cont ? OPE_ACTION_CONTINUOUS : OPE_ACTION_DISCRETE,
                                      cont ? 0 : 2, cont ? 6 : 1, 0, 0, NULL);
  if (ds == NULL) return NULL;
  ope_rng rng;
  ope_rng_seed(&rng, 99, (uint64_t)cont);
  for (size_t e = 0; e < N_EP; e++) {
    ds->ep_offset[e] = e * H;
    double s[17];
    for (int k = 0; k < d; k++) s[k] = ope_rng_normal(&rng);
    for (size_t t = 0; t < H; t++) {
      size_t r = e * H + t;
      double rew = 0;
      for (int k = 0; k < d; k++) {
        ds->obs[r * d + k] = s[k];
        rew -= 0.01 * s[k] * s[k];
        s[k] = 0.95 * s[k] + 0.3 * ope_rng_normal(&rng);
      }
      if (cont)
        for (int j = 0; j < 6; j++)
          ds->action_vec[r * 6 + j] = 2 * ope_rng_uniform(&rng) - 1;
      else
        ds->action[r] = (int32_t)ope_rng_below(&rng, 2);
      ds->reward[r] = rew;
    }
  }
  ds->ep_offset[N_EP] = (size_t)N_EP * H;
  return ds;
}

/* Gradient steps/s with the given threads (after a short warm-up fit), the
 * best of `reps` timings: by wall clock (returned) and by CPU time (*cpu);
 * *whole gets the wall-clock steps/s of the whole fit call, fixed costs
 * included. */
static double run(int cont, int threads, int reps, double *whole, double *cpu) {
  ope_error err;
  ope_dataset *ds = make(cont);
  ope_policy *pi = cont ? ope_policy_new(&cont_ops, "lin", OPE_ACTION_CONTINUOUS, 17, 0, 6, NULL, &err)
                        : ope_policy_new(&disc_ops, "soft", OPE_ACTION_DISCRETE, 4, 2, 1, NULL, &err);
  if (ds == NULL || pi == NULL) return NAN;
  if (cont) pi->deterministic = 1, pi->bandwidth = 0.1;
  ope_policy_scores sc;
  if (ope_policy_score_dataset(pi, ds, 0, &sc, &err) != OPE_OK) return NAN;
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_NEURAL;
  cfg.hidden = 256;
  cfg.layers = 2;
  cfg.batch = 256;
  cfg.threads = threads;
  cfg.iterations = 1;
  cfg.steps_per_iter = 20;
  ope_fqe_neural *m = NULL;
  if (ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err) != OPE_OK) {
    fprintf(stderr, "bench_fqe: %s\n", err.msg);
    return NAN;
  }
  ope_fqe_neural_free(m);
  // the same fit with 1 step per iteration has the same fixed costs (data
  // preparation, held-out residual), so the difference is STEPS - 1 steps
  double t[2] = {INFINITY, INFINITY}, c[2] = {INFINITY, INFINITY};
  int steps[2] = {STEPS, 1};
  ope_status st = OPE_OK;
  for (int r = 0; r < reps; r++)
    for (int k = 0; k < 2 && st == OPE_OK; k++) {
      cfg.iterations = ITERS;
      cfg.steps_per_iter = steps[k];
      double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
      st = ope_fqe_neural_fit(ds, pi, &sc, &cfg, &m, &err);
      t[k] = fmin(t[k], clock_s(CLOCK_MONOTONIC) - t0);
      c[k] = fmin(c[k], clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
      if (st == OPE_OK && ope_fqe_neural_get_stats(m)->iterations_run != ITERS)
        st = OPE_EINTERNAL;
      ope_fqe_neural_free(m);
      m = NULL;
    }
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  ope_dataset_free(ds);
  if (st != OPE_OK) return NAN;
  *whole = (double)ITERS * STEPS / t[0];
  *cpu = (double)ITERS * (STEPS - 1) / (c[0] - c[1]);
  return (double)ITERS * (STEPS - 1) / (t[0] - t[1]);
}

int main(int argc, char **argv) {
  bench_print_machine();
  setvbuf(stdout, NULL, _IOLBF, 0); /* figures show up as they come */
  const char *py = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  if (reps < 1) reps = 1;
  ope_rng rng;
  ope_rng_seed(&rng, 7, 0);
  for (int j = 0; j < 6; j++)
    for (int k = 0; k < 17; k++) W[j][k] = 0.3 * ope_rng_normal(&rng);
  const char *names[2] = {"discrete (obs 4, 2 actions)", "continuous (obs 17, action 6)"};
  /* [continuous][threads]: ope wall, whole call, CPU; torch wall, CPU */
  double c[2][3], whole[2][3], cc[2][3], py_w[2][3], py_c[2][3];
  for (int cont = 0; cont < 2; cont++)
    for (int th = 1; th <= 2; th++) {
      c[cont][th] = run(cont, th, reps, &whole[cont][th], &cc[cont][th]);
      py_w[cont][th] = py_c[cont][th] = NAN;
    }
  // PyTorch: lines "torch <cont 0|1> <threads> <steps/s wall> <per CPU s>"
  if (py) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %d 2>&1", py, reps);
    FILE *p = popen(cmd, "r");
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
      int ct, th;
      double v, vc;
      if (sscanf(line, "torch %d %d %lf %lf", &ct, &th, &v, &vc) == 4 && ct >= 0 &&
          ct < 2 && th >= 1 && th <= 2)
        py_w[ct][th] = v, py_c[ct][th] = vc;
      else
        fputs(line, stdout);
    }
    if (p) pclose(p);
  }
  printf("neural FQE gradient steps/s, 2x256 ReLU, batch 256, best of %d\n", reps);
  for (int cont = 0; cont < 2; cont++) {
    double best_py = fmax(py_w[cont][1], py_w[cont][2]);
    printf("%s\n", names[cont]);
    for (int th = 1; th <= 2; th++)
      printf("  ope      %d thread%s %9.1f steps/s wall, %9.1f per CPU second "
             "(whole fit call: %.1f)\n", th, th > 1 ? "s" : " ", c[cont][th],
             cc[cont][th], whole[cont][th]);
    for (int th = 1; th <= 2; th++)
      printf("  pytorch  %d thread%s %9.1f steps/s wall, %9.1f per CPU second\n", th,
             th > 1 ? "s" : " ", py_w[cont][th], py_c[cont][th]);
    if (isnan(best_py))
      printf("  (PyTorch comparison skipped: /usr/bin/python3 has no torch)\n");
    else
      printf("  ratio ope / pytorch best (wall): 1 thread %.2fx, 2 threads %.2fx, "
             "best %.2fx; 1 thread by CPU time %.2fx (goal >= 1.5x)\n",
             c[cont][1] / best_py, c[cont][2] / best_py,
             fmax(c[cont][1], c[cont][2]) / best_py, cc[cont][1] / py_c[cont][1]);
  }
  return 0;
}

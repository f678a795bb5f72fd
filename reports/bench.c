/* The estimator scorecard over simulated datasets (bench.h). */
#include "reports/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/metrics.h"
#include "sim/env.h"
#include "sim/sim.h"

#include "ope_config.h"

void ope_bench_config_default(ope_bench_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->episodes = 200;
  cfg->seeds = 5;
  cfg->truth_rollouts = 2000;
  ope_eval_config_default(&cfg->eval);
  cfg->eval.ci.n_boot = 500;
}

size_t ope_bench_default_candidates(const char *env, char names[][160]) {
  static const char *const disc[] = {"expert", "medium", "random", "eps=0.2", "eps=0.5",
                                     "eps=0.8"};
  static const char *const cont[] = {"expert", "medium", "random", "noise=0.2", "noise=0.5",
                                     "noise=1"};
  ope_env *e = NULL;
  if (ope_env_new(env, &e, NULL) != OPE_OK) return 0;
  const char *const *list = e->action_kind == OPE_ACTION_DISCRETE ? disc : cont;
  for (size_t i = 0; i < 6; i++) snprintf(names[i], 160, "%s:%s", e->spec, list[i]);
  ope_env_free(e);
  return 6;
}

/* Per-dataset metrics of one estimator. */
static void score_one(const double *v, const double *lo, const double *hi,
                      const double *truth, size_t P, double *m) {
  m[OPE_BENCH_SPEARMAN] = ope_metric_spearman(v, truth, P);
  m[OPE_BENCH_KENDALL] = ope_metric_kendall(v, truth, P);
  m[OPE_BENCH_REGRET1] = ope_metric_regret_at(v, truth, P, 1);
  m[OPE_BENCH_REGRET5] = ope_metric_regret_at(v, truth, P, 5);
  m[OPE_BENCH_ABS_ERROR] = ope_metric_abs_error(v, truth, P);
  m[OPE_BENCH_COVERAGE] = ope_metric_coverage(lo, hi, truth, P);
}

static void verdict(ope_report *r) {
  long best_regret = -1, best_rank = -1;
  for (size_t k = 0; k < r->n_est; k++) {
    const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS];
    if (s[OPE_BENCH_REGRET1].n &&
        (best_regret < 0 ||
         s[OPE_BENCH_REGRET1].mean < r->score[best_regret * OPE_BENCH_N_METRICS + OPE_BENCH_REGRET1].mean ||
         (s[OPE_BENCH_REGRET1].mean == r->score[best_regret * OPE_BENCH_N_METRICS + OPE_BENCH_REGRET1].mean &&
          s[OPE_BENCH_ABS_ERROR].mean < r->score[best_regret * OPE_BENCH_N_METRICS + OPE_BENCH_ABS_ERROR].mean)))
      best_regret = (long)k;
    if (s[OPE_BENCH_SPEARMAN].n &&
        (best_rank < 0 ||
         s[OPE_BENCH_SPEARMAN].mean > r->score[best_rank * OPE_BENCH_N_METRICS + OPE_BENCH_SPEARMAN].mean))
      best_rank = (long)k;
  }
  if (best_regret < 0) {
    snprintf(r->verdict, sizeof r->verdict, "no estimator produced values on these datasets");
    return;
  }
  if (best_rank < 0) {
    char a[32];
    snprintf(r->verdict, sizeof r->verdict, "on %s data with %zu episodes, %s picked the best "
             "candidate most reliably (regret@1 %s); no estimator's values varied enough to "
             "rank the candidates", r->regime, r->n_episodes, r->est[best_regret],
             ope_report_num(a, r->score[best_regret * OPE_BENCH_N_METRICS +
                                        OPE_BENCH_REGRET1].mean));
    return;
  }
  char a[32], b[32], c[32], tie[48] = "";
  const ope_report_stat *sr = &r->score[best_regret * OPE_BENCH_N_METRICS];
  const ope_report_stat *sk = &r->score[best_rank * OPE_BENCH_N_METRICS];
  size_t n_tied = 0;
  for (size_t k = 0; k < r->n_est; k++)
    n_tied += (long)k != best_rank && r->score[k * OPE_BENCH_N_METRICS + OPE_BENCH_SPEARMAN].n &&
              r->score[k * OPE_BENCH_N_METRICS + OPE_BENCH_SPEARMAN].mean ==
                  sk[OPE_BENCH_SPEARMAN].mean;
  if (n_tied) snprintf(tie, sizeof tie, ", tied with %zu other%s", n_tied, n_tied > 1 ? "s" : "");
  snprintf(r->verdict, sizeof r->verdict,
           "on %s data with %zu episodes, %s picked the best candidate most reliably "
           "(regret@1 %s, absolute error %s) and %s ordered the candidates best "
           "(Spearman %s%s)", r->regime, r->n_episodes, r->est[best_regret],
           ope_report_num(a, sr[OPE_BENCH_REGRET1].mean),
           ope_report_num(b, sr[OPE_BENCH_ABS_ERROR].mean), r->est[best_rank],
           ope_report_num(c, sk[OPE_BENCH_SPEARMAN].mean), tie);
}

ope_status ope_bench_run(const ope_bench_config *cfg, ope_report *out, ope_error *err) {
  ope_status st = OPE_OK;
  char defaults[8][160];
  const char *cand_default[8];
  const char *const *cand = cfg->candidates;
  size_t P = cfg->n_candidates;
  ope_env *env = NULL;
  ope_policy **pol = NULL;
  ope_dataset *ds = NULL;
  ope_policy_scores sc = {0};
  ope_eval_policy_result res = {0};
  double *metric = NULL, *cellv = NULL, *tmp = NULL;
  size_t E = 0, K = (size_t)cfg->seeds;
  const ope_estimator *cols[32];
  memset(out, 0, sizeof *out);
  if (cfg->seeds < 1 || cfg->episodes < 2)
    return ope_error_set(err, OPE_EUSAGE, NULL, "the scorecard needs >= 1 seed and >= 2 episodes");
  if ((st = ope_env_new(cfg->env, &env, err)) != OPE_OK) return st;
  if (cand == NULL) {
    P = ope_bench_default_candidates(cfg->env, defaults);
    for (size_t i = 0; i < P; i++) cand_default[i] = defaults[i];
    cand = cand_default;
  }
  ope_eval_config ec = cfg->eval;
  if (!cfg->gamma_given) ec.gamma = env->gamma;
  /* the estimator columns: the chosen ones, else the whole table */
  if (ec.est) {
    for (size_t k = 0; k < ec.n_est && k < 32; k++) cols[E++] = ec.est[k];
  } else {
    for (size_t k = 0; ope_estimator_table[k] && k < 32; k++) cols[E++] = ope_estimator_table[k];
  }
  out->kind = OPE_REPORT_BENCH;
  if ((st = ope_report_alloc(out, E, P, 0, 0, err)) != OPE_OK) goto done;
  pol = calloc(P ? P : 1, sizeof *pol);
  metric = malloc((K * E > 0 ? K * E * OPE_BENCH_N_METRICS : 1) * sizeof(double));
  cellv = malloc((E * P > 0 ? 3 * E * P : 1) * sizeof(double));
  tmp = malloc((K ? K : 1) * sizeof(double));
  if (!pol || !metric || !cellv || !tmp) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t k = 0; k < E; k++) snprintf(out->est[k], sizeof out->est[k], "%s", cols[k]->name);
  /* truths, once */
  for (size_t p = 0; p < P; p++) {
    ope_sim_value v;
    ope_report_policy *R = &out->pol[p];
    if ((st = ope_sim_policy_new(cand[p], &pol[p], err)) != OPE_OK) goto done;
    if (env->n_states > 0)
      st = ope_sim_truth_exact(cfg->env, pol[p], ec.gamma, cfg->horizon, &v, err);
    else
      st = ope_sim_truth_rollout(cfg->env, pol[p], cfg->truth_rollouts, ec.gamma, cfg->horizon,
                                 cfg->seed, ec.ci.threads, &v, err);
    if (st != OPE_OK) goto done;
    snprintf(R->name, sizeof R->name, "%s", cand[p]);
    snprintf(R->algo, sizeof R->algo, "reference");
    R->has_truth = 1;
    R->truth = v.value;
    snprintf(R->truth_method, sizeof R->truth_method, "%s", v.exact ? "exact" : "rollout");
    for (size_t k = 0; k < E; k++) R->cell[k].value = NAN;
  }
  /* The estimators that read FQE's Q, and its caveat on truncated episodes
   * when discount^horizon is not negligible (ARCHITECTURE.md: every output
   * says so); the truth is the value over the time limit. */
  char qnames[128] = "", caveat[256] = "";
  for (size_t k = 0, len = 0; k < E; k++)
    if ((cols[k]->needs & OPE_EST_NEEDS_Q) && len < sizeof qnames)
      len += (size_t)snprintf(qnames + len, sizeof qnames - len, "%s%s", len ? ", " : "",
                              cols[k]->name);
  for (size_t s = 0; s < K; s++) {
    if ((st = ope_sim_generate(cfg->env, cfg->regime, cfg->episodes, cfg->seed + s,
                               cfg->horizon, &ds, err)) != OPE_OK)
      goto done;
    if (qnames[0] && !caveat[0]) ope_fqe_horizon_warning(ds, ec.gamma, caveat, sizeof caveat);
    ope_eval_behavior beh = {0, ds->pscore, NULL, NULL};
    for (size_t i = 0; i < 3 * E * P; i++) cellv[i] = NAN;
    for (size_t p = 0; p < P; p++) {
      double bw = ec.bandwidth;
      if (pol[p]->deterministic && bw <= 0 && pol[p]->bandwidth <= 0)
        bw = ope_eval_default_bandwidth(ds);
      if ((st = ope_policy_score_dataset(pol[p], ds, bw, &sc, err)) != OPE_OK) goto done;
      if ((st = ope_eval_policy(ds, &beh, pol[p], &sc, &ec, &res, err)) != OPE_OK) goto done;
      for (size_t j = 0; j < res.n_est; j++) {
        const ope_estimate *e = &res.est[j];
        for (size_t k = 0; k < E; k++) {
          if (cols[k] != e->est) continue;
          if (e->flag == OPE_EST_DEFINED) cellv[(0 * E + k) * P + p] = e->value;
          if (e->has_ci) {
            cellv[(1 * E + k) * P + p] = e->ci_low;
            cellv[(2 * E + k) * P + p] = e->ci_high;
          }
          if (s == 0) { /* the first dataset's numbers are shown per candidate */
            ope_report_cell *c = &out->pol[p].cell[k];
            c->defined = e->flag == OPE_EST_DEFINED;
            c->value = c->defined ? e->value : NAN;
            c->has_ci = e->has_ci;
            c->ci_low = e->ci_low;
            c->ci_high = e->ci_high;
            snprintf(c->ci_method, sizeof c->ci_method, "%s", e->ci_method ? e->ci_method : "");
            c->unreliable = ope_eval_unreliable(&res, j);
          }
        }
      }
      ope_eval_policy_result_clear(&res);
      ope_policy_scores_clear(&sc);
    }
    double truth[64];
    for (size_t p = 0; p < P && p < 64; p++) truth[p] = out->pol[p].truth;
    for (size_t k = 0; k < E; k++)
      score_one(cellv + (0 * E + k) * P, cellv + (1 * E + k) * P, cellv + (2 * E + k) * P, truth,
                P < 64 ? P : 64, metric + (s * E + k) * OPE_BENCH_N_METRICS);
    if (s == 0) {
      out->n_steps = ds->n_steps;
      out->horizon = 0;
    }
    ope_dataset_free(ds);
    ds = NULL;
  }
  for (size_t k = 0; k < E; k++)
    for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
      ope_report_stat *S = &out->score[k * OPE_BENCH_N_METRICS + (size_t)m];
      for (size_t s = 0; s < K; s++) tmp[s] = metric[(s * E + k) * OPE_BENCH_N_METRICS + (size_t)m];
      ope_metric_mean_ci(tmp, K, ec.ci.alpha, &S->mean, &S->lo, &S->hi, &S->n);
    }
  snprintf(out->env, sizeof out->env, "%s", env->spec);
  snprintf(out->regime, sizeof out->regime, "%s", cfg->regime);
  out->n_seeds = cfg->seeds;
  out->n_episodes = cfg->episodes;
  out->gamma = ec.gamma;
  out->alpha = ec.ci.alpha;
  out->clip = ec.clip;
  snprintf(out->ci_method, sizeof out->ci_method, "%s", ope_ci_method_name(ec.ci.method));
  out->n_boot = ec.ci.n_boot;
  out->seed = cfg->seed;
  snprintf(out->propensities, sizeof out->propensities, "logged");
  snprintf(out->ope_version, sizeof out->ope_version, "%s", OPE_VERSION);
  if (caveat[0]) ope_report_note(out, "%s: %s", qnames, caveat);
  if (P > 64) ope_report_note(out, "only the first 64 candidates were scored");
  ope_report_note(out, "per-candidate estimates shown are from the first dataset (seed %llu)",
                  (unsigned long long)cfg->seed);
  verdict(out);
done:
  for (size_t p = 0; pol && p < P; p++) ope_policy_free(pol[p]);
  free(pol);
  free(metric);
  free(cellv);
  free(tmp);
  ope_dataset_free(ds);
  ope_policy_scores_clear(&sc);
  ope_eval_policy_result_clear(&res);
  ope_env_free(env);
  if (st != OPE_OK) ope_report_clear(out);
  return st;
}

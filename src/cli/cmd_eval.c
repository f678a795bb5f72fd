/* `ope eval`: estimate candidate policies' values on a stored dataset, with
 * intervals and diagnostics, and record the run in the store.
 *
 * Everything that can fail on input (the dataset, each policy name, each
 * scores file, an estimator or interval that does not apply) fails before
 * anything is written; the run is then stored in one transaction and only
 * afterwards printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "estimators/evaluate.h"
#include "fqe/fqe_neural.h"
#include "policy/resolve.h"
#include "policy/scores_csv.h"
#include "sim/sim.h"
#include "reports/json.h"
#include "nn/gemm.h"

const char cmd_eval_usage[] =
  "usage: ope eval --dataset NAME --policy P [--policy P2 ...] [--policy-csv FILE ...]\n"
  "                [--estimators LIST] [--ci METHOD] [--alpha A] [--n-boot B]\n"
  "                [--gamma G] [--clip C] [--bandwidth H] [--reward-range LO,HI]\n"
  "                [--behavior MODEL] [--fqe KIND] [--fqe-refits R] [--crossfit]\n"
  "                [--seed S] [--threads K]\n"
  "                [--json] [--db FILE]\n"
  "\n"
  "Estimate what each candidate policy would have returned on the logged\n"
  "episodes of dataset NAME, with a confidence interval and weight\n"
  "diagnostics, and store the run.\n"
  "\n"
  "  --dataset NAME      the logged dataset (see 'ope info')\n"
  "  --policy P          a simulator reference policy (ENV:REGIME, e.g.\n"
  "                      chain:eps=0.3) or a policy stored by 'ope train';\n"
  "                      repeatable\n"
  "  --policy-csv FILE   an external policy given by its scores on the logged\n"
  "                      steps (ope-policy-csv(5)); repeatable\n"
  "  --estimators LIST   comma-separated: is,pdis,wis,wpdis,... (default: all\n"
  "                      that apply)\n"
  "  --ci METHOD         bootstrap (default), t, hoeffding, bernstein, none\n"
  "  --alpha A           1 - confidence level (default 0.05: 95% intervals)\n"
  "  --n-boot B          bootstrap resamples (default 2000)\n"
  "  --gamma G           discount in (0, 1] (default 0.99)\n"
  "  --clip C            cap every per-step importance ratio at C\n"
  "  --bandwidth H       Gaussian kernel bandwidth for deterministic\n"
  "                      continuous policies (default: Silverman's rule on\n"
  "                      the logged actions)\n"
  "  --reward-range LO,HI  known reward bounds (hoeffding, bernstein)\n"
  "  --behavior MODEL    estimate the behavior policy even when the log has\n"
  "                      pscore: auto, counts, logistic, gaussian (it is\n"
  "                      estimated with 'auto' whenever pscore is absent)\n"
  "  --fqe KIND          Q model for estimators that need one: auto, tabular,\n"
  "                      linear, neural (default auto)\n"
  "  --fqe-refits R      neural FQE's interval: refits on episode resamples,\n"
  "                      each with its own network seed (default 5; 0 or 1:\n"
  "                      resample start states under one fit)\n"
  "  --crossfit          fit Q on one half of the episodes and evaluate DM, DR,\n"
  "                      WDR and MAGIC on the other, then swap\n"
  "  --seed S            seed of the bootstrap and of FQE (default 0)\n"
  "  --threads K         worker threads (default: the online CPUs); results\n"
  "                      do not depend on it\n"
  "  --json              machine-readable output\n"
  "  --db FILE           the store (default $OPE_DB or ./ope.db)\n"
  "  --help              show this help\n";

enum {
  OPT_DATASET = CLI_OPT_FIRST_FREE, OPT_POLICY, OPT_POLICY_CSV, OPT_ESTIMATORS,
  OPT_CI, OPT_ALPHA, OPT_NBOOT, OPT_GAMMA, OPT_CLIP, OPT_BANDWIDTH, OPT_RANGE,
  OPT_BEHAVIOR, OPT_FQE, OPT_FQE_REFITS, OPT_CROSSFIT, OPT_SEED, OPT_THREADS, OPT_JSON,
};

typedef struct spec {
  const char *arg;
  int is_csv;
} spec;

/* The estimators of a comma-separated list, or a usage error. */
static int parse_estimators(const char *s, const ope_estimator ***out, size_t *n) {
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  const ope_estimator **list = calloc(cap, sizeof *list);
  char *copy = strdup(s);
  if (!list || !copy) {
    free(list);
    free(copy);
    fprintf(stderr, "ope: out of memory\n");
    return 70;
  }
  size_t k = 0;
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    const ope_estimator *e = ope_estimator_find(tok);
    if (e == NULL) {
      char known[512] = "";
      for (size_t j = 0; ope_estimator_table[j]; j++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                 j ? ", " : "", ope_estimator_table[j]->name);
      int rc = cli_usage_error("eval", "--estimators: unknown estimator '%s' (known: %s)",
                               tok, known);
      free(list);
      free(copy);
      return rc;
    }
    for (size_t j = 0; j < k; j++)
      if (list[j] == e) e = NULL;
    if (e) list[k++] = e;
  }
  free(copy);
  if (k == 0) {
    free(list);
    return cli_usage_error("eval", "--estimators: the list is empty");
  }
  *out = list;
  *n = k;
  return 0;
}

/* "LO,HI" with finite LO <= HI: 1 on success. */
static int parse_range(const char *s, double *lo, double *hi) {
  char *end, *rest;
  *lo = strtod(s, &end);
  if (end == s || *end != ',' || !isfinite(*lo)) return 0;
  rest = end + 1;
  *hi = strtod(rest, &end);
  return end != rest && *end == '\0' && isfinite(*hi) && *hi >= *lo;
}

/* ---- output ---- */

static void json_diag(ope_json *j, const ope_eval_policy_result *r) {
  const ope_diagnostics *d = &r->diag;
  ope_json_begin_object(j);
  ope_json_key(j, "ess");
  ope_json_number(j, d->ess);
  ope_json_key(j, "ess_frac");
  ope_json_number(j, d->ess_frac);
  ope_json_key(j, "ess_step_min");
  ope_json_number(j, d->ess_step_min);
  ope_json_key(j, "max_share");
  ope_json_number(j, d->max_share);
  ope_json_key(j, "zero_frac");
  ope_json_number(j, d->zero_frac);
  ope_json_key(j, "n_clipped");
  ope_json_int(j, (long long)d->n_clipped);
  ope_json_key(j, "weight_quantiles");
  ope_json_begin_object(j);
  static const char *const qn[OPE_DIAG_N_QUANTILES] = {"min", "q05", "q25", "median",
                                                        "q75", "q95", "max"};
  for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++) {
    ope_json_key(j, qn[q]);
    ope_json_number(j, d->quantiles[q]);
  }
  ope_json_end_object(j);
  ope_json_key(j, "support");
  ope_json_begin_object(j);
  ope_json_key(j, "kind");
  ope_json_string(j, d->support_kind == 1 ? "discrete"
                     : d->support_kind == 2 ? "continuous" : NULL);
  ope_json_key(j, "rows_outside");
  if (d->support_kind) ope_json_int(j, (long long)d->support_rows);
  else ope_json_null(j);
  ope_json_key(j, "frac_outside");
  ope_json_number(j, d->support_kind ? d->support_frac : NAN);
  ope_json_key(j, "median_bandwidths");
  ope_json_number(j, d->support_kind == 2 ? d->support_median_bw : NAN);
  ope_json_key(j, "note");
  ope_json_string(j, d->support_note[0] ? d->support_note : NULL);
  ope_json_end_object(j);
  ope_json_key(j, "ess_step");
  ope_json_begin_array(j);
  for (size_t t = 0; t < d->horizon; t++) ope_json_number(j, d->ess_step[t]);
  ope_json_end_array(j);
  ope_json_key(j, "unreliable");
  ope_json_bool(j, d->unreliable);
  ope_json_key(j, "reason");
  ope_json_string(j, d->reason[0] ? d->reason : NULL);
  ope_json_end_object(j);
}

static void json_behavior(ope_json *j, const ope_eval_behavior *beh) {
  if (!beh->estimated) {
    ope_json_null(j);
    return;
  }
  const ope_behavior_fit *f = beh->fit;
  ope_json_begin_object(j);
  ope_json_key(j, "model");
  ope_json_string(j, ope_behavior_kind_name(f->kind));
  ope_json_key(j, "cross_fitting");
  ope_json_string(j, "halves by episode index parity");
  ope_json_key(j, "heldout_loglik");
  ope_json_number(j, f->heldout_loglik);
  ope_json_key(j, "ece");
  ope_json_number(j, f->ece);
  ope_json_key(j, "coverage95");
  ope_json_number(j, f->coverage95);
  if (f->kind == OPE_BEHAVIOR_COUNTS) {
    ope_json_key(j, "n_states");
    ope_json_int(j, (long long)f->n_states);
  }
  if (f->n_actions) {
    ope_json_key(j, "reliability");
    ope_json_begin_array(j);
    for (int b = 0; b < OPE_BEHAVIOR_BINS; b++) {
      ope_json_begin_object(j);
      ope_json_key(j, "bin");
      ope_json_number(j, (b + 0.5) / OPE_BEHAVIOR_BINS);
      ope_json_key(j, "n");
      ope_json_int(j, (long long)f->bin_n[b]);
      ope_json_key(j, "predicted");
      ope_json_number(j, f->bin_n[b] ? f->bin_pred[b] : NAN);
      ope_json_key(j, "observed");
      ope_json_number(j, f->bin_n[b] ? f->bin_freq[b] : NAN);
      ope_json_end_object(j);
    }
    ope_json_end_array(j);
  }
  ope_json_end_object(j);
}

typedef struct run_info {
  const char *dataset;
  const ope_dataset *ds;
  const ope_eval_config *cfg;
  const ope_eval_behavior *beh;
  const char *estimators;
  int64_t id;
} run_info;

static void json_settings(ope_json *j, const run_info *ri) {
  const ope_eval_config *c = ri->cfg;
  ope_json_begin_object(j);
  ope_json_key(j, "estimators");
  ope_json_string(j, ri->estimators);
  ope_json_key(j, "gamma");
  ope_json_number(j, c->gamma);
  ope_json_key(j, "ci_method");
  ope_json_string(j, ope_ci_method_name(c->ci.method));
  ope_json_key(j, "alpha");
  ope_json_number(j, c->ci.alpha);
  ope_json_key(j, "n_boot");
  ope_json_int(j, c->ci.n_boot);
  ope_json_key(j, "seed");
  ope_json_int(j, (long long)c->ci.seed);
  ope_json_key(j, "clip");
  ope_json_number(j, c->clip > 0 ? c->clip : NAN);
  ope_json_key(j, "bandwidth");
  ope_json_number(j, c->bandwidth > 0 ? c->bandwidth : NAN);
  ope_json_key(j, "reward_range");
  if (c->has_reward_range) {
    ope_json_begin_array(j);
    ope_json_number(j, c->reward_lo);
    ope_json_number(j, c->reward_hi);
    ope_json_end_array(j);
  } else {
    ope_json_null(j);
  }
  ope_json_key(j, "fqe");
  ope_json_string(j, ope_fqe_kind_name(c->fqe.kind));
  ope_json_key(j, "fqe_refits");
  ope_json_int(j, c->fqe.refits);
  ope_json_key(j, "propensities");
  ope_json_string(j, ri->beh->estimated ? "estimated" : "logged");
  ope_json_key(j, "support_x");
  ope_json_number(j, c->diag.support_x);
  ope_json_key(j, "support_y");
  ope_json_number(j, c->diag.support_y);
  ope_json_end_object(j);
}

static void print_json(const run_info *ri, const ope_eval_policy_result *res, size_t n_pol) {
  ope_json j;
  ope_json_init(&j, stdout, 1);
  ope_json_begin_object(&j);
  ope_json_key(&j, "evaluation_id");
  ope_json_int(&j, (long long)ri->id);
  ope_json_key(&j, "dataset");
  ope_json_string(&j, ri->dataset);
  ope_json_key(&j, "n_episodes");
  ope_json_int(&j, (long long)ri->ds->n_episodes);
  ope_json_key(&j, "n_steps");
  ope_json_int(&j, (long long)ri->ds->n_steps);
  ope_json_key(&j, "propensities");
  ope_json_string(&j, ri->beh->estimated ? "estimated" : "logged");
  ope_json_key(&j, "behavior");
  json_behavior(&j, ri->beh);
  ope_json_key(&j, "settings");
  json_settings(&j, ri);
  ope_json_key(&j, "results");
  ope_json_begin_array(&j);
  for (size_t p = 0; p < n_pol; p++)
    for (size_t k = 0; k < res[p].n_est; k++) {
      const ope_estimate *e = &res[p].est[k];
      ope_json_begin_object(&j);
      ope_json_key(&j, "policy");
      ope_json_string(&j, res[p].name);
      ope_json_key(&j, "estimator");
      ope_json_string(&j, e->est->name);
      ope_json_key(&j, "estimate");
      ope_json_number(&j, e->flag == OPE_EST_DEFINED ? e->value : NAN);
      ope_json_key(&j, "ci_low");
      ope_json_number(&j, e->has_ci ? e->ci_low : NAN);
      ope_json_key(&j, "ci_high");
      ope_json_number(&j, e->has_ci ? e->ci_high : NAN);
      ope_json_key(&j, "ci_method");
      ope_json_string(&j, e->has_ci ? e->ci_method : NULL);
      ope_json_key(&j, "alpha");
      ope_json_number(&j, ri->cfg->ci.alpha);
      ope_json_key(&j, "n_episodes");
      ope_json_int(&j, (long long)e->n_episodes);
      ope_json_key(&j, "gamma");
      ope_json_number(&j, ri->cfg->gamma);
      ope_json_key(&j, "clip");
      ope_json_number(&j, ri->cfg->clip > 0 ? ri->cfg->clip : NAN);
      ope_json_key(&j, "bandwidth");
      ope_json_number(&j, res[p].bandwidth > 0 ? res[p].bandwidth : NAN);
      ope_json_key(&j, "propensities");
      ope_json_string(&j, ri->beh->estimated ? "estimated" : "logged");
      ope_json_key(&j, "ess");
      ope_json_number(&j, res[p].diag.ess);
      ope_json_key(&j, "unreliable");
      ope_json_bool(&j, ope_eval_unreliable(&res[p], k));
      ope_json_key(&j, "reason");
      ope_json_string(&j, ope_eval_unreliable(&res[p], k) ? res[p].diag.reason : NULL);
      ope_json_key(&j, "note");
      ope_json_string(&j, e->note[0] ? e->note : NULL);
      ope_json_end_object(&j);
    }
  ope_json_end_array(&j);
  ope_json_key(&j, "diagnostics");
  ope_json_begin_array(&j);
  for (size_t p = 0; p < n_pol; p++) {
    ope_json_begin_object(&j);
    ope_json_key(&j, "policy");
    ope_json_string(&j, res[p].name);
    ope_json_key(&j, "source");
    ope_json_string(&j, res[p].source);
    ope_json_key(&j, "weights");
    json_diag(&j, &res[p]);
    ope_json_key(&j, "note");
    ope_json_string(&j, res[p].note[0] ? res[p].note : NULL);
    ope_json_end_object(&j);
  }
  ope_json_end_array(&j);
  ope_json_end_object(&j);
  ope_json_finish(&j);
}

static void fmt_num(char *buf, size_t n, int ok, double x) {
  if (ok && isfinite(x)) snprintf(buf, n, "%.6g", x);
  else snprintf(buf, n, "null");
}

static void print_text(const run_info *ri, const ope_eval_policy_result *res, size_t n_pol) {
  const ope_eval_config *c = ri->cfg;
  printf("evaluation %lld on dataset %s: %zu episodes, %zu steps, gamma %g, "
         "propensities %s\n", (long long)ri->id, ri->dataset, ri->ds->n_episodes,
         ri->ds->n_steps, c->gamma, ri->beh->estimated ? "estimated" : "logged");
  if (ri->beh->estimated)
    printf("behavior model %s (cross-fitted): held-out log-likelihood %.4g per step%s",
           ope_behavior_kind_name(ri->beh->fit->kind), ri->beh->fit->heldout_loglik,
           isfinite(ri->beh->fit->ece) ? "" : "\n");
  if (ri->beh->estimated && isfinite(ri->beh->fit->ece))
    printf(", calibration error %.3g\n", ri->beh->fit->ece);
  if (c->clip > 0) printf("per-step ratios clipped at %g\n", c->clip);
  printf("%.0f%% intervals: %s%s\n\n", 100.0 * (1.0 - c->ci.alpha),
         ope_ci_method_name(c->ci.method),
         c->ci.method == OPE_CI_BOOTSTRAP ? " (percentile)" : "");
  /* The policy column fits the longest name (checkpoint names can be long). */
  int w = 24;
  for (size_t p = 0; p < n_pol; p++)
    if (strlen(res[p].name) > (size_t)w) w = (int)strlen(res[p].name);
  printf("%-*s %-8s %14s %14s %14s %8s  %s\n", w, "policy", "estimator", "estimate",
         "ci_low", "ci_high", "episodes", "flags");
  for (size_t p = 0; p < n_pol; p++)
    for (size_t k = 0; k < res[p].n_est; k++) {
      const ope_estimate *e = &res[p].est[k];
      char v[32], lo[32], hi[32];
      fmt_num(v, sizeof v, e->flag == OPE_EST_DEFINED, e->value);
      fmt_num(lo, sizeof lo, e->has_ci, e->ci_low);
      fmt_num(hi, sizeof hi, e->has_ci, e->ci_high);
      printf("%-*s %-8s %14s %14s %14s %8zu  %s%s%s\n", w, res[p].name, e->est->name, v,
             lo, hi, e->n_episodes, ope_eval_unreliable(&res[p], k) ? "UNRELIABLE" : "",
             ope_eval_unreliable(&res[p], k) && e->note[0] ? "; " : "", e->note);
    }
  printf("\n");
  for (size_t p = 0; p < n_pol; p++) {
    const ope_diagnostics *d = &res[p].diag;
    printf("%s: ESS %.4g of %zu (%.3g%%), per-step min %.4g, max weight share %.3g, "
           "zero weights %.3g%%", res[p].name, d->ess, d->n_episodes, 100.0 * d->ess_frac,
           d->ess_step_min, d->max_share, 100.0 * d->zero_frac);
    if (res[p].bandwidth > 0) printf(", kernel bandwidth %.4g", res[p].bandwidth);
    if (d->support_kind == 1)
      printf(", %.3g%% of steps outside support", 100.0 * d->support_frac);
    else if (d->support_kind == 2)
      printf(", median action distance %.3g bandwidths", d->support_median_bw);
    printf("\n");
    if (d->unreliable) printf("  unreliable: %s\n", d->reason);
    if (res[p].note[0]) printf("  note: %s\n", res[p].note);
  }
}

/* JSON text of f's output into a fresh string (NULL on failure). */
static char *json_string(void (*emit)(ope_json *, const void *), const void *arg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) return NULL;
  ope_json j;
  ope_json_init(&j, f, 0);
  emit(&j, arg);
  fclose(f);
  return buf;
}
static void emit_settings(ope_json *j, const void *a) { json_settings(j, a); }
static void emit_behavior(ope_json *j, const void *a) { json_behavior(j, a); }
static void emit_diag(ope_json *j, const void *a) { json_diag(j, a); }

/* On a terminal: say up front when neural FQE will run, since its fits
 * take minutes on long or continuous logs, and how to do without it. */
static void neural_fqe_hint(const ope_eval_config *cfg, const ope_dataset *ds) {
  ope_fqe_config fc = cfg->fqe;
  fc.gamma = cfg->gamma;
  if (fc.kind == OPE_FQE_AUTO) fc.kind = ope_fqe_auto_kind(ds);
  if (fc.kind != OPE_FQE_NEURAL) return;
  int uses_q = cfg->est == NULL;
  for (size_t k = 0; k < cfg->n_est && !uses_q; k++)
    uses_q = (cfg->est[k]->needs & OPE_EST_NEEDS_Q) != 0;
  if (!uses_q) return;
  int fits = 1 + (cfg->ci.method == OPE_CI_BOOTSTRAP && fc.refits >= 2 ? fc.refits : 0);
  fprintf(stderr, "ope: neural FQE: %d fit%s per policy of up to %d iterations; "
          "this can take minutes (--fqe-refits 0 fits once; --estimators is,pdis,wis,wpdis "
          "skips FQE)\n", fits, fits == 1 ? "" : "s", ope_fqe_neural_iterations(ds, &fc));
}

/* Resolve and score one policy, then evaluate it. */
static ope_status eval_one(ope_store *store, const ope_dataset *ds, const spec *sp,
                           const ope_eval_behavior *beh, const ope_eval_config *cfg,
                           ope_eval_policy_result *out, ope_error *err) {
  ope_policy *pi = NULL;
  ope_policy_scores sc = {0};
  ope_status st;
  memset(out, 0, sizeof *out);
  char sha[65] = "";
  if (sp->is_csv) {
    /* the distribution is read only by estimators that need it and by the
     * support diagnostic, which also needs the behavior's */
    int need_dist = beh->dist != NULL || cfg->est == NULL;
    for (size_t k = 0; k < cfg->n_est && cfg->est; k++)
      need_dist |= (cfg->est[k]->needs & (OPE_EST_NEEDS_DIST | OPE_EST_NEEDS_Q)) != 0;
    st = ope_scores_csv_read_ex(sp->arg, ds, need_dist ? 0 : OPE_SCORES_DROP_DIST, &sc, sha,
                                err);
  } else if ((st = ope_policy_resolve(store, sp->arg, &pi, err)) == OPE_OK) {
    double h = cfg->bandwidth;
    if (ds->action_kind == OPE_ACTION_CONTINUOUS && pi->deterministic && !(h > 0) &&
        !(pi->bandwidth > 0))
      h = ope_eval_default_bandwidth(ds);
    st = ope_policy_score_dataset(pi, ds, h, &sc, err);
  }
  if (st != OPE_OK) goto done;
  if ((st = ope_eval_policy_consume(ds, beh, pi, &sc, cfg, out, err)) != OPE_OK) goto done;
  out->name = strdup(sp->arg);
  snprintf(out->source, sizeof out->source, "%s",
           sp->is_csv ? "scores" : ope_sim_is_reference_name(sp->arg) ? "reference" : "checkpoint");
  snprintf(out->sha256, sizeof out->sha256, "%s", sha);
  if (out->name == NULL) st = ope_error_nomem(err);
done:
  if (st != OPE_OK && err->where[0] == '\0')
    snprintf(err->where, sizeof err->where, "%s", sp->arg);
  ope_policy_scores_clear(&sc);
  ope_policy_free(pi);
  return st;
}

int cmd_eval(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, OPT_DATASET},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"policy-csv", required_argument, NULL, OPT_POLICY_CSV},
    {"estimators", required_argument, NULL, OPT_ESTIMATORS},
    {"ci", required_argument, NULL, OPT_CI},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"n-boot", required_argument, NULL, OPT_NBOOT},
    {"gamma", required_argument, NULL, OPT_GAMMA},
    {"clip", required_argument, NULL, OPT_CLIP},
    {"bandwidth", required_argument, NULL, OPT_BANDWIDTH},
    {"reward-range", required_argument, NULL, OPT_RANGE},
    {"behavior", required_argument, NULL, OPT_BEHAVIOR},
    {"fqe", required_argument, NULL, OPT_FQE},
    {"fqe-refits", required_argument, NULL, OPT_FQE_REFITS},
    {"crossfit", no_argument, NULL, OPT_CROSSFIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"json", no_argument, NULL, OPT_JSON},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *dataset = NULL, *est_arg = NULL;
  int json = 0, status = 0, force_behavior = 0;
  ope_behavior_kind bkind = OPE_BEHAVIOR_AUTO;
  spec *specs = calloc((size_t)argc, sizeof *specs);
  size_t n_spec = 0;
  const ope_estimator **est_list = NULL;
  ope_eval_config cfg;
  ope_eval_config_default(&cfg);
  cfg.gamma = 0.99;
  long nproc = sysconf(_SC_NPROCESSORS_ONLN);
  cfg.ci.threads = nproc < 1 ? 1 : nproc > 64 ? 64 : (int)nproc;
  ope_store *store = NULL;
  ope_dataset *ds = NULL;
  ope_behavior_fit bfit = {0};
  ope_eval_policy_result *res = NULL;
  char **detail = NULL;
  char *settings = NULL, *behavior = NULL;
  ope_error err;
  ope_error_clear(&err);
  if (specs == NULL) {
    fprintf(stderr, "ope: out of memory\n");
    return 70;
  }
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    int r = cli_common_option("eval", opt, &db, &status);
    if (r == 1) goto out;
    if (r == 0) continue;
    long lv;
    unsigned long long uv;
    switch (opt) {
    case OPT_DATASET: dataset = optarg; break;
    case OPT_POLICY: specs[n_spec++] = (spec){optarg, 0}; break;
    case OPT_POLICY_CSV: specs[n_spec++] = (spec){optarg, 1}; break;
    case OPT_ESTIMATORS: est_arg = optarg; break;
    case OPT_CI: {
      int m = ope_ci_method_parse(optarg);
      if (m < 0) {
        status = cli_usage_error("eval", "--ci: '%s' is not one of bootstrap, t, "
                                 "hoeffding, bernstein, none", optarg);
        goto out;
      }
      cfg.ci.method = (ope_ci_method)m;
      break;
    }
    case OPT_ALPHA:
      if ((status = cli_parse_positive("eval", "alpha", optarg, 1, 0, &cfg.ci.alpha))) goto out;
      break;
    case OPT_NBOOT:
      if ((status = cli_parse_int("eval", "n-boot", optarg, 1, 10000000, &lv))) goto out;
      cfg.ci.n_boot = (int)lv;
      break;
    case OPT_GAMMA:
      if ((status = cli_parse_positive("eval", "gamma", optarg, 1, 1, &cfg.gamma))) goto out;
      break;
    case OPT_CLIP:
      if ((status = cli_parse_positive("eval", "clip", optarg, INFINITY, 0, &cfg.clip))) goto out;
      break;
    case OPT_BANDWIDTH:
      if ((status = cli_parse_positive("eval", "bandwidth", optarg, INFINITY, 0, &cfg.bandwidth)))
        goto out;
      break;
    case OPT_RANGE:
      if (!parse_range(optarg, &cfg.reward_lo, &cfg.reward_hi)) {
        status = cli_usage_error("eval", "--reward-range: '%s' is not LO,HI with LO <= HI",
                                 optarg);
        goto out;
      }
      cfg.has_reward_range = 1;
      break;
    case OPT_BEHAVIOR: {
      int k = ope_behavior_kind_parse(optarg);
      if (k < 0) {
        status = cli_usage_error("eval", "--behavior: '%s' is not one of auto, counts, "
                                 "logistic, gaussian", optarg);
        goto out;
      }
      bkind = (ope_behavior_kind)k;
      force_behavior = 1;
      break;
    }
    case OPT_FQE: {
      int k = ope_fqe_kind_parse(optarg);
      if (k < 0) {
        status = cli_usage_error("eval", "--fqe: '%s' is not one of auto, tabular, linear, neural",
                                 optarg);
        goto out;
      }
      cfg.fqe.kind = (ope_fqe_kind)k;
      break;
    }
    case OPT_FQE_REFITS:
      if ((status = cli_parse_int("eval", "fqe-refits", optarg, 0, 1000, &lv))) goto out;
      cfg.fqe.refits = (int)lv;
      break;
    case OPT_CROSSFIT:
      cfg.fqe.crossfit = 1;
      break;
    case OPT_SEED:
      if ((status = cli_parse_u64("eval", "seed", optarg, &uv))) goto out;
      cfg.ci.seed = uv;
      cfg.fqe.seed = uv;
      break;
    case OPT_THREADS:
      if ((status = cli_parse_int("eval", "threads", optarg, 1, 256, &lv))) goto out;
      cfg.ci.threads = (int)lv;
      break;
    case OPT_JSON: json = 1; break;
    default:
      status = cli_usage_error("eval", "unexpected option");
      goto out;
    }
  }
  if (optind < argc) {
    status = cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (dataset == NULL) {
    status = cli_usage_error("eval", "--dataset NAME is required");
    goto out;
  }
  if (n_spec == 0) {
    status = cli_usage_error("eval", "give at least one --policy or --policy-csv");
    goto out;
  }
  for (size_t a = 0; a < n_spec; a++)
    for (size_t b = 0; b < a; b++)
      if (strcmp(specs[a].arg, specs[b].arg) == 0) {
        status = cli_usage_error("eval", "policy '%s' is given twice", specs[a].arg);
        goto out;
      }
  if (est_arg && (status = parse_estimators(est_arg, &est_list, &cfg.n_est))) goto out;
  cfg.est = est_list;
  cfg.fqe.threads = 1;
  ope_gemm_set_threads(1); /* the bootstrap runs its own threads */

  /* A missing store holds no dataset: say so rather than create one. */
  ope_status st = access(cli_db_path(db), F_OK) == 0
                      ? ope_store_open(cli_db_path(db), 1, &store, &err)
                      : ope_error_set(&err, OPE_ENOINPUT, cli_db_path(db),
                                      "no store here (load a dataset with 'ope ingest' "
                                      "or 'ope sim --dataset')");
  if (st == OPE_OK) st = ope_store_dataset_load(store, dataset, &ds, &err);
  if (st != OPE_OK) goto fail;
  sqlite3_db_release_memory(ope_store_db(store)); /* the steps' pages are in ds now */
  ope_eval_behavior beh = {0};
  if (ds->pscore && !force_behavior) {
    beh.prob = ds->pscore;
  } else {
    if (!json) fprintf(stderr, "ope: estimating the behavior policy (%s, cross-fitted)\n",
                       ds->pscore ? "asked for" : "the log has no pscore");
    if ((st = ope_behavior_estimate(ds, bkind, &bfit, &err)) != OPE_OK) goto fail;
    beh.estimated = 1;
    beh.prob = bfit.prob;
    beh.dist = bfit.dist;
    beh.fit = &bfit;
  }
  res = calloc(n_spec, sizeof *res);
  detail = calloc(n_spec, sizeof *detail);
  if (res == NULL || detail == NULL) {
    st = ope_error_nomem(&err);
    goto fail;
  }
  if (isatty(STDERR_FILENO)) neural_fqe_hint(&cfg, ds);
  for (size_t p = 0; p < n_spec; p++) {
    if (isatty(STDERR_FILENO)) fprintf(stderr, "ope: evaluating %s\n", specs[p].arg);
    if ((st = eval_one(store, ds, &specs[p], &beh, &cfg, &res[p], &err)) != OPE_OK) goto fail;
    for (size_t k = 0; k < res[p].n_est; k++)
      if (res[p].est[k].note[0] && res[p].est[k].flag != OPE_EST_DEFINED)
        cli_warn("%s, %s: %s", res[p].name, res[p].est[k].est->name, res[p].est[k].note);
    if (res[p].diag.unreliable)
      cli_warn("%s: unreliable: %s", res[p].name, res[p].diag.reason);
    if ((detail[p] = json_string(emit_diag, &res[p])) == NULL) {
      st = ope_error_nomem(&err);
      goto fail;
    }
  }
  /* the estimator list as run: the union over policies in table order */
  char names[512] = "";
  for (size_t k = 0; ope_estimator_table[k]; k++) {
    int used = 0;
    for (size_t p = 0; p < n_spec && !used; p++)
      for (size_t e = 0; e < res[p].n_est; e++) used |= res[p].est[e].est == ope_estimator_table[k];
    if (used)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
               names[0] ? "," : "", ope_estimator_table[k]->name);
  }
  run_info ri = {dataset, ds, &cfg, &beh, names, 0};
  settings = json_string(emit_settings, &ri);
  behavior = beh.estimated ? json_string(emit_behavior, &beh) : NULL;
  if (settings == NULL || (beh.estimated && behavior == NULL)) {
    st = ope_error_nomem(&err);
    goto fail;
  }
  if ((st = ope_eval_store(store, ds, &cfg, &beh, res, n_spec, names, settings, behavior,
                           (const char *const *)detail, &ri.id, &err)) != OPE_OK)
    goto fail;
  if (json) print_json(&ri, res, n_spec);
  else print_text(&ri, res, n_spec);
  status = 0;
  goto out;
fail:
  status = cli_fail(&err);
out:
  for (size_t p = 0; res && p < n_spec; p++) ope_eval_policy_result_clear(&res[p]);
  for (size_t p = 0; detail && p < n_spec; p++) free(detail[p]);
  free(detail);
  free(res);
  free(settings);
  free(behavior);
  ope_behavior_fit_clear(&bfit);
  ope_dataset_free(ds);
  ope_store_close(store);
  free(est_list);
  free(specs);
  return status;
}

/* The JSON rendering of a report (report.h): one object with the settings
 * needed to reproduce it, a `results` array (policy, estimator, estimate,
 * ci_low, ci_high, ci_method, n_episodes as in `ope eval --json`), and per
 * kind the ranking, the diagnostics, the per-step contributions or the
 * scorecard. Non-finite numbers are null. */
#include <math.h>
#include <string.h>

#include "reports/json.h"
#include "reports/report.h"

static const char *const kind_names[] = {"rank", "audit", "bench"};

static void num_or_null(ope_json *j, int has, double x) {
  if (has) ope_json_number(j, x);
  else ope_json_null(j);
}

static void settings(const ope_report *r, ope_json *j) {
  ope_json_key(j, "report");
  ope_json_string(j, kind_names[r->kind]);
  ope_json_key(j, "ope_version");
  ope_json_string(j, r->ope_version);
  if (r->kind == OPE_REPORT_BENCH) {
    ope_json_key(j, "env");
    ope_json_string(j, r->env);
    ope_json_key(j, "behavior");
    ope_json_string(j, r->regime);
    ope_json_key(j, "seeds");
    ope_json_int(j, r->n_seeds);
  } else {
    ope_json_key(j, "dataset");
    ope_json_string(j, r->dataset);
    ope_json_key(j, "dataset_source");
    ope_json_string(j, r->dataset_source[0] ? r->dataset_source : NULL);
    ope_json_key(j, "dataset_sha256");
    ope_json_string(j, r->dataset_sha256[0] ? r->dataset_sha256 : NULL);
    ope_json_key(j, "data_sha256");
    ope_json_string(j, r->data_sha256[0] ? r->data_sha256 : NULL);
    ope_json_key(j, "n_steps");
    ope_json_int(j, (long long)r->n_steps);
    ope_json_key(j, "propensities");
    ope_json_string(j, r->propensities);
  }
  ope_json_key(j, "n_episodes");
  ope_json_int(j, (long long)r->n_episodes);
  ope_json_key(j, "gamma");
  ope_json_number(j, r->gamma);
  ope_json_key(j, "ci_method");
  ope_json_string(j, r->ci_method);
  ope_json_key(j, "alpha");
  ope_json_number(j, r->alpha);
  ope_json_key(j, "n_boot");
  if (strcmp(r->ci_method, "bootstrap") == 0) ope_json_int(j, r->n_boot);
  else ope_json_null(j);
  ope_json_key(j, "clip");
  num_or_null(j, r->clip > 0, r->clip);
  ope_json_key(j, "seed");
  ope_json_int(j, (long long)r->seed);
  ope_json_key(j, "run_id");
  if (r->run_id > 0) ope_json_int(j, (long long)r->run_id);
  else ope_json_null(j);
  ope_json_key(j, "created_at");
  ope_json_string(j, r->created_at[0] ? r->created_at : NULL);
  if (r->kind == OPE_REPORT_RANK) {
    ope_json_key(j, "rank_estimator");
    ope_json_string(j, r->rank_estimator);
    ope_json_key(j, "by");
    ope_json_string(j, r->by_lower ? "lower" : "estimate");
  }
}

static void policy(const ope_report *r, const ope_report_policy *P, ope_json *j) {
  ope_json_begin_object(j);
  ope_json_key(j, "policy");
  ope_json_string(j, P->name);
  ope_json_key(j, "algo");
  ope_json_string(j, P->algo[0] ? P->algo : NULL);
  ope_json_key(j, "settings");
  ope_json_string(j, P->settings[0] ? P->settings : NULL);
  ope_json_key(j, "sha256");
  ope_json_string(j, P->sha256);
  ope_json_key(j, "bandwidth");
  num_or_null(j, P->bandwidth > 0, P->bandwidth);
  if (r->kind == OPE_REPORT_RANK) {
    ope_json_key(j, "rank");
    ope_json_int(j, P->rank);
    ope_json_key(j, "score");
    ope_json_number(j, P->score);
    ope_json_key(j, "rank_low");
    if (P->has_rank_ci) ope_json_int(j, P->rank_lo);
    else ope_json_null(j);
    ope_json_key(j, "rank_high");
    if (P->has_rank_ci) ope_json_int(j, P->rank_hi);
    else ope_json_null(j);
    ope_json_key(j, "p_best");
    ope_json_number(j, P->p_best);
    ope_json_key(j, "top_set");
    ope_json_bool(j, P->top_set);
    ope_json_key(j, "gated");
    ope_json_bool(j, P->gated);
  }
  if (P->has_truth) {
    ope_json_key(j, "truth");
    ope_json_number(j, P->truth);
    ope_json_key(j, "truth_method");
    ope_json_string(j, P->truth_method);
  }
  if (P->has_diag) {
    ope_json_key(j, "diagnostics");
    ope_json_begin_object(j);
    ope_json_key(j, "ess");
    ope_json_number(j, P->ess);
    ope_json_key(j, "ess_frac");
    ope_json_number(j, P->ess_frac);
    ope_json_key(j, "ess_step_min");
    ope_json_number(j, P->ess_step_min);
    ope_json_key(j, "max_share");
    ope_json_number(j, P->max_share);
    ope_json_key(j, "zero_frac");
    ope_json_number(j, P->zero_frac);
    ope_json_key(j, "weight_quantiles");
    ope_json_begin_array(j);
    for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++) ope_json_number(j, P->quantiles[q]);
    ope_json_end_array(j);
    ope_json_key(j, "support_rows");
    if (P->support_kind) ope_json_int(j, (long long)P->support_rows);
    else ope_json_null(j);
    ope_json_key(j, "support_frac");
    num_or_null(j, P->support_kind != 0, P->support_frac);
    ope_json_key(j, "unreliable");
    ope_json_bool(j, P->unreliable);
    ope_json_key(j, "reason");
    ope_json_string(j, P->reason[0] ? P->reason : NULL);
    ope_json_end_object(j);
  }
  ope_json_end_object(j);
}

static void results(const ope_report *r, ope_json *j) {
  ope_json_key(j, "results");
  ope_json_begin_array(j);
  for (size_t p = 0; p < r->n_pol; p++)
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      ope_json_begin_object(j);
      ope_json_key(j, "policy");
      ope_json_string(j, r->pol[p].name);
      ope_json_key(j, "estimator");
      ope_json_string(j, r->est[k]);
      ope_json_key(j, "estimate");
      num_or_null(j, c->defined, c->value);
      ope_json_key(j, "ci_low");
      num_or_null(j, c->has_ci, c->ci_low);
      ope_json_key(j, "ci_high");
      num_or_null(j, c->has_ci, c->ci_high);
      ope_json_key(j, "ci_method");
      ope_json_string(j, c->has_ci ? c->ci_method : NULL);
      ope_json_key(j, "n_episodes");
      ope_json_int(j, (long long)r->n_episodes);
      ope_json_key(j, "unreliable");
      ope_json_bool(j, c->unreliable);
      ope_json_key(j, "note");
      ope_json_string(j, c->note[0] ? c->note : NULL);
      ope_json_end_object(j);
    }
  ope_json_end_array(j);
}

static void scorecard(const ope_report *r, ope_json *j) {
  ope_json_key(j, "scorecard");
  ope_json_begin_array(j);
  for (size_t k = 0; k < r->n_est; k++) {
    ope_json_begin_object(j);
    ope_json_key(j, "estimator");
    ope_json_string(j, r->est[k]);
    for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
      const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
      ope_json_key(j, ope_bench_metric_names[m]);
      ope_json_begin_object(j);
      ope_json_key(j, "mean");
      num_or_null(j, s->n > 0, s->mean);
      ope_json_key(j, "ci_low");
      num_or_null(j, s->n > 0, s->lo);
      ope_json_key(j, "ci_high");
      num_or_null(j, s->n > 0, s->hi);
      ope_json_key(j, "n_seeds");
      ope_json_int(j, (long long)s->n);
      ope_json_end_object(j);
    }
    ope_json_end_object(j);
  }
  ope_json_end_array(j);
}

void ope_report_write_json(const ope_report *r, FILE *out) {
  ope_json j;
  ope_json_init(&j, out, 1);
  ope_json_begin_object(&j);
  settings(r, &j);
  ope_json_key(&j, "policies");
  ope_json_begin_array(&j);
  for (size_t p = 0; p < r->n_pol; p++) policy(r, &r->pol[p], &j);
  ope_json_end_array(&j);
  results(r, &j);
  if (r->beats) {
    ope_json_key(&j, "p_beats");
    ope_json_begin_array(&j);
    for (size_t i = 0; i < r->n_pol; i++) {
      ope_json_begin_array(&j);
      for (size_t k = 0; k < r->n_pol; k++) ope_json_number(&j, r->beats[i * r->n_pol + k]);
      ope_json_end_array(&j);
    }
    ope_json_end_array(&j);
  }
  if (r->kind == OPE_REPORT_AUDIT) {
    ope_json_key(&j, "behavior_value");
    ope_json_begin_object(&j);
    ope_json_key(&j, "estimate");
    num_or_null(&j, r->has_behavior, r->behavior_value);
    ope_json_key(&j, "ci_low");
    num_or_null(&j, r->has_behavior, r->behavior_lo);
    ope_json_key(&j, "ci_high");
    num_or_null(&j, r->has_behavior, r->behavior_hi);
    ope_json_end_object(&j);
    ope_json_key(&j, "step_contribution");
    ope_json_begin_object(&j);
    ope_json_key(&j, "policy_pdis");
    ope_json_begin_array(&j);
    for (size_t t = 0; t < r->horizon && r->step_target; t++) ope_json_number(&j, r->step_target[t]);
    ope_json_end_array(&j);
    ope_json_key(&j, "behavior");
    ope_json_begin_array(&j);
    for (size_t t = 0; t < r->horizon && r->step_behavior; t++)
      ope_json_number(&j, r->step_behavior[t]);
    ope_json_end_array(&j);
    ope_json_end_object(&j);
  }
  if (r->kind == OPE_REPORT_BENCH) scorecard(r, &j);
  ope_json_key(&j, "verdict");
  ope_json_string(&j, r->verdict);
  ope_json_key(&j, "notes");
  ope_json_begin_array(&j);
  for (size_t i = 0; i < r->n_notes; i++) ope_json_string(&j, r->notes[i]);
  ope_json_end_array(&j);
  ope_json_end_object(&j);
  ope_json_finish(&j);
}

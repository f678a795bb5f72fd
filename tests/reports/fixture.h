/* Hand-made reports for the renderer tests: fixed numbers, so the golden
 * files change only when a format does. Covers the awkward cases: an
 * undefined estimate, a missing interval, an unreliable (gated) candidate,
 * a name with characters every format must escape, and notes. */
#ifndef OPE_TESTS_REPORTS_FIXTURE_H
#define OPE_TESTS_REPORTS_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/report.h"

static void fixture_common(ope_report *r) {
  snprintf(r->dataset, sizeof r->dataset, "gw");
  snprintf(r->dataset_source, sizeof r->dataset_source, "gw.csv");
  snprintf(r->dataset_sha256, sizeof r->dataset_sha256,
           "a34dcab86b79012bfc4f59037c085d5025ea4991fede7cbf806ac8e9b730c04b");
  memset(r->data_sha256, 'd', 64);
  r->n_episodes = 200;
  r->n_steps = 3470;
  r->gamma = 0.99;
  r->alpha = 0.05;
  snprintf(r->ci_method, sizeof r->ci_method, "bootstrap");
  r->n_boot = 2000;
  r->seed = 7;
  snprintf(r->propensities, sizeof r->propensities, "logged");
  snprintf(r->ope_version, sizeof r->ope_version, "0.1.0");
}

static void fixture_cell(ope_report_cell *c, double v, double lo, double hi, int unrel) {
  c->defined = isfinite(v);
  c->value = v;
  c->has_ci = isfinite(lo);
  c->ci_low = lo;
  c->ci_high = hi;
  snprintf(c->ci_method, sizeof c->ci_method, "%s", c->has_ci ? "bootstrap" : "");
  c->unreliable = unrel;
}

static void fixture_diag(ope_report_policy *P, double ess, int unrel, const char *why) {
  static const double q[7] = {0, 0.001, 0.05, 0.4, 1.2, 6.5, 40};
  P->has_diag = 1;
  P->ess = ess;
  P->ess_frac = ess / 200.0;
  P->ess_step_min = ess * 0.9;
  P->max_share = 0.5 / ess;
  P->zero_frac = 0.01;
  memcpy(P->quantiles, q, sizeof q);
  P->support_kind = 1;
  P->support_rows = 12;
  P->support_frac = 12.0 / 3470.0;
  P->unreliable = unrel;
  snprintf(P->reason, sizeof P->reason, "%s", why);
}

/* A ranking of three candidates by wdr; the third is unreliable. */
static int fixture_rank(ope_report *r) {
  memset(r, 0, sizeof *r);
  r->kind = OPE_REPORT_RANK;
  if (ope_report_alloc(r, 3, 3, 1, 0, NULL) != OPE_OK) return -1;
  fixture_common(r);
  snprintf(r->rank_estimator, sizeof r->rank_estimator, "wdr");
  static const char *const est[] = {"wis", "dm", "wdr"};
  static const char *const name[] = {"gridworld:expert", "cql \"a<b&c\", alpha=1",
                                     "gridworld:random"};
  static const double v[3][3] = {{0.92, 0.85, 0.90}, {0.70, NAN, 0.66}, {1.5, -0.5, 1.2}};
  for (int k = 0; k < 3; k++) snprintf(r->est[k], sizeof r->est[k], "%s", est[k]);
  for (int p = 0; p < 3; p++) {
    ope_report_policy *P = &r->pol[p];
    snprintf(P->name, sizeof P->name, "%s", name[p]);
    snprintf(P->algo, sizeof P->algo, "%s", p == 1 ? "cql" : "reference");
    if (p == 1) snprintf(P->settings, sizeof P->settings, "{\"alpha\":1}");
    for (int i = 0; i < 64; i++) P->sha256[i] = "0123456789abcdef"[(i * 7 + p) % 16];
    fixture_diag(P, p == 2 ? 1.2 : 40.0 + p, p == 2, p == 2 ? "ESS below 1% of episodes" : "");
    for (int k = 0; k < 3; k++)
      fixture_cell(&P->cell[k], v[p][k], k == 1 && p == 0 ? NAN : v[p][k] - 0.05,
                   v[p][k] + 0.04, p == 2 && k != 1);
    P->rank = p + 1;
    P->score = v[p][2];
    P->has_rank_ci = 1;
    P->rank_lo = p == 0 ? 1 : 2;
    P->rank_hi = p == 0 ? 2 : 3;
    P->p_best = p == 0 ? 0.8 : p == 1 ? 0.2 : NAN;
    P->top_set = p < 2;
    P->gated = p == 2;
  }
  snprintf(r->pol[1].cell[1].note, sizeof r->pol[1].cell[1].note, "no fixed point");
  static const double beats[9] = {NAN, 0.8, 0.99, 0.2, NAN, 0.9, 0.01, 0.1, NAN};
  memcpy(r->beats, beats, sizeof beats);
  static const double agree[9] = {1, 1, 1, 1, 1, -1, 1, -1, 1};
  memcpy(r->agree, agree, sizeof agree);
  snprintf(r->verdict, sizeof r->verdict, "gridworld:expert ranks first by wdr (0.9, P(best) "
           "0.8), but at 95%% the logs cannot tell it from 1 other candidate");
  ope_report_note(r, "gridworld:random: weights are degenerate");
  return 0;
}

/* An audit of one policy with a behavior value and 12 steps. */
static int fixture_audit(ope_report *r) {
  memset(r, 0, sizeof *r);
  r->kind = OPE_REPORT_AUDIT;
  if (ope_report_alloc(r, 3, 1, 0, 12, NULL) != OPE_OK) return -1;
  fixture_common(r);
  static const char *const est[] = {"is", "wpdis", "fqe"};
  for (int k = 0; k < 3; k++) snprintf(r->est[k], sizeof r->est[k], "%s", est[k]);
  ope_report_policy *P = &r->pol[0];
  snprintf(P->name, sizeof P->name, "gridworld:eps=0.3");
  snprintf(P->algo, sizeof P->algo, "reference");
  memset(P->sha256, 'e', 64);
  fixture_diag(P, 26.4, 0, "");
  fixture_cell(&P->cell[0], 0.78, 0.48, 1.14, 0);
  fixture_cell(&P->cell[1], 0.73, 0.60, 0.84, 0);
  fixture_cell(&P->cell[2], 0.60, 0.55, 0.65, 0);
  snprintf(P->cell[2].note, sizeof P->cell[2].note, "discount^horizon > 1%%");
  r->has_behavior = 1;
  r->behavior_value = 0.066;
  r->behavior_lo = -0.05;
  r->behavior_hi = 0.19;
  for (int t = 0; t < 12; t++) {
    r->step_target[t] = 0.1 * (12 - t) / 12.0;
    r->step_behavior[t] = 0.01 * (t - 5);
  }
  snprintf(r->verdict, sizeof r->verdict, "at 95%%, the policy is better than the behavior "
           "policy (wpdis 0.73 [0.6, 0.84] against the logged 0.066 [-0.05, 0.19])");
  return 0;
}

/* A scorecard of two estimators over two candidates. */
static int fixture_bench(ope_report *r) {
  memset(r, 0, sizeof *r);
  r->kind = OPE_REPORT_BENCH;
  if (ope_report_alloc(r, 2, 2, 0, 0, NULL) != OPE_OK) return -1;
  fixture_common(r);
  snprintf(r->env, sizeof r->env, "gridworld");
  snprintf(r->regime, sizeof r->regime, "medium");
  r->n_seeds = 3;
  r->gamma = 0.95;
  for (int k = 0; k < 2; k++) snprintf(r->est[k], sizeof r->est[k], "%s", k ? "wdr" : "is");
  for (int p = 0; p < 2; p++) {
    ope_report_policy *P = &r->pol[p];
    snprintf(P->name, sizeof P->name, "gridworld:%s", p ? "random" : "expert");
    P->has_truth = 1;
    P->truth = p ? -0.2382 : 0.5968;
    snprintf(P->truth_method, sizeof P->truth_method, "exact");
    fixture_cell(&P->cell[0], P->truth + 0.1, P->truth - 0.2, P->truth + 0.3, 0);
    fixture_cell(&P->cell[1], P->truth - 0.01, P->truth - 0.05, P->truth + 0.03, 0);
  }
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
      ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
      s->mean = 0.1 * (m + 1) + 0.05 * k;
      s->lo = s->mean - 0.02;
      s->hi = s->mean + 0.02;
      s->n = (size_t)(m == 3 && k == 0 ? 0 : 3);
    }
  snprintf(r->verdict, sizeof r->verdict, "on medium data with 200 episodes, is picked the "
           "best candidate most reliably");
  ope_report_note(r, "per-candidate estimates shown are from the first dataset (seed 7)");
  return 0;
}

#endif

/* Rank and audit reports from simulated logs (reports/joint.h): the joint
 * bootstrap really is joint (a candidate listed twice ties with itself in
 * every replicate), replicates reproduce the evaluation's own intervals,
 * the audit's per-step terms add up to PDIS, the behavior value is the
 * mean logged return, and the output does not depend on the thread count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "estimators/ci.h"
#include "reports/joint.h"
#include "sim/sim.h"

static ope_dataset *ds;
static ope_policy *pol[3];

static int setup(void **state) {
  (void)state;
  if (ope_sim_generate("gridworld", "medium", 120, 3, 0, &ds, NULL) != OPE_OK) return -1;
  if (ds->name == NULL) ds->name = strdup("gw");
  const char *names[] = {"gridworld:eps=0.3", "gridworld:random", "gridworld:eps=0.3"};
  for (int i = 0; i < 3; i++)
    if (ope_sim_policy_new(names[i], &pol[i], NULL) != OPE_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++) ope_policy_free(pol[i]);
  ope_dataset_free(ds);
  return 0;
}

static const ope_estimator *EST[3];

static void config(ope_joint_config *c, int threads) {
  ope_joint_config_default(c);
  EST[0] = &ope_est_pdis;
  EST[1] = &ope_est_wis;
  EST[2] = &ope_est_wpdis;
  c->eval.est = EST;
  c->eval.n_est = 3;
  c->eval.gamma = 0.95;
  c->eval.ci.n_boot = 300;
  c->eval.ci.seed = 11;
  c->eval.ci.threads = threads;
  c->rank_estimator = "wpdis";
}

static char *render(const ope_report *r, ope_report_format f) {
  char *buf = NULL;
  size_t len;
  FILE *m = open_memstream(&buf, &len);
  assert_int_equal(ope_report_write(r, f, m, NULL), OPE_OK);
  fclose(m);
  return buf;
}

static void rank_joint(void **state) {
  (void)state;
  ope_joint_config c;
  ope_report r;
  ope_error err;
  config(&c, 1);
  assert_int_equal(ope_joint_report(NULL, ds, NULL, pol, 3, &c, OPE_REPORT_RANK, &r, &err),
                   OPE_OK);
  assert_int_equal(r.n_pol, 3);
  assert_string_equal(r.rank_estimator, "wpdis");
  /* eps=0.3 (twice) ahead of random */
  assert_string_equal(r.pol[2].name, "gridworld:random");
  assert_string_equal(r.pol[0].name, "gridworld:eps=0.3");
  /* the duplicate: equal in every replicate, so each beats the other with
   * probability exactly 1/2 and they share P(best) */
  assert_true(r.beats[0 * 3 + 1] == 0.5 && r.beats[1 * 3 + 0] == 0.5);
  assert_true(fabs(r.pol[0].p_best - r.pol[1].p_best) < 1e-15);
  double total = 0;
  for (int p = 0; p < 3; p++) total += r.pol[p].p_best;
  assert_true(fabs(total - 1.0) < 1e-12);
  assert_int_equal(r.pol[1].top_set, 1);
  /* same bytes with two threads */
  char *one = render(&r, OPE_FORMAT_JSON);
  ope_report r2;
  config(&c, 2);
  assert_int_equal(ope_joint_report(NULL, ds, NULL, pol, 3, &c, OPE_REPORT_RANK, &r2, &err),
                   OPE_OK);
  char *two = render(&r2, OPE_FORMAT_JSON);
  assert_string_equal(one, two);
  free(one);
  free(two);
  ope_report_clear(&r);
  ope_report_clear(&r2);
}

/* Replicates drawn again give the evaluation's own percentile interval. */
static void replicates_match_intervals(void **state) {
  (void)state;
  ope_joint_config c;
  config(&c, 1);
  ope_policy_scores sc = {0};
  ope_eval_policy_result res = {0};
  ope_eval_behavior beh = {0, ds->pscore, NULL, NULL};
  assert_int_equal(ope_policy_score_dataset(pol[0], ds, 0, &sc, NULL), OPE_OK);
  assert_int_equal(ope_eval_policy(ds, &beh, pol[0], &sc, &c.eval, &res, NULL), OPE_OK);
  size_t B = (size_t)c.eval.ci.n_boot, K = res.n_est;
  double *rep = malloc(B * K * sizeof(double)), *col = malloc(B * sizeof(double));
  assert_int_equal(ope_joint_replicates(ds, &beh, pol[0], &sc, &c.eval, &res, rep, NULL), OPE_OK);
  for (size_t k = 0; k < K; k++) {
    size_t m = 0;
    for (size_t b = 0; b < B; b++)
      if (!isnan(rep[b * K + k])) col[m++] = rep[b * K + k];
    for (size_t i = 1; i < m; i++) /* insertion sort: B is small */
      for (size_t j = i; j > 0 && col[j - 1] > col[j]; j--) {
        double t = col[j]; col[j] = col[j - 1]; col[j - 1] = t;
      }
    assert_true(res.est[k].has_ci);
    assert_true(ope_ci_quantile(col, m, 0.025) == res.est[k].ci_low);
    assert_true(ope_ci_quantile(col, m, 0.975) == res.est[k].ci_high);
  }
  free(rep);
  free(col);
  ope_eval_policy_result_clear(&res);
  ope_policy_scores_clear(&sc);
}

static void audit(void **state) {
  (void)state;
  ope_joint_config c;
  ope_report r;
  config(&c, 1);
  assert_int_equal(ope_joint_report(NULL, ds, NULL, pol, 1, &c, OPE_REPORT_AUDIT, &r, NULL),
                   OPE_OK);
  assert_int_equal(r.n_pol, 1);
  /* per-step PDIS terms add up to PDIS (relative 1e-12) */
  double sum = 0, pdis = NAN;
  for (size_t t = 0; t < r.horizon; t++) sum += r.step_target[t];
  for (size_t k = 0; k < r.n_est; k++)
    if (strcmp(r.est[k], "pdis") == 0) pdis = r.pol[0].cell[k].value;
  assert_true(fabs(sum - pdis) <= 1e-12 * fmax(fabs(pdis), 1.0));
  /* the behavior value is the mean discounted logged return */
  double g = 0, sb = 0;
  for (size_t i = 0; i < ds->n_episodes; i++) g += ope_dataset_return(ds, i, 0.95);
  g /= (double)ds->n_episodes;
  for (size_t t = 0; t < r.horizon; t++) sb += r.step_behavior[t];
  assert_true(fabs(r.behavior_value - g) <= 1e-12 * fmax(fabs(g), 1.0));
  assert_true(fabs(sb - g) <= 1e-12 * fmax(fabs(g), 1.0));
  assert_true(r.behavior_lo < g && g < r.behavior_hi);
  assert_non_null(strstr(r.verdict, "at 95%"));
  ope_report_clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(rank_joint),
    cmocka_unit_test(replicates_match_intervals),
    cmocka_unit_test(audit),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

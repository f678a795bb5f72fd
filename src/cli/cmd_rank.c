/* `ope rank`: rank candidate policies on a dataset by one estimator, with
 * the uncertainty of the ranking itself (rank intervals, P(best), pairwise
 * P(A beats B) and the set indistinguishable from the top, from the joint
 * episode bootstrap), unreliable estimates gated, in any report format.
 *
 * The candidates and settings come from the options, or from a stored
 * evaluation run (--run ID), which is recomputed with its own settings and
 * seed: the estimates are the stored ones, and the replicates the ranking
 * needs are drawn again, identically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_cli.h"
#include "policy/resolve.h"
#include "policy/scores_csv.h"
#include "store/store.h"

const char cmd_rank_usage[] =
  "usage: ope rank --dataset NAME --policy P [--policy P2 ...] [--policy-csv FILE ...]\n"
  "                [--estimator E]\n"
  "                [--by estimate|lower] [--format F] [--output FILE] [options]\n"
  "       ope rank --run ID [--estimator E] [--by estimate|lower] [--format F]\n"
  "\n"
  "Rank candidate policies by an estimator, with how sure the ranking is:\n"
  "rank intervals and P(best) from the joint bootstrap over episodes, the\n"
  "pairwise probability that one candidate beats another, and the set the\n"
  "logs cannot tell from the top. An unreliable estimate (bad weight\n"
  "diagnostics) is never ranked above a reliable one.\n"
  "\n"
  "  --dataset NAME      the logged dataset (see 'ope info')\n"
  "  --policy P          a candidate: a simulator reference policy\n"
  "                      (ENV:REGIME) or a stored policy; repeatable\n"
  "  --policy-csv FILE   a candidate given by its scores on the logged steps\n"
  "                      (ope-policy-csv(5)); repeatable\n"
  "  --run ID            the candidates and settings of a stored 'ope eval'\n"
  "                      run (other evaluation options are then ignored)\n"
  "  --estimator E       rank by E (default: the first of wdr, dr, wpdis,\n"
  "                      wis, pdis, is, fqe, dm that ran)\n"
  "  --by WHAT           estimate (default) or lower: the lower end of the\n"
  "                      interval, the safe choice\n"
  REPORT_CLI_HELP;

enum { O_DATASET = RPT_OPT_FIRST_FREE, O_POLICY, O_POLICY_CSV, O_RUN, O_ESTIMATOR, O_BY };

/* The stored run's settings and candidate names. */
typedef struct run_spec {
  char dataset[256];
  char estimators[256];
  char created_at[32];
  char **policy;
  size_t n_policy;
} run_spec;

static void run_spec_clear(run_spec *r) {
  for (size_t i = 0; i < r->n_policy; i++) free(r->policy[i]);
  free(r->policy);
  memset(r, 0, sizeof *r);
}

static ope_status load_run(ope_store *s, long long id, report_cli *o, run_spec *rs,
                           ope_error *err) {
  sqlite3_stmt *st = NULL;
  ope_eval_config *c = &o->cfg.eval;
  ope_status rc = ope_store_prepare(s,
      "SELECT dataset, gamma, estimators, ci_method, alpha, n_boot, clip, bandwidth, "
      "reward_lo, reward_hi, seed, created_at FROM evaluations WHERE id = ?1", &st, err);
  if (rc != OPE_OK) return rc;
  sqlite3_bind_int64(st, 1, id);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW) {
    rc = r == SQLITE_DONE
             ? ope_error_set(err, OPE_ENOINPUT, NULL, "no evaluation run %lld in the store", id)
             : ope_store_fail(s, r, "reading an evaluation run", err);
    sqlite3_finalize(st);
    return rc;
  }
  snprintf(rs->dataset, sizeof rs->dataset, "%s", (const char *)sqlite3_column_text(st, 0));
  c->gamma = sqlite3_column_double(st, 1);
  snprintf(rs->estimators, sizeof rs->estimators, "%s",
           (const char *)sqlite3_column_text(st, 2));
  int m = ope_ci_method_parse((const char *)sqlite3_column_text(st, 3));
  c->ci.method = m < 0 ? OPE_CI_BOOTSTRAP : (ope_ci_method)m;
  c->ci.alpha = sqlite3_column_double(st, 4);
  if (sqlite3_column_type(st, 5) != SQLITE_NULL) c->ci.n_boot = sqlite3_column_int(st, 5);
  c->clip = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 6);
  c->bandwidth = sqlite3_column_type(st, 7) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 7);
  c->has_reward_range = sqlite3_column_type(st, 8) != SQLITE_NULL;
  c->reward_lo = sqlite3_column_double(st, 8);
  c->reward_hi = sqlite3_column_double(st, 9);
  c->ci.seed = (uint64_t)sqlite3_column_int64(st, 10);
  c->fqe.seed = c->ci.seed;
  snprintf(rs->created_at, sizeof rs->created_at, "%s", (const char *)sqlite3_column_text(st, 11));
  sqlite3_finalize(st);
  st = NULL;
  /* the candidates, in the order they were stored */
  rc = ope_store_prepare(s, "SELECT policy, source FROM diagnostics WHERE evaluation_id = ?1 "
                            "ORDER BY policy", &st, err);
  if (rc != OPE_OK) return rc;
  sqlite3_bind_int64(st, 1, id);
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *src = (const char *)sqlite3_column_text(st, 1);
    if (src && strcmp(src, "scores") == 0) {
      rc = ope_error_set(err, OPE_ENOINPUT, name, "run %lld scored this policy from a scores "
                         "file, which the store does not keep; rank it with --dataset and "
                         "--policy-csv instead", id);
      break;
    }
    char **grown = realloc(rs->policy, (rs->n_policy + 1) * sizeof *grown);
    if (!grown || !(grown[rs->n_policy] = strdup(name))) {
      if (grown) rs->policy = grown;
      rc = ope_error_nomem(err);
      break;
    }
    rs->policy = grown;
    rs->n_policy++;
  }
  if (rc == OPE_OK && r != SQLITE_DONE) rc = ope_store_fail(s, r, "reading a run's policies", err);
  sqlite3_finalize(st);
  return rc;
}

int cmd_rank(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"policy", required_argument, NULL, O_POLICY},
    {"policy-csv", required_argument, NULL, O_POLICY_CSV},
    {"run", required_argument, NULL, O_RUN},
    {"estimator", required_argument, NULL, O_ESTIMATOR},
    {"by", required_argument, NULL, O_BY},
    REPORT_CLI_OPTIONS,
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  report_cli o;
  report_cli_init(&o);
  const char *db = NULL, *dataset = NULL;
  const char **names = calloc((size_t)argc + 1, sizeof *names);
  char *is_csv = calloc((size_t)argc + 1, 1); /* names[i] is a scores file */
  size_t n_names = 0;
  long run = 0;
  int status = 0, c;
  ope_store *s = NULL;
  ope_dataset *ds = NULL;
  ope_dataset_info info = {0};
  ope_policy **pol = NULL;
  ope_report rep = {0};
  run_spec rs = {0};
  const ope_estimator *run_est[32];
  ope_error err;
  ope_error_clear(&err);
  ope_status st = OPE_OK;
  if (names == NULL || is_csv == NULL) {
    free(names);
    free(is_csv);
    return 70;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    if (c == 'o') c = RPT_OPT_OUTPUT;
    int r = report_cli_option("rank", c, optarg, &o);
    if (r == 64) { status = 64; goto out; }
    if (r == 0) continue;
    r = cli_common_option("rank", c, &db, &status);
    if (r == 1) goto out;
    if (r == 0) continue;
    switch (c) {
    case O_DATASET: dataset = optarg; break;
    case O_POLICY: names[n_names++] = optarg; break;
    case O_POLICY_CSV:
      is_csv[n_names] = 1;
      names[n_names++] = optarg;
      break;
    case O_RUN:
      if ((status = cli_parse_int("rank", "run", optarg, 1, 2147483647L, &run))) goto out;
      break;
    case O_ESTIMATOR:
      if (ope_estimator_find(optarg) == NULL) {
        status = cli_usage_error("rank", "--estimator: unknown estimator '%s'", optarg);
        goto out;
      }
      o.cfg.rank_estimator = optarg;
      break;
    case O_BY:
      if (strcmp(optarg, "estimate") == 0) o.cfg.by_lower = 0;
      else if (strcmp(optarg, "lower") == 0) o.cfg.by_lower = 1;
      else {
        status = cli_usage_error("rank", "--by: '%s' is not estimate or lower", optarg);
        goto out;
      }
      break;
    default: break;
    }
  }
  if (optind != argc) {
    status = cli_usage_error("rank", "unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (run == 0 && (dataset == NULL || n_names == 0)) {
    status = cli_usage_error("rank", "give --dataset NAME and at least one --policy, or --run ID");
    goto out;
  }
  if (run != 0 && (dataset != NULL || n_names != 0)) {
    status = cli_usage_error("rank", "--run takes its dataset and policies from the store; "
                             "do not also give --dataset or --policy");
    goto out;
  }
  if ((st = ope_store_open(cli_db_path(db), 0, &s, &err)) != OPE_OK) goto done;
  if (run != 0) {
    if ((st = load_run(s, run, &o, &rs, &err)) != OPE_OK) goto done;
    dataset = rs.dataset;
    const char **grown = realloc(names, (rs.n_policy + 1) * sizeof *names);
    if (grown == NULL) {
      st = ope_error_nomem(&err);
      goto done;
    }
    names = grown;
    char *grown_csv = realloc(is_csv, rs.n_policy + 1);
    if (grown_csv == NULL) {
      st = ope_error_nomem(&err);
      goto done;
    }
    is_csv = grown_csv;
    memset(is_csv, 0, rs.n_policy + 1); /* a stored run names stored policies */
    for (size_t i = 0; i < rs.n_policy; i++) names[n_names++] = rs.policy[i];
    size_t k = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", rs.estimators);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && k < 32;
         tok = strtok_r(NULL, ",", &save))
      if (ope_estimator_find(tok)) run_est[k++] = ope_estimator_find(tok);
    if (k) {
      o.cfg.eval.est = run_est;
      o.cfg.eval.n_est = k;
    }
    if (n_names == 0) {
      st = ope_error_set(&err, OPE_ENOINPUT, NULL, "run %ld has no policies", run);
      goto done;
    }
  }
  if ((st = ope_store_dataset_find(s, dataset, &info, &err)) != OPE_OK) goto done;
  if ((st = ope_store_dataset_load(s, dataset, &ds, &err)) != OPE_OK) goto done;
  pol = calloc(n_names, sizeof *pol);
  if (pol == NULL) {
    st = ope_error_nomem(&err);
    goto done;
  }
  for (size_t i = 0; i < n_names; i++)
    if ((st = is_csv[i] ? ope_scores_csv_policy(names[i], names[i], ds, &pol[i], &err)
                        : ope_policy_resolve(s, names[i], &pol[i], &err)) != OPE_OK)
      goto done;
  st = ope_joint_report(s, ds, &info, pol, n_names, &o.cfg, OPE_REPORT_RANK, &rep, &err);
  for (size_t i = 0; i < n_names && st == OPE_OK; i++)
    if (is_csv[i]) st = report_cli_mark_scores(&rep, names[i], &err);
  if (st != OPE_OK) goto done;
  if (run != 0) {
    rep.run_id = run;
    snprintf(rep.created_at, sizeof rep.created_at, "%s", rs.created_at);
  }
  for (size_t i = 0; i < rep.n_notes; i++) cli_warn("%s", rep.notes[i]);
  status = report_cli_emit(&o, &rep);
done:
  if (st != OPE_OK) status = cli_fail(&err);
  for (size_t i = 0; pol && i < n_names; i++) ope_policy_free(pol[i]);
  free(pol);
  ope_report_clear(&rep);
  ope_dataset_free(ds);
  ope_dataset_info_clear(&info);
  ope_store_close(s);
  run_spec_clear(&rs);
out:
  free(names);
  free(is_csv);
  return status;
}

/* `ope audit`: one policy against the logs. Every estimator that applies,
 * side by side with intervals; weight diagnostics and the support report;
 * the per-step contributions; the behavior policy's own value; and a
 * verdict in plain words. The report records the dataset's and the
 * policy's SHA-256, the settings, the seed and the ope version, so that it
 * can be reproduced byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_cli.h"
#include "policy/resolve.h"
#include "policy/scores_csv.h"
#include "store/store.h"

const char cmd_audit_usage[] =
  "usage: ope audit --dataset NAME (--policy P | --policy-csv FILE) [--format F]\n"
  "                 [--output FILE]\n"
  "                 [options]\n"
  "\n"
  "Audit one policy on the logs: every estimator that applies with its\n"
  "interval, the importance weights' diagnostics, where the policy leaves\n"
  "the data's support, the per-step contributions to its value, the\n"
  "behavior policy's own value (the on-policy mean of the logged returns)\n"
  "for comparison, and a verdict in plain words.\n"
  "\n"
  "  --dataset NAME      the logged dataset (see 'ope info')\n"
  "  --policy P          the policy: a simulator reference policy\n"
  "                      (ENV:REGIME) or a stored policy\n"
  "  --policy-csv FILE   the policy given by its scores on the logged steps\n"
  "                      (ope-policy-csv(5)) instead\n"
  REPORT_CLI_HELP;

enum { O_DATASET = RPT_OPT_FIRST_FREE, O_POLICY, O_POLICY_CSV };

int cmd_audit(int argc, char **argv) {
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"policy", required_argument, NULL, O_POLICY},
    {"policy-csv", required_argument, NULL, O_POLICY_CSV},
    REPORT_CLI_OPTIONS,
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  report_cli o;
  report_cli_init(&o);
  const char *db = NULL, *dataset = NULL, *policy = NULL;
  int from_csv = 0;
  int status = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    if (c == 'o') c = RPT_OPT_OUTPUT;
    int r = report_cli_option("audit", c, optarg, &o);
    if (r == 64) return 64;
    if (r == 0) continue;
    r = cli_common_option("audit", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    if (c == O_DATASET) dataset = optarg;
    else if (c == O_POLICY || c == O_POLICY_CSV) {
      if (policy) return cli_usage_error("audit", "audit takes one --policy; use 'ope rank' "
                                         "to compare several");
      policy = optarg;
      from_csv = c == O_POLICY_CSV;
    }
  }
  if (optind != argc) return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
  if (dataset == NULL || policy == NULL)
    return cli_usage_error("audit", "--dataset NAME and --policy P (or --policy-csv FILE) "
                           "are required");

  ope_store *s = NULL;
  ope_dataset *ds = NULL;
  ope_dataset_info info = {0};
  ope_policy *pol = NULL;
  ope_report rep = {0};
  ope_error err;
  ope_error_clear(&err);
  ope_status st;
  if ((st = ope_store_open(cli_db_path(db), 0, &s, &err)) != OPE_OK) goto done;
  if ((st = ope_store_dataset_find(s, dataset, &info, &err)) != OPE_OK) goto done;
  if ((st = ope_store_dataset_load(s, dataset, &ds, &err)) != OPE_OK) goto done;
  st = from_csv ? ope_scores_csv_policy(policy, policy, ds, &pol, &err)
                : ope_policy_resolve(s, policy, &pol, &err);
  if (st != OPE_OK) goto done;
  st = ope_joint_report(s, ds, &info, &pol, 1, &o.cfg, OPE_REPORT_AUDIT, &rep, &err);
  if (st == OPE_OK && from_csv) st = report_cli_mark_scores(&rep, policy, &err);
  if (st != OPE_OK) goto done;
  for (size_t i = 0; i < rep.n_notes; i++) cli_warn("%s", rep.notes[i]);
  status = report_cli_emit(&o, &rep);
done:
  if (st != OPE_OK) status = cli_fail(&err);
  ope_report_clear(&rep);
  ope_policy_free(pol);
  ope_dataset_free(ds);
  ope_dataset_info_clear(&info);
  ope_store_close(s);
  return status;
}

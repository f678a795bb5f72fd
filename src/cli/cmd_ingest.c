/* `ope ingest FILE.csv --dataset NAME [--actions A] [--replace]`. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "data/ingest.h"
#include "store/store.h"

const char cmd_ingest_usage[] =
  "usage: ope ingest FILE.csv --dataset NAME [--actions A] [--replace]\n"
  "                  [--notes TEXT] [--db FILE]\n"
  "\n"
  "Validate a log CSV (see ope-log-csv(5)) and load it into the store as a\n"
  "dataset. The load is all or nothing: any bad row rejects the whole file\n"
  "and leaves the store as it was.\n"
  "\n"
  "  --dataset NAME  name of the new dataset (required)\n"
  "  --actions A     number of discrete actions (default: max(action)+1)\n"
  "  --replace       replace a dataset of the same name\n"
  "  --notes TEXT    free text kept with the dataset\n"
  "  --db FILE       the store (default $OPE_DB or ./ope.db)\n"
  "  --help          show this help\n";

int cmd_ingest(int argc, char **argv) {
  enum { O_DATASET = CLI_OPT_FIRST_FREE, O_ACTIONS, O_REPLACE, O_NOTES };
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"actions", required_argument, NULL, O_ACTIONS},
    {"replace", no_argument, NULL, O_REPLACE},
    {"notes", required_argument, NULL, O_NOTES},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL;
  ope_ingest_options opt = {0};
  int c, status;
  long a;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    int r = cli_common_option("ingest", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    switch (c) {
    case O_DATASET: opt.name = optarg; break;
    case O_ACTIONS:
      if (cli_parse_int("ingest", "actions", optarg, 1, 65536, &a)) return 64;
      opt.n_actions = (int)a;
      break;
    case O_REPLACE: opt.replace = 1; break;
    case O_NOTES: opt.notes = optarg; break;
    }
  }
  if (optind + 1 != argc)
    return cli_usage_error("ingest", optind >= argc ? "missing FILE.csv" : "give exactly one FILE.csv");
  if (opt.name == NULL) return cli_usage_error("ingest", "--dataset NAME is required");
  const char *path = argv[optind];
  ope_error err = {0};
  ope_store *s = NULL;
  /* Check the file is there before creating a store for it. */
  FILE *probe = fopen(path, "rb");
  if (probe == NULL) {
    ope_error_set(&err, OPE_ENOINPUT, path, "cannot open the log file");
    return cli_fail(&err);
  }
  fclose(probe);
  if (ope_store_open(cli_db_path(db), 1, &s, &err) != OPE_OK) return cli_fail(&err);
  ope_log_summary sum;
  ope_status st = ope_ingest_csv(s, path, &opt, &sum, &err);
  ope_store_close(s);
  if (st != OPE_OK) return cli_fail(&err);
  printf("dataset '%s': %lld episodes, %lld steps, %s actions",
         opt.name, (long long)sum.n_episodes, (long long)sum.n_steps,
         sum.layout.action_kind == OPE_ACTION_DISCRETE ? "discrete" : "continuous");
  if (sum.layout.action_kind == OPE_ACTION_DISCRETE) printf(" (A = %d)", sum.n_actions);
  else printf(" (width %d)", sum.layout.action_dim);
  printf(", observation width %d, %s\n", sum.layout.obs_dim,
         sum.layout.has_pscore ? "pscore given" : "no pscore (propensities will be estimated)");
  return 0;
}

/* `ope export --dataset NAME -o FILE.csv`: a dataset back to log CSV. */
#include <stdio.h>

#include "cli/cli.h"
#include "data/csvwrite.h"
#include "store/store.h"

const char cmd_export_usage[] =
  "usage: ope export --dataset NAME [-o FILE.csv] [--db FILE]\n"
  "\n"
  "Write a dataset back to log CSV (ope-log-csv(5)); numbers are written so\n"
  "that ingesting the file again gives the same values bit for bit.\n"
  "\n"
  "  --dataset NAME    the dataset to write (required)\n"
  "  -o, --output FILE where to write (default: standard output)\n"
  "  --db FILE         the store (default $OPE_DB or ./ope.db)\n"
  "  --help            show this help\n";

int cmd_export(int argc, char **argv) {
  enum { O_DATASET = CLI_OPT_FIRST_FREE };
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"output", required_argument, NULL, 'o'},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *name = NULL, *out = NULL;
  int c, status;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    int r = cli_common_option("export", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    if (c == O_DATASET) name = optarg;
    else if (c == 'o') out = optarg;
  }
  if (optind != argc) return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
  if (name == NULL) return cli_usage_error("export", "--dataset NAME is required");
  ope_error err = {0};
  ope_store *s = NULL;
  ope_dataset *ds = NULL;
  if (ope_store_open(cli_db_path(db), 0, &s, &err) != OPE_OK) return cli_fail(&err);
  ope_status st = ope_store_dataset_load(s, name, &ds, &err);
  ope_store_close(s);
  if (st != OPE_OK) return cli_fail(&err);
  cli_output out_file;
  if ((st = cli_output_open(&out_file, out, &err)) == OPE_OK) {
    st = ope_log_csv_write(ds, out_file.f, out_file.path, &err);
    st = cli_output_close(&out_file, st, &err);
  }
  ope_dataset_free(ds);
  return st == OPE_OK ? 0 : cli_fail(&err);
}

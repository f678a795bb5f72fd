/* `ope export --dataset NAME -o FILE.csv`: a dataset back to log CSV;
 * `ope export --policy NAME [-o FILE]`: a stored checkpoint's bytes (the
 * versioned, checksummed BLOB) to a file. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "data/csvwrite.h"
#include "store/store.h"
#include "train/ckpt_policy.h"

const char cmd_export_usage[] =
  "usage: ope export --dataset NAME [-o FILE.csv] [--db FILE]\n"
  "       ope export --policy NAME [-o FILE] [--db FILE]\n"
  "\n"
  "Write a dataset back to log CSV (ope-log-csv(5)); numbers are written so\n"
  "that ingesting the file again gives the same values bit for bit. Or write\n"
  "a checkpoint trained by 'ope train' to a file, byte for byte as stored\n"
  "(its header carries a format version and a checksum).\n"
  "\n"
  "  --dataset NAME    the dataset to write\n"
  "  --policy NAME     the checkpoint to write instead\n"
  "  -o, --output FILE where to write (default: standard output)\n"
  "  --db FILE         the store (default $OPE_DB or ./ope.db)\n"
  "  --help            show this help\n";

/* The checkpoint row policy to out (stdout when NULL or "-"): the file is
 * written whole or not at all. Returns the exit status. */
static int export_checkpoint(const char *db, const char *policy, const char *out) {
  ope_error err = {0};
  ope_store *s = NULL;
  uint8_t *blob = NULL;
  size_t len = 0;
  ope_status st = ope_store_open(cli_db_path(db), 0, &s, &err);
  if (st == OPE_OK) st = ope_train_checkpoint_read(s, policy, &blob, &len, &err);
  ope_store_close(s);
  cli_output f;
  if (st == OPE_OK && (st = cli_output_open(&f, out, &err)) == OPE_OK) {
    if (fwrite(blob, 1, len, f.f) != len)
      st = ope_error_set(&err, OPE_EIO, f.path, "write error");
    st = cli_output_close(&f, st, &err);
  }
  free(blob);
  return st == OPE_OK ? 0 : cli_fail(&err);
}

int cmd_export(int argc, char **argv) {
  enum { O_DATASET = CLI_OPT_FIRST_FREE, O_POLICY };
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"policy", required_argument, NULL, O_POLICY},
    {"output", required_argument, NULL, 'o'},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *name = NULL, *policy = NULL, *out = NULL;
  int c, status;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    int r = cli_common_option("export", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    if (c == O_DATASET) name = optarg;
    else if (c == O_POLICY) policy = optarg;
    else if (c == 'o') out = optarg;
  }
  if (optind != argc) return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
  if ((name == NULL) == (policy == NULL))
    return cli_usage_error("export", "give one of --dataset NAME or --policy NAME");
  ope_error err = {0};
  ope_store *s = NULL;
  if (policy) return export_checkpoint(db, policy, out);
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

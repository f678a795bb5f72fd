/* Options shared by the reporting commands (`ope rank`, `ope audit`,
 * `ope bench`): the evaluation settings, the output format and file. */
#ifndef OPE_CLI_REPORT_CLI_H
#define OPE_CLI_REPORT_CLI_H

#include "cli/cli.h"
#include "reports/joint.h"
#include "reports/report.h"

enum {
  RPT_OPT_ESTIMATORS = CLI_OPT_FIRST_FREE + 100, RPT_OPT_CI, RPT_OPT_ALPHA,
  RPT_OPT_NBOOT, RPT_OPT_GAMMA, RPT_OPT_CLIP, RPT_OPT_BANDWIDTH, RPT_OPT_RANGE,
  RPT_OPT_BEHAVIOR, RPT_OPT_FQE, RPT_OPT_SEED, RPT_OPT_THREADS, RPT_OPT_FORMAT,
  RPT_OPT_OUTPUT, RPT_OPT_FIRST_FREE,
};

/* The long options every reporting command takes (format, output, and the
 * evaluation settings); put it in a command's table. */
#define REPORT_CLI_OPTIONS                                          \
  {"estimators", required_argument, NULL, RPT_OPT_ESTIMATORS},      \
  {"ci", required_argument, NULL, RPT_OPT_CI},                      \
  {"alpha", required_argument, NULL, RPT_OPT_ALPHA},                \
  {"n-boot", required_argument, NULL, RPT_OPT_NBOOT},               \
  {"gamma", required_argument, NULL, RPT_OPT_GAMMA},                \
  {"clip", required_argument, NULL, RPT_OPT_CLIP},                  \
  {"bandwidth", required_argument, NULL, RPT_OPT_BANDWIDTH},        \
  {"reward-range", required_argument, NULL, RPT_OPT_RANGE},         \
  {"behavior-model", required_argument, NULL, RPT_OPT_BEHAVIOR},    \
  {"fqe", required_argument, NULL, RPT_OPT_FQE},                    \
  {"seed", required_argument, NULL, RPT_OPT_SEED},                  \
  {"threads", required_argument, NULL, RPT_OPT_THREADS},            \
  {"format", required_argument, NULL, RPT_OPT_FORMAT},              \
  {"output", required_argument, NULL, RPT_OPT_OUTPUT},              \
  {"json", no_argument, NULL, CLI_OPT_JSON}

typedef struct report_cli {
  ope_joint_config cfg;
  const ope_estimator *est[32];
  int gamma_given;
  ope_report_format format;
  const char *output;       /* NULL: stdout */
} report_cli;

/* Defaults: every estimator that applies, gamma 0.99, bootstrap 95% with
 * B 2000, seed 0, threads = online CPUs, text to stdout. */
void report_cli_init(report_cli *o);

/* Handle option opt if it is one of REPORT_CLI_OPTIONS: 0 handled, -1 not
 * one of them, 64 a usage error (already printed). */
int report_cli_option(const char *cmd, int opt, const char *arg, report_cli *o);

/* Mark the policy of r named path as one given by a scores file
 * (--policy-csv): its algo becomes "scores" and its sha256 that of the
 * file's bytes, as `ope eval` records them. */
ope_status report_cli_mark_scores(ope_report *r, const char *path, ope_error *err);

/* Write r as o asks (stdout or -o FILE, written whole or not at all).
 * Returns the exit status, printing any error. */
int report_cli_emit(const report_cli *o, const ope_report *r);

/* The usage lines of REPORT_CLI_OPTIONS, for commands' help texts. */
#define REPORT_CLI_HELP                                                        \
  "  --estimators LIST   comma-separated estimators (default: all that apply)\n" \
  "  --ci METHOD         bootstrap (default), t, hoeffding, bernstein, none\n"   \
  "  --alpha A           1 - confidence level (default 0.05)\n"                  \
  "  --n-boot B          bootstrap resamples (default 2000)\n"                   \
  "  --gamma G           discount in (0, 1] (default 0.99)\n"                    \
  "  --clip C            cap every per-step importance ratio at C\n"             \
  "  --bandwidth H       kernel bandwidth for deterministic continuous policies\n" \
  "  --reward-range LO,HI  known reward bounds (hoeffding, bernstein)\n"         \
  "  --behavior-model M  model of the behavior policy when the log has no\n"     \
  "                      pscore: auto, counts, logistic, gaussian\n"             \
  "  --fqe KIND          Q model: auto, tabular, linear, neural\n"               \
  "  --seed S            seed of the bootstrap and of FQE (default 0)\n"         \
  "  --threads K         worker threads; results do not depend on it\n"          \
  "  --format F          text (default), md, csv, json, html\n"                  \
  "  --output FILE       write the report to FILE instead of stdout (-o)\n"      \
  "  --json              the same as --format json\n"                            \
  "  --db FILE           the store (default $OPE_DB or ./ope.db)\n"              \
  "  --help              show this help\n"

#endif

/* `ope bench`: the estimator scorecard against ground truth on a built-in
 * simulator (reports/bench.h), in any report format. Nothing is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_cli.h"
#include "reports/bench.h"
#include "sim/sim.h"

const char cmd_bench_usage[] =
  "usage: ope bench --env ENV --behavior REGIME [--episodes N] [--seeds K]\n"
  "                 [--candidates LIST] [--format F] [--output FILE] [options]\n"
  "\n"
  "Which estimator to trust on data like yours: simulate K datasets of N\n"
  "episodes of ENV under the behavior REGIME, take every candidate's true\n"
  "value (exact on gridworld and chain, rollouts elsewhere), run every\n"
  "estimator, and score each one: Spearman and Kendall rank correlation,\n"
  "regret@1 and regret@5 (normalized as in DOPE), absolute error and\n"
  "interval coverage, as mean and interval over the K datasets.\n"
  "\n"
  "  --env ENV           the environment, e.g. gridworld, chain:length=50\n"
  "  --behavior REGIME   the logging regime: random, medium, expert,\n"
  "                      medium-replay, medium-expert, eps=X, noise=X\n"
  "  --episodes N        episodes per dataset (default 200)\n"
  "  --seeds K           datasets, seeds S..S+K-1 (default 5)\n"
  "  --candidates LIST   comma-separated regimes or reference policy names\n"
  "                      (default: expert, medium, random and three\n"
  "                      eps= or noise= levels)\n"
  "  --horizon H         time limit (default: the environment's)\n"
  "  --rollouts N        rollouts for the truth off the tabular\n"
  "                      environments (default 2000)\n"
  "  --estimators LIST   comma-separated estimators (default: all that apply)\n"
  "  --ci METHOD         bootstrap (default), t, hoeffding, bernstein, none\n"
  "  --alpha A           1 - confidence level (default 0.05)\n"
  "  --n-boot B          bootstrap resamples per estimate (default 500)\n"
  "  --gamma G           discount (default: the environment's)\n"
  "  --clip C            cap every per-step importance ratio at C\n"
  "  --fqe KIND          Q model: auto, tabular, linear, neural\n"
  "  --seed S            the first dataset's seed (default 0)\n"
  "  --threads K         worker threads; results do not depend on it\n"
  "  --format F          text (default), md, csv, json, html\n"
  "  --output FILE       write the report to FILE instead of stdout (-o)\n"
  "  --json              the same as --format json\n"
  "  --db FILE           accepted for uniformity; bench stores nothing\n"
  "  --help              show this help\n";

enum { O_ENV = RPT_OPT_FIRST_FREE, O_BEHAVIOR, O_EPISODES, O_SEEDS, O_CANDIDATES,
       O_HORIZON, O_ROLLOUTS };

#define MAX_CANDIDATES 64

int cmd_bench(int argc, char **argv) {
  static const struct option opts[] = {
    {"env", required_argument, NULL, O_ENV},
    {"behavior", required_argument, NULL, O_BEHAVIOR},
    {"episodes", required_argument, NULL, O_EPISODES},
    {"seeds", required_argument, NULL, O_SEEDS},
    {"candidates", required_argument, NULL, O_CANDIDATES},
    {"horizon", required_argument, NULL, O_HORIZON},
    {"rollouts", required_argument, NULL, O_ROLLOUTS},
    {"estimators", required_argument, NULL, RPT_OPT_ESTIMATORS},
    {"ci", required_argument, NULL, RPT_OPT_CI},
    {"alpha", required_argument, NULL, RPT_OPT_ALPHA},
    {"n-boot", required_argument, NULL, RPT_OPT_NBOOT},
    {"gamma", required_argument, NULL, RPT_OPT_GAMMA},
    {"clip", required_argument, NULL, RPT_OPT_CLIP},
    {"fqe", required_argument, NULL, RPT_OPT_FQE},
    {"seed", required_argument, NULL, RPT_OPT_SEED},
    {"threads", required_argument, NULL, RPT_OPT_THREADS},
    {"format", required_argument, NULL, RPT_OPT_FORMAT},
    {"output", required_argument, NULL, RPT_OPT_OUTPUT},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  report_cli o;
  report_cli_init(&o);
  ope_bench_config bc;
  ope_bench_config_default(&bc);
  o.cfg.eval.ci.n_boot = bc.eval.ci.n_boot;
  const char *db = NULL, *cand_arg = NULL;
  char names[MAX_CANDIDATES][160];
  const char *cand[MAX_CANDIDATES];
  int status = 0, c;
  long lv;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    if (c == 'o') c = RPT_OPT_OUTPUT;
    int r = report_cli_option("bench", c, optarg, &o);
    if (r == 64) return 64;
    if (r == 0) continue;
    r = cli_common_option("bench", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    switch (c) {
    case O_ENV: bc.env = optarg; break;
    case O_BEHAVIOR: bc.regime = optarg; break;
    case O_EPISODES:
      if (cli_parse_int("bench", "episodes", optarg, 2, 100000000, &lv)) return 64;
      bc.episodes = (size_t)lv;
      break;
    case O_SEEDS:
      if (cli_parse_int("bench", "seeds", optarg, 1, 100000, &lv)) return 64;
      bc.seeds = (int)lv;
      break;
    case O_CANDIDATES: cand_arg = optarg; break;
    case O_HORIZON:
      if (cli_parse_int("bench", "horizon", optarg, 1, 1000000, &lv)) return 64;
      bc.horizon = (int)lv;
      break;
    case O_ROLLOUTS:
      if (cli_parse_int("bench", "rollouts", optarg, 2, 1000000000, &lv)) return 64;
      bc.truth_rollouts = (size_t)lv;
      break;
    default: break;
    }
  }
  (void)db;
  if (optind != argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
  if (bc.env == NULL || bc.regime == NULL)
    return cli_usage_error("bench", "--env ENV and --behavior REGIME are required");
  ope_error err;
  ope_error_clear(&err);
  ope_report rep = {0};
  ope_status st = OPE_OK;
  if (cand_arg) {
    char copy[4096];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", cand_arg);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
      if (n == MAX_CANDIDATES)
        return cli_usage_error("bench", "--candidates: at most %d", MAX_CANDIDATES);
      if (ope_sim_is_reference_name(tok)) snprintf(names[n], sizeof names[n], "%s", tok);
      else snprintf(names[n], sizeof names[n], "%s:%s", bc.env, tok);
      cand[n] = names[n];
      n++;
    }
    if (n < 2) return cli_usage_error("bench", "--candidates: give at least 2");
    bc.candidates = cand;
    bc.n_candidates = n;
  }
  bc.eval = o.cfg.eval;
  bc.seed = o.cfg.eval.ci.seed;
  bc.gamma_given = o.gamma_given;
  st = ope_bench_run(&bc, &rep, &err);
  if (st != OPE_OK) return cli_fail(&err);
  status = report_cli_emit(&o, &rep);
  ope_report_clear(&rep);
  return status;
}

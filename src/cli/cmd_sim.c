/* `ope sim`: run a built-in simulator under a behavior regime and write the
 * episodes as log CSV or straight into the store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/csvwrite.h"
#include "sim/sim.h"
#include "store/store.h"

const char cmd_sim_usage[] =
  "usage: ope sim --env ENV --behavior REGIME --episodes N [--seed S]\n"
  "               [--horizon H] [--next-obs]\n"
  "               (-o FILE.csv | --dataset NAME [--replace])\n"
  "\n"
  "Simulate N episodes of a built-in environment under a behavior regime and\n"
  "write them as log CSV (ope-log-csv(5)) or load them into the store. Every\n"
  "row's pscore is the exact probability (or density) of the logged action.\n"
  "\n"
  "  --env ENV          gridworld, chain, cartpole, mountaincar, pendulum,\n"
  "                     pointmaze; options as ENV:OPT=VAL (chain:length=50,\n"
  "                     gridworld:slip=0.2)\n"
  "  --behavior REGIME  random, medium, expert, medium-replay, medium-expert,\n"
  "                     eps=X (discrete actions), noise=X (continuous)\n"
  "  --episodes N       number of episodes (required)\n"
  "  --seed S           random seed (default 0); same seed, same bytes\n"
  "  --horizon H        time limit (default: the environment's)\n"
  "  --next-obs         also write next_obs_* columns (the state after each\n"
  "                     step, also at the end of a truncated episode)\n"
  "  -o, --output FILE  write log CSV there ('-': standard output)\n"
  "  --dataset NAME     load into the store as dataset NAME instead\n"
  "  --replace          replace an existing dataset of that name\n"
  "  --db FILE          the store (default $OPE_DB or ./ope.db)\n"
  "  --help             show this help\n"
  "\n"
  "See ope-sim(1) for the environments, their dynamics and the regimes.\n";

static int write_csv(const ope_dataset *ds, const char *out, ope_error *err) {
  cli_output o;
  ope_status st = cli_output_open(&o, out, err);
  if (st != OPE_OK) return st;
  static char buf[1 << 20];
  setvbuf(o.f, buf, _IOFBF, sizeof buf);
  st = ope_log_csv_write(ds, o.f, o.path, err);
  return cli_output_close(&o, st, err);
}

int cmd_sim(int argc, char **argv) {
  enum { O_ENV = CLI_OPT_FIRST_FREE, O_BEHAVIOR, O_EPISODES, O_SEED, O_HORIZON,
         O_DATASET, O_REPLACE, O_NEXT_OBS };
  static const struct option opts[] = {
    {"env", required_argument, NULL, O_ENV},
    {"behavior", required_argument, NULL, O_BEHAVIOR},
    {"episodes", required_argument, NULL, O_EPISODES},
    {"seed", required_argument, NULL, O_SEED},
    {"horizon", required_argument, NULL, O_HORIZON},
    {"output", required_argument, NULL, 'o'},
    {"dataset", required_argument, NULL, O_DATASET},
    {"replace", no_argument, NULL, O_REPLACE},
    {"next-obs", no_argument, NULL, O_NEXT_OBS},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *env = NULL, *regime = NULL, *out = NULL, *name = NULL;
  long episodes = -1, horizon = 0;
  unsigned long long seed = 0;
  int replace = 0, next_obs = 0, c, status;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
    int r = cli_common_option("sim", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    switch (c) {
    case O_ENV: env = optarg; break;
    case O_BEHAVIOR: regime = optarg; break;
    case O_EPISODES:
      if (cli_parse_int("sim", "episodes", optarg, 1, 100000000, &episodes)) return 64;
      break;
    case O_SEED:
      if (cli_parse_u64("sim", "seed", optarg, &seed)) return 64;
      break;
    case O_HORIZON:
      if (cli_parse_int("sim", "horizon", optarg, 1, 1000000, &horizon)) return 64;
      break;
    case 'o': out = optarg; break;
    case O_DATASET: name = optarg; break;
    case O_REPLACE: replace = 1; break;
    case O_NEXT_OBS: next_obs = 1; break;
    default: break;
    }
  }
  if (optind != argc) return cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
  if (env == NULL) return cli_usage_error("sim", "--env ENV is required");
  if (regime == NULL) return cli_usage_error("sim", "--behavior REGIME is required");
  if (episodes < 0) return cli_usage_error("sim", "--episodes N is required");
  if ((out == NULL) == (name == NULL))
    return cli_usage_error("sim", "give exactly one of -o FILE.csv and --dataset NAME");
  if (replace && name == NULL) return cli_usage_error("sim", "--replace goes with --dataset");

  ope_error err = {0};
  ope_dataset *ds = NULL;
  ope_store *s = NULL;
  ope_status st = ope_sim_generate_ex(env, regime, (size_t)episodes, seed, (int)horizon,
                                      next_obs, &ds, &err);
  if (st == OPE_OK && out) {
    st = write_csv(ds, out, &err);
  } else if (st == OPE_OK) {
    char source[512];
    snprintf(source, sizeof source, "sim:%s:%s:seed=%llu", env, regime, seed);
    ope_dataset_info info = {.name = (char *)name, .source = source};
    st = ope_store_open(cli_db_path(db), 1, &s, &err);
    if (st == OPE_OK) st = ope_store_dataset_put(s, ds, &info, replace, &err);
    ope_store_close(s);
  }
  if (st == OPE_OK)
    fprintf(stderr, "ope sim: %zu episodes, %zu steps of %s under %s%s%s\n",
            ds->n_episodes, ds->n_steps, env, regime, name ? " -> dataset " : "",
            name ? name : "");
  ope_dataset_free(ds);
  return st == OPE_OK ? 0 : cli_fail(&err);
}

/* `ope truth`: the true value of a policy on a built-in simulator, exact
 * on the tabular ones and by rollouts with a confidence interval on all,
 * recorded in the store's truth table. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/resolve.h"
#include "reports/json.h"
#include "sim/env.h"
#include "sim/sim.h"
#include "store/store.h"

const char cmd_truth_usage[] =
  "usage: ope truth --policy P [--env ENV] [--episodes N] [--gamma G]\n"
  "                 [--seed S] [--horizon H] [--threads K] [--json]\n"
  "\n"
  "Ground truth of a policy by rollouts with a 95% confidence interval and,\n"
  "on gridworld and chain, exactly by dynamic programming. P is a reference\n"
  "policy (ENV[:OPT=VAL]...:REGIME, e.g. cartpole:expert,\n"
  "chain:length=50:eps=0.3) or a policy in the store (then --env is\n"
  "required). Results are recorded in the store's truth table.\n"
  "\n"
  "  --policy P     the policy (required)\n"
  "  --env ENV      the environment (default: a reference policy's own)\n"
  "  --episodes N   rollouts (default 10000)\n"
  "  --gamma G      discount (default: the environment's)\n"
  "  --seed S       random seed (default 0); any --threads gives the same result\n"
  "  --horizon H    time limit (default: the environment's)\n"
  "  --threads K    worker threads (default 2)\n"
  "  --json         print a JSON object instead of text\n"
  "  --db FILE      the store (default $OPE_DB or ./ope.db)\n"
  "  --help         show this help\n";

static void print_json(const char *policy, const char *env, const ope_sim_value *v,
                       int n, unsigned long long seed) {
  ope_json j;
  ope_json_init(&j, stdout, 0);
  ope_json_begin_object(&j);
  ope_json_key(&j, "policy");
  ope_json_string(&j, policy);
  ope_json_key(&j, "env");
  ope_json_string(&j, env);
  ope_json_key(&j, "results");
  ope_json_begin_array(&j);
  for (int i = 0; i < n; i++) {
    ope_json_begin_object(&j);
    ope_json_key(&j, "method");
    ope_json_string(&j, v[i].exact ? "exact" : "rollout");
    ope_json_key(&j, "value");
    ope_json_number(&j, v[i].value);
    ope_json_key(&j, "ci_low");
    ope_json_number(&j, v[i].ci_low);
    ope_json_key(&j, "ci_high");
    ope_json_number(&j, v[i].ci_high);
    ope_json_key(&j, "std_err");
    ope_json_number(&j, v[i].std_err);
    ope_json_key(&j, "episodes");
    if (v[i].exact) ope_json_null(&j);
    else ope_json_int(&j, (long long)v[i].episodes);
    ope_json_key(&j, "seed");
    if (v[i].exact) ope_json_null(&j);
    else ope_json_int(&j, (long long)seed);
    ope_json_key(&j, "gamma");
    ope_json_number(&j, v[i].gamma);
    ope_json_key(&j, "horizon");
    ope_json_int(&j, v[i].horizon);
    ope_json_end_object(&j);
  }
  ope_json_end_array(&j);
  ope_json_end_object(&j);
  ope_json_finish(&j);
}

int cmd_truth(int argc, char **argv) {
  enum { O_POLICY = CLI_OPT_FIRST_FREE, O_ENV, O_EPISODES, O_GAMMA, O_SEED,
         O_HORIZON, O_THREADS };
  static const struct option opts[] = {
    {"policy", required_argument, NULL, O_POLICY},
    {"env", required_argument, NULL, O_ENV},
    {"episodes", required_argument, NULL, O_EPISODES},
    {"gamma", required_argument, NULL, O_GAMMA},
    {"seed", required_argument, NULL, O_SEED},
    {"horizon", required_argument, NULL, O_HORIZON},
    {"threads", required_argument, NULL, O_THREADS},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *policy = NULL, *env = NULL;
  long episodes = 10000, horizon = 0, threads = 2;
  double gamma = -1;
  unsigned long long seed = 0;
  int json = 0, c, status;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    int r = cli_common_option("truth", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    switch (c) {
    case O_POLICY: policy = optarg; break;
    case O_ENV: env = optarg; break;
    case O_EPISODES:
      if (cli_parse_int("truth", "episodes", optarg, 2, 1000000000, &episodes)) return 64;
      break;
    case O_GAMMA:
      if (cli_parse_double("truth", "gamma", optarg, 0.0, 1.0, &gamma)) return 64;
      break;
    case O_SEED:
      if (cli_parse_u64("truth", "seed", optarg, &seed)) return 64;
      break;
    case O_HORIZON:
      if (cli_parse_int("truth", "horizon", optarg, 1, 1000000, &horizon)) return 64;
      break;
    case O_THREADS:
      if (cli_parse_int("truth", "threads", optarg, 1, 256, &threads)) return 64;
      break;
    case CLI_OPT_JSON: json = 1; break;
    default: break;
    }
  }
  if (optind != argc) return cli_usage_error("truth", "unexpected argument '%s'", argv[optind]);
  if (policy == NULL) return cli_usage_error("truth", "--policy P is required");

  ope_error err = {0};
  ope_policy *pol[256] = {NULL};
  const ope_policy *per_thread[256];
  ope_store *s = NULL;
  ope_env *e = NULL;
  ope_sim_value v[2];
  int n = 0, npol = 0;
  char own_env[OPE_ENV_SPEC_MAX], regime[128];
  ope_status st = ope_store_open(cli_db_path(db), 1, &s, &err);
  if (st != OPE_OK) goto done;
  /* Reference policies by name, then the store's policies. */
  if ((st = ope_policy_resolve(s, policy, &pol[0], &err)) != OPE_OK) goto done;
  npol = 1;
  if (ope_sim_is_reference_name(policy)) {
    if ((st = ope_sim_split_name(policy, own_env, regime, &err)) != OPE_OK) goto done;
    if (env == NULL) env = own_env;
  } else if (env == NULL) {
    st = ope_error_set(&err, OPE_EUSAGE, policy,
                       "--env ENV is required for a policy that is not a reference policy");
    goto done;
  }
  if ((st = ope_env_new(env, &e, &err)) != OPE_OK) goto done;
  if (ope_sim_is_reference_name(policy) && strcmp(e->spec, own_env) != 0) {
    /* The policy names its environment; --env may only repeat it. */
    st = ope_error_set(&err, OPE_EUSAGE, env,
                       "policy %s acts in %s; give environment options in the "
                       "policy's name", policy, own_env);
    goto done;
  }
  env = e->spec;
  /* Stored policies may keep scratch state: one object per thread. */
  for (int k = 0; k < threads; k++) {
    if (k > 0 && !ope_sim_is_reference_name(policy)) {
      if ((st = ope_policy_resolve(s, policy, &pol[k], &err)) != OPE_OK) goto done;
      npol = k + 1;
    }
    per_thread[k] = pol[ope_sim_is_reference_name(policy) ? 0 : k];
  }
  if (e->n_states > 0 && (ope_sim_is_reference_name(policy) || pol[0]->ops->ctx_new == NULL)) {
    if ((st = ope_sim_truth_exact(env, pol[0], gamma, (int)horizon, &v[n], &err)) != OPE_OK)
      goto done;
    n++;
  }
  if ((st = ope_sim_truth_rollout_each(env, per_thread, (int)threads, (size_t)episodes, gamma,
                                       (int)horizon, seed, &v[n], &err)) != OPE_OK)
    goto done;
  n++;
  for (int i = 0; i < n && st == OPE_OK; i++)
    st = ope_sim_truth_put(s, policy, env, &v[i], v[i].exact ? -1 : (long long)seed, &err);
  if (st != OPE_OK) goto done;
  if (json) {
    print_json(policy, env, v, n, seed);
  } else {
    for (int i = 0; i < n; i++) {
      if (v[i].exact)
        printf("%s on %s: %.6g (exact, gamma %g, horizon %d)\n", policy, env, v[i].value,
               v[i].gamma, v[i].horizon);
      else
        printf("%s on %s: %.6g, 95%% CI [%.6g, %.6g] (%zu rollouts, gamma %g, horizon %d, "
               "seed %llu)\n", policy, env, v[i].value, v[i].ci_low, v[i].ci_high,
               v[i].episodes, v[i].gamma, v[i].horizon, seed);
    }
  }
done:
  ope_store_close(s);
  for (int k = 0; k < npol; k++) ope_policy_free(pol[k]);
  ope_env_free(e);
  return st == OPE_OK ? 0 : cli_fail(&err);
}

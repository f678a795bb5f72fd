/* `ope train`: train offline-RL candidates on a stored dataset; every
 * checkpoint becomes a row of the store's policies table, written in its
 * own transaction so that an interruption keeps what was already saved. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nn/gemm.h"
#include "reports/json.h"
#include "store/store.h"
#include "train/ckpt_policy.h"
#include "train/train.h"

const char cmd_train_usage[] =
  "usage: ope train --dataset NAME --algo ALGO [--steps N] [--checkpoint-every K]\n"
  "                 [--seed S] [--set KEY=VALUE]... [--grid KEY=V1,V2,...]...\n"
  "                 [--preset small] [--threads T] [--replace] [--json]\n"
  "       ope train --list\n"
  "\n"
  "Train candidate policies on a stored dataset with one algorithm: bc, cql,\n"
  "iql, td3bc (continuous actions), bcq, dt. --grid trains the Cartesian product\n"
  "of the listed values, one family per combination. Checkpoint names are\n"
  "DATASET.ALGO[-KEY=VALUE...][-small]-sSEED@STEP; the family is the part\n"
  "before -sSEED.\n"
  "\n"
  "  --dataset NAME        the dataset to learn from (required)\n"
  "  --algo ALGO           the algorithm (required)\n"
  "  --steps N             gradient steps (default 100000; small preset 5000)\n"
  "  --checkpoint-every K  save every K steps (default: N / 5)\n"
  "  --seed S              random seed (default 0); same seed, same bytes\n"
  "  --set KEY=VALUE       change a setting (see --list)\n"
  "  --grid KEY=V1,V2,...  train every listed value (repeatable)\n"
  "  --preset small        small networks and batches for quick runs\n"
  "  --threads T           worker threads (default 1); checkpoints are the\n"
  "                        same bytes for any T\n"
  "  --replace             retrain: delete the family's checkpoints of this seed\n"
  "  --list                print the algorithms and their settings\n"
  "  --json                print the checkpoints written as JSON\n"
  "  --db FILE             the store (default $OPE_DB or ./ope.db)\n"
  "  --help                show this help\n";

#define MAX_GRID 8
#define MAX_SET 32
#define MAX_VALUES 32

static volatile sig_atomic_t interrupted = 0;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

typedef struct grid_axis {
  char key[64];
  int n;
  char val[MAX_VALUES][64];
} grid_axis;

static void list_algos(void) {
  printf("algorithms:\n");
  for (int i = 0; ope_train_algos[i]; i++) {
    const ope_train_algo *a = ope_train_algos[i];
    printf("  %-6s %s%s\n", a->name, a->summary,
           a->discrete && a->continuous ? "" : a->discrete ? " [discrete]" : " [continuous]");
  }
  printf("\nsettings (default / small preset):\n");
  for (int i = 0; i < ope_train_n_common_params; i++) {
    const ope_train_param *p = &ope_train_common_params[i];
    printf("  all    %-15s %-8g %-8g %s\n", p->key, p->def, p->small == p->small ? p->small : p->def, p->doc);
  }
  for (int i = 0; ope_train_algos[i]; i++) {
    const ope_train_algo *a = ope_train_algos[i];
    for (int k = 0; k < a->n_params; k++) {
      const ope_train_param *p = &a->params[k];
      printf("  %-6s %-15s %-8g %-8g %s\n", a->name, p->key, p->def,
             p->small == p->small ? p->small : p->def, p->doc);
    }
  }
}

/* Split "key=value" at '=' into key (size 64) and return the value. */
static const char *split_kv(const char *arg, char *key) {
  const char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg || eq - arg >= 64 || eq[1] == 0) return NULL;
  memcpy(key, arg, (size_t)(eq - arg));
  key[eq - arg] = 0;
  return eq + 1;
}

static void progress(const char *name, long long step, long long total) {
  int w = 30, k = total ? (int)(w * step / total) : w;
  fprintf(stderr, "\r%s [", name);
  for (int i = 0; i < w; i++) fputc(i < k ? '#' : ' ', stderr);
  fprintf(stderr, "] %lld/%lld", step, total);
  fflush(stderr);
}

typedef struct job {
  const ope_train_algo *algo;
  const ope_dataset *ds;
  int64_t dataset_id;
  const ope_train_settings *set;
  const char *family;
  unsigned long long seed;
  long steps, every;
  int replace, json, tty;
  ope_json *j;
} job;

static ope_status train_one(ope_store *s, const job *jb, int *n_written,
                            ope_error *err) {
  ope_train_run *r = NULL;
  uint8_t *blob = NULL;
  char *settings = NULL, *summary = NULL, name[512];
  size_t len = 0;
  ope_status st = OPE_OK;
  if (jb->replace) {
    int64_t gone = 0;
    st = ope_train_family_delete(s, jb->family, (int64_t)jb->seed, &gone, err);
    if (st != OPE_OK) return st;
  }
  if ((st = ope_train_run_new(jb->algo, jb->ds, jb->set, jb->seed, &r, err)) != OPE_OK)
    return st;
  for (long step = 1; step <= jb->steps && !interrupted; step++) {
    if ((st = ope_train_step(r, err)) != OPE_OK) goto done;
    if (jb->tty && (step % 100 == 0 || step == jb->steps))
      progress(jb->family, step, jb->steps);
    if (step % jb->every != 0 && step != jb->steps) continue;
    if ((st = ope_train_checkpoint(r, &blob, &len, &settings, &summary, err)) != OPE_OK)
      goto done;
    snprintf(name, sizeof name, "%s-s%llu@%ld", jb->family, jb->seed, step);
    ope_train_row row = {
      .name = name, .algo = jb->algo->name, .dataset_id = jb->dataset_id,
      .family = jb->family, .settings = settings, .seed = (int64_t)jb->seed,
      .step = step, .summary = summary, .blob = blob, .blob_len = len,
    };
    if ((st = ope_train_row_put(s, &row, err)) != OPE_OK) goto done;
    (*n_written)++;
    if (jb->tty) fputc('\n', stderr);
    if (jb->json) {
      ope_json_begin_object(jb->j);
      ope_json_key(jb->j, "name"); ope_json_string(jb->j, name);
      ope_json_key(jb->j, "family"); ope_json_string(jb->j, jb->family);
      ope_json_key(jb->j, "algo"); ope_json_string(jb->j, jb->algo->name);
      ope_json_key(jb->j, "seed"); ope_json_int(jb->j, (long long)jb->seed);
      ope_json_key(jb->j, "step"); ope_json_int(jb->j, step);
      ope_json_key(jb->j, "bytes"); ope_json_int(jb->j, (long long)len);
      ope_json_end_object(jb->j);
    } else {
      printf("%s\t%s\n", name, summary);
    }
    free(blob);
    free(settings);
    free(summary);
    blob = NULL;
    settings = summary = NULL;
  }
done:
  free(blob);
  free(settings);
  free(summary);
  ope_train_run_free(r);
  return st;
}

int cmd_train(int argc, char **argv) {
  enum { O_DATASET = CLI_OPT_FIRST_FREE, O_ALGO, O_STEPS, O_EVERY, O_SEED, O_SET,
         O_GRID, O_PRESET, O_THREADS, O_REPLACE, O_LIST };
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"algo", required_argument, NULL, O_ALGO},
    {"steps", required_argument, NULL, O_STEPS},
    {"checkpoint-every", required_argument, NULL, O_EVERY},
    {"seed", required_argument, NULL, O_SEED},
    {"set", required_argument, NULL, O_SET},
    {"grid", required_argument, NULL, O_GRID},
    {"preset", required_argument, NULL, O_PRESET},
    {"threads", required_argument, NULL, O_THREADS},
    {"replace", no_argument, NULL, O_REPLACE},
    {"list", no_argument, NULL, O_LIST},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *dsname = NULL, *algoname = NULL;
  const char *sets[MAX_SET];
  int n_sets = 0, n_grid = 0, small = 0, replace = 0, json = 0, c, status;
  long steps = -1, every = -1, threads = 1;
  unsigned long long seed = 0;
  static grid_axis grid[MAX_GRID];
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    int r = cli_common_option("train", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    switch (c) {
    case O_DATASET: dsname = optarg; break;
    case O_ALGO: algoname = optarg; break;
    case O_STEPS:
      if (cli_parse_int("train", "steps", optarg, 1, 1000000000L, &steps)) return 64;
      break;
    case O_EVERY:
      if (cli_parse_int("train", "checkpoint-every", optarg, 1, 1000000000L, &every)) return 64;
      break;
    case O_SEED:
      if (cli_parse_u64("train", "seed", optarg, &seed)) return 64;
      if (seed > (unsigned long long)INT64_MAX)
        return cli_usage_error("train", "--seed: at most %lld", (long long)INT64_MAX);
      break;
    case O_SET:
      if (n_sets == MAX_SET) return cli_usage_error("train", "too many --set options");
      sets[n_sets++] = optarg;
      break;
    case O_GRID: {
      if (n_grid == MAX_GRID) return cli_usage_error("train", "too many --grid options");
      grid_axis *g = &grid[n_grid++];
      const char *v = split_kv(optarg, g->key);
      if (v == NULL) return cli_usage_error("train", "--grid: expected KEY=V1,V2,... not '%s'", optarg);
      g->n = 0;
      while (*v) {
        const char *comma = strchr(v, ',');
        size_t l = comma ? (size_t)(comma - v) : strlen(v);
        if (l == 0 || l >= 64 || g->n == MAX_VALUES)
          return cli_usage_error("train", "--grid %s: bad value list", g->key);
        memcpy(g->val[g->n], v, l);
        g->val[g->n++][l] = 0;
        v += l + (comma ? 1 : 0);
      }
      break;
    }
    case O_PRESET:
      if (strcmp(optarg, "small") != 0)
        return cli_usage_error("train", "--preset: the only preset is 'small'");
      small = 1;
      break;
    case O_THREADS:
      if (cli_parse_int("train", "threads", optarg, 1, 256, &threads)) return 64;
      break;
    case O_REPLACE: replace = 1; break;
    case O_LIST: list_algos(); return 0;
    case CLI_OPT_JSON: json = 1; break;
    default: break;
    }
  }
  if (optind != argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
  if (dsname == NULL) return cli_usage_error("train", "--dataset NAME is required");
  if (algoname == NULL) return cli_usage_error("train", "--algo ALGO is required");
  const ope_train_algo *algo = ope_train_algo_find(algoname);
  if (algo == NULL)
    return cli_usage_error("train", "--algo: unknown algorithm '%s' (bc, cql, iql, td3bc, bcq, dt)",
                           algoname);
  if (steps < 0) steps = small ? 5000 : 100000;
  if (every < 0) every = steps / 5 > 0 ? steps / 5 : steps;

  ope_error err = {0};
  ope_store *s = NULL;
  ope_dataset *ds = NULL;
  ope_dataset_info info = {0};
  ope_json j;
  int n_written = 0;
  ope_status st;
  if ((st = ope_store_open(cli_db_path(db), 1, &s, &err)) != OPE_OK) goto done;
  if ((st = ope_store_dataset_find(s, dsname, &info, &err)) != OPE_OK) goto done;
  if ((st = ope_store_dataset_load(s, dsname, &ds, &err)) != OPE_OK) goto done;
  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  if (discrete ? !algo->discrete : !algo->continuous) {
    st = ope_error_set(&err, OPE_EUSAGE, algo->name,
                       "%s is defined for %s actions only; dataset %s has %s actions",
                       algo->name, discrete ? "continuous" : "discrete", dsname,
                       discrete ? "discrete" : "continuous");
    goto done;
  }
  ope_train_settings base;
  ope_train_settings_init(&base, algo, discrete, small);
  char fam_base[1024];
  snprintf(fam_base, sizeof fam_base, "%s.%s", dsname, algo->name);
  for (int i = 0; i < n_sets; i++) {
    char key[64];
    const char *v = split_kv(sets[i], key);
    if (v == NULL) {
      st = ope_error_set(&err, OPE_EUSAGE, "--set", "expected KEY=VALUE, not '%s'", sets[i]);
      goto done;
    }
    if ((st = ope_train_settings_set(&base, algo, key, v, &err)) != OPE_OK) goto done;
    size_t l = strlen(fam_base);
    snprintf(fam_base + l, sizeof fam_base - l, "-%s=%s", key, v);
  }
  for (int g = 0; g < n_grid; g++)
    for (int k = 0; k < grid[g].n; k++) {
      ope_train_settings probe = base;
      if ((st = ope_train_settings_set(&probe, algo, grid[g].key, grid[g].val[k], &err)) != OPE_OK)
        goto done;
    }
  ope_gemm_set_threads((int)threads);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  if (json) {
    ope_json_init(&j, stdout, 0);
    ope_json_begin_object(&j);
    ope_json_key(&j, "checkpoints");
    ope_json_begin_array(&j);
  }
  /* the Cartesian product of the grid, last axis fastest */
  int idx[MAX_GRID] = {0};
  for (;;) {
    ope_train_settings set = base;
    char family[2048];
    snprintf(family, sizeof family, "%s", fam_base);
    for (int g = 0; g < n_grid; g++) {
      ope_train_settings_set(&set, algo, grid[g].key, grid[g].val[idx[g]], NULL);
      size_t l = strlen(family);
      snprintf(family + l, sizeof family - l, "-%s=%s", grid[g].key, grid[g].val[idx[g]]);
    }
    if (small) strncat(family, "-small", sizeof family - strlen(family) - 1);
    job jb = {.algo = algo, .ds = ds, .dataset_id = info.id, .set = &set,
              .family = family, .seed = seed, .steps = steps, .every = every,
              .replace = replace, .json = json, .tty = isatty(STDERR_FILENO),
              .j = json ? &j : NULL};
    if ((st = train_one(s, &jb, &n_written, &err)) != OPE_OK || interrupted) break;
    int g = n_grid - 1;
    while (g >= 0 && ++idx[g] == grid[g].n) idx[g--] = 0;
    if (g < 0) break;
  }
  sigaction(SIGINT, &old, NULL);
  if (json) {
    ope_json_end_array(&j);
    ope_json_key(&j, "interrupted");
    ope_json_bool(&j, interrupted);
    ope_json_end_object(&j);
    ope_json_finish(&j);
  }
done:
  ope_dataset_free(ds);
  ope_dataset_info_clear(&info);
  ope_store_close(s);
  if (st != OPE_OK) return cli_fail(&err);
  if (interrupted) {
    fprintf(stderr, "ope train: interrupted; %d checkpoint%s kept\n", n_written,
            n_written == 1 ? "" : "s");
    return 130;
  }
  return 0;
}

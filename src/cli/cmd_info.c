/* `ope info [--dataset NAME] [--json]`: what the store holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "reports/json.h"
#include "store/store.h"

const char cmd_info_usage[] =
  "usage: ope info [--dataset NAME] [--json] [--db FILE]\n"
  "\n"
  "List the datasets in the store with their shape and episode statistics,\n"
  "then the policies and the evaluation runs stored beside them.\n"
  "\n"
  "  --dataset NAME  only this dataset\n"
  "  --json          machine-readable output\n"
  "  --db FILE       the store (default $OPE_DB or ./ope.db)\n"
  "  --help          show this help\n";

typedef struct ep_stats {
  double ret_mean, ret_min, ret_max, len_mean;
  long long len_max, terminal, truncated;
} ep_stats;

static ope_status episode_stats(ope_store *s, int64_t id, ep_stats *o, ope_error *err) {
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s,
      "SELECT avg(return), min(return), max(return), avg(length), max(length), "
      "sum(terminal), count(*) - sum(terminal) FROM episodes WHERE dataset_id = ?1",
      &st, err);
  if (r != OPE_OK) return r;
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    o->ret_mean = sqlite3_column_double(st, 0);
    o->ret_min = sqlite3_column_double(st, 1);
    o->ret_max = sqlite3_column_double(st, 2);
    o->len_mean = sqlite3_column_double(st, 3);
    o->len_max = sqlite3_column_int64(st, 4);
    o->terminal = sqlite3_column_int64(st, 5);
    o->truncated = sqlite3_column_int64(st, 6);
    rc = SQLITE_DONE;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? OPE_OK : ope_store_fail(s, rc, "reading episode statistics", err);
}

static void print_text(const ope_dataset_info *d, const ep_stats *e) {
  printf("dataset %s\n", d->name);
  printf("  source        %s%s%s\n", d->source ? d->source : "-",
         d->source_sha256 ? "  sha256 " : "", d->source_sha256 ? d->source_sha256 : "");
  printf("  ingested      %s\n", d->ingested_at);
  printf("  episodes      %lld (%lld terminal, %lld truncated)\n", (long long)d->n_episodes,
         e->terminal, e->truncated);
  printf("  steps         %lld (length mean %.6g, max %lld)\n", (long long)d->n_steps,
         e->len_mean, e->len_max);
  printf("  observation   width %d%s\n", d->obs_dim, d->has_next_obs ? ", next_obs given" : "");
  if (d->action_kind == OPE_ACTION_DISCRETE)
    printf("  actions       discrete, A = %d\n", d->n_actions);
  else
    printf("  actions       continuous, width %d\n", d->action_dim);
  printf("  pscore        %s\n", d->has_pscore ? "given" : "absent (estimated when needed)");
  printf("  return        mean %.6g, min %.6g, max %.6g (undiscounted)\n", e->ret_mean,
         e->ret_min, e->ret_max);
  if (d->notes && d->notes[0]) printf("  notes         %s\n", d->notes);
}

static void print_json(ope_json *j, const ope_dataset_info *d, const ep_stats *e) {
  ope_json_begin_object(j);
  ope_json_key(j, "name"); ope_json_string(j, d->name);
  ope_json_key(j, "source"); ope_json_string(j, d->source);
  ope_json_key(j, "source_sha256"); ope_json_string(j, d->source_sha256);
  ope_json_key(j, "ingested_at"); ope_json_string(j, d->ingested_at);
  ope_json_key(j, "episodes"); ope_json_int(j, d->n_episodes);
  ope_json_key(j, "steps"); ope_json_int(j, d->n_steps);
  ope_json_key(j, "obs_dim"); ope_json_int(j, d->obs_dim);
  ope_json_key(j, "action_kind");
  ope_json_string(j, d->action_kind == OPE_ACTION_DISCRETE ? "discrete" : "continuous");
  if (d->action_kind == OPE_ACTION_DISCRETE) {
    ope_json_key(j, "n_actions"); ope_json_int(j, d->n_actions);
  } else {
    ope_json_key(j, "action_dim"); ope_json_int(j, d->action_dim);
  }
  ope_json_key(j, "has_pscore"); ope_json_bool(j, d->has_pscore);
  ope_json_key(j, "has_next_obs"); ope_json_bool(j, d->has_next_obs);
  ope_json_key(j, "return_mean"); ope_json_number(j, e->ret_mean);
  ope_json_key(j, "return_min"); ope_json_number(j, e->ret_min);
  ope_json_key(j, "return_max"); ope_json_number(j, e->ret_max);
  ope_json_key(j, "length_mean"); ope_json_number(j, e->len_mean);
  ope_json_key(j, "length_max"); ope_json_int(j, e->len_max);
  ope_json_key(j, "terminal_episodes"); ope_json_int(j, e->terminal);
  ope_json_key(j, "truncated_episodes"); ope_json_int(j, e->truncated);
  ope_json_key(j, "notes"); ope_json_string(j, d->notes);
  ope_json_end_object(j);
}

/* Policies: name, kind, algo, dataset. */
static ope_status list_policies(ope_store *s, ope_json *j, ope_error *err) {
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s,
      "SELECT p.name, p.kind, p.algo, p.env, d.name, p.step, p.created_at "
      "FROM policies p LEFT JOIN datasets d ON d.id = p.dataset_id ORDER BY p.name", &st, err);
  if (r != OPE_OK) return r;
  int rc, n = 0;
  if (j) {
    ope_json_key(j, "policies");
    ope_json_begin_array(j);
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *c[7];
    for (int i = 0; i < 7; i++) c[i] = (const char *)sqlite3_column_text(st, i);
    if (j) {
      static const char *const keys[] = {"name", "kind", "algo", "env", "dataset", "step", "created_at"};
      ope_json_begin_object(j);
      for (int i = 0; i < 7; i++) {
        ope_json_key(j, keys[i]);
        if (i == 5 && c[i]) ope_json_int(j, sqlite3_column_int64(st, 5));
        else ope_json_string(j, c[i]);
      }
      ope_json_end_object(j);
    } else {
      if (n == 0) printf("\npolicies\n");
      printf("  %-32s %-10s %-8s %s\n", c[0], c[1], c[2] ? c[2] : "-", c[4] ? c[4] : (c[3] ? c[3] : "-"));
    }
    n++;
  }
  if (j) ope_json_end_array(j);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? OPE_OK : ope_store_fail(s, rc, "listing policies", err);
}

/* Evaluation runs: id, dataset, policies, estimators, interval method, time. */
static ope_status list_evaluations(ope_store *s, ope_json *j, ope_error *err) {
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s,
      "SELECT e.id, e.dataset, (SELECT count(DISTINCT policy) FROM estimates x "
      "WHERE x.evaluation_id = e.id), e.estimators, e.ci_method, e.created_at "
      "FROM evaluations e ORDER BY e.id", &st, err);
  if (r != OPE_OK) return r;
  int rc, n = 0;
  if (j) {
    ope_json_key(j, "evaluations");
    ope_json_begin_array(j);
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *ds = (const char *)sqlite3_column_text(st, 1);
    const char *est = (const char *)sqlite3_column_text(st, 3);
    const char *ci = (const char *)sqlite3_column_text(st, 4);
    const char *at = (const char *)sqlite3_column_text(st, 5);
    if (j) {
      ope_json_begin_object(j);
      ope_json_key(j, "id"); ope_json_int(j, sqlite3_column_int64(st, 0));
      ope_json_key(j, "dataset"); ope_json_string(j, ds);
      ope_json_key(j, "policies"); ope_json_int(j, sqlite3_column_int64(st, 2));
      ope_json_key(j, "estimators"); ope_json_string(j, est);
      ope_json_key(j, "ci_method"); ope_json_string(j, ci);
      ope_json_key(j, "created_at"); ope_json_string(j, at);
      ope_json_end_object(j);
    } else {
      if (n == 0) printf("\nevaluations\n");
      printf("  #%-5lld %-20s %3lld policies  %s  (%s)  %s\n",
             (long long)sqlite3_column_int64(st, 0), ds ? ds : "-",
             (long long)sqlite3_column_int64(st, 2), est ? est : "-", ci ? ci : "-", at ? at : "");
    }
    n++;
  }
  if (j) ope_json_end_array(j);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? OPE_OK : ope_store_fail(s, rc, "listing evaluations", err);
}

int cmd_info(int argc, char **argv) {
  enum { O_DATASET = CLI_OPT_FIRST_FREE };
  static const struct option opts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
  };
  const char *db = NULL, *only = NULL;
  int c, status, json = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    int r = cli_common_option("info", c, &db, &status);
    if (r == 1) return status;
    if (r == 0) continue;
    if (c == O_DATASET) only = optarg;
    else if (c == CLI_OPT_JSON) json = 1;
  }
  if (optind != argc) return cli_usage_error("info", "unexpected argument '%s'", argv[optind]);
  ope_error err = {0};
  ope_store *s = NULL;
  if (ope_store_open(cli_db_path(db), 0, &s, &err) != OPE_OK) return cli_fail(&err);
  ope_dataset_info *list = NULL;
  size_t n = 0;
  ope_status st;
  if (only) {
    list = calloc(1, sizeof *list);
    if (list == NULL) st = ope_error_nomem(&err);
    else if ((st = ope_store_dataset_find(s, only, list, &err)) == OPE_OK) n = 1;
  } else {
    st = ope_store_dataset_list(s, &list, &n, &err);
  }
  ope_json j;
  if (st == OPE_OK && json) {
    ope_json_init(&j, stdout, 1);
    ope_json_begin_object(&j);
    ope_json_key(&j, "store"); ope_json_string(&j, ope_store_path(s));
    ope_json_key(&j, "schema_version"); ope_json_int(&j, ope_store_schema_version());
    ope_json_key(&j, "datasets");
    ope_json_begin_array(&j);
  }
  for (size_t i = 0; st == OPE_OK && i < n; i++) {
    ep_stats e = {0};
    if ((st = episode_stats(s, list[i].id, &e, &err)) != OPE_OK) break;
    if (json) print_json(&j, &list[i], &e);
    else {
      if (i) putchar('\n');
      print_text(&list[i], &e);
    }
  }
  if (st == OPE_OK && json) ope_json_end_array(&j);
  if (st == OPE_OK && !only) st = list_policies(s, json ? &j : NULL, &err);
  if (st == OPE_OK && !only) st = list_evaluations(s, json ? &j : NULL, &err);
  if (st == OPE_OK && json) {
    ope_json_end_object(&j);
    ope_json_finish(&j);
  }
  if (st == OPE_OK && !json && n == 0 && !only)
    printf("the store %s holds no datasets yet (see 'ope ingest' and 'ope sim')\n", ope_store_path(s));
  for (size_t i = 0; i < n; i++) ope_dataset_info_clear(&list[i]);
  free(list);
  ope_store_close(s);
  return st == OPE_OK ? 0 : cli_fail(&err);
}

/* Ingest of a log CSV into the store (ingest.h): the csvlog reader with the
 * store's streaming writer as its sink, inside one transaction. */
#include "data/ingest.h"

#include <stdio.h>
#include <string.h>

typedef struct store_sink {
  ope_store *store;
  ope_store_writer *w;
  const ope_ingest_options *opt;
  const char *path;
} store_sink;

const char *ope_dataset_name_problem(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0) return "the name is empty";
  if (n > 200) return "the name is longer than 200 bytes";
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return "the name contains a control character";
  return NULL;
}

static ope_status sink_begin(void *ctx, const ope_log_layout *lay, ope_error *err) {
  store_sink *k = ctx;
  ope_dataset_info info = {0};
  info.name = (char *)k->opt->name;
  info.source = (char *)k->path;
  info.notes = (char *)k->opt->notes;
  info.action_kind = lay->action_kind;
  info.action_dim = lay->action_dim;
  info.obs_dim = lay->obs_dim;
  info.has_pscore = lay->has_pscore;
  info.has_next_obs = lay->has_next_obs;
  return ope_store_writer_begin(k->store, &info, k->opt->replace, &k->w, err);
}

static ope_status sink_step(void *ctx, const ope_log_step *s, ope_error *err) {
  store_sink *k = ctx;
  return ope_store_writer_step(k->w, s->episode, s->step, s->obs, s->action,
                               s->action_vec, s->reward, s->terminal, s->pscore,
                               s->next_obs, err);
}

static ope_status sink_episode(void *ctx, const char *label, int64_t first_row,
                               int64_t length, int terminal, double ret,
                               ope_error *err) {
  store_sink *k = ctx;
  return ope_store_writer_episode(k->w, label, first_row, length, terminal, ret, err);
}

ope_status ope_ingest_csv(ope_store *s, const char *path,
                          const ope_ingest_options *opt,
                          ope_log_summary *summary, ope_error *err) {
  const char *why = ope_dataset_name_problem(opt->name);
  if (why) return ope_error_set(err, OPE_EUSAGE, NULL, "bad dataset name: %s", why);
  store_sink k = {s, NULL, opt, path};
  ope_log_sink sink = {&k, sink_begin, sink_step, sink_episode};
  ope_status st = ope_log_csv_read(path, opt->n_actions, &sink, summary, err);
  if (st != OPE_OK) {
    ope_store_writer_abort(k.w);
    return st;
  }
  /* The SHA-256 is known only at the end of the pass. */
  sqlite3_stmt *up = NULL;
  if ((st = ope_store_prepare(s, "UPDATE datasets SET source_sha256 = ?1 WHERE name = ?2",
                              &up, err)) != OPE_OK) {
    ope_store_writer_abort(k.w);
    return st;
  }
  sqlite3_bind_text(up, 1, summary->sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text(up, 2, opt->name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(up);
  sqlite3_finalize(up);
  if (rc != SQLITE_DONE) {
    st = ope_store_fail(s, rc, "recording the file's checksum", err);
    ope_store_writer_abort(k.w);
    return st;
  }
  return ope_store_writer_finish(k.w, summary->n_actions, summary->n_episodes,
                                 summary->n_steps, err);
}

/* The store: one SQLite file that holds datasets, policies, evaluations and
 * ground truth.
 *
 * Opening checks before it writes anything: a file that is not SQLite, an
 * SQLite file of another application, or a store from a newer schema version
 * is refused and left byte-for-byte untouched. Then the store is put in WAL
 * mode with a busy timeout, and migrations (data/schema/NNN_*.sql, embedded
 * at build time) bring it to the current version (PRAGMA user_version), each
 * in its own transaction.
 *
 * Other modules that own tables (policies, evaluations, truth) use
 * ope_store_db() with prepared statements and bound parameters, and wrap
 * their writes in ope_store_begin()/ope_store_commit() so that a command's
 * writes land whole or not at all. */
#ifndef OPE_STORE_STORE_H
#define OPE_STORE_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"

typedef struct ope_store ope_store;

#define OPE_STORE_APPLICATION_ID 0x4f504553 /* "OPES" */
#define OPE_STORE_BUSY_TIMEOUT_MS 10000

/* The default path when neither --db nor OPE_DB is given. */
#define OPE_STORE_DEFAULT_PATH "ope.db"

/* Open the store at path. writable=0: the file must exist (OPE_ENOINPUT
 * otherwise) and is never written; writable=1: created when missing and
 * migrated to the current schema. */
ope_status ope_store_open(const char *path, int writable, ope_store **out,
                          ope_error *err);
/* Close; NULL is a no-op. An open transaction is rolled back. */
void ope_store_close(ope_store *s);

sqlite3 *ope_store_db(ope_store *s);
const char *ope_store_path(const ope_store *s);
/* The schema version this build writes. */
int ope_store_schema_version(void);

/* One write transaction (BEGIN IMMEDIATE: waits for other writers up to the
 * busy timeout). Nested calls are an internal error. */
ope_status ope_store_begin(ope_store *s, ope_error *err);
ope_status ope_store_commit(ope_store *s, ope_error *err);
void ope_store_rollback(ope_store *s);

/* Turn an SQLite result code into an error that keeps SQLite's message.
 * `what` says what was being done ("inserting a step"). */
ope_status ope_store_fail(ope_store *s, int rc, const char *what, ope_error *err);

/* Prepare sql or fill err. */
ope_status ope_store_prepare(ope_store *s, const char *sql, sqlite3_stmt **st,
                             ope_error *err);

/* ---- datasets ---- */

typedef struct ope_dataset_info {
  int64_t id;
  char *name;
  char *source;
  char *source_sha256;
  char *ingested_at;
  ope_action_kind action_kind;
  int n_actions;
  int action_dim;
  int obs_dim;
  int has_pscore;
  int has_next_obs;
  int64_t n_episodes;
  int64_t n_steps;
  char *notes;
} ope_dataset_info;

void ope_dataset_info_clear(ope_dataset_info *info);

/* Look up a dataset by name: OPE_ENOINPUT when there is none. */
ope_status ope_store_dataset_find(ope_store *s, const char *name,
                                  ope_dataset_info *info, ope_error *err);
/* All datasets, ordered by name. Free with ope_dataset_info_clear on each,
 * then free(*list). */
ope_status ope_store_dataset_list(ope_store *s, ope_dataset_info **list,
                                  size_t *n, ope_error *err);
/* Delete a dataset's rows (inside the caller's transaction). */
ope_status ope_store_dataset_delete(ope_store *s, int64_t id, ope_error *err);

/* Load a dataset into memory in one query pass per table. */
ope_status ope_store_dataset_load(ope_store *s, const char *name,
                                  ope_dataset **out, ope_error *err);

/* Streaming writer used by ingest and by the simulators. All calls happen
 * inside one transaction the writer opens; nothing is visible until
 * ope_store_writer_finish() commits, and ope_store_writer_abort() (or an
 * error) leaves the store as it was. */
typedef struct ope_store_writer ope_store_writer;

/* Start writing dataset info->name. With replace=0 an existing name is
 * OPE_EUSAGE; with replace=1 it is deleted in the same transaction. Only
 * name, source, source_sha256, notes, action_kind, action_dim, obs_dim,
 * has_pscore and has_next_obs are read from info. */
ope_status ope_store_writer_begin(ope_store *s, const ope_dataset_info *info,
                                  int replace, ope_store_writer **out,
                                  ope_error *err);
/* Append one step of the current episode. action_vec is NULL for discrete;
 * next_obs NULL unless the dataset has next observations. */
ope_status ope_store_writer_step(ope_store_writer *w, int64_t episode,
                                 int64_t step, const double *obs,
                                 int32_t action, const double *action_vec,
                                 double reward, int terminal, double pscore,
                                 const double *next_obs, ope_error *err);
/* Close the current episode (label = the CSV's episode id). */
ope_status ope_store_writer_episode(ope_store_writer *w, const char *label,
                                    int64_t first_row, int64_t length,
                                    int terminal, double ret, ope_error *err);
/* Write the totals and commit. n_actions: discrete A (ignored otherwise). */
ope_status ope_store_writer_finish(ope_store_writer *w, int n_actions,
                                   int64_t n_episodes, int64_t n_steps,
                                   ope_error *err);
/* Roll back and free. NULL is a no-op. */
void ope_store_writer_abort(ope_store_writer *w);

/* Write a whole in-memory dataset (e.g. from a simulator) as info->name. */
ope_status ope_store_dataset_put(ope_store *s, const ope_dataset *ds,
                                 const ope_dataset_info *info, int replace,
                                 ope_error *err);

/* Current UTC time as ISO 8601 ("2026-11-23T22:15:33Z") into buf[32]. */
void ope_store_now(char buf[32]);

#endif

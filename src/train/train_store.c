/* Checkpoint rows of the store's policies table (ckpt_policy.h): insert
 * one per transaction, delete a family's rows, load one back as a policy
 * after checking its SHA-256 and the checkpoint's own checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "train/ckpt_policy.h"

static void blob_hex(const uint8_t *b, size_t n, char hex[65]) {
  ope_sha256 c;
  ope_sha256_init(&c);
  ope_sha256_update(&c, b, n);
  ope_sha256_hex(&c, hex);
}

/* End the transaction a one-statement write opened: finalize st, then
 * commit when rc is OPE_OK, else roll back and return rc. */
static ope_status write_end(ope_store *s, sqlite3_stmt *st, ope_status rc,
                            ope_error *err) {
  sqlite3_finalize(st);
  if (rc == OPE_OK) return ope_store_commit(s, err);
  ope_store_rollback(s);
  return rc;
}

ope_status ope_train_row_put(ope_store *s, const ope_train_row *row,
                             ope_error *err) {
  static const char sql[] =
    "INSERT INTO policies (name, kind, algo, dataset_id, family, settings, "
    "seed, step, summary, blob, sha256, created_at) "
    "VALUES (?1, 'checkpoint', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  sqlite3_stmt *st = NULL;
  char hex[65], now[32];
  blob_hex(row->blob, row->blob_len, hex);
  ope_store_now(now);
  ope_status rc = ope_store_begin(s, err);
  if (rc != OPE_OK) return rc;
  if ((rc = ope_store_prepare(s, sql, &st, err)) != OPE_OK) goto done;
  sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, row->algo, -1, SQLITE_STATIC);
  if (row->dataset_id > 0) sqlite3_bind_int64(st, 3, row->dataset_id);
  sqlite3_bind_text(st, 4, row->family, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, row->settings, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, row->seed);
  sqlite3_bind_int64(st, 7, row->step);
  sqlite3_bind_text(st, 8, row->summary, -1, SQLITE_STATIC);
  sqlite3_bind_blob64(st, 9, row->blob, row->blob_len, SQLITE_STATIC);
  sqlite3_bind_text(st, 10, hex, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_CONSTRAINT)
    rc = ope_error_set(err, OPE_EUSAGE, row->name,
                       "a policy of that name already exists (--replace retrains it)");
  else if (r != SQLITE_DONE)
    rc = ope_store_fail(s, r, "inserting a checkpoint", err);
done:
  return write_end(s, st, rc, err);
}

ope_status ope_train_family_delete(ope_store *s, const char *family,
                                   int64_t seed, int64_t *n, ope_error *err) {
  sqlite3_stmt *st = NULL;
  *n = 0;
  ope_status rc = ope_store_begin(s, err);
  if (rc != OPE_OK) return rc;
  rc = ope_store_prepare(s, "DELETE FROM policies WHERE kind = 'checkpoint' "
                         "AND family = ?1 AND seed = ?2", &st, err);
  if (rc != OPE_OK) goto done;
  sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, seed);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE) rc = ope_store_fail(s, r, "deleting checkpoints", err);
  else *n = sqlite3_changes(ope_store_db(s));
done:
  return write_end(s, st, rc, err);
}

ope_status ope_train_checkpoint_read(ope_store *s, const char *name,
                                     uint8_t **blob, size_t *len,
                                     ope_error *err) {
  *blob = NULL;
  *len = 0;
  sqlite3_stmt *st = NULL;
  ope_status rc = ope_store_prepare(
      s, "SELECT blob, sha256 FROM policies WHERE name = ?1 AND kind = 'checkpoint'",
      &st, err);
  if (rc != OPE_OK) return rc;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_DONE) {
    rc = ope_error_set(err, OPE_ENOINPUT, name, "no checkpoint of that name in the store");
    goto done;
  }
  if (r != SQLITE_ROW) {
    rc = ope_store_fail(s, r, "reading a checkpoint", err);
    goto done;
  }
  const uint8_t *b = sqlite3_column_blob(st, 0);
  size_t n = (size_t)sqlite3_column_bytes(st, 0);
  const unsigned char *want = sqlite3_column_text(st, 1);
  char hex[65];
  blob_hex(b ? b : (const uint8_t *)"", n, hex);
  if (b == NULL || want == NULL || strcmp(hex, (const char *)want) != 0) {
    rc = ope_error_set(err, OPE_EDATA, name, "checkpoint BLOB does not match its sha256");
    goto done;
  }
  if ((*blob = malloc(n ? n : 1)) == NULL) {
    rc = ope_error_nomem(err);
    goto done;
  }
  memcpy(*blob, b, n);
  *len = n;
done:
  sqlite3_finalize(st);
  return rc;
}

ope_status ope_train_policy_load(ope_store *s, const char *name,
                                 ope_policy **out, ope_error *err) {
  *out = NULL;
  uint8_t *blob = NULL;
  size_t len = 0;
  ope_ckpt *ck = NULL;
  ope_status rc = ope_train_checkpoint_read(s, name, &blob, &len, err);
  if (rc != OPE_OK) return rc;
  if ((rc = ope_ckpt_load(blob, len, &ck, err)) != OPE_OK) {
    /* The loader says what is wrong; the place is this policy. */
    if (err) snprintf(err->where, sizeof err->where, "%s", name);
    goto done;
  }
  rc = ope_train_policy_from_ckpt(ck, name, out, err);
done:
  free(blob);
  return rc;
}

/* The SQLite store: opening, safety checks, migrations, transactions, and the
 * dataset tables (store.h).
 *
 * Design: vectors are packed float64 BLOBs so that loading a dataset is a
 * memcpy per row and ingest formats no numbers; scalars stay real columns so
 * `sqlite3 ope.db 'select episode, step, action, reward from steps'` reads. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char *const ope_schema_migrations[];
extern const size_t ope_schema_n_migrations;

struct ope_store {
  sqlite3 *db;
  char *path;
  int in_tx;
  int writable;
};

int ope_store_schema_version(void) { return (int)ope_schema_n_migrations; }
sqlite3 *ope_store_db(ope_store *s) { return s->db; }
const char *ope_store_path(const ope_store *s) { return s->path; }

ope_status ope_store_fail(ope_store *s, int rc, const char *what, ope_error *err) {
  ope_status st = OPE_EIO;
  if (rc == SQLITE_NOMEM) st = OPE_EINTERNAL;
  else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_FULL ||
           rc == SQLITE_PERM)
    st = OPE_ECANTCREAT;
  else if (rc == SQLITE_CONSTRAINT || rc == SQLITE_MISUSE || rc == SQLITE_ERROR)
    st = OPE_EINTERNAL;
  else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    st = OPE_ECANTCREAT;
  const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
  /* SQLite says "disk I/O error" for a write that failed with EFBIG (a file
   * size limit) or ENOSPC; the system's reason tells the user what to fix. */
  char sys[128] = "";
  int sys_errno = s && s->db ? sqlite3_system_errno(s->db) : 0;
  int ext = s && s->db ? sqlite3_extended_errcode(s->db) : rc;
  if ((rc == SQLITE_IOERR || rc == SQLITE_FULL) && sys_errno != 0) {
    snprintf(sys, sizeof sys, " (%s)", strerror(sys_errno));
    if (sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT) st = OPE_ECANTCREAT;
  } else if (rc == SQLITE_IOERR && ext == SQLITE_IOERR_WRITE) {
    snprintf(sys, sizeof sys, " (a write failed: is the disk full, or a file size limit reached?)");
    st = OPE_ECANTCREAT;
  }
  char where[512];
  snprintf(where, sizeof where, "store %s", s && s->path ? s->path : "");
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    return ope_error_set(err, st, where,
                         "%s: the store is busy (another ope is writing it; "
                         "waited %d ms): %s", what, OPE_STORE_BUSY_TIMEOUT_MS, msg);
  return ope_error_set(err, st, where, "%s: %s%s", what, msg, sys);
}

ope_status ope_store_prepare(ope_store *s, const char *sql, sqlite3_stmt **st,
                             ope_error *err) {
  int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
  if (rc != SQLITE_OK) {
    *st = NULL;
    return ope_store_fail(s, rc, "preparing a statement", err);
  }
  return OPE_OK;
}

static ope_status exec(ope_store *s, const char *sql, const char *what,
                       ope_error *err) {
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? OPE_OK : ope_store_fail(s, rc, what, err);
}

/* Switching to WAL takes an exclusive lock without calling the busy handler
 * (SQLite returns SQLITE_BUSY at once when another connection holds a lock),
 * so two commands creating one store at the same moment would collide. Retry
 * with short sleeps up to the busy timeout, as the busy handler would. */
static ope_status exec_retry_busy(ope_store *s, const char *sql, const char *what,
                                  ope_error *err) {
  struct timespec nap = {0, 5 * 1000 * 1000};
  int rc = SQLITE_OK;
  for (int waited = 0;; waited += 5) {
    rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= OPE_STORE_BUSY_TIMEOUT_MS) break;
    nanosleep(&nap, NULL);
  }
  return rc == SQLITE_OK ? OPE_OK : ope_store_fail(s, rc, what, err);
}

/* Read one integer pragma. */
static ope_status pragma_int(ope_store *s, const char *sql, int *out,
                             ope_error *err) {
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s, sql, &st, err);
  if (r != OPE_OK) return r;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK && rc != SQLITE_DONE) return ope_store_fail(s, rc, "reading the store header", err);
  return OPE_OK;
}

/* A non-empty file must start with SQLite's magic; checked with plain reads
 * so that a foreign file is never touched by SQLite at all. */
static ope_status check_magic(const char *path, int *exists, ope_error *err) {
  struct stat sb;
  *exists = 0;
  if (stat(path, &sb) != 0) {
    if (errno == ENOENT) return OPE_OK;
    return ope_error_set(err, OPE_ENOINPUT, path, "cannot open store: %s", strerror(errno));
  }
  *exists = 1;
  if (S_ISDIR(sb.st_mode))
    return ope_error_set(err, OPE_ECANTCREAT, path, "the store path is a directory");
  if (sb.st_size == 0) return OPE_OK;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return ope_error_set(err, OPE_ENOINPUT, path, "cannot open store: %s", strerror(errno));
  char magic[16] = {0};
  ssize_t n = read(fd, magic, sizeof magic);
  close(fd);
  if (n != (ssize_t)sizeof magic || memcmp(magic, "SQLite format 3", 16) != 0)
    return ope_error_set(err, OPE_EDATA, path,
                         "not an ope store (not an SQLite database); the file was not modified");
  return OPE_OK;
}

static ope_status migrate(ope_store *s, int from, ope_error *err) {
  for (int v = from; v < (int)ope_schema_n_migrations; v++) {
    ope_status st = ope_store_begin(s, err);
    if (st != OPE_OK) return st;
    /* Another process may have migrated since `from` was read (two commands
     * creating one store at once): read the version again under the lock. */
    int now = 0;
    if ((st = pragma_int(s, "PRAGMA user_version", &now, err)) != OPE_OK) {
      ope_store_rollback(s);
      return st;
    }
    if (now > v) {
      ope_store_rollback(s);
      continue;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
    if ((st = exec(s, ope_schema_migrations[v], "migrating the store schema", err)) != OPE_OK ||
        (st = exec(s, pragma, "migrating the store schema", err)) != OPE_OK) {
      ope_store_rollback(s);
      return st;
    }
    if (v == 0) {
      char app[64];
      snprintf(app, sizeof app, "PRAGMA application_id = %d", OPE_STORE_APPLICATION_ID);
      if ((st = exec(s, app, "marking the store", err)) != OPE_OK) {
        ope_store_rollback(s);
        return st;
      }
    }
    if ((st = ope_store_commit(s, err)) != OPE_OK) return st;
  }
  return OPE_OK;
}

ope_status ope_store_open(const char *path, int writable, ope_store **out,
                          ope_error *err) {
  *out = NULL;
  int exists;
  ope_status st = check_magic(path, &exists, err);
  if (st != OPE_OK) return st;
  if (!exists && !writable)
    return ope_error_set(err, OPE_ENOINPUT, path,
                         "no store here (create one with 'ope ingest' or 'ope sim', "
                         "or point --db / OPE_DB at one)");
  ope_store *s = calloc(1, sizeof *s);
  if (s == NULL || (s->path = strdup(path)) == NULL) {
    free(s);
    return ope_error_nomem(err);
  }
  s->writable = writable;
  int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    char where[600];
    snprintf(where, sizeof where, "%s", path);
    ope_error_set(err, writable ? OPE_ECANTCREAT : OPE_ENOINPUT, where,
                  "cannot open the store: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    ope_store_close(s);
    return err ? err->status : OPE_ECANTCREAT;
  }
  sqlite3_extended_result_codes(s->db, 0);
  sqlite3_busy_timeout(s->db, OPE_STORE_BUSY_TIMEOUT_MS);

  /* Read-only checks first: nothing below writes until they pass. They share
   * one read transaction, so that a store another process is creating is
   * seen before or after its first migration, never half-way. */
  int version = 0, app = 0, tables = 0;
  sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  int unreadable = (st = pragma_int(s, "PRAGMA user_version", &version, err)) != OPE_OK ||
                   (st = pragma_int(s, "PRAGMA application_id", &app, err)) != OPE_OK ||
                   (st = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err)) != OPE_OK;
  if (sqlite3_get_autocommit(s->db) == 0) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  if (unreadable) {
    /* A file with SQLite's magic but a broken body lands here. */
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err ? err->msg : "");
    ope_error_set(err, OPE_EDATA, path, "not a readable ope store: %s", why);
    ope_store_close(s);
    return OPE_EDATA;
  }
  if (tables > 0 && app != OPE_STORE_APPLICATION_ID) {
    ope_store_close(s);
    return ope_error_set(err, OPE_EDATA, path,
                         "an SQLite database of another application, not an ope store; "
                         "the file was not modified");
  }
  if (version < 0) {
    /* user_version is a signed 32-bit header field; ope never writes a
     * negative one, and it would index the migrations out of range. */
    ope_store_close(s);
    return ope_error_set(err, OPE_EDATA, path,
                         "store schema version %d is not a version ope writes "
                         "(a damaged or foreign file); the file was not modified",
                         version);
  }
  if (version > (int)ope_schema_n_migrations) {
    ope_store_close(s);
    return ope_error_set(err, OPE_EDATA, path,
                         "store schema version %d is newer than this ope (%d); "
                         "upgrade ope. The file was not modified",
                         version, (int)ope_schema_n_migrations);
  }
  if (!writable) {
    if (version < (int)ope_schema_n_migrations) {
      ope_store_close(s);
      return ope_error_set(err, OPE_EDATA, path,
                           "store schema version %d is older than this ope (%d); "
                           "any writing command upgrades it", version,
                           (int)ope_schema_n_migrations);
    }
    *out = s;
    return OPE_OK;
  }
  if (access(path, W_OK) != 0) {
    ope_store_close(s);
    return ope_error_set(err, OPE_ECANTCREAT, path, "the store is not writable: %s",
                         strerror(errno));
  }
  if ((st = exec_retry_busy(s, "PRAGMA journal_mode = WAL", "setting WAL mode", err)) != OPE_OK ||
      (st = exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err)) != OPE_OK ||
      (st = exec(s, "PRAGMA synchronous = NORMAL", "setting synchronous", err)) != OPE_OK ||
      /* 16 MiB of page cache: large transactions (ingest) spill less, and
       * peak memory stays flat however large the file. */
      (st = exec(s, "PRAGMA cache_size = -16384", "sizing the page cache", err)) != OPE_OK ||
      (st = migrate(s, version, err)) != OPE_OK) {
    ope_store_close(s);
    return st;
  }
  *out = s;
  return OPE_OK;
}

void ope_store_close(ope_store *s) {
  if (s == NULL) return;
  if (s->in_tx) ope_store_rollback(s);
  sqlite3_close_v2(s->db);
  free(s->path);
  free(s);
}

ope_status ope_store_begin(ope_store *s, ope_error *err) {
  if (s->in_tx)
    return ope_error_set(err, OPE_EINTERNAL, "store", "nested transaction");
  ope_status st = exec(s, "BEGIN IMMEDIATE", "starting a write", err);
  if (st == OPE_OK) s->in_tx = 1;
  return st;
}

ope_status ope_store_commit(ope_store *s, ope_error *err) {
  ope_status st = exec(s, "COMMIT", "committing", err);
  if (st != OPE_OK) {
    ope_store_rollback(s);
    return st;
  }
  s->in_tx = 0;
  return OPE_OK;
}

void ope_store_rollback(ope_store *s) {
  if (!s->in_tx) return;
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  s->in_tx = 0;
}

void ope_store_now(char buf[32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- datasets ---- */

void ope_dataset_info_clear(ope_dataset_info *info) {
  if (info == NULL) return;
  free(info->name);
  free(info->source);
  free(info->source_sha256);
  free(info->ingested_at);
  free(info->notes);
  memset(info, 0, sizeof *info);
}

static char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? strdup((const char *)t) : NULL;
}

#define DATASET_COLUMNS                                                        \
  "id, name, source, source_sha256, ingested_at, action_kind, n_actions, "     \
  "action_dim, obs_dim, has_pscore, has_next_obs, n_episodes, n_steps, notes"

static void read_info(sqlite3_stmt *st, ope_dataset_info *info) {
  info->id = sqlite3_column_int64(st, 0);
  info->name = col_text(st, 1);
  info->source = col_text(st, 2);
  info->source_sha256 = col_text(st, 3);
  info->ingested_at = col_text(st, 4);
  const unsigned char *k = sqlite3_column_text(st, 5);
  info->action_kind = k && strcmp((const char *)k, "continuous") == 0
                          ? OPE_ACTION_CONTINUOUS : OPE_ACTION_DISCRETE;
  info->n_actions = sqlite3_column_int(st, 6);
  info->action_dim = sqlite3_column_int(st, 7);
  info->obs_dim = sqlite3_column_int(st, 8);
  info->has_pscore = sqlite3_column_int(st, 9);
  info->has_next_obs = sqlite3_column_int(st, 10);
  info->n_episodes = sqlite3_column_int64(st, 11);
  info->n_steps = sqlite3_column_int64(st, 12);
  info->notes = col_text(st, 13);
}

ope_status ope_store_dataset_find(ope_store *s, const char *name,
                                  ope_dataset_info *info, ope_error *err) {
  memset(info, 0, sizeof *info);
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s, "SELECT " DATASET_COLUMNS " FROM datasets WHERE name = ?1", &st, err);
  if (r != OPE_OK) return r;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    read_info(st, info);
    r = info->name ? OPE_OK : ope_error_nomem(err);
    if (r != OPE_OK) ope_dataset_info_clear(info);
  } else if (rc == SQLITE_DONE) {
    r = ope_error_set(err, OPE_ENOINPUT, s->path,
                      "no dataset named '%s' (see 'ope info')", name);
  } else {
    r = ope_store_fail(s, rc, "looking up a dataset", err);
  }
  sqlite3_finalize(st);
  return r;
}

ope_status ope_store_dataset_list(ope_store *s, ope_dataset_info **list,
                                  size_t *n, ope_error *err) {
  *list = NULL;
  *n = 0;
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s, "SELECT " DATASET_COLUMNS " FROM datasets ORDER BY name", &st, err);
  if (r != OPE_OK) return r;
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      ope_dataset_info *nl = realloc(*list, cap * sizeof *nl);
      if (nl == NULL) {
        r = ope_error_nomem(err);
        break;
      }
      *list = nl;
    }
    memset(&(*list)[*n], 0, sizeof **list);
    read_info(st, &(*list)[(*n)++]);
    if ((*list)[*n - 1].name == NULL) {
      r = ope_error_nomem(err);
      break;
    }
  }
  if (r == OPE_OK && rc != SQLITE_DONE) r = ope_store_fail(s, rc, "listing datasets", err);
  sqlite3_finalize(st);
  if (r != OPE_OK) {
    for (size_t i = 0; i < *n; i++) ope_dataset_info_clear(&(*list)[i]);
    free(*list);
    *list = NULL;
    *n = 0;
  }
  return r;
}

ope_status ope_store_dataset_delete(ope_store *s, int64_t id, ope_error *err) {
  static const char *const sql[] = {
    "DELETE FROM steps WHERE dataset_id = ?1",
    "DELETE FROM episodes WHERE dataset_id = ?1",
    "DELETE FROM datasets WHERE id = ?1",
  };
  for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
    sqlite3_stmt *st;
    ope_status r = ope_store_prepare(s, sql[i], &st, err);
    if (r != OPE_OK) return r;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return ope_store_fail(s, rc, "deleting a dataset", err);
  }
  return OPE_OK;
}

static ope_status blob_into(ope_store *s, sqlite3_stmt *st, int col, double *dst,
                            int width, int64_t row, const char *what,
                            ope_error *err) {
  int bytes = sqlite3_column_bytes(st, col);
  const void *b = sqlite3_column_blob(st, col);
  if (bytes != width * (int)sizeof(double) || b == NULL)
    return ope_error_set(err, OPE_EDATA, s->path,
                         "corrupt store: row %lld has a %s of %d bytes, expected %d",
                         (long long)row, what, bytes, width * (int)sizeof(double));
  memcpy(dst, b, (size_t)bytes);
  return OPE_OK;
}

/* The totals in the datasets row decide how much load allocates, so they
 * are checked against the tables first (two index lookups): a damaged or
 * crafted store cannot ask for a huge allocation. */
static ope_status check_sizes(ope_store *s, const ope_dataset_info *info,
                              ope_error *err) {
  sqlite3_stmt *st;
  ope_status r = ope_store_prepare(s,
      "SELECT (SELECT count(*) FROM episodes WHERE dataset_id = ?1), "
      "(SELECT coalesce(max(row) + 1, 0) FROM steps WHERE dataset_id = ?1), "
      "(SELECT page_count FROM pragma_page_count()) * "
      "(SELECT page_size FROM pragma_page_size())", &st, err);
  if (r != OPE_OK) return r;
  sqlite3_bind_int64(st, 1, info->id);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    r = ope_store_fail(s, rc, "counting a dataset's rows", err);
  } else if (sqlite3_column_int64(st, 0) != info->n_episodes ||
             sqlite3_column_int64(st, 1) != info->n_steps) {
    r = ope_error_set(err, OPE_EDATA, s->path,
                      "corrupt store: dataset '%s' records %lld episodes and %lld steps "
                      "but holds %lld and %lld", info->name, (long long)info->n_episodes,
                      (long long)info->n_steps, (long long)sqlite3_column_int64(st, 0),
                      (long long)sqlite3_column_int64(st, 1));
  } else if ((double)info->n_steps * (info->obs_dim > 1 ? info->obs_dim : 1) * 8.0 >
             (double)sqlite3_column_int64(st, 2)) {
    /* Each step stores its observation as obs_dim doubles, so a file of B
     * bytes cannot hold more than B / (8 obs_dim) steps. */
    r = ope_error_set(err, OPE_EDATA, s->path,
                      "corrupt store: dataset '%s' records %lld steps of width %d, "
                      "more than the file can hold", info->name,
                      (long long)info->n_steps, info->obs_dim);
  }
  sqlite3_finalize(st);
  return r;
}

ope_status ope_store_dataset_load(ope_store *s, const char *name,
                                  ope_dataset **out, ope_error *err) {
  *out = NULL;
  ope_dataset_info info;
  ope_status r = ope_store_dataset_find(s, name, &info, err);
  if (r != OPE_OK) return r;
  if ((r = check_sizes(s, &info, err)) != OPE_OK) {
    ope_dataset_info_clear(&info);
    return r;
  }
  int cache_kb = 0, restore_cache = 0;
  char sql[200];
  ope_dataset *ds = ope_dataset_alloc((size_t)info.n_episodes, (size_t)info.n_steps,
                                      info.obs_dim, info.action_kind, info.n_actions,
                                      info.action_dim, info.has_next_obs,
                                      info.has_pscore, err);
  sqlite3_stmt *st = NULL;
  if (ds == NULL) {
    r = err ? err->status : OPE_EINTERNAL;
    goto done;
  }
  if ((ds->name = strdup(name)) == NULL) {
    r = ope_error_nomem(err);
    goto done;
  }
  /* The steps are read once, in order: a small page cache serves that scan
   * as fast as a large one and keeps the peak memory near the dataset's
   * own size. The connection's setting is restored below. */
  if (pragma_int(s, "PRAGMA cache_size", &cache_kb, NULL) == OPE_OK &&
      sqlite3_exec(s->db, "PRAGMA cache_size = -2048", NULL, NULL, NULL) == SQLITE_OK)
    restore_cache = 1;
  /* One read transaction, so the two queries see the same snapshot. */
  sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  if ((r = ope_store_prepare(s, "SELECT idx, label, first_row, length FROM episodes "
                                "WHERE dataset_id = ?1 ORDER BY idx", &st, err)) != OPE_OK)
    goto done;
  sqlite3_bind_int64(st, 1, info.id);
  size_t e = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t first = sqlite3_column_int64(st, 2), len = sqlite3_column_int64(st, 3);
    if (e >= ds->n_episodes || first != (int64_t)(e ? ds->ep_offset[e] : 0) || len < 1 ||
        first + len > info.n_steps) {
      r = ope_error_set(err, OPE_EDATA, s->path, "corrupt store: dataset '%s' episode %zu", name, e);
      goto done;
    }
    ds->ep_offset[e] = (size_t)first;
    ds->ep_offset[e + 1] = (size_t)(first + len);
    if ((ds->ep_label[e] = col_text(st, 1)) == NULL) {
      r = ope_error_nomem(err);
      goto done;
    }
    e++;
  }
  if (rc != SQLITE_DONE) {
    r = ope_store_fail(s, rc, "loading episodes", err);
    goto done;
  }
  if (e != ds->n_episodes || ds->ep_offset[e] != ds->n_steps) {
    r = ope_error_set(err, OPE_EDATA, s->path, "corrupt store: dataset '%s' episode table does not cover its steps", name);
    goto done;
  }
  sqlite3_finalize(st);
  st = NULL;
  /* columns the dataset does not have are read as NULL literals, which
   * costs SQLite nothing per row */
  snprintf(sql, sizeof sql, "SELECT row, obs, %s, %s, reward, terminal, %s, %s "
           "FROM steps WHERE dataset_id = ?1 ORDER BY row", ds->action ? "action" : "NULL",
           ds->action ? "NULL" : "action_vec", ds->pscore ? "pscore" : "NULL",
           ds->next_obs ? "next_obs" : "NULL");
  if ((r = ope_store_prepare(s, sql, &st, err)) != OPE_OK) goto done;
  sqlite3_bind_int64(st, 1, info.id);
  size_t t = 0, d = (size_t)ds->obs_dim, m = (size_t)ds->action_dim;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (t >= ds->n_steps || sqlite3_column_int64(st, 0) != (int64_t)t) {
      r = ope_error_set(err, OPE_EDATA, s->path, "corrupt store: dataset '%s' step rows are not 0..%lld", name, (long long)info.n_steps - 1);
      goto done;
    }
    if ((r = blob_into(s, st, 1, ds->obs + t * d, (int)d, (int64_t)t, "observation", err)) != OPE_OK)
      goto done;
    if (ds->action) {
      int64_t a = sqlite3_column_int64(st, 2);
      if (sqlite3_column_type(st, 2) != SQLITE_INTEGER || a < 0 || a >= ds->n_actions) {
        r = ope_error_set(err, OPE_EDATA, s->path, "corrupt store: row %zu has action outside 0..%d", t, ds->n_actions - 1);
        goto done;
      }
      ds->action[t] = (int32_t)a;
    } else if ((r = blob_into(s, st, 3, ds->action_vec + t * m, (int)m, (int64_t)t, "action", err)) != OPE_OK) {
      goto done;
    }
    ds->reward[t] = sqlite3_column_double(st, 4);
    ds->terminal[t] = (uint8_t)(sqlite3_column_int(st, 5) != 0);
    if (ds->pscore) ds->pscore[t] = sqlite3_column_double(st, 6);
    if (ds->next_obs &&
        (r = blob_into(s, st, 7, ds->next_obs + t * d, (int)d, (int64_t)t, "next observation", err)) != OPE_OK)
      goto done;
    t++;
  }
  if (rc != SQLITE_DONE) {
    r = ope_store_fail(s, rc, "loading steps", err);
    goto done;
  }
  if (t != ds->n_steps)
    r = ope_error_set(err, OPE_EDATA, s->path, "corrupt store: dataset '%s' has %zu step rows, expected %lld", name, t, (long long)info.n_steps);
done:
  sqlite3_finalize(st);
  if (sqlite3_get_autocommit(s->db) == 0 && !s->in_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  if (restore_cache) {
    snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", cache_kb);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  }
  ope_dataset_info_clear(&info);
  if (r != OPE_OK) {
    ope_dataset_free(ds);
    return r;
  }
  *out = ds;
  return OPE_OK;
}

/* ---- streaming writer ---- */

struct ope_store_writer {
  ope_store *s;
  int64_t id;
  int obs_dim, action_dim, has_next_obs, has_pscore, discrete;
  int64_t row, n_episodes;
  sqlite3_stmt *step, *episode;
};

void ope_store_writer_abort(ope_store_writer *w) {
  if (w == NULL) return;
  sqlite3_finalize(w->step);
  sqlite3_finalize(w->episode);
  ope_store_rollback(w->s);
  free(w);
}

ope_status ope_store_writer_begin(ope_store *s, const ope_dataset_info *info,
                                  int replace, ope_store_writer **out,
                                  ope_error *err) {
  *out = NULL;
  ope_store_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return ope_error_nomem(err);
  w->s = s;
  w->obs_dim = info->obs_dim;
  w->action_dim = info->action_kind == OPE_ACTION_DISCRETE ? 1 : info->action_dim;
  w->discrete = info->action_kind == OPE_ACTION_DISCRETE;
  w->has_next_obs = info->has_next_obs;
  w->has_pscore = info->has_pscore;
  ope_status r = ope_store_begin(s, err);
  if (r != OPE_OK) {
    free(w);
    return r;
  }
  sqlite3_stmt *st = NULL;
  ope_dataset_info old;
  ope_error e2;
  r = ope_store_dataset_find(s, info->name, &old, &e2);
  if (r == OPE_OK) {
    int64_t id = old.id;
    ope_dataset_info_clear(&old);
    if (!replace) {
      r = ope_error_set(err, OPE_EUSAGE, s->path,
                        "a dataset named '%s' exists already (use --replace to overwrite it)",
                        info->name);
      goto fail;
    }
    if ((r = ope_store_dataset_delete(s, id, err)) != OPE_OK) goto fail;
  } else if (r != OPE_ENOINPUT) {
    if (err) *err = e2;
    goto fail;
  }
  char now[32];
  ope_store_now(now);
  if ((r = ope_store_prepare(s,
         "INSERT INTO datasets (name, source, source_sha256, ingested_at, action_kind, "
         "n_actions, action_dim, obs_dim, has_pscore, has_next_obs, n_episodes, n_steps, notes) "
         "VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, 0, 0, ?10)", &st, err)) != OPE_OK)
    goto fail;
  sqlite3_bind_text(st, 1, info->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, info->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, info->source_sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, w->discrete ? "discrete" : "continuous", -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 6, w->action_dim);
  sqlite3_bind_int(st, 7, w->obs_dim);
  sqlite3_bind_int(st, 8, w->has_pscore);
  sqlite3_bind_int(st, 9, w->has_next_obs);
  sqlite3_bind_text(st, 10, info->notes, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    r = ope_store_fail(s, rc, "adding the dataset", err);
    goto fail;
  }
  w->id = sqlite3_last_insert_rowid(s->db);
  if ((r = ope_store_prepare(s,
         "INSERT INTO steps (dataset_id, row, episode, step, obs, action, action_vec, "
         "reward, terminal, pscore, next_obs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
         &w->step, err)) != OPE_OK ||
      (r = ope_store_prepare(s,
         "INSERT INTO episodes (dataset_id, idx, label, first_row, length, terminal, return) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &w->episode, err)) != OPE_OK)
    goto fail;
  sqlite3_bind_int64(w->step, 1, w->id);
  sqlite3_bind_int64(w->episode, 1, w->id);
  *out = w;
  return OPE_OK;
fail:
  ope_store_writer_abort(w);
  return r;
}

ope_status ope_store_writer_step(ope_store_writer *w, int64_t episode,
                                 int64_t step, const double *obs,
                                 int32_t action, const double *action_vec,
                                 double reward, int terminal, double pscore,
                                 const double *next_obs, ope_error *err) {
  sqlite3_stmt *st = w->step;
  int ob = w->obs_dim * (int)sizeof(double);
  sqlite3_bind_int64(st, 2, w->row);
  sqlite3_bind_int64(st, 3, episode);
  sqlite3_bind_int64(st, 4, step);
  sqlite3_bind_blob(st, 5, obs, ob, SQLITE_STATIC);
  if (w->discrete) {
    sqlite3_bind_int(st, 6, action);
    sqlite3_bind_null(st, 7);
  } else {
    sqlite3_bind_null(st, 6);
    sqlite3_bind_blob(st, 7, action_vec, w->action_dim * (int)sizeof(double), SQLITE_STATIC);
  }
  sqlite3_bind_double(st, 8, reward);
  sqlite3_bind_int(st, 9, terminal);
  if (w->has_pscore) sqlite3_bind_double(st, 10, pscore);
  else sqlite3_bind_null(st, 10);
  if (w->has_next_obs) sqlite3_bind_blob(st, 11, next_obs, ob, SQLITE_STATIC);
  else sqlite3_bind_null(st, 11);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return ope_store_fail(w->s, rc, "inserting a step", err);
  w->row++;
  return OPE_OK;
}

ope_status ope_store_writer_episode(ope_store_writer *w, const char *label,
                                    int64_t first_row, int64_t length,
                                    int terminal, double ret, ope_error *err) {
  sqlite3_stmt *st = w->episode;
  sqlite3_bind_int64(st, 2, w->n_episodes);
  sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, first_row);
  sqlite3_bind_int64(st, 5, length);
  sqlite3_bind_int(st, 6, terminal);
  sqlite3_bind_double(st, 7, ret);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return ope_store_fail(w->s, rc, "inserting an episode", err);
  w->n_episodes++;
  return OPE_OK;
}

ope_status ope_store_writer_finish(ope_store_writer *w, int n_actions,
                                   int64_t n_episodes, int64_t n_steps,
                                   ope_error *err) {
  ope_store *s = w->s;
  sqlite3_stmt *st = NULL;
  ope_status r;
  if (n_episodes != w->n_episodes || n_steps != w->row) {
    r = ope_error_set(err, OPE_EINTERNAL, s->path, "dataset totals do not match the rows written");
    goto fail;
  }
  if ((r = ope_store_prepare(s, "UPDATE datasets SET n_actions = ?2, n_episodes = ?3, "
                                "n_steps = ?4 WHERE id = ?1", &st, err)) != OPE_OK)
    goto fail;
  sqlite3_bind_int64(st, 1, w->id);
  if (w->discrete) sqlite3_bind_int(st, 2, n_actions);
  else sqlite3_bind_null(st, 2);
  sqlite3_bind_int64(st, 3, n_episodes);
  sqlite3_bind_int64(st, 4, n_steps);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    r = ope_store_fail(s, rc, "finishing the dataset", err);
    goto fail;
  }
  sqlite3_finalize(w->step);
  sqlite3_finalize(w->episode);
  w->step = w->episode = NULL;
  if ((r = ope_store_commit(s, err)) != OPE_OK) goto fail;
  free(w);
  return OPE_OK;
fail:
  ope_store_writer_abort(w);
  return r;
}

ope_status ope_store_dataset_put(ope_store *s, const ope_dataset *ds,
                                 const ope_dataset_info *info, int replace,
                                 ope_error *err) {
  ope_dataset_info meta = *info;
  meta.action_kind = ds->action_kind;
  meta.action_dim = ds->action_dim;
  meta.obs_dim = ds->obs_dim;
  meta.has_pscore = ds->pscore != NULL;
  meta.has_next_obs = ds->next_obs != NULL;
  ope_store_writer *w;
  ope_status r = ope_store_writer_begin(s, &meta, replace, &w, err);
  if (r != OPE_OK) return r;
  size_t d = (size_t)ds->obs_dim, m = (size_t)ds->action_dim;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    size_t a = ds->ep_offset[e], b = ds->ep_offset[e + 1];
    double ret = 0.0;
    for (size_t t = a; t < b; t++) {
      ret += ds->reward[t];
      r = ope_store_writer_step(w, (int64_t)e, (int64_t)(t - a), ds->obs + t * d,
                                ds->action ? ds->action[t] : 0,
                                ds->action_vec ? ds->action_vec + t * m : NULL,
                                ds->reward[t], ds->terminal[t],
                                ds->pscore ? ds->pscore[t] : 0.0,
                                ds->next_obs ? ds->next_obs + t * d : NULL, err);
      if (r != OPE_OK) goto fail;
    }
    char label[32];
    const char *lab = ds->ep_label && ds->ep_label[e] ? ds->ep_label[e] : NULL;
    if (lab == NULL) {
      snprintf(label, sizeof label, "%zu", e);
      lab = label;
    }
    if ((r = ope_store_writer_episode(w, lab, (int64_t)a, (int64_t)(b - a),
                                      b > a && ds->terminal[b - 1], ret, err)) != OPE_OK)
      goto fail;
  }
  return ope_store_writer_finish(w, ds->n_actions, (int64_t)ds->n_episodes,
                                 (int64_t)ds->n_steps, err);
fail:
  ope_store_writer_abort(w);
  return r;
}

/* Reading a policy-scores CSV (scores_csv.h) with libcsv, one physical line
 * at a time so that every record knows its line. Episode labels are looked
 * up in a sorted index of the dataset's labels. The probabilities start as
 * NaN (never a valid score), so a row that is no longer NaN has been scored:
 * that catches duplicates and, at the end, missing steps without a second
 * array; the line of a duplicate's first score is found by reading the file
 * again, on that error only.
 *
 * Speed (a scores file has a line per logged step, a million or more): a
 * line that holds no quote and no lone carriage return, met at a record
 * boundary, is split at its commas here, with libcsv's trimming of spaces
 * and tabs and its empty-is-NULL rule, and fed to the same callbacks; any
 * other line goes through libcsv. Numbers are read by core/decimal.h. */
#include "policy/scores_csv.h"

#include "core/decimal.h"
#include "core/sha256.h"
#include "data/csvplain.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { READ_CHUNK = 1 << 16 };
enum { COL_EPISODE = -1, COL_STEP = -2, COL_PROB = -3, COL_UNSET = -4 };

typedef struct reader {
  const char *path;
  const ope_dataset *ds;
  ope_policy_scores *out;
  ope_error *err;
  ope_status status;
  int64_t line, rec_line;
  int in_header;
  int ncol;          /* header width */
  int *role;         /* per column: COL_* or k >= 0 for prob_k */
  char **name;       /* per column: its header name */
  int have_ep, have_step, have_prob, n_dist;
  int field;         /* current field index in the record */
  char *ep;          /* the record's episode field */
  size_t ep_cap;
  int64_t step;
  double prob;
  double *dist;      /* (A) the record's prob_k */
  size_t dist_cells; /* size of out->dist to allocate once the header says
                        it has prob_k columns; 0: do not keep them */
  size_t *order;     /* episode indices sorted by label */
  long last_ep;      /* the episode found for the previous row, or -1 */
  size_t dup_row;    /* a duplicate's row (status OPE_EDATA), or SIZE_MAX */
  size_t find_row;   /* rescan: stop at the first record of this row */
  int64_t found_line;/* rescan: its line */
} reader;

static void fail(reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *rd, const char *fmt, ...) {
  if (rd->status != OPE_OK) return;
  char where[600], msg[1024];
  snprintf(where, sizeof where, "%s:%lld", rd->path, (long long)rd->rec_line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  rd->status = ope_error_set(rd->err, OPE_EDATA, where, "%s", msg);
}

static const ope_dataset *sort_ds;
static int cmp_label(const void *a, const void *b) {
  return strcmp(sort_ds->ep_label[*(const size_t *)a], sort_ds->ep_label[*(const size_t *)b]);
}

/* Episode index with label s, or -1. Rows usually come episode by
 * episode, so the previous answer is tried first. */
static long find_episode(reader *rd, const char *s) {
  if (rd->last_ep >= 0 && strcmp(rd->ds->ep_label[rd->last_ep], s) == 0) return rd->last_ep;
  size_t lo = 0, hi = rd->ds->n_episodes;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(rd->ds->ep_label[rd->order[mid]], s);
    if (c == 0) return rd->last_ep = (long)rd->order[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/* A finite number: the decimal grammar (core/decimal.h), or any other form
 * strtod reads (hex, for one). 0 when s is none. */
static int parse_number(const char *s, double *out) {
  if (ope_decimal_parse(s, out) == 0) return 1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

static void header_field(reader *rd, const char *s) {
  int col = rd->ncol;
  int *role = realloc(rd->role, (size_t)(col + 1) * sizeof(int));
  char **name = realloc(rd->name, (size_t)(col + 1) * sizeof(char *));
  if (role) rd->role = role;
  if (name) rd->name = name;
  if (!role || !name || !(rd->name[col] = strdup(s ? s : ""))) {
    rd->status = ope_error_nomem(rd->err);
    return;
  }
  rd->ncol++;
  int A = rd->ds->action_kind == OPE_ACTION_DISCRETE ? rd->ds->n_actions : 0;
  int r = COL_UNSET, *have = NULL;
  if (s == NULL || s[0] == '\0') {
    fail(rd, "column %d has an empty name", col + 1);
    return;
  }
  if (strcmp(s, "episode") == 0) r = COL_EPISODE, have = &rd->have_ep;
  else if (strcmp(s, "step") == 0) r = COL_STEP, have = &rd->have_step;
  else if (strcmp(s, "prob") == 0) r = COL_PROB, have = &rd->have_prob;
  else if (strncmp(s, "prob_", 5) == 0 && s[5] >= '0' && s[5] <= '9') {
    char *end;
    long k = strtol(s + 5, &end, 10);
    if (*end || (s[5] == '0' && s[6])) {
      fail(rd, "column '%s' is not a scores column", s);
      return;
    }
    if (A == 0) {
      fail(rd, "column '%s': the dataset's actions are continuous, so there is "
               "no action distribution", s);
      return;
    }
    if (k >= A) {
      fail(rd, "column '%s': the dataset has %d actions (prob_0 .. prob_%d)", s, A, A - 1);
      return;
    }
    r = (int)k;
  } else {
    fail(rd, "column '%s' is not a scores column (episode, step, prob, prob_0 ..)", s);
    return;
  }
  for (int c = 0; c < col; c++)
    if (rd->role[c] == r) {
      fail(rd, "column '%s' appears twice", s);
      return;
    }
  rd->role[col] = r;
  if (have) *have = 1;
  else rd->n_dist++;
}

static void on_field(void *s, size_t len, void *arg) {
  reader *rd = arg;
  const char *str = s;
  (void)len;
  if (rd->status != OPE_OK) return;
  if (rd->field == 0) rd->rec_line = rd->line;
  int col = rd->field++;
  if (rd->in_header) {
    header_field(rd, str);
    return;
  }
  if (col >= rd->ncol) return; /* counted and reported at the row's end */
  const char *cname = rd->name[col];
  if (str == NULL || str[0] == '\0') {
    fail(rd, "column '%s' is empty", cname);
    return;
  }
  int r = rd->role[col];
  if (r == COL_EPISODE) {
    size_t n = strlen(str) + 1;
    if (n > rd->ep_cap) {
      char *ep = realloc(rd->ep, n);
      if (ep == NULL) {
        rd->status = ope_error_nomem(rd->err);
        return;
      }
      rd->ep = ep;
      rd->ep_cap = n;
    }
    memcpy(rd->ep, str, n);
  } else if (r == COL_STEP) {
    long long v = 0;
    const char *d = str;
    while (*d >= '0' && *d <= '9' && d - str < 18) v = v * 10 + (*d++ - '0');
    if (*d || d == str) { /* not short and plain: the general rule */
      char *end;
      errno = 0;
      v = strtoll(str, &end, 10);
      if (*end || errno || v < 0) fail(rd, "column 'step': '%s' is not a whole number >= 0", str);
    }
    rd->step = v;
  } else {
    double v;
    if (!parse_number(str, &v)) {
      fail(rd, "column '%s': '%s' is not a finite number", cname, str);
      return;
    }
    if (r == COL_PROB) {
      int discrete = rd->ds->action_kind == OPE_ACTION_DISCRETE;
      /* 0 is a valid score: a deterministic policy gives it to every
       * action it would not take, and its weight is then exactly 0. */
      if (discrete && !(v >= 0 && v <= 1))
        fail(rd, "column 'prob': %s is not a probability in [0, 1]", str);
      else if (!discrete && !(v >= 0))
        fail(rd, "column 'prob': %s is not a density >= 0", str);
      rd->prob = v;
    } else {
      if (!(v >= 0 && v <= 1))
        fail(rd, "column '%s': %s is not a probability in [0, 1]", cname, str);
      rd->dist[r] = v;
    }
  }
}

static void on_row(int c, void *arg) {
  reader *rd = arg;
  (void)c;
  if (rd->status != OPE_OK) return;
  int nf = rd->field;
  rd->field = 0;
  if (rd->in_header) {
    rd->in_header = 0;
    if (!rd->have_ep || !rd->have_step || !rd->have_prob)
      fail(rd, "the header must name columns 'episode', 'step' and 'prob'");
    else if (rd->n_dist != 0 && rd->n_dist != rd->ds->n_actions)
      fail(rd, "the header has %d of the %d columns prob_0 .. prob_%d",
           rd->n_dist, rd->ds->n_actions, rd->ds->n_actions - 1);
    /* the header decides whether a distribution is kept; a record may
     * follow on the same physical line (after a lone CR) */
    else if (rd->n_dist && rd->dist_cells && rd->out->dist == NULL &&
             (rd->out->dist = malloc(rd->dist_cells * sizeof(double))) == NULL)
      rd->status = ope_error_nomem(rd->err);
    return;
  }
  if (nf != rd->ncol) {
    fail(rd, "the row has %d fields but the header has %d", nf, rd->ncol);
    return;
  }
  long e = find_episode(rd, rd->ep);
  if (e < 0) {
    fail(rd, "extra step: episode '%s' is not in dataset '%s'", rd->ep,
         rd->ds->name ? rd->ds->name : "");
    return;
  }
  size_t len = ope_dataset_ep_len(rd->ds, (size_t)e);
  if ((uint64_t)rd->step >= len) {
    fail(rd, "extra step: episode '%s' has steps 0 .. %zu, not %lld", rd->ep,
         len - 1, (long long)rd->step);
    return;
  }
  size_t row = rd->ds->ep_offset[e] + (size_t)rd->step;
  if (rd->find_row != SIZE_MAX) {
    if (row == rd->find_row) {
      rd->found_line = rd->rec_line;
      rd->status = OPE_EDATA; /* stop; the message is the caller's */
    }
    return;
  }
  if (!isnan(rd->out->prob[row])) {
    fail(rd, "duplicate step: episode '%s' step %lld is already scored at line ",
         rd->ep, (long long)rd->step);
    rd->dup_row = row;
    return;
  }
  rd->out->prob[row] = rd->prob;
  if (rd->n_dist) {
    int A = rd->ds->n_actions;
    double sum = 0.0;
    for (int k = 0; k < A; k++) sum += rd->dist[k];
    if (fabs(sum - 1.0) > OPE_SCORES_SUM_TOL) {
      fail(rd, "prob_0 .. prob_%d sum to %.17g, not 1 (tolerance %g)", A - 1,
           sum, OPE_SCORES_SUM_TOL);
      return;
    }
    int a = rd->ds->action[row];
    if (fabs(rd->dist[a] - rd->prob) > OPE_SCORES_SUM_TOL) {
      fail(rd, "prob = %.17g but prob_%d = %.17g for the logged action %d",
           rd->prob, a, rd->dist[a], a);
      return;
    }
    if (rd->out->dist)
      memcpy(rd->out->dist + row * (size_t)A, rd->dist, (size_t)A * sizeof(double));
  }
}

static void reader_free(reader *rd) {
  for (int c = 0; c < rd->ncol; c++) free(rd->name[c]);
  free(rd->name);
  free(rd->role);
  free(rd->ep);
  free(rd->dist);
  free(rd->order);
}

ope_status ope_scores_csv_read(const char *path, const ope_dataset *ds,
                               ope_policy_scores *out, ope_error *err) {
  return ope_scores_csv_read_sha(path, ds, out, NULL, err);
}

/* Feed the file to the callbacks; sha (may be NULL) receives its bytes.
 * buf holds READ_CHUNK bytes, then OPE_CSV_PLAIN_MAX of scratch. */
static void parse_file(reader *rd, FILE *f, struct csv_parser *p, char *buf,
                       ope_sha256 *sha) {
  char *scratch = buf + READ_CHUNK;
  size_t got;
  int first = 1;
  while (rd->status == OPE_OK && (got = fread(buf, 1, READ_CHUNK, f)) > 0) {
    if (sha) ope_sha256_update(sha, buf, got);
    char *q = buf, *end = buf + got;
    if (first) {
      first = 0;
      if (got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) q += 3;
    }
    while (q < end && rd->status == OPE_OK) {
      char *nl = memchr(q, '\n', (size_t)(end - q));
      size_t len = nl ? (size_t)(nl - q) + 1 : (size_t)(end - q);
      /* at a record boundary (libcsv's ROW_NOT_BEGUN state is 0) */
      if (!(nl && p->pstate == 0 && rd->field == 0 &&
            ope_csv_plain_line(q, nl + 1, scratch, on_field, on_row, rd)) &&
          csv_parse(p, q, len, on_field, on_row, rd) != len) {
        if (rd->field == 0) rd->rec_line = rd->line;
        fail(rd, "malformed CSV: %s", csv_strerror(csv_error(p)));
      }
      q += len;
      if (nl) rd->line++;
    }
  }
  if (rd->status == OPE_OK && ferror(f))
    rd->status = ope_error_set(rd->err, OPE_EIO, rd->path, "read error: %s", strerror(errno));
  if (rd->status == OPE_OK && csv_fini(p, on_field, on_row, rd) != 0) {
    rd->rec_line = rd->line;
    fail(rd, "malformed CSV at the end of the file: %s", csv_strerror(csv_error(p)));
  }
}

/* The line of the first record that scores row, read again from the file:
 * the duplicate's message names it. 0 when it cannot be read. */
static int64_t first_line_of(const char *path, const ope_dataset *ds, const size_t *order,
                             size_t row) {
  reader rd = {0};
  ope_policy_scores none = {0};
  rd.path = path;
  rd.ds = ds;
  rd.out = &none;
  rd.line = 1;
  rd.in_header = 1;
  rd.last_ep = -1;
  rd.find_row = row;
  rd.dup_row = SIZE_MAX;
  rd.order = (size_t *)order;
  int A = ds->action_kind == OPE_ACTION_DISCRETE ? ds->n_actions : 0;
  FILE *f = fopen(path, "rb");
  char *buf = malloc(READ_CHUNK + OPE_CSV_PLAIN_MAX);
  rd.dist = calloc(A ? (size_t)A : 1, sizeof(double));
  struct csv_parser p;
  if (f && buf && rd.dist &&
      csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) == 0) {
    parse_file(&rd, f, &p, buf, NULL);
    csv_free(&p);
  }
  if (f) fclose(f);
  free(buf);
  rd.order = NULL;
  reader_free(&rd);
  return rd.found_line;
}

ope_status ope_scores_csv_read_sha(const char *path, const ope_dataset *ds,
                                   ope_policy_scores *out, char sha256_hex[65],
                                   ope_error *err) {
  return ope_scores_csv_read_ex(path, ds, 0, out, sha256_hex, err);
}

ope_status ope_scores_csv_read_ex(const char *path, const ope_dataset *ds,
                                  unsigned flags, ope_policy_scores *out,
                                  char sha256_hex[65], ope_error *err) {
  memset(out, 0, sizeof *out);
  reader rd = {0};
  rd.path = path;
  rd.ds = ds;
  rd.out = out;
  rd.err = err;
  rd.line = 1;
  rd.in_header = 1;
  rd.last_ep = -1;
  rd.dup_row = SIZE_MAX;
  rd.find_row = SIZE_MAX;
  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  int A = discrete ? ds->n_actions : 0;
  size_t T = ds->n_steps ? ds->n_steps : 1, n = ds->n_episodes;
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return ope_error_set(err, errno == ENOENT ? OPE_ENOINPUT : OPE_EIO, path,
                         "cannot open the scores file: %s", strerror(errno));
  struct csv_parser p;
  int parser_ok = 0;
  char *buf = malloc(READ_CHUNK + OPE_CSV_PLAIN_MAX);
  rd.order = malloc((n ? n : 1) * sizeof(size_t));
  rd.dist = calloc(A ? (size_t)A : 1, sizeof(double));
  out->prob = malloc(T * sizeof(double));
  if (!buf || !rd.order || !rd.dist || !out->prob) {
    rd.status = ope_error_nomem(err);
    goto done;
  }
  for (size_t r = 0; r < T; r++) out->prob[r] = NAN; /* not scored yet */
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
    rd.status = ope_error_nomem(err);
    goto done;
  }
  parser_ok = 1;
  for (size_t i = 0; i < n; i++) rd.order[i] = i;
  sort_ds = ds;
  qsort(rd.order, n, sizeof(size_t), cmp_label);
  ope_sha256 sha;
  ope_sha256_init(&sha);
  rd.dist_cells = flags & OPE_SCORES_DROP_DIST ? 0 : T * (size_t)A;
  parse_file(&rd, f, &p, buf, &sha);
  if (rd.dup_row != SIZE_MAX) { /* complete the message with the first line */
    size_t len = strlen(err ? err->msg : "");
    int64_t first = first_line_of(path, ds, rd.order, rd.dup_row);
    if (err) snprintf(err->msg + len, sizeof err->msg - len, "%lld", (long long)first);
  }
  if (rd.status == OPE_OK && rd.in_header) {
    rd.rec_line = 1;
    fail(&rd, "the file is empty (a header row is required)");
  }
  for (size_t i = 0; i < n && rd.status == OPE_OK; i++)
    for (size_t r = ds->ep_offset[i]; r < ds->ep_offset[i + 1]; r++)
      if (isnan(out->prob[r])) {
        rd.status = ope_error_set(err, OPE_EDATA, path,
                                  "missing step: episode '%s' step %zu of dataset "
                                  "'%s' is not scored", ds->ep_label[i],
                                  r - ds->ep_offset[i], ds->name ? ds->name : "");
        break;
      }
  if (rd.status == OPE_OK) {
    if (sha256_hex) ope_sha256_hex(&sha, sha256_hex);
    out->n_steps = ds->n_steps;
    out->n_actions = A;
    out->action_dim = ds->action_dim;
  }
done:
  if (parser_ok) csv_free(&p);
  free(buf);
  fclose(f);
  reader_free(&rd);
  if (rd.status != OPE_OK) ope_policy_scores_clear(out);
  return rd.status;
}

/* ---- the policy wrapper ---- */

static ope_status scores_score(const ope_policy *p, const ope_dataset *ds,
                               ope_policy_scores *out, ope_error *err) {
  return ope_scores_csv_read(p->impl, ds, out, err);
}

static void scores_destroy(ope_policy *p) { free(p->impl); }

static const ope_policy_ops scores_ops = {
  .score = scores_score,
  .destroy = scores_destroy,
};

ope_status ope_scores_csv_policy(const char *path, const char *name,
                                 const ope_dataset *ds, ope_policy **out,
                                 ope_error *err) {
  char *impl = strdup(path);
  if (impl == NULL) return ope_error_nomem(err);
  *out = ope_policy_new(&scores_ops, name, ds->action_kind, 0, ds->n_actions,
                        ds->action_dim, impl, err);
  if (*out == NULL) {
    free(impl);
    return OPE_EINTERNAL;
  }
  return OPE_OK;
}

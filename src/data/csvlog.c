/* Streaming log-CSV reader and validator (csvlog.h).
 *
 * Input is fed to libcsv one physical line at a time so that every callback
 * knows the line it is on; a record's line is the line of its first field.
 * Plain lines skip libcsv (data/csvplain.h) with the same callbacks.
 * Numbers go through the strict decimal grammar of core/decimal.h. */
#include "data/csvlog.h"

#include "core/decimal.h"
#include "data/csvplain.h"

#include <csv.h>
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sha256.h"

enum role { R_EPISODE, R_STEP, R_OBS, R_ACTION, R_ACTION_VEC, R_REWARD,
            R_TERMINAL, R_PSCORE, R_NEXT_OBS };

typedef struct column {
  char *name;
  enum role role;
  int index; /* for vector roles */
} column;

/* A set of episode ids seen so far (open addressing, owned strings). */
typedef struct label_set {
  char **slot;
  int64_t *line;
  size_t cap, n;
} label_set;

typedef struct reader {
  const char *path;
  int n_actions_fixed;
  const ope_log_sink *sink;
  ope_error *err;
  ope_status status;
  int64_t line;          /* physical line being fed (1-based) */
  int64_t rec_line;      /* line of the current record's first field */
  int nfield;            /* fields seen in the current record */
  int in_header;
  column *cols;
  int ncols;
  ope_log_layout lay;
  /* the row being parsed */
  double *obs, *next_obs, *action_vec;
  int64_t step;
  int32_t action;
  double reward, pscore;
  int terminal;
  char *label;
  size_t label_cap;
  /* episode state */
  char *ep_label;
  size_t ep_label_cap;
  int64_t ep_index, ep_first_row, ep_len, last_step, ep_terminal_line;
  int have_episode;
  double ep_return;
  int max_action;
  int64_t rows, n_terminal;
  label_set seen;
} reader;

/* ---- errors ---- */

static void fail(reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *rd, const char *fmt, ...) {
  if (rd->status != OPE_OK) return;
  rd->status = OPE_EDATA;
  if (rd->err == NULL) return;
  rd->err->status = OPE_EDATA;
  snprintf(rd->err->where, sizeof rd->err->where, "%s:%lld", rd->path,
           (long long)rd->rec_line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rd->err->msg, sizeof rd->err->msg, fmt, ap);
  va_end(ap);
}

static void sink_failed(reader *rd, ope_status st) {
  if (rd->status == OPE_OK) rd->status = st;
}

/* Quote a field value for a message: printable, at most 40 characters. */
static const char *show(const char *s, char buf[64]) {
  size_t j = 0;
  for (size_t i = 0; s[i] && j < 44; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  if (strlen(s) > 44) { buf[41] = '.'; buf[42] = '.'; buf[43] = '.'; j = 44; }
  buf[j] = '\0';
  return buf;
}

/* ---- numbers ---- */

/* Integer: optional '-', digits only. 0 ok, 1 not an integer, 3 range. */
static int parse_int(const char *s, int64_t *out) {
  const char *p = s;
  int neg = *p == '-';
  if (*p == '-' || *p == '+') p++;
  if (!(*p >= '0' && *p <= '9')) return 1;
  uint64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (uint64_t)INT64_MAX / 10) return 3;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (*p) return 1;
  if (v > (uint64_t)INT64_MAX) return 3;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return 0;
}

/* ---- SHA-256 on the other core ----
 * The file's checksum costs about as much as parsing it, so a second thread
 * hashes each chunk while the first parses it (two buffers in turn). */

typedef struct hasher {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const char *data;
  size_t n;
  int pending, quit, started;
  ope_sha256 sha;
} hasher;

static void *hasher_main(void *arg) {
  hasher *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->pending && !h->quit) pthread_cond_wait(&h->cv, &h->mu);
    if (!h->pending) break;
    const char *data = h->data;
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    ope_sha256_update(&h->sha, data, n);
    pthread_mutex_lock(&h->mu);
    h->pending = 0;
    pthread_cond_broadcast(&h->cv);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

static void hasher_start(hasher *h) {
  ope_sha256_init(&h->sha);
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->pending = h->quit = 0;
  h->started = pthread_create(&h->thread, NULL, hasher_main, h) == 0;
}

/* Hash data[0..n) (inline when no thread could be started). Returns once the
 * previous chunk is done, so its buffer may be reused. */
static void hasher_submit(hasher *h, const char *data, size_t n) {
  if (!h->started) {
    ope_sha256_update(&h->sha, data, n);
    return;
  }
  pthread_mutex_lock(&h->mu);
  while (h->pending) pthread_cond_wait(&h->cv, &h->mu);
  h->data = data;
  h->n = n;
  h->pending = 1;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

/* Wait for the last chunk and stop the thread. */
static void hasher_stop(hasher *h) {
  if (h->started) {
    pthread_mutex_lock(&h->mu);
    while (h->pending) pthread_cond_wait(&h->cv, &h->mu);
    h->quit = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
  }
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
}

/* ---- the set of seen episode ids ---- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Returns the line it was first seen at, or 0 (and inserts); -1 on nomem. */
static int64_t label_seen(label_set *ls, const char *s, int64_t line) {
  if (ls->n * 2 >= ls->cap) {
    size_t ncap = ls->cap ? ls->cap * 2 : 1024;
    char **ns = calloc(ncap, sizeof *ns);
    int64_t *nl = calloc(ncap, sizeof *nl);
    if (ns == NULL || nl == NULL) { free(ns); free(nl); return -1; }
    for (size_t i = 0; i < ls->cap; i++) {
      if (!ls->slot[i]) continue;
      size_t j = hash_str(ls->slot[i]) & (ncap - 1);
      while (ns[j]) j = (j + 1) & (ncap - 1);
      ns[j] = ls->slot[i];
      nl[j] = ls->line[i];
    }
    free(ls->slot);
    free(ls->line);
    ls->slot = ns;
    ls->line = nl;
    ls->cap = ncap;
  }
  size_t j = hash_str(s) & (ls->cap - 1);
  while (ls->slot[j]) {
    if (strcmp(ls->slot[j], s) == 0) return ls->line[j];
    j = (j + 1) & (ls->cap - 1);
  }
  if ((ls->slot[j] = strdup(s)) == NULL) return -1;
  ls->line[j] = line;
  ls->n++;
  return 0;
}

static void label_set_free(label_set *ls) {
  for (size_t i = 0; i < ls->cap; i++) free(ls->slot[i]);
  free(ls->slot);
  free(ls->line);
}

/* ---- header ---- */

static int vector_index(const char *name, const char *prefix, int *idx) {
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) != 0) return 0;
  const char *p = name + n;
  if (!(*p >= '0' && *p <= '9') || (p[0] == '0' && p[1])) return 0;
  long v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (*p - '0');
    if (v > 1000000) return 0;
  }
  if (*p) return 0;
  *idx = (int)v;
  return 1;
}

/* No valid header has more columns than this (every other one would be a
 * duplicate or break a width limit); checked first so that a hostile header
 * of a million names costs nothing. */
#define MAX_COLUMNS (2 * OPE_MAX_OBS_DIM + OPE_MAX_ACTION_DIM + 6)

static int header_field(reader *rd, const char *name) {
  column c = {0};
  int idx = 0;
  if (rd->ncols >= MAX_COLUMNS) {
    fail(rd, "the header has more than %d columns (the limits are %d obs_, %d next_obs_ "
             "and %d action_ columns)", MAX_COLUMNS, OPE_MAX_OBS_DIM, OPE_MAX_OBS_DIM,
         OPE_MAX_ACTION_DIM);
    return -1;
  }
  if (strcmp(name, "episode") == 0) c.role = R_EPISODE;
  else if (strcmp(name, "step") == 0) c.role = R_STEP;
  else if (strcmp(name, "action") == 0) c.role = R_ACTION;
  else if (strcmp(name, "reward") == 0) c.role = R_REWARD;
  else if (strcmp(name, "terminal") == 0) c.role = R_TERMINAL;
  else if (strcmp(name, "pscore") == 0) c.role = R_PSCORE;
  else if (vector_index(name, "obs_", &idx)) c.role = R_OBS;
  else if (vector_index(name, "next_obs_", &idx)) c.role = R_NEXT_OBS;
  else if (vector_index(name, "action_", &idx)) c.role = R_ACTION_VEC;
  else {
    char b[64];
    fail(rd, "column '%s' is not a log column (expected episode, step, obs_K, "
             "action or action_K, reward, terminal, pscore, next_obs_K; "
             "column names are case-sensitive)", show(name, b));
    return -1;
  }
  c.index = idx;
  for (int i = 0; i < rd->ncols; i++)
    if (strcmp(rd->cols[i].name, name) == 0) {
      char b[64];
      fail(rd, "column '%s' appears twice in the header", show(name, b));
      return -1;
    }
  column *nc = realloc(rd->cols, (size_t)(rd->ncols + 1) * sizeof *nc);
  if (nc == NULL || (c.name = strdup(name)) == NULL) {
    if (nc) rd->cols = nc;
    rd->status = ope_error_nomem(rd->err);
    return -1;
  }
  rd->cols = nc;
  rd->cols[rd->ncols++] = c;
  return 0;
}

/* Check that vector columns are 0..k-1 without gaps; return k. */
static int vector_width(reader *rd, enum role r, const char *prefix, int limit) {
  int k = 0;
  for (int i = 0; i < rd->ncols; i++)
    if (rd->cols[i].role == r && rd->cols[i].index + 1 > k) k = rd->cols[i].index + 1;
  if (k > limit) {
    fail(rd, "%d %s columns is more than the limit of %d", k, prefix, limit);
    return -1;
  }
  for (int want = 0; want < k; want++) {
    int found = 0;
    for (int i = 0; i < rd->ncols; i++)
      found |= rd->cols[i].role == r && rd->cols[i].index == want;
    if (!found) {
      fail(rd, "column '%s%d' is missing (%s0..%s%d must all be present)",
           prefix, want, prefix, prefix, k - 1);
      return -1;
    }
  }
  return k;
}

static int has_role(reader *rd, enum role r) {
  for (int i = 0; i < rd->ncols; i++)
    if (rd->cols[i].role == r) return 1;
  return 0;
}

static void header_done(reader *rd) {
  if (rd->status != OPE_OK) return;
  static const struct { enum role r; const char *name; } required[] = {
    {R_EPISODE, "episode"}, {R_STEP, "step"}, {R_REWARD, "reward"}};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!has_role(rd, required[i].r)) {
      fail(rd, "required column '%s' is missing from the header", required[i].name);
      return;
    }
  int d = vector_width(rd, R_OBS, "obs_", OPE_MAX_OBS_DIM);
  if (d < 0) return;
  if (d == 0) {
    fail(rd, "required column 'obs_0' is missing from the header (at least one observation column)");
    return;
  }
  int nd = vector_width(rd, R_NEXT_OBS, "next_obs_", OPE_MAX_OBS_DIM);
  if (nd < 0) return;
  if (nd != 0 && nd != d) {
    fail(rd, "there are %d next_obs columns but %d obs columns (next_obs_0..next_obs_%d must match)",
         nd, d, d - 1);
    return;
  }
  int m = vector_width(rd, R_ACTION_VEC, "action_", OPE_MAX_ACTION_DIM);
  if (m < 0) return;
  int disc = has_role(rd, R_ACTION);
  if (disc && m > 0) {
    fail(rd, "both 'action' and 'action_0'.. columns are present (use one form: "
             "'action' for discrete, 'action_0'.. for continuous actions)");
    return;
  }
  if (!disc && m == 0) {
    fail(rd, "required column 'action' (discrete) or 'action_0'.. (continuous) is missing");
    return;
  }
  rd->lay.obs_dim = d;
  rd->lay.action_kind = disc ? OPE_ACTION_DISCRETE : OPE_ACTION_CONTINUOUS;
  rd->lay.action_dim = disc ? 1 : m;
  rd->lay.has_terminal = has_role(rd, R_TERMINAL);
  rd->lay.has_pscore = has_role(rd, R_PSCORE);
  rd->lay.has_next_obs = nd > 0;
  rd->obs = calloc((size_t)d, sizeof(double));
  rd->next_obs = calloc((size_t)d, sizeof(double));
  rd->action_vec = calloc((size_t)(m ? m : 1), sizeof(double));
  if (!rd->obs || !rd->next_obs || !rd->action_vec) {
    rd->status = ope_error_nomem(rd->err);
    return;
  }
  if (rd->sink && rd->sink->begin) {
    ope_status st = rd->sink->begin(rd->sink->ctx, &rd->lay, rd->err);
    if (st != OPE_OK) sink_failed(rd, st);
  }
}

/* ---- rows ---- */

static int set_text(char **dst, size_t *cap, const char *s, size_t len) {
  if (len + 1 > *cap) {
    size_t ncap = len + 64;
    char *n = realloc(*dst, ncap);
    if (n == NULL) return -1;
    *dst = n;
    *cap = ncap;
  }
  memcpy(*dst, s, len + 1);
  return 0;
}

static void data_field(reader *rd, const column *c, const char *s) {
  char b[64];
  int r;
  double v = 0.0;
  int64_t iv = 0;
  switch (c->role) {
  case R_EPISODE:
    if (set_text(&rd->label, &rd->label_cap, s, strlen(s)) != 0)
      rd->status = ope_error_nomem(rd->err);
    return;
  case R_STEP:
    r = parse_int(s, &iv);
    if (r != 0 || iv < 0)
      fail(rd, "column 'step': '%s' is not a whole number >= 0", show(s, b));
    rd->step = iv;
    return;
  case R_ACTION:
    r = parse_int(s, &iv);
    if (r != 0) {
      fail(rd, "column 'action': '%s' is not an integer (discrete actions are 0..A-1)", show(s, b));
    } else if (iv < 0) {
      fail(rd, "column 'action': %s is negative (discrete actions are 0..A-1)", show(s, b));
    } else if (rd->n_actions_fixed > 0 && iv >= rd->n_actions_fixed) {
      fail(rd, "column 'action': %s is not below A = %d (--actions)", show(s, b), rd->n_actions_fixed);
    } else if (iv >= OPE_MAX_ACTIONS) {
      fail(rd, "column 'action': %s is beyond the limit of %d actions", show(s, b), OPE_MAX_ACTIONS);
    }
    rd->action = (int32_t)iv;
    return;
  case R_TERMINAL:
    if (strcmp(s, "0") == 0) rd->terminal = 0;
    else if (strcmp(s, "1") == 0) rd->terminal = 1;
    else fail(rd, "column 'terminal': '%s' is not 0 or 1", show(s, b));
    return;
  default:
    break;
  }
  r = ope_decimal_parse(s, &v);
  if (r == 1) { fail(rd, "column '%s': '%s' is not a number", c->name, show(s, b)); return; }
  if (r == 2) { fail(rd, "column '%s': '%s' is not allowed (values must be finite numbers)", c->name, show(s, b)); return; }
  if (r == 3) { fail(rd, "column '%s': '%s' is out of the range of a double", c->name, show(s, b)); return; }
  switch (c->role) {
  case R_OBS: rd->obs[c->index] = v; break;
  case R_NEXT_OBS: rd->next_obs[c->index] = v; break;
  case R_ACTION_VEC: rd->action_vec[c->index] = v; break;
  case R_REWARD: rd->reward = v; break;
  case R_PSCORE:
    if (!(v > 0.0))
      fail(rd, "column 'pscore': %s is not a probability or density (must be > 0)", show(s, b));
    else if (rd->lay.action_kind == OPE_ACTION_DISCRETE && v > 1.0)
      fail(rd, "column 'pscore': %s is not a probability (discrete actions)", show(s, b));
    rd->pscore = v;
    break;
  default: break;
  }
}

static void end_episode(reader *rd) {
  if (!rd->have_episode || rd->status != OPE_OK) return;
  if (rd->sink && rd->sink->episode) {
    ope_status st = rd->sink->episode(rd->sink->ctx, rd->ep_label, rd->ep_first_row,
                                      rd->ep_len, rd->ep_terminal_line != 0,
                                      rd->ep_return, rd->err);
    if (st != OPE_OK) { sink_failed(rd, st); return; }
  }
  if (rd->ep_terminal_line) rd->n_terminal++;
  rd->ep_index++;
  rd->have_episode = 0;
}

static void data_row(reader *rd) {
  char b[64], b2[64];
  if (!rd->have_episode || strcmp(rd->label, rd->ep_label) != 0) {
    if (rd->have_episode) end_episode(rd);
    if (rd->status != OPE_OK) return;
    int64_t first = label_seen(&rd->seen, rd->label, rd->rec_line);
    if (first < 0) { rd->status = ope_error_nomem(rd->err); return; }
    if (first > 0) {
      fail(rd, "column 'episode': episode '%s' appears again after other episodes "
               "(first seen at line %lld; the rows of an episode must be contiguous)",
           show(rd->label, b), (long long)first);
      return;
    }
    if (rd->step != 0) {
      fail(rd, "column 'step': episode '%s' starts at step %lld, not 0",
           show(rd->label, b), (long long)rd->step);
      return;
    }
    if (set_text(&rd->ep_label, &rd->ep_label_cap, rd->label, strlen(rd->label)) != 0) {
      rd->status = ope_error_nomem(rd->err);
      return;
    }
    rd->have_episode = 1;
    rd->ep_first_row = rd->rows;
    rd->ep_len = 0;
    rd->ep_return = 0.0;
    rd->ep_terminal_line = 0;
  } else {
    if (rd->ep_terminal_line) {
      fail(rd, "episode '%s' continues after terminal = 1 at line %lld "
               "(only an episode's last row may be terminal)",
           show(rd->label, b), (long long)rd->ep_terminal_line);
      return;
    }
    if (rd->step != rd->last_step + 1) {
      fail(rd, "column 'step': episode '%s' goes from step %lld to %lld (steps must be 0, 1, 2, ... without gaps)",
           show(rd->label, b2), (long long)rd->last_step, (long long)rd->step);
      return;
    }
  }
  rd->last_step = rd->step;
  if (rd->terminal) rd->ep_terminal_line = rd->rec_line;
  if (rd->lay.action_kind == OPE_ACTION_DISCRETE && rd->action + 1 > rd->max_action)
    rd->max_action = rd->action + 1;
  rd->ep_return += rd->reward;
  if (rd->sink && rd->sink->step) {
    ope_log_step s = {
      .episode = rd->ep_index, .step = rd->step, .obs = rd->obs,
      .action = rd->action,
      .action_vec = rd->lay.action_kind == OPE_ACTION_CONTINUOUS ? rd->action_vec : NULL,
      .reward = rd->reward, .terminal = rd->terminal,
      .pscore = rd->lay.has_pscore ? rd->pscore : 0.0,
      .next_obs = rd->lay.has_next_obs ? rd->next_obs : NULL,
    };
    ope_status st = rd->sink->step(rd->sink->ctx, &s, rd->err);
    if (st != OPE_OK) { sink_failed(rd, st); return; }
  }
  rd->ep_len++;
  rd->rows++;
}

/* libcsv callbacks */

static void on_field(void *s, size_t len, void *data) {
  reader *rd = data;
  if (rd->status != OPE_OK) return;
  if (rd->nfield == 0) rd->rec_line = rd->line;
  int i = rd->nfield++;
  const char *text = s ? (const char *)s : "";
  if (s != NULL && strlen(text) != len) {
    fail(rd, "field %d contains a NUL byte", i + 1);
    return;
  }
  if (rd->in_header) {
    if (len == 0) { fail(rd, "header field %d is empty", i + 1); return; }
    header_field(rd, text);
    return;
  }
  if (i >= rd->ncols) return; /* counted; reported at the end of the row */
  if (len == 0) {
    fail(rd, "column '%s': the field is empty (every field needs a value)", rd->cols[i].name);
    return;
  }
  data_field(rd, &rd->cols[i], text);
}

static void on_row(int c, void *data) {
  reader *rd = data;
  (void)c;
  if (rd->status != OPE_OK) return;
  int n = rd->nfield;
  rd->nfield = 0;
  if (n == 0) return;
  if (rd->in_header) {
    rd->in_header = 0;
    header_done(rd);
    return;
  }
  if (n != rd->ncols) {
    fail(rd, "the row has %d fields but the header has %d", n, rd->ncols);
    return;
  }
  data_row(rd);
}

static void reader_free(reader *rd) {
  for (int i = 0; i < rd->ncols; i++) free(rd->cols[i].name);
  free(rd->cols);
  free(rd->obs);
  free(rd->next_obs);
  free(rd->action_vec);
  free(rd->label);
  free(rd->ep_label);
  label_set_free(&rd->seen);
}

ope_status ope_log_csv_read(const char *path, int n_actions,
                            const ope_log_sink *sink, ope_log_summary *out,
                            ope_error *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return ope_error_set(err, errno == ENOENT ? OPE_ENOINPUT : OPE_EIO, path,
                         "cannot open: %s", strerror(errno));
  reader rd = {0};
  rd.path = path;
  rd.n_actions_fixed = n_actions;
  rd.sink = sink;
  rd.err = err;
  rd.line = 1;
  rd.in_header = 1;
  struct csv_parser p;
  enum { CHUNK = 1 << 20 };
  char *bufs = malloc(2 * CHUNK + OPE_CSV_PLAIN_MAX);
  if (bufs == NULL || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
    free(bufs);
    fclose(f);
    return ope_error_nomem(err);
  }
  hasher sha;
  hasher_start(&sha);
  size_t n;
  int first = 1, which = 0;
  int64_t bytes = 0;
  char *buf = bufs, *scratch = bufs + 2 * CHUNK;
  while (rd.status == OPE_OK && (n = fread(buf, 1, CHUNK, f)) > 0) {
    hasher_submit(&sha, buf, n);
    bytes += (int64_t)n;
    char *q = buf, *end = buf + n;
    if (first) {
      first = 0;
      if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) q += 3; /* UTF-8 BOM */
    }
    while (q < end && rd.status == OPE_OK) {
      char *nl = memchr(q, '\n', (size_t)(end - q));
      size_t len = nl ? (size_t)(nl - q) + 1 : (size_t)(end - q);
      /* a plain line at a record boundary (libcsv's ROW_NOT_BEGUN is 0)
       * is split here; the buffer itself stays unwritten for the hasher */
      if (!(nl && p.pstate == 0 && rd.nfield == 0 &&
            ope_csv_plain_line(q, nl + 1, scratch, on_field, on_row, &rd)) &&
          csv_parse(&p, q, len, on_field, on_row, &rd) != len) {
        if (rd.nfield == 0 && rd.status == OPE_OK) rd.rec_line = rd.line;
        fail(&rd, "malformed CSV: %s", csv_strerror(csv_error(&p)));
      }
      q += len;
      if (nl) rd.line++;
    }
    which ^= 1;
    buf = bufs + (size_t)which * CHUNK;
  }
  hasher_stop(&sha);
  if (rd.status == OPE_OK && ferror(f))
    rd.status = ope_error_set(err, OPE_EIO, path, "read error: %s", strerror(errno));
  if (rd.status == OPE_OK && csv_fini(&p, on_field, on_row, &rd) != 0) {
    rd.rec_line = rd.line;
    fail(&rd, "malformed CSV at the end of the file: %s", csv_strerror(csv_error(&p)));
  }
  if (rd.status == OPE_OK && bytes == 0) {
    rd.rec_line = 1;
    fail(&rd, "the file is empty (a header row is required)");
  }
  if (rd.status == OPE_OK && rd.in_header) {
    rd.rec_line = 1;
    fail(&rd, "the file has no header row");
  }
  if (rd.status == OPE_OK && rd.rows == 0) {
    rd.rec_line = rd.line;
    fail(&rd, "the file has a header but no data rows");
  }
  end_episode(&rd);
  csv_free(&p);
  free(bufs);
  fclose(f);
  if (rd.status == OPE_OK) {
    out->layout = rd.lay;
    out->n_actions = rd.lay.action_kind == OPE_ACTION_DISCRETE
                         ? (n_actions > 0 ? n_actions : rd.max_action) : 0;
    out->n_episodes = rd.ep_index;
    out->n_steps = rd.rows;
    out->n_terminal = rd.n_terminal;
    ope_sha256_hex(&sha.sha, out->sha256);
  }
  ope_status st = rd.status;
  reader_free(&rd);
  return st;
}

/* ---- in-memory sink ---- */

typedef struct mem_sink {
  ope_log_layout lay;
  size_t cap_rows, cap_eps, rows, eps;
  double *obs, *next_obs, *action_vec, *reward, *pscore;
  int32_t *action;
  uint8_t *terminal;
  size_t *ep_first;
  char **labels;
} mem_sink;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t ncap = *cap ? *cap : 256;
  while (ncap < need) ncap *= 2;
  void *n = realloc(*p, ncap * elem);
  if (n == NULL) return -1;
  *p = n;
  return 1;
}

static ope_status mem_begin(void *ctx, const ope_log_layout *lay, ope_error *err) {
  ((mem_sink *)ctx)->lay = *lay;
  return OPE_OK;
}

static ope_status mem_step(void *ctx, const ope_log_step *s, ope_error *err) {
  mem_sink *m = ctx;
  size_t d = (size_t)m->lay.obs_dim, a = (size_t)m->lay.action_dim, need = m->rows + 1;
  if (need > m->cap_rows) {
    size_t c = m->cap_rows, ncap = c ? 2 * c : 256;
    size_t tmp;
    int bad = 0;
    tmp = c; bad |= grow((void **)&m->obs, &tmp, ncap, d * sizeof(double)) < 0;
    tmp = c; bad |= grow((void **)&m->next_obs, &tmp, ncap, d * sizeof(double)) < 0;
    tmp = c; bad |= grow((void **)&m->action_vec, &tmp, ncap, a * sizeof(double)) < 0;
    tmp = c; bad |= grow((void **)&m->reward, &tmp, ncap, sizeof(double)) < 0;
    tmp = c; bad |= grow((void **)&m->pscore, &tmp, ncap, sizeof(double)) < 0;
    tmp = c; bad |= grow((void **)&m->action, &tmp, ncap, sizeof(int32_t)) < 0;
    tmp = c; bad |= grow((void **)&m->terminal, &tmp, ncap, 1) < 0;
    if (bad) return ope_error_nomem(err);
    m->cap_rows = ncap;
  }
  size_t r = m->rows++;
  memcpy(m->obs + r * d, s->obs, d * sizeof(double));
  if (s->next_obs) memcpy(m->next_obs + r * d, s->next_obs, d * sizeof(double));
  if (s->action_vec) memcpy(m->action_vec + r * a, s->action_vec, a * sizeof(double));
  m->reward[r] = s->reward;
  m->pscore[r] = s->pscore;
  m->action[r] = s->action;
  m->terminal[r] = (uint8_t)s->terminal;
  return OPE_OK;
}

static ope_status mem_episode(void *ctx, const char *label, int64_t first_row,
                              int64_t length, int terminal, double ret,
                              ope_error *err) {
  mem_sink *m = ctx;
  if (m->eps + 1 > m->cap_eps) {
    size_t c = m->cap_eps, ncap = c ? 2 * c : 64, tmp = c;
    if (grow((void **)&m->ep_first, &tmp, ncap, sizeof(size_t)) < 0) return ope_error_nomem(err);
    tmp = c;
    if (grow((void **)&m->labels, &tmp, ncap, sizeof(char *)) < 0) return ope_error_nomem(err);
    m->cap_eps = ncap;
  }
  m->ep_first[m->eps] = (size_t)first_row;
  if ((m->labels[m->eps] = strdup(label)) == NULL) return ope_error_nomem(err);
  m->eps++;
  return OPE_OK;
}

static void mem_free(mem_sink *m) {
  for (size_t i = 0; i < m->eps; i++) free(m->labels[i]);
  free(m->labels);
  free(m->ep_first);
  free(m->obs);
  free(m->next_obs);
  free(m->action_vec);
  free(m->reward);
  free(m->pscore);
  free(m->action);
  free(m->terminal);
}

ope_status ope_log_csv_load(const char *path, int n_actions, ope_dataset **out,
                            ope_error *err) {
  *out = NULL;
  mem_sink m = {0};
  ope_log_sink sink = {&m, mem_begin, mem_step, mem_episode};
  ope_log_summary sum;
  ope_status st = ope_log_csv_read(path, n_actions, &sink, &sum, err);
  if (st != OPE_OK) {
    mem_free(&m);
    return st;
  }
  const ope_log_layout *L = &sum.layout;
  ope_dataset *ds = ope_dataset_alloc(m.eps, m.rows, L->obs_dim, L->action_kind,
                                      sum.n_actions, L->action_dim, L->has_next_obs,
                                      L->has_pscore, err);
  if (ds == NULL) {
    mem_free(&m);
    return err ? err->status : OPE_EINTERNAL;
  }
  size_t d = (size_t)L->obs_dim, a = (size_t)L->action_dim;
  memcpy(ds->obs, m.obs, m.rows * d * sizeof(double));
  if (ds->next_obs) memcpy(ds->next_obs, m.next_obs, m.rows * d * sizeof(double));
  if (ds->action) memcpy(ds->action, m.action, m.rows * sizeof(int32_t));
  if (ds->action_vec) memcpy(ds->action_vec, m.action_vec, m.rows * a * sizeof(double));
  memcpy(ds->reward, m.reward, m.rows * sizeof(double));
  memcpy(ds->terminal, m.terminal, m.rows);
  if (ds->pscore) memcpy(ds->pscore, m.pscore, m.rows * sizeof(double));
  for (size_t e = 0; e < m.eps; e++) {
    ds->ep_offset[e] = m.ep_first[e];
    ds->ep_label[e] = m.labels[e];
    m.labels[e] = NULL;
  }
  ds->ep_offset[m.eps] = m.rows;
  mem_free(&m);
  *out = ds;
  return OPE_OK;
}

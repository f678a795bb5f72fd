/* Log CSV writer (csvwrite.h). Rows are built in a buffer and written with
 * fwrite; numbers come from numfmt.h. */
#include "data/csvwrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"

static char *put_str(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

static char *put_num(char *p, double x) { return p + ope_numfmt_double(p, x); }

static char *put_vec(char *p, const double *v, int n) {
  for (int j = 0; j < n; j++) {
    *p++ = ',';
    p = put_num(p, v[j]);
  }
  return p;
}

/* A label quoted per RFC 4180 when it holds a comma, quote or line break. */
static size_t put_label(char *p, const char *s) {
  size_t len = strlen(s);
  int edge_space = len && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t');
  if (strpbrk(s, ",\"\r\n") == NULL && !edge_space) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return n;
  }
  char *q = p;
  *q++ = '"';
  for (; *s; s++) {
    if (*s == '"') *q++ = '"';
    *q++ = *s;
  }
  *q++ = '"';
  return (size_t)(q - p);
}

ope_status ope_log_csv_write(const ope_dataset *ds, FILE *f, const char *path,
                             ope_error *err) {
  int d = ds->obs_dim, m = ds->action_dim;
  int disc = ds->action_kind == OPE_ACTION_DISCRETE;
  /* header */
  fputs("episode,step", f);
  for (int j = 0; j < d; j++) fprintf(f, ",obs_%d", j);
  if (disc) fputs(",action", f);
  else
    for (int j = 0; j < m; j++) fprintf(f, ",action_%d", j);
  fputs(",reward,terminal", f);
  if (ds->pscore) fputs(",pscore", f);
  if (ds->next_obs)
    for (int j = 0; j < d; j++) fprintf(f, ",next_obs_%d", j);
  fputc('\n', f);

  size_t maxlabel = 32;
  for (size_t e = 0; e < ds->n_episodes; e++)
    if (ds->ep_label && ds->ep_label[e] && 2 * strlen(ds->ep_label[e]) + 3 > maxlabel)
      maxlabel = 2 * strlen(ds->ep_label[e]) + 3;
  size_t rowmax = maxlabel + 64 + (size_t)(2 * d + m + 4) * (OPE_NUMFMT_MAX + 1);
  char *row = malloc(rowmax);
  if (row == NULL) return ope_error_nomem(err);
  for (size_t e = 0; e < ds->n_episodes; e++) {
    char idx[24];
    const char *lab = ds->ep_label && ds->ep_label[e] ? ds->ep_label[e] : NULL;
    if (lab == NULL) {
      ope_numfmt_int(idx, (long long)e);
      lab = idx;
    }
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      char *p = row;
      p += put_label(p, lab);
      *p++ = ',';
      p += ope_numfmt_int(p, (long long)(t - ds->ep_offset[e]));
      p = put_vec(p, ds->obs + t * (size_t)d, d);
      if (disc) {
        *p++ = ',';
        p += ope_numfmt_int(p, ds->action[t]);
      } else {
        p = put_vec(p, ds->action_vec + t * (size_t)m, m);
      }
      *p++ = ',';
      p = put_num(p, ds->reward[t]);
      p = put_str(p, ds->terminal[t] ? ",1" : ",0");
      if (ds->pscore) {
        *p++ = ',';
        p = put_num(p, ds->pscore[t]);
      }
      if (ds->next_obs) p = put_vec(p, ds->next_obs + t * (size_t)d, d);
      *p++ = '\n';
      if (fwrite(row, 1, (size_t)(p - row), f) != (size_t)(p - row)) {
        free(row);
        return ope_error_set(err, OPE_EIO, path, "write error: %s", strerror(errno));
      }
    }
  }
  free(row);
  if (fflush(f) != 0 || ferror(f))
    return ope_error_set(err, OPE_EIO, path, "write error: %s", strerror(errno));
  return OPE_OK;
}

/* Streaming JSON writer (json.h). */
#include "reports/json.h"

#include <math.h>

#include "data/numfmt.h"

void ope_json_init(ope_json *j, FILE *f, int pretty) {
  j->f = f;
  j->pretty = pretty;
  j->depth = 0;
  j->count[0] = 0;
  j->after_key = 0;
}

static void indent(ope_json *j) {
  if (!j->pretty) return;
  fputc('\n', j->f);
  for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

/* Separator and indentation before a value or a key. */
static void before_item(ope_json *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth > 0) {
    if (j->count[j->depth]++) fputc(',', j->f);
    indent(j);
  }
}

void ope_json_write_string(FILE *f, const char *s) {
  static const char hex[] = "0123456789abcdef";
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        fputs("\\u00", f);
        fputc(hex[*p >> 4], f);
        fputc(hex[*p & 15], f);
      } else {
        fputc(*p, f);
      }
    }
  }
  fputc('"', f);
}

static void open_scope(ope_json *j, char c) {
  before_item(j);
  fputc(c, j->f);
  if (j->depth + 1 < OPE_JSON_MAX_DEPTH) j->depth++;
  j->count[j->depth] = 0;
}

static void close_scope(ope_json *j, char c) {
  int had = j->count[j->depth];
  if (j->depth > 0) j->depth--;
  if (had) indent(j);
  fputc(c, j->f);
}

void ope_json_begin_object(ope_json *j) { open_scope(j, '{'); }
void ope_json_end_object(ope_json *j) { close_scope(j, '}'); }
void ope_json_begin_array(ope_json *j) { open_scope(j, '['); }
void ope_json_end_array(ope_json *j) { close_scope(j, ']'); }

void ope_json_key(ope_json *j, const char *key) {
  before_item(j);
  ope_json_write_string(j->f, key);
  fputs(j->pretty ? ": " : ":", j->f);
  j->after_key = 1;
}

void ope_json_string(ope_json *j, const char *s) {
  before_item(j);
  if (s == NULL) fputs("null", j->f);
  else ope_json_write_string(j->f, s);
}

void ope_json_number(ope_json *j, double x) {
  before_item(j);
  if (!isfinite(x)) {
    fputs("null", j->f);
    return;
  }
  char buf[OPE_NUMFMT_MAX];
  ope_numfmt_double(buf, x);
  fputs(buf, j->f);
}

void ope_json_int(ope_json *j, long long v) {
  before_item(j);
  fprintf(j->f, "%lld", v);
}

void ope_json_bool(ope_json *j, int b) {
  before_item(j);
  fputs(b ? "true" : "false", j->f);
}

void ope_json_null(ope_json *j) {
  before_item(j);
  fputs("null", j->f);
}

void ope_json_finish(ope_json *j) { fputc('\n', j->f); }

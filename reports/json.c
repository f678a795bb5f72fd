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

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the bytes are not one. */
static int utf8_len(const unsigned char *p) {
  unsigned char c = p[0];
  int n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return 0;
  if (c == 0xE0) lo = 0xA0;
  else if (c == 0xED) hi = 0x9F;
  else if (c == 0xF0) lo = 0x90;
  else if (c == 0xF4) hi = 0x8F;
  if (p[1] < lo || p[1] > hi) return 0;
  for (int i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
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
      } else if (*p < 0x80) {
        fputc(*p, f);
      } else {
        /* JSON is UTF-8: a byte that starts no valid sequence (a name
         * or path in another encoding) becomes U+FFFD. */
        int n = utf8_len(p);
        if (n == 0) {
          fputs("\\ufffd", f);
        } else {
          fwrite(p, 1, (size_t)n, f);
          p += n - 1;
        }
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

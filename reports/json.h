/* A small streaming JSON writer onto a FILE*, for every `--json` output and
 * the JSON report format.
 *
 * Numbers are written as the shortest decimal that reads back to the same
 * double (C locale); a non-finite number is written as null, never as NaN or
 * Infinity, so the output always parses. Strings are escaped per RFC 8259
 * (control characters as \u00XX); bytes >= 0x80 pass through (UTF-8). */
#ifndef OPE_REPORTS_JSON_H
#define OPE_REPORTS_JSON_H

#include <stdio.h>

#define OPE_JSON_MAX_DEPTH 32

typedef struct ope_json {
  FILE *f;
  int pretty;                     /* indent with two spaces */
  int depth;
  int count[OPE_JSON_MAX_DEPTH];  /* items written at each depth */
  int after_key;
} ope_json;

/* Start writing to f; pretty != 0 indents. */
void ope_json_init(ope_json *j, FILE *f, int pretty);
void ope_json_begin_object(ope_json *j);
void ope_json_end_object(ope_json *j);
void ope_json_begin_array(ope_json *j);
void ope_json_end_array(ope_json *j);
/* The key of the next member (inside an object). */
void ope_json_key(ope_json *j, const char *key);
/* A string value; NULL writes null. */
void ope_json_string(ope_json *j, const char *s);
/* A number; non-finite writes null. */
void ope_json_number(ope_json *j, double x);
void ope_json_int(ope_json *j, long long v);
void ope_json_bool(ope_json *j, int b);
void ope_json_null(ope_json *j);
/* Finish the document: a newline after the top-level value. */
void ope_json_finish(ope_json *j);

/* Write s as a JSON string literal (quotes included) to f. */
void ope_json_write_string(FILE *f, const char *s);

#endif

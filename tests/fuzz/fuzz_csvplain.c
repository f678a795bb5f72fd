/* libFuzzer target: the plain-line splitter (src/data/csvplain.h) against
 * libcsv itself. Every '\n'-terminated line of the input that the splitter
 * takes must give exactly the fields libcsv gives for that line with the
 * readers' options (same count, same NULL fields, same bytes, one record at
 * most); lines it declines are not compared. */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "data/csvplain.h"
#include "fuzz_common.h"

enum { MAX_FIELDS = 256 };

typedef struct fields {
  int n, rows, overflow;
  size_t len[MAX_FIELDS];
  int null[MAX_FIELDS];
  char *text[MAX_FIELDS];
} fields;

static void on_field(void *s, size_t len, void *ctx) {
  fields *f = ctx;
  if (f->n == MAX_FIELDS) {
    f->overflow = 1;
    return;
  }
  f->null[f->n] = s == NULL;
  f->len[f->n] = len;
  f->text[f->n] = malloc(len + 1);
  if (f->text[f->n] == NULL) abort();
  if (s) memcpy(f->text[f->n], s, len + 1); /* both NUL-terminate */
  f->n++;
}

static void on_row(int c, void *ctx) {
  (void)c;
  ((fields *)ctx)->rows++;
}

static void clear(fields *f) {
  for (int i = 0; i < f->n; i++) free(f->text[i]);
  memset(f, 0, sizeof *f);
}

static char scratch[OPE_CSV_PLAIN_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *q = (const char *)data, *end = q + size;
  fields a = {0}, b = {0};
  while (q < end) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    if (nl == NULL) break;
    if (ope_csv_plain_line(q, nl + 1, scratch, on_field, on_row, &a)) {
      struct csv_parser p;
      if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL))
        abort();
      size_t len = (size_t)(nl + 1 - q);
      FUZZ_CHECK(csv_parse(&p, q, len, on_field, on_row, &b) == len);
      FUZZ_CHECK(csv_fini(&p, on_field, on_row, &b) == 0);
      csv_free(&p);
      if (!a.overflow && !b.overflow) {
        FUZZ_CHECK(a.rows == b.rows && a.rows <= 1);
        FUZZ_CHECK(a.n == b.n);
        for (int i = 0; i < a.n; i++) {
          FUZZ_CHECK(a.null[i] == b.null[i] && a.len[i] == b.len[i]);
          FUZZ_CHECK(a.null[i] || memcmp(a.text[i], b.text[i], a.len[i] + 1) == 0);
        }
      }
    }
    clear(&a);
    clear(&b);
    q = nl + 1;
  }
  return 0;
}

/* Golden files: every report kind (rank, audit, bench) in every format
 * (text, md, csv, json, html) rendered from fixed hand-made reports and
 * compared byte for byte with tests/golden/<kind>.<ext>.
 *
 * The golden files change only on purpose: run the test with
 * OPE_REGEN_GOLDEN=1 to rewrite them from the current renderers, then
 * review the diff. Otherwise a difference fails the test and prints the
 * first differing line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixture.h"

static const char *const ext[] = {"txt", "md", "csv", "json", "html"};
static const char *const kind[] = {"rank", "audit", "bench"};

/* Render into memory. */
static char *render(const ope_report *r, ope_report_format f, size_t *len) {
  char *buf = NULL;
  FILE *m = open_memstream(&buf, len);
  assert_non_null(m);
  assert_int_equal(ope_report_write(r, f, m, NULL), OPE_OK);
  fclose(m);
  return buf;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  *len = fread(buf, 1, (size_t)n, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

static void first_difference(const char *a, size_t na, const char *b, size_t nb) {
  size_t i = 0, line = 1, start = 0;
  while (i < na && i < nb && a[i] == b[i]) {
    if (a[i] == '\n') { line++; start = i + 1; }
    i++;
  }
  print_error("first difference on line %zu:\n  got:  %.*s\n  want: %.*s\n", line,
              (int)strcspn(a + start, "\n"), a + start, (int)strcspn(b + start, "\n"),
              b + start);
}

static void check_kind(int k) {
  ope_report r;
  int (*make[])(ope_report *) = {fixture_rank, fixture_audit, fixture_bench};
  assert_int_equal(make[k](&r), 0);
  int regen = getenv("OPE_REGEN_GOLDEN") && strcmp(getenv("OPE_REGEN_GOLDEN"), "1") == 0;
  for (int f = 0; f < 5; f++) {
    char path[512];
    size_t n_got, n_want = 0;
    snprintf(path, sizeof path, "%s/tests/golden/%s.%s", OPE_SOURCE_ROOT, kind[k], ext[f]);
    char *got = render(&r, (ope_report_format)f, &n_got);
    /* Rendering twice gives the same bytes. */
    size_t n_again;
    char *again = render(&r, (ope_report_format)f, &n_again);
    assert_int_equal(n_got, n_again);
    assert_memory_equal(got, again, n_got);
    free(again);
    if (regen) {
      FILE *o = fopen(path, "wb");
      assert_non_null(o);
      fwrite(got, 1, n_got, o);
      fclose(o);
      free(got);
      continue;
    }
    char *want = slurp(path, &n_want);
    if (want == NULL) {
      print_error("missing %s (run with OPE_REGEN_GOLDEN=1 to create it)\n", path);
      free(got);
      fail();
    }
    if (n_got != n_want || memcmp(got, want, n_got) != 0) {
      print_error("%s differs from the renderer's output\n", path);
      first_difference(got, n_got, want, n_want);
      free(got);
      free(want);
      fail();
    }
    free(got);
    free(want);
  }
  ope_report_clear(&r);
}

static void golden_rank(void **state) { (void)state; check_kind(0); }
static void golden_audit(void **state) { (void)state; check_kind(1); }
static void golden_bench(void **state) { (void)state; check_kind(2); }

/* The text format keeps a gated candidate's flag, an undefined value and
 * the cells' notes visible, and JSON spells non-finite numbers as null. */
static void content_checks(void **state) {
  (void)state;
  ope_report r;
  size_t n;
  assert_int_equal(fixture_rank(&r), 0);
  char *txt = render(&r, OPE_FORMAT_TEXT, &n);
  assert_non_null(strstr(txt, "unreliable"));
  assert_non_null(strstr(txt, "undefined"));
  assert_non_null(strstr(txt, "verdict: gridworld:expert ranks first"));
  /* a cell's note (here why FQE is undefined) is printed, in every format */
  assert_non_null(strstr(txt, "note 1: no fixed point"));
  free(txt);
  txt = render(&r, OPE_FORMAT_MD, &n);
  assert_non_null(strstr(txt, "- note 1: no fixed point"));
  free(txt);
  char *js = render(&r, OPE_FORMAT_JSON, &n);
  assert_null(strstr(js, "nan"));
  assert_null(strstr(js, "NaN"));
  assert_non_null(strstr(js, "\"estimate\": null"));
  assert_non_null(strstr(js, "\"cql \\\"a<b&c\\\", alpha=1\""));
  free(js);
  char *html = render(&r, OPE_FORMAT_HTML, &n);
  assert_non_null(strstr(html, "cql &quot;a&lt;b&amp;c&quot;, alpha=1"));
  assert_null(strstr(html, "http://") == NULL ? NULL : strstr(html, "src=\"http"));
  free(html);
  /* malformed UTF-8 and control characters never reach the page */
  snprintf(r.pol[2].name, sizeof r.pol[2].name, "bad\xff\xc3(\x01)\xc3\xa9");
  html = render(&r, OPE_FORMAT_HTML, &n);
  assert_non_null(strstr(html, "bad?" "?()\xc3\xa9"));
  free(html);
  char *csv = render(&r, OPE_FORMAT_CSV, &n);
  assert_non_null(strstr(csv, "\"cql \"\"a<b&c\"\", alpha=1\""));
  free(csv);
  ope_report_clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(golden_rank),
    cmocka_unit_test(golden_audit),
    cmocka_unit_test(golden_bench),
    cmocka_unit_test(content_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

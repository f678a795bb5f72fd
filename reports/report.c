/* The report's storage and the format dispatcher (report.h). */
#include "reports/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"

const char *const ope_bench_metric_names[OPE_BENCH_N_METRICS] = {
  "spearman", "kendall", "regret@1", "regret@5", "abs_error", "coverage",
};

static const char *const format_names[] = {"text", "md", "csv", "json", "html"};

int ope_report_format_parse(const char *name) {
  for (int i = 0; i < 5; i++)
    if (strcmp(name, format_names[i]) == 0) return i;
  return -1;
}

const char *ope_report_format_name(ope_report_format f) {
  return (unsigned)f < 5 ? format_names[f] : "?";
}

ope_status ope_report_alloc(ope_report *r, size_t n_est, size_t n_pol,
                            int with_beats, size_t horizon, ope_error *err) {
  r->n_est = n_est;
  r->n_pol = n_pol;
  r->horizon = horizon;
  r->est = calloc(n_est ? n_est : 1, sizeof *r->est);
  r->pol = calloc(n_pol ? n_pol : 1, sizeof *r->pol);
  if (!r->est || !r->pol) goto nomem;
  for (size_t p = 0; p < n_pol; p++) {
    r->pol[p].cell = calloc(n_est ? n_est : 1, sizeof(ope_report_cell));
    if (!r->pol[p].cell) goto nomem;
    r->pol[p].p_best = NAN;
    r->pol[p].score = NAN;
  }
  if (with_beats) {
    r->beats = malloc((n_pol ? n_pol * n_pol : 1) * sizeof(double));
    if (!r->beats) goto nomem;
    for (size_t i = 0; i < n_pol * n_pol; i++) r->beats[i] = NAN;
    r->agree = malloc((n_est ? n_est * n_est : 1) * sizeof(double));
    if (!r->agree) goto nomem;
    for (size_t i = 0; i < n_est * n_est; i++) r->agree[i] = NAN;
  }
  if (horizon > 0) {
    r->step_target = calloc(horizon, sizeof(double));
    r->step_behavior = calloc(horizon, sizeof(double));
    if (!r->step_target || !r->step_behavior) goto nomem;
  }
  if (r->kind == OPE_REPORT_BENCH) {
    r->score = calloc((n_est ? n_est : 1) * OPE_BENCH_N_METRICS, sizeof *r->score);
    if (!r->score) goto nomem;
  }
  return OPE_OK;
nomem:
  ope_report_clear(r);
  return ope_error_nomem(err);
}

void ope_report_clear(ope_report *r) {
  if (r == NULL) return;
  for (size_t p = 0; r->pol && p < r->n_pol; p++) free(r->pol[p].cell);
  free(r->pol);
  free(r->est);
  free(r->beats);
  free(r->agree);
  free(r->step_target);
  free(r->step_behavior);
  free(r->score);
  free(r->notes);
  memset(r, 0, sizeof *r);
}

void ope_report_note(ope_report *r, const char *fmt, ...) {
  char (*grown)[OPE_REPORT_NOTE] = realloc(r->notes, (r->n_notes + 1) * sizeof *r->notes);
  if (grown == NULL) return; /* a lost note is better than a lost report */
  r->notes = grown;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->notes[r->n_notes], OPE_REPORT_NOTE, fmt, ap);
  va_end(ap);
  r->n_notes++;
}

const char *ope_report_num(char *buf, double x) {
  if (!isfinite(x)) {
    strcpy(buf, "-");
    return buf;
  }
  if (x == 0) x = 0.0; /* no "-0" */
  snprintf(buf, 32, "%.4g", x);
  return buf;
}

const char *ope_report_exact(char *buf, double x) {
  if (!isfinite(x)) {
    buf[0] = '\0';
    return buf;
  }
  ope_numfmt_double(buf, x == 0 ? 0.0 : x);
  return buf;
}

ope_status ope_report_write(const ope_report *r, ope_report_format f,
                            FILE *out, ope_error *err) {
  switch (f) {
  case OPE_FORMAT_TEXT: ope_report_write_text(r, 0, out); break;
  case OPE_FORMAT_MD: ope_report_write_text(r, 1, out); break;
  case OPE_FORMAT_CSV: ope_report_write_csv(r, out); break;
  case OPE_FORMAT_JSON: ope_report_write_json(r, out); break;
  case OPE_FORMAT_HTML: ope_report_write_html(r, out); break;
  default:
    return ope_error_set(err, OPE_EUSAGE, NULL, "unknown report format");
  }
  if (fflush(out) != 0 || ferror(out))
    return ope_error_set(err, OPE_EIO, NULL, "writing the report failed");
  return OPE_OK;
}

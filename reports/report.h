/* The report: everything `ope rank`, `ope audit` and `ope bench` show, as
 * plain data, and its rendering into text, Markdown, CSV, JSON and HTML.
 *
 * A report is filled by the code that computed it (joint.h for rank and
 * audit, bench.h for the scorecard) and rendered by ope_report_write();
 * formats never compute and numbers never know about formats. Every report
 * carries what is needed to reproduce it byte for byte: the dataset's
 * source SHA-256, each policy's SHA-256, the settings, the seed and the ope
 * version. The body holds no clock time unless it came from a stored run.
 *
 * Rendering is deterministic: numbers in text, Markdown and HTML use a fixed
 * number of significant digits ("%.4g" style, C locale), CSV and JSON the
 * shortest round-trip form; non-finite numbers are empty (CSV), null (JSON)
 * or a dash. */
#ifndef OPE_REPORTS_REPORT_H
#define OPE_REPORTS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "estimators/diagnostics.h"

typedef enum ope_report_kind {
  OPE_REPORT_RANK = 0,
  OPE_REPORT_AUDIT,
  OPE_REPORT_BENCH,
} ope_report_kind;

typedef enum ope_report_format {
  OPE_FORMAT_TEXT = 0,
  OPE_FORMAT_MD,
  OPE_FORMAT_CSV,
  OPE_FORMAT_JSON,
  OPE_FORMAT_HTML,
} ope_report_format;

/* "text", "md", "csv", "json", "html" <-> format; -1 when unknown. */
int ope_report_format_parse(const char *name);
const char *ope_report_format_name(ope_report_format f);

#define OPE_REPORT_NAME 128
#define OPE_REPORT_NOTE 256

/* One estimator on one policy. */
typedef struct ope_report_cell {
  int defined;
  double value;
  int has_ci;
  double ci_low, ci_high;
  char ci_method[16];
  int unreliable;
  char note[OPE_REPORT_NOTE];
  /* bench: the truth is known */
} ope_report_cell;

/* One candidate policy. */
typedef struct ope_report_policy {
  char name[OPE_REPORT_NAME];
  char algo[32];            /* "reference", "cql", ... or empty */
  char settings[1024];      /* JSON object text or empty */
  char sha256[65];
  double bandwidth;         /* kernel bandwidth, 0 when none */
  /* diagnostics (has_diag 0: not computed) */
  int has_diag;
  double ess, ess_frac, max_share, zero_frac, ess_step_min;
  double quantiles[OPE_DIAG_N_QUANTILES];
  int support_kind;         /* as in ope_diagnostics */
  size_t support_rows;
  double support_frac, support_median_bw;
  int unreliable;
  char reason[OPE_REPORT_NOTE];
  ope_report_cell *cell;    /* (n_est) */
  /* ranking (rank reports), 1-based; 0 when not ranked */
  int rank;
  double score;
  int has_rank_ci, rank_lo, rank_hi;
  double p_best;
  int top_set, gated;
  /* bench: the true value */
  int has_truth;
  double truth;
  char truth_method[16];
} ope_report_policy;

/* A scorecard line: one metric of one estimator, mean and interval over
 * seeds. */
typedef struct ope_report_stat {
  double mean, lo, hi;
  size_t n;                 /* seeds where it was defined */
} ope_report_stat;

enum { OPE_BENCH_SPEARMAN = 0, OPE_BENCH_KENDALL, OPE_BENCH_REGRET1,
       OPE_BENCH_REGRET5, OPE_BENCH_ABS_ERROR, OPE_BENCH_COVERAGE,
       OPE_BENCH_N_METRICS };
extern const char *const ope_bench_metric_names[OPE_BENCH_N_METRICS];

typedef struct ope_report {
  ope_report_kind kind;
  /* what and how */
  char dataset[OPE_REPORT_NAME];
  char dataset_source[256];
  char dataset_sha256[65];  /* of the source file, when known */
  char data_sha256[65];     /* of the loaded data itself (joint.h) */
  size_t n_episodes, n_steps, horizon;
  double gamma, alpha, clip;
  char ci_method[16];
  int n_boot;
  uint64_t seed;
  char propensities[16];    /* logged / estimated */
  char ope_version[32];
  int64_t run_id;           /* stored evaluation, 0 when fresh */
  char created_at[32];      /* the stored run's time, else empty */
  char rank_estimator[16];  /* rank: the estimator ranked by */
  int by_lower;
  /* estimators (columns) and policies (rows) */
  size_t n_est;
  char (*est)[16];          /* (n_est) names */
  size_t n_pol;
  ope_report_policy *pol;   /* (n_pol); rank reports: in rank order */
  double *beats;            /* (n_pol, n_pol) P(row beats column) in pol order, or NULL */
  double *agree;            /* (n_est, n_est) Kendall tau between two estimators'
                               orderings of the policies, or NULL */
  /* audit */
  int has_behavior;
  double behavior_value, behavior_lo, behavior_hi;
  double *step_target;      /* (horizon) PDIS per-step term g^t mean_i w_t r_t */
  double *step_behavior;    /* (horizon) g^t mean_i r_t over logged episodes */
  /* bench */
  char env[128];
  char regime[64];
  int n_seeds;
  ope_report_stat *score;   /* (n_est, OPE_BENCH_N_METRICS) */
  /* plain words */
  char verdict[512];
  size_t n_notes;
  char (*notes)[OPE_REPORT_NOTE];
} ope_report;

/* Allocate the per-estimator and per-policy arrays of r (r's other fields
 * are kept): est names, pol with n_est cells each, beats when with_beats,
 * step arrays when horizon > 0, the scorecard when kind is bench. */
ope_status ope_report_alloc(ope_report *r, size_t n_est, size_t n_pol,
                            int with_beats, size_t horizon, ope_error *err);
/* Free every array of r and zero it. NULL is a no-op. */
void ope_report_clear(ope_report *r);
/* Append a note (a warning shown with the report). */
void ope_report_note(ope_report *r, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Render r in format f to out. OPE_EIO when writing fails. */
ope_status ope_report_write(const ope_report *r, ope_report_format f,
                            FILE *out, ope_error *err);

/* The individual renderers (report_text.c, report_json.c, report_html.c). */
void ope_report_write_text(const ope_report *r, int markdown, FILE *out);
void ope_report_write_csv(const ope_report *r, FILE *out);
void ope_report_write_json(const ope_report *r, FILE *out);
void ope_report_write_html(const ope_report *r, FILE *out);

/* Number helpers shared by the renderers: "%.4g" in the C locale (a dash
 * for non-finite), and the shortest round-trip form (empty for
 * non-finite). buf holds at least 32 bytes. */
const char *ope_report_num(char *buf, double x);
const char *ope_report_exact(char *buf, double x);

#endif

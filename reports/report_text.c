/* Terminal, Markdown and CSV renderings of a report (report.h).
 *
 * Text and Markdown share one layout: a header saying what was computed and
 * how to reproduce it, the main table, the details, the verdict and notes.
 * Interval bars put every row on one scale so intervals compare by eye. CSV
 * is the main table alone, numbers in round-trip form, RFC 4180 quoting. */
#include <math.h>
#include <string.h>

#include "reports/report.h"
#include "reports/table.h"

#define BAR 24

/* The common scale of a set of intervals and points. */
typedef struct scale { double lo, hi; } scale;

static void scale_add(scale *s, double x) {
  if (!isfinite(x)) return;
  if (x < s->lo) s->lo = x;
  if (x > s->hi) s->hi = x;
}

static int bar_pos(const scale *s, double x) {
  double f = s->hi > s->lo ? (x - s->lo) / (s->hi - s->lo) : 0.5;
  int p = (int)floor(f * (BAR - 1) + 0.5);
  return p < 0 ? 0 : p > BAR - 1 ? BAR - 1 : p;
}

/* "   [----o---]      " within BAR columns; empty when nothing to show. */
static const char *bar(char *buf, const scale *s, double v, double lo, double hi) {
  memset(buf, ' ', BAR);
  buf[BAR] = '\0';
  if (!(s->hi >= s->lo) || !isfinite(v)) return "";
  if (isfinite(lo) && isfinite(hi)) {
    int a = bar_pos(s, lo), b = bar_pos(s, hi);
    for (int i = a; i <= b; i++) buf[i] = '-';
    buf[a] = '[';
    buf[b] = ']';
  }
  buf[bar_pos(s, v)] = 'o';
  for (int i = BAR - 1; i >= 0 && buf[i] == ' '; i--) buf[i] = '\0';
  return buf;
}

static const char *interval(char *buf, size_t size, double lo, double hi, int has) {
  char a[32], b[32];
  if (!has) snprintf(buf, size, "-");
  else snprintf(buf, size, "[%s, %s]", ope_report_num(a, lo), ope_report_num(b, hi));
  return buf;
}

static void heading(const char *title, int md, FILE *out) {
  if (md) fprintf(out, "\n### %s\n\n", title);
  else fprintf(out, "\n%s\n", title);
}

static void header(const ope_report *r, int md, FILE *out) {
  static const char *const what[] = {"ranking", "audit", "estimator scorecard"};
  char g[32], a[32], c[32];
  const char *li = md ? "- " : "  ";
  if (md) fprintf(out, "## ope %s", what[r->kind]);
  else fprintf(out, "ope %s", what[r->kind]);
  if (r->kind == OPE_REPORT_BENCH) fprintf(out, ": %s under %s\n", r->env, r->regime);
  else fprintf(out, ": dataset %s\n", r->dataset);
  if (md) fputc('\n', out);
  if (r->kind == OPE_REPORT_BENCH) {
    fprintf(out, "%s%d simulated datasets of %zu episodes (seeds %llu..%llu)\n", li,
            r->n_seeds, r->n_episodes, (unsigned long long)r->seed,
            (unsigned long long)(r->seed + (uint64_t)(r->n_seeds > 0 ? r->n_seeds - 1 : 0)));
  } else {
    fprintf(out, "%s%zu episodes, %zu steps, source sha256 %s\n", li, r->n_episodes,
            r->n_steps, r->dataset_sha256[0] ? r->dataset_sha256 : "-");
    if (r->data_sha256[0]) fprintf(out, "%sdata sha256 %s\n", li, r->data_sha256);
    fprintf(out, "%spropensities %s\n", li, r->propensities);
  }
  fprintf(out, "%sgamma %s, %s%% %s intervals", li, ope_report_num(g, r->gamma),
          ope_report_num(a, 100.0 * (1.0 - r->alpha)), r->ci_method);
  if (strcmp(r->ci_method, "bootstrap") == 0) fprintf(out, " (B = %d)", r->n_boot);
  fprintf(out, ", seed %llu", (unsigned long long)r->seed);
  if (r->clip > 0) fprintf(out, ", ratios clipped at %s", ope_report_num(c, r->clip));
  fputc('\n', out);
  if (r->kind == OPE_REPORT_RANK)
    fprintf(out, "%sranked by %s%s\n", li, r->rank_estimator,
            r->by_lower ? " (lower end of the interval)" : "");
  if (r->run_id > 0)
    fprintf(out, "%sevaluation run %lld recorded %s\n", li, (long long)r->run_id, r->created_at);
  fprintf(out, "%sope %s\n", li, r->ope_version);
}

/* Index of estimator `name` in r, or r->n_est. */
static size_t est_index(const ope_report *r, const char *name) {
  size_t k = 0;
  while (k < r->n_est && strcmp(r->est[k], name) != 0) k++;
  return k;
}

static void flags_of(const ope_report_policy *p, const ope_report_cell *c, char *buf,
                     size_t size) {
  buf[0] = '\0';
  if (p->top_set) snprintf(buf, size, "top");
  if (p->gated || (c && c->unreliable)) {
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%sunreliable", n ? ", " : "");
  }
  if (c && !c->defined) {
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%sundefined", n ? ", " : "");
  }
}

static void rank_main(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"rank", "policy", "algo", "estimate", "interval",
                                   "", "ESS", "rank range", "P(best)", "flags"};
  ope_table t;
  size_t k = est_index(r, r->rank_estimator);
  scale s = {INFINITY, -INFINITY};
  if (ope_table_init(&t, 10, hd)) return;
  t.right[0] = t.right[3] = t.right[6] = t.right[8] = 1;
  for (size_t p = 0; p < r->n_pol && k < r->n_est; p++) {
    const ope_report_cell *c = &r->pol[p].cell[k];
    if (!c->defined) continue;
    scale_add(&s, c->value);
    if (c->has_ci) { scale_add(&s, c->ci_low); scale_add(&s, c->ci_high); }
  }
  for (size_t p = 0; p < r->n_pol && k < r->n_est; p++) {
    const ope_report_policy *P = &r->pol[p];
    const ope_report_cell *c = &P->cell[k];
    char rank[16], v[32], iv[80], b[BAR + 1], ess[32], rr[32], pb[32], fl[64];
    snprintf(rank, sizeof rank, "%d", P->rank);
    if (P->has_rank_ci) snprintf(rr, sizeof rr, "%d-%d", P->rank_lo, P->rank_hi);
    else snprintf(rr, sizeof rr, "-");
    flags_of(P, c, fl, sizeof fl);
    const char *row[] = {rank, P->name, P->algo,
                         c->defined ? ope_report_num(v, c->value) : "-",
                         interval(iv, sizeof iv, c->ci_low, c->ci_high, c->has_ci),
                         md ? "" : bar(b, &s, c->defined ? c->value : NAN, c->has_ci ? c->ci_low : NAN,
                                       c->has_ci ? c->ci_high : NAN),
                         P->has_diag ? ope_report_num(ess, P->ess) : "-", rr,
                         ope_report_num(pb, P->p_best), fl};
    ope_table_row(&t, row);
  }
  t.hide[5] = md; /* no text bars in Markdown */
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

static void beats_table(const ope_report *r, int md, FILE *out) {
  if (!r->beats || r->n_pol < 2 || r->n_pol + 1 > OPE_TABLE_MAX_COLS) return;
  const char *hd[OPE_TABLE_MAX_COLS];
  char lab[OPE_TABLE_MAX_COLS][24];
  hd[0] = "P(row beats column)";
  for (size_t j = 0; j < r->n_pol; j++) {
    snprintf(lab[j], sizeof lab[j], "#%zu", j + 1);
    hd[j + 1] = lab[j];
  }
  ope_table t;
  if (ope_table_init(&t, r->n_pol + 1, hd)) return;
  for (size_t j = 0; j < r->n_pol; j++) t.right[j + 1] = 1;
  heading("Pairwise: probability that the row's policy beats the column's (joint bootstrap)", md, out);
  for (size_t i = 0; i < r->n_pol; i++) {
    const char *row[OPE_TABLE_MAX_COLS];
    char name[OPE_TABLE_CELL], num[OPE_TABLE_MAX_COLS][32];
    snprintf(name, sizeof name, "#%zu %s", i + 1, r->pol[i].name);
    row[0] = name;
    for (size_t j = 0; j < r->n_pol; j++) {
      double x = r->beats[i * r->n_pol + j];
      if (isfinite(x)) snprintf(num[j], sizeof num[j], "%.2f", x);
      else snprintf(num[j], sizeof num[j], "-");
      row[j + 1] = num[j];
    }
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

/* Every estimator on every policy, one line each, bars on one scale. */
static void all_estimators(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"policy", "estimator", "estimate", "interval", "",
                                   "flags"};
  ope_table t;
  scale s = {INFINITY, -INFINITY};
  if (ope_table_init(&t, 6, hd)) return;
  t.right[2] = 1;
  t.hide[4] = md;
  for (size_t p = 0; p < r->n_pol; p++)
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      if (!c->defined) continue;
      scale_add(&s, c->value);
      if (c->has_ci) { scale_add(&s, c->ci_low); scale_add(&s, c->ci_high); }
    }
  heading("Every estimator", md, out);
  /* Cells' notes (the Q model's caveat, why a value is undefined) are
   * numbered once each and printed under the table, as in the audit. */
  const char *notes[32];
  size_t n_notes = 0;
  for (size_t p = 0; p < r->n_pol; p++)
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      char v[32], iv[80], b[BAR + 1], fl[64];
      size_t nk = 0;
      if (c->note[0]) {
        while (nk < n_notes && strcmp(notes[nk], c->note) != 0) nk++;
        if (nk == n_notes && n_notes < 32) notes[n_notes++] = c->note;
        nk = nk < n_notes ? nk + 1 : 0;
      }
      if (nk) snprintf(fl, sizeof fl, "%s%snote %zu", c->unreliable ? "unreliable" : "",
                       c->unreliable ? ", " : "", nk);
      else snprintf(fl, sizeof fl, "%s", c->unreliable ? "unreliable" : "");
      const char *row[] = {k == 0 ? r->pol[p].name : "", r->est[k],
                           c->defined ? ope_report_num(v, c->value) : "undefined",
                           interval(iv, sizeof iv, c->ci_low, c->ci_high, c->has_ci),
                           bar(b, &s, c->defined ? c->value : NAN, c->has_ci ? c->ci_low : NAN,
                               c->has_ci ? c->ci_high : NAN),
                           fl};
      ope_table_row(&t, row);
    }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
  if (n_notes) fputc('\n', out);
  for (size_t j = 0; j < n_notes; j++)
    fprintf(out, "%snote %zu: %s\n", md ? "- " : "  ", j + 1, notes[j]);
}

static void diagnostics(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"policy", "ESS", "ESS/n", "min ESS/step", "max share",
                                   "zero weights", "off support", "reliable"};
  ope_table t;
  if (ope_table_init(&t, 8, hd)) return;
  for (int c = 1; c < 7; c++) t.right[c] = 1;
  heading("Weight diagnostics", md, out);
  for (size_t p = 0; p < r->n_pol; p++) {
    const ope_report_policy *P = &r->pol[p];
    char a[32], b[32], c[32], d[32], e[32], f[48], g[OPE_REPORT_NOTE + 8];
    if (!P->has_diag) continue;
    if (P->support_kind == 0) snprintf(f, sizeof f, "-");
    else snprintf(f, sizeof f, "%zu (%s%%)", P->support_rows,
                  ope_report_num(c, 100.0 * P->support_frac));
    snprintf(g, sizeof g, "%s%s", P->unreliable ? "no: " : "yes", P->unreliable ? P->reason : "");
    const char *row[] = {P->name, ope_report_num(a, P->ess), ope_report_num(b, P->ess_frac),
                         ope_report_num(d, P->ess_step_min), ope_report_num(e, P->max_share),
                         ope_report_num(c, P->zero_frac), f, g};
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

static void policies(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"policy", "sha256", "settings"};
  ope_table t;
  if (ope_table_init(&t, 3, hd)) return;
  heading("Policies", md, out);
  for (size_t p = 0; p < r->n_pol; p++) {
    const ope_report_policy *P = &r->pol[p];
    char set[128];
    char bw[32];
    /* long settings are cut here; JSON and HTML carry them whole */
    if (strlen(P->settings) > 72) snprintf(set, sizeof set, "%.69s...", P->settings);
    else snprintf(set, sizeof set, "%.72s", P->settings[0] ? P->settings : "-");
    if (P->bandwidth > 0) {
      size_t n = strlen(set);
      snprintf(set + n, sizeof set - n, " (kernel bandwidth %s)", ope_report_num(bw, P->bandwidth));
    }
    const char *row[] = {P->name, P->sha256, set};
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

static void audit_main(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"estimator", "estimate", "interval", "", "method", "flags"};
  const ope_report_policy *P = &r->pol[0];
  scale s = {INFINITY, -INFINITY};
  ope_table t;
  if (r->n_pol < 1 || ope_table_init(&t, 6, hd)) return;
  t.right[1] = 1;
  for (size_t k = 0; k < r->n_est; k++) {
    const ope_report_cell *c = &P->cell[k];
    if (!c->defined) continue;
    scale_add(&s, c->value);
    if (c->has_ci) { scale_add(&s, c->ci_low); scale_add(&s, c->ci_high); }
  }
  if (r->has_behavior) {
    scale_add(&s, r->behavior_value);
    scale_add(&s, r->behavior_lo);
    scale_add(&s, r->behavior_hi);
  }
  /* Notes repeat across estimators (the Q model's caveat): number the
   * distinct ones and print them under the table. */
  size_t note_of[32] = {0}, n_notes = 0, first[32];
  for (size_t k = 0; k < r->n_est && k < 32; k++) {
    const char *nt = P->cell[k].note;
    if (!nt[0]) continue;
    size_t j = 0;
    while (j < n_notes && strcmp(P->cell[first[j]].note, nt) != 0) j++;
    if (j == n_notes) first[n_notes++] = k;
    note_of[k] = j + 1;
  }
  for (size_t k = 0; k < r->n_est; k++) {
    const ope_report_cell *c = &P->cell[k];
    char v[32], iv[80], b[BAR + 1], fl[64];
    size_t nk = k < 32 ? note_of[k] : 0;
    if (nk) snprintf(fl, sizeof fl, "%s%snote %zu", c->unreliable ? "unreliable" : "",
                     c->unreliable ? ", " : "", nk);
    else snprintf(fl, sizeof fl, "%s", c->unreliable ? "unreliable" : "");
    const char *row[] = {r->est[k], c->defined ? ope_report_num(v, c->value) : "undefined",
                         interval(iv, sizeof iv, c->ci_low, c->ci_high, c->has_ci),
                         md ? "" : bar(b, &s, c->defined ? c->value : NAN,
                                       c->has_ci ? c->ci_low : NAN, c->has_ci ? c->ci_high : NAN),
                         c->has_ci ? c->ci_method : "-", fl};
    ope_table_row(&t, row);
  }
  if (r->has_behavior) {
    char v[32], iv[80], b[BAR + 1];
    const char *row[] = {"behavior", ope_report_num(v, r->behavior_value),
                         interval(iv, sizeof iv, r->behavior_lo, r->behavior_hi, 1),
                         md ? "" : bar(b, &s, r->behavior_value, r->behavior_lo, r->behavior_hi),
                         "t", "on-policy mean of the logged returns"};
    ope_table_row(&t, row);
  }
  t.hide[3] = md;
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
  if (n_notes) fputc('\n', out);
  for (size_t j = 0; j < n_notes; j++)
    fprintf(out, "%snote %zu: %s\n", md ? "- " : "  ", j + 1, P->cell[first[j]].note);
}

static void audit_details(const ope_report *r, int md, FILE *out) {
  const ope_report_policy *P = &r->pol[0];
  const char *li = md ? "- " : "  ";
  char a[32], b[32], c[32];
  heading("Weights and support", md, out);
  if (P->has_diag) {
    fprintf(out, "%sESS %s of %zu episodes (%s%%); smallest per-step ESS %s\n", li,
            ope_report_num(a, P->ess), r->n_episodes, ope_report_num(b, 100.0 * P->ess_frac),
            ope_report_num(c, P->ess_step_min));
    fprintf(out, "%slargest single-episode share of the weight %s; zero-weight episodes %s%%\n",
            li, ope_report_num(a, P->max_share), ope_report_num(b, 100.0 * P->zero_frac));
    fprintf(out, "%sfinal weight quantiles (0, 5, 25, 50, 75, 95, 100%%):", li);
    for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++)
      fprintf(out, " %s", ope_report_num(a, P->quantiles[q]));
    fputc('\n', out);
    if (P->support_kind == 1)
      fprintf(out, "%ssupport: %zu logged steps (%s%%) where the policy puts mass on an "
              "action the behavior policy almost never takes\n", li, P->support_rows,
              ope_report_num(a, 100.0 * P->support_frac));
    else if (P->support_kind == 2)
      fprintf(out, "%ssupport: the policy's action is a median %s bandwidths from the logged "
              "one; %zu steps (%s%%) beyond 3\n", li, ope_report_num(a, P->support_median_bw),
              P->support_rows, ope_report_num(b, 100.0 * P->support_frac));
    else
      fprintf(out, "%ssupport: not measured\n", li);
    fprintf(out, "%sreliable: %s%s\n", li, P->unreliable ? "no, " : "yes",
            P->unreliable ? P->reason : "");
  }
  fprintf(out, "%spolicy sha256 %s\n", li, P->sha256);
  if (r->horizon == 0 || !r->step_target) return;
  /* Per-step contributions, in at most 10 blocks of steps. */
  static const char *const hd[] = {"steps", "policy (PDIS terms)", "behavior (logged)",
                                   "policy cumulative"};
  ope_table t;
  if (ope_table_init(&t, 4, hd)) return;
  t.right[1] = t.right[2] = t.right[3] = 1;
  heading("Per-step contribution to the value", md, out);
  size_t blk = (r->horizon + 9) / 10;
  double cum = 0;
  for (size_t t0 = 0; t0 < r->horizon; t0 += blk) {
    size_t t1 = t0 + blk < r->horizon ? t0 + blk : r->horizon;
    double st = 0, sb = 0;
    for (size_t u = t0; u < t1; u++) { st += r->step_target[u]; sb += r->step_behavior[u]; }
    cum += st;
    char span[32], x[32], y[32], z[32];
    if (t1 - t0 == 1) snprintf(span, sizeof span, "%zu", t0);
    else snprintf(span, sizeof span, "%zu-%zu", t0, t1 - 1);
    const char *row[] = {span, ope_report_num(x, st), ope_report_num(y, sb), ope_report_num(z, cum)};
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

static void bench_tables(const ope_report *r, int md, FILE *out) {
  static const char *const hd[] = {"policy", "true value", "method"};
  ope_table t;
  if (ope_table_init(&t, 3, hd)) return;
  t.right[1] = 1;
  heading("Candidates", md, out);
  for (size_t p = 0; p < r->n_pol; p++) {
    char v[32];
    const char *row[] = {r->pol[p].name, ope_report_num(v, r->pol[p].truth),
                         r->pol[p].truth_method};
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
  const char *h2[OPE_BENCH_N_METRICS + 1] = {"estimator"};
  for (int m = 0; m < OPE_BENCH_N_METRICS; m++) h2[m + 1] = ope_bench_metric_names[m];
  if (ope_table_init(&t, OPE_BENCH_N_METRICS + 1, h2)) return;
  for (int m = 0; m < OPE_BENCH_N_METRICS; m++) t.right[m + 1] = 1;
  heading("Scorecard: mean +- half-width of the interval over seeds", md, out);
  for (size_t k = 0; k < r->n_est; k++) {
    const char *row[OPE_BENCH_N_METRICS + 1];
    char cell[OPE_BENCH_N_METRICS][80];
    row[0] = r->est[k];
    for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
      const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
      char a[32], b[32];
      if (s->n == 0) snprintf(cell[m], sizeof cell[m], "-");
      else if (s->n < 2) snprintf(cell[m], sizeof cell[m], "%s", ope_report_num(a, s->mean));
      else {
        double half = (s->hi - s->lo) / 2.0;
        if (half < 1e-12 * (fabs(s->mean) > 1 ? fabs(s->mean) : 1)) half = 0; /* rounding */
        snprintf(cell[m], sizeof cell[m], "%s +- %s", ope_report_num(a, s->mean),
                 ope_report_num(b, half));
      }
      row[m + 1] = cell[m];
    }
    ope_table_row(&t, row);
  }
  ope_table_write(&t, md, 2, out);
  ope_table_free(&t);
}

void ope_report_write_text(const ope_report *r, int md, FILE *out) {
  header(r, md, out);
  if (r->kind != OPE_REPORT_BENCH) fputc('\n', out);
  switch (r->kind) {
  case OPE_REPORT_RANK:
    rank_main(r, md, out);
    beats_table(r, md, out);
    all_estimators(r, md, out);
    diagnostics(r, md, out);
    policies(r, md, out);
    break;
  case OPE_REPORT_AUDIT:
    if (r->n_pol) fprintf(out, "%spolicy %s\n\n", md ? "" : "  ", r->pol[0].name);
    audit_main(r, md, out);
    if (r->n_pol) audit_details(r, md, out);
    break;
  case OPE_REPORT_BENCH:
    bench_tables(r, md, out);
    break;
  }
  if (r->verdict[0]) fprintf(out, "\n%s%s%s\n", md ? "**Verdict:** " : "verdict: ", r->verdict, "");
  if (r->n_notes) fprintf(out, "%s", md ? "\n" : "");
  for (size_t i = 0; i < r->n_notes; i++)
    fprintf(out, "%s%s\n", md ? "- note: " : "note: ", r->notes[i]);
}

/* ---- CSV ---- */

static void csv_field(const char *s, FILE *out) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void csv_num(double x, FILE *out) {
  char b[32];
  fputc(',', out);
  fputs(ope_report_exact(b, x), out);
}

void ope_report_write_csv(const ope_report *r, FILE *out) {
  if (r->kind == OPE_REPORT_BENCH) {
    fputs("estimator,metric,mean,ci_low,ci_high,n_seeds\r\n", out);
    for (size_t k = 0; k < r->n_est; k++)
      for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
        const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
        csv_field(r->est[k], out);
        fputc(',', out);
        csv_field(ope_bench_metric_names[m], out);
        csv_num(s->n ? s->mean : NAN, out);
        csv_num(s->n ? s->lo : NAN, out);
        csv_num(s->n ? s->hi : NAN, out);
        fprintf(out, ",%zu\r\n", s->n);
      }
    return;
  }
  /* rank and audit: one row per policy and estimator */
  fputs("rank,policy,algo,estimator,estimate,ci_low,ci_high,ci_method,unreliable,"
        "ess,rank_low,rank_high,p_best,top_set,policy_sha256,note\r\n", out);
  for (size_t p = 0; p < r->n_pol; p++) {
    const ope_report_policy *P = &r->pol[p];
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &P->cell[k];
      int ranked = r->kind == OPE_REPORT_RANK && strcmp(r->est[k], r->rank_estimator) == 0;
      if (ranked) fprintf(out, "%d", P->rank);
      fputc(',', out);
      csv_field(P->name, out);
      fputc(',', out);
      csv_field(P->algo, out);
      fputc(',', out);
      csv_field(r->est[k], out);
      csv_num(c->defined ? c->value : NAN, out);
      csv_num(c->has_ci ? c->ci_low : NAN, out);
      csv_num(c->has_ci ? c->ci_high : NAN, out);
      fputc(',', out);
      csv_field(c->has_ci ? c->ci_method : "", out);
      fprintf(out, ",%d", c->unreliable);
      csv_num(P->has_diag ? P->ess : NAN, out);
      if (ranked && P->has_rank_ci) fprintf(out, ",%d,%d", P->rank_lo, P->rank_hi);
      else fputs(",,", out);
      csv_num(ranked ? P->p_best : NAN, out);
      fputc(',', out);
      if (ranked) fprintf(out, "%d", P->top_set);
      fputc(',', out);
      csv_field(P->sha256, out);
      fputc(',', out);
      csv_field(c->note, out);
      fputs("\r\n", out);
    }
  }
  if (r->kind == OPE_REPORT_AUDIT && r->has_behavior) {
    fputs(",behavior,,on-policy", out);
    csv_num(r->behavior_value, out);
    csv_num(r->behavior_lo, out);
    csv_num(r->behavior_hi, out);
    fputs(",t,0,,,,,,,on-policy mean of the logged returns\r\n", out);
  }
}

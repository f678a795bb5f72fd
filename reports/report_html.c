/* The HTML rendering of a report (report.h): one self-contained page, well
 * formed as XML (XHTML serialization: every element closed, only the five
 * XML entities), no scripts, fonts or links to fetch, so it opens offline.
 *
 * Charts are inline SVG drawn from the report's numbers:
 *   forest plot     every (policy, estimator) estimate with its interval on
 *                   one axis; unreliable ones dashed and grey;
 *   weights         per policy, the final importance weights' quantiles on a
 *                   log10 axis (whiskers 0-100%, box 25-75%, ticks at 5, 50
 *                   and 95%);
 *   agreement       Kendall tau between estimators' orderings of the
 *                   policies, as a coloured matrix;
 *   scorecard       (bench) each metric's mean and interval per estimator.
 * The tables of the Markdown rendering follow the charts. */
#include <math.h>
#include <string.h>

#include "reports/report.h"

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                      "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
                                      "#7f7f7f", "#bcbd22"};

/* Bytes of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static int utf8_seq(const unsigned char *p) {
  int n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
  if (n == 0 || p[0] > 0xF4) return 0;
  unsigned char lo = p[0] == 0xE0 ? 0xA0 : p[0] == 0xF0 ? 0x90 : 0x80;
  unsigned char hi = p[0] == 0xED ? 0x9F : p[0] == 0xF4 ? 0x8F : 0xBF;
  if (p[1] < lo || p[1] > hi) return 0;
  for (int i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

/* Text content or attribute value: the XML specials escaped, control
 * characters dropped, malformed UTF-8 replaced by '?', so the page always
 * parses. */
static void esc(const char *s, FILE *out) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    if (*p >= 0x80) {
      int n = utf8_seq(p);
      if (n) fwrite(p, 1, (size_t)n, out);
      else fputc('?', out);
      p += n ? n : 1;
      continue;
    }
    switch (*p) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    default:
      if (*p >= 0x20 || *p == '\n' || *p == '\t') fputc(*p, out);
    }
    p++;
  }
}

/* Coordinates with 2 decimals: enough for the eye, stable bytes. */
static double px(double x) { return floor(x * 100.0 + 0.5) / 100.0; }

typedef struct axis { double lo, hi, x0, x1; } axis;

static double ax(const axis *a, double v) {
  double f = a->hi > a->lo ? (v - a->lo) / (a->hi - a->lo) : 0.5;
  if (f < 0) f = 0;
  if (f > 1) f = 1;
  return px(a->x0 + f * (a->x1 - a->x0));
}

static void axis_pad(axis *a) {
  if (!(a->hi >= a->lo)) { a->lo = 0; a->hi = 1; }
  double w = a->hi - a->lo;
  if (w <= 0) w = fabs(a->hi) > 0 ? fabs(a->hi) * 0.1 : 1.0;
  a->lo -= 0.05 * w;
  a->hi += 0.05 * w;
}

/* Gridlines at round values: a step of 1, 2 or 5 times a power of ten,
 * about four of them across the axis. */
static void ticks(const axis *a, double y0, double y1, FILE *out) {
  char b[32];
  double span = a->hi - a->lo;
  if (!(span > 0) || !isfinite(span)) return;
  double raw = span / 4.0, mag = pow(10.0, floor(log10(raw)));
  double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag
                                                                   : 10 * mag;
  for (double v = ceil(a->lo / step) * step; v <= a->hi + 1e-9 * step; v += step) {
    double x = ax(a, v);
    double shown = fabs(v) < 1e-9 * step ? 0.0 : v;
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#ddd\"/>\n",
            x, y0, x, y1);
    fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"middle\" "
            "fill=\"#555\">%s</text>\n", x, y1 + 14, ope_report_num(b, shown));
  }
}

static void label(double x, double y, const char *anchor, const char *s, FILE *out) {
  fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"%s\">", px(x), px(y),
          anchor);
  esc(s, out);
  fputs("</text>\n", out);
}

/* One interval row of a forest plot. */
static void forest_row(const axis *a, double y, double v, int has_ci, double lo,
                       double hi, const char *color, int weak, FILE *out) {
  if (has_ci)
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"2\"%s/>\n", ax(a, lo), px(y), ax(a, hi), px(y),
            weak ? "#999" : color, weak ? " stroke-dasharray=\"4 3\"" : "");
  if (isfinite(v))
    fprintf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", ax(a, v), px(y),
            weak ? "#999" : color);
}

static void forest(const ope_report *r, FILE *out) {
  axis a = {INFINITY, -INFINITY, 330, 1100};
  size_t rows = 0;
  for (size_t p = 0; p < r->n_pol; p++)
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      rows++;
      if (!c->defined) continue;
      if (c->value < a.lo) a.lo = c->value;
      if (c->value > a.hi) a.hi = c->value;
      if (c->has_ci) {
        if (c->ci_low < a.lo) a.lo = c->ci_low;
        if (c->ci_high > a.hi) a.hi = c->ci_high;
      }
    }
  if (r->has_behavior) {
    rows++;
    if (r->behavior_lo < a.lo) a.lo = r->behavior_lo;
    if (r->behavior_hi > a.hi) a.hi = r->behavior_hi;
  }
  axis_pad(&a);
  double h = 30 + 16.0 * (double)rows + 12.0 * (double)r->n_pol + 30;
  fputs("<h2>Estimates with intervals</h2>\n", out);
  fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1140\" height=\"%.0f\" "
          "role=\"img\" aria-label=\"forest plot\">\n", h);
  ticks(&a, 20, h - 30, out);
  double y = 30;
  for (size_t p = 0; p < r->n_pol; p++) {
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      char lab[OPE_REPORT_NAME + 24];
      if (k == 0) snprintf(lab, sizeof lab, "%s  %s", r->pol[p].name, r->est[k]);
      else snprintf(lab, sizeof lab, "%s", r->est[k]);
      label(320, y + 4, "end", lab, out);
      forest_row(&a, y, c->defined ? c->value : NAN, c->has_ci, c->ci_low, c->ci_high,
                 palette[k % 10], c->unreliable, out);
      y += 16;
    }
    y += 12;
  }
  if (r->has_behavior) {
    label(320, y + 4, "end", "behavior (on-policy)", out);
    forest_row(&a, y, r->behavior_value, 1, r->behavior_lo, r->behavior_hi, "#000", 0, out);
  }
  fputs("</svg>\n", out);
}

static void weights(const ope_report *r, FILE *out) {
  axis a = {INFINITY, -INFINITY, 330, 1100};
  size_t n = 0;
  for (size_t p = 0; p < r->n_pol; p++) {
    if (!r->pol[p].has_diag) continue;
    n++;
    for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++) {
      double v = r->pol[p].quantiles[q];
      if (v > 0 && isfinite(v)) {
        double l = log10(v);
        if (l < a.lo) a.lo = l;
        if (l > a.hi) a.hi = l;
      }
    }
  }
  if (n == 0) return;
  axis_pad(&a);
  double h = 40 + 26.0 * (double)n + 30;
  fputs("<h2>Final importance weights (log10; whiskers 0-100%, box 25-75%)</h2>\n", out);
  fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1140\" height=\"%.0f\" "
          "role=\"img\" aria-label=\"weight distributions\">\n", h);
  ticks(&a, 20, h - 30, out);
  double y = 36;
  for (size_t p = 0; p < r->n_pol; p++) {
    const ope_report_policy *P = &r->pol[p];
    if (!P->has_diag) continue;
    double x[OPE_DIAG_N_QUANTILES];
    for (int q = 0; q < OPE_DIAG_N_QUANTILES; q++) {
      double v = P->quantiles[q];
      x[q] = ax(&a, v > 0 ? (isfinite(v) ? log10(v) : a.hi) : a.lo);
    }
    label(320, y + 4, "end", P->name, out);
    const char *col = P->unreliable ? "#999" : "#1f77b4";
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\"/>\n",
            x[0], px(y), x[6], px(y), col);
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"12\" fill=\"%s\" "
            "fill-opacity=\"0.35\" stroke=\"%s\"/>\n", x[2], px(y - 6), px(x[4] - x[2]), col, col);
    for (int q = 1; q < 6; q += 2)
      fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
              "stroke-width=\"2\"/>\n", x[q == 1 ? 1 : q == 3 ? 3 : 5], px(y - 7),
              x[q == 1 ? 1 : q == 3 ? 3 : 5], px(y + 7), col);
    y += 26;
  }
  fputs("</svg>\n", out);
}

static void agreement(const ope_report *r, FILE *out) {
  if (!r->agree || r->n_est < 2 || r->n_pol < 3) return;
  double cell = 44, x0 = 120, y0 = 30;
  double w = x0 + cell * (double)r->n_est + 20, h = y0 + cell * (double)r->n_est + 20;
  fputs("<h2>Estimator agreement (Kendall tau between their orderings of the policies)</h2>\n",
        out);
  fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "role=\"img\" aria-label=\"estimator agreement\">\n", w, h);
  for (size_t i = 0; i < r->n_est; i++) {
    label(x0 - 6, y0 + cell * (double)i + cell / 2 + 4, "end", r->est[i], out);
    label(x0 + cell * (double)i + cell / 2, y0 - 8, "middle", r->est[i], out);
    for (size_t j = 0; j < r->n_est; j++) {
      double t = r->agree[i * r->n_est + j];
      char fill[16], b[32];
      if (!isfinite(t)) {
        snprintf(fill, sizeof fill, "#eeeeee");
      } else {
        /* red for disagreement, white for none, blue for agreement */
        int s = (int)floor(fabs(t) * 200.0 + 0.5);
        if (t >= 0) snprintf(fill, sizeof fill, "#%02x%02xff", 255 - s, 255 - s);
        else snprintf(fill, sizeof fill, "#ff%02x%02x", 255 - s, 255 - s);
      }
      double x = x0 + cell * (double)j, y = y0 + cell * (double)i;
      fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
              "stroke=\"#fff\"/>\n", x, y, cell, cell, fill);
      if (isfinite(t)) snprintf(b, sizeof b, "%.2f", t);
      else snprintf(b, sizeof b, "-");
      label(x + cell / 2, y + cell / 2 + 4, "middle", b, out);
    }
  }
  fputs("</svg>\n", out);
}

static void scorecard(const ope_report *r, FILE *out) {
  for (int m = 0; m < OPE_BENCH_N_METRICS; m++) {
    axis a = {INFINITY, -INFINITY, 200, 1100};
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
      if (s->n == 0) continue;
      if (s->lo < a.lo) a.lo = s->lo;
      if (s->hi > a.hi) a.hi = s->hi;
    }
    axis_pad(&a);
    double h = 30 + 18.0 * (double)r->n_est + 30;
    fputs("<h2>", out);
    esc(ope_bench_metric_names[m], out);
    fputs(" (mean and interval over seeds)</h2>\n", out);
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1140\" height=\"%.0f\" "
            "role=\"img\" aria-label=\"scorecard\">\n", h);
    ticks(&a, 20, h - 30, out);
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_stat *s = &r->score[k * OPE_BENCH_N_METRICS + m];
      double y = 30 + 18.0 * (double)k;
      label(190, y + 4, "end", r->est[k], out);
      if (s->n) forest_row(&a, y, s->mean, 1, s->lo, s->hi, palette[k % 10], 0, out);
    }
    fputs("</svg>\n", out);
  }
}

/* The Markdown rendering's tables, as HTML tables. */
static void tables(const ope_report *r, FILE *out) {
  char num[32], lo[32], hi[32];
  fputs("<h2>Numbers</h2>\n<table>\n<tr><th>policy</th><th>estimator</th><th>estimate</th>"
        "<th>interval</th><th>flags</th></tr>\n", out);
  for (size_t p = 0; p < r->n_pol; p++)
    for (size_t k = 0; k < r->n_est; k++) {
      const ope_report_cell *c = &r->pol[p].cell[k];
      fputs("<tr><td>", out);
      esc(r->pol[p].name, out);
      fputs("</td><td>", out);
      esc(r->est[k], out);
      fprintf(out, "</td><td class=\"n\">%s</td><td class=\"n\">",
              c->defined ? ope_report_num(num, c->value) : "undefined");
      if (c->has_ci)
        fprintf(out, "[%s, %s]", ope_report_num(lo, c->ci_low), ope_report_num(hi, c->ci_high));
      fputs("</td><td>", out);
      if (c->unreliable) fputs("unreliable ", out);
      esc(c->note, out);
      fputs("</td></tr>\n", out);
    }
  fputs("</table>\n", out);
}

static void rank_table(const ope_report *r, FILE *out) {
  size_t k = 0;
  while (k < r->n_est && strcmp(r->est[k], r->rank_estimator) != 0) k++;
  if (k == r->n_est) return;
  fputs("<h2>Ranking</h2>\n<table>\n<tr><th>rank</th><th>policy</th><th>algo</th>"
        "<th>estimate</th><th>interval</th><th>rank range</th><th>P(best)</th><th>flags</th>"
        "</tr>\n", out);
  for (size_t p = 0; p < r->n_pol; p++) {
    const ope_report_policy *P = &r->pol[p];
    const ope_report_cell *c = &P->cell[k];
    char v[32], lo[32], hi[32], pb[32];
    fprintf(out, "<tr%s><td class=\"n\">%d</td><td>", P->top_set ? " class=\"top\"" : "",
            P->rank);
    esc(P->name, out);
    fputs("</td><td>", out);
    esc(P->algo, out);
    fprintf(out, "</td><td class=\"n\">%s</td><td class=\"n\">",
            c->defined ? ope_report_num(v, c->value) : "-");
    if (c->has_ci)
      fprintf(out, "[%s, %s]", ope_report_num(lo, c->ci_low), ope_report_num(hi, c->ci_high));
    fputs("</td><td class=\"n\">", out);
    if (P->has_rank_ci) fprintf(out, "%d-%d", P->rank_lo, P->rank_hi);
    fprintf(out, "</td><td class=\"n\">%s</td><td>%s%s</td></tr>\n", ope_report_num(pb, P->p_best),
            P->top_set ? "top " : "", P->gated ? "unreliable" : "");
  }
  fputs("</table>\n", out);
}

/* P(row beats column) as a table, shaded green where the row tends to win. */
static void beats_table(const ope_report *r, FILE *out) {
  if (!r->beats || r->n_pol < 2) return;
  fputs("<h2>Pairwise: probability that the row's policy beats the column's (joint "
        "bootstrap)</h2>\n<table>\n<tr><th></th>", out);
  for (size_t j = 0; j < r->n_pol; j++) fprintf(out, "<th>#%zu</th>", j + 1);
  fputs("</tr>\n", out);
  for (size_t i = 0; i < r->n_pol; i++) {
    fprintf(out, "<tr><th>#%zu ", i + 1);
    esc(r->pol[i].name, out);
    fputs("</th>", out);
    for (size_t j = 0; j < r->n_pol; j++) {
      double x = r->beats[i * r->n_pol + j];
      if (!isfinite(x)) {
        fputs("<td class=\"n\">-</td>", out);
        continue;
      }
      fprintf(out, "<td class=\"n\" style=\"background:%s\">%.2f</td>",
              x >= 0.5 ? "#eef6ee" : "#fbeeee", x);
    }
    fputs("</tr>\n", out);
  }
  fputs("</table>\n", out);
}

/* Audit: the weight diagnostics and support in words. */
static void audit_facts(const ope_report *r, FILE *out) {
  const ope_report_policy *P = &r->pol[0];
  char a[32], b[32], d[32];
  if (!P->has_diag) return;
  fputs("<h2>Weights and support</h2>\n<ul>\n", out);
  fprintf(out, "<li>effective sample size %s of %zu episodes (%s%%); smallest per step %s</li>\n",
          ope_report_num(a, P->ess), r->n_episodes, ope_report_num(b, 100.0 * P->ess_frac),
          ope_report_num(d, P->ess_step_min));
  fprintf(out, "<li>largest single-episode share of the weight %s; zero-weight episodes "
          "%s%%</li>\n", ope_report_num(a, P->max_share), ope_report_num(b, 100.0 * P->zero_frac));
  if (P->support_kind == 1)
    fprintf(out, "<li>support: %zu logged steps (%s%%) where the policy puts mass on an action "
            "the behavior policy almost never takes</li>\n", P->support_rows,
            ope_report_num(a, 100.0 * P->support_frac));
  else if (P->support_kind == 2)
    fprintf(out, "<li>support: the policy's action is a median %s bandwidths from the logged "
            "one; %zu steps beyond 3</li>\n", ope_report_num(a, P->support_median_bw),
            P->support_rows);
  else
    fputs("<li>support: not measured</li>\n", out);
  fputs("<li>reliable: ", out);
  if (P->unreliable) {
    fputs("no, ", out);
    esc(P->reason, out);
  } else {
    fputs("yes", out);
  }
  fputs("</li>\n</ul>\n", out);
}

/* Audit: cumulative per-step contributions of the policy (PDIS terms) and
 * of the logged behavior, as two lines over the steps. */
static void step_chart(const ope_report *r, FILE *out) {
  if (r->horizon == 0 || !r->step_target) return;
  axis x = {0, (double)(r->horizon > 1 ? r->horizon - 1 : 1), 120, 1100};
  axis y = {0, 0, 300, 40};
  double ct = 0, cb = 0;
  for (size_t t = 0; t < r->horizon; t++) {
    ct += r->step_target[t];
    cb += r->step_behavior[t];
    if (ct < y.lo) y.lo = ct;
    if (ct > y.hi) y.hi = ct;
    if (cb < y.lo) y.lo = cb;
    if (cb > y.hi) y.hi = cb;
  }
  axis_pad(&y);
  fputs("<h2>Cumulative contribution to the value by step (policy: per-decision IS terms; "
        "behavior: logged)</h2>\n", out);
  fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1140\" height=\"340\" role=\"img\" "
        "aria-label=\"per-step contributions\">\n", out);
  char b[32];
  for (int i = 0; i <= 4; i++) {
    double v = y.lo + (y.hi - y.lo) * i / 4.0;
    double yy = ax(&y, v);
    fprintf(out, "<line x1=\"120\" y1=\"%.2f\" x2=\"1100\" y2=\"%.2f\" stroke=\"#ddd\"/>\n",
            yy, yy);
    fprintf(out, "<text x=\"112\" y=\"%.2f\" font-size=\"11\" text-anchor=\"end\" "
            "fill=\"#555\">%s</text>\n", yy + 4, ope_report_num(b, v));
  }
  for (int k = 0; k < 2; k++) {
    const double *s = k ? r->step_behavior : r->step_target;
    double cum = 0;
    fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
            k ? "#000" : "#1f77b4");
    for (size_t t = 0; t < r->horizon; t++) {
      cum += s[t];
      fprintf(out, "%s%.2f,%.2f", t ? " " : "", ax(&x, (double)t), ax(&y, cum));
    }
    fputs("\"/>\n", out);
  }
  fprintf(out, "<text x=\"1100\" y=\"330\" font-size=\"11\" text-anchor=\"end\" "
          "fill=\"#555\">step %zu</text>\n", r->horizon - 1);
  fputs("<text x=\"130\" y=\"330\" font-size=\"12\" fill=\"#1f77b4\">policy</text>\n"
        "<text x=\"190\" y=\"330\" font-size=\"12\" fill=\"#000\">behavior</text>\n"
        "</svg>\n", out);
}

/* The candidates' true values (bench). */
static void truth_table(const ope_report *r, FILE *out) {
  char v[32];
  fputs("<h2>Candidates</h2>\n<table>\n<tr><th>policy</th><th>true value</th>"
        "<th>method</th></tr>\n", out);
  for (size_t p = 0; p < r->n_pol; p++) {
    fputs("<tr><td>", out);
    esc(r->pol[p].name, out);
    fprintf(out, "</td><td class=\"n\">%s</td><td>", ope_report_num(v, r->pol[p].truth));
    esc(r->pol[p].truth_method, out);
    fputs("</td></tr>\n", out);
  }
  fputs("</table>\n", out);
}

static void facts(const ope_report *r, FILE *out) {
  char a[32], g[32];
  fputs("<table class=\"facts\">\n", out);
  if (r->kind == OPE_REPORT_BENCH) {
    fputs("<tr><th>environment</th><td>", out);
    esc(r->env, out);
    fputs("</td></tr>\n<tr><th>behavior</th><td>", out);
    esc(r->regime, out);
    fprintf(out, "</td></tr>\n<tr><th>datasets</th><td>%d of %zu episodes</td></tr>\n",
            r->n_seeds, r->n_episodes);
  } else {
    fputs("<tr><th>dataset</th><td>", out);
    esc(r->dataset, out);
    fprintf(out, " (%zu episodes, %zu steps)</td></tr>\n<tr><th>source sha256</th><td><code>",
            r->n_episodes, r->n_steps);
    esc(r->dataset_sha256, out);
    fputs("</code></td></tr>\n<tr><th>data sha256</th><td><code>", out);
    esc(r->data_sha256, out);
    fputs("</code></td></tr>\n<tr><th>propensities</th><td>", out);
    esc(r->propensities, out);
    fputs("</td></tr>\n", out);
  }
  fprintf(out, "<tr><th>settings</th><td>gamma %s, %s%% ", ope_report_num(g, r->gamma),
          ope_report_num(a, 100.0 * (1 - r->alpha)));
  esc(r->ci_method, out);
  fprintf(out, " intervals, B = %d, seed %llu</td></tr>\n", r->n_boot,
          (unsigned long long)r->seed);
  if (r->kind == OPE_REPORT_RANK) {
    fputs("<tr><th>ranked by</th><td>", out);
    esc(r->rank_estimator, out);
    fputs(r->by_lower ? " (lower end of the interval)" : "", out);
    fputs("</td></tr>\n", out);
  }
  for (size_t p = 0; p < r->n_pol && r->kind != OPE_REPORT_BENCH; p++) {
    fputs("<tr><th>", out);
    esc(r->pol[p].name, out);
    fputs("</th><td><code>", out);
    esc(r->pol[p].sha256, out);
    fputs("</code>", out);
    if (r->pol[p].settings[0]) {
      fputs("<br/><small>", out);
      esc(r->pol[p].settings, out);
      fputs("</small>", out);
    }
    fputs("</td></tr>\n", out);
  }
  fputs("<tr><th>ope</th><td>", out);
  esc(r->ope_version, out);
  fputs("</td></tr>\n</table>\n", out);
}

void ope_report_write_html(const ope_report *r, FILE *out) {
  static const char *const what[] = {"ranking", "audit", "estimator scorecard"};
  fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\"/>\n<title>", out);
  fprintf(out, "ope %s: ", what[r->kind]);
  esc(r->kind == OPE_REPORT_BENCH ? r->env : r->dataset, out);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}\n"
        "table{border-collapse:collapse;margin:8px 0}\n"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}\n"
        "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
        "tr.top td{background:#eef6ee}\n"
        "td small{display:block;max-width:900px;word-break:break-all;color:#555}\n"
        ".verdict{font-size:16px;padding:10px;background:#fff7e0;border-left:4px solid #e0a000}\n"
        "h2{font-size:17px;margin-top:22px}\n"
        "</style>\n</head>\n<body>\n<h1>", out);
  fprintf(out, "ope %s: ", what[r->kind]);
  esc(r->kind == OPE_REPORT_BENCH ? r->env : r->dataset, out);
  fputs("</h1>\n", out);
  if (r->verdict[0]) {
    fputs("<p class=\"verdict\">", out);
    esc(r->verdict, out);
    fputs("</p>\n", out);
  }
  facts(r, out);
  if (r->kind == OPE_REPORT_RANK) {
    rank_table(r, out);
    beats_table(r, out);
  }
  if (r->kind == OPE_REPORT_BENCH) {
    truth_table(r, out);
    scorecard(r, out);
  }
  else forest(r, out);
  if (r->kind == OPE_REPORT_AUDIT && r->n_pol) {
    audit_facts(r, out);
    step_chart(r, out);
  }
  weights(r, out);
  agreement(r, out);
  if (r->kind != OPE_REPORT_BENCH) tables(r, out);
  if (r->n_notes) {
    fputs("<h2>Notes</h2>\n<ul>\n", out);
    for (size_t i = 0; i < r->n_notes; i++) {
      fputs("<li>", out);
      esc(r->notes[i], out);
      fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
  }
  fputs("</body>\n</html>\n", out);
}

/* Rank and audit reports with the joint episode bootstrap (joint.h). */
#include "reports/joint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "estimators/ci.h"
#include "reports/metrics.h"
#include "reports/rank.h"

#include "ope_config.h"

static const char *const preferred[] = {"wdr", "dr", "wpdis", "wis", "pdis", "is",
                                        "fqe", "dm", NULL};

void ope_joint_config_default(ope_joint_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  ope_eval_config_default(&cfg->eval);
  cfg->behavior = OPE_BEHAVIOR_AUTO;
}

ope_status ope_joint_replicates(const ope_dataset *ds,
                                const ope_eval_behavior *beh,
                                const ope_policy *pi,
                                const ope_policy_scores *pe,
                                const ope_eval_config *cfg,
                                const ope_eval_policy_result *res, double *rep,
                                ope_error *err) {
  ope_status st = OPE_OK;
  ope_weights w = {0};
  ope_qfit q = {0};
  ope_fqe_model *model = NULL;
  size_t K = res->n_est, B = (size_t)cfg->ci.n_boot, n_run = 0;
  const ope_estimator **run = calloc(K ? K : 1, sizeof *run);
  size_t *col = calloc(K ? K : 1, sizeof *col);
  ope_est_stats *stats = calloc(K ? K : 1, sizeof *stats);
  ope_estimate *tmp = calloc(K ? K : 1, sizeof *tmp);
  double *sub = malloc((B * K > 0 ? B * K : 1) * sizeof(double));
  if (!run || !col || !stats || !tmp || !sub) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t i = 0; i < B * K; i++) rep[i] = NAN;
  if ((st = ope_weights_compute(ds, pe->prob, beh->prob, cfg->clip, &w, err)) != OPE_OK)
    goto done;
  ope_est_input in = {ds, &w, pe, NULL, cfg->gamma, cfg->has_reward_range,
                      cfg->reward_lo, cfg->reward_hi};
  int want_q = 0;
  for (size_t k = 0; k < K; k++) want_q |= (res->est[k].est->needs & OPE_EST_NEEDS_Q) != 0;
  if (want_q) {
    /* The same fit as the evaluation (same data, settings and seed). */
    ope_fqe_config fc = cfg->fqe;
    fc.gamma = cfg->gamma;
    ope_error ferr;
    if (ope_fqe_fit(ds, pi, pe, &fc, &model, &ferr) == OPE_OK &&
        ope_fqe_predict(model, ds, pi, pe, &q, &ferr) == OPE_OK)
      in.q = &q;
  }
  for (size_t k = 0; k < K; k++) {
    const ope_estimator *e = res->est[k].est;
    char why[256];
    if (ope_est_check(e, &in, why, sizeof why)) continue;
    if ((st = ope_est_run(e, &in, &stats[n_run], &tmp[n_run], err)) != OPE_OK) goto done;
    run[n_run] = e;
    col[n_run++] = k;
  }
  if (n_run == 0) goto done;
  ope_ci_config ci = cfg->ci;
  ci.method = OPE_CI_BOOTSTRAP;
  if ((st = ope_ci_compute(&ci, run, stats, &in, n_run, tmp, sub, err)) != OPE_OK) goto done;
  for (size_t b = 0; b < B; b++)
    for (size_t j = 0; j < n_run; j++) rep[b * K + col[j]] = sub[b * n_run + j];
done:
  for (size_t k = 0; stats && k < K; k++) ope_est_stats_clear(&stats[k]);
  free(stats);
  free(run);
  free(col);
  free(tmp);
  free(sub);
  ope_weights_clear(&w);
  ope_qfit_clear(&q);
  ope_fqe_model_free(model);
  return st;
}

void ope_joint_behavior_value(const ope_dataset *ds, double gamma, double alpha,
                              double *value, double *lo, double *hi) {
  size_t n = ds->n_episodes, m;
  double *g = malloc((n ? n : 1) * sizeof(double));
  if (g == NULL) {
    *value = *lo = *hi = NAN;
    return;
  }
  for (size_t i = 0; i < n; i++) g[i] = ope_dataset_return(ds, i, gamma);
  ope_metric_mean_ci(g, n, alpha, value, lo, hi, &m);
  free(g);
}

/* Feed n values to c as little-endian 64-bit words. */
static void hash_u64(ope_sha256 *c, const uint64_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v[i] >> (8 * k));
    ope_sha256_update(c, b, 8);
  }
}

static void hash_doubles(ope_sha256 *c, const double *x, size_t n) {
  for (size_t i = 0; x && i < n; i++) {
    uint64_t u;
    memcpy(&u, &x[i], 8);
    hash_u64(c, &u, 1);
  }
}

/* The SHA-256 of the loaded data (joint.h). */
static void data_hash(const ope_dataset *ds, char hex[65]) {
  ope_sha256 c;
  ope_sha256_init(&c);
  uint64_t head[6] = {ds->n_episodes, ds->n_steps, (uint64_t)ds->obs_dim,
                      (uint64_t)ds->action_kind, (uint64_t)ds->n_actions,
                      (uint64_t)ds->action_dim};
  hash_u64(&c, head, 6);
  for (size_t i = 0; i <= ds->n_episodes; i++) {
    uint64_t o = ds->ep_offset[i];
    hash_u64(&c, &o, 1);
  }
  hash_doubles(&c, ds->obs, ds->n_steps * (size_t)ds->obs_dim);
  for (size_t t = 0; ds->action && t < ds->n_steps; t++) {
    uint64_t a = (uint64_t)(int64_t)ds->action[t];
    hash_u64(&c, &a, 1);
  }
  hash_doubles(&c, ds->action_vec, ds->n_steps * (size_t)ds->action_dim);
  hash_doubles(&c, ds->reward, ds->n_steps);
  for (size_t t = 0; t < ds->n_steps; t++) {
    uint64_t d = ds->terminal[t];
    hash_u64(&c, &d, 1);
  }
  hash_doubles(&c, ds->pscore, ds->n_steps);
  hash_doubles(&c, ds->next_obs, ds->n_steps * (size_t)ds->obs_dim);
  ope_sha256_hex(&c, hex);
}

/* algo, settings and sha256 of a policy from the store, or of its name. */
static void policy_meta(ope_store *store, const char *name, ope_report_policy *P) {
  int found = 0;
  if (store) {
    sqlite3_stmt *st = NULL;
    if (ope_store_prepare(store, "SELECT kind, algo, settings, sha256 FROM policies "
                                 "WHERE name = ?1", &st, NULL) == OPE_OK) {
      sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
      if (sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *algo = (const char *)sqlite3_column_text(st, 1);
        const char *set = (const char *)sqlite3_column_text(st, 2);
        const char *sha = (const char *)sqlite3_column_text(st, 3);
        snprintf(P->algo, sizeof P->algo, "%s", algo ? algo : kind ? kind : "");
        snprintf(P->settings, sizeof P->settings, "%s", set ? set : "");
        if (sha && strlen(sha) == 64) {
          memcpy(P->sha256, sha, 65);
          found = 1;
        }
      }
      sqlite3_finalize(st);
    }
  }
  if (!P->algo[0]) snprintf(P->algo, sizeof P->algo, "reference");
  if (!found) {
    ope_sha256 c;
    ope_sha256_init(&c);
    ope_sha256_update(&c, name, strlen(name));
    ope_sha256_hex(&c, P->sha256);
  }
}

static void fill_policy(const ope_eval_policy_result *res, const ope_report *r,
                        ope_report_policy *P) {
  const ope_diagnostics *d = &res->diag;
  snprintf(P->name, sizeof P->name, "%s", res->name ? res->name : "");
  P->bandwidth = res->bandwidth;
  P->has_diag = 1;
  P->ess = d->ess;
  P->ess_frac = d->ess_frac;
  P->ess_step_min = d->ess_step_min;
  P->max_share = d->max_share;
  P->zero_frac = d->zero_frac;
  memcpy(P->quantiles, d->quantiles, sizeof P->quantiles);
  P->support_kind = d->support_kind;
  P->support_rows = d->support_rows;
  P->support_frac = d->support_frac;
  P->support_median_bw = d->support_median_bw;
  P->unreliable = d->unreliable;
  snprintf(P->reason, sizeof P->reason, "%s", d->reason);
  for (size_t j = 0; j < r->n_est; j++) P->cell[j].value = NAN;
  for (size_t k = 0; k < res->n_est; k++) {
    const ope_estimate *e = &res->est[k];
    size_t j = 0;
    while (j < r->n_est && strcmp(r->est[j], e->est->name) != 0) j++;
    if (j == r->n_est) continue;
    ope_report_cell *c = &P->cell[j];
    c->defined = e->flag == OPE_EST_DEFINED && isfinite(e->value);
    c->value = c->defined ? e->value : NAN;
    c->has_ci = e->has_ci;
    c->ci_low = e->has_ci ? e->ci_low : NAN;
    c->ci_high = e->has_ci ? e->ci_high : NAN;
    snprintf(c->ci_method, sizeof c->ci_method, "%s", e->ci_method ? e->ci_method : "");
    c->unreliable = ope_eval_unreliable(res, k);
    snprintf(c->note, sizeof c->note, "%s", e->note);
  }
}

/* The estimator columns: the table's estimators that ran on any policy. */
static size_t columns(const ope_eval_policy_result *res, size_t n_pol,
                      const ope_estimator **cols) {
  size_t n = 0;
  for (size_t t = 0; ope_estimator_table[t]; t++) {
    int used = 0;
    for (size_t p = 0; p < n_pol && !used; p++)
      for (size_t k = 0; k < res[p].n_est; k++)
        used |= res[p].est[k].est == ope_estimator_table[t];
    if (used && n < 32) cols[n++] = ope_estimator_table[t];
  }
  return n;
}

static long find_col(const ope_report *r, const char *name) {
  for (size_t j = 0; j < r->n_est; j++)
    if (strcmp(r->est[j], name) == 0) return (long)j;
  return -1;
}

static long find_est(const ope_eval_policy_result *res, const char *name) {
  for (size_t k = 0; k < res->n_est; k++)
    if (strcmp(res->est[k].est->name, name) == 0) return (long)k;
  return -1;
}

static void rank_verdict(ope_report *r) {
  char v[32], pb[32];
  const ope_report_policy *top = &r->pol[0];
  long j = find_col(r, r->rank_estimator);
  double level = 100.0 * (1.0 - r->alpha);
  if (r->n_pol == 0 || j < 0 || !top->cell[j].defined) {
    snprintf(r->verdict, sizeof r->verdict, "no candidate has a defined %s estimate: the "
             "logs cannot rank these policies", r->rank_estimator);
    return;
  }
  if (top->gated) {
    snprintf(r->verdict, sizeof r->verdict, "every candidate's %s estimate is unreliable "
             "(%s): the logs cannot say which policy is best", r->rank_estimator,
             top->reason);
    return;
  }
  size_t n_top = 0, n_gated_above = 0;
  for (size_t p = 0; p < r->n_pol; p++) {
    n_top += r->pol[p].top_set;
    if (r->pol[p].gated && r->pol[p].score > top->score) n_gated_above++;
  }
  int len;
  if (n_top <= 1)
    len = snprintf(r->verdict, sizeof r->verdict, "%s ranks first by %s (%s, P(best) %s); "
                   "at %g%% every other reliable candidate is worse", top->name, r->rank_estimator,
                   ope_report_num(v, top->cell[j].value), ope_report_num(pb, top->p_best),
                   level);
  else
    len = snprintf(r->verdict, sizeof r->verdict, "%s ranks first by %s (%s, P(best) %s), "
                   "but at %g%% the logs cannot tell it from %zu other reliable candidate%s",
                   top->name, r->rank_estimator, ope_report_num(v, top->cell[j].value),
                   ope_report_num(pb, top->p_best), level, n_top - 1, n_top > 2 ? "s" : "");
  if (n_gated_above && len > 0 && (size_t)len < sizeof r->verdict)
    snprintf(r->verdict + len, sizeof r->verdict - (size_t)len,
             "; %zu candidate%s with a higher but unreliable estimate %s ranked after the "
             "reliable ones", n_gated_above, n_gated_above > 1 ? "s" : "",
             n_gated_above > 1 ? "were" : "was");
}

static void audit_verdict(ope_report *r) {
  const ope_report_policy *P = &r->pol[0];
  char a[32], b[32], c[32], d[32], e2[32], f[32];
  double level = 100.0 * (1.0 - r->alpha);
  long pick = -1;
  for (int i = 0; preferred[i] && pick < 0; i++) {
    long j = find_col(r, preferred[i]);
    if (j >= 0 && P->cell[j].defined && P->cell[j].has_ci && !P->cell[j].unreliable) pick = j;
  }
  if (pick < 0) {
    snprintf(r->verdict, sizeof r->verdict, "the logs cannot answer: no estimator gives a "
             "reliable value with an interval for this policy%s%s",
             P->unreliable ? " (" : "", P->unreliable ? P->reason : "");
    if (P->unreliable) strncat(r->verdict, ")", sizeof r->verdict - strlen(r->verdict) - 1);
    return;
  }
  const ope_report_cell *e = &P->cell[pick];
  const char *how;
  if (e->ci_low > r->behavior_hi) how = "the policy is better than the behavior policy";
  else if (e->ci_high < r->behavior_lo) how = "the policy is worse than the behavior policy";
  else how = "the logs cannot distinguish this policy from the behavior policy";
  int len = snprintf(r->verdict, sizeof r->verdict, "at %g%%, %s (%s %s [%s, %s] against "
                     "the logged %s [%s, %s])", level, how, r->est[pick],
                     ope_report_num(a, e->value), ope_report_num(b, e->ci_low),
                     ope_report_num(c, e->ci_high), ope_report_num(d, r->behavior_value),
                     ope_report_num(e2, r->behavior_lo), ope_report_num(f, r->behavior_hi));
  if (P->unreliable && len > 0 && (size_t)len < sizeof r->verdict)
    snprintf(r->verdict + len, sizeof r->verdict - (size_t)len, "; the importance weights are "
             "degenerate (%s), so this rests on the Q model alone", P->reason);
}

/* Per-step PDIS terms and logged rewards for the audit. */
static ope_status step_terms(const ope_dataset *ds, const ope_eval_behavior *beh,
                             const ope_policy_scores *pe, const ope_eval_config *cfg,
                             ope_report *r, ope_error *err) {
  ope_weights w = {0};
  ope_status st = ope_weights_compute(ds, pe->prob, beh->prob, cfg->clip, &w, err);
  if (st != OPE_OK) return st;
  double n = (double)ds->n_episodes;
  for (size_t i = 0; i < ds->n_episodes; i++) {
    double g = 1.0;
    for (size_t t = 0; t < ope_dataset_ep_len(ds, i) && t < r->horizon; t++) {
      size_t row = ds->ep_offset[i] + t;
      r->step_target[t] += g * exp(w.log_w[row]) * ds->reward[row] / n;
      r->step_behavior[t] += g * ds->reward[row] / n;
      g *= cfg->gamma;
    }
  }
  ope_weights_clear(&w);
  return OPE_OK;
}

/* Order the report's policies (and P(beats)) as the ranking says. */
static ope_status apply_ranking(ope_report *r, const ope_rank_result *rk,
                                const double *beats_in, ope_error *err) {
  size_t P = r->n_pol;
  ope_report_policy *sorted = malloc((P ? P : 1) * sizeof *sorted);
  if (!sorted) return ope_error_nomem(err);
  for (size_t k = 0; k < P; k++) {
    const ope_rank_row *row = &rk->row[k];
    sorted[k] = r->pol[row->policy];
    sorted[k].rank = (int)k + 1;
    sorted[k].score = row->score;
    sorted[k].has_rank_ci = row->has_rank_ci;
    sorted[k].rank_lo = row->rank_lo;
    sorted[k].rank_hi = row->rank_hi;
    sorted[k].p_best = row->p_best;
    sorted[k].top_set = row->top_set;
    sorted[k].gated = row->gated;
  }
  memcpy(r->pol, sorted, P * sizeof *sorted);
  free(sorted);
  for (size_t a = 0; a < P; a++)
    for (size_t b = 0; b < P; b++)
      r->beats[a * P + b] = beats_in[rk->row[a].policy * P + rk->row[b].policy];
  return OPE_OK;
}

static void agreement(ope_report *r) {
  double *x = malloc((r->n_pol ? r->n_pol : 1) * sizeof(double));
  double *y = malloc((r->n_pol ? r->n_pol : 1) * sizeof(double));
  if (x && y && r->agree)
    for (size_t a = 0; a < r->n_est; a++)
      for (size_t b = 0; b < r->n_est; b++) {
        for (size_t p = 0; p < r->n_pol; p++) {
          x[p] = r->pol[p].cell[a].value;
          y[p] = r->pol[p].cell[b].value;
        }
        r->agree[a * r->n_est + b] = ope_metric_kendall(x, y, r->n_pol);
      }
  free(x);
  free(y);
}

ope_status ope_joint_report(ope_store *store, const ope_dataset *ds,
                            const ope_dataset_info *info,
                            ope_policy *const *pol, size_t n_pol,
                            const ope_joint_config *cfg, ope_report_kind kind,
                            ope_report *out, ope_error *err) {
  ope_status st = OPE_OK;
  ope_behavior_fit fit = {0};
  ope_eval_behavior beh = {0};
  ope_policy_scores *sc = NULL;
  ope_eval_policy_result *res = NULL;
  double **rep = NULL, *joint = NULL;
  ope_rank_result rk = {0};
  const ope_estimator *cols[32];
  const ope_eval_config *ec = &cfg->eval;
  size_t B = (size_t)ec->ci.n_boot;
  memset(out, 0, sizeof *out);
  if (kind == OPE_REPORT_AUDIT && n_pol > 1) n_pol = 1;
  if (n_pol == 0) return ope_error_set(err, OPE_EUSAGE, NULL, "no policy to report on");
  if (ec->ci.n_boot < 1)
    return ope_error_set(err, OPE_EUSAGE, NULL, "the ranking needs B >= 1 resamples");
  sc = calloc(n_pol, sizeof *sc);
  res = calloc(n_pol, sizeof *res);
  rep = calloc(n_pol, sizeof *rep);
  if (!sc || !res || !rep) {
    st = ope_error_nomem(err);
    goto done;
  }
  if (ds->pscore) {
    beh.prob = ds->pscore;
  } else {
    if ((st = ope_behavior_estimate(ds, cfg->behavior, &fit, err)) != OPE_OK) goto done;
    beh.estimated = 1;
    beh.prob = fit.prob;
    beh.dist = fit.dist;
    beh.fit = &fit;
  }
  for (size_t p = 0; p < n_pol; p++) {
    double bw = ec->bandwidth;
    if (pol[p]->deterministic && bw <= 0 && pol[p]->bandwidth <= 0)
      bw = ope_eval_default_bandwidth(ds);
    if ((st = ope_policy_score_dataset(pol[p], ds, bw, &sc[p], err)) != OPE_OK) goto done;
    if ((st = ope_eval_policy(ds, &beh, pol[p], &sc[p], ec, &res[p], err)) != OPE_OK) goto done;
    if (res[p].name == NULL && (res[p].name = strdup(pol[p]->name)) == NULL) {
      st = ope_error_nomem(err);
      goto done;
    }
    rep[p] = malloc((B * res[p].n_est > 0 ? B * res[p].n_est : 1) * sizeof(double));
    if (!rep[p]) {
      st = ope_error_nomem(err);
      goto done;
    }
    if ((st = ope_joint_replicates(ds, &beh, pol[p], &sc[p], ec, &res[p], rep[p], err)) != OPE_OK)
      goto done;
  }
  /* the report's frame */
  out->kind = kind;
  size_t n_cols = columns(res, n_pol, cols);
  size_t horizon = 0;
  for (size_t i = 0; i < ds->n_episodes; i++)
    if (ope_dataset_ep_len(ds, i) > horizon) horizon = ope_dataset_ep_len(ds, i);
  if ((st = ope_report_alloc(out, n_cols, n_pol, kind == OPE_REPORT_RANK,
                             kind == OPE_REPORT_AUDIT ? horizon : 0, err)) != OPE_OK)
    goto done;
  for (size_t j = 0; j < n_cols; j++) snprintf(out->est[j], sizeof out->est[j], "%s", cols[j]->name);
  snprintf(out->dataset, sizeof out->dataset, "%s", ds->name ? ds->name : "");
  if (info) {
    snprintf(out->dataset_source, sizeof out->dataset_source, "%s", info->source ? info->source : "");
    snprintf(out->dataset_sha256, sizeof out->dataset_sha256, "%s",
             info->source_sha256 ? info->source_sha256 : "");
  }
  data_hash(ds, out->data_sha256);
  out->n_episodes = ds->n_episodes;
  out->n_steps = ds->n_steps;
  out->gamma = ec->gamma;
  out->alpha = ec->ci.alpha;
  out->clip = ec->clip;
  snprintf(out->ci_method, sizeof out->ci_method, "%s", ope_ci_method_name(ec->ci.method));
  out->n_boot = ec->ci.n_boot;
  out->seed = ec->ci.seed;
  snprintf(out->propensities, sizeof out->propensities, "%s",
           beh.estimated ? "estimated" : "logged");
  snprintf(out->ope_version, sizeof out->ope_version, "%s", OPE_VERSION);
  out->by_lower = cfg->by_lower;
  for (size_t p = 0; p < n_pol; p++) {
    fill_policy(&res[p], out, &out->pol[p]);
    policy_meta(store, out->pol[p].name, &out->pol[p]);
    if (res[p].note[0]) ope_report_note(out, "%s: %s", out->pol[p].name, res[p].note);
  }
  if (beh.estimated)
    ope_report_note(out, "propensities were estimated (%s model, held-out mean log-likelihood "
                    "%.4g)", ope_behavior_kind_name(fit.kind), fit.heldout_loglik);
  if (kind == OPE_REPORT_AUDIT) {
    out->has_behavior = 1;
    ope_joint_behavior_value(ds, ec->gamma, ec->ci.alpha, &out->behavior_value,
                             &out->behavior_lo, &out->behavior_hi);
    if ((st = step_terms(ds, &beh, &sc[0], ec, out, err)) != OPE_OK) goto done;
    audit_verdict(out);
    goto done;
  }
  /* rank */
  const char *by = cfg->rank_estimator;
  for (int i = 0; by == NULL && preferred[i]; i++)
    if (find_col(out, preferred[i]) >= 0) by = preferred[i];
  if (by == NULL || find_col(out, by) < 0) {
    st = ope_error_set(err, OPE_EUSAGE, by ? by : NULL,
                       "the ranking estimator did not run on these policies");
    goto done;
  }
  snprintf(out->rank_estimator, sizeof out->rank_estimator, "%s", by);
  double *val = malloc(n_pol * 4 * sizeof(double));
  int *unrel = calloc(n_pol, sizeof(int));
  joint = malloc((B * n_pol > 0 ? B * n_pol : 1) * sizeof(double));
  if (!val || !unrel || !joint) {
    free(val);
    free(unrel);
    st = ope_error_nomem(err);
    goto done;
  }
  size_t jc = (size_t)find_col(out, by);
  for (size_t p = 0; p < n_pol; p++) {
    const ope_report_cell *c = &out->pol[p].cell[jc];
    long k = find_est(&res[p], by);
    val[p] = c->defined ? c->value : NAN;
    val[n_pol + p] = c->has_ci ? c->ci_low : NAN;
    val[2 * n_pol + p] = c->has_ci ? c->ci_high : NAN;
    unrel[p] = c->unreliable;
    for (size_t b = 0; b < B; b++)
      joint[b * n_pol + p] = k >= 0 ? rep[p][b * res[p].n_est + (size_t)k] : NAN;
  }
  ope_rank_input ri = {n_pol, val, val + n_pol, val + 2 * n_pol, unrel, B, joint,
                       cfg->by_lower, ec->ci.alpha};
  st = ope_rank_compute(&ri, &rk, err);
  free(val);
  free(unrel);
  if (st != OPE_OK) goto done;
  if ((st = apply_ranking(out, &rk, rk.beats, err)) != OPE_OK) goto done;
  agreement(out);
  rank_verdict(out);
done:
  for (size_t p = 0; p < n_pol && sc; p++) ope_policy_scores_clear(&sc[p]);
  for (size_t p = 0; p < n_pol && res; p++) ope_eval_policy_result_clear(&res[p]);
  for (size_t p = 0; p < n_pol && rep; p++) free(rep[p]);
  free(sc);
  free(res);
  free(rep);
  free(joint);
  ope_rank_result_clear(&rk);
  ope_behavior_fit_clear(&fit);
  if (st != OPE_OK) ope_report_clear(out);
  return st;
}

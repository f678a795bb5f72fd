/* One evaluation run (evaluate.h). */
#include "estimators/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ope_config.h"
#include "estimators/dr.h"

void ope_eval_config_default(ope_eval_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->gamma = 1.0;
  ope_ci_config_default(&cfg->ci);
  ope_diag_config_default(&cfg->diag);
  ope_fqe_config_default(&cfg->fqe);
}

double ope_eval_default_bandwidth(const ope_dataset *ds) {
  size_t n = ds->n_steps;
  int m = ds->action_dim;
  if (ds->action_kind != OPE_ACTION_CONTINUOUS || n < 2) return 1.0;
  double s = 0.0;
  for (int j = 0; j < m; j++) {
    double mu = 0.0, ss = 0.0;
    for (size_t r = 0; r < n; r++) mu += ds->action_vec[r * (size_t)m + j];
    mu /= (double)n;
    for (size_t r = 0; r < n; r++) {
      double e = ds->action_vec[r * (size_t)m + j] - mu;
      ss += e * e;
    }
    s += sqrt(ss / (double)(n - 1));
  }
  s /= m;
  double h = pow(4.0 / (m + 2.0), 1.0 / (m + 4.0)) * pow((double)n, -1.0 / (m + 4.0)) * s;
  return h > 1e-3 ? h : 1e-3;
}

void ope_eval_policy_result_clear(ope_eval_policy_result *r) {
  if (r == NULL) return;
  free(r->name);
  free(r->est);
  ope_diag_clear(&r->diag);
  memset(r, 0, sizeof *r);
}

int ope_eval_unreliable(const ope_eval_policy_result *r, size_t k) {
  return r->diag.unreliable && (r->est[k].est->needs & OPE_EST_NEEDS_WEIGHTS);
}

static int needs_q(const ope_estimator *const *list, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (list[k]->needs & OPE_EST_NEEDS_Q) return 1;
  return 0;
}

/* ope_eval_policy; when owned is pe itself, its prob is freed once the
 * weights exist (no estimator that fits Q is selected). Arrays are released
 * as soon as they are no longer read, so that the peak memory stays low on
 * large datasets: the scores after the weights, the weights after the
 * diagnostics and the statistics, before the intervals. */
static ope_status eval_policy(const ope_dataset *ds, const ope_eval_behavior *beh,
                              const ope_policy *pi, const ope_policy_scores *pe,
                              ope_policy_scores *owned, const ope_eval_config *cfg,
                              ope_eval_policy_result *out, ope_error *err) {
  ope_status st = OPE_OK;
  ope_weights w = {0};
  ope_qfit q = {0};
  const ope_estimator **run = NULL;
  ope_est_stats *stats = NULL;
  size_t n_run = 0;
  int explicit_list = cfg->est != NULL;
  const ope_estimator *const *want = explicit_list ? cfg->est : ope_estimator_table;
  size_t n_want = cfg->n_est;
  if (!explicit_list)
    for (n_want = 0; ope_estimator_table[n_want]; n_want++) {}
  memset(out, 0, sizeof *out);
  out->bandwidth = pe->deterministic ? pe->bandwidth : 0.0;
  run = calloc(n_want ? n_want : 1, sizeof *run);
  stats = calloc(n_want ? n_want : 1, sizeof *stats);
  out->est = calloc(n_want ? n_want : 1, sizeof *out->est);
  if (!run || !stats || !out->est) {
    st = ope_error_nomem(err);
    goto done;
  }
  if ((st = ope_weights_compute(ds, pe->prob, beh->prob, cfg->clip, &w, err)) != OPE_OK)
    goto done;
  if (owned && !needs_q(want, n_want)) {
    free(owned->prob);
    owned->prob = NULL;
  }
  if ((st = ope_diag_compute(ds, &w, pe, beh->dist, &cfg->diag, &out->diag, err)) != OPE_OK)
    goto done;
  ope_est_input in = {ds, &w, pe, NULL, cfg->gamma, cfg->has_reward_range,
                      cfg->reward_lo, cfg->reward_hi};
  if (needs_q(want, n_want)) {
    ope_fqe_config fc = cfg->fqe;
    fc.gamma = cfg->gamma;
    ope_error ferr;
    ope_status fs = ope_dr_fit_q(ds, pi, pe, &fc, fc.crossfit, &q, &ferr);
    if (fs == OPE_OK) {
      in.q = &q;
    } else if (explicit_list) {
      st = ope_error_set(err, fs, ferr.where, "fitted-Q evaluation: %s", ferr.msg);
      goto done;
    } else {
      snprintf(out->note, sizeof out->note, "estimators that need Q were skipped: %.200s",
               ferr.msg);
    }
  }
  for (size_t k = 0; k < n_want; k++) {
    char why[256];
    if (ope_est_check(want[k], &in, why, sizeof why)) {
      if (explicit_list) {
        st = ope_error_set(err, OPE_EUSAGE, want[k]->name, "%s", why);
        goto done;
      }
      continue;
    }
    if (explicit_list && ope_ci_check(&cfg->ci, want[k], &in, why, sizeof why)) {
      st = ope_error_set(err, OPE_EUSAGE, want[k]->name, "--ci %s refused: %s",
                         ope_ci_method_name(cfg->ci.method), why);
      goto done;
    }
    if ((st = ope_est_run(want[k], &in, &stats[n_run], &out->est[n_run], err)) != OPE_OK)
      goto done;
    if ((want[k]->needs & OPE_EST_NEEDS_Q) && q.warning[0]) {
      /* FQE's caveat first, then the estimate's own note (why it is
       * undefined), which must not be lost; an undefined Q already says
       * why everything reading it is undefined. */
      ope_estimate *e = &out->est[n_run];
      char own[sizeof e->note];
      memcpy(own, e->note, sizeof own);
      e->note[0] = '\0';
      ope_est_note_add(e, "%s", q.warning);
      if (q.defined && own[0]) ope_est_note_add(e, "%s", own);
    }
    run[n_run++] = want[k];
  }
  out->n_est = n_run;
  ope_weights_release_rows(&w); /* the intervals read only its clip and horizon */
  if ((st = ope_ci_compute(&cfg->ci, run, stats, &in, n_run, out->est, NULL, err)) != OPE_OK)
    goto done;
  if (in.q && (st = ope_dr_refit_intervals(ds, pi, pe, &cfg->fqe, cfg->gamma, &cfg->ci,
                                           out->est, n_run, err)) != OPE_OK)
    goto done;
done:
  for (size_t k = 0; k < n_want && stats; k++) ope_est_stats_clear(&stats[k]);
  free(stats);
  free(run);
  ope_weights_clear(&w);
  ope_qfit_clear(&q);
  if (st != OPE_OK) ope_eval_policy_result_clear(out);
  return st;
}

ope_status ope_eval_policy(const ope_dataset *ds, const ope_eval_behavior *beh,
                           const ope_policy *pi, const ope_policy_scores *pe,
                           const ope_eval_config *cfg,
                           ope_eval_policy_result *out, ope_error *err) {
  return eval_policy(ds, beh, pi, pe, NULL, cfg, out, err);
}

ope_status ope_eval_policy_consume(const ope_dataset *ds, const ope_eval_behavior *beh,
                                   const ope_policy *pi, ope_policy_scores *pe,
                                   const ope_eval_config *cfg,
                                   ope_eval_policy_result *out, ope_error *err) {
  return eval_policy(ds, beh, pi, pe, pe, cfg, out, err);
}

/* ---- the store ---- */

static void bind_num(sqlite3_stmt *st, int k, double x) {
  if (isfinite(x)) sqlite3_bind_double(st, k, x);
  else sqlite3_bind_null(st, k);
}

static void bind_text(sqlite3_stmt *st, int k, const char *s) {
  if (s && s[0]) sqlite3_bind_text(st, k, s, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, k);
}

static ope_status step_done(ope_store *s, sqlite3_stmt *st, const char *what,
                            ope_error *err) {
  int rc = sqlite3_step(st);
  ope_status r = rc == SQLITE_DONE ? OPE_OK : ope_store_fail(s, rc, what, err);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return r;
}

ope_status ope_eval_store(ope_store *s, const ope_dataset *ds,
                          const ope_eval_config *cfg,
                          const ope_eval_behavior *beh,
                          const ope_eval_policy_result *res, size_t n_pol,
                          const char *estimator_list,
                          const char *settings_json, const char *behavior_json,
                          const char *const *detail_json, int64_t *run_id,
                          ope_error *err) {
  sqlite3_stmt *ev = NULL, *es = NULL, *dg = NULL;
  ope_status st = ope_store_begin(s, err);
  if (st != OPE_OK) return st;
  st = ope_store_prepare(s,
      "INSERT INTO evaluations (dataset_id, dataset, n_episodes, n_steps, gamma, "
      "estimators, ci_method, alpha, n_boot, clip, bandwidth, reward_lo, reward_hi, "
      "seed, threads, propensities, behavior, settings, ope_version, created_at) "
      "VALUES ((SELECT id FROM datasets WHERE name = ?1), ?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)", &ev, err);
  if (st == OPE_OK)
    st = ope_store_prepare(s,
        "INSERT INTO estimates (evaluation_id, policy, estimator, estimate, ci_low, "
        "ci_high, ci_method, n_episodes, unreliable, note) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &es, err);
  if (st == OPE_OK)
    st = ope_store_prepare(s,
        "INSERT INTO diagnostics (evaluation_id, policy, source, source_sha256, "
        "bandwidth, ess, ess_frac, ess_step_min, max_share, zero_frac, n_clipped, "
        "support_rows, support_frac, unreliable, reason, detail) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        &dg, err);
  if (st != OPE_OK) goto done;
  char now[32];
  ope_store_now(now);
  sqlite3_bind_text(ev, 1, ds->name ? ds->name : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(ev, 2, (sqlite3_int64)ds->n_episodes);
  sqlite3_bind_int64(ev, 3, (sqlite3_int64)ds->n_steps);
  sqlite3_bind_double(ev, 4, cfg->gamma);
  sqlite3_bind_text(ev, 5, estimator_list, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ev, 6, ope_ci_method_name(cfg->ci.method), -1, SQLITE_STATIC);
  sqlite3_bind_double(ev, 7, cfg->ci.alpha);
  if (cfg->ci.method == OPE_CI_BOOTSTRAP) sqlite3_bind_int(ev, 8, cfg->ci.n_boot);
  if (cfg->clip > 0) sqlite3_bind_double(ev, 9, cfg->clip);
  if (cfg->bandwidth > 0) sqlite3_bind_double(ev, 10, cfg->bandwidth);
  if (cfg->has_reward_range) {
    sqlite3_bind_double(ev, 11, cfg->reward_lo);
    sqlite3_bind_double(ev, 12, cfg->reward_hi);
  }
  sqlite3_bind_int64(ev, 13, (sqlite3_int64)cfg->ci.seed);
  sqlite3_bind_int(ev, 14, cfg->ci.threads);
  sqlite3_bind_text(ev, 15, beh->estimated ? "estimated" : "logged", -1, SQLITE_STATIC);
  bind_text(ev, 16, behavior_json);
  sqlite3_bind_text(ev, 17, settings_json ? settings_json : "{}", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ev, 18, OPE_VERSION, -1, SQLITE_STATIC);
  sqlite3_bind_text(ev, 19, now, -1, SQLITE_TRANSIENT);
  if ((st = step_done(s, ev, "recording an evaluation", err)) != OPE_OK) goto done;
  int64_t id = sqlite3_last_insert_rowid(ope_store_db(s));
  for (size_t p = 0; p < n_pol && st == OPE_OK; p++) {
    const ope_eval_policy_result *r = &res[p];
    for (size_t k = 0; k < r->n_est && st == OPE_OK; k++) {
      const ope_estimate *e = &r->est[k];
      sqlite3_bind_int64(es, 1, id);
      sqlite3_bind_text(es, 2, r->name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(es, 3, e->est->name, -1, SQLITE_STATIC);
      bind_num(es, 4, e->flag == OPE_EST_DEFINED ? e->value : NAN);
      bind_num(es, 5, e->has_ci ? e->ci_low : NAN);
      bind_num(es, 6, e->has_ci ? e->ci_high : NAN);
      bind_text(es, 7, e->has_ci ? e->ci_method : NULL);
      sqlite3_bind_int64(es, 8, (sqlite3_int64)e->n_episodes);
      sqlite3_bind_int(es, 9, ope_eval_unreliable(r, k));
      bind_text(es, 10, e->note);
      st = step_done(s, es, "recording an estimate", err);
    }
    if (st != OPE_OK) break;
    const ope_diagnostics *d = &r->diag;
    sqlite3_bind_int64(dg, 1, id);
    sqlite3_bind_text(dg, 2, r->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(dg, 3, r->source, -1, SQLITE_TRANSIENT);
    bind_text(dg, 4, r->sha256);
    bind_num(dg, 5, r->bandwidth > 0 ? r->bandwidth : NAN);
    sqlite3_bind_double(dg, 6, d->ess);
    sqlite3_bind_double(dg, 7, d->ess_frac);
    sqlite3_bind_double(dg, 8, d->ess_step_min);
    sqlite3_bind_double(dg, 9, d->max_share);
    sqlite3_bind_double(dg, 10, d->zero_frac);
    sqlite3_bind_int64(dg, 11, (sqlite3_int64)d->n_clipped);
    if (d->support_kind) {
      sqlite3_bind_int64(dg, 12, (sqlite3_int64)d->support_rows);
      sqlite3_bind_double(dg, 13, d->support_frac);
    }
    sqlite3_bind_int(dg, 14, d->unreliable);
    bind_text(dg, 15, d->reason);
    sqlite3_bind_text(dg, 16, detail_json && detail_json[p] ? detail_json[p] : "{}",
                      -1, SQLITE_TRANSIENT);
    st = step_done(s, dg, "recording diagnostics", err);
  }
  if (st == OPE_OK) {
    sqlite3_finalize(ev);
    sqlite3_finalize(es);
    sqlite3_finalize(dg);
    ev = es = dg = NULL;
    st = ope_store_commit(s, err);
    if (st == OPE_OK) *run_id = id;
  }
done:
  sqlite3_finalize(ev);
  sqlite3_finalize(es);
  sqlite3_finalize(dg);
  if (st != OPE_OK) ope_store_rollback(s);
  return st;
}

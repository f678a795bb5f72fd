/* Ground truth in the store (sim.h: ope_sim_truth_put): one row of the
 * truth table (data/schema/002_policies.sql) per computed value, and the
 * reference policy's own row in the policies table. */
#include "sim/sim.h"

#include "ope_config.h"
#include "store/store.h"

ope_status ope_sim_truth_put(ope_store *s, const char *policy,
                             const char *env_spec, const ope_sim_value *v,
                             long long seed, ope_error *err) {
  static const char *ins_truth =
    "INSERT INTO truth (policy, env, gamma, horizon, method, value, ci_low,"
    " ci_high, episodes, seed, ope_version, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
  static const char *ins_policy =
    "INSERT OR IGNORE INTO policies (name, kind, env, created_at)"
    " VALUES (?1, 'reference', ?2, ?3)";
  sqlite3_stmt *st_truth = NULL, *st_pol = NULL;
  char now[32];
  ope_store_now(now);
  ope_status st = ope_store_begin(s, err);
  if (st != OPE_OK) return st;
  if ((st = ope_store_prepare(s, ins_truth, &st_truth, err)) != OPE_OK) goto done;
  sqlite3_bind_text(st_truth, 1, policy, -1, SQLITE_STATIC);
  sqlite3_bind_text(st_truth, 2, env_spec, -1, SQLITE_STATIC);
  sqlite3_bind_double(st_truth, 3, v->gamma);
  sqlite3_bind_int(st_truth, 4, v->horizon);
  sqlite3_bind_text(st_truth, 5, v->exact ? "exact" : "rollout", -1, SQLITE_STATIC);
  sqlite3_bind_double(st_truth, 6, v->value);
  sqlite3_bind_double(st_truth, 7, v->ci_low);
  sqlite3_bind_double(st_truth, 8, v->ci_high);
  if (v->exact) sqlite3_bind_null(st_truth, 9);
  else sqlite3_bind_int64(st_truth, 9, (sqlite3_int64)v->episodes);
  if (seed < 0) sqlite3_bind_null(st_truth, 10);
  else sqlite3_bind_int64(st_truth, 10, seed);
  sqlite3_bind_text(st_truth, 11, OPE_VERSION, -1, SQLITE_STATIC);
  sqlite3_bind_text(st_truth, 12, now, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st_truth);
  if (rc != SQLITE_DONE) {
    st = ope_store_fail(s, rc, "recording the truth", err);
    goto done;
  }
  if (ope_sim_is_reference_name(policy)) {
    if ((st = ope_store_prepare(s, ins_policy, &st_pol, err)) != OPE_OK) goto done;
    sqlite3_bind_text(st_pol, 1, policy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st_pol, 2, env_spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st_pol, 3, now, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st_pol)) != SQLITE_DONE) {
      st = ope_store_fail(s, rc, "recording the reference policy", err);
      goto done;
    }
  }
  st = ope_store_commit(s, err);
done:
  sqlite3_finalize(st_truth);
  sqlite3_finalize(st_pol);
  if (st != OPE_OK) ope_store_rollback(s);
  return st;
}

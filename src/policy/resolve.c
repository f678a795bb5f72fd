/* Policy lookup by name (resolve.h). Reference policies are built by the
 * simulators; stored rows of kind 'checkpoint' are turned into policies by
 * the trainers' checkpoint loader (train/ckpt_policy.h). */
#include "policy/resolve.h"

#include <stdio.h>
#include <string.h>

#include "sim/sim.h"
#include "train/ckpt_policy.h"

/* A row of the policies table: its kind, or OPE_ENOINPUT when absent. */
static ope_status stored_kind(ope_store *store, const char *name, char *kind,
                              size_t size, ope_error *err) {
  sqlite3_stmt *st = NULL;
  ope_status rc = ope_store_prepare(store, "SELECT kind FROM policies WHERE name = ?1",
                                    &st, err);
  if (rc != OPE_OK) return rc;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    snprintf(kind, size, "%s", (const char *)sqlite3_column_text(st, 0));
    rc = OPE_OK;
  } else if (s == SQLITE_DONE) {
    rc = OPE_ENOINPUT;
  } else {
    rc = ope_store_fail(store, s, "looking up a policy", err);
  }
  sqlite3_finalize(st);
  return rc;
}

ope_status ope_policy_resolve(ope_store *store, const char *name,
                              ope_policy **out, ope_error *err) {
  *out = NULL;
  if (ope_sim_is_reference_name(name)) return ope_sim_policy_new(name, out, err);
  char kind[32] = "";
  ope_status rc = store ? stored_kind(store, name, kind, sizeof kind, err) : OPE_ENOINPUT;
  if (rc == OPE_ENOINPUT)
    return ope_error_set(err, OPE_ENOINPUT, name,
                         "no such policy: not a simulator reference policy "
                         "(ENV:REGIME, e.g. chain:eps=0.3) and not in the store%s",
                         store ? "" : " (no store open)");
  if (rc != OPE_OK) return rc;
  if (strcmp(kind, "reference") == 0) return ope_sim_policy_new(name, out, err);
  if (strcmp(kind, "checkpoint") == 0) return ope_train_policy_load(store, name, out, err);
  return ope_error_set(err, OPE_EUSAGE, name,
                       "stored policies of kind '%s' cannot be loaded by this build",
                       kind);
}

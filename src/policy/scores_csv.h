/* The policy-scores CSV: an evaluation policy that lives elsewhere, given as
 * its probabilities on the logged steps (shared/spec/log-csv.md, man
 * ope-policy-csv(5)).
 *
 * Columns: episode, step, prob, and optionally prob_0 .. prob_{A-1} (discrete
 * only). Every logged step of the dataset must be scored exactly once. A
 * file is read whole or rejected: the first problem stops the read with
 * OPE_EDATA and an error whose `where` is "FILE:LINE" (or "FILE" for a step
 * that is missing) and whose message names the column, the value and the
 * rule. Rules:
 *   - episode ids are matched as text against the dataset's episode labels,
 *     steps as integers; a step the dataset does not have is an extra step,
 *     one scored twice a duplicate, one not scored a missing step;
 *   - discrete: prob in [0, 1]; continuous: prob (a density) >= 0 and finite;
 *   - prob_k in [0, 1], summing to 1 within OPE_SCORES_SUM_TOL, and prob equal
 *     to prob_<logged action> within the same tolerance;
 *   - other columns, empty fields, nan and inf are errors. */
#ifndef OPE_POLICY_SCORES_CSV_H
#define OPE_POLICY_SCORES_CSV_H

#include "core/error.h"
#include "data/dataset.h"
#include "policy/policy.h"

/* Absolute tolerance on sum_k prob_k = 1 and on prob = prob_<action>. */
#define OPE_SCORES_SUM_TOL 1e-6

/* Read path against ds into out (prob always; dist when the file has the
 * prob_* columns). out is zeroed first; on failure nothing is left
 * allocated. OPE_ENOINPUT when the file does not exist. */
ope_status ope_scores_csv_read(const char *path, const ope_dataset *ds,
                               ope_policy_scores *out, ope_error *err);

/* The same, and the SHA-256 of the file's bytes (computed in the same pass)
 * into sha256_hex. */
ope_status ope_scores_csv_read_sha(const char *path, const ope_dataset *ds,
                                   ope_policy_scores *out, char sha256_hex[65],
                                   ope_error *err);

/* Flags of ope_scores_csv_read_ex. */
enum {
  /* check the prob_* columns (sums, agreement with prob) but do not keep
   * them: out->dist stays NULL. A caller that needs no distribution saves
   * n_steps x A doubles. */
  OPE_SCORES_DROP_DIST = 1,
};

/* ope_scores_csv_read_sha with flags (OPE_SCORES_*); sha256_hex may be NULL. */
ope_status ope_scores_csv_read_ex(const char *path, const ope_dataset *ds,
                                  unsigned flags, ope_policy_scores *out,
                                  char sha256_hex[65], ope_error *err);

/* A policy named `name` whose ops->score reads path against the dataset it
 * is asked to score; its kind and widths are those of ds (so that it fits).
 * It has no online ops (dist/sample): it can only score logged data. */
ope_status ope_scores_csv_policy(const char *path, const char *name,
                                 const ope_dataset *ds, ope_policy **out,
                                 ope_error *err);

#endif

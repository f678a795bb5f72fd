/* Writing the log CSV (shared/spec/log-csv.md) from an in-memory dataset.
 *
 * Column order: episode, step, obs_0.., action or action_0.., reward,
 * terminal, pscore (when present), next_obs_0.. (when present). Numbers are
 * the shortest decimals that read back to the same doubles, so
 * ingest -> export -> ingest is exact. */
#ifndef OPE_DATA_CSVWRITE_H
#define OPE_DATA_CSVWRITE_H

#include <stdio.h>

#include "core/error.h"
#include "data/dataset.h"

/* Write ds to f; path names f in errors. Episode ids are the dataset's
 * labels (quoted per RFC 4180 when needed), or the episode index. */
ope_status ope_log_csv_write(const ope_dataset *ds, FILE *f, const char *path,
                             ope_error *err);

#endif

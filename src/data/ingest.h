/* Ingest: a log CSV into the store as a named dataset, all or nothing.
 *
 * The file is read once (csvlog.h) and streamed into one write transaction
 * (store.h); any bad row, or any store error, rolls everything back, so the
 * store holds either the whole new dataset or exactly what it held before. */
#ifndef OPE_DATA_INGEST_H
#define OPE_DATA_INGEST_H

#include "core/error.h"
#include "data/csvlog.h"
#include "store/store.h"

typedef struct ope_ingest_options {
  const char *name;   /* dataset name (required, non-empty) */
  int n_actions;      /* discrete A (--actions), 0 = infer max(action)+1 */
  int replace;        /* replace a dataset of the same name */
  const char *notes;  /* free text kept with the dataset, may be NULL */
} ope_ingest_options;

/* Check a dataset name: 1..200 bytes, no control characters. Returns NULL
 * when good, else a reason. */
const char *ope_dataset_name_problem(const char *name);

/* Load path into the store. On success *summary describes what was loaded. */
ope_status ope_ingest_csv(ope_store *s, const char *path,
                          const ope_ingest_options *opt,
                          ope_log_summary *summary, ope_error *err);

#endif

/* Reading the logged-data CSV (shared/spec/log-csv.md, man ope-log-csv(5)).
 *
 * One streaming pass with libcsv: the header is mapped to roles, every row
 * is validated against every rule of the spec, and each good step is handed
 * to a sink (the store writer, or an in-memory dataset). Memory does not grow
 * with the file, only with the number of episodes (their ids are remembered
 * to catch an episode split in two places). The first bad value stops the
 * read with OPE_EDATA and an error whose `where` is "FILE:LINE" and whose
 * message names the column, the value and the rule; the sink's caller then
 * discards everything (ingest is all-or-nothing). The file's SHA-256 is
 * computed over the same bytes. */
#ifndef OPE_DATA_CSVLOG_H
#define OPE_DATA_CSVLOG_H

#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"

typedef struct ope_log_layout {
  int obs_dim;
  ope_action_kind action_kind;
  int action_dim;     /* continuous m; 1 for discrete */
  int has_terminal;
  int has_pscore;
  int has_next_obs;
} ope_log_layout;

typedef struct ope_log_step {
  int64_t episode;          /* 0-based episode index in file order */
  int64_t step;
  const double *obs;        /* obs_dim */
  int32_t action;           /* discrete */
  const double *action_vec; /* continuous, action_dim; else NULL */
  double reward;
  int terminal;
  double pscore;            /* 0 when the file has none */
  const double *next_obs;   /* NULL when the file has none */
} ope_log_step;

typedef struct ope_log_sink {
  void *ctx;
  /* After the header: the layout. */
  ope_status (*begin)(void *ctx, const ope_log_layout *layout, ope_error *err);
  ope_status (*step)(void *ctx, const ope_log_step *s, ope_error *err);
  /* After an episode's last row. ret = undiscounted sum of rewards. */
  ope_status (*episode)(void *ctx, const char *label, int64_t first_row,
                        int64_t length, int terminal, double ret,
                        ope_error *err);
} ope_log_sink;

typedef struct ope_log_summary {
  ope_log_layout layout;
  int n_actions;            /* discrete: given or max(action)+1 */
  int64_t n_episodes;
  int64_t n_steps;
  int64_t n_terminal;       /* episodes ending with terminal = 1 */
  char sha256[65];
} ope_log_summary;

/* Read and validate path. n_actions > 0 fixes A (--actions), 0 infers it.
 * The sink may be NULL (validate only). */
ope_status ope_log_csv_read(const char *path, int n_actions,
                            const ope_log_sink *sink, ope_log_summary *out,
                            ope_error *err);

/* Read path into a new in-memory dataset (episode labels kept). */
ope_status ope_log_csv_load(const char *path, int n_actions,
                            ope_dataset **out, ope_error *err);

#endif

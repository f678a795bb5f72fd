/* The in-memory dataset: one logged dataset as contiguous arrays.
 *
 * Everything that computes (estimators, FQE, trainers, diagnostics) reads an
 * ope_dataset; nothing else queries steps from the store. Rows are steps in
 * episode order; episode i owns rows ep_offset[i] .. ep_offset[i+1]-1.
 * All arrays are owned by the dataset and freed by ope_dataset_free. */
#ifndef OPE_DATA_DATASET_H
#define OPE_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum ope_action_kind {
  OPE_ACTION_DISCRETE = 0,
  OPE_ACTION_CONTINUOUS = 1,
} ope_action_kind;

/* Hard limits on widths, so a hostile file cannot ask for a huge allocation. */
#define OPE_MAX_OBS_DIM 4096
#define OPE_MAX_ACTION_DIM 256
#define OPE_MAX_ACTIONS 65536

typedef struct ope_dataset {
  char *name;              /* dataset name in the store (may be NULL) */
  size_t n_episodes;
  size_t n_steps;
  int obs_dim;             /* d >= 1 */
  ope_action_kind action_kind;
  int n_actions;           /* discrete: A; continuous: 0 */
  int action_dim;          /* continuous: m; discrete: 1 */
  size_t *ep_offset;       /* (n_episodes + 1) */
  char **ep_label;         /* (n_episodes) the CSV's episode id text */
  double *obs;             /* (n_steps, obs_dim) */
  double *next_obs;        /* (n_steps, obs_dim), or NULL when the log has none */
  int32_t *action;         /* (n_steps) discrete actions; NULL if continuous */
  double *action_vec;      /* (n_steps, action_dim) continuous; NULL if discrete */
  double *reward;          /* (n_steps) */
  uint8_t *terminal;       /* (n_steps) 1 only on an episode's last row */
  double *pscore;          /* (n_steps) behavior propensity, or NULL */
} ope_dataset;

/* Allocate a dataset with room for the given sizes; arrays are zeroed.
 * has_next_obs / has_pscore decide whether those arrays exist.
 * Returns NULL (and fills err) when out of memory or sizes are out of range. */
ope_dataset *ope_dataset_alloc(size_t n_episodes, size_t n_steps, int obs_dim,
                               ope_action_kind kind, int n_actions,
                               int action_dim, int has_next_obs,
                               int has_pscore, ope_error *err);
void ope_dataset_free(ope_dataset *ds);

/* Episode i's length and first row. */
static inline size_t ope_dataset_ep_len(const ope_dataset *ds, size_t i) {
  return ds->ep_offset[i + 1] - ds->ep_offset[i];
}

/* Whether row t has a next state: always when next_obs exists or the row is
 * not its episode's last; never after a terminal. next_obs_out receives a
 * pointer to it (NULL when absent). */
int ope_dataset_next(const ope_dataset *ds, size_t ep, size_t t,
                     const double **next_obs_out);

/* Discounted return of episode i: sum_t g^t r_t. */
double ope_dataset_return(const ope_dataset *ds, size_t i, double gamma);

/* Copy of the rows of the listed episodes (in the given order), e.g. for a
 * cross-fitting half or a shard. Returns NULL and fills err on failure. */
ope_dataset *ope_dataset_subset(const ope_dataset *ds, const size_t *episodes,
                                size_t n, ope_error *err);

#endif

/* In-memory dataset: allocation, episode helpers and subsets (dataset.h). */
#include "data/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *zalloc(size_t n, size_t size, int *ok) {
  if (n == 0) n = 1;
  void *p = calloc(n, size);
  if (p == NULL) *ok = 0;
  return p;
}

ope_dataset *ope_dataset_alloc(size_t n_episodes, size_t n_steps, int obs_dim,
                               ope_action_kind kind, int n_actions,
                               int action_dim, int has_next_obs,
                               int has_pscore, ope_error *err) {
  if (obs_dim < 1 || obs_dim > OPE_MAX_OBS_DIM) {
    ope_error_set(err, OPE_EDATA, NULL, "observation width %d is outside 1..%d",
                  obs_dim, OPE_MAX_OBS_DIM);
    return NULL;
  }
  if (kind == OPE_ACTION_DISCRETE && (n_actions < 1 || n_actions > OPE_MAX_ACTIONS)) {
    ope_error_set(err, OPE_EDATA, NULL, "action count %d is outside 1..%d",
                  n_actions, OPE_MAX_ACTIONS);
    return NULL;
  }
  if (kind == OPE_ACTION_CONTINUOUS &&
      (action_dim < 1 || action_dim > OPE_MAX_ACTION_DIM)) {
    ope_error_set(err, OPE_EDATA, NULL, "action width %d is outside 1..%d",
                  action_dim, OPE_MAX_ACTION_DIM);
    return NULL;
  }
  if (n_steps > SIZE_MAX / sizeof(double) / (size_t)obs_dim) {
    ope_error_set(err, OPE_EDATA, NULL, "dataset too large");
    return NULL;
  }
  ope_dataset *ds = calloc(1, sizeof *ds);
  if (ds == NULL) {
    ope_error_nomem(err);
    return NULL;
  }
  int ok = 1;
  ds->n_episodes = n_episodes;
  ds->n_steps = n_steps;
  ds->obs_dim = obs_dim;
  ds->action_kind = kind;
  ds->n_actions = kind == OPE_ACTION_DISCRETE ? n_actions : 0;
  ds->action_dim = kind == OPE_ACTION_DISCRETE ? 1 : action_dim;
  ds->ep_offset = zalloc(n_episodes + 1, sizeof *ds->ep_offset, &ok);
  ds->ep_label = zalloc(n_episodes, sizeof *ds->ep_label, &ok);
  ds->obs = zalloc(n_steps * (size_t)obs_dim, sizeof *ds->obs, &ok);
  if (has_next_obs)
    ds->next_obs = zalloc(n_steps * (size_t)obs_dim, sizeof *ds->next_obs, &ok);
  if (kind == OPE_ACTION_DISCRETE)
    ds->action = zalloc(n_steps, sizeof *ds->action, &ok);
  else
    ds->action_vec = zalloc(n_steps * (size_t)action_dim, sizeof *ds->action_vec, &ok);
  ds->reward = zalloc(n_steps, sizeof *ds->reward, &ok);
  ds->terminal = zalloc(n_steps, sizeof *ds->terminal, &ok);
  if (has_pscore) ds->pscore = zalloc(n_steps, sizeof *ds->pscore, &ok);
  if (!ok) {
    ope_dataset_free(ds);
    ope_error_nomem(err);
    return NULL;
  }
  return ds;
}

void ope_dataset_free(ope_dataset *ds) {
  if (ds == NULL) return;
  if (ds->ep_label)
    for (size_t i = 0; i < ds->n_episodes; i++) free(ds->ep_label[i]);
  free(ds->name);
  free(ds->ep_offset);
  free(ds->ep_label);
  free(ds->obs);
  free(ds->next_obs);
  free(ds->action);
  free(ds->action_vec);
  free(ds->reward);
  free(ds->terminal);
  free(ds->pscore);
  free(ds);
}

int ope_dataset_next(const ope_dataset *ds, size_t ep, size_t t,
                     const double **next_obs_out) {
  size_t last = ds->ep_offset[ep + 1] - 1;
  const double *p = NULL;
  if (ds->terminal[t]) {
    p = ds->next_obs ? ds->next_obs + t * (size_t)ds->obs_dim : NULL;
    if (next_obs_out) *next_obs_out = p;
    return 0;
  }
  if (ds->next_obs)
    p = ds->next_obs + t * (size_t)ds->obs_dim;
  else if (t < last)
    p = ds->obs + (t + 1) * (size_t)ds->obs_dim;
  if (next_obs_out) *next_obs_out = p;
  return p != NULL;
}

double ope_dataset_return(const ope_dataset *ds, size_t i, double gamma) {
  double g = 0.0, disc = 1.0;
  for (size_t t = ds->ep_offset[i]; t < ds->ep_offset[i + 1]; t++) {
    g += disc * ds->reward[t];
    disc *= gamma;
  }
  return g;
}

ope_dataset *ope_dataset_subset(const ope_dataset *ds, const size_t *episodes,
                                size_t n, ope_error *err) {
  size_t steps = 0;
  for (size_t k = 0; k < n; k++) steps += ope_dataset_ep_len(ds, episodes[k]);
  ope_dataset *out = ope_dataset_alloc(n, steps, ds->obs_dim, ds->action_kind,
                                       ds->n_actions, ds->action_dim,
                                       ds->next_obs != NULL,
                                       ds->pscore != NULL, err);
  if (out == NULL) return NULL;
  size_t d = (size_t)ds->obs_dim, m = (size_t)ds->action_dim, row = 0;
  for (size_t k = 0; k < n; k++) {
    size_t e = episodes[k], a = ds->ep_offset[e], len = ope_dataset_ep_len(ds, e);
    out->ep_offset[k] = row;
    if (ds->ep_label && ds->ep_label[e]) {
      out->ep_label[k] = strdup(ds->ep_label[e]);
      if (out->ep_label[k] == NULL) goto nomem;
    }
    memcpy(out->obs + row * d, ds->obs + a * d, len * d * sizeof(double));
    if (ds->next_obs)
      memcpy(out->next_obs + row * d, ds->next_obs + a * d, len * d * sizeof(double));
    if (ds->action)
      memcpy(out->action + row, ds->action + a, len * sizeof(int32_t));
    else
      memcpy(out->action_vec + row * m, ds->action_vec + a * m, len * m * sizeof(double));
    memcpy(out->reward + row, ds->reward + a, len * sizeof(double));
    memcpy(out->terminal + row, ds->terminal + a, len);
    if (ds->pscore) memcpy(out->pscore + row, ds->pscore + a, len * sizeof(double));
    row += len;
  }
  out->ep_offset[n] = row;
  return out;
nomem:
  ope_dataset_free(out);
  ope_error_nomem(err);
  return NULL;
}

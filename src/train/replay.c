/* Normalized transitions and minibatches for the trainers (replay.h). */
#include "train/replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ope_train_replay_free(ope_train_replay *rb) {
  if (rb == NULL) return;
  free(rb->obs);
  free(rb->next_obs);
  free(rb->act);
  free(rb->acti);
  free(rb->rew);
  free(rb->done);
  free(rb->td_rows);
  free(rb->act_scale);
  ope_norm_free(rb->norm);
  free(rb);
}

ope_status ope_train_replay_new(const ope_dataset *ds, double reward_scale,
                                ope_train_replay **out, ope_error *err) {
  *out = NULL;
  if (ds->n_steps == 0)
    return ope_error_set(err, OPE_EDATA, ds->name, "the dataset has no steps");
  if (!(reward_scale > 0))
    return ope_error_set(err, OPE_EUSAGE, "reward_scale", "must be > 0");
  ope_status st = OPE_OK;
  ope_train_replay *rb = calloc(1, sizeof *rb);
  if (rb == NULL) return ope_error_nomem(err);
  size_t n = ds->n_steps, d = (size_t)ds->obs_dim;
  rb->d = ds->obs_dim;
  rb->discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  rb->A = rb->discrete ? ds->n_actions : 0;
  rb->m = rb->discrete ? 1 : ds->action_dim;
  rb->n = n;
  rb->reward_scale = reward_scale;
  rb->obs = malloc(n * d * sizeof(float));
  rb->next_obs = calloc(n * d, sizeof(float));
  rb->rew = malloc(n * sizeof(float));
  rb->done = malloc(n * sizeof(float));
  rb->td_rows = malloc(n * sizeof(size_t));
  if (rb->discrete) rb->acti = malloc(n * sizeof(int32_t));
  else {
    rb->act = malloc(n * (size_t)rb->m * sizeof(float));
    rb->act_scale = malloc((size_t)rb->m * sizeof(double));
  }
  if (!rb->obs || !rb->next_obs || !rb->rew || !rb->done || !rb->td_rows ||
      (rb->discrete ? !rb->acti : (!rb->act || !rb->act_scale))) {
    st = ope_error_nomem(err);
    goto fail;
  }
  if ((st = ope_norm_new(rb->d, &rb->norm, err)) != OPE_OK) goto fail;
  ope_norm_fit(rb->norm, ds->obs, n, d);
  ope_norm_apply(rb->norm, ds->obs, n, d, rb->obs, d);
  for (size_t e = 0; e < ds->n_episodes; e++) {
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      const double *nx = NULL;
      if (ope_dataset_next(ds, e, t, &nx) && nx != NULL) {
        ope_norm_apply(rb->norm, nx, 1, d, rb->next_obs + t * d, d);
        rb->td_rows[rb->n_td++] = t;
      } else if (ds->terminal[t]) {
        rb->td_rows[rb->n_td++] = t; /* absorbing: next value is 0 */
      }
      rb->rew[t] = (float)(ds->reward[t] / reward_scale);
      rb->done[t] = ds->terminal[t] ? 1.0f : 0.0f;
    }
  }
  if (rb->discrete) {
    memcpy(rb->acti, ds->action, n * sizeof(int32_t));
  } else {
    int m = rb->m;
    for (int j = 0; j < m; j++) rb->act_scale[j] = 0;
    for (size_t t = 0; t < n; t++)
      for (int j = 0; j < m; j++) {
        double v = fabs(ds->action_vec[t * m + j]);
        if (v > rb->act_scale[j]) rb->act_scale[j] = v;
      }
    for (int j = 0; j < m; j++)
      if (!(rb->act_scale[j] > 1e-12)) rb->act_scale[j] = 1.0;
    for (size_t t = 0; t < n; t++)
      for (int j = 0; j < m; j++)
        rb->act[t * m + j] = (float)(ds->action_vec[t * m + j] / rb->act_scale[j]);
  }
  if (rb->n_td == 0) {
    st = ope_error_set(err, OPE_EDATA, ds->name,
                       "the dataset has no transition with a next state");
    goto fail;
  }
  *out = rb;
  return OPE_OK;
fail:
  ope_train_replay_free(rb);
  return st;
}

void ope_train_batch_free(ope_train_batch *b) {
  if (b == NULL) return;
  free(b->s);
  free(b->s2);
  free(b->a);
  free(b->ai);
  free(b->r);
  free(b->done);
  free(b);
}

ope_status ope_train_batch_new(const ope_train_replay *rb, int B,
                               ope_train_batch **out, ope_error *err) {
  *out = NULL;
  if (B < 1 || B > (1 << 20))
    return ope_error_set(err, OPE_EUSAGE, "batch", "batch size %d out of range", B);
  ope_train_batch *b = calloc(1, sizeof *b);
  if (b == NULL) return ope_error_nomem(err);
  size_t nb = (size_t)B, d = (size_t)rb->d;
  size_t aw = rb->discrete ? (size_t)rb->A : (size_t)rb->m;
  b->B = B;
  b->s = malloc(nb * d * sizeof(float));
  b->s2 = malloc(nb * d * sizeof(float));
  b->a = calloc(nb * aw, sizeof(float));
  b->ai = calloc(nb, sizeof(int32_t));
  b->r = malloc(nb * sizeof(float));
  b->done = malloc(nb * sizeof(float));
  if (!b->s || !b->s2 || !b->a || !b->ai || !b->r || !b->done) {
    ope_train_batch_free(b);
    return ope_error_nomem(err);
  }
  *out = b;
  return OPE_OK;
}

void ope_train_replay_sample(const ope_train_replay *rb, ope_rng *rng,
                             int td, ope_train_batch *b) {
  size_t d = (size_t)rb->d;
  int A = rb->A, m = rb->m;
  for (int i = 0; i < b->B; i++) {
    size_t t = td ? rb->td_rows[ope_rng_below(rng, rb->n_td)]
                  : (size_t)ope_rng_below(rng, rb->n);
    memcpy(b->s + i * d, rb->obs + t * d, d * sizeof(float));
    memcpy(b->s2 + i * d, rb->next_obs + t * d, d * sizeof(float));
    b->r[i] = rb->rew[t];
    b->done[i] = rb->done[t];
    if (rb->discrete) {
      b->ai[i] = rb->acti[t];
      memset(b->a + (size_t)i * A, 0, (size_t)A * sizeof(float));
      b->a[(size_t)i * A + rb->acti[t]] = 1.0f;
    } else {
      memcpy(b->a + (size_t)i * m, rb->act + t * m, (size_t)m * sizeof(float));
    }
  }
}

/* The trainers' view of a logged dataset: normalized transitions in float,
 * and random minibatches drawn from them.
 *
 * Observations are standardized with the dataset's mean and standard
 * deviation (kept as an ope_norm and saved in every checkpoint); continuous
 * actions are divided per dimension by the largest magnitude logged, so
 * networks act in [-1, 1] and policies scale back; rewards are divided by
 * the `reward_scale` setting. Rows that have a next state (everything but
 * the last row of a truncated episode without next_obs) form the
 * transition set that TD losses sample from; behavior cloning samples from
 * every row. Terminal rows have done = 1: their next value is 0. */
#ifndef OPE_TRAIN_REPLAY_H
#define OPE_TRAIN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "nn/norm.h"

typedef struct ope_train_replay {
  int d;                 /* observation width */
  int discrete;          /* 1: discrete actions */
  int A;                 /* discrete: number of actions */
  int m;                 /* continuous: action width; discrete: 1 */
  size_t n;              /* rows */
  float *obs;            /* (n, d) standardized */
  float *next_obs;       /* (n, d) standardized; zeros where there is none */
  float *act;            /* (n, m) scaled to [-1, 1]; NULL when discrete */
  int32_t *acti;         /* (n) discrete actions; NULL when continuous */
  float *rew;            /* (n) reward / reward_scale */
  float *done;           /* (n) 1 on terminal rows */
  size_t *td_rows;       /* rows with a next state */
  size_t n_td;
  ope_norm *norm;        /* observation normalization, owned */
  double *act_scale;     /* (m) continuous: largest |a| per dimension */
  double reward_scale;
} ope_train_replay;

/* Build the replay of ds. reward_scale > 0. OPE_EDATA for an empty
 * dataset or one without any transition. */
ope_status ope_train_replay_new(const ope_dataset *ds, double reward_scale,
                                ope_train_replay **out, ope_error *err);
void ope_train_replay_free(ope_train_replay *rb);

/* A minibatch of B rows with its own buffers. */
typedef struct ope_train_batch {
  int B;
  float *s;          /* (B, d) */
  float *s2;         /* (B, d) */
  float *a;          /* (B, m) continuous; one-hot (B, A) when discrete */
  int32_t *ai;       /* (B) discrete actions (0 when continuous) */
  float *r;          /* (B) */
  float *done;       /* (B) */
} ope_train_batch;

ope_status ope_train_batch_new(const ope_train_replay *rb, int B,
                               ope_train_batch **out, ope_error *err);
void ope_train_batch_free(ope_train_batch *b);

/* Fill b with B rows drawn uniformly with replacement: from the transition
 * rows when td != 0, else from all rows. */
void ope_train_replay_sample(const ope_train_replay *rb, ope_rng *rng,
                             int td, ope_train_batch *b);

#endif

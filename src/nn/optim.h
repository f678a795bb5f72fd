/* Optimizers and training helpers over flat parameter buffers: Adam and
 * AdamW with global-norm gradient clipping, Polyak-averaged target copies,
 * and learning-rate schedules (linear warmup, cosine decay).
 *
 * Because a model's parameters, gradients and moments share one layout
 * (nn/mlp.h), each of these is one loop over n floats. */
#ifndef OPE_NN_OPTIM_H
#define OPE_NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ope_adam_config {
  double lr;            /* base step size alpha */
  double beta1, beta2;  /* 0.9, 0.999 */
  double eps;           /* 1e-8 */
  double weight_decay;  /* 0 = none */
  int decoupled;        /* 1: AdamW (decay applied to the parameters),
                           0: Adam with L2 added to the gradient */
  double clip_norm;     /* > 0: rescale gradients to this global L2 norm
                           when larger; 0 = no clipping */
} ope_adam_config;

/* Adam defaults (Kingma & Ba 2015): lr 1e-3, betas 0.9/0.999, eps 1e-8, no
 * decay, no clipping. */
void ope_adam_config_default(ope_adam_config *cfg);

typedef struct ope_adam {
  ope_adam_config cfg;
  size_t n;
  int64_t t;        /* steps taken */
  float *m, *v;     /* (n) first and second moments */
} ope_adam;

/* Moments for n parameters, zeroed. */
ope_status ope_adam_new(const ope_adam_config *cfg, size_t n, ope_adam **out,
                        ope_error *err);
void ope_adam_free(ope_adam *a);

/* One update of params from grads (both (n)) with step size lr (pass
 * cfg.lr or a schedule's value). With clip_norm > 0 the gradient is
 * scaled down to that global norm when larger (grads itself is not
 * changed). Returns the global gradient norm before clipping.
 * Adam: Kingma & Ba 2015, Algorithm 1; AdamW: Loshchilov & Hutter 2019,
 * Algorithm 2 (lines 6-12, with the schedule multiplier folded into lr). */
double ope_adam_step(ope_adam *a, float *params, const float *grads,
                     double lr);

/* Global L2 norm of g (n), accumulated in double. */
double ope_nn_grad_norm(const float *g, size_t n);

/* target = (1 - tau) target + tau src over n values (Polyak averaging;
 * Lillicrap et al. 2016, Algorithm 1). tau = 1 copies. */
void ope_nn_polyak(float *target, const float *src, size_t n, double tau);

typedef enum ope_lr_kind {
  OPE_LR_CONSTANT = 0,
  OPE_LR_COSINE = 1,   /* Loshchilov & Hutter 2017 (SGDR), eq. 5, one cycle */
} ope_lr_kind;

typedef struct ope_lr_schedule {
  ope_lr_kind kind;
  double base;          /* peak learning rate */
  double min;           /* cosine floor */
  int64_t warmup;       /* linear warmup steps from ~0 to base (0 = none) */
  int64_t total;        /* steps of the whole run (cosine reaches min here) */
} ope_lr_schedule;

/* Learning rate at step (0-based): warmup (step+1)/warmup * base, then
 * constant or cosine from base to min over the remaining steps. */
double ope_lr_at(const ope_lr_schedule *s, int64_t step);

#endif

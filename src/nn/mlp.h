/* Multi-layer perceptrons: the networks of FQE (Q-functions), and of the
 * trainers (actors, critics, twin critics, VAEs, behavior models).
 *
 * A model is a config + sizes + ONE flat float buffer of parameters with
 * named views (offsets of each layer's weights and biases). The gradient
 * buffer has the same layout, so optimizers (nn/optim.h), Polyak target
 * copies and checkpoints treat a model as one array.
 *
 * Architecture: for each hidden layer i, z = h W_i + b_i, then optionally
 * layer norm, then the activation; the output layer is linear. Activations
 * of a forward pass live in a workspace (ope_mlp_ws), so one model can be
 * run on several batches (s and s') before one backward. */
#ifndef OPE_NN_MLP_H
#define OPE_NN_MLP_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"

#define OPE_MLP_MAX_HIDDEN 8
/* Widths beyond this are refused (also by the checkpoint loader). */
#define OPE_MLP_MAX_WIDTH 16384
/* Parameter counts beyond this are refused (256 Mi floats = 1 GiB). */
#define OPE_MLP_MAX_PARAMS ((size_t)1 << 28)

typedef enum ope_nn_act {
  OPE_ACT_RELU = 0,
  OPE_ACT_TANH = 1,
  OPE_ACT_GELU = 2,
} ope_nn_act;

typedef enum ope_nn_init {
  OPE_INIT_HE = 0,         /* He et al. 2015, eq. 10: N(0, 2/fan_in) */
  OPE_INIT_ORTHOGONAL = 1, /* Saxe et al. 2014: orthonormal rows/columns, gain sqrt(2) */
} ope_nn_init;

typedef struct ope_mlp_config {
  int in;                            /* input width >= 1 */
  int out;                           /* output width >= 1 */
  int n_hidden;                      /* 0 .. OPE_MLP_MAX_HIDDEN */
  int hidden[OPE_MLP_MAX_HIDDEN];    /* widths >= 1 */
  ope_nn_act act;
  int layernorm;                     /* 1: layer norm before each activation */
} ope_mlp_config;

typedef struct ope_mlp {
  ope_mlp_config cfg;
  int n_dense;                       /* n_hidden + 1 */
  int width[OPE_MLP_MAX_HIDDEN + 2]; /* in, hidden..., out */
  size_t n_params;
  float *params;                     /* (n_params) */
  float *grads;                      /* (n_params), same layout */
  /* Named views: offsets into params / grads. */
  size_t w_off[OPE_MLP_MAX_HIDDEN + 1];  /* W_i (width[i], width[i+1]) */
  size_t b_off[OPE_MLP_MAX_HIDDEN + 1];  /* b_i (width[i+1]) */
  size_t ln_g_off[OPE_MLP_MAX_HIDDEN];   /* gamma_i (hidden[i]) if layernorm */
  size_t ln_b_off[OPE_MLP_MAX_HIDDEN];   /* beta_i (hidden[i]) if layernorm */
} ope_mlp;

/* Fill cfg for in -> hidden x n_hidden (all the same width) -> out. */
void ope_mlp_config_make(ope_mlp_config *cfg, int in, int n_hidden,
                         int hidden, int out, ope_nn_act act);

/* NULL when cfg is acceptable, else a message saying what is wrong. */
const char *ope_mlp_config_check(const ope_mlp_config *cfg);

/* Allocate a model for cfg with all parameters and gradients zero.
 * OPE_EUSAGE for a bad config, OPE_EINTERNAL on out of memory. */
ope_status ope_mlp_new(const ope_mlp_config *cfg, ope_mlp **out,
                       ope_error *err);
void ope_mlp_free(ope_mlp *m);

/* Initialize weights from rng (biases 0, layer-norm gains 1). The output
 * layer uses gain 1 instead of sqrt(2). */
void ope_mlp_init(ope_mlp *m, ope_nn_init kind, ope_rng *rng);

/* Copy parameters of src into dst (same config). */
void ope_mlp_copy(ope_mlp *dst, const ope_mlp *src);

void ope_mlp_zero_grad(ope_mlp *m);

/* Activations of forward passes of up to max_batch rows. */
typedef struct ope_mlp_ws ope_mlp_ws;
ope_status ope_mlp_ws_new(const ope_mlp *m, int max_batch, ope_mlp_ws **out,
                          ope_error *err);
void ope_mlp_ws_free(ope_mlp_ws *ws);

/* Forward B <= max_batch rows: in (B, cfg.in) -> returns out (B, cfg.out),
 * owned by ws and valid until its next forward. */
const float *ope_mlp_forward(const ope_mlp *m, ope_mlp_ws *ws,
                             const float *in, int B);

/* Backward of the last forward through ws: given dout (B, cfg.out), ADD the
 * parameter gradients into m->grads and, when din is non-NULL, ADD the input
 * gradient into din (B, cfg.in). */
void ope_mlp_backward(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                      float *din);

/* Like ope_mlp_backward, but only din (B, cfg.in), which must be non-NULL,
 * receives its gradient (added); m->grads is left alone. For a network that
 * only passes a gradient through (a critic under its actor's loss). */
void ope_mlp_backward_input(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                            float *din);

/* He / orthogonal initialization of one weight matrix w (C, OC) with the
 * given gain (std = gain / sqrt(C) for He). */
void ope_nn_init_he(float *w, int C, int OC, double gain, ope_rng *rng);
void ope_nn_init_orthogonal(float *w, int C, int OC, double gain,
                            ope_rng *rng);

#endif

/* The Decision Transformer network (Chen et al. 2021, "Decision
 * Transformer: Reinforcement Learning via Sequence Modeling", section 3 and
 * Algorithm 1): sizes, parameter layout and the forward/backward passes.
 * Training, the policy and checkpoints are in train/dt.h.
 *
 * A trajectory window of K steps becomes T = 3K tokens
 *   (R_1, s_1, a_1, R_2, s_2, a_2, ..., R_K, s_K, a_K),
 * each embedded by its own dense layer (return-to-go R (1), state (d),
 * action (m, or a one-hot of A)) plus a learned embedding of the step's
 * timestep, then layer-normalized. GPT blocks (Radford et al. 2019, GPT-2,
 * section 2.3: pre-norm) follow:
 *   x = x + drop(proj(attn(ln1(x))));  x = x + drop(mlp(ln2(x))),
 *   mlp(h) = W2 gelu(W1 h + b1) + b2 (width 4C),
 * then a final layer norm. The action of step k is predicted from the
 * output at the STATE token s_k: a linear head giving m values (the caller
 * applies tanh) or A logits (the caller applies softmax). Causal attention
 * means the prediction at step k sees R_1..R_k, s_1..s_k, a_1..a_{k-1} only,
 * so windows may be padded on the right without an attention mask.
 *
 * One flat parameter buffer with named views (offsets in ope_dt_layout);
 * gradients and optimizer moments use the same layout. As in nn/layers.h,
 * the passes exist in float (_f, for training) and double (_d, for the
 * finite-difference tests of the whole network), declared in
 * dt_model_t.h. */
#ifndef OPE_TRAIN_DT_MODEL_H
#define OPE_TRAIN_DT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

#define OPE_DT_MAX_LAYERS 16
#define OPE_DT_MAX_EMBD 4096
#define OPE_DT_MAX_CONTEXT 1024
#define OPE_DT_MAX_EP_LEN 1000000

typedef struct ope_dt_arch {
  int obs_dim;     /* d >= 1 */
  int act_in;      /* width of an action token's input: m, or A (one-hot) */
  int out;         /* head width: m, or A */
  int n_layer;     /* GPT blocks, 1 .. OPE_DT_MAX_LAYERS */
  int n_head;      /* divides n_embd */
  int n_embd;      /* C */
  int context;     /* K steps per window (3K tokens) */
  int max_ep_len;  /* rows of the timestep embedding */
} ope_dt_arch;

typedef struct ope_dt_block_views {
  size_t ln1_g, ln1_b;     /* (C) */
  size_t w_qkv, b_qkv;     /* (C,3C), (3C) */
  size_t w_proj, b_proj;   /* (C,C), (C) */
  size_t ln2_g, ln2_b;     /* (C) */
  size_t w_fc, b_fc;       /* (C,4C), (4C) */
  size_t w_fcp, b_fcp;     /* (4C,C), (C) */
} ope_dt_block_views;

typedef struct ope_dt_layout {
  ope_dt_arch a;
  size_t n_params;
  size_t w_rtg, b_rtg;     /* (1,C), (C) */
  size_t w_obs, b_obs;     /* (d,C), (C) */
  size_t w_act, b_act;     /* (act_in,C), (C) */
  size_t t_emb;            /* (max_ep_len, C) */
  size_t lne_g, lne_b;     /* (C) layer norm of the embeddings */
  ope_dt_block_views blk[OPE_DT_MAX_LAYERS];
  size_t lnf_g, lnf_b;     /* (C) */
  size_t w_head, b_head;   /* (C,out), (out) */
} ope_dt_layout;

/* NULL when a is acceptable, else a message saying what is wrong. */
const char *ope_dt_arch_check(const ope_dt_arch *a);

/* Offsets of every view for an acceptable a (see ope_dt_arch_check). */
void ope_dt_layout_make(ope_dt_layout *L, const ope_dt_arch *a);

/* GPT-2 initialization (Radford et al. 2019, section 2.3): weights and
 * embeddings N(0, 0.02^2), the two residual projections of each block
 * N(0, (0.02 / sqrt(2 n_layer))^2), biases 0, layer-norm gains 1. */
void ope_dt_init(const ope_dt_layout *L, float *params, ope_rng *rng);

#define OPE_R float
#define OPE_DT(name) ope_dt_##name##_f
#include "train/dt_model_t.h"
#undef OPE_R
#undef OPE_DT

#define OPE_R double
#define OPE_DT(name) ope_dt_##name##_d
#include "train/dt_model_t.h"
#undef OPE_R
#undef OPE_DT

#endif

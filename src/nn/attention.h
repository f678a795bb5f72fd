/* Multi-head causal self-attention, the mixing layer of the transformer
 * models (the Decision Transformer in src/train/dt.h).
 *
 * Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You
 * Need", eq. 1 and section 3.2.2) with a causal mask: token t attends to
 * tokens s <= t only, as in GPT (Radford et al. 2018). The q, k, v
 * projections and the output projection are ordinary dense layers
 * (nn/layers.h); this module is the part in between.
 *
 * Shapes: B sequences of T tokens, width C = NH heads x hs. The input qkv
 * (B,T,3C) holds, per token, q (C) then k (C) then v (C), head h using
 * columns h*hs .. h*hs+hs-1 of each. The output (B,T,C) is the heads
 * concatenated. att (B,NH,T,T) keeps the attention probabilities for the
 * backward; entries above the diagonal are 0.
 *
 * Like nn/layers.h, every kernel exists in float (_f, what models train
 * with, products through the GEMM wrapper) and double (_d, for the finite-
 * difference tests). A plain-loop version of both passes, written directly
 * from the equations, is the reference the tests compare against. Backwards
 * ADD into the gradients they are given. */
#ifndef OPE_NN_ATTENTION_H
#define OPE_NN_ATTENTION_H

#define OPE_R float
#define OPE_NN(name) ope_nn_##name##_f
#include "nn/attention_t.h"
#undef OPE_R
#undef OPE_NN

#define OPE_R double
#define OPE_NN(name) ope_nn_##name##_d
#include "nn/attention_t.h"
#undef OPE_R
#undef OPE_NN

#endif

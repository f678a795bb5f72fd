/* Causal multi-head self-attention kernels, compiled once per element type
 * from attention_impl.inc; see attention.h for the contracts. */
#include "nn/attention.h"

#include <math.h>
#include <stddef.h>

#include "nn/gemm.h"

#define OPE_R float
#define OPE_NN(name) ope_nn_##name##_f
#define MF(fn) fn##f
#define GEMM ope_gemm_f
#include "nn/attention_impl.inc"
#undef OPE_R
#undef OPE_NN
#undef MF
#undef GEMM

#define OPE_R double
#define OPE_NN(name) ope_nn_##name##_d
#define MF(fn) fn
#define GEMM ope_gemm_d
#include "nn/attention_impl.inc"
#undef OPE_R
#undef OPE_NN
#undef MF
#undef GEMM

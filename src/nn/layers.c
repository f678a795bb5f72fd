/* Layer kernels, compiled once per element type from layers_impl.inc; see
 * layers.h for the contracts. */
#include "nn/layers.h"

#include <math.h>

#include "nn/gemm.h"

#define LOG_SQRT_2PI 0.91893853320467274178
#define LOG_2 0.69314718055994530942
#define SQRT_2_OVER_PI 0.79788456080286535588

#define OPE_R float
#define OPE_NN(name) ope_nn_##name##_f
#define MF(fn) fn##f
#define GEMM ope_gemm_f
#include "nn/layers_impl.inc"
#undef OPE_R
#undef OPE_NN
#undef MF
#undef GEMM

#define OPE_R double
#define OPE_NN(name) ope_nn_##name##_d
#define MF(fn) fn
#define GEMM ope_gemm_d
#include "nn/layers_impl.inc"
#undef OPE_R
#undef OPE_NN
#undef MF
#undef GEMM

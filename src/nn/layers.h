/* Neural-network layers as forward/backward pairs over raw arrays.
 *
 * Each layer exists in two element types with the same code: suffix _f
 * (float, what models train with: it halves memory traffic and uses sgemm)
 * and _d (double, used by the tests to check every backward against central
 * finite differences without float round-off swamping the comparison). The
 * declarations live in layers_t.h, included once per type.
 *
 * Conventions: B is the batch (rows), C the width of a row; arrays are
 * row-major and contiguous. A backward ADDS into the gradients it is given
 * (callers zero them first), so layers whose output feeds two consumers need
 * no special case. Gradient pointers documented "or NULL" may be NULL when
 * that gradient is not needed. */
#ifndef OPE_NN_LAYERS_H
#define OPE_NN_LAYERS_H

#include <stddef.h>

#define OPE_R float
#define OPE_NN(name) ope_nn_##name##_f
#include "nn/layers_t.h"
#undef OPE_R
#undef OPE_NN

#define OPE_R double
#define OPE_NN(name) ope_nn_##name##_d
#include "nn/layers_t.h"
#undef OPE_R
#undef OPE_NN

#endif

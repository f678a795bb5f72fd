/* The hand-computed logs the estimator tests share: small datasets built
 * from literal arrays, with their evaluation and behavior probabilities. */
#ifndef OPE_TESTS_TINY_LOG_H
#define OPE_TESTS_TINY_LOG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"

/* A discrete dataset (A = 2, d = 1) with episodes of the given lengths,
 * rewards r[] in row order; obs is the step index. Labels "0", "1", ... */
static inline ope_dataset *tiny_dataset(size_t n_ep, const size_t *len,
                                        const double *r) {
  size_t T = 0;
  for (size_t i = 0; i < n_ep; i++) T += len[i];
  ope_dataset *ds = ope_dataset_alloc(n_ep, T, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 0, NULL);
  if (ds == NULL) return NULL;
  size_t row = 0;
  for (size_t i = 0; i < n_ep; i++) {
    ds->ep_offset[i] = row;
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", i);
    ds->ep_label[i] = strdup(buf);
    for (size_t t = 0; t < len[i]; t++, row++) {
      ds->obs[row] = (double)t;
      ds->action[row] = 0;
      ds->reward[row] = r[row];
    }
    ds->terminal[row - 1] = 1;
  }
  ds->ep_offset[n_ep] = row;
  return ds;
}

#endif

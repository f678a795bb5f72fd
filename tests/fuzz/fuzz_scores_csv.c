/* libFuzzer target: the policy-scores CSV reader (src/policy/scores_csv.h)
 * on arbitrary bytes, against a fixed small discrete dataset (episodes "0",
 * "1" and "a,b" of 2, 1 and 2 steps, A = 3).
 *
 * Accepted files must give a probability in [0, 1] for every row and, when
 * the distribution is present, rows in [0, 1] that sum to one and agree with
 * prob at the logged action; refused files must give OPE_EDATA with a
 * message naming the file, and leave nothing allocated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "policy/scores_csv.h"

static ope_dataset *make_dataset(void) {
  static const char *const labels[] = {"0", "1", "a,b"};
  static const size_t offsets[] = {0, 2, 3, 5};
  static const int32_t actions[] = {2, 0, 1, 1, 2};
  ope_dataset *ds = ope_dataset_alloc(3, 5, 2, OPE_ACTION_DISCRETE, 3, 1, 0, 1, NULL);
  if (ds == NULL) abort();
  for (size_t e = 0; e < 3; e++) {
    ds->ep_offset[e] = offsets[e];
    ds->ep_label[e] = strdup(labels[e]);
    if (ds->ep_label[e] == NULL) abort();
  }
  ds->ep_offset[3] = offsets[3];
  for (size_t t = 0; t < 5; t++) {
    ds->action[t] = actions[t];
    ds->obs[2 * t] = (double)t;
    ds->reward[t] = 1.0;
    ds->pscore[t] = 0.5;
  }
  ds->terminal[1] = 1;
  return ds;
}

static ope_dataset *fixed;

static void free_fixed(void) { ope_dataset_free(fixed); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fixed == NULL) {
    fixed = make_dataset();
    atexit(free_fixed);
  }
  const char *path = fuzz_memfile(data, size);
  ope_policy_scores sc;
  ope_error err = {0};
  ope_status st = ope_scores_csv_read(path, fixed, &sc, &err);
  if (st != OPE_OK) {
    FUZZ_CHECK(st == OPE_EDATA && err.msg[0] != '\0');
    FUZZ_CHECK(strncmp(err.where, path, strlen(path)) == 0);
    FUZZ_CHECK(sc.prob == NULL && sc.dist == NULL);
    return 0;
  }
  FUZZ_CHECK(sc.n_steps == fixed->n_steps && sc.prob != NULL);
  for (size_t t = 0; t < sc.n_steps; t++) {
    FUZZ_CHECK(sc.prob[t] >= 0.0 && sc.prob[t] <= 1.0);
    if (sc.dist) {
      double sum = 0.0;
      for (int k = 0; k < 3; k++) {
        double p = sc.dist[t * 3 + (size_t)k];
        FUZZ_CHECK(p >= 0.0 && p <= 1.0);
        sum += p;
      }
      FUZZ_CHECK(fabs(sum - 1.0) <= 2 * OPE_SCORES_SUM_TOL);
      FUZZ_CHECK(fabs(sc.dist[t * 3 + (size_t)fixed->action[t]] - sc.prob[t]) <=
                 2 * OPE_SCORES_SUM_TOL);
    }
  }
  ope_policy_scores_clear(&sc);
  return 0;
}

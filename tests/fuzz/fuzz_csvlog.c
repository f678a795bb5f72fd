/* libFuzzer target: the log-CSV reader (src/data/csvlog.h) on arbitrary bytes.
 *
 * The input is the whole file, read as with --actions 2 when its size is
 * odd and with A inferred when it is even. The reader must either accept it
 * and hand back a dataset that keeps every rule of the spec (checked here:
 * episode offsets cover the rows, values are finite, actions below A,
 * propensities in range, terminal only on an episode's last row), or refuse
 * it with OPE_EDATA and a message that names the file. Anything else (a
 * crash, a leak, undefined behaviour, an odd status) is a finding. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "data/csvlog.h"
#include "fuzz_common.h"

static int check_dataset(const ope_dataset *ds) {
  if (ds->n_episodes < 1 || ds->n_steps < 1 || ds->ep_offset[0] != 0 ||
      ds->ep_offset[ds->n_episodes] != ds->n_steps)
    return 0;
  size_t d = (size_t)ds->obs_dim, m = (size_t)ds->action_dim;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    size_t a = ds->ep_offset[e], b = ds->ep_offset[e + 1];
    if (b <= a || ds->ep_label[e] == NULL) return 0;
    for (size_t t = a; t < b; t++) {
      if (ds->terminal[t] && t + 1 != b) return 0;
      if (!isfinite(ds->reward[t])) return 0;
      for (size_t j = 0; j < d; j++)
        if (!isfinite(ds->obs[t * d + j])) return 0;
      if (ds->action && (ds->action[t] < 0 || ds->action[t] >= ds->n_actions)) return 0;
      if (ds->action_vec)
        for (size_t j = 0; j < m; j++)
          if (!isfinite(ds->action_vec[t * m + j])) return 0;
      if (ds->pscore && !(ds->pscore[t] > 0.0 && isfinite(ds->pscore[t]))) return 0;
      if (ds->pscore && ds->action && ds->pscore[t] > 1.0) return 0;
    }
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_memfile(data, size);
  int n_actions = (size & 1) ? 2 : 0;
  ope_dataset *ds = NULL;
  ope_error err = {0};
  ope_status st = ope_log_csv_load(path, n_actions, &ds, &err);
  if (st == OPE_OK) {
    FUZZ_CHECK(ds != NULL && check_dataset(ds));
    FUZZ_CHECK(ds->action_kind != OPE_ACTION_DISCRETE || n_actions == 0 ||
               ds->n_actions == n_actions);
  } else {
    FUZZ_CHECK(ds == NULL && st == OPE_EDATA && err.status == OPE_EDATA);
    FUZZ_CHECK(strncmp(err.where, path, strlen(path)) == 0 && err.msg[0] != '\0');
  }
  ope_dataset_free(ds);
  return 0;
}

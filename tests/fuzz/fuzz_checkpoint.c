/* libFuzzer target: the checkpoint loader (src/nn/checkpoint.h) on arbitrary
 * BLOBs, as a crafted store could hold them.
 *
 * Most random bytes stop at the CRC, so the first input byte chooses the
 * mode: odd means "the rest is a BLOB whose last four bytes are replaced by
 * a correct CRC", which lets the fuzzer reach the parser behind the
 * checksum; even means "the rest is the BLOB as is". An accepted BLOB must
 * round-trip (saving the loaded checkpoint and loading that again gives the
 * same bytes) and then become a policy whose scores are finite, or be
 * refused as one; a refused BLOB must come back as OPE_EDATA with a
 * message. Seeds include checkpoints written by the trainers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nn/checkpoint.h"
#include "train/ckpt_policy.h"

/* Turn ck (owned from here on) into a policy as `ope eval` does and score a
 * two-step dataset of its shape: whatever the settings text says, the
 * numbers must be finite probabilities or densities, or the policy is
 * refused with a message. */
static void as_policy(ope_ckpt *ck) {
  ope_policy *p = NULL;
  ope_error err = {0};
  if (ope_train_policy_from_ckpt(ck, "fuzz", &p, &err) != OPE_OK) {
    FUZZ_CHECK(p == NULL && err.msg[0] != '\0');
    return;
  }
  int disc = p->action_kind == OPE_ACTION_DISCRETE;
  ope_dataset *ds = NULL;
  if (p->obs_dim >= 1 && p->obs_dim <= OPE_MAX_OBS_DIM)
    ds = ope_dataset_alloc(1, 2, p->obs_dim, p->action_kind, disc ? p->n_actions : 0,
                           disc ? 1 : p->action_dim, 0, 0, NULL);
  if (ds != NULL) {
    ds->ep_offset[1] = 2;
    ds->ep_label[0] = strdup("0");
    ope_policy_scores sc = {0};
    if (ds->ep_label[0] && ope_policy_score_dataset(p, ds, 0.5, &sc, &err) == OPE_OK) {
      for (size_t t = 0; t < 2; t++) {
        FUZZ_CHECK(isfinite(sc.prob[t]) && sc.prob[t] >= 0.0);
        if (sc.dist) {
          double sum = 0.0;
          for (int k = 0; k < sc.n_actions; k++) sum += sc.dist[t * (size_t)sc.n_actions + (size_t)k];
          FUZZ_CHECK(fabs(sum - 1.0) < 1e-6);
        }
      }
      ope_policy_scores_clear(&sc);
    }
  }
  ope_dataset_free(ds);
  ope_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t n = size - 1;
  uint8_t *blob = malloc(n ? n : 1);
  if (blob == NULL) return 0;
  if (n) memcpy(blob, data + 1, n);
  if ((data[0] & 1) && n >= 4) {
    uint32_t crc = ope_crc32(0, blob, n - 4);
    for (int i = 0; i < 4; i++) blob[n - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
  }
  ope_ckpt *ck = NULL;
  ope_error err = {0};
  ope_status st = ope_ckpt_load(blob, n, &ck, &err);
  if (st != OPE_OK) {
    FUZZ_CHECK(ck == NULL && st == OPE_EDATA && err.msg[0] != '\0');
  } else {
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    ope_ckpt *ck2 = NULL;
    FUZZ_CHECK(ck != NULL && ck->n_nets >= 1 && ck->n_nets <= OPE_CKPT_MAX_NETS);
    FUZZ_CHECK(ope_ckpt_save(ck, &b1, &n1, &err) == OPE_OK);
    FUZZ_CHECK(ope_ckpt_load(b1, n1, &ck2, &err) == OPE_OK);
    FUZZ_CHECK(ope_ckpt_save(ck2, &b2, &n2, &err) == OPE_OK);
    FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    ope_ckpt_free(ck2);
    as_policy(ck);
    ck = NULL;
  }
  ope_ckpt_free(ck);
  free(blob);
  return 0;
}

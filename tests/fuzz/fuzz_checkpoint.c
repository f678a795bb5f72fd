/* libFuzzer target: the checkpoint loader (src/nn/checkpoint.h) on arbitrary
 * BLOBs, as a crafted store could hold them.
 *
 * Most random bytes stop at the CRC, so the first input byte chooses the
 * mode: odd means "the rest is a BLOB whose last four bytes are replaced by
 * a correct CRC", which lets the fuzzer reach the parser behind the
 * checksum; even means "the rest is the BLOB as is". An accepted BLOB must
 * round-trip: saving the loaded checkpoint and loading that again gives the
 * same bytes. A refused one must come back as OPE_EDATA with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nn/checkpoint.h"

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
  }
  ope_ckpt_free(ck);
  free(blob);
  return 0;
}

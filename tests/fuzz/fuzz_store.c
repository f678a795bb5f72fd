/* libFuzzer target: the store opener (src/store/store.h) on arbitrary files.
 *
 * The input is written to a file in a scratch folder and opened read-only,
 * as `ope info` and `ope export` do: every dataset it lists is loaded. Then
 * the same bytes are opened writable (migrations run on them) and listed
 * again. A foreign or damaged file must be refused with a status, never
 * crash, leak or ask for a huge allocation; a read-only open must leave the
 * file's bytes as they were. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "store/store.h"

static void scratch_clear(const char *db) {
  char p[600];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-journal", db);
  unlink(p);
}

static int same_bytes(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return size == 0;
  int same = 1;
  size_t off = 0;
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (off + n > size || memcmp(buf, data + off, n) != 0) { same = 0; break; }
    off += n;
  }
  fclose(f);
  return same && off == size;
}

/* Open, list and load every dataset (at most 8); the status is not judged,
 * only that whatever happens is clean. */
static void exercise(const char *db, int writable) {
  ope_store *s = NULL;
  ope_error err = {0};
  ope_status st = ope_store_open(db, writable, &s, &err);
  if (st != OPE_OK) {
    FUZZ_CHECK(s == NULL && err.msg[0] != '\0');
    return;
  }
  ope_dataset_info *list = NULL;
  size_t n = 0;
  if (ope_store_dataset_list(s, &list, &n, &err) == OPE_OK) {
    for (size_t i = 0; i < n && i < 8; i++) {
      ope_dataset *ds = NULL;
      if (list[i].name && ope_store_dataset_load(s, list[i].name, &ds, &err) == OPE_OK) {
        FUZZ_CHECK(ds->ep_offset[ds->n_episodes] == ds->n_steps);
        for (size_t e = 0; e < ds->n_episodes; e++)
          FUZZ_CHECK(ds->ep_offset[e] < ds->ep_offset[e + 1]);
      }
      ope_dataset_free(ds);
    }
    for (size_t i = 0; i < n; i++) ope_dataset_info_clear(&list[i]);
    free(list);
  }
  ope_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char db[512];
  snprintf(db, sizeof db, "%s/store.db", fuzz_scratch_dir());
  scratch_clear(db);
  if (fuzz_write_file(db, data, size) != 0) return 0;
  exercise(db, 0);
  FUZZ_CHECK(same_bytes(db, data, size));
  exercise(db, 1);
  scratch_clear(db);
  return 0;
}

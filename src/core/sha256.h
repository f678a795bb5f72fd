/* SHA-256 (FIPS 180-4), to fingerprint source files, policies and reports so
 * that an audit records exactly what it read. */
#ifndef OPE_CORE_SHA256_H
#define OPE_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ope_sha256 {
  uint32_t h[8];
  uint64_t len;      /* bytes so far */
  uint8_t buf[64];
  size_t fill;
} ope_sha256;

void ope_sha256_init(ope_sha256 *c);
void ope_sha256_update(ope_sha256 *c, const void *data, size_t n);
/* Finish and write 64 lowercase hex digits and a NUL into hex[65]. */
void ope_sha256_hex(ope_sha256 *c, char hex[65]);

/* Whether the CPU's SHA instructions are used (decided at the first hash).
 * ope_sha256_set_portable(1) forces the portable code, (0) restores the
 * choice by CPU; for tests and benchmarks. The digest is the same. */
int ope_sha256_accelerated(void);
void ope_sha256_set_portable(int portable);

/* Hash a whole file; OPE_ENOINPUT/OPE_EIO on failure. */
ope_status ope_sha256_file(const char *path, char hex[65], ope_error *err);

#endif

/* Helpers shared by the fuzz targets: an in-memory file to hand to readers
 * that take a path, a scratch folder for SQLite files, and an invariant
 * check that stops the run (libFuzzer then saves the input). */
#ifndef OPE_FUZZ_COMMON_H
#define OPE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A broken invariant is a finding: abort so that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__);                         \
  } while (0)

void fuzz_fail(const char *what, const char *file, int line)
  __attribute__((noreturn));

/* Replace the contents of one memory-backed file with data[0..size) and
 * return a path that opens it ("/proc/self/fd/N"); the same file is reused
 * on every call. */
const char *fuzz_memfile(const uint8_t *data, size_t size);

/* A private scratch folder (created once, removed at exit). */
const char *fuzz_scratch_dir(void);

/* Write data[0..size) to path (truncating); 0 on success. */
int fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif

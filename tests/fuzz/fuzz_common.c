/* Helpers shared by the fuzz targets (fuzz_common.h). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void fuzz_fail(const char *what, const char *file, int line) {
  fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  abort();
}

static int write_all(int fd, const uint8_t *data, size_t size) {
  size_t off = 0;
  while (off < size) {
    ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

const char *fuzz_memfile(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("ope-fuzz", 0);
    if (fd < 0) fuzz_fail("memfd_create", __FILE__, __LINE__);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || write_all(fd, data, size) != 0)
    fuzz_fail("writing the memory file", __FILE__, __LINE__);
  return path;
}

static char scratch[256];

static void remove_scratch(void) {
  DIR *d = opendir(scratch);
  if (d == NULL) return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(p, sizeof p, "%s/%s", scratch, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(scratch);
}

const char *fuzz_scratch_dir(void) {
  if (scratch[0] == '\0') {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/ope-fuzz-XXXXXX", base);
    if (mkdtemp(scratch) == NULL) fuzz_fail("mkdtemp", __FILE__, __LINE__);
    atexit(remove_scratch);
  }
  return scratch;
}

int fuzz_write_file(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  size_t n = size ? fwrite(data, 1, size, f) : 0;
  return (fclose(f) != 0 || n != size) ? -1 : 0;
}

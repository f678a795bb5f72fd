/* Status codes and the error record every library call fills.
 *
 * The library never prints and never exits. A failing call returns a status
 * other than OPE_OK and, when the caller passed a non-NULL ope_error, leaves a
 * message there and the place it concerns (file:line, a column, a table).
 * Only the command line turns a status into an exit code and prints. */
#ifndef OPE_CORE_ERROR_H
#define OPE_CORE_ERROR_H

#include <stddef.h>

typedef enum ope_status {
  OPE_OK = 0,
  OPE_EUSAGE,     /* bad arguments or settings (exit 64) */
  OPE_EDATA,      /* bad input data (exit 65) */
  OPE_ENOINPUT,   /* an input file, dataset or policy does not exist (66) */
  OPE_EINTERNAL,  /* a bug, an inconsistency, or out of memory (70) */
  OPE_ECANTCREAT, /* an output or the store cannot be created/written (73) */
  OPE_EIO,        /* an I/O error while reading or writing (74) */
} ope_status;

typedef struct ope_error {
  ope_status status;
  char where[512]; /* "log.csv:1042" or "store ope.db"; may be empty */
  char msg[1024];  /* the reason, one line, no trailing newline */
} ope_error;

/* Fill err (when non-NULL) and return st. where may be NULL. */
ope_status ope_error_set(ope_error *err, ope_status st, const char *where,
                         const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* Out of memory: the usual way to say it. */
ope_status ope_error_nomem(ope_error *err);

/* Reset err to OPE_OK with empty strings. NULL is a no-op. */
void ope_error_clear(ope_error *err);

/* A short constant name for st ("bad input data"). */
const char *ope_status_string(ope_status st);

/* The sysexits.h code for st (0, 64, 65, 66, 70, 73, 74). */
int ope_status_exit_code(ope_status st);

/* Write "where: msg" (or just msg) into buf; returns buf. */
const char *ope_error_format(const ope_error *err, char *buf, size_t size);

#endif

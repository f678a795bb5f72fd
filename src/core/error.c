/* Error records: formatting and the status -> sysexits mapping. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

ope_status ope_error_set(ope_error *err, ope_status st, const char *where,
                         const char *fmt, ...) {
  if (err == NULL) return st;
  err->status = st;
  snprintf(err->where, sizeof err->where, "%s", where ? where : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return st;
}

ope_status ope_error_nomem(ope_error *err) {
  return ope_error_set(err, OPE_EINTERNAL, NULL, "out of memory");
}

void ope_error_clear(ope_error *err) {
  if (err == NULL) return;
  err->status = OPE_OK;
  err->where[0] = '\0';
  err->msg[0] = '\0';
}

const char *ope_status_string(ope_status st) {
  switch (st) {
  case OPE_OK: return "success";
  case OPE_EUSAGE: return "usage error";
  case OPE_EDATA: return "bad input data";
  case OPE_ENOINPUT: return "input missing";
  case OPE_EINTERNAL: return "internal error";
  case OPE_ECANTCREAT: return "cannot write output";
  case OPE_EIO: return "I/O error";
  }
  return "unknown status";
}

int ope_status_exit_code(ope_status st) {
  switch (st) {
  case OPE_OK: return 0;
  case OPE_EUSAGE: return EX_USAGE;
  case OPE_EDATA: return EX_DATAERR;
  case OPE_ENOINPUT: return EX_NOINPUT;
  case OPE_EINTERNAL: return EX_SOFTWARE;
  case OPE_ECANTCREAT: return EX_CANTCREAT;
  case OPE_EIO: return EX_IOERR;
  }
  return EX_SOFTWARE;
}

const char *ope_error_format(const ope_error *err, char *buf, size_t size) {
  if (err->where[0])
    snprintf(buf, size, "%s: %s", err->where, err->msg);
  else
    snprintf(buf, size, "%s", err->msg);
  return buf;
}

/* Option helpers and error printing shared by the subcommands (cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "store/store.h"

const char *cli_db_path(const char *from_option) {
  if (from_option && from_option[0]) return from_option;
  const char *env = getenv("OPE_DB");
  if (env && env[0]) return env;
  return OPE_STORE_DEFAULT_PATH;
}

int cli_fail(const ope_error *err) {
  char buf[2048];
  fprintf(stderr, "ope: %s\n", ope_error_format(err, buf, sizeof buf));
  return ope_status_exit_code(err->status == OPE_OK ? OPE_EINTERNAL : err->status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "ope %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'ope help %s'.\n", cmd);
  return EX_USAGE;
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "ope: warning: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* The option getopt_long just rejected (it has advanced optind past it). */
static char **cli_argv;
void cli_set_argv(char **argv) { cli_argv = argv; }
static const char *argv_for_errors(void) {
  return cli_argv && optind > 0 ? cli_argv[optind - 1] : "?";
}

int cli_common_option(const char *cmd, int opt, const char **db, int *status) {
  switch (opt) {
  case CLI_OPT_DB:
    *db = optarg;
    return 0;
  case CLI_OPT_HELP:
    cli_print_usage(cmd, stdout);
    *status = 0;
    return 1;
  case '?':
    fprintf(stderr, "ope %s: unknown option '%s'\nTry 'ope help %s'.\n", cmd,
            argv_for_errors(), cmd);
    *status = EX_USAGE;
    return 1;
  case ':':
    fprintf(stderr, "ope %s: option '%s' needs a value\nTry 'ope help %s'.\n", cmd,
            argv_for_errors(), cmd);
    *status = EX_USAGE;
    return 1;
  default:
    return -1;
  }
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo,
                  long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return cli_usage_error(cmd, "--%s: '%s' is not a whole number in %ld..%ld",
                           opt, s, lo, hi);
  *out = v;
  return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s,
                  unsigned long long *out) {
  char *end;
  errno = 0;
  if (s[0] == '-') return cli_usage_error(cmd, "--%s: '%s' is negative", opt, s);
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end)
    return cli_usage_error(cmd, "--%s: '%s' is not a whole number", opt, s);
  *out = v;
  return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s,
                     double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
    return cli_usage_error(cmd, "--%s: '%s' is not a number in [%g, %g]", opt,
                           s, lo, hi);
  *out = v;
  return 0;
}

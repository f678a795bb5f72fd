/* Option helpers and error printing shared by the subcommands (cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

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

/* s as a whole finite real: 1 and *v, else 0. */
static int read_real(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return !errno && end != s && !*end && isfinite(*v);
}

int cli_parse_double(const char *cmd, const char *opt, const char *s,
                     double lo, double hi, double *out) {
  double v;
  if (!read_real(s, &v) || v < lo || v > hi)
    return cli_usage_error(cmd, "--%s: '%s' is not a number in [%g, %g]", opt,
                           s, lo, hi);
  *out = v;
  return 0;
}

int cli_parse_positive(const char *cmd, const char *opt, const char *s,
                       double hi, int hi_in, double *out) {
  double v;
  if (!read_real(s, &v) || !(v > 0) || v > hi || (v == hi && !hi_in)) {
    if (isinf(hi))
      return cli_usage_error(cmd, "--%s: '%s' is not a number > 0", opt, s);
    return cli_usage_error(cmd, "--%s: '%s' is not a number in (0, %g%c", opt, s,
                           hi, hi_in ? ']' : ')');
  }
  *out = v;
  return 0;
}

ope_status cli_output_open(cli_output *o, const char *path, ope_error *err) {
  struct stat sb;
  o->tmp[0] = '\0';
  if (path == NULL || strcmp(path, "-") == 0) {
    o->f = stdout;
    o->path = "<stdout>";
    return OPE_OK;
  }
  o->path = path;
  const char *open_as = path;
  if (!(stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))) {
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp%ld", path, (long)getpid());
    open_as = o->tmp;
  }
  if ((o->f = fopen(open_as, "wb")) == NULL) {
    o->tmp[0] = '\0';
    return ope_error_set(err, OPE_ECANTCREAT, path, "cannot create: %s", strerror(errno));
  }
  return OPE_OK;
}

ope_status cli_output_close(cli_output *o, ope_status st, ope_error *err) {
  if (o->f == NULL) return st;
  if (o->f == stdout) {
    if (fflush(stdout) != 0 && st == OPE_OK)
      st = ope_error_set(err, OPE_EIO, o->path, "write error: %s", strerror(errno));
  } else {
    if (fclose(o->f) != 0 && st == OPE_OK)
      st = ope_error_set(err, OPE_EIO, o->path, "write error: %s", strerror(errno));
    if (o->tmp[0]) {
      if (st == OPE_OK && rename(o->tmp, o->path) != 0)
        st = ope_error_set(err, OPE_ECANTCREAT, o->path, "cannot create: %s", strerror(errno));
      if (st != OPE_OK) unlink(o->tmp);
    }
  }
  o->f = NULL;
  return st;
}

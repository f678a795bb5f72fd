/* Shared pieces of the `ope` command line: the subcommand table, option
 * helpers, and the one place that prints errors and picks exit statuses. */
#ifndef OPE_CLI_CLI_H
#define OPE_CLI_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "core/error.h"

#define OPE_COMMAND(name, summary)              \
  int cmd_##name(int argc, char **argv);        \
  extern const char cmd_##name##_usage[];
#include "cli/commands.def"
#undef OPE_COMMAND

/* Long options every subcommand accepts; append to a command's own table
 * with CLI_COMMON_OPTIONS and handle with cli_common_option(). */
enum { CLI_OPT_DB = 1000, CLI_OPT_HELP, CLI_OPT_JSON, CLI_OPT_FIRST_FREE };
#define CLI_COMMON_OPTIONS                                   \
  {"db", required_argument, NULL, CLI_OPT_DB},               \
  {"help", no_argument, NULL, CLI_OPT_HELP}

/* The store path: --db, else $OPE_DB, else ./ope.db. */
const char *cli_db_path(const char *from_option);

/* Print "ope: WHERE: MESSAGE" to stderr and return the exit status. */
int cli_fail(const ope_error *err);

/* Print "ope CMD: MESSAGE" and a pointer to help; return 64. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Print the usage text of cmd (from the table) to f. Returns 0, or 64 if
 * there is no such command. */
int cli_print_usage(const char *cmd, FILE *f);

/* Handle a getopt_long result that is a common option (or an error).
 * Returns -1 when opt is not common (the caller handles it), 0 when it was
 * handled and parsing goes on, 1 when the command must return *status now
 * (--help printed: 0; unknown or malformed option: 64). */
int cli_common_option(const char *cmd, int opt, const char **db, int *status);

/* Remember a subcommand's argv for messages about rejected options; main()
 * calls it before dispatching. */
void cli_set_argv(char **argv);

/* Parse a whole number / real with range checks; 0 on success, else prints
 * a usage error and returns 64. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo,
                  long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s,
                     double lo, double hi, double *out);
/* A real v > 0 with v < hi, or v <= hi when hi_in (hi may be INFINITY):
 * the ranges (0, 1), (0, 1] and (0, inf) of alpha, gamma and scales. */
int cli_parse_positive(const char *cmd, const char *opt, const char *s,
                       double hi, int hi_in, double *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *s,
                  unsigned long long *out);

/* An output file written safely: a regular file (or a new one) is written
 * under a temporary name in the same folder and renamed over the target
 * only when everything was written, so a failure leaves no partial file; a
 * device or a pipe (/dev/null, a FIFO) is written in place, never replaced;
 * NULL or "-" is standard output. */
typedef struct cli_output {
  FILE *f;
  const char *path;   /* the target, or "<stdout>" */
  char tmp[4096];     /* the temporary name, or "" */
} cli_output;

/* Open; on failure fill err (OPE_ECANTCREAT). */
ope_status cli_output_open(cli_output *o, const char *path, ope_error *err);
/* Close after writing with status st: on OPE_OK flush and put the file in
 * place, otherwise discard it. Returns the final status. */
ope_status cli_output_close(cli_output *o, ope_status st, ope_error *err);

/* Write a warning line "ope: warning: ..." to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

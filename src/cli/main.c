/* `ope`: the entry point. Dispatches subcommands from the table in
 * commands.def; `ope help` is generated from the same table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/cli.h"
#include "ope_config.h"

typedef struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
  const char *usage;
} command;

static const command commands[] = {
#define OPE_COMMAND(name, summary) {#name, cmd_##name, summary, cmd_##name##_usage},
#include "cli/commands.def"
#undef OPE_COMMAND
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

static const command *find(const char *name) {
  for (size_t i = 0; i < n_commands; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

int cli_print_usage(const char *cmd, FILE *f) {
  const command *c = find(cmd);
  if (c == NULL) return EX_USAGE;
  fputs(c->usage, f);
  return 0;
}

static void overview(FILE *f) {
  fprintf(f,
          "usage: ope [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Off-policy evaluation and model selection for reinforcement learning.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < n_commands; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\n"
          "The store is ./ope.db unless --db FILE or $OPE_DB says otherwise.\n"
          "'ope help COMMAND' or 'man ope-COMMAND' for one command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    overview(stderr);
    return EX_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("ope %s\n", OPE_VERSION);
    return 0;
  }
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    overview(stdout);
    return 0;
  }
  if (strcmp(name, "help") == 0) {
    if (argc < 3) {
      overview(stdout);
      return 0;
    }
    if (cli_print_usage(argv[2], stdout) != 0) {
      fprintf(stderr, "ope: '%s' is not an ope command; see 'ope help'\n", argv[2]);
      return EX_USAGE;
    }
    return 0;
  }
  const command *c = find(name);
  if (c == NULL) {
    fprintf(stderr, "ope: '%s' is not an ope command; see 'ope help'\n", name);
    return EX_USAGE;
  }
  cli_set_argv(argv + 1);
  return c->fn(argc - 1, argv + 1);
}

/* Environment registry and spec parsing (env.h).
 *
 * A spec is `NAME[:FIELD]...`. Fields of the form `length=N` and `slip=X`
 * are options of the environments that have them; any other field is left
 * to the caller (a reference policy's regime). The canonical spec written
 * into env->spec lists only options that differ from the defaults, in a
 * fixed order, so that equal environments have equal names in the store. */
#include "sim/env.h"

#include "data/numfmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ope_env_names[] = {
  "gridworld", "chain", "cartpole", "mountaincar", "pendulum", "pointmaze", NULL,
};

typedef ope_status (*init_fn)(ope_env *env, ope_error *err);
static const init_fn inits[] = {
  ope_env_gridworld_init, ope_env_chain_init, ope_env_cartpole_init,
  ope_env_mountaincar_init, ope_env_pendulum_init, ope_env_pointmaze_init,
};

#define DEFAULT_LENGTH 10
#define DEFAULT_SLIP 0.1

static int has_length(const ope_env *env) { return strcmp(env->name, "chain") == 0; }
static int has_slip(const ope_env *env) {
  return strcmp(env->name, "chain") == 0 || strcmp(env->name, "gridworld") == 0;
}

int ope_env_is_option(const ope_env *env, const char *field) {
  if (strncmp(field, "length=", 7) == 0) return has_length(env);
  if (strncmp(field, "slip=", 5) == 0) return has_slip(env);
  return 0;
}

static ope_status parse_option(ope_env *env, const char *spec, const char *field,
                               ope_error *err) {
  const char *val = strchr(field, '=') + 1;
  char *end;
  errno = 0;
  if (strncmp(field, "length=", 7) == 0) {
    long n = strtol(val, &end, 10);
    if (errno || end == val || (*end && *end != ':') || n < 2 || n > 100000)
      return ope_error_set(err, OPE_EUSAGE, spec,
                           "length must be a whole number in 2..100000");
    env->length = (int)n;
  } else {
    double x = strtod(val, &end);
    if (errno || end == val || (*end && *end != ':') || !(x >= 0 && x < 1))
      return ope_error_set(err, OPE_EUSAGE, spec, "slip must be in [0, 1)");
    env->slip = x;
  }
  return OPE_OK;
}

ope_status ope_env_new(const char *spec, ope_env **out, ope_error *err) {
  *out = NULL;
  size_t nlen = strcspn(spec, ":");
  int idx = -1;
  for (int i = 0; ope_env_names[i]; i++)
    if (strlen(ope_env_names[i]) == nlen && strncmp(spec, ope_env_names[i], nlen) == 0)
      idx = i;
  if (idx < 0)
    return ope_error_set(err, OPE_ENOINPUT, spec,
                         "no such simulator (gridworld, chain, cartpole, "
                         "mountaincar, pendulum, pointmaze)");
  ope_env *env = calloc(1, sizeof *env);
  if (env == NULL) return ope_error_nomem(err);
  env->name = ope_env_names[idx];
  env->length = DEFAULT_LENGTH;
  env->slip = DEFAULT_SLIP;
  ope_status st = OPE_OK;
  for (const char *f = spec + nlen; *f == ':' && st == OPE_OK;) {
    f++;
    if (ope_env_is_option(env, f)) st = parse_option(env, spec, f, err);
    f += strcspn(f, ":");
  }
  if (st == OPE_OK) st = inits[idx](env, err);
  if (st != OPE_OK) {
    ope_env_free(env);
    return st;
  }
  int n = snprintf(env->spec, sizeof env->spec, "%s", env->name);
  if (has_length(env) && env->length != DEFAULT_LENGTH)
    n += snprintf(env->spec + n, sizeof env->spec - (size_t)n, ":length=%d", env->length);
  if (has_slip(env) && env->slip != DEFAULT_SLIP) {
    char num[OPE_NUMFMT_MAX];
    ope_numfmt_double(num, env->slip);
    snprintf(env->spec + n, sizeof env->spec - (size_t)n, ":slip=%s", num);
  }
  *out = env;
  return OPE_OK;
}

void ope_env_free(ope_env *env) {
  if (env == NULL) return;
  if (env->ops && env->ops->destroy) env->ops->destroy(env);
  free(env);
}

/* Options and output shared by `ope rank`, `ope audit` and `ope bench`
 * (report_cli.h). */
#include "cli/report_cli.h"

#include "core/sha256.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void report_cli_init(report_cli *o) {
  memset(o, 0, sizeof *o);
  ope_joint_config_default(&o->cfg);
  o->cfg.eval.gamma = 0.99;
  long nproc = sysconf(_SC_NPROCESSORS_ONLN);
  o->cfg.eval.ci.threads = nproc < 1 ? 1 : nproc > 64 ? 64 : (int)nproc;
  o->format = OPE_FORMAT_TEXT;
}

static int estimators(const char *cmd, const char *s, report_cli *o) {
  char copy[512];
  size_t k = 0;
  snprintf(copy, sizeof copy, "%s", s);
  for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    const ope_estimator *e = ope_estimator_find(tok);
    if (e == NULL) return cli_usage_error(cmd, "--estimators: unknown estimator '%s'", tok);
    int dup = 0;
    for (size_t j = 0; j < k; j++) dup |= o->est[j] == e;
    if (!dup && k < 32) o->est[k++] = e;
  }
  if (k == 0) return cli_usage_error(cmd, "--estimators: the list is empty");
  o->cfg.eval.est = o->est;
  o->cfg.eval.n_est = k;
  return 0;
}

int report_cli_option(const char *cmd, int opt, const char *arg, report_cli *o) {
  ope_eval_config *c = &o->cfg.eval;
  long lv;
  unsigned long long uv;
  int k;
  switch (opt) {
  case RPT_OPT_ESTIMATORS: return estimators(cmd, arg, o);
  case RPT_OPT_CI:
    if ((k = ope_ci_method_parse(arg)) < 0)
      return cli_usage_error(cmd, "--ci: '%s' is not one of bootstrap, t, hoeffding, "
                             "bernstein, none", arg);
    c->ci.method = (ope_ci_method)k;
    return 0;
  case RPT_OPT_ALPHA:
    return cli_parse_positive(cmd, "alpha", arg, 1, 0, &c->ci.alpha);
  case RPT_OPT_NBOOT:
    if (cli_parse_int(cmd, "n-boot", arg, 1, 10000000, &lv)) return 64;
    c->ci.n_boot = (int)lv;
    return 0;
  case RPT_OPT_GAMMA:
    if (cli_parse_positive(cmd, "gamma", arg, 1, 1, &c->gamma)) return 64;
    o->gamma_given = 1;
    return 0;
  case RPT_OPT_CLIP: return cli_parse_positive(cmd, "clip", arg, INFINITY, 0, &c->clip);
  case RPT_OPT_BANDWIDTH:
    return cli_parse_positive(cmd, "bandwidth", arg, INFINITY, 0, &c->bandwidth);
  case RPT_OPT_RANGE: {
    char *end;
    c->reward_lo = strtod(arg, &end);
    if (*end == ',' && isfinite(c->reward_lo)) {
      const char *rest = end + 1;
      c->reward_hi = strtod(rest, &end);
      if (end != rest && !*end && isfinite(c->reward_hi) && c->reward_hi >= c->reward_lo) {
        c->has_reward_range = 1;
        return 0;
      }
    }
    return cli_usage_error(cmd, "--reward-range: '%s' is not LO,HI with LO <= HI", arg);
  }
  case RPT_OPT_BEHAVIOR:
    if ((k = ope_behavior_kind_parse(arg)) < 0)
      return cli_usage_error(cmd, "--behavior-model: '%s' is not one of auto, counts, "
                             "logistic, gaussian", arg);
    o->cfg.behavior = (ope_behavior_kind)k;
    return 0;
  case RPT_OPT_FQE:
    if ((k = ope_fqe_kind_parse(arg)) < 0)
      return cli_usage_error(cmd, "--fqe: '%s' is not one of auto, tabular, linear, neural",
                             arg);
    c->fqe.kind = (ope_fqe_kind)k;
    return 0;
  case RPT_OPT_SEED:
    if (cli_parse_u64(cmd, "seed", arg, &uv)) return 64;
    c->ci.seed = uv;
    c->fqe.seed = uv;
    return 0;
  case RPT_OPT_THREADS:
    if (cli_parse_int(cmd, "threads", arg, 1, 256, &lv)) return 64;
    c->ci.threads = (int)lv;
    return 0;
  case RPT_OPT_FORMAT:
    if ((k = ope_report_format_parse(arg)) < 0)
      return cli_usage_error(cmd, "--format: '%s' is not one of text, md, csv, json, html",
                             arg);
    o->format = (ope_report_format)k;
    return 0;
  case RPT_OPT_OUTPUT: o->output = arg; return 0;
  case CLI_OPT_JSON: o->format = OPE_FORMAT_JSON; return 0;
  default: return -1;
  }
}

ope_status report_cli_mark_scores(ope_report *r, const char *path, ope_error *err) {
  for (size_t i = 0; i < r->n_pol; i++) {
    ope_report_policy *P = &r->pol[i];
    if (strcmp(P->name, path) != 0) continue;
    snprintf(P->algo, sizeof P->algo, "scores");
    ope_status st = ope_sha256_file(path, P->sha256, err);
    if (st != OPE_OK) return st;
  }
  return OPE_OK;
}

int report_cli_emit(const report_cli *o, const ope_report *r) {
  ope_error err;
  ope_error_clear(&err);
  if (o->output == NULL || strcmp(o->output, "-") == 0) {
    if (ope_report_write(r, o->format, stdout, &err) != OPE_OK) return cli_fail(&err);
    return 0;
  }
  cli_output out;
  ope_status st = cli_output_open(&out, o->output, &err);
  if (st == OPE_OK) {
    st = ope_report_write(r, o->format, out.f, &err);
    st = cli_output_close(&out, st, &err);
  }
  return st == OPE_OK ? 0 : cli_fail(&err);
}

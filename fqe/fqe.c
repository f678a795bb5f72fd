/* FQE dispatcher (fqe.h): configuration defaults, kind names, the AUTO
 * choice, and the calls into the tabular, linear and neural kinds. Also the
 * pieces every kind shares: wrapping a fitted object, allocating and
 * finishing row-aligned predictions, and the g^H caveat of ARCHITECTURE.md
 * (FQE bootstraps truncated steps, so it estimates the value with the time
 * limit ignored). */
#include "fqe/fqe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fqe/fqe_linear.h"
#include "fqe/fqe_model.h"
#include "fqe/fqe_neural.h"
#include "fqe/fqe_tabular.h"

/* AUTO picks tabular up to this many distinct observation vectors. */
#define AUTO_TABULAR_MAX_STATES 4096

void ope_fqe_config_default(ope_fqe_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->kind = OPE_FQE_AUTO;
  cfg->gamma = 0.99;
  cfg->seed = 0;
  cfg->ridge = 1e-6;
  // neural: chosen on cartpole and pendulum logs at discount 0.95 (the
  // table of man/ope-eval.1); see fqe_neural.h for why each is enough
  cfg->hidden = 128;
  cfg->layers = 2;
  cfg->iterations = 0; /* as many as the discount needs */
  cfg->steps_per_iter = 50;
  cfg->batch = 256;
  cfg->lr = 1e-3;
  cfg->action_samples = 4;
  cfg->sample_table_mb = 256;
  cfg->refits = 5; /* the fewest whose t quantile (2.78) is not extreme */
  cfg->threads = 0;
  cfg->crossfit = 0;
}

static const char *const kind_names[] = {"auto", "tabular", "linear", "neural"};

int ope_fqe_kind_parse(const char *name) {
  if (name == NULL) return -1;
  for (int k = 0; k < 4; k++)
    if (strcmp(name, kind_names[k]) == 0) return k;
  return -1;
}

const char *ope_fqe_kind_name(ope_fqe_kind kind) {
  if ((int)kind < 0 || (int)kind >= 4) return "unknown";
  return kind_names[kind];
}

ope_fqe_model *ope_fqe_model_wrap(ope_fqe_kind kind, double gamma, void *impl,
                                  void (*impl_free)(void *impl),
                                  ope_error *err) {
  ope_fqe_model *m = calloc(1, sizeof *m);
  if (m == NULL) {
    if (impl_free) impl_free(impl);
    ope_error_nomem(err);
    return NULL;
  }
  m->kind = kind;
  m->gamma = gamma;
  m->impl = impl;
  m->impl_free = impl_free;
  return m;
}

void ope_fqe_model_free(ope_fqe_model *m) {
  if (m == NULL) return;
  if (m->impl_free) m->impl_free(m->impl);
  free(m);
}

ope_status ope_qfit_alloc(ope_qfit *out, size_t n, ope_error *err) {
  memset(out, 0, sizeof *out);
  out->q = calloc(n ? n : 1, sizeof *out->q);
  out->v = calloc(n ? n : 1, sizeof *out->v);
  if (out->q == NULL || out->v == NULL) {
    ope_qfit_clear(out);
    return ope_error_nomem(err);
  }
  out->n_steps = n;
  out->defined = 1;
  return OPE_OK;
}

void ope_qfit_finish_value(ope_qfit *out, const ope_dataset *ds) {
  double s = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < ds->n_episodes; i++) {
    if (ope_dataset_ep_len(ds, i) == 0) continue;
    s += out->v[ds->ep_offset[i]];
    n++;
  }
  out->value = n ? s / (double)n : 0.0;
}

void ope_qfit_clear(ope_qfit *q) {
  if (q == NULL) return;
  free(q->q);
  free(q->v);
  memset(q, 0, sizeof *q);
}

int ope_fqe_horizon_warning(const ope_dataset *ds, double gamma, char *buf,
                            size_t size) {
  size_t H = 0;
  int truncated = 0;
  for (size_t i = 0; i < ds->n_episodes; i++) {
    size_t len = ope_dataset_ep_len(ds, i);
    if (len > H) H = len;
    if (len > 0 && !ds->terminal[ds->ep_offset[i + 1] - 1]) truncated = 1;
  }
  double gh = pow(gamma, (double)H);
  if (!truncated || !(gh > 0.01)) return 0;
  if (buf && size)
    snprintf(buf, size,
             "discount^horizon = %.3g^%zu = %.3g > 1%%: FQE bootstraps "
             "truncated episodes, so it estimates the value with the time "
             "limit ignored, not the logged horizon's return", gamma, H, gh);
  return 1;
}

ope_fqe_kind ope_fqe_auto_kind(const ope_dataset *ds) {
  if (ds->action_kind != OPE_ACTION_DISCRETE) return OPE_FQE_NEURAL;
  size_t nv = ds->n_steps * (size_t)ds->obs_dim;
  for (size_t k = 0; k < nv; k++)
    if (ds->obs[k] != floor(ds->obs[k])) return OPE_FQE_NEURAL;
  size_t S = ope_fqe_tabular_count_states(ds, AUTO_TABULAR_MAX_STATES);
  return S <= AUTO_TABULAR_MAX_STATES ? OPE_FQE_TABULAR : OPE_FQE_NEURAL;
}

static void tabular_free(void *p) { ope_fqe_tabular_free(p); }
static void linear_free(void *p) { ope_fqe_linear_free(p); }
static void neural_free(void *p) { ope_fqe_neural_free(p); }

ope_status ope_fqe_fit(const ope_dataset *ds, const ope_policy *pi,
                       const ope_policy_scores *scores,
                       const ope_fqe_config *cfg, ope_fqe_model **out,
                       ope_error *err) {
  *out = NULL;
  if (!(cfg->gamma >= 0.0 && cfg->gamma <= 1.0))
    return ope_error_set(err, OPE_EUSAGE, "fqe", "discount %g is outside [0, 1]",
                         cfg->gamma);
  ope_fqe_kind kind = cfg->kind == OPE_FQE_AUTO ? ope_fqe_auto_kind(ds) : cfg->kind;
  ope_status st;
  switch (kind) {
  case OPE_FQE_TABULAR: {
    ope_fqe_tabular *t = NULL;
    st = ope_fqe_tabular_fit(ds, pi, scores, cfg, &t, err);
    if (st != OPE_OK) return st;
    *out = ope_fqe_model_wrap(kind, cfg->gamma, t, tabular_free, err);
    break;
  }
  case OPE_FQE_LINEAR: {
    ope_fqe_linear *l = NULL;
    st = ope_fqe_linear_fit(ds, pi, scores, cfg, &l, err);
    if (st != OPE_OK) return st;
    *out = ope_fqe_model_wrap(kind, cfg->gamma, l, linear_free, err);
    break;
  }
  case OPE_FQE_NEURAL: {
    ope_fqe_neural *nn = NULL;
    st = ope_fqe_neural_fit(ds, pi, scores, cfg, &nn, err);
    if (st != OPE_OK) return st;
    *out = ope_fqe_model_wrap(kind, cfg->gamma, nn, neural_free, err);
    break;
  }
  default:
    return ope_error_set(err, OPE_EUSAGE, "fqe", "unknown FQE kind %d", (int)kind);
  }
  return *out ? OPE_OK : OPE_EINTERNAL;
}

ope_status ope_fqe_predict(const ope_fqe_model *m, const ope_dataset *ds,
                           const ope_policy *pi,
                           const ope_policy_scores *scores, ope_qfit *out,
                           ope_error *err) {
  ope_status st;
  memset(out, 0, sizeof *out);
  switch (m->kind) {
  case OPE_FQE_TABULAR:
    st = ope_fqe_tabular_predict(m->impl, ds, scores, out, err);
    break;
  case OPE_FQE_LINEAR:
    st = ope_fqe_linear_predict(m->impl, ds, pi, scores, out, err);
    break;
  case OPE_FQE_NEURAL:
    st = ope_fqe_neural_predict(m->impl, ds, pi, scores, out, err);
    break;
  default:
    return ope_error_set(err, OPE_EUSAGE, "fqe", "%s FQE is not available",
                         ope_fqe_kind_name(m->kind));
  }
  if (st != OPE_OK) return st;
  if (out->defined && out->warning[0] == '\0')
    ope_fqe_horizon_warning(ds, m->gamma, out->warning, sizeof out->warning);
  return OPE_OK;
}

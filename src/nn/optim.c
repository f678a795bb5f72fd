/* Adam / AdamW, clipping, Polyak averaging, schedules; see optim.h. */
#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>

void ope_adam_config_default(ope_adam_config *cfg) {
  cfg->lr = 1e-3;
  cfg->beta1 = 0.9;
  cfg->beta2 = 0.999;
  cfg->eps = 1e-8;
  cfg->weight_decay = 0.0;
  cfg->decoupled = 0;
  cfg->clip_norm = 0.0;
}

ope_status ope_adam_new(const ope_adam_config *cfg, size_t n, ope_adam **out,
                        ope_error *err) {
  *out = NULL;
  if (!(cfg->lr >= 0) || !(cfg->beta1 >= 0 && cfg->beta1 < 1) ||
      !(cfg->beta2 >= 0 && cfg->beta2 < 1) || !(cfg->eps > 0) ||
      !(cfg->weight_decay >= 0) || !(cfg->clip_norm >= 0))
    return ope_error_set(err, OPE_EUSAGE, "adam", "invalid optimizer settings");
  ope_adam *a = calloc(1, sizeof *a);
  if (a == NULL) return ope_error_nomem(err);
  a->cfg = *cfg;
  a->n = n;
  a->m = calloc(n ? n : 1, sizeof(float));
  a->v = calloc(n ? n : 1, sizeof(float));
  if (a->m == NULL || a->v == NULL) {
    ope_adam_free(a);
    return ope_error_nomem(err);
  }
  *out = a;
  return OPE_OK;
}

void ope_adam_free(ope_adam *a) {
  if (a == NULL) return;
  free(a->m);
  free(a->v);
  free(a);
}

double ope_nn_grad_norm(const float *g, size_t n) {
  // eight running sums (a fixed order, so the same bits every time) let
  // the compiler use vector instructions
  double acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += (double)g[i + k] * g[i + k];
  for (; i < n; i++) acc[i % 8] += (double)g[i] * g[i];
  double s = 0;
  for (int k = 0; k < 8; k++) s += acc[k];
  return sqrt(s);
}

double ope_adam_step(ope_adam *a, float *params, const float *grads,
                     double lr) {
  const ope_adam_config *c = &a->cfg;
  double norm = ope_nn_grad_norm(grads, a->n);
  float clip = 1.0f;
  if (c->clip_norm > 0 && norm > c->clip_norm)
    clip = (float)(c->clip_norm / (norm + 1e-6));
  a->t++;
  // bias corrections folded into the step size and epsilon
  // (Kingma & Ba 2015, section 2, the line after Algorithm 1)
  double bc1 = 1.0 - pow(c->beta1, (double)a->t);
  double bc2 = 1.0 - pow(c->beta2, (double)a->t);
  float b1 = (float)c->beta1, b2 = (float)c->beta2;
  float step = (float)(lr * sqrt(bc2) / bc1);
  float eps_hat = (float)(c->eps * sqrt(bc2));
  float wd = (float)c->weight_decay, dec = (float)(lr * c->weight_decay);
  int l2 = !c->decoupled && c->weight_decay > 0;
  int adamw = c->decoupled && c->weight_decay > 0;
  for (size_t i = 0; i < a->n; i++) {
    float g = grads[i] * clip;
    if (l2) g += wd * params[i];
    float m = a->m[i] = b1 * a->m[i] + (1 - b1) * g;
    float v = a->v[i] = b2 * a->v[i] + (1 - b2) * g * g;
    float p = params[i];
    if (adamw) p -= dec * p; /* Loshchilov & Hutter 2019, Alg. 2 line 12 */
    params[i] = p - step * m / (sqrtf(v) + eps_hat);
  }
  return norm;
}

void ope_nn_polyak(float *target, const float *src, size_t n, double tau) {
  float t = (float)tau, k = (float)(1.0 - tau);
  for (size_t i = 0; i < n; i++) target[i] = k * target[i] + t * src[i];
}

double ope_lr_at(const ope_lr_schedule *s, int64_t step) {
  if (step < 0) step = 0;
  if (s->warmup > 0 && step < s->warmup)
    return s->base * (double)(step + 1) / (double)s->warmup;
  if (s->kind != OPE_LR_COSINE) return s->base;
  int64_t span = s->total - s->warmup;
  if (span <= 0) return s->min;
  double frac = (double)(step - s->warmup) / (double)span;
  if (frac > 1) frac = 1;
  return s->min + 0.5 * (s->base - s->min) * (1 + cos(M_PI * frac));
}

/* Checkpoints as policies (ckpt_policy.h): parse the head from the
 * settings JSON, then answer dist / sample / density with single-row
 * forward passes. The policies are Markov (no per-episode context), so
 * exact dynamic programming accepts them, and every call allocates its own
 * scratch, so one policy may be used from several threads at once. */
#include "train/ckpt_policy.h"
#include "train/dt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/mlp.h"

enum { H_SOFTMAX, H_Q, H_BCQD, H_GAUSS, H_TGAUSS, H_DET, H_BCQ };

#define MAX_CAND 64
#define MAX_LATENT 64

typedef struct head {
  int kind;
  ope_ckpt *ck;
  ope_mlp *pi, *q, *imit, *dec, *pert;
  int d, A, m;
  double eps, temp, thr, phi;
  int latent, n_cand;
  float *zc;                       /* (n_cand, latent) fixed latent points */
  double scale[OPE_MAX_ACTION_DIM];
} head;

/* ---- flat JSON lookup (the trainer's own output) ---- */

static const char *json_find(const char *json, const char *key) {
  size_t kl = strlen(key);
  for (const char *p = json; (p = strchr(p, '"')) != NULL; p++) {
    if (strncmp(p + 1, key, kl) == 0 && p[1 + kl] == '"' && p[2 + kl] == ':')
      return p + 3 + kl;
  }
  return NULL;
}

int ope_train_json_num(const char *json, const char *key, double *out) {
  const char *p = json ? json_find(json, key) : NULL;
  if (p == NULL) return 0;
  char *end;
  double v = strtod(p, &end);
  if (end == p || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

int ope_train_json_str(const char *json, const char *key, char *buf,
                       size_t size) {
  const char *p = json ? json_find(json, key) : NULL;
  if (p == NULL || *p != '"') return 0;
  const char *e = strchr(p + 1, '"');
  if (e == NULL || (size_t)(e - p - 1) >= size) return 0;
  memcpy(buf, p + 1, (size_t)(e - p - 1));
  buf[e - p - 1] = 0;
  return 1;
}

int ope_train_json_nums(const char *json, const char *key, double *out,
                        int max, int *n) {
  const char *p = json ? json_find(json, key) : NULL;
  if (p == NULL || *p != '[') return 0;
  p++;
  *n = 0;
  while (*p != ']') {
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v) || *n >= max) return 0;
    out[(*n)++] = v;
    p = end;
    if (*p == ',') p++;
    else if (*p != ']') return 0;
  }
  return 1;
}

/* ---- evaluation ---- */

static void head_free(head *h) {
  if (h == NULL) return;
  ope_ckpt_free(h->ck);
  free(h->zc);
  free(h);
}

static void destroy(ope_policy *p) { head_free(p->impl); }

/* One forward of B rows of x through m into out (B, m->cfg.out), with a
 * workspace of its own. */
static ope_status run(const ope_mlp *m, const float *x, int B, float *out,
                      ope_error *err) {
  ope_mlp_ws *ws = NULL;
  ope_status st = ope_mlp_ws_new(m, B, &ws, err);
  if (st != OPE_OK) return st;
  const float *y = ope_mlp_forward(m, ws, x, B);
  memcpy(out, y, (size_t)B * m->cfg.out * sizeof(float));
  ope_mlp_ws_free(ws);
  /* Finite weights can still overflow float (a damaged or crafted
   * checkpoint); no head may turn inf into NaN probabilities. */
  for (size_t i = 0; i < (size_t)B * m->cfg.out; i++)
    if (!isfinite(out[i]))
      return ope_error_set(err, OPE_EDATA, NULL,
                           "the checkpoint's network gives a non-finite output "
                           "(its weights overflow single precision)");
  return OPE_OK;
}

static void norm_obs(const head *h, const double *obs, float *x) {
  if (h->ck->obs_norm) ope_norm_apply(h->ck->obs_norm, obs, 1, h->d, x, h->d);
  else for (int j = 0; j < h->d; j++) x[j] = (float)obs[j];
}

/* Greedy-with-exploration distribution over the allowed actions. */
static void q_dist(const head *h, const float *q, const int *allowed,
                   double *probs) {
  int A = h->A, best = -1;
  for (int a = 0; a < A; a++)
    if (allowed[a] && (best < 0 || q[a] > q[best])) best = a;
  if (h->temp > 0) {
    double mx = q[best], sum = 0;
    for (int a = 0; a < A; a++) {
      probs[a] = allowed[a] ? exp((q[a] - mx) / h->temp) : 0.0;
      sum += probs[a];
    }
    for (int a = 0; a < A; a++) probs[a] /= sum;
    return;
  }
  for (int a = 0; a < A; a++)
    probs[a] = h->eps / A + (a == best ? 1.0 - h->eps : 0.0);
}

static ope_status pol_dist(const ope_policy *p, void *ctx, const double *obs,
                           double *probs, ope_error *err) {
  const head *h = p->impl;
  int A = h->A;
  float *buf = malloc(((size_t)h->d + 2 * (size_t)A) * sizeof(float));
  int *allowed = malloc((size_t)A * sizeof(int));
  ope_status st = OPE_OK;
  if (buf == NULL || allowed == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  float *x = buf, *y = buf + h->d, *g = y + A;
  norm_obs(h, obs, x);
  for (int a = 0; a < A; a++) allowed[a] = 1;
  if (h->kind == H_SOFTMAX) {
    if ((st = run(h->pi, x, 1, y, err)) != OPE_OK) goto done;
    double mx = y[0], sum = 0;
    for (int a = 1; a < A; a++) if (y[a] > mx) mx = y[a];
    for (int a = 0; a < A; a++) sum += probs[a] = exp(y[a] - mx);
    for (int a = 0; a < A; a++) probs[a] /= sum;
    goto done;
  }
  if ((st = run(h->q, x, 1, y, err)) != OPE_OK) goto done;
  if (h->kind == H_BCQD) {
    if ((st = run(h->imit, x, 1, g, err)) != OPE_OK) goto done;
    float mx = g[0];
    for (int a = 1; a < A; a++) if (g[a] > mx) mx = g[a];
    /* p_a / p_max >= thr  <=>  logit_a - logit_max >= log thr */
    double lt = h->thr > 0 ? log(h->thr) : -INFINITY;
    for (int a = 0; a < A; a++) allowed[a] = (double)g[a] - mx >= lt;
  }
  q_dist(h, y, allowed, probs);
done:
  free(buf);
  free(allowed);
  return st;
}

/* Mean action (normalized units) of a deterministic head into act. */
static ope_status det_action(const head *h, const float *x, float *act,
                             ope_error *err) {
  int m = h->m, d = h->d, K = h->n_cand, L = h->latent;
  if (h->kind == H_DET) {
    ope_status st = run(h->pi, x, 1, act, err);
    for (int j = 0; j < m; j++) act[j] = tanhf(act[j]);
    return st;
  }
  /* BCQ surrogate: decode K fixed latents, perturb, take argmax q1. */
  size_t need = (size_t)K * (d + L) + (size_t)K * m + (size_t)K * (d + m) +
                (size_t)K * m + (size_t)K;
  float *buf = malloc(need * sizeof(float));
  if (buf == NULL) return ope_error_nomem(err);
  float *sz = buf, *a0 = sz + (size_t)K * (d + L), *sa = a0 + (size_t)K * m;
  float *xi = sa + (size_t)K * (d + m), *qv = xi + (size_t)K * m;
  for (int k = 0; k < K; k++) {
    memcpy(sz + (size_t)k * (d + L), x, (size_t)d * sizeof(float));
    memcpy(sz + (size_t)k * (d + L) + d, h->zc + (size_t)k * L, (size_t)L * sizeof(float));
  }
  ope_status st = run(h->dec, sz, K, a0, err);
  for (size_t i = 0; i < (size_t)K * m; i++) a0[i] = tanhf(a0[i]);
  for (int k = 0; st == OPE_OK && k < K; k++) {
    memcpy(sa + (size_t)k * (d + m), x, (size_t)d * sizeof(float));
    memcpy(sa + (size_t)k * (d + m) + d, a0 + (size_t)k * m, (size_t)m * sizeof(float));
  }
  if (st == OPE_OK) st = run(h->pert, sa, K, xi, err);
  for (int k = 0; st == OPE_OK && k < K; k++)
    for (int j = 0; j < m; j++) {
      float v = a0[k * m + j] + (float)h->phi * tanhf(xi[k * m + j]);
      sa[(size_t)k * (d + m) + d + j] = v > 1 ? 1 : v < -1 ? -1 : v;
    }
  if (st == OPE_OK) st = run(h->q, sa, K, qv, err);
  if (st == OPE_OK) {
    int best = 0;
    for (int k = 1; k < K; k++) if (qv[k] > qv[best]) best = k;
    memcpy(act, sa + (size_t)best * (d + m) + d, (size_t)m * sizeof(float));
  }
  free(buf);
  return st;
}

static ope_status pol_sample(const ope_policy *p, void *ctx, const double *obs,
                             ope_rng *rng, double *action, ope_error *err) {
  const head *h = p->impl;
  int m = h->m;
  float *buf = malloc(((size_t)h->d + 2 * (size_t)m) * sizeof(float));
  if (buf == NULL) return ope_error_nomem(err);
  float *x = buf, *y = buf + h->d;
  norm_obs(h, obs, x);
  ope_status st;
  if (h->kind == H_DET || h->kind == H_BCQ) {
    st = det_action(h, x, y, err);
    for (int j = 0; st == OPE_OK && j < m; j++) action[j] = y[j] * h->scale[j];
  } else if ((st = run(h->pi, x, 1, y, err)) == OPE_OK) {
    for (int j = 0; j < m; j++) {
      double ls = y[m + j];
      ls = ls < OPE_TRAIN_LOG_STD_MIN ? OPE_TRAIN_LOG_STD_MIN
         : ls > OPE_TRAIN_LOG_STD_MAX ? OPE_TRAIN_LOG_STD_MAX : ls;
      double e = rng ? ope_rng_normal(rng) : 0.0;
      double u = (h->kind == H_GAUSS ? tanh(y[j]) : y[j]) + exp(ls) * e;
      action[j] = (h->kind == H_TGAUSS ? tanh(u) : u) * h->scale[j];
    }
  }
  free(buf);
  return st;
}

static ope_status pol_density(const ope_policy *p, void *ctx, const double *obs,
                              const double *action, double *dens, ope_error *err) {
  const head *h = p->impl;
  int m = h->m;
  float *buf = malloc(((size_t)h->d + 2 * (size_t)m) * sizeof(float));
  if (buf == NULL) return ope_error_nomem(err);
  float *x = buf, *y = buf + h->d;
  norm_obs(h, obs, x);
  ope_status st = run(h->pi, x, 1, y, err);
  double lp = 0;
  for (int j = 0; st == OPE_OK && j < m; j++) {
    double ls = y[m + j];
    ls = ls < OPE_TRAIN_LOG_STD_MIN ? OPE_TRAIN_LOG_STD_MIN
       : ls > OPE_TRAIN_LOG_STD_MAX ? OPE_TRAIN_LOG_STD_MAX : ls;
    double z = action[j] / h->scale[j], mean = y[j];
    if (h->kind == H_GAUSS) {
      mean = tanh(mean);
    } else {
      /* change of variables a = tanh(u): density of u over |da/du| */
      const double lim = 1.0 - 1e-6;
      z = z > lim ? lim : z < -lim ? -lim : z;
      lp -= log(1.0 - z * z);
      z = atanh(z);
    }
    double u = (z - mean) / exp(ls);
    lp += -0.5 * u * u - ls - 0.5 * log(2.0 * M_PI) - log(h->scale[j]);
  }
  if (st == OPE_OK) *dens = exp(lp);
  free(buf);
  return st;
}

static const ope_policy_ops discrete_ops = {
  .dist = pol_dist, .destroy = destroy,
};
static const ope_policy_ops continuous_ops = {
  .sample = pol_sample, .density = pol_density, .destroy = destroy,
};
static const ope_policy_ops deterministic_ops = {
  .sample = pol_sample, .destroy = destroy,
};

/* The network called name with the given input and output widths. */
static ope_mlp *net(const ope_ckpt *ck, const char *name, int in, int out) {
  ope_mlp *m = ope_ckpt_net(ck, name);
  return m && m->cfg.in == in && m->cfg.out == out ? m : NULL;
}

ope_status ope_train_policy_from_ckpt(ope_ckpt *ck, const char *name,
                                      ope_policy **out, ope_error *err) {
  *out = NULL;
  ope_status st = OPE_OK;
  head *h = calloc(1, sizeof *h);
  if (h == NULL) {
    ope_ckpt_free(ck);
    return ope_error_nomem(err);
  }
  h->ck = ck;
  const char *js = ck->settings;
  char kind[32];
  double v, dv[OPE_MAX_ACTION_DIM];
  const char *why = NULL;
  if (!ope_train_json_str(js, "head", kind, sizeof kind)) { why = "no policy head"; goto bad; }
  if (strcmp(kind, "dt") == 0) { /* the Decision Transformer's own head */
    free(h);
    return ope_dt_policy_from_ckpt(ck, name, out, err);
  }
  if (!ope_train_json_num(js, "obs_dim", &v) || v < 1 || v > OPE_MAX_OBS_DIM) { why = "no obs_dim"; goto bad; }
  h->d = (int)v;
  if (ck->obs_norm && ck->obs_norm->dim != h->d) { why = "normalization width"; goto bad; }
  int discrete = strcmp(kind, "softmax") == 0 || strcmp(kind, "q") == 0 ||
                 strcmp(kind, "bcq_discrete") == 0;
  if (discrete) {
    if (!ope_train_json_num(js, "n_actions", &v) || v < 2 || v > OPE_MAX_ACTIONS) { why = "no n_actions"; goto bad; }
    h->A = (int)v;
    h->eps = ope_train_json_num(js, "eval_eps", &v) && v >= 0 && v <= 1 ? v : 0.0;
    h->temp = ope_train_json_num(js, "eval_temp", &v) && v > 0 ? v : 0.0;
    if (strcmp(kind, "softmax") == 0) {
      h->kind = H_SOFTMAX;
      if ((h->pi = net(ck, "pi", h->d, h->A)) == NULL) { why = "network pi"; goto bad; }
    } else {
      h->kind = strcmp(kind, "q") == 0 ? H_Q : H_BCQD;
      if ((h->q = net(ck, "q", h->d, h->A)) == NULL) { why = "network q"; goto bad; }
      if (h->kind == H_BCQD) {
        if ((h->imit = net(ck, "imit", h->d, h->A)) == NULL) { why = "network imit"; goto bad; }
        if (!ope_train_json_num(js, "bcq_threshold", &h->thr)) { why = "no bcq_threshold"; goto bad; }
      }
    }
  } else {
    int n = 0;
    if (!ope_train_json_nums(js, "action_scale", dv, OPE_MAX_ACTION_DIM, &n) || n < 1) { why = "no action_scale"; goto bad; }
    h->m = n;
    for (int j = 0; j < n; j++) {
      if (!(dv[j] > 0)) { why = "action_scale"; goto bad; }
      h->scale[j] = dv[j];
    }
    int m = h->m, d = h->d;
    if (strcmp(kind, "gaussian") == 0 || strcmp(kind, "tanh_gaussian") == 0) {
      h->kind = kind[0] == 'g' ? H_GAUSS : H_TGAUSS;
      if ((h->pi = net(ck, "pi", d, 2 * m)) == NULL) { why = "network pi"; goto bad; }
    } else if (strcmp(kind, "deterministic") == 0) {
      h->kind = H_DET;
      if ((h->pi = net(ck, "pi", d, m)) == NULL) { why = "network pi"; goto bad; }
    } else if (strcmp(kind, "bcq") == 0) {
      h->kind = H_BCQ;
      if (!ope_train_json_num(js, "latent", &v) || v < 1 || v > MAX_LATENT) { why = "latent"; goto bad; }
      h->latent = (int)v;
      if (!ope_train_json_num(js, "bcq_candidates", &v) || v < 1 || v > MAX_CAND) { why = "bcq_candidates"; goto bad; }
      h->n_cand = (int)v;
      if (!ope_train_json_num(js, "phi", &h->phi)) { why = "phi"; goto bad; }
      if ((h->dec = net(ck, "dec", d + h->latent, m)) == NULL ||
          (h->pert = net(ck, "pert", d + m, m)) == NULL ||
          (h->q = net(ck, "q1", d + m, 1)) == NULL) { why = "BCQ networks"; goto bad; }
      h->zc = malloc((size_t)h->n_cand * h->latent * sizeof(float));
      if (h->zc == NULL) {
        head_free(h);
        return ope_error_nomem(err);
      }
      ope_rng rng;
      ope_rng_seed(&rng, OPE_TRAIN_BCQ_LATENT_SEED, 0);
      for (int k = 0; k < h->n_cand * h->latent; k++) {
        double z = ope_rng_normal(&rng);
        h->zc[k] = (float)(z > 0.5 ? 0.5 : z < -0.5 ? -0.5 : z);
      }
    } else {
      why = "unknown policy head";
      goto bad;
    }
  }
  const ope_policy_ops *ops = discrete ? &discrete_ops
                            : (h->kind == H_DET || h->kind == H_BCQ) ? &deterministic_ops
                            : &continuous_ops;
  ope_policy *p = ope_policy_new(ops, name,
                                 discrete ? OPE_ACTION_DISCRETE : OPE_ACTION_CONTINUOUS,
                                 h->d, h->A, h->m, h, err);
  if (p == NULL) {
    head_free(h);
    return OPE_EINTERNAL;
  }
  if (ops == &deterministic_ops) {
    p->deterministic = 1;
    if (!ope_train_json_num(js, "bandwidth", &p->bandwidth) || !(p->bandwidth > 0)) {
      ope_policy_free(p);
      return ope_error_set(err, OPE_EDATA, name, "checkpoint: no kernel bandwidth");
    }
  }
  *out = p;
  return st;
bad:
  head_free(h);
  return ope_error_set(err, OPE_EDATA, name, "checkpoint: %s", why);
}

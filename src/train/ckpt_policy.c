/* Checkpoints as policies (ckpt_policy.h): parse the head from the
 * settings JSON, then answer dist / sample / density with single-row
 * forward passes, and score whole datasets (ops->score) with the same head
 * code on blocks of rows. The policies are Markov (no per-episode
 * context), so exact dynamic programming accepts them, and every call
 * allocates its own scratch, so one policy may be used from several
 * threads at once. */
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

/* Forward B rows of x through m with ws (room for B rows) into out
 * (B, m->cfg.out). */
static ope_status run(const ope_mlp *m, ope_mlp_ws *ws, const float *x, int B,
                      float *out, ope_error *err) {
  const float *y = ope_mlp_forward(m, ws, x, B);
  memcpy(out, y, (size_t)B * m->cfg.out * sizeof(float));
  /* Finite weights can still overflow float (a damaged or crafted
   * checkpoint); no head may turn inf into NaN probabilities. */
  for (size_t i = 0; i < (size_t)B * m->cfg.out; i++)
    if (!isfinite(out[i]))
      return ope_error_set(err, OPE_EDATA, NULL,
                           "the checkpoint's network gives a non-finite output "
                           "(its weights overflow single precision)");
  return OPE_OK;
}

/* Workspaces and scratch for evaluating a head on up to S states at once:
 * a workspace per network the head uses (BCQ's networks see n_cand rows
 * per state) and float arrays laid out for the head. Single queries use
 * S = 1; dataset scoring uses blocks of rows. Each call owns its own, so
 * a policy may be used from several threads at once. */
typedef struct evalws {
  int S;
  ope_mlp_ws *pi, *q, *imit, *dec, *pert;
  float *x;        /* (S, d) normalized observations */
  float *y;        /* (S, out) of pi or q */
  float *g;        /* (S, A) imit logits */
  float *act;      /* (S, m) deterministic actions, normalized units */
  float *sz, *a0, *sa, *xi, *qv; /* BCQ: (S K, d + L), (S K, m),
                                    (S K, d + m), (S K, m), (S K) */
  int *allowed;    /* (A) */
} evalws;

static void evalws_clear(evalws *w) {
  ope_mlp_ws *ws[] = {w->pi, w->q, w->imit, w->dec, w->pert};
  for (int k = 0; k < 5; k++) ope_mlp_ws_free(ws[k]);
  free(w->x);
  free(w->allowed);
  memset(w, 0, sizeof *w);
}

static ope_status evalws_new(const head *h, int S, evalws *w, ope_error *err) {
  memset(w, 0, sizeof *w);
  w->S = S;
  int d = h->d, m = h->m, A = h->A, K = h->n_cand, L = h->latent;
  size_t s = (size_t)S, sk = s * (size_t)K;
  size_t ny = h->pi ? (size_t)h->pi->cfg.out : (size_t)A;
  size_t need = s * d + s * ny + s * A + s * m;
  if (h->kind == H_BCQ) need += sk * (d + L) + sk * m + sk * (d + m) + sk * m + sk;
  ope_status st = OPE_OK;
  const ope_mlp *nets[] = {h->pi, h->q, h->imit, h->dec, h->pert};
  ope_mlp_ws **wss[] = {&w->pi, &w->q, &w->imit, &w->dec, &w->pert};
  for (int k = 0; k < 5 && st == OPE_OK; k++)
    if (nets[k]) st = ope_mlp_ws_new(nets[k], h->kind == H_BCQ ? S * K : S, wss[k], err);
  if (st != OPE_OK) goto fail;
  w->x = malloc(need * sizeof(float));
  w->allowed = malloc((A > 0 ? (size_t)A : 1) * sizeof(int));
  if (w->x == NULL || w->allowed == NULL) {
    st = ope_error_nomem(err);
    goto fail;
  }
  w->y = w->x + s * d;
  w->g = w->y + s * ny;
  w->act = w->g + s * A;
  w->sz = w->act + s * m;
  w->a0 = w->sz + sk * (d + L);
  w->sa = w->a0 + sk * m;
  w->xi = w->sa + sk * (d + m);
  w->qv = w->xi + sk * m;
  return OPE_OK;
fail:
  evalws_clear(w);
  return st;
}

/* x (n, d) <- the checkpoint's normalization of obs (n, d). */
static void norm_obs(const head *h, const double *obs, size_t n, float *x) {
  if (h->ck->obs_norm) ope_norm_apply(h->ck->obs_norm, obs, n, h->d, x, h->d);
  else for (size_t i = 0; i < n * h->d; i++) x[i] = (float)obs[i];
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

/* Discrete heads: probs (n, A) at the n normalized states in w->x. */
static ope_status head_dist(const head *h, evalws *w, int n, double *probs,
                            ope_error *err) {
  int A = h->A;
  ope_status st;
  if (h->kind == H_SOFTMAX) {
    if ((st = run(h->pi, w->pi, w->x, n, w->y, err)) != OPE_OK) return st;
    for (int i = 0; i < n; i++) {
      const float *y = w->y + (size_t)i * A;
      double *pr = probs + (size_t)i * A, mx = y[0], sum = 0;
      for (int a = 1; a < A; a++) if (y[a] > mx) mx = y[a];
      for (int a = 0; a < A; a++) sum += pr[a] = exp(y[a] - mx);
      for (int a = 0; a < A; a++) pr[a] /= sum;
    }
    return OPE_OK;
  }
  if ((st = run(h->q, w->q, w->x, n, w->y, err)) != OPE_OK) return st;
  if (h->kind == H_BCQD && (st = run(h->imit, w->imit, w->x, n, w->g, err)) != OPE_OK)
    return st;
  /* p_a / p_max >= thr  <=>  logit_a - logit_max >= log thr */
  double lt = h->thr > 0 ? log(h->thr) : -INFINITY;
  for (int a = 0; a < A; a++) w->allowed[a] = 1;
  for (int i = 0; i < n; i++) {
    if (h->kind == H_BCQD) {
      const float *g = w->g + (size_t)i * A;
      float mx = g[0];
      for (int a = 1; a < A; a++) if (g[a] > mx) mx = g[a];
      for (int a = 0; a < A; a++) w->allowed[a] = (double)g[a] - mx >= lt;
    }
    q_dist(h, w->y + (size_t)i * A, w->allowed, probs + (size_t)i * A);
  }
  return OPE_OK;
}

/* Deterministic heads: w->act (n, m), normalized units, at the n states in
 * w->x. BCQ state i uses candidate rows i K .. i K + K - 1. */
static ope_status head_det(const head *h, evalws *w, int n, ope_error *err) {
  int m = h->m, d = h->d, K = h->n_cand, L = h->latent;
  if (h->kind == H_DET) {
    ope_status st = run(h->pi, w->pi, w->x, n, w->act, err);
    for (size_t k = 0; k < (size_t)n * m; k++) w->act[k] = tanhf(w->act[k]);
    return st;
  }
  /* BCQ surrogate: decode K fixed latents, perturb, take argmax q1. */
  size_t R = (size_t)n * K;
  for (size_t r = 0; r < R; r++) {
    memcpy(w->sz + r * (d + L), w->x + (r / K) * d, (size_t)d * sizeof(float));
    memcpy(w->sz + r * (d + L) + d, h->zc + (r % K) * L, (size_t)L * sizeof(float));
  }
  ope_status st = run(h->dec, w->dec, w->sz, (int)R, w->a0, err);
  if (st != OPE_OK) return st;
  for (size_t i = 0; i < R * m; i++) w->a0[i] = tanhf(w->a0[i]);
  for (size_t r = 0; r < R; r++) {
    memcpy(w->sa + r * (d + m), w->x + (r / K) * d, (size_t)d * sizeof(float));
    memcpy(w->sa + r * (d + m) + d, w->a0 + r * m, (size_t)m * sizeof(float));
  }
  if ((st = run(h->pert, w->pert, w->sa, (int)R, w->xi, err)) != OPE_OK) return st;
  for (size_t r = 0; r < R; r++)
    for (int j = 0; j < m; j++) {
      float v = w->a0[r * m + j] + (float)h->phi * tanhf(w->xi[r * m + j]);
      w->sa[r * (d + m) + d + j] = v > 1 ? 1 : v < -1 ? -1 : v;
    }
  if ((st = run(h->q, w->q, w->sa, (int)R, w->qv, err)) != OPE_OK) return st;
  for (int i = 0; i < n; i++) {
    const float *qv = w->qv + (size_t)i * K;
    int best = 0;
    for (int k = 1; k < K; k++) if (qv[k] > qv[best]) best = k;
    memcpy(w->act + (size_t)i * m, w->sa + ((size_t)i * K + best) * (d + m) + d,
           (size_t)m * sizeof(float));
  }
  return OPE_OK;
}

/* Clipped log-std j of a Gaussian head's output row y (2m). */
static double head_log_std(const head *h, const float *y, int j) {
  double ls = y[h->m + j];
  return ls < OPE_TRAIN_LOG_STD_MIN ? OPE_TRAIN_LOG_STD_MIN
       : ls > OPE_TRAIN_LOG_STD_MAX ? OPE_TRAIN_LOG_STD_MAX : ls;
}

/* Density of action (m, action units) under a Gaussian head's output row
 * y (2m). */
static double head_density(const head *h, const float *y, const double *action) {
  double lp = 0;
  for (int j = 0; j < h->m; j++) {
    double ls = head_log_std(h, y, j);
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
  return exp(lp);
}

/* Workspaces for one query, with obs normalized into w->x. */
static ope_status one_row(const head *h, const double *obs, evalws *w,
                          ope_error *err) {
  ope_status st = evalws_new(h, 1, w, err);
  if (st == OPE_OK) norm_obs(h, obs, 1, w->x);
  return st;
}

static ope_status pol_dist(const ope_policy *p, void *ctx, const double *obs,
                           double *probs, ope_error *err) {
  const head *h = p->impl;
  evalws w;
  (void)ctx;
  ope_status st = one_row(h, obs, &w, err);
  if (st != OPE_OK) return st;
  st = head_dist(h, &w, 1, probs, err);
  evalws_clear(&w);
  return st;
}

static ope_status pol_sample(const ope_policy *p, void *ctx, const double *obs,
                             ope_rng *rng, double *action, ope_error *err) {
  const head *h = p->impl;
  int m = h->m;
  evalws w;
  (void)ctx;
  ope_status st = one_row(h, obs, &w, err);
  if (st != OPE_OK) return st;
  if (h->kind == H_DET || h->kind == H_BCQ) {
    st = head_det(h, &w, 1, err);
    for (int j = 0; st == OPE_OK && j < m; j++) action[j] = w.act[j] * h->scale[j];
  } else if ((st = run(h->pi, w.pi, w.x, 1, w.y, err)) == OPE_OK) {
    for (int j = 0; j < m; j++) {
      double ls = head_log_std(h, w.y, j);
      double e = rng ? ope_rng_normal(rng) : 0.0;
      double u = (h->kind == H_GAUSS ? tanh(w.y[j]) : w.y[j]) + exp(ls) * e;
      action[j] = (h->kind == H_TGAUSS ? tanh(u) : u) * h->scale[j];
    }
  }
  evalws_clear(&w);
  return st;
}

static ope_status pol_density(const ope_policy *p, void *ctx, const double *obs,
                              const double *action, double *dens, ope_error *err) {
  const head *h = p->impl;
  evalws w;
  (void)ctx;
  ope_status st = one_row(h, obs, &w, err);
  if (st != OPE_OK) return st;
  if ((st = run(h->pi, w.pi, w.x, 1, w.y, err)) == OPE_OK)
    *dens = head_density(h, w.y, action);
  evalws_clear(&w);
  return st;
}

/* Network rows per block of the dataset fast path: SCORE_ROWS states, or
 * SCORE_ROWS / n_cand states for BCQ, whose networks see n_cand rows per
 * state. */
#define SCORE_ROWS 256

/* ops->score: the same numbers as the one-row ops above, with the networks
 * run on blocks of rows. The heads are Markov, so rows need no episode
 * order. Deterministic heads also return their actions, so a caller's
 * kernel bandwidth can re-derive the densities (policy.h). */
static ope_status pol_score(const ope_policy *p, const ope_dataset *ds,
                            ope_policy_scores *out, ope_error *err) {
  const head *h = p->impl;
  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  int A = ds->n_actions, m = ds->action_dim, d = h->d;
  int S = h->kind == H_BCQ ? SCORE_ROWS / h->n_cand : SCORE_ROWS;
  if (S < 1) S = 1;
  evalws w;
  ope_status st = evalws_new(h, S, &w, err);
  if (st != OPE_OK) return st;
  out->n_steps = ds->n_steps;
  out->n_actions = discrete ? A : 0;
  out->action_dim = m;
  out->deterministic = p->deterministic;
  out->bandwidth = p->deterministic ? p->bandwidth : 0.0;
  size_t n = ds->n_steps ? ds->n_steps : 1;
  out->prob = malloc(n * sizeof(double));
  if (discrete) out->dist = malloc(n * (size_t)A * sizeof(double));
  if (p->deterministic) out->act = malloc(n * (size_t)m * sizeof(double));
  if (out->prob == NULL || (discrete && out->dist == NULL) ||
      (p->deterministic && out->act == NULL)) {
    st = ope_error_nomem(err);
    goto done;
  }
  for (size_t t0 = 0; t0 < ds->n_steps && st == OPE_OK; t0 += (size_t)S) {
    int nr = ds->n_steps - t0 < (size_t)S ? (int)(ds->n_steps - t0) : S;
    norm_obs(h, ds->obs + t0 * d, (size_t)nr, w.x);
    if (discrete) {
      double *dist = out->dist + t0 * A;
      if ((st = head_dist(h, &w, nr, dist, err)) != OPE_OK) break;
      for (int i = 0; i < nr; i++)
        out->prob[t0 + i] = dist[(size_t)i * A + ds->action[t0 + i]];
    } else if (p->deterministic) {
      if ((st = head_det(h, &w, nr, err)) != OPE_OK) break;
      for (int i = 0; i < nr; i++) {
        size_t t = t0 + i;
        double *mu = out->act + t * m;
        for (int j = 0; j < m; j++) mu[j] = w.act[(size_t)i * m + j] * h->scale[j];
        out->prob[t] = ope_gaussian_kernel(ds->action_vec + t * m, mu, m, p->bandwidth);
      }
    } else {
      if ((st = run(h->pi, w.pi, w.x, nr, w.y, err)) != OPE_OK) break;
      for (int i = 0; i < nr; i++)
        out->prob[t0 + i] = head_density(h, w.y + (size_t)i * 2 * m,
                                         ds->action_vec + (t0 + i) * m);
    }
  }
done:
  evalws_clear(&w);
  if (st != OPE_OK) ope_policy_scores_clear(out);
  return st;
}

static const ope_policy_ops discrete_ops = {
  .dist = pol_dist, .score = pol_score, .destroy = destroy,
};
static const ope_policy_ops continuous_ops = {
  .sample = pol_sample, .density = pol_density, .score = pol_score,
  .destroy = destroy,
};
static const ope_policy_ops deterministic_ops = {
  .sample = pol_sample, .score = pol_score, .destroy = destroy,
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
        /* in [0, 1], as the trainer allows: the greedy action always passes */
        if (!ope_train_json_num(js, "bcq_threshold", &h->thr) || !(h->thr >= 0 && h->thr <= 1)) {
          why = "bcq_threshold";
          goto bad;
        }
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

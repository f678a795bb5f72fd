/* The Decision Transformer as a history-dependent policy; see dt.h.
 *
 * Per episode a context keeps up to context-1 previous steps (their
 * return-to-go, normalized observation, action input and timestep) and the
 * rewards received so far. A query writes the current step after them with
 * return-to-go (R_0 - rewards so far) / rtg_scale and an empty action
 * (causal attention never lets the prediction at a state token see its own
 * action token), runs one window, and reads the last state token's output.
 * Discrete actions: softmax of the logits. Continuous: tanh of the output
 * times the action scale, a deterministic action with a kernel density. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/norm.h"
#include "train/ckpt_policy.h"
#include "train/dt.h"

/* Windows per forward when scoring a whole dataset. */
#define SCORE_BATCH 32

typedef struct dt_pol {
  ope_ckpt *ck;               /* owns the parameters and normalization */
  ope_dt_layout L;
  const float *params;
  int discrete, d, A, m, ain, out;
  double *act_scale;          /* (m) continuous */
  double target, rtg_scale;
} dt_pol;

typedef struct dt_ctx {
  int n;                      /* previous steps held, <= context - 1 */
  long long t;                /* steps taken in the episode */
  double ret;                 /* rewards received so far */
  float *rtg, *obs, *act;     /* (K), (K, d), (K, ain) */
  int32_t *ts;                /* (K) */
  ope_dt_ws_f *ws;
} dt_ctx;

static const ope_policy_ops discrete_ops, continuous_ops;

static int is_dt(const ope_policy *p) {
  return p && (p->ops == &discrete_ops || p->ops == &continuous_ops);
}

static void pol_free(dt_pol *h) {
  if (h == NULL) return;
  ope_ckpt_free(h->ck);
  free(h->act_scale);
  free(h);
}

static void destroy(ope_policy *p) { pol_free(p->impl); }

static void ctx_free(void *c) {
  dt_ctx *x = c;
  if (x == NULL) return;
  ope_dt_ws_free_f(x->ws);
  free(x->rtg);
  free(x->obs);
  free(x->act);
  free(x->ts);
  free(x);
}

static ope_status ctx_new(const ope_policy *p, void **out, ope_error *err) {
  const dt_pol *h = p->impl;
  size_t K = (size_t)h->L.a.context;
  *out = NULL;
  dt_ctx *x = calloc(1, sizeof *x);
  if (x == NULL) return ope_error_nomem(err);
  x->rtg = calloc(K, sizeof(float));
  x->obs = calloc(K * (size_t)h->d, sizeof(float));
  x->act = calloc(K * (size_t)h->ain, sizeof(float));
  x->ts = calloc(K, sizeof(int32_t));
  ope_status st = OPE_OK;
  if (!x->rtg || !x->obs || !x->act || !x->ts) st = ope_error_nomem(err);
  else st = ope_dt_ws_new_f(&h->L, 1, &x->ws, err);
  if (st != OPE_OK) {
    ctx_free(x);
    return st;
  }
  *out = x;
  return OPE_OK;
}

/* Write the current step into slot n of the context (action empty). */
static void put_step(const dt_pol *h, dt_ctx *x, const double *obs) {
  int n = x->n, max_t = h->L.a.max_ep_len - 1;
  x->rtg[n] = (float)((h->target - x->ret) / h->rtg_scale);
  ope_norm_apply(h->ck->obs_norm, obs, 1, (size_t)h->d,
                 x->obs + (size_t)n * h->d, (size_t)h->d);
  memset(x->act + (size_t)n * h->ain, 0, (size_t)h->ain * sizeof(float));
  x->ts[n] = (int32_t)(x->t < max_t ? x->t : max_t);
}

/* The head's output (out values) at the current step. */
static const float *query(const dt_pol *h, dt_ctx *x, const double *obs) {
  put_step(h, x, obs);
  const float *y = ope_dt_forward_f(&h->L, h->params, x->ws, x->rtg, x->obs,
                                    x->act, x->ts, 1, x->n + 1, 0.0, NULL);
  return y + (size_t)x->n * h->out;
}

static void observe(const ope_policy *p, void *c, const double *obs,
                    const double *action, double reward) {
  const dt_pol *h = p->impl;
  dt_ctx *x = c;
  int K = h->L.a.context;
  put_step(h, x, obs);
  float *a = x->act + (size_t)x->n * h->ain;
  if (h->discrete) {
    int ai = (int)action[0];
    if (ai >= 0 && ai < h->A) a[ai] = 1.0f;
  } else {
    for (int j = 0; j < h->m; j++) a[j] = (float)(action[j] / h->act_scale[j]);
  }
  x->n++;
  if (x->n == K) {  // keep the last K-1 steps
    int keep = K - 1;
    memmove(x->rtg, x->rtg + 1, (size_t)keep * sizeof(float));
    memmove(x->obs, x->obs + h->d, (size_t)keep * h->d * sizeof(float));
    memmove(x->act, x->act + h->ain, (size_t)keep * h->ain * sizeof(float));
    memmove(x->ts, x->ts + 1, (size_t)keep * sizeof(int32_t));
    x->n = keep;
  }
  x->ret += reward;
  x->t++;
}

static void softmax_row(const float *y, int A, double *probs) {
  double mx = y[0], s = 0;
  for (int a = 1; a < A; a++) mx = fmax(mx, y[a]);
  for (int a = 0; a < A; a++) s += (probs[a] = exp(y[a] - mx));
  for (int a = 0; a < A; a++) probs[a] /= s;
}

static ope_status dist(const ope_policy *p, void *c, const double *obs,
                       double *probs, ope_error *err) {
  (void)err;
  const dt_pol *h = p->impl;
  softmax_row(query(h, c, obs), h->A, probs);
  return OPE_OK;
}

static ope_status sample(const ope_policy *p, void *c, const double *obs,
                         ope_rng *rng, double *action, ope_error *err) {
  (void)rng, (void)err;
  const dt_pol *h = p->impl;
  const float *y = query(h, c, obs);
  for (int j = 0; j < h->m; j++) action[j] = tanh(y[j]) * h->act_scale[j];
  return OPE_OK;
}

/* ---- scoring a dataset (discrete) ---- */

typedef struct score_buf {
  float *rtg, *obs, *act;
  int32_t *ts;
  double *rtg_row;            /* (len) R_0 - rewards before each row */
  ope_dt_ws_f *ws;
} score_buf;

/* The K steps of the episode starting at row a, from row `first` on, into
 * batch slot b (rtg_row[i]: the target minus the rewards before step i). */
static void fill_window(const dt_pol *h, const ope_dataset *ds, size_t a,
                        size_t first, int K, const double *rtg_row,
                        score_buf *sb, int b) {
  int max_t = h->L.a.max_ep_len - 1;
  for (int k = 0; k < K; k++) {
    size_t r = first + (size_t)k, s = (size_t)b * K + k;
    sb->rtg[s] = (float)(rtg_row[r - a] / h->rtg_scale);
    ope_norm_apply(h->ck->obs_norm, ds->obs + r * h->d, 1, (size_t)h->d,
                   sb->obs + s * h->d, (size_t)h->d);
    float *av = sb->act + s * h->ain;
    memset(av, 0, (size_t)h->ain * sizeof(float));
    av[ds->action[r]] = 1.0f;
    long long t = (long long)(r - a);
    sb->ts[s] = (int32_t)(t < max_t ? t : max_t);
  }
}

static void put_row(const dt_pol *h, const ope_dataset *ds, size_t r,
                    const float *y, ope_policy_scores *out) {
  double *pr = out->dist + r * h->A;
  softmax_row(y, h->A, pr);
  out->prob[r] = pr[ds->action[r]];
}

static ope_status score(const ope_policy *p, const ope_dataset *ds,
                        ope_policy_scores *out, ope_error *err) {
  const dt_pol *h = p->impl;
  int K = h->L.a.context, A = h->A;
  size_t maxlen = 1, n = ds->n_steps ? ds->n_steps : 1;
  for (size_t e = 0; e < ds->n_episodes; e++)
    if (ope_dataset_ep_len(ds, e) > maxlen) maxlen = ope_dataset_ep_len(ds, e);
  score_buf sb = {0};
  size_t BK = (size_t)SCORE_BATCH * K;
  ope_status st = OPE_OK;
  memset(out, 0, sizeof *out);
  out->n_steps = ds->n_steps;
  out->n_actions = A;
  out->action_dim = 1;
  out->prob = malloc(n * sizeof(double));
  out->dist = malloc(n * (size_t)A * sizeof(double));
  sb.rtg = malloc(BK * sizeof(float));
  sb.obs = malloc(BK * (size_t)h->d * sizeof(float));
  sb.act = malloc(BK * (size_t)h->ain * sizeof(float));
  sb.ts = malloc(BK * sizeof(int32_t));
  sb.rtg_row = malloc(maxlen * sizeof(double));
  if (!out->prob || !out->dist || !sb.rtg || !sb.obs || !sb.act || !sb.ts ||
      !sb.rtg_row) {
    st = ope_error_nomem(err);
    goto done;
  }
  if ((st = ope_dt_ws_new_f(&h->L, SCORE_BATCH, &sb.ws, err)) != OPE_OK) goto done;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    size_t a = ds->ep_offset[e], len = ope_dataset_ep_len(ds, e);
    if (len == 0) continue;
    double g = h->target;
    for (size_t i = 0; i < len; i++) {
      sb.rtg_row[i] = g;
      g -= ds->reward[a + i];
    }
    // the prefix: position k of one window is the window ending at k
    int k0 = len < (size_t)K ? (int)len : K;
    fill_window(h, ds, a, a, k0, sb.rtg_row, &sb, 0);
    const float *y = ope_dt_forward_f(&h->L, h->params, sb.ws, sb.rtg, sb.obs,
                                      sb.act, sb.ts, 1, k0, 0.0, NULL);
    for (int k = 0; k < k0; k++) put_row(h, ds, a + k, y + (size_t)k * A, out);
    // later steps: full windows ending at each row, SCORE_BATCH at a time
    for (size_t r = a + (size_t)K; r < a + len; r += SCORE_BATCH) {
      int nb = (int)(a + len - r < SCORE_BATCH ? a + len - r : SCORE_BATCH);
      for (int b = 0; b < nb; b++)
        fill_window(h, ds, a, r + b + 1 - (size_t)K, K, sb.rtg_row, &sb, b);
      y = ope_dt_forward_f(&h->L, h->params, sb.ws, sb.rtg, sb.obs, sb.act,
                           sb.ts, nb, K, 0.0, NULL);
      for (int b = 0; b < nb; b++)
        put_row(h, ds, r + b, y + ((size_t)b * K + K - 1) * A, out);
    }
  }
done:
  ope_dt_ws_free_f(sb.ws);
  free(sb.rtg);
  free(sb.obs);
  free(sb.act);
  free(sb.ts);
  free(sb.rtg_row);
  if (st != OPE_OK) ope_policy_scores_clear(out);
  return st;
}

/* Continuous policies have no fast path: the generic scorer applies the
 * caller's kernel bandwidth, which ops->score would not see. */
static const ope_policy_ops discrete_ops = {
  .ctx_new = ctx_new, .ctx_free = ctx_free, .dist = dist,
  .observe = observe, .score = score, .destroy = destroy,
};
static const ope_policy_ops continuous_ops = {
  .ctx_new = ctx_new, .ctx_free = ctx_free, .sample = sample,
  .observe = observe, .destroy = destroy,
};

ope_status ope_dt_policy_from_ckpt(ope_ckpt *ck, const char *name,
                                   ope_policy **out, ope_error *err) {
  *out = NULL;
  const char *js = ck->settings, *why = NULL;
  double v, arch[8], dv[OPE_MAX_ACTION_DIM];
  int na = 0;
  dt_pol *h = calloc(1, sizeof *h);
  if (h == NULL) {
    ope_ckpt_free(ck);
    return ope_error_nomem(err);
  }
  h->ck = ck;
  if (!ope_train_json_nums(js, "dt_arch", arch, 8, &na) || na != 5) { why = "no dt_arch"; goto bad; }
  if (!ope_train_json_num(js, "obs_dim", &v) || v < 1 || v > OPE_MAX_OBS_DIM) { why = "no obs_dim"; goto bad; }
  h->d = (int)v;
  if (ck->obs_norm == NULL || ck->obs_norm->dim != h->d) { why = "observation normalization"; goto bad; }
  if (!ope_train_json_num(js, "target_return", &h->target) || !isfinite(h->target)) { why = "no target_return"; goto bad; }
  if (!ope_train_json_num(js, "rtg_scale", &h->rtg_scale) || !(h->rtg_scale > 0)) { why = "no rtg_scale"; goto bad; }
  if (ope_train_json_num(js, "n_actions", &v)) {
    if (v < 2 || v > OPE_MAX_ACTIONS) { why = "n_actions"; goto bad; }
    h->discrete = 1;
    h->A = h->ain = h->out = (int)v;
    h->m = 1;
  } else {
    int n = 0;
    if (!ope_train_json_nums(js, "action_scale", dv, OPE_MAX_ACTION_DIM, &n) || n < 1) { why = "no action_scale"; goto bad; }
    h->m = h->ain = h->out = n;
    if ((h->act_scale = malloc((size_t)n * sizeof(double))) == NULL) {
      pol_free(h);
      return ope_error_nomem(err);
    }
    for (int j = 0; j < n; j++) {
      if (!(dv[j] > 0)) { why = "action_scale"; goto bad; }
      h->act_scale[j] = dv[j];
    }
  }
  for (int i = 0; i < 5; i++)
    if (arch[i] != floor(arch[i]) || arch[i] < 1 || arch[i] > OPE_DT_MAX_EP_LEN) { why = "dt_arch"; goto bad; }
  ope_dt_arch a = {h->d, h->ain, h->out, (int)arch[0], (int)arch[1],
                   (int)arch[2], (int)arch[3], (int)arch[4]};
  if ((why = ope_dt_arch_check(&a)) != NULL) goto bad;
  ope_dt_layout_make(&h->L, &a);
  const ope_mlp *net = ope_ckpt_net(ck, "dt");
  if (net == NULL || net->cfg.n_hidden != 0 || net->n_params < h->L.n_params) { why = "network dt"; goto bad; }
  for (size_t i = h->L.n_params; i < net->n_params; i++)
    if (net->params[i] != 0) { why = "network dt (nonzero tail)"; goto bad; }
  h->params = net->params;
  double bw = 0;
  if (!h->discrete && (!ope_train_json_num(js, "bandwidth", &bw) || !(bw > 0))) { why = "no kernel bandwidth"; goto bad; }
  ope_policy *p = ope_policy_new(h->discrete ? &discrete_ops : &continuous_ops,
                                 name, h->discrete ? OPE_ACTION_DISCRETE : OPE_ACTION_CONTINUOUS,
                                 h->d, h->A, h->m, h, err);
  if (p == NULL) {
    pol_free(h);
    return OPE_EINTERNAL;
  }
  p->deterministic = !h->discrete;
  p->bandwidth = bw;
  *out = p;
  return OPE_OK;
bad:
  pol_free(h);
  return ope_error_set(err, OPE_EDATA, name, "checkpoint: %s", why);
}

ope_status ope_dt_policy_set_target(ope_policy *p, double target_return,
                                    ope_error *err) {
  if (!is_dt(p))
    return ope_error_set(err, OPE_EUSAGE, p ? p->name : NULL,
                         "not a Decision Transformer policy");
  if (!isfinite(target_return))
    return ope_error_set(err, OPE_EUSAGE, p->name, "target return must be finite");
  ((dt_pol *)p->impl)->target = target_return;
  return OPE_OK;
}

double ope_dt_policy_target(const ope_policy *p) {
  return is_dt(p) ? ((const dt_pol *)p->impl)->target : NAN;
}

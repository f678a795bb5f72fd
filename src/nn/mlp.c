/* Multi-layer perceptrons over one flat parameter buffer; see mlp.h.
 *
 * Parameter layout, layer by layer: W_i, b_i, then (layer norm) gamma_i,
 * beta_i. The workspace keeps, per hidden layer, the dense output z_i, the
 * normalized y_i (layer norm only) and the activation h_i, which is what the
 * backward of each piece needs. A layer's weight gradient and input
 * gradient are independent products: the backward runs them at once when
 * two threads are allowed (nn/gemm.h), with the same bits either way. */
#include "nn/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/layers.h"

/* Layers smaller than this many multiply-adds run their backward's two
 * products on one thread (a hand-off would cost more than it saves). */
#define PAR_MIN_MACS ((size_t)1 << 15)

struct ope_mlp_ws {
  int max_batch;
  int B;                                  /* rows of the last forward */
  const float *in;                        /* input of the last forward */
  float *z[OPE_MLP_MAX_HIDDEN + 1];       /* (B, width[i+1]) dense outputs */
  float *y[OPE_MLP_MAX_HIDDEN];           /* (B, hidden[i]) layer-norm outputs */
  float *h[OPE_MLP_MAX_HIDDEN];           /* (B, hidden[i]) activations */
  float *ln_mean[OPE_MLP_MAX_HIDDEN];     /* (B) */
  float *ln_rstd[OPE_MLP_MAX_HIDDEN];     /* (B) */
  float *g0, *g1;                         /* (B, max width) gradient scratch */
  float *ln_scratch;                      /* (2, max width) */
  float *buf;                             /* the one allocation */
};

void ope_mlp_config_make(ope_mlp_config *cfg, int in, int n_hidden,
                         int hidden, int out, ope_nn_act act) {
  memset(cfg, 0, sizeof *cfg);
  cfg->in = in;
  cfg->out = out;
  cfg->n_hidden = n_hidden;
  for (int i = 0; i < n_hidden && i < OPE_MLP_MAX_HIDDEN; i++)
    cfg->hidden[i] = hidden;
  cfg->act = act;
}

const char *ope_mlp_config_check(const ope_mlp_config *cfg) {
  if (cfg->in < 1 || cfg->in > OPE_MLP_MAX_WIDTH)
    return "input width out of range";
  if (cfg->out < 1 || cfg->out > OPE_MLP_MAX_WIDTH)
    return "output width out of range";
  if (cfg->n_hidden < 0 || cfg->n_hidden > OPE_MLP_MAX_HIDDEN)
    return "number of hidden layers out of range";
  for (int i = 0; i < cfg->n_hidden; i++)
    if (cfg->hidden[i] < 1 || cfg->hidden[i] > OPE_MLP_MAX_WIDTH)
      return "hidden width out of range";
  if (cfg->act != OPE_ACT_RELU && cfg->act != OPE_ACT_TANH &&
      cfg->act != OPE_ACT_GELU)
    return "unknown activation";
  if (cfg->layernorm != 0 && cfg->layernorm != 1)
    return "layernorm must be 0 or 1";
  return NULL;
}

ope_status ope_mlp_new(const ope_mlp_config *cfg, ope_mlp **out,
                       ope_error *err) {
  *out = NULL;
  const char *why = ope_mlp_config_check(cfg);
  if (why) return ope_error_set(err, OPE_EUSAGE, "mlp", "%s", why);
  ope_mlp *m = calloc(1, sizeof *m);
  if (m == NULL) return ope_error_nomem(err);
  m->cfg = *cfg;
  m->n_dense = cfg->n_hidden + 1;
  m->width[0] = cfg->in;
  for (int i = 0; i < cfg->n_hidden; i++) m->width[i + 1] = cfg->hidden[i];
  m->width[m->n_dense] = cfg->out;
  size_t n = 0;
  for (int i = 0; i < m->n_dense; i++) {
    m->w_off[i] = n;
    n += (size_t)m->width[i] * (size_t)m->width[i + 1];
    m->b_off[i] = n;
    n += (size_t)m->width[i + 1];
    if (cfg->layernorm && i < cfg->n_hidden) {
      m->ln_g_off[i] = n;
      n += (size_t)m->width[i + 1];
      m->ln_b_off[i] = n;
      n += (size_t)m->width[i + 1];
    }
  }
  if (n > OPE_MLP_MAX_PARAMS) {
    free(m);
    return ope_error_set(err, OPE_EUSAGE, "mlp",
                         "%zu parameters exceed the limit of %zu", n,
                         OPE_MLP_MAX_PARAMS);
  }
  m->n_params = n;
  m->params = calloc(n, sizeof(float));
  m->grads = calloc(n, sizeof(float));
  if (m->params == NULL || m->grads == NULL) {
    ope_mlp_free(m);
    return ope_error_nomem(err);
  }
  *out = m;
  return OPE_OK;
}

void ope_mlp_free(ope_mlp *m) {
  if (m == NULL) return;
  free(m->params);
  free(m->grads);
  free(m);
}

void ope_nn_init_he(float *w, int C, int OC, double gain, ope_rng *rng) {
  double sd = gain / sqrt((double)C);
  for (size_t k = 0; k < (size_t)C * OC; k++)
    w[k] = (float)(sd * ope_rng_normal(rng));
}

void ope_nn_init_orthogonal(float *w, int C, int OC, double gain,
                            ope_rng *rng) {
  // Gram-Schmidt (modified) over the shorter side: when C >= OC the OC
  // columns (length C, stride OC) become orthonormal, else the C rows.
  int nvec = C >= OC ? OC : C, len = C >= OC ? C : OC;
  size_t step = C >= OC ? (size_t)OC : 1, vstride = C >= OC ? 1 : (size_t)OC;
  for (size_t k = 0; k < (size_t)C * OC; k++) w[k] = (float)ope_rng_normal(rng);
  for (int v = 0; v < nvec; v++) {
    float *x = w + v * vstride;
    for (int u = 0; u < v; u++) {
      const float *q = w + u * vstride;
      double dot = 0;
      for (int k = 0; k < len; k++) dot += (double)x[k * step] * q[k * step];
      for (int k = 0; k < len; k++) x[k * step] -= (float)(dot * q[k * step]);
    }
    double nrm = 0;
    for (int k = 0; k < len; k++) nrm += (double)x[k * step] * x[k * step];
    nrm = sqrt(nrm);
    if (nrm < 1e-12) nrm = 1; /* only for degenerate draws */
    for (int k = 0; k < len; k++) x[k * step] = (float)(x[k * step] / nrm);
  }
  for (size_t k = 0; k < (size_t)C * OC; k++) w[k] = (float)(gain * w[k]);
}

void ope_mlp_init(ope_mlp *m, ope_nn_init kind, ope_rng *rng) {
  memset(m->params, 0, m->n_params * sizeof(float));
  for (int i = 0; i < m->n_dense; i++) {
    double gain = i + 1 < m->n_dense ? sqrt(2.0) : 1.0;
    float *w = m->params + m->w_off[i];
    if (kind == OPE_INIT_ORTHOGONAL)
      ope_nn_init_orthogonal(w, m->width[i], m->width[i + 1], gain, rng);
    else
      ope_nn_init_he(w, m->width[i], m->width[i + 1], gain, rng);
    if (m->cfg.layernorm && i < m->cfg.n_hidden)
      for (int j = 0; j < m->width[i + 1]; j++)
        m->params[m->ln_g_off[i] + j] = 1.0f;
  }
}

void ope_mlp_copy(ope_mlp *dst, const ope_mlp *src) {
  memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

void ope_mlp_zero_grad(ope_mlp *m) {
  memset(m->grads, 0, m->n_params * sizeof(float));
}

ope_status ope_mlp_ws_new(const ope_mlp *m, int max_batch, ope_mlp_ws **out,
                          ope_error *err) {
  *out = NULL;
  if (max_batch < 1 || max_batch > (1 << 24))
    return ope_error_set(err, OPE_EUSAGE, "mlp", "batch size %d out of range",
                         max_batch);
  ope_mlp_ws *ws = calloc(1, sizeof *ws);
  if (ws == NULL) return ope_error_nomem(err);
  size_t B = (size_t)max_batch, total = 0, maxw = 0;
  for (int i = 0; i <= m->n_dense; i++)
    if ((size_t)m->width[i] > maxw) maxw = (size_t)m->width[i];
  for (int i = 0; i < m->n_dense; i++) {
    size_t w = (size_t)m->width[i + 1];
    total += B * w;                                   /* z */
    if (i < m->cfg.n_hidden) total += B * w * 2 + 2 * B; /* y, h, mean, rstd */
  }
  total += 2 * B * maxw + 2 * maxw;
  ws->buf = malloc(total * sizeof(float));
  if (ws->buf == NULL) {
    free(ws);
    return ope_error_nomem(err);
  }
  float *p = ws->buf;
  for (int i = 0; i < m->n_dense; i++) {
    size_t w = (size_t)m->width[i + 1];
    ws->z[i] = p, p += B * w;
    if (i < m->cfg.n_hidden) {
      ws->y[i] = p, p += B * w;
      ws->h[i] = p, p += B * w;
      ws->ln_mean[i] = p, p += B;
      ws->ln_rstd[i] = p, p += B;
    }
  }
  ws->g0 = p, p += B * maxw;
  ws->g1 = p, p += B * maxw;
  ws->ln_scratch = p;
  ws->max_batch = max_batch;
  *out = ws;
  return OPE_OK;
}

void ope_mlp_ws_free(ope_mlp_ws *ws) {
  if (ws == NULL) return;
  free(ws->buf);
  free(ws);
}

/* Every row of z (B, OC) = b. */
static void bias_rows(float *restrict z, const float *restrict b, int B, int OC) {
  for (int i = 0; i < B; i++) memcpy(z + (size_t)i * OC, b, (size_t)OC * sizeof(float));
}

const float *ope_mlp_forward(const ope_mlp *m, ope_mlp_ws *ws,
                             const float *in, int B) {
  const float *x = in; // (B, width[i])
  const float *P = m->params;
  ws->B = B;
  ws->in = in;
  for (int i = 0; i < m->n_dense; i++) {
    int C = m->width[i], OC = m->width[i + 1];
    size_t n = (size_t)B * OC;
    // z = b + x W
    bias_rows(ws->z[i], P + m->b_off[i], B, OC);
    ope_gemm_f(0, 0, B, OC, C, 1.0f, x, C, P + m->w_off[i], OC, 1.0f, ws->z[i], OC);
    if (i == m->cfg.n_hidden) break; /* linear output layer */
    const float *pre = ws->z[i];
    if (m->cfg.layernorm) {
      ope_nn_layernorm_forward_f(ws->y[i], ws->ln_mean[i], ws->ln_rstd[i],
                                 ws->z[i], P + m->ln_g_off[i],
                                 P + m->ln_b_off[i], B, OC);
      pre = ws->y[i];
    }
    switch (m->cfg.act) {
    case OPE_ACT_TANH: ope_nn_tanh_forward_f(ws->h[i], pre, n); break;
    case OPE_ACT_GELU: ope_nn_gelu_forward_f(ws->h[i], pre, n); break;
    default: ope_nn_relu_forward_f(ws->h[i], pre, n); break;
    }
    x = ws->h[i];
  }
  return ws->z[m->n_dense - 1];
}

/* The two independent halves of a dense layer's backward, for
 * ope_gemm_run2: the parameter gradients and the input gradient. */
typedef struct dense_grad {
  const float *dy, *x, *w;
  float *dw, *db, *dx;
  int B, C, OC, overwrite; /* overwrite: dx = ..., else dx += ... */
} dense_grad;

static void dense_param_grad(void *arg) {
  const dense_grad *g = arg;
  // dW (C, OC) += x^T (C, B) dy (B, OC); db (OC) += column sums of dy
  ope_gemm_f(1, 0, g->C, g->OC, g->B, 1.0f, g->x, g->C, g->dy, g->OC, 1.0f,
             g->dw, g->OC);
  float *restrict db = g->db;
  for (int i = 0; i < g->B; i++) {
    const float *restrict d = g->dy + (size_t)i * g->OC;
    for (int o = 0; o < g->OC; o++) db[o] += d[o];
  }
}

static void dense_input_grad(void *arg) {
  const dense_grad *g = arg;
  // dx (B, C) (+)= dy (B, OC) W^T
  if (g->dx)
    ope_gemm_f(0, 1, g->B, g->C, g->OC, 1.0f, g->dy, g->OC, g->w, g->OC,
               g->overwrite ? 0.0f : 1.0f, g->dx, g->C);
}

/* d (n) *= the activation's derivative, from its output h (ReLU, tanh)
 * or its input pre (GELU). */
static void act_backward_inplace(ope_nn_act act, float *restrict d,
                                 const float *restrict h,
                                 const float *restrict pre, size_t n) {
  switch (act) {
  case OPE_ACT_TANH:
    for (size_t k = 0; k < n; k++) d[k] *= 1 - h[k] * h[k];
    break;
  case OPE_ACT_GELU: {
    // the layer's backward adds into a zeroed copy
    for (size_t k = 0; k < n; k++) {
      float g = d[k];
      d[k] = 0;
      ope_nn_gelu_backward_f(d + k, &g, pre + k, 1);
    }
    break;
  }
  default:
    for (size_t k = 0; k < n; k++) d[k] = h[k] > 0 ? d[k] : 0;
    break;
  }
}

/* The backward of ope_mlp_backward; without `params` only the input
 * gradient (din non-NULL) is computed. */
static void backward(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                     float *din, int params) {
  int B = ws->B;
  const float *P = m->params;
  float *G = m->grads;
  const float *dy = dout;      // gradient w.r.t. z[i] (B, width[i+1])
  for (int i = m->n_dense - 1; i >= 0; i--) {
    int C = m->width[i], OC = m->width[i + 1];
    // the input gradient goes to din (added) or to the scratch buffer that
    // does not hold dy (overwritten)
    float *dx = i == 0 ? din : dy == ws->g0 ? ws->g1 : ws->g0;
    dense_grad g = {dy, i == 0 ? ws->in : ws->h[i - 1], P + m->w_off[i],
                    G + m->w_off[i], G + m->b_off[i], dx, B, C, OC, i > 0};
    if (!params) {
      dense_input_grad(&g);
    } else if (dx && (size_t)B * C * OC >= PAR_MIN_MACS) {
      ope_gemm_run2(dense_param_grad, &g, dense_input_grad, &g);
    } else {
      dense_param_grad(&g);
      dense_input_grad(&g); /* nothing when dx is NULL */
    }
    if (i == 0) break;
    // dx is dL/dh[j]; through the activation and layer norm to dL/dz[j]
    int j = i - 1;
    size_t n = (size_t)B * C;
    act_backward_inplace(m->cfg.act, dx, ws->h[j],
                         m->cfg.layernorm ? ws->y[j] : ws->z[j], n);
    if (m->cfg.layernorm) {
      float *dz = dx == ws->g0 ? ws->g1 : ws->g0; /* dy is no longer needed */
      memset(dz, 0, n * sizeof(float));
      if (params) {
        ope_nn_layernorm_backward_f(dz, G + m->ln_g_off[j], G + m->ln_b_off[j],
                                    dx, ws->z[j], P + m->ln_g_off[j],
                                    ws->ln_mean[j], ws->ln_rstd[j], B, C);
      } else {
        // the layer's backward always adds gain and shift gradients:
        // let them land in scratch
        memset(ws->ln_scratch, 0, 2 * (size_t)C * sizeof(float));
        ope_nn_layernorm_backward_f(dz, ws->ln_scratch, ws->ln_scratch + C,
                                    dx, ws->z[j], P + m->ln_g_off[j],
                                    ws->ln_mean[j], ws->ln_rstd[j], B, C);
      }
      dy = dz;
    } else {
      dy = dx;
    }
  }
}

void ope_mlp_backward(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                      float *din) {
  backward(m, ws, dout, din, 1);
}

void ope_mlp_backward_input(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                            float *din) {
  backward(m, ws, dout, din, 0);
}

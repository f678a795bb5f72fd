/* Multi-layer perceptrons over one flat parameter buffer; see mlp.h.
 *
 * Parameter layout, layer by layer: W_i, b_i, then (layer norm) gamma_i,
 * beta_i. The workspace keeps, per hidden layer, the dense output z_i, the
 * normalized y_i (layer norm only) and the activation h_i, which is what the
 * backward of each piece needs. */
#include "nn/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"

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
  total += 2 * B * maxw;
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
  ws->g1 = p;
  ws->max_batch = max_batch;
  *out = ws;
  return OPE_OK;
}

void ope_mlp_ws_free(ope_mlp_ws *ws) {
  if (ws == NULL) return;
  free(ws->buf);
  free(ws);
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
    ope_nn_dense_forward_f(ws->z[i], x, P + m->w_off[i], P + m->b_off[i], B,
                           C, OC);
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

void ope_mlp_backward(ope_mlp *m, ope_mlp_ws *ws, const float *dout,
                      float *din) {
  int B = ws->B;
  const float *P = m->params;
  float *G = m->grads;
  const float *dy = dout;      // gradient w.r.t. z[i] (B, width[i+1])
  float *next = ws->g0, *other = ws->g1;
  for (int i = m->n_dense - 1; i >= 0; i--) {
    int C = m->width[i], OC = m->width[i + 1];
    const float *x = i == 0 ? ws->in : ws->h[i - 1];
    float *dx = NULL;     // gradient w.r.t. the layer input
    if (i > 0) {
      dx = next;
      memset(dx, 0, (size_t)B * C * sizeof(float));
    } else {
      dx = din; /* may be NULL: skips the input-gradient product */
    }
    ope_nn_dense_backward_f(dx, G + m->w_off[i], G + m->b_off[i], dy, x,
                            P + m->w_off[i], B, C, OC);
    if (i == 0) break;
    // dx is dL/dh[i-1]; through the activation and layer norm to dL/dz[i-1]
    int j = i - 1;
    size_t n = (size_t)B * C;
    const float *pre = m->cfg.layernorm ? ws->y[j] : ws->z[j];
    float *dpre = other;
    memset(dpre, 0, n * sizeof(float));
    switch (m->cfg.act) {
    case OPE_ACT_TANH: ope_nn_tanh_backward_f(dpre, dx, ws->h[j], n); break;
    case OPE_ACT_GELU: ope_nn_gelu_backward_f(dpre, dx, pre, n); break;
    default: ope_nn_relu_backward_f(dpre, dx, pre, n); break;
    }
    if (m->cfg.layernorm) {
      // dz = LN backward of dpre; reuse dx's buffer
      memset(dx, 0, n * sizeof(float));
      ope_nn_layernorm_backward_f(dx, G + m->ln_g_off[j], G + m->ln_b_off[j],
                                  dpre, ws->z[j], P + m->ln_g_off[j],
                                  ws->ln_mean[j], ws->ln_rstd[j], B, C);
      dy = dx;
      // dy lives in `next`: the next layer writes its input gradient into
      // the other buffer.
      float *t = next;
      next = other;
      other = t;
    } else {
      dy = dpre; /* lives in `other`; `next` is free again */
    }
  }
}

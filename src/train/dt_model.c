/* Decision Transformer network: layout, initialization, and the passes
 * compiled once per element type from dt_model_impl.inc; see dt_model.h. */
#include "train/dt_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/attention.h"
#include "nn/layers.h"

const char *ope_dt_arch_check(const ope_dt_arch *a) {
  if (a->obs_dim < 1 || a->obs_dim > 4096) return "observation width out of range";
  if (a->act_in < 1 || a->act_in > 65536) return "action width out of range";
  if (a->out < 1 || a->out > 65536) return "head width out of range";
  if (a->n_layer < 1 || a->n_layer > OPE_DT_MAX_LAYERS)
    return "n_layer must be 1 .. 16";
  if (a->n_embd < 1 || a->n_embd > OPE_DT_MAX_EMBD) return "n_embd must be 1 .. 4096";
  if (a->n_head < 1 || a->n_embd % a->n_head != 0)
    return "n_head must be >= 1 and divide n_embd";
  if (a->context < 1 || a->context > OPE_DT_MAX_CONTEXT)
    return "context must be 1 .. 1024";
  if (a->max_ep_len < 1 || a->max_ep_len > OPE_DT_MAX_EP_LEN)
    return "max_ep_len must be 1 .. 1000000";
  return NULL;
}

void ope_dt_layout_make(ope_dt_layout *L, const ope_dt_arch *a) {
  memset(L, 0, sizeof *L);
  L->a = *a;
  size_t C = (size_t)a->n_embd, n = 0;
#define TAKE(field, count) (L->field = n, n += (count))
  TAKE(w_rtg, C), TAKE(b_rtg, C);
  TAKE(w_obs, (size_t)a->obs_dim * C), TAKE(b_obs, C);
  TAKE(w_act, (size_t)a->act_in * C), TAKE(b_act, C);
  TAKE(t_emb, (size_t)a->max_ep_len * C);
  TAKE(lne_g, C), TAKE(lne_b, C);
  for (int l = 0; l < a->n_layer; l++) {
    TAKE(blk[l].ln1_g, C), TAKE(blk[l].ln1_b, C);
    TAKE(blk[l].w_qkv, C * 3 * C), TAKE(blk[l].b_qkv, 3 * C);
    TAKE(blk[l].w_proj, C * C), TAKE(blk[l].b_proj, C);
    TAKE(blk[l].ln2_g, C), TAKE(blk[l].ln2_b, C);
    TAKE(blk[l].w_fc, C * 4 * C), TAKE(blk[l].b_fc, 4 * C);
    TAKE(blk[l].w_fcp, 4 * C * C), TAKE(blk[l].b_fcp, C);
  }
  TAKE(lnf_g, C), TAKE(lnf_b, C);
  TAKE(w_head, C * (size_t)a->out), TAKE(b_head, (size_t)a->out);
#undef TAKE
  L->n_params = n;
}

static void normal_fill(float *w, size_t n, double sd, ope_rng *rng) {
  for (size_t i = 0; i < n; i++) w[i] = (float)(sd * ope_rng_normal(rng));
}

static void ones(float *w, size_t n) {
  for (size_t i = 0; i < n; i++) w[i] = 1.0f;
}

void ope_dt_init(const ope_dt_layout *L, float *params, ope_rng *rng) {
  const ope_dt_arch *a = &L->a;
  size_t C = (size_t)a->n_embd;
  double sd = 0.02, sd_res = 0.02 / sqrt(2.0 * a->n_layer);
  memset(params, 0, L->n_params * sizeof(float));
  normal_fill(params + L->w_rtg, C, sd, rng);
  normal_fill(params + L->w_obs, (size_t)a->obs_dim * C, sd, rng);
  normal_fill(params + L->w_act, (size_t)a->act_in * C, sd, rng);
  normal_fill(params + L->t_emb, (size_t)a->max_ep_len * C, sd, rng);
  ones(params + L->lne_g, C);
  for (int l = 0; l < a->n_layer; l++) {
    const ope_dt_block_views *v = &L->blk[l];
    ones(params + v->ln1_g, C);
    normal_fill(params + v->w_qkv, C * 3 * C, sd, rng);
    normal_fill(params + v->w_proj, C * C, sd_res, rng);
    ones(params + v->ln2_g, C);
    normal_fill(params + v->w_fc, C * 4 * C, sd, rng);
    normal_fill(params + v->w_fcp, 4 * C * C, sd_res, rng);
  }
  ones(params + L->lnf_g, C);
  normal_fill(params + L->w_head, C * (size_t)a->out, sd, rng);
}

/* tanh in float for GELU, without libm: for u = |x|, e = exp(-2u) by
 * Cody-Waite reduction (e = 2^n exp(r), |r| <= ln2/2, exp(r) by its Taylor
 * polynomial of degree 7, truncation below 1e-8) and tanh(u) = (1 - e) /
 * (1 + e). Its absolute error stays below 1e-7 (9e-8 at most on a 1e-4
 * grid over [-50, 50]), which is what GELU's 1 + t and 1 - t^2 see. Every step is a plain float or integer operation (n is
 * rounded by adding and subtracting 1.5 x 2^23, |x| clamped and the sign
 * moved on the bits), with no branch and no call, so loops over it
 * vectorize on any x86-64. */
static inline float fast_tanhf(float x) {
  uint32_t xb, sign;
  memcpy(&xb, &x, sizeof xb);
  sign = xb & 0x80000000u;
  /* u = min(|x|, 9) on the bits (beyond 9, tanh rounds to 1 in float) */
  int32_t ui = (int32_t)(xb & 0x7fffffffu);
  ui = ui < 0x41100000 ? ui : 0x41100000;
  float u;
  memcpy(&u, &ui, sizeof u);
  float y = -2.0f * u;
  const float round = 12582912.0f; /* 1.5 x 2^23 */
  float nf = (y * 1.44269504088896341f + round) - round;
  float r = y - nf * 0.693145751953125f;   /* ln2, high part (exact) */
  r = r - nf * 1.42860682030941723e-6f;    /* ln2, low part */
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  uint32_t bits = (uint32_t)((int32_t)nf + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float e = p * scale;
  float t = (1.0f - e) / (1.0f + e);
  uint32_t tb;
  memcpy(&tb, &t, sizeof tb);
  tb |= sign;
  memcpy(&t, &tb, sizeof t);
  return t;
}

#define TANH(x) fast_tanhf(x)
#define MF(fn) fn##f
#define OPE_R float
#define OPE_DT(name) ope_dt_##name##_f
#define OPE_NN(name) ope_nn_##name##_f
#include "train/dt_model_impl.inc"
#undef OPE_R
#undef OPE_DT
#undef OPE_NN
#undef TANH
#undef MF

#define TANH(x) tanh(x)
#define MF(fn) fn
#define OPE_R double
#define OPE_DT(name) ope_dt_##name##_d
#define OPE_NN(name) ope_nn_##name##_d
#include "train/dt_model_impl.inc"
#undef OPE_R
#undef OPE_DT
#undef OPE_NN
#undef TANH
#undef MF

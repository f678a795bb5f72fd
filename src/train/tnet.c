/* Trainable networks: MLP + workspace + Adam + optional target (tnet.h). */
#include "train/tnet.h"

#include <math.h>

#include "nn/gemm.h"
#include <stdio.h>
#include <string.h>

ope_status ope_tnet_init(ope_tnet *t, int in, int out, int hidden, int layers,
                         double lr, int max_batch, int with_target,
                         ope_rng *rng, ope_error *err) {
  memset(t, 0, sizeof *t);
  ope_mlp_config cfg;
  ope_mlp_config_make(&cfg, in, layers, hidden, out, OPE_ACT_RELU);
  ope_adam_config ac;
  ope_adam_config_default(&ac);
  ac.lr = lr;
  t->lr = lr;
  ope_status st = ope_mlp_new(&cfg, &t->net, err);
  if (st == OPE_OK) st = ope_mlp_ws_new(t->net, max_batch, &t->ws, err);
  if (st == OPE_OK) st = ope_adam_new(&ac, t->net->n_params, &t->opt, err);
  if (st == OPE_OK && with_target) {
    st = ope_mlp_new(&cfg, &t->targ, err);
    if (st == OPE_OK) st = ope_mlp_ws_new(t->targ, max_batch, &t->tws, err);
  }
  if (st != OPE_OK) {
    ope_tnet_clear(t);
    return st;
  }
  ope_mlp_init(t->net, OPE_INIT_HE, rng);
  if (t->targ) ope_mlp_copy(t->targ, t->net);
  return OPE_OK;
}

void ope_tnet_clear(ope_tnet *t) {
  ope_mlp_ws_free(t->ws);
  ope_mlp_ws_free(t->tws);
  ope_adam_free(t->opt);
  ope_mlp_free(t->net);
  ope_mlp_free(t->targ);
  memset(t, 0, sizeof *t);
}

const float *ope_tnet_forward(ope_tnet *t, const float *x, int B) {
  return ope_mlp_forward(t->net, t->ws, x, B);
}

const float *ope_tnet_target(ope_tnet *t, const float *x, int B) {
  return ope_mlp_forward(t->targ, t->tws, x, B);
}

void ope_tnet_backward(ope_tnet *t, const float *dout, float *din) {
  ope_mlp_backward(t->net, t->ws, dout, din);
}

void ope_tnet_backward_input(ope_tnet *t, const float *dout, float *din) {
  ope_mlp_backward_input(t->net, t->ws, dout, din);
}

/* A target forward or a regression step as a task for ope_gemm_run2. */
typedef struct tnet_job {
  ope_tnet *t;
  const float *x, *y;
  float *dq;
  int B;
  const float *out;
  double loss;
} tnet_job;

static void target_job(void *arg) {
  tnet_job *j = arg;
  j->out = ope_tnet_target(j->t, j->x, j->B);
}

static void mse_job(void *arg) {
  tnet_job *j = arg;
  j->loss = ope_tnet_mse_step(j->t, j->x, j->y, j->dq, j->B);
}

void ope_tnet_target_pair(ope_tnet *a, ope_tnet *b, const float *x, int B,
                          const float **oa, const float **ob) {
  tnet_job ja = {.t = a, .x = x, .B = B}, jb = {.t = b, .x = x, .B = B};
  ope_gemm_run2(target_job, &ja, target_job, &jb);
  *oa = ja.out;
  *ob = jb.out;
}

double ope_tnet_mse_step_pair(ope_tnet *a, ope_tnet *b, const float *x,
                              const float *y, float *dqa, float *dqb, int B) {
  tnet_job ja = {.t = a, .x = x, .y = y, .dq = dqa, .B = B};
  tnet_job jb = {.t = b, .x = x, .y = y, .dq = dqb, .B = B};
  ope_gemm_run2(mse_job, &ja, mse_job, &jb);
  return 0.5 * (ja.loss + jb.loss);
}

void ope_tnet_update(ope_tnet *t) {
  ope_adam_step(t->opt, t->net->params, t->net->grads, t->lr);
  ope_mlp_zero_grad(t->net);
}

void ope_tnet_sync(ope_tnet *t, double tau) {
  ope_nn_polyak(t->targ->params, t->net->params, t->net->n_params, tau);
}

double ope_tnet_mse_step(ope_tnet *q, const float *x, const float *y,
                         float *dq, int B) {
  const float *out = ope_tnet_forward(q, x, B);
  double loss = 0;
  for (int i = 0; i < B; i++) {
    double e = (double)out[i] - y[i];
    loss += e * e;
    dq[i] = (float)(2.0 * e / B);
  }
  ope_tnet_backward(q, dq, NULL);
  ope_tnet_update(q);
  return loss / B;
}

void ope_tnet_twin_backup(ope_tnet *q1, ope_tnet *q2, const float *x,
                          const ope_train_batch *b, double gamma, float *y) {
  int B = b->B;
  const float *t1, *t2;
  ope_tnet_target_pair(q1, q2, x, B, &t1, &t2);
  for (int i = 0; i < B; i++)
    y[i] = b->r[i] + (float)gamma * (1.0f - b->done[i]) * fminf(t1[i], t2[i]);
}

void ope_tnet_export(ope_ckpt *ck, int n, const char *const *names,
                     ope_tnet *const *nets) {
  ck->n_nets = n;
  for (int k = 0; k < n; k++) {
    snprintf(ck->name[k], sizeof ck->name[k], "%s", names[k]);
    ck->net[k] = nets[k]->net;
  }
}

void ope_tnet_concat(float *out, const float *x, int nx, const float *y,
                     int ny, int B) {
  for (int i = 0; i < B; i++) {
    memcpy(out + (size_t)i * (nx + ny), x + (size_t)i * nx, (size_t)nx * sizeof(float));
    memcpy(out + (size_t)i * (nx + ny) + nx, y + (size_t)i * ny, (size_t)ny * sizeof(float));
  }
}

double ope_train_kernel_bw(const double *act_scale, int m, double setting) {
  if (setting > 0) return setting;
  double s = 0;
  for (int j = 0; j < m; j++) s += act_scale[j];
  return 0.1 * s / m;
}

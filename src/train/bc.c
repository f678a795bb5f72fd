/* Behavior cloning: maximum likelihood of the logged actions (Pomerleau
 * 1991; as the baseline of Fu et al. 2020, D4RL, sec. 6).
 *   discrete:   min -E[log softmax(f(s))_a]                 (head softmax)
 *   continuous: min -E[log N(a; tanh(mu(s)), sigma(s)^2)]   (head gaussian)
 * The same model is the learned behavior policy that estimators can use
 * when a log has no propensities. */
#include <stdio.h>
#include <stdlib.h>

#include "train/losses.h"
#include "train/train.h"
#include "train/tnet.h"

typedef struct bc {
  const ope_train_replay *rb;
  ope_tnet pi;
  ope_train_batch *b;
  float *mean, *log_std, *dmean, *dls, *dy;
} bc;

static void bc_destroy(void *state) {
  bc *s = state;
  if (s == NULL) return;
  ope_tnet_clear(&s->pi);
  ope_train_batch_free(s->b);
  free(s->mean);
  free(s->log_std);
  free(s->dmean);
  free(s->dls);
  free(s->dy);
  free(s);
}

static ope_status bc_create(const ope_train_setup *su, void **state,
                            ope_error *err) {
  const ope_train_replay *rb = su->rb;
  int B = ope_train_geti(su->set, "batch"), m = rb->m;
  int out = rb->discrete ? rb->A : 2 * m;
  bc *s = calloc(1, sizeof *s);
  if (s == NULL) return ope_error_nomem(err);
  s->rb = rb;
  ope_status st = ope_tnet_init(&s->pi, rb->d, out, ope_train_geti(su->set, "hidden"),
                                ope_train_geti(su->set, "layers"),
                                ope_train_get(su->set, "lr"), B, 0, su->rng, err);
  if (st == OPE_OK) st = ope_train_batch_new(rb, B, &s->b, err);
  if (st == OPE_OK) {
    size_t n = (size_t)B * m;
    s->mean = malloc(n * sizeof(float));
    s->log_std = malloc(n * sizeof(float));
    s->dmean = malloc(n * sizeof(float));
    s->dls = malloc(n * sizeof(float));
    s->dy = malloc((size_t)B * out * sizeof(float));
    if (!s->mean || !s->log_std || !s->dmean || !s->dls || !s->dy)
      st = ope_error_nomem(err);
  }
  if (st != OPE_OK) {
    bc_destroy(s);
    return st;
  }
  *state = s;
  return OPE_OK;
}

static ope_status bc_update(void *state, ope_rng *rng, double *losses,
                            ope_error *err) {
  bc *s = state;
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, m = rb->m;
  ope_train_replay_sample(rb, rng, 0, b);
  const float *y = ope_tnet_forward(&s->pi, b->s, B);
  if (rb->discrete) {
    for (size_t i = 0; i < (size_t)B * rb->A; i++) s->dy[i] = 0;
    losses[0] = ope_loss_xent(y, b->ai, NULL, s->dy, B, rb->A, 1.0);
  } else {
    for (size_t i = 0; i < (size_t)B * 2 * m; i++) s->dy[i] = 0;
    for (size_t i = 0; i < (size_t)B * m; i++) s->dmean[i] = s->dls[i] = 0;
    ope_head_gauss_forward(y, s->mean, s->log_std, B, m, 1);
    losses[0] = ope_loss_gauss_nll(b->a, s->mean, s->log_std, s->dmean, s->dls,
                                   NULL, B, m, 1.0);
    ope_head_gauss_backward(y, s->mean, s->dmean, s->dls, s->dy, B, m, 1);
  }
  ope_tnet_backward(&s->pi, s->dy, NULL);
  ope_tnet_update(&s->pi);
  return OPE_OK;
}

static ope_status bc_export(void *state, ope_ckpt *ck, char *head,
                            size_t hsize, ope_error *err) {
  bc *s = state;
  ope_tnet_export(ck, 1, (const char *const[]){"pi"}, (ope_tnet *const[]){&s->pi});
  snprintf(head, hsize, "\"head\":\"%s\"", s->rb->discrete ? "softmax" : "gaussian");
  return OPE_OK;
}

const ope_train_algo ope_train_algo_bc = {
  .name = "bc",
  .summary = "behavior cloning (softmax or Gaussian maximum likelihood)",
  .discrete = 1, .continuous = 1,
  .params = NULL, .n_params = 0,
  .loss_name = {"nll"},
  .create = bc_create, .update = bc_update, .export_nets = bc_export,
  .destroy = bc_destroy,
};

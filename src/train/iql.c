/* Implicit Q-learning (Kostrikov, Nair & Levine 2021, "Offline
 * Reinforcement Learning with Implicit Q-Learning"):
 *   value   (eq. 5): L_V = E[ L2^tau( min_k Qhat_k(s,a) - V(s) ) ],
 *                    L2^tau(u) = |tau - 1(u < 0)| u^2, tau = expectile;
 *   critics (eq. 6): L_Q = E[ (r + gamma (1 - done) V(s') - Q_k(s,a))^2 ]
 *                    for twin critics k = 1, 2 with Polyak targets Qhat_k;
 *   policy  (eq. 7): L_pi = -E[ exp(beta (Qhat(s,a) - V(s))) log pi(a|s) ],
 *                    the weight clipped at 100 as in the authors' code.
 * Rewards are scaled by 1000 / (range of episode returns) as in the paper's
 * appendix B (setting reward_norm), which keeps the advantages, and so the
 * weights, informative on sparse 0/1 rewards.
 * Continuous: Gaussian policy with a tanh mean (head gaussian); discrete:
 * Q(s, .) has one output per action and pi is a softmax (head softmax). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "train/losses.h"
#include "train/train.h"
#include "train/tnet.h"

typedef struct iql {
  const ope_train_replay *rb;
  ope_tnet q1, q2, v, pi;
  ope_train_batch *b;
  double gamma, tau, expectile, beta;
  float *sa, *qt, *vs, *u, *dv, *y, *dq, *dq2, *w, *mean, *ls, *dmean, *dls, *dpi;
  const float *qin;    /* critic input of the current batch */
  double loss[3];      /* value, critic, actor of the current update */
} iql;

static const ope_train_param iql_params[] = {
  {"expectile", 0.7, NAN, NAN, 0.5, 0.999, 0, "expectile tau of the value loss (eq. 5)"},
  {"beta", 3.0, NAN, NAN, 0, 1000, 0, "inverse temperature of the policy weights (eq. 7)"},
  {"reward_norm", 1, NAN, NAN, 0, 1, 1, "1: rewards x 1000 / range of episode returns (appendix B)"},
};

static void iql_destroy(void *state) {
  iql *s = state;
  if (s == NULL) return;
  ope_tnet_clear(&s->q1);
  ope_tnet_clear(&s->q2);
  ope_tnet_clear(&s->v);
  ope_tnet_clear(&s->pi);
  ope_train_batch_free(s->b);
  float *bufs[] = {s->sa, s->qt, s->vs, s->u, s->dv, s->y, s->dq, s->dq2, s->w,
                   s->mean, s->ls, s->dmean, s->dls, s->dpi};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(s);
}

static ope_status iql_create(const ope_train_setup *su, void **state,
                             ope_error *err) {
  const ope_train_replay *rb = su->rb;
  const ope_train_settings *set = su->set;
  int B = ope_train_geti(set, "batch"), H = ope_train_geti(set, "hidden");
  int L = ope_train_geti(set, "layers"), d = rb->d, m = rb->m;
  double lr = ope_train_get(set, "lr");
  int qin = rb->discrete ? d : d + m, qout = rb->discrete ? rb->A : 1;
  int pout = rb->discrete ? rb->A : 2 * m;
  iql *s = calloc(1, sizeof *s);
  if (s == NULL) return ope_error_nomem(err);
  s->rb = rb;
  s->gamma = ope_train_get(set, "gamma");
  s->tau = ope_train_get(set, "tau");
  s->expectile = ope_train_get(set, "expectile");
  s->beta = ope_train_get(set, "beta");
  ope_status st = ope_tnet_init(&s->q1, qin, qout, H, L, lr, B, 1, su->rng, err);
  if (st == OPE_OK) st = ope_tnet_init(&s->q2, qin, qout, H, L, lr, B, 1, su->rng, err);
  if (st == OPE_OK) st = ope_tnet_init(&s->v, d, 1, H, L, lr, B, 0, su->rng, err);
  if (st == OPE_OK) st = ope_tnet_init(&s->pi, d, pout, H, L, lr, B, 0, su->rng, err);
  if (st == OPE_OK) st = ope_train_batch_new(rb, B, &s->b, err);
  if (st == OPE_OK) {
    size_t nb = (size_t)B, wq = (size_t)qout;
    s->sa = malloc(nb * qin * sizeof(float));
    s->qt = malloc(nb * sizeof(float));
    s->vs = malloc(nb * sizeof(float));
    s->u = malloc(nb * sizeof(float));
    s->dv = malloc(nb * sizeof(float));
    s->y = malloc(nb * sizeof(float));
    s->dq = malloc(nb * wq * sizeof(float));
    s->dq2 = malloc(nb * wq * sizeof(float));
    s->w = malloc(nb * sizeof(float));
    s->mean = malloc(nb * m * sizeof(float));
    s->ls = malloc(nb * m * sizeof(float));
    s->dmean = malloc(nb * m * sizeof(float));
    s->dls = malloc(nb * m * sizeof(float));
    s->dpi = malloc(nb * pout * sizeof(float));
    if (!s->sa || !s->qt || !s->vs || !s->u || !s->dv || !s->y || !s->dq || !s->dq2 ||
        !s->w || !s->mean || !s->ls || !s->dmean || !s->dls || !s->dpi)
      st = ope_error_nomem(err);
  }
  if (st != OPE_OK) {
    iql_destroy(s);
    return st;
  }
  *state = s;
  return OPE_OK;
}

/* Q(s,a) of the logged action from a forward output q (B, width). */
static float pick(const iql *s, const float *q, int i) {
  return s->rb->discrete ? q[(size_t)i * s->rb->A + s->b->ai[i]] : q[i];
}

/* One critic step toward s->y (eq. 6) with gradient buffer dq; returns
 * the loss. */
static double q_loss(iql *s, ope_tnet *q, float *dq) {
  ope_train_batch *b = s->b;
  int B = b->B, w = s->rb->discrete ? s->rb->A : 1;
  const float *out = ope_tnet_forward(q, s->qin, B);
  memset(dq, 0, (size_t)B * w * sizeof(float));
  double loss = 0;
  for (int i = 0; i < B; i++) {
    double e = pick(s, out, i) - s->y[i];
    loss += e * e;
    dq[(size_t)i * w + (s->rb->discrete ? b->ai[i] : 0)] = (float)(2.0 * e / B);
  }
  ope_tnet_backward(q, dq, NULL);
  ope_tnet_update(q);
  return loss / B;
}

static void q1_job(void *arg) {
  iql *s = arg;
  s->loss[1] = q_loss(s, &s->q1, s->dq);
}

static void q2_job(void *arg) {
  iql *s = arg;
  s->loss[2] = q_loss(s, &s->q2, s->dq2);
}

/* The value step from the gradient in s->dv, then the critics' targets
 * y = r + gamma (1 - done) V(s') under the updated V (eq. 6). */
static void value_job(void *arg) {
  iql *s = arg;
  ope_train_batch *b = s->b;
  int B = b->B;
  ope_tnet_backward(&s->v, s->dv, NULL);
  ope_tnet_update(&s->v);
  const float *vn = ope_tnet_forward(&s->v, b->s2, B);
  for (int i = 0; i < B; i++)
    s->y[i] = b->r[i] + (float)s->gamma * (1.0f - b->done[i]) * vn[i];
}

/* The policy step: advantage-weighted regression (eq. 7) with the
 * advantages of the target critics and the value before its step. */
static void policy_job(void *arg) {
  iql *s = arg;
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, m = rb->m;
  for (int i = 0; i < B; i++) {
    double wi = exp(s->beta * ((double)s->qt[i] - s->vs[i]));
    s->w[i] = (float)(wi > 100.0 ? 100.0 : wi);
  }
  const float *py = ope_tnet_forward(&s->pi, b->s, B);
  if (rb->discrete) {
    memset(s->dpi, 0, (size_t)B * rb->A * sizeof(float));
    s->loss[0] = ope_loss_xent(py, b->ai, s->w, s->dpi, B, rb->A, 1.0);
  } else {
    memset(s->dpi, 0, (size_t)B * 2 * m * sizeof(float));
    memset(s->dmean, 0, (size_t)B * m * sizeof(float));
    memset(s->dls, 0, (size_t)B * m * sizeof(float));
    ope_head_gauss_forward(py, s->mean, s->ls, B, m, 1);
    s->loss[0] = ope_loss_gauss_nll(b->a, s->mean, s->ls, s->dmean, s->dls, s->w,
                                    B, m, 1.0);
    ope_head_gauss_backward(py, s->mean, s->dmean, s->dls, s->dpi, B, m, 1);
  }
  ope_tnet_backward(&s->pi, s->dpi, NULL);
  ope_tnet_update(&s->pi);
}

/* The networks are updated in the order of the paper's algorithm (value,
 * critics, policy); pairs of steps that do not read each other's results
 * run at once when two threads are allowed (nn/gemm.h), with the same
 * results either way. */
static ope_status iql_update(void *state, ope_rng *rng, double *losses,
                             ope_error *err) {
  iql *s = state;
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, d = rb->d, m = rb->m;
  ope_train_replay_sample(rb, rng, 1, b);
  s->qin = b->s;
  if (!rb->discrete) {
    ope_tnet_concat(s->sa, b->s, d, b->a, m, B);
    s->qin = s->sa;
  }
  /* min of the target critics at the logged action */
  const float *t1, *t2;
  ope_tnet_target_pair(&s->q1, &s->q2, s->qin, B, &t1, &t2);
  for (int i = 0; i < B; i++) s->qt[i] = fminf(pick(s, t1, i), pick(s, t2, i));
  /* value: expectile regression toward the target critics (eq. 5) */
  const float *v = ope_tnet_forward(&s->v, b->s, B);
  for (int i = 0; i < B; i++) {
    s->vs[i] = v[i];
    s->u[i] = s->qt[i] - v[i];
  }
  memset(s->y, 0, (size_t)B * sizeof(float));
  losses[0] = ope_loss_expectile(s->u, s->y, (size_t)B, s->expectile, 1.0);
  for (int i = 0; i < B; i++) s->dv[i] = -s->y[i]; /* du/dV = -1 */
  ope_gemm_run2(value_job, s, policy_job, s);
  ope_gemm_run2(q1_job, s, q2_job, s);
  losses[1] = 0.5 * (s->loss[1] + s->loss[2]);
  losses[2] = s->loss[0];
  ope_tnet_sync(&s->q1, s->tau);
  ope_tnet_sync(&s->q2, s->tau);
  (void)err;
  return OPE_OK;
}

static ope_status iql_export(void *state, ope_ckpt *ck, char *head,
                             size_t hsize, ope_error *err) {
  iql *s = state;
  ope_tnet_export(ck, 4, (const char *const[]){"pi", "q1", "q2", "v"},
                  (ope_tnet *const[]){&s->pi, &s->q1, &s->q2, &s->v});
  snprintf(head, hsize, "\"head\":\"%s\"", s->rb->discrete ? "softmax" : "gaussian");
  return OPE_OK;
}

const ope_train_algo ope_train_algo_iql = {
  .name = "iql",
  .summary = "implicit Q-learning: expectile value, twin Q, advantage-weighted policy",
  .discrete = 1, .continuous = 1,
  .params = iql_params, .n_params = 3,
  .loss_name = {"value", "critic", "actor"},
  .create = iql_create, .update = iql_update, .export_nets = iql_export,
  .destroy = iql_destroy,
};

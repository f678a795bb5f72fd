/* TD3+BC (Fujimoto & Gu 2021, "A Minimalist Approach to Offline
 * Reinforcement Learning"), continuous actions only.
 *   critics: TD3's clipped double Q with target policy smoothing
 *            (Fujimoto et al. 2018, sec. 4.2 eq. 10 and sec. 5.3):
 *            y = r + gamma (1 - done) min_k Qhat_k(s', clip(pihat(s') + e)),
 *            e = clip(N(0, noise^2), -noise_clip, noise_clip);
 *   actor  (eq. 3, every policy_freq steps):
 *            max E[ lambda Q_1(s, pi(s)) - (pi(s) - a)^2 ],
 *            lambda = alpha / mean|Q_1(s, pi(s))| (eq. 4, not differentiated),
 *            the squared error averaged over action dimensions as in the
 *            authors' code.
 * The actor is deterministic (head deterministic): OPE uses a Gaussian
 * kernel whose width `bandwidth` is recorded with the checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"
#include "nn/gemm.h"
#include "train/losses.h"
#include "train/train.h"
#include "train/tnet.h"

typedef struct td3bc {
  const ope_train_replay *rb;
  ope_tnet actor, q1, q2;
  ope_train_batch *b;
  double gamma, tau, alpha, noise, noise_clip, bandwidth;
  int freq;
  int64_t it;
  double last_actor;
  float *sa, *y, *dq, *dq2, *pi, *dpi, *din;
} td3bc;

static const ope_train_param td3bc_params[] = {
  {"alpha", 2.5, NAN, NAN, 0, 1e6, 0, "weight of the Q term against behavior cloning (eq. 3)"},
  {"policy_noise", 0.2, NAN, NAN, 0, 10, 0, "target smoothing noise std (actions scaled to [-1,1])"},
  {"noise_clip", 0.5, NAN, NAN, 0, 10, 0, "target smoothing noise clip"},
  {"policy_freq", 2, NAN, NAN, 1, 1000, 1, "critic steps per actor step"},
  {"kernel_bw", 0, NAN, NAN, 0, 1e6, 0, "OPE kernel bandwidth in action units (0: 0.1 x mean action scale)"},
};

static void td3bc_destroy(void *state) {
  td3bc *s = state;
  if (s == NULL) return;
  ope_tnet_clear(&s->actor);
  ope_tnet_clear(&s->q1);
  ope_tnet_clear(&s->q2);
  ope_train_batch_free(s->b);
  free(s->sa);
  free(s->y);
  free(s->dq);
  free(s->dq2);
  free(s->pi);
  free(s->dpi);
  free(s->din);
  free(s);
}

static ope_status td3bc_create(const ope_train_setup *su, void **state,
                               ope_error *err) {
  const ope_train_replay *rb = su->rb;
  const ope_train_settings *set = su->set;
  int B = ope_train_geti(set, "batch"), H = ope_train_geti(set, "hidden");
  int L = ope_train_geti(set, "layers"), d = rb->d, m = rb->m;
  double lr = ope_train_get(set, "lr");
  td3bc *s = calloc(1, sizeof *s);
  if (s == NULL) return ope_error_nomem(err);
  s->rb = rb;
  s->gamma = ope_train_get(set, "gamma");
  s->tau = ope_train_get(set, "tau");
  s->alpha = ope_train_get(set, "alpha");
  s->noise = ope_train_get(set, "policy_noise");
  s->noise_clip = ope_train_get(set, "noise_clip");
  s->freq = ope_train_geti(set, "policy_freq");
  s->bandwidth = ope_train_kernel_bw(rb->act_scale, rb->m, ope_train_get(set, "kernel_bw"));
  ope_status st = ope_tnet_init(&s->actor, d, m, H, L, lr, B, 1, su->rng, err);
  if (st == OPE_OK) st = ope_tnet_init(&s->q1, d + m, 1, H, L, lr, B, 1, su->rng, err);
  if (st == OPE_OK) st = ope_tnet_init(&s->q2, d + m, 1, H, L, lr, B, 1, su->rng, err);
  if (st == OPE_OK) st = ope_train_batch_new(rb, B, &s->b, err);
  if (st == OPE_OK) {
    size_t nb = (size_t)B;
    s->sa = malloc(nb * (d + m) * sizeof(float));
    s->y = malloc(nb * sizeof(float));
    s->dq = malloc(nb * sizeof(float));
    s->dq2 = malloc(nb * sizeof(float));
    s->pi = malloc(nb * m * sizeof(float));
    s->dpi = malloc(nb * m * sizeof(float));
    s->din = malloc(nb * (d + m) * sizeof(float));
    if (!s->sa || !s->y || !s->dq || !s->dq2 || !s->pi || !s->dpi || !s->din)
      st = ope_error_nomem(err);
  }
  if (st != OPE_OK) {
    td3bc_destroy(s);
    return st;
  }
  *state = s;
  return OPE_OK;
}

/* A forward pass of the actor or of its target, for ope_gemm_run2. */
typedef struct actor_job {
  ope_tnet *t;
  const float *x;
  int B, target;
  const float *out;
} actor_job;

static void actor_run(void *arg) {
  actor_job *j = arg;
  j->out = j->target ? ope_tnet_target(j->t, j->x, j->B) : ope_tnet_forward(j->t, j->x, j->B);
}

static ope_status td3bc_update(void *state, ope_rng *rng, double *losses,
                               ope_error *err) {
  td3bc *s = state;
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, d = rb->d, m = rb->m;
  ope_train_replay_sample(rb, rng, 1, b);
  /* the target actor at s' (for the smoothed target action) and, on actor
   * steps, the actor at s (which the critics' step does not change) run at
   * once when two threads are allowed */
  int actor_step = (s->it + 1) % s->freq == 0;
  actor_job jt = {&s->actor, b->s2, B, 1, NULL}, ja = {&s->actor, b->s, B, 0, NULL};
  if (actor_step)
    ope_gemm_run2(actor_run, &jt, actor_run, &ja);
  else
    actor_run(&jt);
  const float *an = jt.out;
  for (size_t k = 0; k < (size_t)B * m; k++) {
    double e = s->noise * ope_rng_normal(rng);
    e = e > s->noise_clip ? s->noise_clip : e < -s->noise_clip ? -s->noise_clip : e;
    double a = tanh(an[k]) + e;
    s->pi[k] = (float)(a > 1 ? 1 : a < -1 ? -1 : a);
  }
  ope_tnet_concat(s->sa, b->s2, d, s->pi, m, B);
  ope_tnet_twin_backup(&s->q1, &s->q2, s->sa, b, s->gamma, s->y);
  ope_tnet_concat(s->sa, b->s, d, b->a, m, B);
  /* the twin critics' steps run at once when two threads are allowed */
  losses[0] = ope_tnet_mse_step_pair(&s->q1, &s->q2, s->sa, s->y, s->dq, s->dq2, B);
  s->it++;
  if (actor_step) {
    const float *raw = ja.out; /* still in the actor's workspace */
    for (size_t k = 0; k < (size_t)B * m; k++) s->pi[k] = tanhf(raw[k]);
    ope_tnet_concat(s->sa, b->s, d, s->pi, m, B);
    const float *q = ope_tnet_forward(&s->q1, s->sa, B);
    memset(s->dq, 0, (size_t)B * sizeof(float));
    memset(s->dpi, 0, (size_t)B * m * sizeof(float));
    s->last_actor = ope_loss_td3bc_actor(q, s->pi, b->a, s->dq, s->dpi, B, m, s->alpha, NULL);
    memset(s->din, 0, (size_t)B * (d + m) * sizeof(float));
    ope_tnet_backward_input(&s->q1, s->dq, s->din); /* only the actor learns */
    /* d/dpi = direct term + Q's input gradient; through tanh to the output */
    for (int i = 0; i < B; i++)
      for (int j = 0; j < m; j++) {
        size_t k = (size_t)i * m + j;
        double g = s->dpi[k] + s->din[(size_t)i * (d + m) + d + j];
        s->dpi[k] = (float)(g * (1.0 - (double)s->pi[k] * s->pi[k]));
      }
    ope_tnet_backward(&s->actor, s->dpi, NULL);
    ope_tnet_update(&s->actor);
    ope_tnet_sync(&s->q1, s->tau);
    ope_tnet_sync(&s->q2, s->tau);
    ope_tnet_sync(&s->actor, s->tau);
  }
  losses[1] = s->last_actor;
  (void)err;
  return OPE_OK;
}

static ope_status td3bc_export(void *state, ope_ckpt *ck, char *head,
                               size_t hsize, ope_error *err) {
  td3bc *s = state;
  ope_tnet_export(ck, 3, (const char *const[]){"pi", "q1", "q2"},
                  (ope_tnet *const[]){&s->actor, &s->q1, &s->q2});
  char num[OPE_NUMFMT_MAX];
  ope_numfmt_double(num, s->bandwidth);
  snprintf(head, hsize, "\"head\":\"deterministic\",\"bandwidth\":%s", num);
  return OPE_OK;
}

const ope_train_algo ope_train_algo_td3bc = {
  .name = "td3bc",
  .summary = "TD3+BC: TD3 with a behavior-cloning term (continuous actions)",
  .discrete = 0, .continuous = 1,
  .params = td3bc_params, .n_params = 5,
  .loss_name = {"critic", "actor"},
  .create = td3bc_create, .update = td3bc_update, .export_nets = td3bc_export,
  .destroy = td3bc_destroy,
};

/* Batch-constrained deep Q-learning.
 * Continuous (Fujimoto, Meger & Precup 2019, "Off-Policy Deep Reinforcement
 * Learning without Exploration", Algorithm 1):
 *   generative model: a VAE G = (E, D) on (s, a), latent width 2m,
 *     loss = mean (D(s, z) - a)^2 + 0.5 KL(N(mu, sigma) || N(0, 1)),
 *     z = mu + sigma e (Kingma & Welling 2014, eq. 10), log sigma clipped
 *     to [-4, 15], decoder output squashed by tanh;
 *   perturbation xi_phi(s, a) in [-phi, phi] (eq. 11), trained by
 *     max E[ Q_1(s, a + xi_phi(s, a)) ], a = D(s, z), z ~ N(0,1) clipped
 *     to [-0.5, 0.5] (eq. 12);
 *   critics: y = r + gamma (1 - done) max_{a_i} [ lambda min_k Qhat_k(s',a_i)
 *     + (1 - lambda) max_k Qhat_k(s',a_i) ] over bcq_candidates perturbed
 *     decoder samples a_i (eq. 13), lambda = 0.75.
 * Discrete (Fujimoto, Conti, Ghavamzadeh & Pineau 2019, "Benchmarking Batch
 * Deep Reinforcement Learning Algorithms", Algorithm 1): an imitation
 * network G(a|s) (softmax, cross-entropy) and Q with a Huber TD loss whose
 * target maximizes Qhat only over actions with G(a|s') / max G >=
 * bcq_threshold. Policies: heads bcq (continuous surrogate) and
 * bcq_discrete, see ckpt_policy.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"
#include "train/losses.h"
#include "train/train.h"
#include "train/tnet.h"

typedef struct bcq {
  const ope_train_replay *rb;
  ope_train_batch *b;
  ope_tnet q1, q2, enc, dec, pert, imit;
  double gamma, tau, phi, lambda, thr, bandwidth;
  int K, L;
  float *sa, *sz, *zmu, *zls, *z, *noise, *rec, *drec, *dzmu, *dzls, *dz,
        *denc, *dsz, *cand, *sak, *y, *dq, *dx, *dsa;
} bcq;

static const ope_train_param bcq_params[] = {
  {"phi", 0.05, NAN, NAN, 0, 1, 0, "largest perturbation (actions scaled to [-1,1])"},
  {"lambda", 0.75, NAN, NAN, 0, 1, 0, "weight of the min in the soft clipped double Q (eq. 13)"},
  {"bcq_candidates", 10, NAN, NAN, 1, 64, 1, "decoder samples per state"},
  {"vae_hidden", 750, NAN, 64, 1, 4096, 1, "hidden width of the VAE"},
  {"bcq_threshold", 0.3, NAN, NAN, 0, 1, 0, "discrete: relative probability threshold tau"},
  {"eval_eps", 0.05, NAN, NAN, 0, 1, 0, "discrete policy: epsilon of epsilon-greedy"},
  {"eval_temp", 0, NAN, NAN, 0, 1e6, 0, "discrete policy: > 0 uses softmax(Q / eval_temp)"},
  {"kernel_bw", 0, NAN, NAN, 0, 1e6, 0, "OPE kernel bandwidth in action units (0: 0.1 x mean action scale)"},
};

static void bcq_destroy(void *state) {
  bcq *s = state;
  if (s == NULL) return;
  ope_tnet *nets[] = {&s->q1, &s->q2, &s->enc, &s->dec, &s->pert, &s->imit};
  for (int k = 0; k < 6; k++) ope_tnet_clear(nets[k]);
  ope_train_batch_free(s->b);
  float *bufs[] = {s->sa, s->sz, s->zmu, s->zls, s->z, s->noise, s->rec,
                   s->drec, s->dzmu, s->dzls, s->dz, s->denc, s->dsz, s->cand,
                   s->sak, s->y, s->dq, s->dx, s->dsa};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(s);
}

static ope_status bcq_create(const ope_train_setup *su, void **state,
                             ope_error *err) {
  const ope_train_replay *rb = su->rb;
  const ope_train_settings *set = su->set;
  int B = ope_train_geti(set, "batch"), H = ope_train_geti(set, "hidden");
  int L = ope_train_geti(set, "layers"), d = rb->d, m = rb->m, A = rb->A;
  int VH = ope_train_geti(set, "vae_hidden");
  double lr = ope_train_get(set, "lr");
  bcq *s = calloc(1, sizeof *s);
  if (s == NULL) return ope_error_nomem(err);
  s->rb = rb;
  s->gamma = ope_train_get(set, "gamma");
  s->tau = ope_train_get(set, "tau");
  s->phi = ope_train_get(set, "phi");
  s->lambda = ope_train_get(set, "lambda");
  s->thr = ope_train_get(set, "bcq_threshold");
  s->K = ope_train_geti(set, "bcq_candidates");
  ope_status st = ope_train_batch_new(rb, B, &s->b, err);
  if (st != OPE_OK) goto fail;
  if (rb->discrete) {
    if ((st = ope_tnet_init(&s->q1, d, A, H, L, lr, B, 1, su->rng, err)) != OPE_OK ||
        (st = ope_tnet_init(&s->imit, d, A, H, L, lr, B, 0, su->rng, err)) != OPE_OK)
      goto fail;
    s->y = malloc((size_t)B * sizeof(float));
    s->dq = malloc((size_t)B * A * sizeof(float));
    s->dx = malloc((size_t)B * A * sizeof(float));
    if (!s->y || !s->dq || !s->dx) goto nomem;
    *state = s;
    return OPE_OK;
  }
  int K = s->K, Lz = 2 * m, R = B * K;
  s->L = Lz;
  s->bandwidth = ope_train_kernel_bw(rb->act_scale, m, ope_train_get(set, "kernel_bw"));
  if ((st = ope_tnet_init(&s->q1, d + m, 1, H, L, lr, R, 1, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->q2, d + m, 1, H, L, lr, R, 1, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->enc, d + m, 2 * Lz, VH, 2, lr, B, 0, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->dec, d + Lz, m, VH, 2, lr, R, 0, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->pert, d + m, m, H, L, lr, R, 1, su->rng, err)) != OPE_OK)
    goto fail;
  size_t nb = (size_t)B, r = (size_t)R;
  s->sa = malloc(r * (d + m) * sizeof(float));
  s->sz = malloc(r * (d + Lz) * sizeof(float));
  s->zmu = malloc(nb * Lz * sizeof(float));
  s->zls = malloc(nb * Lz * sizeof(float));
  s->z = malloc(r * Lz * sizeof(float));
  s->noise = malloc(nb * Lz * sizeof(float));
  s->rec = malloc(r * m * sizeof(float));
  s->drec = malloc(nb * m * sizeof(float));
  s->dzmu = malloc(nb * Lz * sizeof(float));
  s->dzls = malloc(nb * Lz * sizeof(float));
  s->dz = malloc(nb * Lz * sizeof(float));
  s->denc = malloc(nb * 2 * Lz * sizeof(float));
  s->dsz = malloc(nb * (d + Lz) * sizeof(float));
  s->cand = malloc(r * m * sizeof(float));
  s->sak = malloc(r * (d + m) * sizeof(float));
  s->y = malloc(r * sizeof(float));
  s->dq = malloc(nb * sizeof(float));
  s->dx = malloc(nb * m * sizeof(float));
  s->dsa = malloc(nb * (d + m) * sizeof(float));
  if (!s->sa || !s->sz || !s->zmu || !s->zls || !s->z || !s->noise || !s->rec ||
      !s->drec || !s->dzmu || !s->dzls || !s->dz || !s->denc || !s->dsz ||
      !s->cand || !s->sak || !s->y || !s->dq || !s->dx || !s->dsa)
    goto nomem;
  *state = s;
  return OPE_OK;
nomem:
  st = ope_error_nomem(err);
fail:
  bcq_destroy(s);
  return st;
}

/* ---- discrete ---- */

static ope_status bcq_update_discrete(bcq *s, ope_rng *rng, double *losses) {
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, A = rb->A;
  double lt = s->thr > 0 ? log(s->thr) : -INFINITY;
  ope_train_replay_sample(rb, rng, 1, b);
  /* allowed next actions: log G(a|s') - max log G >= log threshold */
  const float *g = ope_tnet_forward(&s->imit, b->s2, B);
  memcpy(s->dx, g, (size_t)B * A * sizeof(float));
  const float *qn = ope_tnet_forward(&s->q1, b->s2, B);
  for (int i = 0; i < B; i++) {
    const float *gi = s->dx + (size_t)i * A, *qi = qn + (size_t)i * A;
    float mx = gi[0];
    for (int a = 1; a < A; a++) if (gi[a] > mx) mx = gi[a];
    int best = -1;
    for (int a = 0; a < A; a++)
      if ((double)gi[a] - mx >= lt && (best < 0 || qi[a] > qi[best])) best = a;
    s->y[i] = (float)best;
  }
  const float *qt = ope_tnet_target(&s->q1, b->s2, B);
  for (int i = 0; i < B; i++)
    s->y[i] = b->r[i] + (float)s->gamma * (1.0f - b->done[i]) *
              qt[(size_t)i * A + (int)s->y[i]];
  const float *q = ope_tnet_forward(&s->q1, b->s, B);
  float *qa = s->dx; /* Q(s, a) of the logged actions (B) */
  for (int i = 0; i < B; i++) qa[i] = q[(size_t)i * A + b->ai[i]];
  float *dqa = s->dx + B;
  memset(dqa, 0, (size_t)B * sizeof(float));
  losses[0] = ope_loss_huber(qa, s->y, dqa, (size_t)B, 1.0);
  memset(s->dq, 0, (size_t)B * A * sizeof(float));
  for (int i = 0; i < B; i++) s->dq[(size_t)i * A + b->ai[i]] = dqa[i];
  ope_tnet_backward(&s->q1, s->dq, NULL);
  ope_tnet_update(&s->q1);
  ope_tnet_sync(&s->q1, s->tau);
  const float *gl = ope_tnet_forward(&s->imit, b->s, B);
  memset(s->dq, 0, (size_t)B * A * sizeof(float));
  losses[1] = ope_loss_xent(gl, b->ai, NULL, s->dq, B, A, 1.0);
  ope_tnet_backward(&s->imit, s->dq, NULL);
  ope_tnet_update(&s->imit);
  return OPE_OK;
}

/* ---- continuous ---- */

/* n decoder samples per state of st (B, d) with z ~ N(0,1) clipped to
 * [-0.5, 0.5], perturbed by pert (its target when targ): cand (B n, m),
 * and sak (B n, d + m) = (s, perturbed action). */
static void candidates(bcq *s, ope_rng *rng, const float *st, int B, int n,
                       int targ) {
  int d = s->rb->d, m = s->rb->m, Lz = s->L;
  size_t R = (size_t)B * n;
  for (size_t r = 0; r < R; r++) {
    float *row = s->sz + r * (d + Lz);
    memcpy(row, st + (r / n) * d, (size_t)d * sizeof(float));
    for (int j = 0; j < Lz; j++) {
      double z = ope_rng_normal(rng);
      row[d + j] = (float)(z > 0.5 ? 0.5 : z < -0.5 ? -0.5 : z);
    }
  }
  const float *a = ope_tnet_forward(&s->dec, s->sz, (int)R);
  for (size_t k = 0; k < R * m; k++) s->cand[k] = tanhf(a[k]);
  for (size_t r = 0; r < R; r++) {
    memcpy(s->sak + r * (d + m), st + (r / n) * d, (size_t)d * sizeof(float));
    memcpy(s->sak + r * (d + m) + d, s->cand + r * m, (size_t)m * sizeof(float));
  }
  const float *xi = targ ? ope_tnet_target(&s->pert, s->sak, (int)R)
                         : ope_tnet_forward(&s->pert, s->sak, (int)R);
  for (size_t r = 0; r < R; r++)
    for (int j = 0; j < m; j++) {
      float v = s->cand[r * m + j] + (float)s->phi * tanhf(xi[r * m + j]);
      s->sak[r * (d + m) + d + j] = v > 1 ? 1 : v < -1 ? -1 : v;
    }
}

static ope_status bcq_update_continuous(bcq *s, ope_rng *rng, double *losses) {
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, d = rb->d, m = rb->m, Lz = s->L, K = s->K;
  size_t nb = (size_t)B;
  ope_train_replay_sample(rb, rng, 1, b);
  /* VAE: reconstruction + 0.5 KL, both means over elements */
  ope_tnet_concat(s->sa, b->s, d, b->a, m, B);
  const float *e = ope_tnet_forward(&s->enc, s->sa, B);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < Lz; j++) {
      float mu = e[(size_t)i * 2 * Lz + j], ls = e[(size_t)i * 2 * Lz + Lz + j];
      ls = ls < -4 ? -4 : ls > 15 ? 15 : ls;
      size_t k = (size_t)i * Lz + j;
      s->zmu[k] = mu;
      s->zls[k] = ls;
      s->noise[k] = (float)ope_rng_normal(rng);
      s->z[k] = mu + expf(ls) * s->noise[k];
    }
  ope_tnet_concat(s->sz, b->s, d, s->z, Lz, B);
  const float *rec = ope_tnet_forward(&s->dec, s->sz, B);
  double recon = 0;
  for (size_t k = 0; k < nb * m; k++) {
    float a = tanhf(rec[k]);
    double diff = (double)a - b->a[k];
    recon += diff * diff;
    s->drec[k] = (float)(2.0 * diff / (double)(nb * m) * (1.0 - (double)a * a));
  }
  memset(s->dzmu, 0, nb * Lz * sizeof(float));
  memset(s->dzls, 0, nb * Lz * sizeof(float));
  double kl = ope_loss_gauss_kl(s->zmu, s->zls, s->dzmu, s->dzls, B, Lz, 0.5 / Lz);
  losses[0] = recon / (double)(nb * m) + 0.5 * kl / Lz;
  memset(s->dsz, 0, nb * (d + Lz) * sizeof(float));
  ope_tnet_backward(&s->dec, s->drec, s->dsz);
  ope_tnet_update(&s->dec);
  /* through z = mu + sigma e into the encoder's outputs */
  memset(s->denc, 0, nb * 2 * Lz * sizeof(float));
  for (int i = 0; i < B; i++)
    for (int j = 0; j < Lz; j++) {
      size_t k = (size_t)i * Lz + j;
      float dz = s->dsz[(size_t)i * (d + Lz) + d + j];
      float raw = e[(size_t)i * 2 * Lz + Lz + j];
      s->denc[(size_t)i * 2 * Lz + j] = dz + s->dzmu[k];
      if (raw >= -4 && raw <= 15)
        s->denc[(size_t)i * 2 * Lz + Lz + j] =
            dz * expf(s->zls[k]) * s->noise[k] + s->dzls[k];
    }
  ope_tnet_backward(&s->enc, s->denc, NULL);
  ope_tnet_update(&s->enc);
  /* critic target over K perturbed decoder samples at s' (eq. 13) */
  candidates(s, rng, b->s2, B, K, 1);
  const float *t1 = ope_tnet_target(&s->q1, s->sak, B * K);
  memcpy(s->y, t1, nb * K * sizeof(float));
  const float *t2 = ope_tnet_target(&s->q2, s->sak, B * K);
  for (int i = 0; i < B; i++) {
    double best = -INFINITY;
    for (int k = 0; k < K; k++) {
      size_t r = (size_t)i * K + k;
      double lo = fmin(s->y[r], t2[r]), hi = fmax(s->y[r], t2[r]);
      double v = s->lambda * lo + (1 - s->lambda) * hi;
      if (v > best) best = v;
    }
    s->y[i] = b->r[i] + (float)(s->gamma * (1.0 - b->done[i]) * best);
  }
  ope_tnet_concat(s->sa, b->s, d, b->a, m, B);
  losses[1] = 0.5 * (ope_tnet_mse_step(&s->q1, s->sa, s->y, s->dq, B) +
                     ope_tnet_mse_step(&s->q2, s->sa, s->y, s->dq, B));
  /* perturbation: max Q_1(s, a + xi(s, a)) at decoder samples (eq. 12) */
  candidates(s, rng, b->s, B, 1, 0);
  /* candidates() perturbed sak in place after pert's forward read it, so
   * run that forward again on an unchanged input for the backward */
  ope_tnet_concat(s->sa, b->s, d, s->cand, m, B);
  const float *xr = ope_tnet_forward(&s->pert, s->sa, B);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < m; j++) {
      float v = s->cand[(size_t)i * m + j] + (float)s->phi * tanhf(xr[(size_t)i * m + j]);
      s->sak[(size_t)i * (d + m) + d + j] = v > 1 ? 1 : v < -1 ? -1 : v;
    }
  const float *q = ope_tnet_forward(&s->q1, s->sak, B);
  double qm = 0;
  for (int i = 0; i < B; i++) {
    qm += q[i];
    s->dq[i] = (float)(-1.0 / B);
  }
  memset(s->dsa, 0, nb * (d + m) * sizeof(float));
  ope_tnet_backward(&s->q1, s->dq, s->dsa);
  ope_mlp_zero_grad(s->q1.net);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < m; j++) {
      size_t k = (size_t)i * m + j;
      float v = s->cand[k] + (float)s->phi * tanhf(xr[k]);
      float t = tanhf(xr[k]);
      /* the clip passes no gradient where it is active */
      s->dx[k] = (v > 1 || v < -1) ? 0.0f
               : s->dsa[(size_t)i * (d + m) + d + j] * (float)s->phi * (1.0f - t * t);
    }
  ope_tnet_backward(&s->pert, s->dx, NULL);
  ope_tnet_update(&s->pert);
  losses[2] = -qm / B;
  ope_tnet_sync(&s->q1, s->tau);
  ope_tnet_sync(&s->q2, s->tau);
  ope_tnet_sync(&s->pert, s->tau);
  return OPE_OK;
}

static ope_status bcq_update(void *state, ope_rng *rng, double *losses,
                             ope_error *err) {
  bcq *s = state;
  (void)err;
  return s->rb->discrete ? bcq_update_discrete(s, rng, losses)
                         : bcq_update_continuous(s, rng, losses);
}

static ope_status bcq_export(void *state, ope_ckpt *ck, char *head,
                             size_t hsize, ope_error *err) {
  bcq *s = state;
  if (s->rb->discrete) {
    ope_tnet_export(ck, 2, (const char *const[]){"q", "imit"},
                    (ope_tnet *const[]){&s->q1, &s->imit});
    snprintf(head, hsize, "\"head\":\"bcq_discrete\"");
    return OPE_OK;
  }
  ope_tnet_export(ck, 5, (const char *const[]){"dec", "pert", "q1", "q2", "enc"},
                  (ope_tnet *const[]){&s->dec, &s->pert, &s->q1, &s->q2, &s->enc});
  char num[OPE_NUMFMT_MAX];
  ope_numfmt_double(num, s->bandwidth);
  snprintf(head, hsize, "\"head\":\"bcq\",\"latent\":%d,\"bandwidth\":%s", s->L, num);
  return OPE_OK;
}

const ope_train_algo ope_train_algo_bcq = {
  .name = "bcq",
  .summary = "batch-constrained Q-learning: VAE + perturbation, or thresholded discrete",
  .discrete = 1, .continuous = 1,
  .params = bcq_params, .n_params = 8,
  .loss_name = {"vae_or_td", "critic_or_imitation", "actor"},
  .create = bcq_create, .update = bcq_update, .export_nets = bcq_export,
  .destroy = bcq_destroy,
};

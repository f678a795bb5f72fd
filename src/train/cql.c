/* Conservative Q-learning (Kumar, Zhou, Tucker & Levine 2020, "Conservative
 * Q-Learning for Offline Reinforcement Learning"), CQL(H) (eq. 4):
 *   min_Q  alpha E_s[ log sum_a exp Q(s,a) - E_{a~D} Q(s,a) ]
 *        + E[ (Q(s,a) - y)^2 ]
 * Discrete (the paper's QR-DQN/DQN variant, here on double DQN, van
 * Hasselt et al. 2016, eq. 4): y = r + gamma (1 - done) Qhat(s',
 * argmax_a' Q(s',a')); the log-sum-exp is exact over the actions; the TD
 * term uses the Huber loss. Policy: epsilon-greedy or softmax(Q/T) over Q
 * (head q).
 * Continuous (SAC-based, appendix F): twin critics with Polyak targets,
 * y = r + gamma (1 - done) min_k Qhat_k(s', a'), a' ~ pi(s'); the
 * log-sum-exp is estimated by importance sampling (appendix F) from
 * N uniform actions (density 2^-m on [-1,1]^m) and N policy actions at s
 * and at s' (density pi): log sum_k exp(Q(s,a_k) - log mu(a_k)) over the 3N
 * samples. The actor is SAC's tanh-Gaussian (Haarnoja et al. 2018, eq. 7
 * and appendix C): min E[ alpha_H log pi(a|s) - min_k Q_k(s,a) ] with the
 * entropy weight tuned to a target entropy of -m (Haarnoja et al. 2018b,
 * "SAC Algorithms and Applications", eq. 18). Policy: head tanh_gaussian. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "train/losses.h"
#include "train/train.h"
#include "train/tnet.h"

typedef struct cql {
  const ope_train_replay *rb;
  ope_train_batch *b;
  ope_tnet q1, q2, pi;
  ope_adam *alpha_opt;
  float log_alpha[1], dlog_alpha[1];
  double gamma, tau, alpha, eps, temp;
  int N, R;        /* samples per kind; critic rows B (1 + 3N) */
  /* scratch */
  float *x, *dq, *y, *c, *dc, *mu, *ls, *mu2, *ls2, *noise, *act, *u, *lp,
        *actn, *lpn, *actc, *lpc, *da, *dmu, *dls, *dpi, *din, *qmin;
} cql;

static const ope_train_param cql_params[] = {
  {"alpha", 5.0, 1.0, NAN, 0, 1e6, 0, "CQL weight (continuous 5, discrete 1)"},
  {"cql_samples", 10, NAN, 4, 1, 1000, 1, "sampled actions of each kind for the log-sum-exp"},
  {"actor_lr", 1e-4, NAN, 3e-4, 0, 1, 0, "actor and entropy-weight learning rate"},
  {"eval_eps", 0.05, NAN, NAN, 0, 1, 0, "discrete policy: epsilon of epsilon-greedy"},
  {"eval_temp", 0, NAN, NAN, 0, 1e6, 0, "discrete policy: > 0 uses softmax(Q / eval_temp)"},
};

static void cql_destroy(void *state) {
  cql *s = state;
  if (s == NULL) return;
  ope_tnet_clear(&s->q1);
  ope_tnet_clear(&s->q2);
  ope_tnet_clear(&s->pi);
  ope_adam_free(s->alpha_opt);
  ope_train_batch_free(s->b);
  float *bufs[] = {s->x, s->dq, s->y, s->c, s->dc, s->mu, s->ls, s->mu2, s->ls2,
                   s->noise, s->act, s->u, s->lp, s->actn, s->lpn, s->actc,
                   s->lpc, s->da, s->dmu, s->dls, s->dpi, s->din, s->qmin};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(s);
}

static ope_status cql_create(const ope_train_setup *su, void **state,
                             ope_error *err) {
  const ope_train_replay *rb = su->rb;
  const ope_train_settings *set = su->set;
  int B = ope_train_geti(set, "batch"), H = ope_train_geti(set, "hidden");
  int L = ope_train_geti(set, "layers"), d = rb->d, m = rb->m, A = rb->A;
  double lr = ope_train_get(set, "lr"), alr = ope_train_get(set, "actor_lr");
  cql *s = calloc(1, sizeof *s);
  if (s == NULL) return ope_error_nomem(err);
  s->rb = rb;
  s->gamma = ope_train_get(set, "gamma");
  s->tau = ope_train_get(set, "tau");
  s->alpha = ope_train_get(set, "alpha");
  s->eps = ope_train_get(set, "eval_eps");
  s->temp = ope_train_get(set, "eval_temp");
  s->N = ope_train_geti(set, "cql_samples");
  ope_status st = ope_train_batch_new(rb, B, &s->b, err);
  if (st != OPE_OK) goto fail;
  if (rb->discrete) {
    if ((st = ope_tnet_init(&s->q1, d, A, H, L, lr, B, 1, su->rng, err)) != OPE_OK) goto fail;
    s->dq = malloc((size_t)B * A * sizeof(float));
    s->y = malloc((size_t)B * sizeof(float));
    if (!s->dq || !s->y) goto nomem;
    *state = s;
    return OPE_OK;
  }
  int N = s->N, R = B * (1 + 3 * N);
  size_t nb = (size_t)B, bn = (size_t)B * N;
  s->R = R;
  if ((st = ope_tnet_init(&s->q1, d + m, 1, H, L, lr, R, 1, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->q2, d + m, 1, H, L, lr, R, 1, su->rng, err)) != OPE_OK ||
      (st = ope_tnet_init(&s->pi, d, 2 * m, H, L, alr, B, 0, su->rng, err)) != OPE_OK)
    goto fail;
  ope_adam_config ac;
  ope_adam_config_default(&ac);
  ac.lr = alr;
  if ((st = ope_adam_new(&ac, 1, &s->alpha_opt, err)) != OPE_OK) goto fail;
  s->log_alpha[0] = 0.0f; /* entropy weight 1 at the start */
  s->x = malloc((size_t)R * (d + m) * sizeof(float));
  s->dq = malloc((size_t)R * sizeof(float));
  s->y = malloc(nb * sizeof(float));
  s->c = malloc(nb * 3 * N * sizeof(float));
  s->dc = malloc(nb * 3 * N * sizeof(float));
  s->mu = malloc(bn * m * sizeof(float));
  s->ls = malloc(bn * m * sizeof(float));
  s->mu2 = malloc(bn * m * sizeof(float));
  s->ls2 = malloc(bn * m * sizeof(float));
  s->noise = malloc(bn * m * sizeof(float));
  s->act = malloc(nb * m * sizeof(float));
  s->u = malloc(bn * m * sizeof(float));
  s->lp = malloc(nb * sizeof(float));
  s->actn = malloc(bn * m * sizeof(float));
  s->lpn = malloc(bn * sizeof(float));
  s->actc = malloc(bn * m * sizeof(float));
  s->lpc = malloc(bn * sizeof(float));
  s->da = malloc(nb * m * sizeof(float));
  s->dmu = malloc(nb * m * sizeof(float));
  s->dls = malloc(nb * m * sizeof(float));
  s->dpi = malloc(nb * 2 * m * sizeof(float));
  s->din = malloc(nb * (d + m) * sizeof(float));
  s->qmin = malloc(nb * sizeof(float));
  if (!s->x || !s->dq || !s->y || !s->c || !s->dc || !s->mu || !s->ls ||
      !s->mu2 || !s->ls2 || !s->noise || !s->act || !s->u || !s->lp ||
      !s->actn || !s->lpn || !s->actc || !s->lpc || !s->da || !s->dmu ||
      !s->dls || !s->dpi || !s->din || !s->qmin)
    goto nomem;
  *state = s;
  return OPE_OK;
nomem:
  st = ope_error_nomem(err);
fail:
  cql_destroy(s);
  return st;
}

/* ---- discrete ---- */

static ope_status cql_update_discrete(cql *s, ope_rng *rng, double *losses) {
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, A = rb->A;
  ope_train_replay_sample(rb, rng, 1, b);
  /* double DQN target: online argmax, target value */
  const float *qn = ope_tnet_forward(&s->q1, b->s2, B);
  for (int i = 0; i < B; i++) {
    int best = 0;
    for (int a = 1; a < A; a++) if (qn[(size_t)i * A + a] > qn[(size_t)i * A + best]) best = a;
    s->y[i] = (float)best;
  }
  const float *qt = ope_tnet_target(&s->q1, b->s2, B);
  for (int i = 0; i < B; i++)
    s->y[i] = b->r[i] + (float)s->gamma * (1.0f - b->done[i]) *
              qt[(size_t)i * A + (int)s->y[i]];
  const float *q = ope_tnet_forward(&s->q1, b->s, B);
  memset(s->dq, 0, (size_t)B * A * sizeof(float));
  double td = 0, data = 0;
  for (int i = 0; i < B; i++) {
    size_t k = (size_t)i * A + b->ai[i];
    double e = (double)q[k] - s->y[i], ae = fabs(e);
    td += ae <= 1 ? 0.5 * e * e : ae - 0.5;
    s->dq[k] += (float)((ae <= 1 ? e : (e > 0 ? 1 : -1)) / B);
    data += q[k];
    s->dq[k] -= (float)(s->alpha / B);
  }
  double lse = ope_loss_lse(q, s->dq, B, A, s->alpha);
  losses[0] = td / B;
  losses[1] = lse - data / B;
  ope_tnet_backward(&s->q1, s->dq, NULL);
  ope_tnet_update(&s->q1);
  ope_tnet_sync(&s->q1, s->tau);
  return OPE_OK;
}

/* ---- continuous ---- */

/* n tanh-Gaussian samples per row of mean/log-std (B, m) into act (B n, m)
 * and their log-densities lp (B n); mu_rep, ls_rep, u scratch (B n, m). */
static void sample_actions(ope_rng *rng, const float *mu, const float *ls,
                           int B, int n, int m, float *mu_rep, float *ls_rep,
                           float *noise, float *u, float *act, float *lp) {
  for (int i = 0; i < B; i++)
    for (int k = 0; k < n; k++) {
      size_t r = ((size_t)i * n + k) * m;
      memcpy(mu_rep + r, mu + (size_t)i * m, (size_t)m * sizeof(float));
      memcpy(ls_rep + r, ls + (size_t)i * m, (size_t)m * sizeof(float));
    }
  for (size_t k = 0; k < (size_t)B * n * m; k++) noise[k] = (float)ope_rng_normal(rng);
  ope_nn_tanh_gaussian_forward_f(act, u, lp, mu_rep, ls_rep, noise, B * n, m);
}

/* One critic update; returns the TD loss and puts the regularizer in *reg. */
static double critic_step(cql *s, ope_tnet *q, double *reg) {
  const ope_train_replay *rb = s->rb;
  int B = s->b->B, N = s->N, m = rb->m, R = s->R;
  const float *out = ope_tnet_forward(q, s->x, R);
  const double lu = m * log(2.0); /* -log density of U[-1,1]^m */
  for (int i = 0; i < B; i++)
    for (int k = 0; k < N; k++) {
      float *ci = s->c + (size_t)i * 3 * N;
      ci[k] = out[B + (size_t)i * N + k] + (float)lu;
      ci[N + k] = out[B + (size_t)(B + i) * N + k] - s->lpc[(size_t)i * N + k];
      ci[2 * N + k] = out[B + (size_t)(2 * B + i) * N + k] - s->lpn[(size_t)i * N + k];
    }
  memset(s->dc, 0, (size_t)B * 3 * N * sizeof(float));
  double lse = ope_loss_lse(s->c, s->dc, B, 3 * N, s->alpha);
  double td = 0, data = 0;
  for (int i = 0; i < B; i++) {
    double e = (double)out[i] - s->y[i];
    td += e * e;
    data += out[i];
    s->dq[i] = (float)((2.0 * e - s->alpha) / B);
  }
  for (int i = 0; i < B; i++)
    for (int k = 0; k < N; k++) {
      const float *dci = s->dc + (size_t)i * 3 * N;
      s->dq[B + (size_t)i * N + k] = dci[k];
      s->dq[B + (size_t)(B + i) * N + k] = dci[N + k];
      s->dq[B + (size_t)(2 * B + i) * N + k] = dci[2 * N + k];
    }
  ope_tnet_backward(q, s->dq, NULL);
  ope_tnet_update(q);
  *reg = lse - data / B;
  return td / B;
}

/* Rows [row0, row0 + n) of x get (s_i, a_k) with s repeated per = n / B. */
static void fill_rows(float *x, size_t row0, const float *st, const float *a,
                      int B, int per, int d, int m) {
  for (int i = 0; i < B; i++)
    for (int k = 0; k < per; k++) {
      float *r = x + (row0 + (size_t)i * per + k) * (d + m);
      memcpy(r, st + (size_t)i * d, (size_t)d * sizeof(float));
      memcpy(r + d, a + ((size_t)i * per + k) * m, (size_t)m * sizeof(float));
    }
}

static ope_status cql_update_continuous(cql *s, ope_rng *rng, double *losses) {
  const ope_train_replay *rb = s->rb;
  ope_train_batch *b = s->b;
  int B = b->B, d = rb->d, m = rb->m, N = s->N;
  size_t bm = (size_t)B * m;
  double alpha_h = exp(s->log_alpha[0]);
  ope_train_replay_sample(rb, rng, 1, b);
  /* policy at s': the backup action and N samples for the regularizer */
  const float *y2 = ope_tnet_forward(&s->pi, b->s2, B);
  float *m2 = s->dmu, *l2 = s->dls; /* (B, m) scratch until the actor step */
  ope_head_gauss_forward(y2, m2, l2, B, m, 0);
  sample_actions(rng, m2, l2, B, N, m, s->mu2, s->ls2, s->noise, s->u, s->actn, s->lpn);
  sample_actions(rng, m2, l2, B, 1, m, s->mu, s->ls, s->noise, s->u, s->act, s->lp);
  ope_tnet_concat(s->x, b->s2, d, s->act, m, B);
  ope_tnet_twin_backup(&s->q1, &s->q2, s->x, b, s->gamma, s->y);
  /* policy at s: N samples for the regularizer, then the actor step */
  const float *y1 = ope_tnet_forward(&s->pi, b->s, B);
  float *m1 = s->da, *l1 = s->dmu;
  ope_head_gauss_forward(y1, m1, l1, B, m, 0);
  sample_actions(rng, m1, l1, B, N, m, s->mu2, s->ls2, s->noise, s->u, s->actc, s->lpc);
  /* actor: reparameterized sample, mean over rows of alpha_H lp - min Q */
  memcpy(s->mu, m1, bm * sizeof(float));
  memcpy(s->ls, l1, bm * sizeof(float));
  for (size_t k = 0; k < bm; k++) s->noise[k] = (float)ope_rng_normal(rng);
  ope_nn_tanh_gaussian_forward_f(s->act, s->u, s->lp, s->mu, s->ls, s->noise, B, m);
  ope_tnet_concat(s->x, b->s, d, s->act, m, B);
  const float *qa = ope_tnet_forward(&s->q1, s->x, B);
  for (int i = 0; i < B; i++) s->qmin[i] = qa[i];
  const float *qb = ope_tnet_forward(&s->q2, s->x, B);
  memset(s->din, 0, (size_t)B * (d + m) * sizeof(float));
  double actor = 0, lpm = 0;
  for (int i = 0; i < B; i++) {
    int use2 = qb[i] < s->qmin[i];
    s->dq[i] = use2 ? (float)(-1.0 / B) : 0.0f;
    s->qmin[i] = use2 ? qb[i] : s->qmin[i];
    actor += alpha_h * s->lp[i] - s->qmin[i];
    lpm += s->lp[i];
  }
  ope_tnet_backward(&s->q2, s->dq, s->din);
  for (int i = 0; i < B; i++) s->dq[i] = s->dq[i] != 0 ? 0.0f : (float)(-1.0 / B);
  ope_tnet_backward(&s->q1, s->dq, s->din); /* q1's last forward was on x */
  ope_mlp_zero_grad(s->q1.net);
  ope_mlp_zero_grad(s->q2.net);
  for (int i = 0; i < B; i++)
    memcpy(s->da + (size_t)i * m, s->din + (size_t)i * (d + m) + d, (size_t)m * sizeof(float));
  float *dlp = s->qmin; /* reuse: d loss / d lp = alpha_H / B */
  for (int i = 0; i < B; i++) dlp[i] = (float)(alpha_h / B);
  memset(s->dmu, 0, bm * sizeof(float));
  memset(s->dls, 0, bm * sizeof(float));
  ope_nn_tanh_gaussian_backward_f(s->dmu, s->dls, s->da, dlp, s->act, s->ls, s->noise, B, m);
  memset(s->dpi, 0, bm * 2 * sizeof(float));
  /* pi's last forward was on s (y1) */
  ope_head_gauss_backward(y1, s->mu, s->dmu, s->dls, s->dpi, B, m, 0);
  ope_tnet_backward(&s->pi, s->dpi, NULL);
  ope_tnet_update(&s->pi);
  /* entropy weight: min -log alpha_H E[lp + target], target = -m */
  lpm /= B;
  s->dlog_alpha[0] = (float)(-(lpm - m));
  ope_adam_step(s->alpha_opt, s->log_alpha, s->dlog_alpha, s->alpha_opt->cfg.lr);
  /* critics: TD + CQL(H) on data, uniform, pi(s), pi(s') actions */
  for (size_t k = 0; k < (size_t)B * N * m; k++)
    s->u[k] = (float)(2.0 * ope_rng_uniform(rng) - 1.0);
  ope_tnet_concat(s->x, b->s, d, b->a, m, B);
  fill_rows(s->x, (size_t)B, b->s, s->u, B, N, d, m);
  fill_rows(s->x, (size_t)B + (size_t)B * N, b->s, s->actc, B, N, d, m);
  fill_rows(s->x, (size_t)B + 2 * (size_t)B * N, b->s, s->actn, B, N, d, m);
  double reg1, reg2;
  double td1 = critic_step(s, &s->q1, &reg1);
  double td2 = critic_step(s, &s->q2, &reg2);
  ope_tnet_sync(&s->q1, s->tau);
  ope_tnet_sync(&s->q2, s->tau);
  losses[0] = 0.5 * (td1 + td2);
  losses[1] = 0.5 * (reg1 + reg2);
  losses[2] = actor / B;
  losses[3] = alpha_h;
  return OPE_OK;
}

static ope_status cql_update(void *state, ope_rng *rng, double *losses,
                             ope_error *err) {
  cql *s = state;
  (void)err;
  return s->rb->discrete ? cql_update_discrete(s, rng, losses)
                         : cql_update_continuous(s, rng, losses);
}

static ope_status cql_export(void *state, ope_ckpt *ck, char *head,
                             size_t hsize, ope_error *err) {
  cql *s = state;
  if (s->rb->discrete) {
    ope_tnet_export(ck, 1, (const char *const[]){"q"}, (ope_tnet *const[]){&s->q1});
    snprintf(head, hsize, "\"head\":\"q\"");
    return OPE_OK;
  }
  ope_tnet_export(ck, 3, (const char *const[]){"pi", "q1", "q2"},
                  (ope_tnet *const[]){&s->pi, &s->q1, &s->q2});
  snprintf(head, hsize, "\"head\":\"tanh_gaussian\"");
  return OPE_OK;
}

const ope_train_algo ope_train_algo_cql = {
  .name = "cql",
  .summary = "conservative Q-learning, CQL(H): SAC-based or double-DQN-based",
  .discrete = 1, .continuous = 1,
  .params = cql_params, .n_params = 5,
  .loss_name = {"critic", "cql", "actor", "alpha_entropy"},
  .create = cql_create, .update = cql_update, .export_nets = cql_export,
  .destroy = cql_destroy,
};

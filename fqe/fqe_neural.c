/* Neural fitted-Q evaluation; the algorithm and its settings are described
 * in fqe_neural.h.
 *
 * Data preparation turns the dataset into a table of transitions (rows with
 * a regression target): the normalized network input at (s, a), the reward,
 * whether it is absorbing, and what V at s' needs (the normalized s' and
 * either the policy's distribution there or sampled actions). Training and
 * the held-out residual then only read that table. */
#include "fqe/fqe_neural.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fqe/fqe_model.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/mlp.h"
#include "nn/norm.h"
#include "nn/optim.h"

#define CHUNK 2048        /* rows per forward when evaluating many states */
#define CLIP_NORM 10.0
#define HOLDOUT_FRACTION 0.1
#define HOLDOUT_MIN_EPISODES 10
#define IMPROVE 1e-3

/* RNG streams of cfg->seed. */
enum { STREAM_INIT = 1, STREAM_SPLIT = 2, STREAM_BATCH = 3, STREAM_HOLDOUT = 4 };
#define STREAM_FIT_SAMPLES ((uint64_t)1 << 32)
#define STREAM_PREDICT_SAMPLES ((uint64_t)2 << 32)

struct ope_fqe_neural {
  ope_fqe_config cfg;
  ope_action_kind kind;
  int d, A, m;            /* obs width, discrete actions, action width */
  int K;                  /* action samples per state (continuous) */
  int in;                 /* network input width */
  double q_scale;
  ope_norm *norm;         /* (d) or (d + m): inputs of the network */
  ope_mlp *q;
  ope_fqe_neural_stats stats;
};

/* Transitions with a regression target. */
typedef struct trans {
  size_t n;
  float *x;         /* (n, in) normalized input at (s, a) */
  int32_t *a;       /* (n) discrete logged action */
  double *r;        /* (n) */
  uint8_t *absorb;  /* (n) 1: terminal, y = r */
  float *nx;        /* (n, d) normalized s' */
  double *ndist;    /* discrete: (n, A) pi(.|s') */
  float *nact;      /* continuous, drawn once: (n, K, m) normalized actions
                       at s' */
  double *nraw;     /* continuous, drawn per use: (n, d) s' as logged */
  const ope_policy *pi; /* with nraw: the Markov policy that draws them */
} trans;

/* What the policy does along a dataset: actions sampled at every row and at
 * the next_obs_* of truncated episodes' last rows (continuous), and the
 * distribution there (discrete). */
typedef struct walk {
  double *row_act;    /* continuous: (n_steps, K, m) */
  double *tail_act;   /* continuous: (n_episodes, K, m) */
  double *tail_dist;  /* discrete: (n_episodes, A) */
  uint8_t *tail_ok;   /* (n_episodes) */
} walk;

static void trans_clear(trans *t) {
  free(t->x);
  free(t->a);
  free(t->r);
  free(t->absorb);
  free(t->nx);
  free(t->ndist);
  free(t->nact);
  free(t->nraw);
  memset(t, 0, sizeof *t);
}

static void walk_clear(walk *w) {
  free(w->row_act);
  free(w->tail_act);
  free(w->tail_dist);
  free(w->tail_ok);
  memset(w, 0, sizeof *w);
}

/* Normalize one observation (and action) into the network input x. */
static void make_input(const ope_fqe_neural *M, const double *obs,
                       const double *act, float *x) {
  const ope_norm *nm = M->norm;
  for (int j = 0; j < M->d; j++) {
    double s = nm->std[j] >= OPE_NORM_MIN_STD ? nm->std[j] : 1.0;
    x[j] = (float)((obs[j] - nm->mean[j]) / s);
  }
  for (int j = 0; act && j < M->m; j++) {
    int k = M->d + j;
    double s = nm->std[k] >= OPE_NORM_MIN_STD ? nm->std[k] : 1.0;
    x[k] = (float)((act[j] - nm->mean[k]) / s);
  }
}

/* Whether V draws pi's actions afresh each time it is needed on ds instead
 * of drawing them once into a table: when the table of n x K actions would
 * exceed cfg->sample_table_mb and pi is a continuous policy without
 * history. (A table is the cheaper way otherwise: a network policy answers
 * one row per call, and the table draws each row once, not once per
 * minibatch.) A policy keeps its history only in its context, so one
 * without a context (no ctx_new, or a NULL context) has none. */
static int draws_fresh(const ope_fqe_neural *M, const ope_dataset *ds,
                       const ope_policy *pi) {
  if (M->kind != OPE_ACTION_CONTINUOUS || pi == NULL || pi->ops->sample == NULL)
    return 0;
  double bytes = (double)(ds->n_steps + ds->n_episodes) * M->K * M->m * sizeof(double);
  if (bytes <= M->cfg.sample_table_mb * 1048576.0) return 0;
  if (pi->ops->ctx_new == NULL) return 1;
  void *ctx = NULL;
  ope_error ignored;
  if (pi->ops->ctx_new(pi, &ctx, &ignored) != OPE_OK) return 0;
  if (ctx && pi->ops->ctx_free) pi->ops->ctx_free(ctx);
  return ctx == NULL;
}

/* Walk every episode of ds through pi's context, recording what w needs.
 * Continuous: K actions at every row from stream (stream0 + episode); with
 * scores->act (deterministic) and no tails needed, no policy calls. With
 * fresh draws (draws_fresh) only tail_ok is filled. */
static ope_status walk_policy(const ope_fqe_neural *M, const ope_dataset *ds,
                              const ope_policy *pi,
                              const ope_policy_scores *sc, uint64_t stream0,
                              walk *w, ope_error *err) {
  int cont = M->kind == OPE_ACTION_CONTINUOUS, K = M->K, m = M->m, A = M->A;
  int fresh = draws_fresh(M, ds, pi);
  size_t ne = ds->n_episodes ? ds->n_episodes : 1;
  memset(w, 0, sizeof *w);
  w->tail_ok = calloc(ne, 1);
  if (w->tail_ok && fresh) {
    for (size_t e = 0; e < ds->n_episodes; e++) {
      const double *nobs = NULL;
      size_t first = ds->ep_offset[e], last = ds->ep_offset[e + 1];
      w->tail_ok[e] = last > first && ds->next_obs &&
                      ope_dataset_next(ds, e, last - 1, &nobs) && nobs;
    }
    return OPE_OK;
  }
  if (cont) {
    w->row_act = malloc((ds->n_steps ? ds->n_steps : 1) * (size_t)K * m * sizeof(double));
    w->tail_act = malloc(ne * (size_t)K * m * sizeof(double));
  } else {
    w->tail_dist = malloc(ne * (size_t)A * sizeof(double));
  }
  if (w->tail_ok == NULL || (cont ? !w->row_act || !w->tail_act : !w->tail_dist)) {
    walk_clear(w);
    return ope_error_nomem(err);
  }
  if (cont && sc && sc->act && (pi == NULL || ds->next_obs == NULL)) {
    for (size_t t = 0; t < ds->n_steps; t++)
      for (int k = 0; k < K; k++)
        memcpy(w->row_act + (t * K + k) * m, sc->act + t * m, sizeof(double) * m);
    return OPE_OK;
  }
  if (pi == NULL) return OPE_OK; /* discrete without a policy: no tails */
  if (!cont && ds->next_obs == NULL) return OPE_OK;
  ope_status st = OPE_OK;
  for (size_t e = 0; e < ds->n_episodes && st == OPE_OK; e++) {
    void *ctx = NULL;
    ope_rng rng;
    ope_rng_seed(&rng, M->cfg.seed, stream0 + e);
    if (pi->ops->ctx_new && (st = pi->ops->ctx_new(pi, &ctx, err)) != OPE_OK) break;
    size_t first = ds->ep_offset[e], last = ds->ep_offset[e + 1];
    for (size_t t = first; t < last && st == OPE_OK; t++) {
      const double *obs = ds->obs + t * M->d;
      double a_d;
      const double *a;
      if (cont) {
        for (int k = 0; k < K && st == OPE_OK; k++)
          st = pi->ops->sample(pi, ctx, obs, &rng, w->row_act + (t * K + k) * m, err);
        a = ds->action_vec + t * m;
      } else {
        a_d = ds->action[t];
        a = &a_d;
      }
      if (pi->ops->observe) pi->ops->observe(pi, ctx, obs, a, ds->reward[t]);
    }
    const double *nobs = NULL;
    if (st == OPE_OK && last > first && ds->next_obs &&
        ope_dataset_next(ds, e, last - 1, &nobs) && nobs) {
      if (cont) {
        for (int k = 0; k < K && st == OPE_OK; k++)
          st = pi->ops->sample(pi, ctx, nobs, &rng, w->tail_act + (e * K + k) * m, err);
      } else {
        st = pi->ops->dist(pi, ctx, nobs, w->tail_dist + e * A, err);
      }
      w->tail_ok[e] = st == OPE_OK;
    }
    if (pi->ops->ctx_free) pi->ops->ctx_free(ctx);
  }
  if (st != OPE_OK) walk_clear(w);
  return st;
}

/* Transitions of the listed episodes of ds into T. */
static ope_status build_trans(const ope_fqe_neural *M, const ope_dataset *ds,
                              const ope_policy *pi,
                              const ope_policy_scores *sc, const walk *w,
                              const size_t *eps, size_t n_eps, trans *T,
                              ope_error *err) {
  int cont = M->kind == OPE_ACTION_CONTINUOUS, fresh = draws_fresh(M, ds, pi);
  int d = M->d, A = M->A, m = M->m, K = M->K, in = M->in;
  size_t n = 0;
  memset(T, 0, sizeof *T);
  for (size_t i = 0; i < n_eps; i++)
    n += ope_dataset_ep_len(ds, eps[i]);
  size_t cap = n ? n : 1;
  T->x = malloc(cap * in * sizeof(float));
  T->a = malloc(cap * sizeof(int32_t));
  T->r = malloc(cap * sizeof(double));
  T->absorb = malloc(cap);
  T->nx = malloc(cap * d * sizeof(float));
  if (cont && fresh) T->nraw = malloc(cap * d * sizeof(double));
  else if (cont) T->nact = malloc(cap * K * m * sizeof(float));
  else T->ndist = malloc(cap * A * sizeof(double));
  if (!T->x || !T->a || !T->r || !T->absorb || !T->nx ||
      (cont ? !T->nact && !T->nraw : !T->ndist)) {
    trans_clear(T);
    return ope_error_nomem(err);
  }
  T->pi = fresh ? pi : NULL;
  size_t k = 0;
  for (size_t i = 0; i < n_eps; i++) {
    size_t e = eps[i], first = ds->ep_offset[e], last = ds->ep_offset[e + 1];
    for (size_t t = first; t < last; t++) {
      const double *nobs = NULL;
      int boot = ope_dataset_next(ds, e, t, &nobs);
      int is_tail = t + 1 == last;
      if (!ds->terminal[t]) {
        if (!boot) continue;
        if (is_tail && !w->tail_ok[e]) continue; /* no policy at next_obs */
        if (!is_tail) nobs = ds->obs + (t + 1) * d;
      }
      make_input(M, ds->obs + t * d, cont ? ds->action_vec + t * m : NULL,
                 T->x + k * in);
      T->a[k] = cont ? 0 : ds->action[t];
      T->r[k] = ds->reward[t];
      T->absorb[k] = ds->terminal[t] ? 1 : 0;
      if (T->absorb[k]) {
        memset(T->nx + k * d, 0, sizeof(float) * d);
        if (fresh) memset(T->nraw + k * d, 0, sizeof(double) * d);
        else if (cont) memset(T->nact + k * K * m, 0, sizeof(float) * K * m);
        else memset(T->ndist + k * A, 0, sizeof(double) * A);
      } else {
        make_input(M, nobs, NULL, T->nx + k * d);
        if (fresh) {
          memcpy(T->nraw + k * d, nobs, sizeof(double) * d);
        } else if (cont) {
          const double *src = is_tail ? w->tail_act + e * K * m
                                      : w->row_act + (t + 1) * K * m;
          float tmp[OPE_MAX_OBS_DIM + OPE_MAX_ACTION_DIM];
          for (int s = 0; s < K; s++) {
            make_input(M, nobs, src + s * m, tmp);
            memcpy(T->nact + (k * K + s) * m, tmp + d, sizeof(float) * m);
          }
        } else {
          const double *p = is_tail ? w->tail_dist + e * A : sc->dist + (t + 1) * A;
          memcpy(T->ndist + k * A, p, sizeof(double) * A);
        }
      }
      k++;
    }
  }
  T->n = k;
  return OPE_OK;
}

/* V under net at the next states of transitions idx[0..n-1] (or 0..n-1 when
 * idx is NULL), in original units; absorbing ones get 0. stage holds CHUNK
 * rows of input. With T->nraw the K actions at each s' are drawn from
 * T->pi with rng now (in transition order), else read from T->nact. Fails
 * only when the policy fails to draw. */
static ope_status next_values(const ope_fqe_neural *M, const ope_mlp *net,
                              ope_mlp_ws *ws, const trans *T,
                              const size_t *idx, size_t n, float *stage,
                              ope_rng *rng, double *v, ope_error *err) {
  int cont = M->kind == OPE_ACTION_CONTINUOUS;
  int d = M->d, A = M->A, m = M->m, K = cont ? M->K : 1, in = M->in;
  size_t per = CHUNK / K; /* transitions per forward */
  for (size_t s = 0; s < n; s += per) {
    size_t cnt = n - s < per ? n - s : per;
    for (size_t i = 0; i < cnt; i++) {
      size_t j = idx ? idx[s + i] : s + i;
      for (int k = 0; k < K; k++) {
        float *x = stage + (i * K + k) * in;
        memcpy(x, T->nx + j * d, sizeof(float) * d);
        if (T->nraw && T->absorb[j]) {
          memset(x + d, 0, sizeof(float) * m);
        } else if (T->nraw) {
          double a[OPE_MAX_ACTION_DIM];
          const double *ns = T->nraw + j * d;
          ope_status st = T->pi->ops->sample(T->pi, NULL, ns, rng, a, err);
          if (st != OPE_OK) return st;
          make_input(M, ns, a, x);
        } else if (cont) {
          memcpy(x + d, T->nact + (j * K + k) * m, sizeof(float) * m);
        }
      }
    }
    const float *q = ope_mlp_forward(net, ws, stage, (int)(cnt * K));
    for (size_t i = 0; i < cnt; i++) {
      size_t j = idx ? idx[s + i] : s + i;
      double acc = 0;
      if (cont) {
        for (int k = 0; k < K; k++) acc += q[i * K + k];
        acc /= K;
      } else {
        for (int a = 0; a < A; a++) acc += T->ndist[j * A + a] * q[i * A + a];
      }
      v[s + i] = T->absorb[j] ? 0.0 : acc * M->q_scale;
    }
  }
  return OPE_OK;
}

/* next_values and an online forward pass as tasks for ope_gemm_run2. */
typedef struct targets_job {
  const ope_fqe_neural *M;
  const ope_mlp *net;
  ope_mlp_ws *ws;
  const trans *T;
  const size_t *idx;
  size_t n;
  float *stage;
  ope_rng *rng;
  double *v;
  ope_error *err;
  ope_status st;
} targets_job;

static void targets_run(void *arg) {
  targets_job *j = arg;
  j->st = next_values(j->M, j->net, j->ws, j->T, j->idx, j->n, j->stage, j->rng,
                      j->v, j->err);
}

typedef struct forward_job {
  const ope_mlp *net;
  ope_mlp_ws *ws;
  const float *x;
  int B;
  const float *out;
} forward_job;

static void forward_run(void *arg) {
  forward_job *j = arg;
  j->out = ope_mlp_forward(j->net, j->ws, j->x, j->B);
}

/* Q(s, a) under net for transitions 0..n-1 of T, original units. */
static void logged_q(const ope_fqe_neural *M, const ope_mlp *net,
                     ope_mlp_ws *ws, const trans *T, size_t n, double *q) {
  int cont = M->kind == OPE_ACTION_CONTINUOUS, A = M->A, in = M->in;
  for (size_t s = 0; s < n; s += CHUNK) {
    size_t cnt = n - s < CHUNK ? n - s : CHUNK;
    const float *out = ope_mlp_forward(net, ws, T->x + s * in, (int)cnt);
    for (size_t i = 0; i < cnt; i++)
      q[s + i] = (cont ? out[i] : out[i * A + T->a[s + i]]) * M->q_scale;
  }
}

/* Held-out Bellman residual of net: mean (Q - r - g V_net(s'))^2 into *res.
 * Fresh draws come from the same stream at every call, so that residuals
 * of successive iterates are compared on the same actions. */
static ope_status residual(const ope_fqe_neural *M, const ope_mlp *net,
                           ope_mlp_ws *ws, const trans *H, float *stage,
                           double *buf, double *res, ope_error *err) {
  double *q = buf, *v = buf + H->n;
  ope_rng rng;
  ope_rng_seed(&rng, M->cfg.seed, STREAM_HOLDOUT);
  logged_q(M, net, ws, H, H->n, q);
  ope_status st = next_values(M, net, ws, H, NULL, H->n, stage, &rng, v, err);
  if (st != OPE_OK) return st;
  double s = 0;
  for (size_t i = 0; i < H->n; i++) {
    double e = q[i] - H->r[i] - M->cfg.gamma * v[i];
    s += e * e;
  }
  *res = H->n ? s / (double)H->n : NAN;
  return OPE_OK;
}

static ope_status check_config(const ope_fqe_config *c, ope_error *err) {
  const char *why = NULL;
  if (!(c->gamma >= 0 && c->gamma <= 1)) why = "discount must be in [0, 1]";
  else if (c->hidden < 1 || c->hidden > OPE_MLP_MAX_WIDTH)
    why = "hidden width out of range";
  else if (c->layers < 1 || c->layers > OPE_MLP_MAX_HIDDEN)
    why = "number of layers out of range";
  else if (c->iterations < 0) why = "iterations must be >= 0 (0: automatic)";
  else if (c->steps_per_iter < 1) why = "steps per iteration must be >= 1";
  else if (c->batch < 1 || c->batch > CHUNK * 64) why = "batch size out of range";
  else if (!(c->lr > 0 && c->lr < 1)) why = "learning rate must be in (0, 1)";
  else if (c->action_samples < 1 || c->action_samples > OPE_FQE_NEURAL_MAX_SAMPLES)
    why = "action samples out of range";
  else if (!(c->sample_table_mb >= 0)) why = "sample table size must be >= 0";
  return why ? ope_error_set(err, OPE_EUSAGE, "fqe neural", "%s", why) : OPE_OK;
}

/* The model shell for ds: sizes, normalization fitted on ds, q_scale. */
static ope_status model_new(const ope_dataset *ds, const ope_policy *pi,
                            const ope_policy_scores *sc,
                            const ope_fqe_config *cfg, ope_fqe_neural **out,
                            ope_error *err) {
  int cont = ds->action_kind == OPE_ACTION_CONTINUOUS;
  if (sc == NULL || sc->n_steps != ds->n_steps)
    return ope_error_set(err, OPE_EUSAGE, "fqe neural",
                         "policy scores do not match the dataset");
  if (!cont && sc->dist == NULL)
    return ope_error_set(err, OPE_EUSAGE, "fqe neural",
                         "discrete actions need the policy's full action distribution");
  if (cont && pi == NULL && sc->act == NULL)
    return ope_error_set(err, OPE_EUSAGE, "fqe neural",
                         "continuous actions need the policy itself to sample actions");
  ope_fqe_neural *M = calloc(1, sizeof *M);
  if (M == NULL) return ope_error_nomem(err);
  M->cfg = *cfg;
  M->kind = ds->action_kind;
  M->d = ds->obs_dim;
  M->A = cont ? 0 : ds->n_actions;
  M->m = cont ? ds->action_dim : 0;
  int det = cont && (pi ? pi->deterministic : sc->deterministic);
  M->K = cont ? (det ? 1 : cfg->action_samples) : 1;
  M->in = M->d + M->m;
  ope_status st = ope_norm_new(M->in, &M->norm, err);
  if (st != OPE_OK) goto fail;
  size_t n = ds->n_steps;
  double *xa = malloc((n ? n : 1) * M->in * sizeof(double));
  if (xa == NULL) {
    st = ope_error_nomem(err);
    goto fail;
  }
  for (size_t t = 0; t < n; t++) {
    memcpy(xa + t * M->in, ds->obs + t * M->d, sizeof(double) * M->d);
    if (cont)
      memcpy(xa + t * M->in + M->d, ds->action_vec + t * M->m,
             sizeof(double) * M->m);
  }
  ope_norm_fit(M->norm, xa, n, (size_t)M->in);
  free(xa);
  double r2 = 0;
  size_t H = 0;
  for (size_t t = 0; t < n; t++) r2 += ds->reward[t] * ds->reward[t];
  double rms = n ? sqrt(r2 / (double)n) : 0;
  for (size_t e = 0; e < ds->n_episodes; e++)
    if (ope_dataset_ep_len(ds, e) > H) H = ope_dataset_ep_len(ds, e);
  M->q_scale = cfg->gamma < 1 ? rms / (1 - cfg->gamma) : rms * (double)H;
  if (!(M->q_scale > 1e-12)) M->q_scale = 1;
  ope_mlp_config mc;
  ope_mlp_config_make(&mc, M->in, cfg->layers, cfg->hidden, cont ? 1 : M->A,
                      OPE_ACT_RELU);
  if ((st = ope_mlp_new(&mc, &M->q, err)) != OPE_OK) goto fail;
  *out = M;
  return OPE_OK;
fail:
  ope_fqe_neural_free(M);
  return st;
}

/* The first k with g^k < 1% (at least 1): iterations of Q_{k+1} = T Q_k
 * from Q_0 = 0 before the start's bias is below 1% of Q (g < 1). */
static int contraction_iterations(double g) {
  int k = (int)ceil(log(0.01) / log(fmax(g, 1e-9)));
  return k < 1 ? 1 : k;
}

/* cfg->iterations = 0: the contraction's k_min (g < 1), or the longest
 * episode (g = 1, where k backups give the k-step value), plus
 * 2 OPE_FQE_NEURAL_PATIENCE iterations for early stopping to choose
 * among; at most OPE_FQE_NEURAL_AUTO_MAX. */
static int auto_iterations(const ope_dataset *ds, double g) {
  size_t k = 0;
  if (g < 1) {
    k = (size_t)contraction_iterations(g);
  } else {
    for (size_t e = 0; e < ds->n_episodes; e++)
      if (ope_dataset_ep_len(ds, e) > k) k = ope_dataset_ep_len(ds, e);
  }
  k += 2 * OPE_FQE_NEURAL_PATIENCE;
  return k > OPE_FQE_NEURAL_AUTO_MAX ? OPE_FQE_NEURAL_AUTO_MAX : (int)k;
}

int ope_fqe_neural_iterations(const ope_dataset *ds, const ope_fqe_config *cfg) {
  return cfg->iterations ? cfg->iterations : auto_iterations(ds, cfg->gamma);
}

/* Episode i's copy group: the smallest index with the same label. An
 * episode resample (ope_dataset_subset) repeats episodes with their labels,
 * and labels are unique in a logged dataset, so equal labels mean copies of
 * one logged episode; unlabeled episodes are their own group. grp[i] <= i. */
typedef struct labeled {
  const char *label;
  size_t i;
} labeled;

static int cmp_labeled(const void *a, const void *b) {
  const labeled *x = a, *y = b;
  int c = strcmp(x->label, y->label);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int copy_groups(const ope_dataset *ds, size_t *grp, size_t *n_groups) {
  size_t n = ds->n_episodes, k = 0;
  for (size_t i = 0; i < n; i++) grp[i] = i;
  *n_groups = n;
  if (ds->ep_label == NULL) return 0;
  labeled *by = malloc((n ? n : 1) * sizeof *by);
  if (by == NULL) return -1;
  for (size_t i = 0; i < n; i++)
    if (ds->ep_label[i]) by[k++] = (labeled){ds->ep_label[i], i};
  qsort(by, k, sizeof *by, cmp_labeled);
  for (size_t j = 1; j < k; j++)
    if (strcmp(by[j].label, by[j - 1].label) == 0) {
      grp[by[j].i] = grp[by[j - 1].i];
      (*n_groups)--;
    }
  free(by);
  return 0;
}

/* The held-out split (fqe_neural.h); HOLDOUT_FRACTION of the episodes. */
size_t *ope_fqe_neural_split(const ope_dataset *ds, uint64_t seed,
                             size_t *n_hold) {
  size_t n = ds->n_episodes, n_groups, sz = n ? n : 1;
  size_t *ord = malloc(sz * sizeof *ord), *grp = malloc(sz * sizeof *grp);
  size_t *out = malloc(sz * sizeof *out), *gsize = calloc(sz, sizeof *gsize);
  uint8_t *held = calloc(sz, 1);
  *n_hold = 0;
  if (!ord || !grp || !out || !gsize || !held || copy_groups(ds, grp, &n_groups)) {
    free(out);
    out = NULL;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    ord[i] = i;
    gsize[grp[i]]++;
  }
  ope_rng rng;
  ope_rng_seed(&rng, seed, STREAM_SPLIT);
  for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
    size_t j = (size_t)ope_rng_below(&rng, i);
    size_t t = ord[i - 1];
    ord[i - 1] = ord[j];
    ord[j] = t;
  }
  if (n_groups >= HOLDOUT_MIN_EPISODES) {
    size_t want = (size_t)floor(HOLDOUT_FRACTION * (double)n + 0.5);
    if (want < 1) want = 1;
    for (size_t k = 0; k < n && *n_hold < want; k++) {
      size_t g = grp[ord[k]];
      if (!held[g]) *n_hold += gsize[g];
      held[g] = 1;
    }
  }
  size_t h = 0, r = *n_hold; /* stable partition of the shuffled order */
  for (size_t k = 0; k < n; k++) {
    size_t e = ord[k];
    out[held[grp[e]] ? h++ : r++] = e;
  }
done:
  free(ord);
  free(grp);
  free(gsize);
  free(held);
  return out;
}

ope_status ope_fqe_neural_fit(const ope_dataset *ds, const ope_policy *pi,
                              const ope_policy_scores *scores,
                              const ope_fqe_config *cfg, ope_fqe_neural **out,
                              ope_error *err) {
  *out = NULL;
  ope_status st = check_config(cfg, err);
  if (st != OPE_OK) return st;
  ope_fqe_neural *M = NULL;
  ope_mlp *target = NULL;
  ope_mlp_ws *ws = NULL, *tws = NULL;
  ope_adam *adam = NULL;
  walk w = {0};
  trans T = {0}, H = {0};
  size_t *order = NULL, *idx = NULL;
  float *stage = NULL, *xb = NULL, *dout = NULL, *best = NULL;
  double *y = NULL, *vb = NULL, *buf = NULL;
  int threads_before = ope_gemm_threads();
  if (cfg->threads > 0) ope_gemm_set_threads(cfg->threads);

  if ((st = model_new(ds, pi, scores, cfg, &M, err)) != OPE_OK) goto done;
  int cont = M->kind == OPE_ACTION_CONTINUOUS, A = M->A, in = M->in;
  int B = cfg->batch, out_w = cont ? 1 : A;
  if ((st = walk_policy(M, ds, pi, scores, STREAM_FIT_SAMPLES, &w, err)) != OPE_OK)
    goto done;
  size_t n_hold;
  if ((order = ope_fqe_neural_split(ds, cfg->seed, &n_hold)) == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  if ((st = build_trans(M, ds, pi, scores, &w, order + n_hold,
                        ds->n_episodes - n_hold, &T, err)) != OPE_OK ||
      (st = build_trans(M, ds, pi, scores, &w, order, n_hold, &H, err)) != OPE_OK)
    goto done;
  walk_clear(&w);
  if (H.n > OPE_FQE_NEURAL_HOLDOUT_MAX) H.n = OPE_FQE_NEURAL_HOLDOUT_MAX;
  if (T.n == 0) {
    st = ope_error_set(err, OPE_EDATA, "fqe neural",
                       "no transition with a regression target");
    goto done;
  }
  int iters = ope_fqe_neural_iterations(ds, cfg);
  int all_targets = T.n <= (size_t)cfg->steps_per_iter * (size_t)B;
  if ((st = ope_mlp_new(&M->q->cfg, &target, err)) != OPE_OK ||
      (st = ope_mlp_ws_new(M->q, CHUNK > B ? CHUNK : B, &ws, err)) != OPE_OK ||
      (st = ope_mlp_ws_new(M->q, CHUNK > B ? CHUNK : B, &tws, err)) != OPE_OK)
    goto done;
  ope_adam_config ac;
  ope_adam_config_default(&ac);
  ac.lr = cfg->lr;
  ac.clip_norm = CLIP_NORM;
  if ((st = ope_adam_new(&ac, M->q->n_params, &adam, err)) != OPE_OK) goto done;
  size_t stage_rows = CHUNK > B ? CHUNK : B;
  stage = malloc(stage_rows * in * sizeof(float));
  xb = malloc((size_t)B * in * sizeof(float));
  dout = malloc((size_t)B * out_w * sizeof(float));
  best = malloc(M->q->n_params * sizeof(float));
  idx = malloc((size_t)B * sizeof(size_t));
  y = malloc((all_targets ? T.n : (size_t)B) * sizeof(double));
  vb = malloc((size_t)B * sizeof(double));
  buf = malloc(2 * (H.n ? H.n : 1) * sizeof(double));
  if (!stage || !xb || !dout || !best || !idx || !y || !vb || !buf) {
    st = ope_error_nomem(err);
    goto done;
  }

  ope_rng rng;
  ope_rng_seed(&rng, cfg->seed, STREAM_INIT);
  ope_mlp_init(M->q, OPE_INIT_HE, &rng);
  // Q_0 = 0: a zero output layer, so that no random initial values are
  // bootstrapped into the first targets (they would decay only as g^k)
  int last = M->q->n_dense - 1;
  memset(M->q->params + M->q->w_off[last], 0,
         (size_t)M->q->width[last] * M->q->width[last + 1] * sizeof(float));
  ope_rng_seed(&rng, cfg->seed, STREAM_BATCH);
  ope_fqe_neural_stats *S = &M->stats;
  S->n_train = T.n;
  S->n_holdout = H.n;
  S->holdout_residual = NAN;
  // Stopping before g^k < 1% would leave the bias of Q_0 = 0 in the
  // estimate, so the held-out residual only selects among later iterations.
  double g = cfg->gamma, qs = M->q_scale;
  int min_iters = g < 1 ? contraction_iterations(g) : iters;
  if (min_iters > iters) min_iters = iters;
  double best_res = INFINITY;
  int since_best = 0;
  // each iteration is one regression: its step size decays by a cosine
  // from lr to lr / 10 so that the fit ends with little minibatch noise
  ope_lr_schedule sched = {OPE_LR_COSINE, cfg->lr, 0.1 * cfg->lr, 0,
                           cfg->steps_per_iter};
  for (int it = 1; it <= iters; it++) {
    ope_mlp_copy(target, M->q); /* hard refresh: Q_k is fixed this iteration */
    if (all_targets) {
      if ((st = next_values(M, target, tws, &T, NULL, T.n, stage, &rng, y, err)) != OPE_OK)
        goto done;
      for (size_t i = 0; i < T.n; i++) y[i] = T.r[i] + g * y[i];
    }
    double loss = 0;
    for (int s = 0; s < cfg->steps_per_iter; s++) {
      for (int i = 0; i < B; i++) idx[i] = (size_t)ope_rng_below(&rng, T.n);
      for (int i = 0; i < B; i++)
        memcpy(xb + (size_t)i * in, T.x + idx[i] * in, sizeof(float) * in);
      ope_mlp_zero_grad(M->q);
      // the minibatch's targets and its forward pass are independent: they
      // run at once when two threads are allowed
      targets_job tj = {M, target, tws, &T, idx, (size_t)B, stage, &rng, vb, err, OPE_OK};
      forward_job fj = {M->q, ws, xb, B, NULL};
      if (all_targets) forward_run(&fj);
      else ope_gemm_run2(targets_run, &tj, forward_run, &fj);
      if ((st = tj.st) != OPE_OK) goto done;
      const float *q = fj.out;
      // loss = mean_i (Q(s_i,a_i)/qs - y_i/qs)^2 (Le et al. 2019, Alg. 3 line 4)
      memset(dout, 0, (size_t)B * out_w * sizeof(float));
      loss = 0;
      for (int i = 0; i < B; i++) {
        size_t j = idx[i];
        double yi = all_targets ? y[j] : T.r[j] + g * vb[i];
        int col = cont ? 0 : T.a[j];
        double e = q[(size_t)i * out_w + col] - yi / qs;
        loss += e * e;
        dout[(size_t)i * out_w + col] = (float)(2.0 * e / B);
      }
      loss /= B;
      ope_mlp_backward(M->q, ws, dout, NULL);
      ope_adam_step(adam, M->q->params, M->q->grads, ope_lr_at(&sched, s));
    }
    S->iterations_run = it;
    S->train_loss = loss;
    if (!isfinite(loss)) break;
    if (H.n == 0 || it < min_iters) continue;
    double res;
    if ((st = residual(M, M->q, ws, &H, stage, buf, &res, err)) != OPE_OK) goto done;
    if (res < best_res * (1 - IMPROVE)) {
      best_res = res;
      S->best_iteration = it;
      S->holdout_residual = res;
      memcpy(best, M->q->params, M->q->n_params * sizeof(float));
      since_best = 0;
    } else if (++since_best >= OPE_FQE_NEURAL_PATIENCE) {
      break;
    }
  }
  if (H.n > 0 && S->best_iteration > 0)
    memcpy(M->q->params, best, M->q->n_params * sizeof(float));
  else
    S->best_iteration = S->iterations_run;
  *out = M;
  M = NULL;
done:
  if (cfg->threads > 0) ope_gemm_set_threads(threads_before);
  ope_fqe_neural_free(M);
  ope_mlp_free(target);
  ope_mlp_ws_free(ws);
  ope_mlp_ws_free(tws);
  ope_adam_free(adam);
  walk_clear(&w);
  trans_clear(&T);
  trans_clear(&H);
  free(order);
  free(idx);
  free(stage);
  free(xb);
  free(dout);
  free(best);
  free(y);
  free(vb);
  free(buf);
  return st;
}

ope_status ope_fqe_neural_predict(const ope_fqe_neural *M,
                                  const ope_dataset *ds, const ope_policy *pi,
                                  const ope_policy_scores *scores,
                                  ope_qfit *out, ope_error *err) {
  memset(out, 0, sizeof *out);
  int cont = M->kind == OPE_ACTION_CONTINUOUS;
  if (ds->action_kind != M->kind || ds->obs_dim != M->d ||
      (cont ? ds->action_dim != M->m : ds->n_actions != M->A))
    return ope_error_set(err, OPE_EDATA, "fqe neural",
                         "dataset widths differ from the fitted model's");
  if (scores == NULL || scores->n_steps != ds->n_steps ||
      (!cont && scores->dist == NULL) || (cont && pi == NULL && scores->act == NULL))
    return ope_error_set(err, OPE_EUSAGE, "fqe neural",
                         "the policy's numbers on this dataset are missing");
  int d = M->d, A = M->A, m = M->m, K = M->K, in = M->in;
  walk w = {0};
  ope_mlp_ws *ws = NULL;
  float *stage = NULL;
  int threads_before = ope_gemm_threads();
  if (M->cfg.threads > 0) ope_gemm_set_threads(M->cfg.threads);
  int fresh = draws_fresh(M, ds, pi);
  ope_rng rng; /* fresh draws, in row order */
  ope_rng_seed(&rng, M->cfg.seed, STREAM_PREDICT_SAMPLES);
  ope_status st = ope_qfit_alloc(out, ds->n_steps, err);
  if (st != OPE_OK) goto done;
  if (cont && !fresh &&
      (st = walk_policy(M, ds, pi, scores, STREAM_PREDICT_SAMPLES, &w, err)) != OPE_OK)
    goto done;
  if ((st = ope_mlp_ws_new(M->q, CHUNK, &ws, err)) != OPE_OK) goto done;
  if ((stage = malloc((size_t)CHUNK * in * sizeof(float))) == NULL) {
    st = ope_error_nomem(err);
    goto done;
  }
  size_t per = cont ? (size_t)(CHUNK / (K + 1)) : CHUNK;
  for (size_t s = 0; s < ds->n_steps; s += per) {
    size_t cnt = ds->n_steps - s < per ? ds->n_steps - s : per;
    int rows_per = cont ? K + 1 : 1; /* continuous: logged action, then K samples */
    for (size_t i = 0; i < cnt; i++) {
      size_t t = s + i;
      const double *obs = ds->obs + t * d;
      if (!cont) {
        make_input(M, obs, NULL, stage + i * in);
        continue;
      }
      make_input(M, obs, ds->action_vec + t * m, stage + i * rows_per * in);
      for (int k = 0; k < K; k++) {
        double a[OPE_MAX_ACTION_DIM];
        const double *ak = fresh ? a : w.row_act + (t * K + k) * m;
        if (fresh && (st = pi->ops->sample(pi, NULL, obs, &rng, a, err)) != OPE_OK)
          goto done;
        make_input(M, obs, ak, stage + (i * rows_per + 1 + k) * in);
      }
    }
    const float *q = ope_mlp_forward(M->q, ws, stage, (int)(cnt * rows_per));
    for (size_t i = 0; i < cnt; i++) {
      size_t t = s + i;
      double v = 0;
      if (cont) {
        out->q[t] = q[i * rows_per] * M->q_scale;
        for (int k = 0; k < K; k++) v += q[i * rows_per + 1 + k];
        v /= K;
      } else {
        out->q[t] = q[i * A + ds->action[t]] * M->q_scale;
        for (int a = 0; a < A; a++) v += scores->dist[t * A + a] * q[i * A + a];
      }
      out->v[t] = v * M->q_scale;
      if (!isfinite(out->q[t]) || !isfinite(out->v[t])) out->defined = 0;
    }
  }
  ope_qfit_finish_value(out, ds);
  if (!out->defined)
    snprintf(out->warning, sizeof out->warning,
             "neural FQE diverged (non-finite Q values)");
done:
  if (M->cfg.threads > 0) ope_gemm_set_threads(threads_before);
  walk_clear(&w);
  ope_mlp_ws_free(ws);
  free(stage);
  if (st != OPE_OK) ope_qfit_clear(out);
  return st;
}

const ope_fqe_neural_stats *ope_fqe_neural_get_stats(const ope_fqe_neural *m) {
  return &m->stats;
}

void ope_fqe_neural_free(ope_fqe_neural *m) {
  if (m == NULL) return;
  ope_norm_free(m->norm);
  ope_mlp_free(m->q);
  free(m);
}

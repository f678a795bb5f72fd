/* Decision Transformer training, export and policy; see dt.h.
 *
 * Training keeps the dataset's rows prepared once: normalized observations
 * and scaled (or one-hot) actions in float, each row's undiscounted return-
 * to-go and its timestep within the episode. A step draws `batch` windows,
 * runs the network (train/dt_model.h) with dropout on each shard of the
 * batch (one thread per shard when threads are given: the threads share
 * only read-only data and write their own buffers), takes the loss over
 * the real (unpadded) steps, adds the shards' gradients in shard order and
 * makes one AdamW step.
 *
 * The policy keeps, per episode, the last context-1 steps of its history
 * and the rewards received so far; a query appends the current step with
 * its return-to-go and reads the prediction at the last state token.
 * Scoring a whole dataset (ops->score) gets the same numbers faster: the
 * first `context` steps of an episode come from one forward of its prefix
 * (causality makes each prefix position equal to its own shorter window),
 * and later steps from batches of full windows. */
#include "train/dt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "data/numfmt.h"
#include "nn/gemm.h"
#include "nn/mlp.h"
#include "nn/norm.h"
#include "nn/optim.h"

/* Width of the carrier network's output (its weight block's row length). */
#define CARRIER_OUT 4096

/* A batch is split into this many shards of consecutive windows (fewer when
 * the batch is smaller), whatever the number of threads. */
#define SHARDS 4

void ope_dt_config_default(ope_dt_config *c, int small) {
  memset(c, 0, sizeof *c);
  c->n_layer = small ? 2 : 3;
  c->n_head = 1;
  c->n_embd = small ? 64 : 128;
  c->context = small ? 10 : 20;
  c->dropout = 0.1;
  c->batch = small ? 32 : 64;
  c->lr = small ? 3e-4 : 1e-4;
  c->weight_decay = 1e-4;
  c->clip = 0.25;
  c->warmup = small ? 200 : 10000;
  c->target_frac = 1.0;
  c->kernel_bw = 0.0;
}

const char *ope_dt_config_check(const ope_dt_config *c) {
  if (c->n_layer < 1 || c->n_layer > OPE_DT_MAX_LAYERS) return "n_layer must be 1 .. 16";
  if (c->n_embd < 1 || c->n_embd > OPE_DT_MAX_EMBD) return "n_embd must be 1 .. 4096";
  if (c->n_head < 1 || c->n_embd % c->n_head != 0)
    return "n_head must be >= 1 and divide n_embd";
  if (c->context < 1 || c->context > OPE_DT_MAX_CONTEXT) return "context must be 1 .. 1024";
  if (!(c->dropout >= 0 && c->dropout < 1)) return "dropout must be in [0, 1)";
  if (c->batch < 1 || c->batch > 65536) return "batch must be 1 .. 65536";
  if (!(c->lr > 0) || !(c->weight_decay >= 0) || !(c->clip >= 0))
    return "lr must be > 0, weight_decay and clip >= 0";
  if (c->warmup < 0) return "warmup must be >= 0";
  if (!isfinite(c->target_frac)) return "target_frac must be finite";
  if (!(c->kernel_bw >= 0) || !isfinite(c->kernel_bw)) return "kernel_bw must be >= 0";
  return NULL;
}

/* ---- small JSON writing helpers (C locale numbers) ---- */

/* Append text to the string in buf (size n); -1 when it does not fit. */
static int json_append(char *buf, size_t n, const char *text) {
  size_t used = strlen(buf);
  int w = snprintf(buf + used, n - used, "%s", text);
  return w < 0 || (size_t)w >= n - used ? -1 : 0;
}

static int json_put(char *buf, size_t n, const char *key, double v) {
  char num[OPE_NUMFMT_MAX];
  ope_numfmt_double(num, v);
  size_t used = strlen(buf);
  int w = snprintf(buf + used, n - used, "%s\"%s\":%s", used ? "," : "", key, num);
  return w < 0 || (size_t)w >= n - used ? -1 : 0;
}

int ope_dt_config_json(const ope_dt_config *c, char *buf, size_t n) {
  int r = 0;
  r |= json_put(buf, n, "n_layer", c->n_layer);
  r |= json_put(buf, n, "n_head", c->n_head);
  r |= json_put(buf, n, "n_embd", c->n_embd);
  r |= json_put(buf, n, "context", c->context);
  r |= json_put(buf, n, "dropout", c->dropout);
  r |= json_put(buf, n, "batch", c->batch);
  r |= json_put(buf, n, "lr", c->lr);
  r |= json_put(buf, n, "weight_decay", c->weight_decay);
  r |= json_put(buf, n, "clip", c->clip);
  r |= json_put(buf, n, "warmup", (double)c->warmup);
  r |= json_put(buf, n, "target_frac", c->target_frac);
  r |= json_put(buf, n, "kernel_bw", c->kernel_bw);
  return r ? -1 : 0;
}

/* ---- training ---- */

struct ope_dt {
  ope_dt_config cfg;
  ope_dt_layout L;
  const ope_dataset *ds;
  int discrete, d, m, A, ain, out;
  ope_mlp *carrier;        /* params/grads: the model's flat buffers */
  ope_adam *adam;
  ope_lr_schedule sched;
  int n_shards;
  struct dt_shard {        /* windows b0 .. b0+nb-1 of each batch */
    int b0, nb;
    ope_dt_ws_f *ws;
    float *grads;          /* (n_params); shard 0 uses the carrier's */
    ope_rng rng;           /* dropout masks */
    double loss;           /* summed over its valid slots */
  } shard[SHARDS];
  double loss_div;         /* the batch loss's divisor */
  ope_norm *norm;          /* observation normalization */
  double *act_scale;       /* (m) continuous */
  double target_return, rtg_scale, bandwidth;
  float *obs_n;            /* (n, d) normalized observations */
  float *act_n;            /* (n, ain) scaled actions or one-hot */
  double *rtg;             /* (n) undiscounted return-to-go of each row */
  int32_t *tstep;          /* (n) step within the episode, clipped */
  size_t *row_ep;          /* (n) episode of each row */
  /* one batch */
  float *b_rtg, *b_obs, *b_act, *b_dy;
  int32_t *b_ts;
  uint8_t *b_valid;
  int32_t *b_row;          /* (B*K) dataset row of each slot, -1 padding */
  ope_rng rng_draw;
  int64_t steps;
};

/* Return statistics and per-row return-to-go / timestep. */
static void prepare_rows(ope_dt *m, double *ret_min, double *ret_max,
                         int *max_len) {
  const ope_dataset *ds = m->ds;
  *ret_min = INFINITY, *ret_max = -INFINITY, *max_len = 1;
  for (size_t e = 0; e < ds->n_episodes; e++) {
    size_t a = ds->ep_offset[e], b = ds->ep_offset[e + 1];
    double g = 0;
    for (size_t r = b; r-- > a;) {
      g += ds->reward[r];
      m->rtg[r] = g;
    }
    if (b > a) {
      *ret_min = fmin(*ret_min, g);
      *ret_max = fmax(*ret_max, g);
    }
    if ((int)(b - a) > *max_len) *max_len = (int)(b - a);
    for (size_t r = a; r < b; r++) {
      m->tstep[r] = (int32_t)(r - a);
      m->row_ep[r] = e;
    }
  }
}

ope_status ope_dt_new(const ope_dataset *ds, const ope_dt_config *c,
                      uint64_t seed, ope_dt **out, ope_error *err) {
  *out = NULL;
  const char *why = ope_dt_config_check(c);
  if (why) return ope_error_set(err, OPE_EUSAGE, "dt", "%s", why);
  if (ds->n_steps == 0 || ds->n_episodes == 0)
    return ope_error_set(err, OPE_EDATA, ds->name, "dataset has no steps");
  ope_status st = OPE_OK;
  ope_dt *m = calloc(1, sizeof *m);
  if (m == NULL) return ope_error_nomem(err);
  m->cfg = *c;
  m->ds = ds;
  m->discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  m->d = ds->obs_dim;
  m->A = m->discrete ? ds->n_actions : 0;
  m->m = m->discrete ? 1 : ds->action_dim;
  m->ain = m->out = m->discrete ? m->A : m->m;
  size_t n = ds->n_steps, K = (size_t)c->context, BK = (size_t)c->batch * K;
  m->obs_n = malloc(n * (size_t)m->d * sizeof(float));
  m->act_n = calloc(n * (size_t)m->ain, sizeof(float));
  m->rtg = malloc(n * sizeof(double));
  m->tstep = malloc(n * sizeof(int32_t));
  m->row_ep = malloc(n * sizeof(size_t));
  m->act_scale = calloc((size_t)m->m, sizeof(double));
  m->b_rtg = malloc(BK * sizeof(float));
  m->b_obs = malloc(BK * (size_t)m->d * sizeof(float));
  m->b_act = malloc(BK * (size_t)m->ain * sizeof(float));
  m->b_dy = malloc(BK * (size_t)m->out * sizeof(float));
  m->b_ts = malloc(BK * sizeof(int32_t));
  m->b_valid = malloc(BK);
  m->b_row = malloc(BK * sizeof(int32_t));
  if (!m->obs_n || !m->act_n || !m->rtg || !m->tstep || !m->row_ep ||
      !m->act_scale || !m->b_rtg || !m->b_obs || !m->b_act || !m->b_dy ||
      !m->b_ts || !m->b_valid || !m->b_row) {
    st = ope_error_nomem(err);
    goto fail;
  }
  if (n > INT32_MAX) {
    st = ope_error_set(err, OPE_EUSAGE, ds->name, "dataset too large for DT training");
    goto fail;
  }

  // observations: standardized by the dataset's mean and std
  if ((st = ope_norm_new(m->d, &m->norm, err)) != OPE_OK) goto fail;
  ope_norm_fit(m->norm, ds->obs, n, (size_t)m->d);
  ope_norm_apply(m->norm, ds->obs, n, (size_t)m->d, m->obs_n, (size_t)m->d);
  // actions: one-hot, or divided by the largest logged magnitude
  if (m->discrete) {
    for (size_t r = 0; r < n; r++) m->act_n[r * m->A + ds->action[r]] = 1.0f;
  } else {
    for (int j = 0; j < m->m; j++) {
      double s = 0;
      for (size_t r = 0; r < n; r++) s = fmax(s, fabs(ds->action_vec[r * m->m + j]));
      m->act_scale[j] = s > 1e-12 ? s : 1.0;
    }
    for (size_t r = 0; r < n; r++)
      for (int j = 0; j < m->m; j++)
        m->act_n[r * m->m + j] = (float)(ds->action_vec[r * m->m + j] / m->act_scale[j]);
  }
  if (!m->discrete) {
    double mean_scale = 0;
    for (int j = 0; j < m->m; j++) mean_scale += m->act_scale[j] / m->m;
    m->bandwidth = c->kernel_bw > 0 ? c->kernel_bw : 0.1 * mean_scale;
  }
  double rmin, rmax;
  int max_len;
  prepare_rows(m, &rmin, &rmax, &max_len);
  m->target_return = rmin + c->target_frac * (rmax - rmin);
  m->rtg_scale = fmax(1.0, fmax(fabs(rmin), fabs(rmax)));
  for (size_t r = 0; r < n; r++)
    if (m->tstep[r] >= max_len) m->tstep[r] = max_len - 1;

  ope_dt_arch a = {m->d, m->ain, m->out, c->n_layer, c->n_head, c->n_embd,
                   c->context, max_len};
  if ((why = ope_dt_arch_check(&a)) != NULL) {
    st = ope_error_set(err, OPE_EUSAGE, "dt", "%s", why);
    goto fail;
  }
  ope_dt_layout_make(&m->L, &a);
  // the carrier: a linear network whose weight block holds the parameters
  ope_mlp_config mc;
  size_t np = m->L.n_params;
  int cout = np < CARRIER_OUT ? (int)np : CARRIER_OUT;
  size_t rows = (np + (size_t)cout - 1) / (size_t)cout;
  ope_mlp_config_make(&mc, rows > 1 ? (int)rows - 1 : 1, 0, 0, cout, OPE_ACT_RELU);
  if ((st = ope_mlp_new(&mc, &m->carrier, err)) != OPE_OK) goto fail;
  ope_rng init;
  ope_rng_seed(&init, seed, 2);
  ope_dt_init(&m->L, m->carrier->params, &init);
  ope_rng_seed(&m->rng_draw, seed, 0);

  ope_adam_config ac;
  ope_adam_config_default(&ac);
  ac.lr = c->lr;
  ac.weight_decay = c->weight_decay;
  ac.decoupled = 1;
  ac.clip_norm = c->clip;
  if ((st = ope_adam_new(&ac, np, &m->adam, err)) != OPE_OK) goto fail;
  m->sched.kind = OPE_LR_CONSTANT;
  m->sched.base = c->lr;
  m->sched.warmup = c->warmup;
  m->n_shards = c->batch < SHARDS ? c->batch : SHARDS;
  for (int k = 0; k < m->n_shards; k++) {
    struct dt_shard *sh = &m->shard[k];
    sh->b0 = c->batch * k / m->n_shards;
    sh->nb = c->batch * (k + 1) / m->n_shards - sh->b0;
    ope_rng_seed(&sh->rng, seed, 3 + (uint64_t)k);
    if ((st = ope_dt_ws_new_f(&m->L, sh->nb, &sh->ws, err)) != OPE_OK) goto fail;
    sh->grads = k ? malloc(np * sizeof(float)) : m->carrier->grads;
    if (sh->grads == NULL) {
      st = ope_error_nomem(err);
      goto fail;
    }
  }
  *out = m;
  return OPE_OK;
fail:
  ope_dt_free(m);
  return st;
}

void ope_dt_free(ope_dt *m) {
  if (m == NULL) return;
  ope_mlp_free(m->carrier);
  ope_adam_free(m->adam);
  for (int k = 0; k < m->n_shards; k++) {
    ope_dt_ws_free_f(m->shard[k].ws);
    if (k) free(m->shard[k].grads);
  }
  ope_norm_free(m->norm);
  free(m->act_scale);
  free(m->obs_n);
  free(m->act_n);
  free(m->rtg);
  free(m->tstep);
  free(m->row_ep);
  free(m->b_rtg);
  free(m->b_obs);
  free(m->b_act);
  free(m->b_dy);
  free(m->b_ts);
  free(m->b_valid);
  free(m->b_row);
  free(m);
}

int64_t ope_dt_steps(const ope_dt *m) { return m->steps; }
const ope_dt_layout *ope_dt_layout_of(const ope_dt *m) { return &m->L; }

/* Draw the batch's windows: a row uniformly (so episodes in proportion to
 * their length), then a start uniformly within that row's episode. */
static void draw_batch(ope_dt *m) {
  const ope_dataset *ds = m->ds;
  int K = m->cfg.context, B = m->cfg.batch, d = m->d, w = m->ain;
  for (int b = 0; b < B; b++) {
    size_t e = m->row_ep[ope_rng_below(&m->rng_draw, ds->n_steps)];
    size_t a = ds->ep_offset[e], len = ope_dataset_ep_len(ds, e);
    size_t si = a + ope_rng_below(&m->rng_draw, len);
    for (int k = 0; k < K; k++) {
      size_t s = (size_t)b * K + k, r = si + (size_t)k;
      if (r < a + len) {
        m->b_row[s] = (int32_t)r;
        m->b_valid[s] = 1;
        m->b_rtg[s] = (float)(m->rtg[r] / m->rtg_scale);
        memcpy(m->b_obs + s * d, m->obs_n + r * d, (size_t)d * sizeof(float));
        memcpy(m->b_act + s * w, m->act_n + r * w, (size_t)w * sizeof(float));
        m->b_ts[s] = m->tstep[r];
      } else {  // right padding: invisible to earlier tokens
        m->b_row[s] = -1;
        m->b_valid[s] = 0;
        m->b_rtg[s] = 0;
        memset(m->b_obs + s * d, 0, (size_t)d * sizeof(float));
        memset(m->b_act + s * w, 0, (size_t)w * sizeof(float));
        m->b_ts[s] = 0;
      }
    }
  }
}

/* Loss of slots s0 .. s0+n-1 (those that are valid) and its gradient dy
 * there, the loss being the sum over the batch's valid slots divided by
 * m->loss_div; returns the part of the sum. Continuous: the mean over
 * slots and dimensions of (tanh(y) - a)^2 (Chen et al. 2021, Algorithm 1,
 * the mean-squared action error). Discrete: the mean cross-entropy
 * -log softmax(y)[a] (the paper's Atari loss). y (n, out) belongs to the
 * slots. */
static double slots_loss(const ope_dt *m, const float *y, int s0, int n) {
  int o = m->out;
  double loss = 0, div = m->loss_div;
  memset(m->b_dy + (size_t)s0 * o, 0, (size_t)n * o * sizeof(float));
  for (int s = s0; s < s0 + n; s++) {
    if (!m->b_valid[s]) continue;
    const float *ys = y + (size_t)(s - s0) * o;
    float *dy = m->b_dy + (size_t)s * o;
    const float *tgt = m->act_n + (size_t)m->b_row[s] * o;
    if (m->discrete) {
      double mx = ys[0], sum = 0;
      for (int j = 1; j < o; j++) mx = fmax(mx, ys[j]);
      for (int j = 0; j < o; j++) sum += exp(ys[j] - mx);
      int a = m->ds->action[m->b_row[s]];
      loss -= ys[a] - mx - log(sum);
      for (int j = 0; j < o; j++)
        dy[j] = (float)((exp(ys[j] - mx) / sum - (j == a)) / div);
    } else {
      for (int j = 0; j < o; j++) {
        double p = tanh(ys[j]), e = p - tgt[j];
        loss += e * e;
        dy[j] = (float)(2.0 * e * (1.0 - p * p) / div);
      }
    }
  }
  return loss;
}

/* Forward, loss and backward of shard k into its own gradient buffer. The
 * shards share only read-only data (parameters, the batch), so they may run
 * on different threads at once. */
static void run_shard(ope_dt *m, int k) {
  struct dt_shard *sh = &m->shard[k];
  int K = m->cfg.context;
  size_t s0 = (size_t)sh->b0 * K;
  const float *params = m->carrier->params;
  const float *y = ope_dt_forward_f(&m->L, params, sh->ws, m->b_rtg + s0,
                                    m->b_obs + s0 * m->d, m->b_act + s0 * m->ain,
                                    m->b_ts + s0, sh->nb, K, m->cfg.dropout,
                                    &sh->rng);
  sh->loss = slots_loss(m, y, (int)s0, sh->nb * K);
  memset(sh->grads, 0, m->L.n_params * sizeof(float));
  ope_dt_backward_f(&m->L, params, sh->grads, sh->ws, m->b_dy + s0 * m->out);
}

/* Part j of nt of a parallel phase. */
typedef struct shard_job {
  ope_dt *m;
  int j, nt;
} shard_job;

/* Phase 1: part j runs shards j, j + nt, ... */
static void *shards_part(void *arg) {
  shard_job *p = arg;
  for (int k = p->j; k < p->m->n_shards; k += p->nt) run_shard(p->m, k);
  return NULL;
}

/* Phase 2: part j adds up its range of the parameters' gradients, each
 * element in shard order, into shard 0's buffer (the carrier's). */
static void *reduce_part(void *arg) {
  shard_job *p = arg;
  const ope_dt *m = p->m;
  size_t n = m->L.n_params;
  size_t lo = n * (size_t)p->j / (size_t)p->nt, hi = n * (size_t)(p->j + 1) / (size_t)p->nt;
  float *g0 = m->shard[0].grads;
  for (int k = 1; k < m->n_shards; k++) {
    const float *g = m->shard[k].grads;
    for (size_t i = lo; i < hi; i++) g0[i] += g[i];
  }
  return NULL;
}

/* Run fn's nt parts, part 0 on the calling thread, and wait for them; a
 * part whose thread cannot be started runs on the calling thread. */
static void run_parts(ope_dt *m, int nt, void *(*fn)(void *)) {
  shard_job job[SHARDS];
  for (int j = 0; j < nt; j++) job[j] = (shard_job){m, j, nt};
  ope_parallel_run(fn, job, sizeof *job, nt);
}

ope_status ope_dt_step(ope_dt *m, double *loss, ope_error *err) {
  (void)err;
  int BK = m->cfg.batch * m->cfg.context;
  float *params = m->carrier->params, *grads = m->carrier->grads;
  draw_batch(m);
  size_t nv = 0;
  for (int s = 0; s < BK; s++) nv += m->b_valid[s];
  if (nv == 0) nv = 1;
  m->loss_div = m->discrete ? (double)nv : (double)nv * m->out;
  // Every shard, then the batch's gradient (shard 0's plus the others, in
  // order), on up to as many threads as the BLAS was given; the products
  // then run on one BLAS thread each. Shards, their random streams and the
  // order of the sums are the same for any thread count, so the bytes are.
  int threads = ope_gemm_threads(), nt = threads;
  if (nt > m->n_shards) nt = m->n_shards;
  if (nt < 1) nt = 1;
  if (nt > 1) ope_gemm_set_threads(1);
  run_parts(m, nt, shards_part);
  if (m->n_shards > 1) run_parts(m, nt, reduce_part);
  if (nt > 1) ope_gemm_set_threads(threads);
  double l = 0;
  for (int k = 0; k < m->n_shards; k++) l += m->shard[k].loss;
  // AdamW with linear warmup (Loshchilov & Hutter 2019, Algorithm 2)
  ope_adam_step(m->adam, params, grads, ope_lr_at(&m->sched, m->steps));
  m->steps++;
  if (loss) *loss = l / m->loss_div;
  return OPE_OK;
}

ope_status ope_dt_export(ope_dt *m, ope_ckpt *ck, char *head, size_t hsize,
                         ope_error *err) {
  if (ck->n_nets >= OPE_CKPT_MAX_NETS)
    return ope_error_set(err, OPE_EUSAGE, "dt", "checkpoint has no room for the model");
  int k = ck->n_nets++;
  snprintf(ck->name[k], sizeof ck->name[k], "dt");
  ck->net[k] = m->carrier;
  ck->obs_norm = m->norm;
  const ope_dt_arch *a = &m->L.a;
  size_t used = strlen(head);
  int w = snprintf(head + used, hsize - used,
                   "%s\"head\":\"dt\",\"dt_arch\":[%d,%d,%d,%d,%d]",
                   used ? "," : "", a->n_layer, a->n_head, a->n_embd,
                   a->context, a->max_ep_len);
  int r = w < 0 || (size_t)w >= hsize - used ? -1 : 0;
  if (r == 0) r |= json_put(head, hsize, "target_return", m->target_return);
  if (r == 0) r |= json_put(head, hsize, "rtg_scale", m->rtg_scale);
  if (r == 0 && !m->discrete) r |= json_put(head, hsize, "bandwidth", m->bandwidth);
  if (r) return ope_error_set(err, OPE_EUSAGE, "dt", "settings text too long");
  return OPE_OK;
}

int ope_dt_data_json(const ope_dt *m, char *buf, size_t n) {
  if (json_put(buf, n, "obs_dim", m->d)) return -1;
  if (m->discrete) return json_put(buf, n, "n_actions", m->A);
  if (json_append(buf, n, ",\"action_scale\":[")) return -1;
  for (int j = 0; j < m->m; j++) {
    char num[OPE_NUMFMT_MAX];
    ope_numfmt_double(num, m->act_scale[j]);
    if (json_append(buf, n, j ? "," : "") || json_append(buf, n, num)) return -1;
  }
  return json_append(buf, n, "]");
}

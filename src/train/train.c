/* The algorithm table, settings and the training run (train.h). */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/numfmt.h"

extern const ope_train_algo ope_train_algo_bc, ope_train_algo_cql,
    ope_train_algo_iql, ope_train_algo_td3bc, ope_train_algo_bcq,
    ope_train_algo_dt;

const ope_train_algo *const ope_train_algos[] = {
  &ope_train_algo_bc, &ope_train_algo_cql, &ope_train_algo_iql,
  &ope_train_algo_td3bc, &ope_train_algo_bcq, &ope_train_algo_dt, NULL,
};

const ope_train_algo *ope_train_algo_find(const char *name) {
  for (int i = 0; ope_train_algos[i]; i++)
    if (strcmp(ope_train_algos[i]->name, name) == 0) return ope_train_algos[i];
  return NULL;
}

/* Sizes and rates of the papers (2 x 256 ReLU, Adam 3e-4, batch 256,
 * gamma 0.99, Polyak 0.005; Fujimoto & Gu 2021, Kostrikov et al. 2021,
 * Kumar et al. 2020 appendix F); the small preset is for two cores. */
const ope_train_param ope_train_common_params[] = {
  {"batch", 256, NAN, 64, 1, 65536, 1, "minibatch size"},
  {"hidden", 256, NAN, 64, 1, 4096, 1, "width of every hidden layer"},
  {"layers", 2, NAN, 2, 1, 8, 1, "hidden layers per network"},
  {"lr", 3e-4, NAN, 1e-3, 0, 1, 0, "Adam learning rate (critics; actors unless actor_lr)"},
  {"gamma", 0.99, NAN, NAN, 0, 1, 0, "discount"},
  {"tau", 0.005, NAN, NAN, 0, 1, 0, "Polyak rate of target networks"},
  {"reward_scale", 1, NAN, NAN, 1e-12, 1e12, 0, "rewards are divided by this"},
};
const int ope_train_n_common_params =
    (int)(sizeof ope_train_common_params / sizeof ope_train_common_params[0]);

static void put(ope_train_settings *set, const ope_train_param *p, int discrete,
                int small) {
  if (set->n >= OPE_TRAIN_MAX_SETTINGS) return;
  double v = discrete && !isnan(p->def_discrete) ? p->def_discrete : p->def;
  if (small && !isnan(p->small)) v = p->small;
  /* An algorithm may restate a common key with its own paper default. */
  for (int i = 0; i < set->n; i++)
    if (strcmp(set->key[i], p->key) == 0) {
      set->val[i] = v;
      return;
    }
  set->key[set->n] = p->key;
  set->val[set->n++] = v;
}

void ope_train_settings_init(ope_train_settings *set,
                             const ope_train_algo *algo, int discrete,
                             int small) {
  set->n = 0;
  for (int i = 0; i < ope_train_n_common_params; i++)
    put(set, &ope_train_common_params[i], discrete, small);
  for (int i = 0; i < algo->n_params; i++)
    put(set, &algo->params[i], discrete, small);
}

static const ope_train_param *param_of(const ope_train_algo *algo,
                                       const char *key) {
  for (int i = 0; i < algo->n_params; i++)
    if (strcmp(algo->params[i].key, key) == 0) return &algo->params[i];
  for (int i = 0; i < ope_train_n_common_params; i++)
    if (strcmp(ope_train_common_params[i].key, key) == 0)
      return &ope_train_common_params[i];
  return NULL;
}

ope_status ope_train_settings_set(ope_train_settings *set,
                                  const ope_train_algo *algo, const char *key,
                                  const char *text, ope_error *err) {
  const ope_train_param *p = param_of(algo, key);
  if (p == NULL)
    return ope_error_set(err, OPE_EUSAGE, key, "not a setting of %s (see ope train --help)",
                         algo->name);
  char *end;
  double v = strtod(text, &end);
  if (end == text || *end != 0 || !isfinite(v) || v < p->lo || v > p->hi)
    return ope_error_set(err, OPE_EUSAGE, key, "'%s' is not a number in [%g, %g]",
                         text, p->lo, p->hi);
  if (p->integer && v != floor(v))
    return ope_error_set(err, OPE_EUSAGE, key, "'%s' is not a whole number", text);
  for (int i = 0; i < set->n; i++)
    if (strcmp(set->key[i], key) == 0) set->val[i] = v;
  return OPE_OK;
}

double ope_train_get(const ope_train_settings *set, const char *key) {
  for (int i = 0; i < set->n; i++)
    if (strcmp(set->key[i], key) == 0) return set->val[i];
  return NAN;
}

int ope_train_geti(const ope_train_settings *set, const char *key) {
  return (int)lround(ope_train_get(set, key));
}

int ope_train_settings_json(const ope_train_settings *set, char *buf,
                            size_t n) {
  size_t used = strlen(buf);
  for (int i = 0; i < set->n; i++) {
    char num[OPE_NUMFMT_MAX];
    ope_numfmt_double(num, set->val[i]);
    int w = snprintf(buf + used, n - used, "%s\"%s\":%s",
                     used && buf[used - 1] != '{' ? "," : "", set->key[i], num);
    if (w < 0 || (size_t)w >= n - used) return -1;
    used += (size_t)w;
  }
  return 0;
}

/* ---- a run ---- */

#define MAX_INTERVALS 4096

struct ope_train_run {
  const ope_train_algo *algo;
  const ope_dataset *ds;
  ope_train_settings set;
  uint64_t seed;
  ope_train_replay *rb;
  void *state;
  ope_rng rng;
  int64_t steps;
  double sum[OPE_TRAIN_MAX_LOSSES];  /* losses since the last checkpoint */
  int64_t count;
  int n_iv;                           /* checkpoint intervals so far */
  int64_t iv_step[MAX_INTERVALS];
  double iv_loss[MAX_INTERVALS][OPE_TRAIN_MAX_LOSSES];
};

ope_status ope_train_run_new(const ope_train_algo *algo,
                             const ope_dataset *ds,
                             const ope_train_settings *set, uint64_t seed,
                             ope_train_run **out, ope_error *err) {
  *out = NULL;
  int discrete = ds->action_kind == OPE_ACTION_DISCRETE;
  if (discrete ? !algo->discrete : !algo->continuous)
    return ope_error_set(err, OPE_EUSAGE, algo->name,
                         "%s is not defined for %s actions (dataset %s)", algo->name,
                         discrete ? "discrete" : "continuous", ds->name ? ds->name : "");
  ope_train_run *r = calloc(1, sizeof *r);
  if (r == NULL) return ope_error_nomem(err);
  r->algo = algo;
  r->ds = ds;
  r->set = *set;
  r->seed = seed;
  double scale = ope_train_get(set, "reward_scale");
  if (ope_train_get(set, "reward_norm") == 1.0) {
    /* Kostrikov et al. 2021, appendix B: rewards divided by the range of
     * the episodes' (undiscounted) returns, times 1000 */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t e = 0; e < ds->n_episodes; e++) {
      double g = ope_dataset_return(ds, e, 1.0);
      lo = g < lo ? g : lo;
      hi = g > hi ? g : hi;
    }
    if (hi - lo > 1e-12) scale *= (hi - lo) / 1000.0;
  }
  ope_status st = ope_train_replay_new(ds, scale, &r->rb, err);
  if (st != OPE_OK) goto fail;
  /* Stream 0 initializes the networks, stream 1 drives the updates. */
  ope_rng init;
  ope_rng_seed(&init, seed, 0);
  ope_rng_seed(&r->rng, seed, 1);
  ope_train_setup su = {.ds = ds, .rb = r->rb, .set = &r->set, .rng = &init};
  if ((st = algo->create(&su, &r->state, err)) != OPE_OK) goto fail;
  *out = r;
  return OPE_OK;
fail:
  ope_train_run_free(r);
  return st;
}

void ope_train_run_free(ope_train_run *r) {
  if (r == NULL) return;
  if (r->state) r->algo->destroy(r->state);
  ope_train_replay_free(r->rb);
  free(r);
}

ope_status ope_train_step(ope_train_run *r, ope_error *err) {
  double l[OPE_TRAIN_MAX_LOSSES] = {0};
  ope_status st = r->algo->update(r->state, &r->rng, l, err);
  if (st != OPE_OK) return st;
  for (int k = 0; k < OPE_TRAIN_MAX_LOSSES; k++) {
    if (!isfinite(l[k]))
      return ope_error_set(err, OPE_EDATA, r->algo->name,
                           "loss %s is not finite at step %lld (try a smaller lr or "
                           "a larger reward_scale)", r->algo->loss_name[k]
                           ? r->algo->loss_name[k] : "?", (long long)r->steps + 1);
    r->sum[k] += l[k];
  }
  r->count++;
  r->steps++;
  return OPE_OK;
}

int64_t ope_train_steps_done(const ope_train_run *r) { return r->steps; }

/* Append s, preceded by sep, to buf (size n, *used bytes so far). */
static int append(char *buf, size_t n, size_t *used, const char *sep,
                  const char *s) {
  int w = snprintf(buf + *used, n - *used, "%s%s", sep, s);
  if (w < 0 || (size_t)w >= n - *used) return -1;
  *used += (size_t)w;
  return 0;
}

/* The summary: {"steps":N,"curve":{"step":[..],"LOSS":[..],...}}. */
static char *summary_json(const ope_train_run *r) {
  size_t n = 256 + (size_t)r->n_iv * 32 * (OPE_TRAIN_MAX_LOSSES + 1), used = 0;
  char *buf = malloc(n), num[OPE_NUMFMT_MAX];
  if (buf == NULL) return NULL;
  ope_numfmt_int(num, (long long)r->steps);
  int bad = append(buf, n, &used, "{\"steps\":", num);
  if (!bad) bad = append(buf, n, &used, "", ",\"curve\":{\"step\":[");
  for (int i = 0; i < r->n_iv && !bad; i++) {
    ope_numfmt_int(num, (long long)r->iv_step[i]);
    bad = append(buf, n, &used, i ? "," : "", num);
  }
  for (int k = 0; k < OPE_TRAIN_MAX_LOSSES && r->algo->loss_name[k] && !bad; k++) {
    bad = append(buf, n, &used, "],\"", r->algo->loss_name[k]);
    if (!bad) bad = append(buf, n, &used, "", "\":[");
    for (int i = 0; i < r->n_iv && !bad; i++) {
      ope_numfmt_double(num, r->iv_loss[i][k]);
      bad = append(buf, n, &used, i ? "," : "", num);
    }
  }
  if (!bad) bad = append(buf, n, &used, "", "]}}");
  if (bad) {
    free(buf);
    return NULL;
  }
  return buf;
}

ope_status ope_train_checkpoint(ope_train_run *r, uint8_t **blob,
                                size_t *len, char **settings_json,
                                char **summary, ope_error *err) {
  *blob = NULL;
  *settings_json = *summary = NULL;
  *len = 0;
  if (r->count > 0 && r->n_iv < MAX_INTERVALS) {
    r->iv_step[r->n_iv] = r->steps;
    for (int k = 0; k < OPE_TRAIN_MAX_LOSSES; k++)
      r->iv_loss[r->n_iv][k] = r->sum[k] / (double)r->count;
    r->n_iv++;
  }
  memset(r->sum, 0, sizeof r->sum);
  r->count = 0;

  size_t n = 16384;
  char *js = malloc(n), head[2048] = "", num[OPE_NUMFMT_MAX];
  ope_ckpt ck = {0};
  ope_status st = OPE_OK;
  if (js == NULL) return ope_error_nomem(err);
  const ope_train_replay *rb = r->rb;
  int w = snprintf(js, n, "{\"algo\":\"%s\",\"seed\":%llu,\"step\":%lld,\"obs_dim\":%d",
                   r->algo->name, (unsigned long long)r->seed, (long long)r->steps, rb->d);
  size_t used = (size_t)w;
  if (rb->discrete) {
    used += (size_t)snprintf(js + used, n - used, ",\"n_actions\":%d", rb->A);
  } else {
    used += (size_t)snprintf(js + used, n - used, ",\"action_scale\":[");
    for (int j = 0; j < rb->m && used < n - 64; j++) {
      ope_numfmt_double(num, rb->act_scale[j]);
      used += (size_t)snprintf(js + used, n - used, "%s%s", j ? "," : "", num);
    }
    used += (size_t)snprintf(js + used, n - used, "]");
  }
  if ((st = r->algo->export_nets(r->state, &ck, head, sizeof head, err)) != OPE_OK)
    goto fail;
  if (used + strlen(head) + 8 >= n) goto toolong;
  used += (size_t)snprintf(js + used, n - used, "%s%s", head[0] ? "," : "", head);
  if (ope_train_settings_json(&r->set, js, n - 2) != 0) goto toolong;
  strcat(js, "}");
  ck.settings = js;
  ck.obs_norm = rb->norm;
  ck.reward_shift = 0;
  ck.reward_scale = rb->reward_scale;
  if ((st = ope_ckpt_save(&ck, blob, len, err)) != OPE_OK) goto fail;
  if ((*summary = summary_json(r)) == NULL) {
    free(*blob);
    *blob = NULL;
    st = ope_error_nomem(err);
    goto fail;
  }
  *settings_json = js;
  return OPE_OK;
toolong:
  st = ope_error_set(err, OPE_EINTERNAL, r->algo->name, "settings text too long");
fail:
  free(js);
  return st;
}

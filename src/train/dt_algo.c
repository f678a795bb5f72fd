/* The Decision Transformer as an entry of the trainer's algorithm table
 * (train.h): its settings with the paper's defaults (Chen et al. 2021,
 * appendix, the OpenAI Gym settings) and the small preset, and the four
 * functions that map onto train/dt.h. The common keys batch and lr are
 * restated with DT's own defaults; hidden, layers, gamma, tau and
 * reward_scale do not apply (the transformer's sizes are n_embd, n_layer,
 * n_head; returns-to-go are undiscounted and scaled by the largest logged
 * return magnitude). */
#include <math.h>
#include <stdlib.h>

#include "train/dt.h"
#include "train/train.h"

static const ope_train_param dt_params[] = {
  {"batch", 64, NAN, 32, 1, 65536, 1, "windows per gradient step"},
  {"lr", 1e-4, NAN, 3e-4, 1e-12, 1, 0, "AdamW learning rate after warmup"},
  {"n_layer", 3, NAN, 2, 1, OPE_DT_MAX_LAYERS, 1, "transformer blocks"},
  {"n_head", 1, NAN, NAN, 1, 64, 1, "attention heads (divides n_embd)"},
  {"n_embd", 128, NAN, 64, 1, OPE_DT_MAX_EMBD, 1, "embedding width"},
  {"context", 20, NAN, 10, 1, OPE_DT_MAX_CONTEXT, 1, "steps per window K (3K tokens)"},
  {"dropout", 0.1, NAN, NAN, 0, 0.99, 0, "dropout rate"},
  {"weight_decay", 1e-4, NAN, NAN, 0, 1, 0, "AdamW weight decay"},
  {"clip", 0.25, NAN, NAN, 0, 1e6, 0, "gradient-norm clip (0: none)"},
  {"warmup", 10000, NAN, 200, 0, 1e9, 1, "linear learning-rate warmup steps"},
  {"target_frac", 1, NAN, NAN, -10, 10, 0,
   "target return = min + target_frac (max - min) of the logged returns"},
  {"kernel_bw", 0, NAN, NAN, 0, 1e6, 0,
   "OPE kernel bandwidth in action units (0: 0.1 x mean action scale)"},
};

static void dt_destroy(void *state) { ope_dt_free(state); }

static ope_status dt_create(const ope_train_setup *su, void **state,
                            ope_error *err) {
  const ope_train_settings *s = su->set;
  ope_dt_config c;
  ope_dt_config_default(&c, 0);
  c.batch = ope_train_geti(s, "batch");
  c.lr = ope_train_get(s, "lr");
  c.n_layer = ope_train_geti(s, "n_layer");
  c.n_head = ope_train_geti(s, "n_head");
  c.n_embd = ope_train_geti(s, "n_embd");
  c.context = ope_train_geti(s, "context");
  c.dropout = ope_train_get(s, "dropout");
  c.weight_decay = ope_train_get(s, "weight_decay");
  c.clip = ope_train_get(s, "clip");
  c.warmup = (int64_t)ope_train_get(s, "warmup");
  c.target_frac = ope_train_get(s, "target_frac");
  c.kernel_bw = ope_train_get(s, "kernel_bw");
  /* one draw of the setup's stream seeds the model's own streams */
  return ope_dt_new(su->ds, &c, ope_rng_u64(su->rng), (ope_dt **)state, err);
}

static ope_status dt_update(void *state, ope_rng *rng, double *losses,
                            ope_error *err) {
  (void)rng; /* windows and dropout come from the model's own streams */
  return ope_dt_step(state, &losses[0], err);
}

static ope_status dt_export(void *state, ope_ckpt *ck, char *head,
                            size_t hsize, ope_error *err) {
  return ope_dt_export(state, ck, head, hsize, err);
}

const ope_train_algo ope_train_algo_dt = {
  .name = "dt",
  .summary = "Decision Transformer (return-conditioned causal transformer)",
  .discrete = 1, .continuous = 1,
  .params = dt_params,
  .n_params = (int)(sizeof dt_params / sizeof dt_params[0]),
  .loss_name = {"action"},
  .create = dt_create, .update = dt_update, .export_nets = dt_export,
  .destroy = dt_destroy,
};

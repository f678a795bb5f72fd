/* The Decision Transformer (Chen et al. 2021, "Decision Transformer:
 * Reinforcement Learning via Sequence Modeling"): training on a logged
 * dataset, its checkpoints, and its policy.
 *
 * No value function: a causal transformer (train/dt_model.h) learns to
 * predict the logged action from the preceding returns-to-go, states and
 * actions of a window of `context` steps. Training (section 3, Algorithm 1)
 * draws windows at random (episodes in proportion to their length, the
 * start uniform within the episode; windows that run past the episode's end
 * are padded on the right, which causal attention makes harmless) and
 * minimizes the mean squared error of tanh-squashed actions (continuous,
 * actions divided per dimension by the largest logged magnitude) or the
 * cross-entropy of the softmax over actions (discrete). AdamW (Loshchilov &
 * Hutter 2019) with linear warmup and global-norm clipping, as the paper.
 * A batch is cut into a fixed number of shards of consecutive windows, each
 * with its own dropout stream and gradient buffer, summed in shard order;
 * the shards run on as many threads as the BLAS was given
 * (ope_gemm_set_threads), so the bytes are the same for any thread count.
 *
 * As a policy it is conditioned on a target return R_0, a recorded
 * setting: target_frac places it in the logged range, R_0 = min + frac (max
 * - min) over the dataset's undiscounted episode returns (default 1: the
 * best logged return). Along an episode the return-to-go is R_0 minus the
 * rewards received so far (section 3, "evaluation"), both when scoring a
 * logged trajectory (the logged rewards) and in rollouts (the rewards as
 * they come), and the window is the last `context` steps of the history.
 * Discrete actions: the softmax probabilities. Continuous actions: the
 * policy is deterministic (the predicted action) and its density is the
 * Gaussian kernel of the recorded `bandwidth` around it (ARCHITECTURE.md).
 *
 * Checkpoints use the common container (nn/checkpoint.h): the model's flat
 * parameter buffer travels as the weight block of one linear network named
 * "dt" (n_hidden 0; the container stores float blocks with checked sizes,
 * and any tail beyond the model's parameters is zero), the observation
 * normalization as the container's, and the architecture and policy
 * numbers as members of the settings JSON (see ope_dt_export). */
#ifndef OPE_TRAIN_DT_H
#define OPE_TRAIN_DT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "policy/policy.h"
#include "train/dt_model.h"

typedef struct ope_dt_config {
  int n_layer;          /* GPT blocks (paper: 3) */
  int n_head;           /* attention heads (paper: 1) */
  int n_embd;           /* width C (paper: 128) */
  int context;          /* K steps per window (paper: 20) */
  double dropout;       /* paper: 0.1 */
  int batch;            /* windows per step (paper: 64) */
  double lr;            /* paper: 1e-4 */
  double weight_decay;  /* AdamW decay (paper: 1e-4) */
  double clip;          /* global gradient norm (paper: 0.25) */
  int64_t warmup;       /* linear warmup steps (paper: 10000) */
  double target_frac;   /* target return within the logged range (1) */
  double kernel_bw;     /* continuous: kernel width in action units;
                           0: 0.1 x the mean action scale */
} ope_dt_config;

/* The paper's settings for its OpenAI Gym experiments (Chen et al. 2021,
 * appendix: 3 blocks, 1 head, width 128, context 20, dropout 0.1, batch
 * 64, lr 1e-4, weight decay 1e-4, clip 0.25; warmup 10^4 steps as in the
 * authors' released code), or with
 * small != 0 the quick preset for two cores (2 blocks, 64 wide, context
 * 10, batch 32, lr 3e-4, warmup 200). */
void ope_dt_config_default(ope_dt_config *c, int small);

/* NULL when c is acceptable, else what is wrong. */
const char *ope_dt_config_check(const ope_dt_config *c);

/* A training run: the model, its optimizer and the dataset's prepared
 * windows. */
typedef struct ope_dt ope_dt;

/* Prepare training of a fresh model on ds (kept by pointer: it must outlive
 * the run) with settings c; seed decides initialization, window draws and
 * dropout. OPE_EUSAGE for bad settings, OPE_EDATA for an empty dataset. */
ope_status ope_dt_new(const ope_dataset *ds, const ope_dt_config *c,
                      uint64_t seed, ope_dt **out, ope_error *err);
void ope_dt_free(ope_dt *m); /* NULL is a no-op */

/* One AdamW step on a fresh batch; *loss receives the batch's loss (MSE of
 * scaled actions, or cross-entropy). With ope_gemm_threads() = T > 1 it
 * runs on up to T threads, setting the BLAS to one thread meanwhile and
 * back to T after; no other thread may use the BLAS during the call. */
ope_status ope_dt_step(ope_dt *m, double *loss, ope_error *err);

/* Steps taken, parameters of the model, and the model's layout. */
int64_t ope_dt_steps(const ope_dt *m);
const ope_dt_layout *ope_dt_layout_of(const ope_dt *m);

/* Put the model into ck: network "dt" and the observation normalization
 * (both stay owned by m and valid until its next step), and append the
 * policy head's members, comma-separated without braces, to head (size
 * hsize; a separating comma is added when head is not empty):
 *   "head":"dt", "dt_arch":[n_layer,n_head,n_embd,context,max_ep_len],
 *   "target_return", "rtg_scale", and "bandwidth" (continuous).
 * OPE_EUSAGE when head is too small. */
ope_status ope_dt_export(ope_dt *m, ope_ckpt *ck, char *head, size_t hsize,
                         ope_error *err);

/* Append the data's members that a policy also needs, as the trainer
 * writes them for every checkpoint: "obs_dim", and "n_actions" (discrete)
 * or "action_scale" (continuous, one number per dimension). Same
 * conventions as ope_dt_config_json; -1 when it does not fit. */
int ope_dt_data_json(const ope_dt *m, char *buf, size_t n);

/* Append the settings of c as `"key":value` members (comma-separated, no
 * braces; a comma first when buf is not empty). -1 when it does not fit. */
int ope_dt_config_json(const ope_dt_config *c, char *buf, size_t n);

/* The policy of a checkpoint whose settings say "head":"dt". On success
 * the policy owns ck; on failure ck is freed. OPE_EDATA when the settings
 * and the network do not describe a model. */
ope_status ope_dt_policy_from_ckpt(ope_ckpt *ck, const char *name,
                                   ope_policy **out, ope_error *err);

/* Condition a DT policy on another target return (undiscounted, in reward
 * units). OPE_EUSAGE when p is not a DT policy. */
ope_status ope_dt_policy_set_target(ope_policy *p, double target_return,
                                    ope_error *err);
/* The target return p is conditioned on (NAN when p is not a DT policy). */
double ope_dt_policy_target(const ope_policy *p);

#endif

/* Trained checkpoints as policies, and checkpoint rows of the store.
 *
 * A checkpoint's settings text is a flat JSON object written by the
 * trainer (train.h); its "head" member says how the saved networks answer
 * policy queries, and the head's numbers (temperature, epsilon, kernel
 * bandwidth, action scale) are members beside it, so they are recorded and
 * visible in `ope info`. Observations go through the checkpoint's
 * normalization; continuous networks act in [-1, 1]^m and actions are
 * multiplied by "action_scale" (one number per dimension).
 *
 * Heads (networks named in quotes):
 *   softmax      discrete; "pi" gives logits; pi(a|s) = softmax.
 *   q            discrete; "q" gives Q(s, .); eval_temp > 0: softmax(Q/T),
 *                else epsilon-greedy with eval_eps (ties: lowest action).
 *   bcq_discrete discrete; like q, restricted to actions whose "imit"
 *                probability is at least bcq_threshold times the largest
 *                (Fujimoto et al. 2019b, Algorithm 1); eval_eps spreads over
 *                all actions so every action keeps some probability.
 *   gaussian     continuous, stochastic; "pi" gives [m means, m log-stds];
 *                the mean is tanh of the first half; log-std clipped to
 *                [OPE_TRAIN_LOG_STD_MIN, OPE_TRAIN_LOG_STD_MAX].
 *   tanh_gaussian continuous, stochastic; "pi" as above, a = tanh(u),
 *                u ~ N(mean, std) (Haarnoja et al. 2018, appendix C).
 *   deterministic continuous; "pi" gives tanh(output); density by a
 *                Gaussian kernel of width `bandwidth` (action units).
 *   bcq          continuous; the tractable surrogate of BCQ's sampled
 *                argmax: bcq_candidates FIXED latent points (a seeded
 *                normal draw clipped to [-0.5, 0.5], the same for every
 *                state) are decoded by "dec", perturbed by "pert" and the
 *                candidate with the largest "q1" value is the action. The
 *                policy is thus deterministic and uses the kernel of width
 *                `bandwidth`, like TD3+BC. */
#ifndef OPE_TRAIN_CKPT_POLICY_H
#define OPE_TRAIN_CKPT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/checkpoint.h"
#include "policy/policy.h"
#include "store/store.h"

#define OPE_TRAIN_LOG_STD_MIN (-5.0)
#define OPE_TRAIN_LOG_STD_MAX 2.0
/* Seed of the BCQ surrogate's fixed latent points. */
#define OPE_TRAIN_BCQ_LATENT_SEED 20190501u

/* Turn a loaded checkpoint into a policy called name. On success the
 * policy owns ck; on failure ck is freed. OPE_EDATA when the settings or
 * networks do not describe a known head. */
ope_status ope_train_policy_from_ckpt(ope_ckpt *ck, const char *name,
                                      ope_policy **out, ope_error *err);

/* The policy stored as a checkpoint row called name. OPE_ENOINPUT when
 * there is no row of kind 'checkpoint' with that name; OPE_EDATA when its
 * BLOB is damaged (sha256 or checkpoint checks). */
ope_status ope_train_policy_load(ope_store *s, const char *name,
                                 ope_policy **out, ope_error *err);

/* The bytes of the checkpoint row called name, after checking them against
 * the row's sha256, into a new buffer *blob (freed by the caller) of *len
 * bytes. Errors as ope_train_policy_load, without the checkpoint checks. */
ope_status ope_train_checkpoint_read(ope_store *s, const char *name,
                                     uint8_t **blob, size_t *len,
                                     ope_error *err);

/* Find a number / string / array of numbers member of a flat JSON object
 * written by the trainer. Return 1 when found and well-formed, else 0. */
int ope_train_json_num(const char *json, const char *key, double *out);
int ope_train_json_str(const char *json, const char *key, char *buf,
                       size_t size);
int ope_train_json_nums(const char *json, const char *key, double *out,
                        int max, int *n);

/* A checkpoint row of the policies table. */
typedef struct ope_train_row {
  const char *name;       /* unique policy name */
  const char *algo;
  int64_t dataset_id;
  const char *family;     /* one grid combination's label */
  const char *settings;   /* JSON object */
  int64_t seed;
  int64_t step;
  const char *summary;    /* JSON object */
  const uint8_t *blob;
  size_t blob_len;
} ope_train_row;

/* Insert row (kind 'checkpoint', sha256 of the BLOB, the current time) in
 * its own transaction. OPE_EUSAGE when the name is taken. */
ope_status ope_train_row_put(ope_store *s, const ope_train_row *row,
                             ope_error *err);

/* Delete the checkpoint rows of family trained with seed (used by
 * --replace), in its own transaction; *n receives the count. */
ope_status ope_train_family_delete(ope_store *s, const char *family,
                                   int64_t seed, int64_t *n, ope_error *err);

#endif

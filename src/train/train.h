/* The bundled offline-RL trainer: algorithms, their settings, and the loop
 * that turns a logged dataset into checkpoints in the store.
 *
 * An algorithm is one row of a table (ope_train_algos): its name, which
 * action kinds it supports, its settings with their paper defaults and
 * `small` preset values, and four functions: create (networks, optimizers),
 * update (one gradient step on a batch it draws itself), export (its
 * networks and the policy head that answers for it, see ckpt_policy.h) and
 * destroy. Adding an algorithm is one file plus one table entry.
 *
 * Settings are numbers, named by short keys (`alpha`, `expectile`, `lr`).
 * The common keys (batch, hidden, layers, lr, gamma, tau, ...) come first,
 * then the algorithm's own. Every setting ends up in the checkpoint and in
 * the store's `policies.settings` JSON, so a checkpoint says how it was made.
 *
 * Determinism: an algorithm draws every random number from the ope_rng it
 * is handed (seeded from the run's seed), and the BLAS runs with a fixed
 * thread count, so the same seed, settings and data give the same bytes. */
#ifndef OPE_TRAIN_TRAIN_H
#define OPE_TRAIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "train/replay.h"

#define OPE_TRAIN_MAX_SETTINGS 48
#define OPE_TRAIN_MAX_LOSSES 4

/* One setting an algorithm understands. */
typedef struct ope_train_param {
  const char *key;
  double def;        /* the paper's value */
  double def_discrete; /* the default with discrete actions (NAN: def) */
  double small;      /* the `--preset small` value */
  double lo, hi;     /* accepted range (inclusive) */
  int integer;       /* 1: must be a whole number */
  const char *doc;   /* one line for --help and the man page */
} ope_train_param;

/* Resolved settings: keys point into the static parameter tables. */
typedef struct ope_train_settings {
  int n;
  const char *key[OPE_TRAIN_MAX_SETTINGS];
  double val[OPE_TRAIN_MAX_SETTINGS];
} ope_train_settings;

/* What an algorithm is given when it is created. */
typedef struct ope_train_setup {
  const ope_dataset *ds;          /* the raw logged data */
  const ope_train_replay *rb;     /* normalized transitions (replay.h) */
  const ope_train_settings *set;
  ope_rng *rng;                   /* initialization draws */
} ope_train_setup;

typedef struct ope_train_algo {
  const char *name;               /* "cql" */
  const char *summary;            /* one line */
  int discrete, continuous;       /* which action kinds it supports */
  const ope_train_param *params;  /* its own settings */
  int n_params;
  const char *loss_name[OPE_TRAIN_MAX_LOSSES]; /* NULL-padded */
  ope_status (*create)(const ope_train_setup *su, void **state, ope_error *err);
  /* One gradient step; losses[k] receives the value of loss_name[k]. */
  ope_status (*update)(void *state, ope_rng *rng, double *losses,
                       ope_error *err);
  /* Put the networks to save into ck (ck->n_nets, name, net; they stay
   * owned by state) and append the head's settings ("head", bandwidth,
   * ...) as JSON members to the text in head (size hsize, starts empty). */
  ope_status (*export_nets)(void *state, ope_ckpt *ck, char *head,
                            size_t hsize, ope_error *err);
  void (*destroy)(void *state);
} ope_train_algo;

/* The algorithm table, NULL-terminated, and lookup by name (NULL when
 * unknown). */
extern const ope_train_algo *const ope_train_algos[];
const ope_train_algo *ope_train_algo_find(const char *name);

/* The settings every algorithm shares (batch, hidden, layers, lr, ...). */
extern const ope_train_param ope_train_common_params[];
extern const int ope_train_n_common_params;

/* Fill set with the defaults of algo for discrete or continuous actions
 * (small != 0: the small preset). */
void ope_train_settings_init(ope_train_settings *set,
                             const ope_train_algo *algo, int discrete,
                             int small);

/* Set key to the number in text. OPE_EUSAGE naming the key when it is
 * unknown to algo, not a number, out of range or not whole. */
ope_status ope_train_settings_set(ope_train_settings *set,
                                  const ope_train_algo *algo, const char *key,
                                  const char *text, ope_error *err);

/* The value of key; NAN when the key is not present. */
double ope_train_get(const ope_train_settings *set, const char *key);
/* ope_train_get rounded to an int (for widths, counts). */
int ope_train_geti(const ope_train_settings *set, const char *key);

/* Append `"key":value` members for every setting (comma-separated, no
 * braces) to buf of size n. Returns 0, or -1 when it does not fit. */
int ope_train_settings_json(const ope_train_settings *set, char *buf,
                            size_t n);

/* One training run: algo on ds with settings set and seed; the caller
 * calls ope_train_step() `steps` times and ope_train_checkpoint() when it
 * wants a checkpoint. */
typedef struct ope_train_run ope_train_run;

ope_status ope_train_run_new(const ope_train_algo *algo,
                             const ope_dataset *ds,
                             const ope_train_settings *set, uint64_t seed,
                             ope_train_run **out, ope_error *err);
void ope_train_run_free(ope_train_run *r);

/* One gradient step. Losses are averaged until the next checkpoint. */
ope_status ope_train_step(ope_train_run *r, ope_error *err);
int64_t ope_train_steps_done(const ope_train_run *r);

/* Serialize the current networks into a checkpoint BLOB (*blob, *len,
 * malloc'd, caller frees) and a training summary JSON object (*summary,
 * malloc'd) holding the mean of every loss over each checkpoint interval so
 * far. The settings text inside the BLOB is a JSON object with the
 * algorithm, every setting, the seed, the step and the policy head. */
ope_status ope_train_checkpoint(ope_train_run *r, uint8_t **blob,
                                size_t *len, char **settings_json,
                                char **summary, ope_error *err);

#endif

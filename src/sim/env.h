/* The simulator interface shared by the six built-in environments.
 *
 * An environment is a description (sizes, time limit, discount used for
 * ground truth, options parsed from its spec) plus an ops table. The
 * simulation state is a small array of doubles owned by the caller; every
 * random draw comes from an ope_rng the caller passes in, so an episode is a
 * pure function of its RNG stream. Observations are computed from the state
 * and are all a reference controller needs, so reference policies act on
 * logged observations alone.
 *
 * The tabular environments (gridworld, chain) also expose their exact model:
 * for a state index and an action, the list of (next state, probability,
 * reward, terminal) outcomes, which dynamic programming reads. */
#ifndef OPE_SIM_ENV_H
#define OPE_SIM_ENV_H

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"

#define OPE_ENV_MAX_STATE 8
#define OPE_ENV_MAX_OBS 8
#define OPE_ENV_MAX_ACTIONS 4
#define OPE_ENV_MAX_OUTCOMES 8
#define OPE_ENV_SPEC_MAX 128

typedef struct ope_env ope_env;

typedef struct ope_env_outcome {
  int next;        /* next state index */
  double prob;
  double reward;
  int terminal;    /* 1: the episode ends after this transition */
} ope_env_outcome;

typedef struct ope_env_ops {
  /* Draw an initial state into state[0..state_dim-1]. */
  void (*reset)(const ope_env *env, ope_rng *rng, double *state);
  /* The observation of a state (obs_dim values). */
  void (*observe)(const ope_env *env, const double *state, double *obs);
  /* Advance state by one step under discrete `action` or continuous
   * `avec` (clipped to the action box by the environment); write the
   * reward; return 1 when the episode terminates (absorbing). */
  int (*step)(const ope_env *env, double *state, int action, const double *avec,
              ope_rng *rng, double *reward);
  /* Reference controller. Discrete: return its action. Continuous: write
   * the action into avec (return value unused). */
  int (*control)(const ope_env *env, const double *obs, double *avec);
  /* Tabular only (else NULL): the outcomes of `action` in state s; returns
   * their count (<= OPE_ENV_MAX_OUTCOMES). */
  int (*outcomes)(const ope_env *env, int s, int action, ope_env_outcome *out);
  /* Tabular only: the state index of an observation, or -1. */
  int (*state_of)(const ope_env *env, const double *obs);
  void (*destroy)(ope_env *env); /* frees env->impl; may be NULL */
} ope_env_ops;

struct ope_env {
  const ope_env_ops *ops;
  const char *name;            /* "cartpole" */
  char spec[OPE_ENV_SPEC_MAX]; /* canonical spec: name plus non-default options */
  ope_action_kind action_kind;
  int state_dim;
  int obs_dim;
  int n_actions;               /* discrete: A; continuous: 0 */
  int action_dim;              /* continuous: m; discrete: 1 */
  double action_low;           /* continuous action box (every dimension) */
  double action_high;
  int horizon;                 /* default time limit */
  double gamma;                /* discount used for ground truth */
  int n_states;                /* tabular: state count; else 0 */
  int start_state;             /* tabular: the initial state */
  /* Regime knobs of this environment: eps (discrete) or noise std
   * (continuous) for `expert` and `medium`. */
  double expert_knob;
  double medium_knob;
  /* Options (only those of the environment are meaningful). */
  int length;                  /* chain length */
  double slip;                 /* gridworld / chain slip probability */
  void *impl;                  /* per-environment tables, owned */
};

/* Create the environment described by spec ("chain:length=50"). Fields that
 * are not options of that environment are ignored here (the caller decides
 * whether they are regimes). OPE_ENOINPUT for an unknown name, OPE_EUSAGE
 * for a malformed option. *out is owned by the caller. */
ope_status ope_env_new(const char *spec, ope_env **out, ope_error *err);
void ope_env_free(ope_env *env);

/* Whether `field` (one colon-separated part of a spec) is an option of env
 * (e.g. "length=50" for chain). */
int ope_env_is_option(const ope_env *env, const char *field);

/* Names of the built-in environments, NULL-terminated. */
extern const char *const ope_env_names[];

/* Per-environment constructors (one file each): fill env from defaults and
 * options already stored in env (length, slip), set ops. */
ope_status ope_env_gridworld_init(ope_env *env, ope_error *err);
ope_status ope_env_chain_init(ope_env *env, ope_error *err);
ope_status ope_env_cartpole_init(ope_env *env, ope_error *err);
ope_status ope_env_mountaincar_init(ope_env *env, ope_error *err);
ope_status ope_env_pendulum_init(ope_env *env, ope_error *err);
ope_status ope_env_pointmaze_init(ope_env *env, ope_error *err);

/* Tabular: the optimal stationary policy for discount env->gamma (value
 * iteration to convergence; ties go to the lowest action) into
 * greedy[0..n_states-1]. Called by the tabular environments' init. */
void ope_env_tabular_optimal(const ope_env *env, int *greedy);

/* Tabular: exact expected discounted return over `horizon` steps from the
 * start state of the Markov policy pi (n_states x n_actions, rows sum to
 * 1), by backward induction (Puterman 1994, sec. 4.5). Returns NaN when
 * out of memory. */
double ope_env_tabular_value(const ope_env *env, const double *pi, double gamma,
                             int horizon);

/* Pointmaze only: the controller that steers toward maze cell `target`
 * instead of the goal (used to build its stitching datasets), the number
 * of cells on its corridor, and the cell index of a position. */
void ope_pointmaze_control_to(const ope_env *env, const double *obs,
                              int target, double *avec);
int ope_pointmaze_n_cells(const ope_env *env);
void ope_pointmaze_reset_at(const ope_env *env, int cell, ope_rng *rng,
                            double *state);

#endif

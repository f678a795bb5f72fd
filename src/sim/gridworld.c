/* `gridworld`: a 5x5 grid with walls, one goal and three traps, where
 * each move slips with probability `slip` into a uniformly random one of
 * the four directions (the slippery grid of Sutton & Barto 2018, ex. 3.5
 * and of the FrozenLake task, made small). Tabular and exact.
 *
 *   S . . . .      S start (0,0)   # wall (a move into it, or off the
 *   . # . # .      G goal  (+1)      grid, leaves the agent in place)
 *   . . . T .      T trap  (-1)    every other move: reward 0
 *   . # . . .      goal and traps end the episode
 *   T . . # G
 *
 * State s = 5 row + col; observation (row, col). Actions 0 up, 1 right,
 * 2 down, 3 left. Time limit 50, discount 0.95. The reference controller
 * is the optimal policy for that discount (value iteration). */
#include "sim/env.h"

#include <stdlib.h>

#define ROWS 5
#define COLS 5

static const char layout[ROWS][COLS + 1] = {
  "S....",
  ".#.#.",
  "...T.",
  ".#...",
  "T..#G",
};

static const int drow[4] = {-1, 0, 1, 0};
static const int dcol[4] = {0, 1, 0, -1};

typedef struct grid {
  int greedy[ROWS * COLS];
} grid;

static int move(int s, int dir) {
  int r = s / COLS + drow[dir], c = s % COLS + dcol[dir];
  if (r < 0 || r >= ROWS || c < 0 || c >= COLS || layout[r][c] == '#') return s;
  return r * COLS + c;
}

static int cell_end(int s, double *reward) {
  char k = layout[s / COLS][s % COLS];
  *reward = k == 'G' ? 1.0 : k == 'T' ? -1.0 : 0.0;
  return k == 'G' || k == 'T';
}

static void reset(const ope_env *env, ope_rng *rng, double *state) {
  state[0] = env->start_state;
}

static void observe(const ope_env *env, const double *state, double *obs) {
  int s = (int)state[0];
  obs[0] = s / COLS;
  obs[1] = s % COLS;
}

static int step(const ope_env *env, double *state, int action, const double *avec,
                ope_rng *rng, double *reward) {
  int dir = action;
  if (env->slip > 0 && ope_rng_uniform(rng) < env->slip) dir = (int)ope_rng_below(rng, 4);
  int s = move((int)state[0], dir);
  state[0] = s;
  return cell_end(s, reward);
}

static int outcomes(const ope_env *env, int s, int action, ope_env_outcome *out) {
  for (int dir = 0; dir < 4; dir++) {
    out[dir].next = move(s, dir);
    out[dir].prob = env->slip / 4 + (dir == action ? 1.0 - env->slip : 0.0);
    out[dir].terminal = cell_end(out[dir].next, &out[dir].reward);
  }
  return 4;
}

static int state_of(const ope_env *env, const double *obs) {
  int r = (int)obs[0], c = (int)obs[1];
  if (r < 0 || r >= ROWS || c < 0 || c >= COLS || r != obs[0] || c != obs[1]) return -1;
  return r * COLS + c;
}

static int control(const ope_env *env, const double *obs, double *avec) {
  int s = state_of(env, obs);
  return s < 0 ? 0 : ((const grid *)env->impl)->greedy[s];
}

static void destroy(ope_env *env) { free(env->impl); }

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
  .outcomes = outcomes, .state_of = state_of, .destroy = destroy,
};

ope_status ope_env_gridworld_init(ope_env *env, ope_error *err) {
  grid *g = calloc(1, sizeof *g);
  if (g == NULL) return ope_error_nomem(err);
  env->ops = &ops;
  env->impl = g;
  env->action_kind = OPE_ACTION_DISCRETE;
  env->state_dim = 1;
  env->obs_dim = 2;
  env->n_actions = 4;
  env->action_dim = 1;
  env->horizon = 50;
  env->gamma = 0.95;
  env->n_states = ROWS * COLS;
  env->start_state = 0;
  env->expert_knob = 0.05;
  env->medium_knob = 0.6;
  ope_env_tabular_optimal(env, g->greedy);
  return OPE_OK;
}

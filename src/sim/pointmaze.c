/* `pointmaze`: a point mass in a small 2-D maze (the AntMaze idea of Fu et
 * al. 2020, D4RL, made small). The maze is a 4x4 grid of unit
 * cells whose free cells form one corridor of 10 cells from the start S to
 * the goal G:
 *
 *   y=0.5  S . . .      x grows to the right, y downward; cell (r, c)
 *   y=1.5  # # # .      covers [c, c+1] x [r, r+1]
 *   y=2.5  . . . .
 *   y=3.5  G # # #
 *
 * State = observation = (x, y, vx, vy). Action: a force (ax, ay), clipped
 * to [-1, 1]^2 by the environment, on a unit mass with linear drag, one
 * Euler step: v <- v + 0.2 (a - v), then p <- p + 0.25 v (top speed 0.25
 * per step). A move whose end point lies in a wall or outside the maze is
 * replaced by its x-only or y-only part if that one is free (the blocked
 * velocity component becomes 0), else the point stops. Entering the goal
 * cell pays 1 and ends the episode; every other step pays 0. Start: the
 * centre of S plus uniform [-0.1, 0.1]^2. Time limit 100, discount 0.99.
 * Reference controller: a PD law toward the centre c of the next corridor
 * cell on the way to a target cell (the goal), a = clip(4 (c - p) - 2 v).
 *
 * Its logged datasets (ope_sim_generate) start in a random corridor cell
 * other than the goal and steer toward a random target cell at most half
 * the corridor away, so that no logged trajectory runs from S to G while
 * overlapping pieces of several do. */
#include "sim/env.h"

#include <math.h>

#define N 4
#define DRAG 0.2  /* dt k / m */
#define DT 0.25

static const char maze[N][N + 1] = {
  "S...",
  "###.",
  "....",
  "G###",
};

/* The corridor from S (index 0) to G (index 9), as (row, col). */
static const int path[][2] = {
  {0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 3}, {2, 3}, {2, 2}, {2, 1}, {2, 0}, {3, 0},
};
#define N_CELLS ((int)(sizeof path / sizeof path[0]))

static int free_at(double x, double y) {
  if (!(x >= 0 && x < N && y >= 0 && y < N)) return 0;
  return maze[(int)y][(int)x] != '#';
}

static int cell_index(double x, double y) {
  if (!free_at(x, y)) return -1;
  int r = (int)y, c = (int)x;
  for (int i = 0; i < N_CELLS; i++)
    if (path[i][0] == r && path[i][1] == c) return i;
  return -1;
}

int ope_pointmaze_n_cells(const ope_env *env) { return N_CELLS; }

void ope_pointmaze_reset_at(const ope_env *env, int cell, ope_rng *rng,
                            double *state) {
  state[0] = path[cell][1] + 0.5 - 0.1 + 0.2 * ope_rng_uniform(rng);
  state[1] = path[cell][0] + 0.5 - 0.1 + 0.2 * ope_rng_uniform(rng);
  state[2] = 0.0;
  state[3] = 0.0;
}

static void reset(const ope_env *env, ope_rng *rng, double *state) {
  ope_pointmaze_reset_at(env, 0, rng, state);
}

static void observe(const ope_env *env, const double *state, double *obs) {
  for (int i = 0; i < 4; i++) obs[i] = state[i];
}

static int step(const ope_env *env, double *s, int action, const double *avec,
                ope_rng *rng, double *reward) {
  double ax = fmin(fmax(avec[0], -1.0), 1.0), ay = fmin(fmax(avec[1], -1.0), 1.0);
  double vx = s[2] + DRAG * (ax - s[2]), vy = s[3] + DRAG * (ay - s[3]);
  double nx = s[0] + DT * vx, ny = s[1] + DT * vy;
  if (free_at(nx, ny)) {
    s[0] = nx;
    s[1] = ny;
  } else if (free_at(nx, s[1])) {
    s[0] = nx;
    vy = 0.0;
  } else if (free_at(s[0], ny)) {
    s[1] = ny;
    vx = 0.0;
  } else {
    vx = vy = 0.0;
  }
  s[2] = vx;
  s[3] = vy;
  int done = cell_index(s[0], s[1]) == N_CELLS - 1;
  *reward = done ? 1.0 : 0.0;
  return done;
}

void ope_pointmaze_control_to(const ope_env *env, const double *obs,
                              int target, double *avec) {
  int i = cell_index(obs[0], obs[1]);
  int next = i < 0 || i == target ? target : i < target ? i + 1 : i - 1;
  double cx = path[next][1] + 0.5, cy = path[next][0] + 0.5;
  avec[0] = fmin(fmax(4.0 * (cx - obs[0]) - 2.0 * obs[2], -1.0), 1.0);
  avec[1] = fmin(fmax(4.0 * (cy - obs[1]) - 2.0 * obs[3], -1.0), 1.0);
}

static int control(const ope_env *env, const double *obs, double *avec) {
  ope_pointmaze_control_to(env, obs, N_CELLS - 1, avec);
  return 0;
}

static const ope_env_ops ops = {
  .reset = reset, .observe = observe, .step = step, .control = control,
};

ope_status ope_env_pointmaze_init(ope_env *env, ope_error *err) {
  env->ops = &ops;
  env->action_kind = OPE_ACTION_CONTINUOUS;
  env->state_dim = 4;
  env->obs_dim = 4;
  env->n_actions = 0;
  env->action_dim = 2;
  env->action_low = -1.0;
  env->action_high = 1.0;
  env->horizon = 100;
  env->gamma = 0.99;
  env->expert_knob = 0.1;
  env->medium_knob = 1.0;
  return OPE_OK;
}

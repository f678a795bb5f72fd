/* Tabular FQE against a hand-solved log and against an independent value
 * iteration written here (states looked up by their integer observation,
 * not by hashing), on the dense LU path, the GMRES path, with next_obs, and
 * with discount 1 with and without a fixed point. Tolerances: 1e-12
 * relative for the hand case, 1e-9 relative for value iteration. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "fqe/fqe.h"
#include "fqe/fqe_tabular.h"

static void assert_rel(double got, double want, double tol) {
  double scale = fmax(1.0, fabs(want));
  if (!(fabs(got - want) <= tol * scale)) {
    print_error("got %.17g want %.17g (rel tol %g)\n", got, want, tol);
    fail();
  }
}

/* The hand case: states s0 = {0}, s1 = {1}; A = 2; pi(.|s0) = (0.3, 0.7),
 * pi(.|s1) = (0.6, 0.4); g = 0.9.
 *   episode 0: (s0,a0,r=1) (s1,a1,r=0) (s0,a0,r=2,terminal)
 *   episode 1: (s1,a0,r=1) truncated, no next_obs: no target, so (s1,a0)
 *              is never logged with one and Q10 = 0
 * Q11 = 0.9 (0.3 Q00 + 0.7 * 0) = 0.27 Q00;
 * Q00 = (1 + 0.9 (0.6 Q10 + 0.4 Q11) + 2) / 2 = 1.5 + 0.0486 Q00. */
static void hand_case(void **state) {
  (void)state;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(2, 4, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 0, &err);
  assert_non_null(ds);
  double obs[] = {0, 1, 0, 1}, rew[] = {1, 0, 2, 1};
  int act[] = {0, 1, 0, 0};
  for (int t = 0; t < 4; t++) {
    ds->obs[t] = obs[t];
    ds->reward[t] = rew[t];
    ds->action[t] = act[t];
  }
  ds->terminal[2] = 1;
  ds->ep_offset[1] = 3;
  ds->ep_offset[2] = 4;
  double dist[] = {0.3, 0.7, 0.6, 0.4, 0.3, 0.7, 0.6, 0.4};
  ope_policy_scores sc = {.n_steps = 4, .n_actions = 2, .dist = dist};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = 0.9;
  ope_fqe_model *m = NULL;
  assert_int_equal(ope_fqe_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  ope_qfit q;
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &q, &err), OPE_OK);
  double Q00 = 1.5 / (1.0 - 0.0486), Q11 = 0.27 * Q00, Q10 = 0.0;
  assert_true(q.defined);
  assert_rel(q.q[0], Q00, 1e-12);
  assert_rel(q.q[1], Q11, 1e-12);
  assert_rel(q.q[3], Q10, 1e-12);
  assert_rel(q.v[0], 0.3 * Q00, 1e-12);
  assert_rel(q.v[1], 0.6 * Q10 + 0.4 * Q11, 1e-12);
  assert_rel(q.value, 0.5 * (0.3 * Q00 + 0.6 * Q10 + 0.4 * Q11), 1e-12);
  /* Truncated episode, 0.9^3 > 1%: the horizon caveat is given. */
  assert_non_null(strstr(q.warning, "time limit"));
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  ope_dataset_free(ds);
}

/* A random tabular log: S states (obs_0 = state index), A actions, a
 * Markov policy table pi (some zeros), random lengths, terminals and
 * truncations; next_obs on every row when with_next. */
typedef struct rand_log {
  ope_dataset *ds;
  double *pi;             /* (S, A) */
  ope_policy_scores sc;   /* dist from pi */
  int S, A;
} rand_log;

static void make_log(rand_log *L, int S, int A, size_t n_ep, int max_len,
                     int with_next, uint64_t seed) {
  ope_rng rng;
  ope_rng_seed(&rng, seed, 0);
  L->S = S;
  L->A = A;
  L->pi = malloc((size_t)S * (size_t)A * sizeof *L->pi);
  for (int s = 0; s < S; s++) {
    double z = 0.0;
    for (int a = 0; a < A; a++) {
      double u = ope_rng_uniform(&rng);
      L->pi[s * A + a] = u < 0.2 ? 0.0 : u;
      z += L->pi[s * A + a];
    }
    if (z == 0.0) L->pi[s * A] = z = 1.0;
    for (int a = 0; a < A; a++) L->pi[s * A + a] /= z;
  }
  size_t *len = malloc(n_ep * sizeof *len), N = 0;
  for (size_t e = 0; e < n_ep; e++) N += len[e] = 1 + ope_rng_below(&rng, (uint64_t)max_len);
  ope_error err = {0};
  L->ds = ope_dataset_alloc(n_ep, N, 1, OPE_ACTION_DISCRETE, A, 1, with_next, 0, &err);
  assert_non_null(L->ds);
  size_t r = 0;
  for (size_t e = 0; e < n_ep; e++) {
    L->ds->ep_offset[e] = r;
    int s = (int)ope_rng_below(&rng, (uint64_t)S);
    for (size_t t = 0; t < len[e]; t++, r++) {
      int a = (int)ope_rng_below(&rng, (uint64_t)A);
      int sn = (int)((s + 1 + a + (int)ope_rng_below(&rng, 3)) % S);
      L->ds->obs[r] = s;
      L->ds->action[r] = a;
      L->ds->reward[r] = (double)((s * 7 + a * 3) % 5) - 1.0 + ope_rng_uniform(&rng);
      if (with_next) L->ds->next_obs[r] = sn;
      s = sn;
    }
    if (ope_rng_uniform(&rng) < 0.5) L->ds->terminal[r - 1] = 1;
  }
  L->ds->ep_offset[n_ep] = r;
  L->sc.n_steps = N;
  L->sc.n_actions = A;
  L->sc.dist = malloc(N * (size_t)A * sizeof *L->sc.dist);
  for (size_t t = 0; t < N; t++)
    memcpy(L->sc.dist + t * (size_t)A, L->pi + (size_t)L->ds->obs[t] * (size_t)A,
           (size_t)A * sizeof(double));
  free(len);
}

static void free_log(rand_log *L) {
  ope_dataset_free(L->ds);
  free(L->pi);
  free(L->sc.dist);
}

/* Value iteration on the definition: Q(s,a) = mean over rows at (s,a) that
 * give a target of r + g [has next] sum_a' pi(a'|s') Q(s',a'), unlogged
 * pairs 0. */
static double *value_iteration(const rand_log *L, double g) {
  const ope_dataset *ds = L->ds;
  size_t SA = (size_t)L->S * (size_t)L->A;
  double *Q = calloc(SA, sizeof *Q), *Qn = malloc(SA * sizeof *Qn);
  double *cnt = calloc(SA, sizeof *cnt);
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++)
      if (ds->terminal[t] || ds->next_obs || t + 1 < ds->ep_offset[e + 1])
        cnt[(size_t)ds->obs[t] * (size_t)L->A + (size_t)ds->action[t]] += 1;
  for (int it = 0; it < 100000; it++) {
    memset(Qn, 0, SA * sizeof *Qn);
    for (size_t e = 0; e < ds->n_episodes; e++)
      for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
        size_t c = (size_t)ds->obs[t] * (size_t)L->A + (size_t)ds->action[t];
        double y = ds->reward[t];
        int last = t + 1 == ds->ep_offset[e + 1];
        int has = !ds->terminal[t] && (ds->next_obs || !last);
        if (!has && !ds->terminal[t]) continue; /* no target */
        if (has) {
          int sn = (int)(ds->next_obs ? ds->next_obs[t] : ds->obs[t + 1]);
          double v = 0.0;
          for (int a = 0; a < L->A; a++)
            v += L->pi[sn * L->A + a] * Q[(size_t)sn * (size_t)L->A + (size_t)a];
          y += g * v;
        }
        Qn[c] += y / cnt[c];
      }
    double diff = 0.0;
    for (size_t c = 0; c < SA; c++) diff = fmax(diff, fabs(Qn[c] - Q[c]));
    memcpy(Q, Qn, SA * sizeof *Q);
    if (diff < 1e-15) break;
  }
  free(Qn);
  free(cnt);
  return Q;
}

/* Logged pairs with a target: the size of the system. */
static size_t count_pairs(const rand_log *L) {
  const ope_dataset *ds = L->ds;
  unsigned char *seen = calloc((size_t)L->S * (size_t)L->A, 1);
  size_t P = 0;
  for (size_t e = 0; e < ds->n_episodes; e++)
    for (size_t t = ds->ep_offset[e]; t < ds->ep_offset[e + 1]; t++) {
      size_t c = (size_t)ds->obs[t] * (size_t)L->A + (size_t)ds->action[t];
      int target = ds->terminal[t] || ds->next_obs || t + 1 < ds->ep_offset[e + 1];
      if (target && !seen[c]) {
        seen[c] = 1;
        P++;
      }
    }
  free(seen);
  return P;
}

static void compare_vi(int S, int A, size_t n_ep, int max_len, int with_next,
                       double g, uint64_t seed) {
  rand_log L;
  make_log(&L, S, A, n_ep, max_len, with_next, seed);
  size_t P = count_pairs(&L);
  if (S * A > OPE_FQE_TABULAR_DENSE_MAX) /* the GMRES path must be taken */
    assert_true(P > OPE_FQE_TABULAR_DENSE_MAX);
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = g;
  ope_fqe_tabular *m = NULL;
  ope_error err = {0};
  assert_int_equal(ope_fqe_tabular_fit(L.ds, NULL, &L.sc, &cfg, &m, &err), OPE_OK);
  assert_true(ope_fqe_tabular_defined(m, NULL));
  double *Q = value_iteration(&L, g), maxd = 0.0;
  for (int s = 0; s < S; s++)
    for (int a = 0; a < A; a++) {
      double x = s, got = ope_fqe_tabular_q(m, &x, a), want = Q[s * A + a];
      maxd = fmax(maxd, fabs(got - want) / fmax(1.0, fabs(want)));
      assert_rel(got, want, 1e-9);
    }
  print_message("S=%d A=%d pairs=%zu steps=%zu next_obs=%d g=%g: max rel diff %.3g\n", S,
                A, P, L.ds->n_steps, with_next, g, maxd);
  free(Q);
  ope_fqe_tabular_free(m);
  free_log(&L);
}

static void vs_value_iteration_dense(void **state) {
  (void)state;
  compare_vi(6, 3, 40, 12, 0, 0.95, 1);
  compare_vi(6, 3, 40, 12, 1, 0.95, 2);
  compare_vi(30, 4, 300, 20, 0, 0.9, 3);
}

static void vs_value_iteration_gmres(void **state) {
  (void)state; /* more than OPE_FQE_TABULAR_DENSE_MAX logged pairs */
  compare_vi(900, 3, 1500, 20, 0, 0.9, 4);
}

/* g = 1: a cycle with no leak has no fixed point; adding a terminal gives
 * one (value iteration still converges then, as every path ends). */
static void discount_one(void **state) {
  (void)state;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(1, 4, 1, OPE_ACTION_DISCRETE, 2, 1, 1, 0, &err);
  assert_non_null(ds);
  for (int t = 0; t < 4; t++) {
    ds->obs[t] = t % 2;
    ds->next_obs[t] = (t + 1) % 2;
    ds->reward[t] = 1.0;
  }
  ds->ep_offset[1] = 4;
  double dist[8] = {1, 0, 1, 0, 1, 0, 1, 0};
  ope_policy_scores sc = {.n_steps = 4, .n_actions = 2, .dist = dist};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = 1.0;
  ope_fqe_model *m = NULL;
  ope_qfit q;
  assert_int_equal(ope_fqe_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &q, &err), OPE_OK);
  assert_false(q.defined);
  assert_non_null(strstr(q.warning, "undefined"));
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  /* The last step now terminates: Q(s1,a0) = 1 + Q(s0,a0) averaged with 1. */
  ds->terminal[3] = 1;
  assert_int_equal(ope_fqe_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &q, &err), OPE_OK);
  assert_true(q.defined);
  /* Q0 = 1 + Q1; Q1 = (1 + Q0 + 1) / 2  =>  Q1 = 3, Q0 = 4. */
  assert_rel(q.q[0], 4.0, 1e-12);
  assert_rel(q.q[1], 3.0, 1e-12);
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  ope_dataset_free(ds);
}

/* A Markov policy over the random log's table, to exercise the replay of
 * an episode's end through ops->dist (obs_0 = the state). */
static ope_status table_dist(const ope_policy *p, void *ctx, const double *obs,
                             double *probs, ope_error *err) {
  const rand_log *L = p->impl;
  memcpy(probs, L->pi + (size_t)obs[0] * (size_t)L->A, (size_t)L->A * sizeof *probs);
  return OPE_OK;
}

/* With next_obs on truncated ends, asking the policy at next_obs and taking
 * the first logged row's distribution give the same Q for a Markov policy. */
static void replay_matches_first_row(void **state) {
  (void)state;
  rand_log L;
  make_log(&L, 6, 3, 40, 12, 1, 5);
  static const ope_policy_ops ops = {.dist = table_dist};
  ope_error err = {0};
  ope_policy *pi = ope_policy_new(&ops, "table", OPE_ACTION_DISCRETE, 1, 3, 1, &L, &err);
  assert_non_null(pi);
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  cfg.gamma = 0.9;
  ope_fqe_tabular *a = NULL, *b = NULL;
  assert_int_equal(ope_fqe_tabular_fit(L.ds, pi, &L.sc, &cfg, &a, &err), OPE_OK);
  assert_int_equal(ope_fqe_tabular_fit(L.ds, NULL, &L.sc, &cfg, &b, &err), OPE_OK);
  for (int s = 0; s < 6; s++)
    for (int act = 0; act < 3; act++) {
      double x = s;
      assert_rel(ope_fqe_tabular_q(a, &x, act), ope_fqe_tabular_q(b, &x, act), 1e-12);
    }
  ope_fqe_tabular_free(a);
  ope_fqe_tabular_free(b);
  pi->impl = NULL;
  ope_policy_free(pi);
  free_log(&L);
}

/* A log whose only row gives no target (a truncated one-step episode):
 * nothing is logged with a target, so Q = 0 and DM = 0, defined. */
static void no_targets(void **state) {
  (void)state;
  ope_error err = {0};
  ope_dataset *ds = ope_dataset_alloc(1, 1, 1, OPE_ACTION_DISCRETE, 2, 1, 0, 0, &err);
  assert_non_null(ds);
  ds->reward[0] = 5.0;
  ds->ep_offset[1] = 1;
  double dist[2] = {0.5, 0.5};
  ope_policy_scores sc = {.n_steps = 1, .n_actions = 2, .dist = dist};
  ope_fqe_config cfg;
  ope_fqe_config_default(&cfg);
  cfg.kind = OPE_FQE_TABULAR;
  ope_fqe_model *m = NULL;
  ope_qfit q;
  assert_int_equal(ope_fqe_fit(ds, NULL, &sc, &cfg, &m, &err), OPE_OK);
  assert_int_equal(ope_fqe_predict(m, ds, NULL, &sc, &q, &err), OPE_OK);
  assert_true(q.defined);
  assert_true(q.q[0] == 0.0 && q.value == 0.0);
  ope_qfit_clear(&q);
  ope_fqe_model_free(m);
  ope_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(hand_case),
    cmocka_unit_test(vs_value_iteration_dense),
    cmocka_unit_test(vs_value_iteration_gmres),
    cmocka_unit_test(discount_one),
    cmocka_unit_test(no_targets),
    cmocka_unit_test(replay_matches_first_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
